# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the issuer distribution logic (_cloudfront_distribution) with an in-memory CloudFront and botocore's Stubber."""

from __future__ import annotations

import copy

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _cloudfront_distribution as cfd

BUCKET = "mycluster-oidc"
REGION = "us-east-2"
ENDPOINT = "mycluster-oidc.s3.us-east-2.amazonaws.com"
OAC = "E2QWRUHAPOMQZL"
ACCOUNT = "123456789012"
WRITES = {"create_distribution_with_tags", "update_distribution", "delete_distribution", "tag_resource", "untag_resource"}


def client_error(code, operation, status=400):
    """A ClientError as botocore raises it."""
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


class FakeClock:
    """monotonic() and sleep() on a virtual clock."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def monotonic(self):
        """Virtual time."""
        return self.now

    def sleep(self, seconds):
        """Advance virtual time."""
        self.sleeps.append(seconds)
        self.now += seconds


class FakeCloudFront:
    """The CloudFront calls of the module, on in-memory distributions, with ETags, IfMatch and DistributionNotDisabled.

    ``polls_in_progress`` = how many GetDistribution answers stay InProgress after each create/update.
    Every call is recorded in ``calls`` as ``(name, kwargs)``.
    """

    def __init__(self, page_size=2, polls_in_progress=0, clock=None):
        self.dists = {}
        self.calls = []
        self.page_size = page_size
        self.polls_in_progress = polls_in_progress
        self.clock = clock
        self._counter = 0

    def _next(self, prefix):
        self._counter += 1
        return "%s%06d" % (prefix, self._counter)

    def _record(self, name, kwargs):
        kwargs = dict(kwargs)
        kwargs.pop("aws_retry", None)
        self.calls.append((name, copy.deepcopy(kwargs)))
        return kwargs

    def _get(self, dist_id, operation):
        if dist_id not in self.dists:
            raise client_error("NoSuchDistribution", operation, 404)
        return self.dists[dist_id]

    def add(self, config, tags=None, dist_id=None):
        """Put a distribution in place without recording a call; returns its id."""
        dist_id = dist_id or self._next("E")
        self.dists[dist_id] = {"config": copy.deepcopy(config), "etag": self._next("ET"), "pending": 0,
                               "tags": dict(tags or {}), "arn": "arn:aws:cloudfront::%s:distribution/%s" % (ACCOUNT, dist_id),
                               "domain": "d%s.cloudfront.net" % dist_id.lower()}
        return dist_id

    def _distribution(self, dist_id):
        dist = self.dists[dist_id]
        return {"Id": dist_id, "ARN": dist["arn"], "DomainName": dist["domain"],
                "Status": "InProgress" if dist["pending"] > 0 else "Deployed",
                "DistributionConfig": copy.deepcopy(dist["config"])}

    def writes(self):
        """The names of the write calls made."""
        return [name for name, dummy in self.calls if name in WRITES]

    # -- API
    def list_distributions(self, **kwargs):
        """ListDistributions, paginated by ``page_size``."""
        kwargs = self._record("list_distributions", kwargs)
        ids = sorted(self.dists)
        start = ids.index(kwargs["Marker"]) + 1 if kwargs.get("Marker") else 0
        page = ids[start:start + self.page_size]
        items = []
        for dist_id in page:
            full = self._distribution(dist_id)
            config = full.pop("DistributionConfig")
            full.update({"Origins": config["Origins"], "Comment": config.get("Comment", ""), "Enabled": config["Enabled"]})
            items.append(full)
        truncated = start + self.page_size < len(ids)
        answer = {"Items": items, "IsTruncated": truncated, "Quantity": len(items)}
        if truncated:
            answer["NextMarker"] = page[-1]
        return {"DistributionList": answer}

    def list_tags_for_resource(self, **kwargs):
        """ListTagsForResource."""
        kwargs = self._record("list_tags_for_resource", kwargs)
        for dist in self.dists.values():
            if dist["arn"] == kwargs["Resource"]:
                return {"Tags": {"Items": [{"Key": k, "Value": v} for k, v in dist["tags"].items()]}}
        raise client_error("NoSuchResource", "ListTagsForResource", 404)

    def get_distribution_config(self, **kwargs):
        """GetDistributionConfig."""
        kwargs = self._record("get_distribution_config", kwargs)
        dist = self._get(kwargs["Id"], "GetDistributionConfig")
        return {"DistributionConfig": copy.deepcopy(dist["config"]), "ETag": dist["etag"]}

    def get_distribution(self, **kwargs):
        """GetDistribution; each call consumes one pending InProgress answer."""
        kwargs = self._record("get_distribution", kwargs)
        dist = self._get(kwargs["Id"], "GetDistribution")
        answer = {"Distribution": self._distribution(kwargs["Id"]), "ETag": dist["etag"]}
        dist["pending"] = max(0, dist["pending"] - 1)
        return answer

    def create_distribution_with_tags(self, **kwargs):
        """CreateDistributionWithTags."""
        kwargs = self._record("create_distribution_with_tags", kwargs)
        config = kwargs["DistributionConfigWithTags"]["DistributionConfig"]
        for dist in self.dists.values():
            if dist["config"].get("CallerReference") == config["CallerReference"]:
                raise client_error("DistributionAlreadyExists", "CreateDistributionWithTags", 409)
        tags = {item["Key"]: item["Value"] for item in kwargs["DistributionConfigWithTags"]["Tags"]["Items"]}
        dist_id = self.add(config, tags)
        self.dists[dist_id]["pending"] = self.polls_in_progress
        return {"Distribution": self._distribution(dist_id), "ETag": self.dists[dist_id]["etag"]}

    def update_distribution(self, **kwargs):
        """UpdateDistribution with IfMatch."""
        kwargs = self._record("update_distribution", kwargs)
        dist = self._get(kwargs["Id"], "UpdateDistribution")
        if kwargs.get("IfMatch") != dist["etag"]:
            raise client_error("PreconditionFailed", "UpdateDistribution", 412)
        if kwargs["DistributionConfig"].get("CallerReference") != dist["config"].get("CallerReference"):
            raise client_error("IllegalUpdate", "UpdateDistribution")
        dist["config"] = copy.deepcopy(kwargs["DistributionConfig"])
        dist["etag"] = self._next("ET")
        dist["pending"] = self.polls_in_progress
        return {"Distribution": self._distribution(kwargs["Id"]), "ETag": dist["etag"]}

    def delete_distribution(self, **kwargs):
        """DeleteDistribution: IfMatch, disabled and deployed."""
        kwargs = self._record("delete_distribution", kwargs)
        dist = self._get(kwargs["Id"], "DeleteDistribution")
        if kwargs.get("IfMatch") != dist["etag"]:
            raise client_error("PreconditionFailed", "DeleteDistribution", 412)
        if dist["config"]["Enabled"] or dist["pending"] > 0:
            raise client_error("DistributionNotDisabled", "DeleteDistribution", 409)
        del self.dists[kwargs["Id"]]
        return {}

    def tag_resource(self, **kwargs):
        """TagResource."""
        kwargs = self._record("tag_resource", kwargs)
        for dist in self.dists.values():
            if dist["arn"] == kwargs["Resource"]:
                dist["tags"].update({item["Key"]: item["Value"] for item in kwargs["Tags"]["Items"]})

    def untag_resource(self, **kwargs):
        """UntagResource."""
        kwargs = self._record("untag_resource", kwargs)
        for dist in self.dists.values():
            if dist["arn"] == kwargs["Resource"]:
                for key in kwargs["TagKeys"]["Items"]:
                    dist["tags"].pop(key, None)


def view(**overrides):
    """The desired view of the test bucket."""
    return cfd.desired_view(BUCKET, REGION, overrides.pop("oac", OAC), **overrides)


def manager(fake, check_mode=False, clock=None, warnings=None):
    """An IssuerDistributions on the fake."""
    clock = clock or FakeClock()
    return cfd.IssuerDistributions(fake, BUCKET, REGION, check_mode=check_mode,
                                   warn=(warnings.append if warnings is not None else None),
                                   sleep=clock.sleep, monotonic=clock.monotonic)


def foreign_config(domain=ENDPOINT, caller="ccoctl"):
    """A distribution someone else made for the bucket (OAI style, legacy cache settings)."""
    config = cfd.new_config(view(), caller)
    origin = config["Origins"]["Items"][0]
    origin["DomainName"] = origin["Id"] = domain
    config["DefaultCacheBehavior"]["TargetOriginId"] = domain
    origin["OriginAccessControlId"] = ""
    origin["S3OriginConfig"] = {"OriginAccessIdentity": "origin-access-identity/cloudfront/E123"}
    return config


# --------------------------------------------------------------------------- pure functions


def test_regional_endpoint_and_validation():
    """The origin is the regional endpoint; bad names, non-regions and GovCloud are refused."""
    assert cfd.regional_endpoint(BUCKET, "us-east-1") == "mycluster-oidc.s3.us-east-1.amazonaws.com"
    assert cfd.regional_endpoint(BUCKET, "cn-north-1") == "mycluster-oidc.s3.cn-north-1.amazonaws.com.cn"
    cfd.validate_bucket(BUCKET, REGION)
    for bucket, region in (("Bad_Bucket", REGION), ("ab", REGION), (BUCKET, "global"), (BUCKET, "")):
        with pytest.raises(ValueError):
            cfd.validate_bucket(bucket, region)
    with pytest.raises(ValueError, match="aws-us-gov"):
        cfd.validate_bucket(BUCKET, "us-gov-west-1")


def test_caller_reference_and_tags():
    """The caller reference derives from the cluster tag or the bucket; the marker tag cannot be overridden."""
    assert cfd.default_caller_reference(BUCKET, {}) == "openshift_sts.oidc/mycluster-oidc"
    assert cfd.default_caller_reference(BUCKET, {cfd.CLUSTER_TAG_KEY: "c1"}) == "openshift_sts.oidc/c1/mycluster-oidc"
    assert cfd.desired_tags(BUCKET, {"a": "b"}) == {"a": "b", cfd.MARKER_TAG_KEY: BUCKET}
    with pytest.raises(ValueError, match="must be the bucket name"):
        cfd.desired_tags(BUCKET, {cfd.MARKER_TAG_KEY: "other"})


def test_new_config_is_the_issuer_shape():
    """A new config: one regional S3 origin with OAC and empty OAI, https-only, GET/HEAD, CachingDisabled, default cert."""
    config = cfd.new_config(view(), "ref")
    origin = config["Origins"]["Items"][0]
    assert config["Origins"]["Quantity"] == 1
    assert origin["DomainName"] == ENDPOINT and origin["OriginAccessControlId"] == OAC
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["AllowedMethods"]["Items"] == ["GET", "HEAD"]
    assert behavior["AllowedMethods"]["CachedMethods"]["Items"] == ["GET", "HEAD"]
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert "ForwardedValues" not in behavior
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert config["PriceClass"] == "PriceClass_100" and config["Enabled"] is True
    assert cfd.managed_view(config) == view()


def test_merge_keeps_unmanaged_fields_and_is_a_fixpoint():
    """merge_config changes only managed fields; its view equals the desired view (no endless updates)."""
    existing = foreign_config(domain="mycluster-oidc.s3.amazonaws.com")
    existing["Logging"] = {"Enabled": True, "IncludeCookies": False, "Bucket": "logs.s3.amazonaws.com", "Prefix": "cf/"}
    existing["WebACLId"] = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/1"
    existing["Origins"]["Items"][0]["ConnectionAttempts"] = 2
    existing["DefaultCacheBehavior"]["ForwardedValues"] = {"QueryString": False, "Cookies": {"Forward": "none"}}
    existing["DefaultCacheBehavior"]["MinTTL"] = 0
    existing["DefaultCacheBehavior"]["Compress"] = True
    wanted = view(aliases=["oidc.example.com"], acm_certificate_arn="arn:aws:acm:us-east-1:%s:certificate/x" % ACCOUNT)
    before = cfd.managed_view(existing)
    assert set(cfd.changed_fields(before, wanted)) == {"origins", "target_origin_id", "aliases", "viewer_certificate"}
    merged = cfd.merge_config(existing, wanted)
    assert cfd.managed_view(merged) == wanted
    assert cfd.changed_fields(cfd.managed_view(merged), wanted) == []
    assert merged["Logging"] == existing["Logging"] and merged["WebACLId"] == existing["WebACLId"]
    assert merged["CallerReference"] == "ccoctl"
    origin = merged["Origins"]["Items"][0]
    assert origin["ConnectionAttempts"] == 2 and origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    assert "ForwardedValues" not in merged["DefaultCacheBehavior"] and "MinTTL" not in merged["DefaultCacheBehavior"]
    assert merged["DefaultCacheBehavior"]["Compress"] is True
    assert merged["ViewerCertificate"]["SSLSupportMethod"] == "sni-only"
    assert existing["Origins"]["Items"][0]["DomainName"] == "mycluster-oidc.s3.amazonaws.com"  # input untouched


def test_view_ignores_extra_certificate_fields():
    """CloudFront echoes extra ViewerCertificate fields for the default certificate: not a difference."""
    config = cfd.new_config(view(), "ref")
    config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True, "SSLSupportMethod": "vip",
                                   "MinimumProtocolVersion": "TLSv1", "CertificateSource": "cloudfront", "ACMCertificateArn": ""}
    assert cfd.changed_fields(cfd.managed_view(config), view()) == []


def test_canonical_arn_uses_the_api_partition():
    """The ARN keeps the API's partition and account, with an empty region; moto 5.2.1's malformed ARN is repaired."""
    assert cfd.canonical_arn("arn:aws:cloudfront::%s:distribution/E1" % ACCOUNT, "E1") == \
        "arn:aws:cloudfront::%s:distribution/E1" % ACCOUNT
    assert cfd.canonical_arn("arn:aws:cloudfront:%s:distribution/E1" % ACCOUNT, "E1") == \
        "arn:aws:cloudfront::%s:distribution/E1" % ACCOUNT
    assert cfd.canonical_arn("arn:aws-cn:cloudfront::%s:distribution/E1" % ACCOUNT, "E1").startswith("arn:aws-cn:cloudfront::")
    assert cfd.canonical_arn("garbage", "E1") == "garbage"


# --------------------------------------------------------------------------- present


def test_create_then_unchanged():
    """First run creates with the marker tag; the second makes no write call and reports no change."""
    fake = FakeCloudFront()
    first = manager(fake).present(view(), {"env": "lab"})
    assert first["changed"] and first["changes"] == ["create"]
    assert fake.writes() == ["create_distribution_with_tags"]
    create = fake.calls[-1][1]["DistributionConfigWithTags"]
    assert {"Key": cfd.MARKER_TAG_KEY, "Value": BUCKET} in create["Tags"]["Items"]
    assert create["DistributionConfig"]["CallerReference"] == "openshift_sts.oidc/mycluster-oidc"
    dist = first["distribution"]
    assert dist["origin_domain"] == ENDPOINT and dist["oac_id"] == OAC and dist["origin_access_identity"] == ""
    assert dist["arn"] == "arn:aws:cloudfront::%s:distribution/%s" % (ACCOUNT, dist["id"])
    fake.calls = []
    second = manager(fake).present(view(), {"env": "lab"})
    assert not second["changed"] and second["changes"] == [] and fake.writes() == []
    assert second["distribution"]["id"] == dist["id"] and second["distribution"]["etag"] == dist["etag"]


def test_check_mode_makes_no_write_calls():
    """Check mode plans create, update and tag changes with read calls only."""
    fake = FakeCloudFront()
    planned = manager(fake, check_mode=True).present(view(), {})
    assert planned["changed"] and planned["changes"] == ["create"] and fake.writes() == [] and not fake.dists
    assert planned["distribution"]["id"] is None and planned["distribution"]["origin_domain"] == ENDPOINT

    manager(fake).present(view(), {"keep": "1"})
    fake.calls = []
    result = manager(fake, check_mode=True).present(view(price_class="PriceClass_All", enabled=False), {"new": "2"})
    assert result["changed"] and set(result["changes"]) == {"price_class", "enabled", "tags"}
    assert fake.writes() == []
    assert result["before"]["price_class"] == "PriceClass_100" and result["after"]["price_class"] == "PriceClass_All"
    assert result["distribution"]["price_class"] == "PriceClass_All"
    assert result["distribution"]["tags"] == {"new": "2", cfd.MARKER_TAG_KEY: BUCKET}

    absent = manager(fake, check_mode=True).absent(60, 5)
    assert absent["changed"] and absent["changes"] == ["delete"] and fake.writes() == [] and len(fake.dists) == 1


def test_update_uses_the_etag_and_changes_only_managed_fields():
    """A drifted distribution is updated once, with IfMatch = the ETag read; unmanaged fields survive."""
    fake = FakeCloudFront()
    config = cfd.new_config(view(), "openshift_sts.oidc/mycluster-oidc")
    config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}
    config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "allow-all"
    config["Origins"]["Items"][0]["OriginAccessControlId"] = "EOTHER"
    config["CustomErrorResponses"] = {"Quantity": 1, "Items": [{"ErrorCode": 404, "ErrorCachingMinTTL": 10}]}
    dist_id = fake.add(config, {cfd.MARKER_TAG_KEY: BUCKET, "stale": "x"})
    etag = fake.dists[dist_id]["etag"]
    result = manager(fake).present(view(), {}, purge_tags=True)
    assert set(result["changes"]) == {"origins", "viewer_protocol_policy", "tags"}
    assert fake.writes() == ["update_distribution", "untag_resource"]
    update = [kwargs for name, kwargs in fake.calls if name == "update_distribution"][0]
    assert update["IfMatch"] == etag and update["Id"] == dist_id
    sent = update["DistributionConfig"]
    assert sent["CustomErrorResponses"]["Quantity"] == 1
    assert sent["Origins"]["Items"][0]["OriginAccessControlId"] == OAC
    assert fake.dists[dist_id]["tags"] == {cfd.MARKER_TAG_KEY: BUCKET}
    assert result["distribution"]["status"] == "Deployed" and result["distribution"]["etag"] == fake.dists[dist_id]["etag"]


def test_purge_tags_false_keeps_extra_tags():
    """Without purge, only missing tags are added."""
    fake = FakeCloudFront()
    dist_id = fake.add(cfd.new_config(view(), "r"), {cfd.MARKER_TAG_KEY: BUCKET, "owner": "ops"})
    result = manager(fake).present(view(), {"env": "lab"}, purge_tags=False)
    assert result["changes"] == ["tags"] and fake.writes() == ["tag_resource"]
    assert fake.dists[dist_id]["tags"] == {cfd.MARKER_TAG_KEY: BUCKET, "owner": "ops", "env": "lab"}


def test_unmarked_distributions_are_never_touched():
    """A distribution serving the bucket without the marker is not updated or deleted; a warning names it."""
    fake = FakeCloudFront()
    foreign_id = fake.add(foreign_config(), {"owner": "ccoctl"})
    foreign_before = copy.deepcopy(fake.dists[foreign_id])
    warnings = []
    result = manager(fake, warnings=warnings).present(view(), {})
    assert result["changes"] == ["create"] and fake.writes() == ["create_distribution_with_tags"]
    assert any(foreign_id in warning for warning in warnings)
    fake.calls = []
    warnings = []
    assert manager(fake, warnings=warnings).absent(60, 1)["changed"]
    assert foreign_id in fake.dists and fake.dists[foreign_id] == foreign_before and len(fake.dists) == 1
    assert all(kwargs.get("Id") != foreign_id for name, kwargs in fake.calls if name in WRITES)
    fake.calls = []
    again = manager(fake).absent(60, 1)
    assert not again["changed"] and fake.writes() == [] and foreign_id in fake.dists


def test_caller_reference_taken_by_an_unmarked_distribution():
    """DistributionAlreadyExists on create is explained, not hidden."""
    fake = FakeCloudFront()
    fake.add(foreign_config(domain="elsewhere.s3.us-east-1.amazonaws.com", caller="openshift_sts.oidc/mycluster-oidc"))
    with pytest.raises(cfd.CloudFrontDistributionError, match="already exists but does not carry the tag"):
        manager(fake).present(view(), {})


def test_marked_distribution_with_a_changed_origin_is_found_and_repaired():
    """The marker wins over the origin: a hand-edited origin (global endpoint) is found by tag and set back, paginated."""
    fake = FakeCloudFront(page_size=1)
    for index in range(3):
        fake.add(foreign_config(domain="other%d.s3.us-east-1.amazonaws.com" % index, caller="x%d" % index))
    dist_id = fake.add(foreign_config(domain="mycluster-oidc.example.com", caller="mine"), {cfd.MARKER_TAG_KEY: BUCKET})
    result = manager(fake).present(view(), {})
    assert "origins" in result["changes"] and result["distribution"]["id"] == dist_id
    assert fake.dists[dist_id]["config"]["Origins"]["Items"][0]["DomainName"] == ENDPOINT
    assert sum(1 for name, dummy in fake.calls if name == "list_distributions") == 4


def test_two_marked_distributions_are_an_error():
    """Ambiguity is refused."""
    fake = FakeCloudFront()
    fake.add(cfd.new_config(view(), "a"), {cfd.MARKER_TAG_KEY: BUCKET})
    fake.add(cfd.new_config(view(), "b"), {cfd.MARKER_TAG_KEY: BUCKET})
    with pytest.raises(cfd.CloudFrontDistributionError, match="Several CloudFront distributions"):
        manager(fake).present(view(), {})
    assert fake.writes() == []


# --------------------------------------------------------------------------- waiting and absent


def test_wait_deployed_polls_then_times_out():
    """wait_deployed sleeps wait_sleep between polls and reports the status, the time waited and a resumable message."""
    clock = FakeClock()
    fake = FakeCloudFront(polls_in_progress=3)
    mgr = manager(fake, clock=clock)
    dist_id = mgr.present(view(), {})["distribution"]["id"]
    distribution, dummy, waited, polls = mgr.wait_deployed(dist_id, 100, 10)
    assert distribution["Status"] == "Deployed" and polls == 4 and waited == 30 and clock.sleeps == [10, 10, 10]
    fake.dists[dist_id]["pending"] = 50
    with pytest.raises(cfd.WaitTimeout) as info:
        mgr.wait_deployed(dist_id, 25, 10)
    assert info.value.status == "InProgress" and info.value.waited == 25
    assert "still InProgress after 25 s; re-run to keep waiting - nothing is lost" in str(info.value)
    assert clock.sleeps[-3:] == [10, 10, 5]


def test_absent_disables_waits_then_deletes_with_the_new_etag():
    """Order: disable (IfMatch = read ETag) -> GetDistribution until Deployed -> delete (IfMatch = ETag of the last read)."""
    clock = FakeClock()
    fake = FakeCloudFront(polls_in_progress=2)
    dist_id = fake.add(cfd.new_config(view(), "r"), {cfd.MARKER_TAG_KEY: BUCKET})
    first_etag = fake.dists[dist_id]["etag"]
    fake.calls = []
    result = manager(fake, clock=clock).absent(300, 15)
    names = [name for name, dummy in fake.calls if name in WRITES or name == "get_distribution"]
    assert names == ["update_distribution", "get_distribution", "get_distribution", "get_distribution", "delete_distribution"]
    update = fake.calls[[n for n, dummy in fake.calls].index("update_distribution")][1]
    assert update["IfMatch"] == first_etag and update["DistributionConfig"]["Enabled"] is False
    delete = fake.calls[-1][1]
    assert delete["IfMatch"] != first_etag and delete["Id"] == dist_id
    assert result["changes"] == ["disable", "delete"] and result["distribution"]["status"] == "Deleted"
    assert clock.sleeps == [15, 15] and not fake.dists


def test_absent_timeout_then_resume():
    """A timeout after disabling reports only the disable; a re-run waits and deletes without disabling again."""
    clock = FakeClock()
    fake = FakeCloudFront(polls_in_progress=10)
    dist_id = fake.add(cfd.new_config(view(), "r"), {cfd.MARKER_TAG_KEY: BUCKET})
    with pytest.raises(cfd.WaitTimeout) as info:
        manager(fake, clock=clock).absent(20, 10)
    assert info.value.result["changes"] == ["disable"] and info.value.result["changed"]
    assert fake.dists[dist_id]["config"]["Enabled"] is False
    fake.calls = []
    result = manager(fake, clock=clock).absent(300, 10)
    assert result["changes"] == ["delete"] and fake.writes() == ["delete_distribution"] and not fake.dists


def test_absent_without_distribution_is_a_no_op():
    """Nothing marked: nothing done."""
    fake = FakeCloudFront()
    result = manager(fake).absent(10, 1)
    assert not result["changed"] and result["distribution"] is None and fake.writes() == []


# --------------------------------------------------------------------------- requests valid for the real API model


def _stubbed_client():
    client = boto3.client("cloudfront", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                          aws_secret_access_key="not-a-secret")
    return client, Stubber(client)


def test_requests_match_the_botocore_model():
    """Stubber validates every request against botocore's CloudFront model: create, then update with IfMatch."""
    client, stubber = _stubbed_client()
    wrapped = RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(retries=1))
    dist_id = "E1ABCDEF2GHIJK"
    arn = "arn:aws:cloudfront::%s:distribution/%s" % (ACCOUNT, dist_id)
    created = cfd.new_config(view(), "openshift_sts.oidc/mycluster-oidc")
    response_dist = {"Id": dist_id, "ARN": arn, "Status": "InProgress", "LastModifiedTime": "2024-01-01T00:00:00Z",
                     "InProgressInvalidationBatches": 0, "DomainName": "d1.cloudfront.net", "DistributionConfig": created}
    stubber.add_response("list_distributions", {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False,
                                                                     "Quantity": 0}}, {})
    stubber.add_response("create_distribution_with_tags", {"Distribution": response_dist, "ETag": "E1", "Location": "x"},
                         {"DistributionConfigWithTags": ANY})
    with stubber:
        result = cfd.IssuerDistributions(wrapped, BUCKET, REGION).present(view(), {"env": "lab"})
    assert result["distribution"]["id"] == dist_id

    client, stubber = _stubbed_client()
    wrapped = RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(retries=1))
    summary = {"Id": dist_id, "ARN": arn, "Status": "Deployed", "LastModifiedTime": "2024-01-01T00:00:00Z",
               "DomainName": "d1.cloudfront.net", "Aliases": {"Quantity": 0}, "Origins": created["Origins"],
               "DefaultCacheBehavior": created["DefaultCacheBehavior"], "CacheBehaviors": {"Quantity": 0},
               "CustomErrorResponses": {"Quantity": 0}, "Comment": "", "PriceClass": "PriceClass_100", "Enabled": True,
               "ViewerCertificate": {"CloudFrontDefaultCertificate": True}, "Restrictions": created["Restrictions"],
               "WebACLId": "", "HttpVersion": "http2", "IsIPV6Enabled": True, "Staging": False}
    stubber.add_response("list_distributions", {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False,
                                                                     "Quantity": 1, "Items": [summary]}}, {})
    stubber.add_response("list_tags_for_resource", {"Tags": {"Items": [{"Key": cfd.MARKER_TAG_KEY, "Value": BUCKET},
                                                                       {"Key": "env", "Value": "lab"}]}}, {"Resource": arn})
    stubber.add_response("get_distribution_config", {"DistributionConfig": created, "ETag": "E1"}, {"Id": dist_id})
    updated = cfd.merge_config(created, view(enabled=False))
    stubber.add_response("update_distribution", {"Distribution": dict(response_dist, DistributionConfig=updated), "ETag": "E2"},
                         {"Id": dist_id, "IfMatch": "E1", "DistributionConfig": updated})
    with stubber:
        result = cfd.IssuerDistributions(wrapped, BUCKET, REGION).present(view(enabled=False), {"env": "lab"})
    stubber.assert_no_pending_responses()
    assert result["changes"] == ["enabled"] and result["distribution"]["etag"] == "E2"
