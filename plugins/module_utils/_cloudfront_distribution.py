# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The CloudFront distribution in front of a private OIDC issuer bucket (private module_util, amazon.aws style).

One distribution per issuer bucket: a single S3 origin on the bucket's *regional* REST endpoint with an origin access
control and an empty origin access identity, HTTPS only, GET/HEAD, the managed CachingDisabled policy. The distribution
is ours only when it carries the marker tag :data:`MARKER_TAG_KEY` = bucket name: nothing else is ever changed or
deleted.

Only the fields listed in :func:`managed_view` are compared; an update re-submits the whole configuration read with
``GetDistributionConfig`` (with ``IfMatch`` = its ETag), changing only those fields, so settings made by others (logging,
WAF, error pages, ...) are kept. ``DeleteDistribution`` needs a disabled, deployed distribution: disable, wait for
``Deployed``, delete with the ETag of the last read.

Every AWS call is a small function decorated with :meth:`CloudFrontDistributionErrorHandler.common_error_handler`
(failures raise :class:`CloudFrontDistributionError`); the client is expected to be wrapped with ``AWSRetry`` by the
module (``aws_retry=True`` on each call).
"""

from __future__ import annotations

import copy
import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

MARKER_TAG_KEY = "openshift_sts.oidc/issuer-bucket"
CLUSTER_TAG_KEY = "openshift_sts.oidc/cluster"
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
DEFAULT_PRICE_CLASS = "PriceClass_100"
ACM_MINIMUM_PROTOCOL_VERSION = "TLSv1.2_2021"
VIEWER_PROTOCOL_POLICY = "https-only"
METHODS = ["GET", "HEAD"]
DEPLOYED = "Deployed"

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
# Legacy cache settings that CloudFront refuses next to a cache policy.
_LEGACY_CACHE_KEYS = ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL")


class CloudFrontDistributionError(AnsibleAWSError):
    """A CloudFront call failed, or the distribution is not in a state this module may act on."""


class CloudFrontDistributionErrorHandler(AWSErrorHandler):
    """amazon.aws error handler raising :class:`CloudFrontDistributionError`; ``NoSuchDistribution`` means missing."""

    _CUSTOM_EXCEPTION = CloudFrontDistributionError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NoSuchDistribution")


class WaitTimeout(Exception):
    """The distribution did not reach ``Deployed`` within the time allowed."""

    def __init__(self, distribution_id, status, waited, polls, distribution=None):
        self.distribution_id = distribution_id
        self.status = status
        self.waited = waited
        self.polls = polls
        self.distribution = distribution
        self.result = None
        super().__init__("CloudFront distribution %s is still %s after %d s; re-run to keep waiting - nothing is lost"
                         % (distribution_id, status, waited))


# --------------------------------------------------------------------------- AWS calls


@CloudFrontDistributionErrorHandler.common_error_handler("list CloudFront distributions")
def list_distribution_summaries(client):
    """Every distribution summary of the account (``ListDistributions``, all pages)."""
    summaries = []
    marker = None
    while True:
        kwargs = {"Marker": marker} if marker else {}
        page = client.list_distributions(aws_retry=True, **kwargs).get("DistributionList") or {}
        summaries.extend(page.get("Items") or [])
        marker = page.get("NextMarker")
        if not page.get("IsTruncated") or not marker:
            return summaries


@CloudFrontDistributionErrorHandler.list_error_handler("list the tags of CloudFront distribution {arn}", default_value={})
def get_tags(client, arn):
    """The tags of a distribution as a dict (``{}`` when it has vanished)."""
    answer = client.list_tags_for_resource(aws_retry=True, Resource=arn)
    return {item["Key"]: item.get("Value", "") for item in ((answer.get("Tags") or {}).get("Items") or [])}


@CloudFrontDistributionErrorHandler.list_error_handler("get the configuration of CloudFront distribution {distribution_id}")
def get_distribution_config(client, distribution_id):
    """``(DistributionConfig, ETag)``, or None when the distribution does not exist."""
    answer = client.get_distribution_config(aws_retry=True, Id=distribution_id)
    return answer["DistributionConfig"], answer.get("ETag")


@CloudFrontDistributionErrorHandler.list_error_handler("get CloudFront distribution {distribution_id}")
def get_distribution(client, distribution_id):
    """``(Distribution, ETag)``, or None when the distribution does not exist."""
    answer = client.get_distribution(aws_retry=True, Id=distribution_id)
    return answer["Distribution"], answer.get("ETag")


@CloudFrontDistributionErrorHandler.common_error_handler("create the CloudFront distribution for bucket {bucket}")
def create_distribution(client, bucket, config, tags):
    """``CreateDistributionWithTags``: ``(Distribution, ETag)``."""
    items = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    answer = client.create_distribution_with_tags(
        aws_retry=True, DistributionConfigWithTags={"DistributionConfig": config, "Tags": {"Items": items}})
    return answer["Distribution"], answer.get("ETag")


@CloudFrontDistributionErrorHandler.common_error_handler("update CloudFront distribution {distribution_id}")
def update_distribution(client, distribution_id, config, etag):
    """``UpdateDistribution`` with ``IfMatch``: ``(Distribution, ETag)``."""
    answer = client.update_distribution(aws_retry=True, Id=distribution_id, IfMatch=etag, DistributionConfig=config)
    return answer["Distribution"], answer.get("ETag")


@CloudFrontDistributionErrorHandler.deletion_error_handler("delete CloudFront distribution {distribution_id}")
def delete_distribution(client, distribution_id, etag):
    """``DeleteDistribution`` with ``IfMatch``; False when it was already gone."""
    client.delete_distribution(aws_retry=True, Id=distribution_id, IfMatch=etag)
    return True


@CloudFrontDistributionErrorHandler.common_error_handler("tag CloudFront distribution {arn}")
def tag_distribution(client, arn, tags):
    """Add or overwrite tags."""
    items = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    client.tag_resource(aws_retry=True, Resource=arn, Tags={"Items": items})


@CloudFrontDistributionErrorHandler.common_error_handler("untag CloudFront distribution {arn}")
def untag_distribution(client, arn, keys):
    """Remove tags by key."""
    client.untag_resource(aws_retry=True, Resource=arn, TagKeys={"Items": sorted(keys)})


# --------------------------------------------------------------------------- desired state


def validate_bucket(bucket, region):
    """Raise ValueError when the bucket name or region cannot make a regional S3 endpoint."""
    if not _BUCKET_RE.match(bucket or "") or ".." in bucket:
        raise ValueError("bucket %r is not a valid S3 bucket name" % (bucket,))
    if not _REGION_RE.match(region or ""):
        raise ValueError("bucket_region %r is not an AWS region name such as us-east-2" % (region,))
    if region.startswith("us-gov-"):
        raise ValueError("CloudFront is not available in the aws-us-gov partition (region %s); serve the issuer another way"
                         % region)


def regional_endpoint(bucket, region):
    """The bucket's regional S3 REST endpoint (never the global or website one)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return "%s.s3.%s.%s" % (bucket, region, suffix)


def default_caller_reference(bucket, tags):
    """A deterministic caller reference: the cluster marker tag (when given) and the bucket."""
    cluster = (tags or {}).get(CLUSTER_TAG_KEY)
    if cluster:
        return "openshift_sts.oidc/%s/%s" % (cluster, bucket)
    return "openshift_sts.oidc/%s" % bucket


def default_comment(bucket):
    """The comment used when none is given (CloudFront allows 128 characters)."""
    return ("OIDC issuer s3://%s (openshift_sts.oidc)" % bucket)[:128]


def desired_tags(bucket, tags):
    """The user's tags plus the marker tag; ValueError if the user gave the marker another value."""
    result = dict(tags or {})
    if result.get(MARKER_TAG_KEY, bucket) != bucket:
        raise ValueError("tag %s must be the bucket name %s (it marks the distribution as this bucket's), not %r"
                         % (MARKER_TAG_KEY, bucket, result[MARKER_TAG_KEY]))
    result[MARKER_TAG_KEY] = bucket
    return result


def desired_view(bucket, bucket_region, origin_access_control_id, comment=None, aliases=None, acm_certificate_arn=None,
                 price_class=DEFAULT_PRICE_CLASS, enabled=True):
    """The managed fields of the wanted distribution, in the shape of :func:`managed_view`."""
    domain = regional_endpoint(bucket, bucket_region)
    if acm_certificate_arn:
        certificate = {"cloudfront_default_certificate": False, "acm_certificate_arn": acm_certificate_arn,
                       "ssl_support_method": "sni-only", "minimum_protocol_version": ACM_MINIMUM_PROTOCOL_VERSION}
    else:
        certificate = {"cloudfront_default_certificate": True}
    return {
        "origins": [{"id": domain, "domain_name": domain, "origin_path": "", "origin_access_control_id": origin_access_control_id,
                     "origin_access_identity": "", "custom_origin": False}],
        "target_origin_id": domain,
        "viewer_protocol_policy": VIEWER_PROTOCOL_POLICY,
        "allowed_methods": list(METHODS),
        "cached_methods": list(METHODS),
        "cache_policy_id": CACHING_DISABLED_POLICY_ID,
        "aliases": sorted(set(aliases or [])),
        "viewer_certificate": certificate,
        "price_class": price_class,
        "enabled": bool(enabled),
        "comment": comment if comment is not None else default_comment(bucket),
    }


def _items(container):
    return list((container or {}).get("Items") or [])


def managed_view(config):
    """The fields of a ``DistributionConfig`` this module manages, in a flat, comparable shape."""
    origins = []
    for origin in _items(config.get("Origins")):
        s3_config = origin.get("S3OriginConfig")
        origins.append({
            "id": origin.get("Id"),
            "domain_name": origin.get("DomainName"),
            "origin_path": origin.get("OriginPath") or "",
            "origin_access_control_id": origin.get("OriginAccessControlId") or "",
            "origin_access_identity": None if s3_config is None else (s3_config.get("OriginAccessIdentity") or ""),
            "custom_origin": "CustomOriginConfig" in origin,
        })
    behavior = config.get("DefaultCacheBehavior") or {}
    allowed = behavior.get("AllowedMethods") or {}
    certificate = config.get("ViewerCertificate") or {}
    if certificate.get("CloudFrontDefaultCertificate") and not certificate.get("ACMCertificateArn"):
        view_certificate = {"cloudfront_default_certificate": True}
    else:
        view_certificate = {"cloudfront_default_certificate": bool(certificate.get("CloudFrontDefaultCertificate")),
                            "acm_certificate_arn": certificate.get("ACMCertificateArn") or None,
                            "ssl_support_method": certificate.get("SSLSupportMethod"),
                            "minimum_protocol_version": certificate.get("MinimumProtocolVersion")}
    return {
        "origins": origins,
        "target_origin_id": behavior.get("TargetOriginId"),
        "viewer_protocol_policy": behavior.get("ViewerProtocolPolicy"),
        "allowed_methods": sorted(_items(allowed)),
        "cached_methods": sorted(_items(allowed.get("CachedMethods"))),
        "cache_policy_id": behavior.get("CachePolicyId"),
        "aliases": sorted(_items(config.get("Aliases"))),
        "viewer_certificate": view_certificate,
        "price_class": config.get("PriceClass"),
        "enabled": bool(config.get("Enabled")),
        "comment": config.get("Comment") or "",
    }


def changed_fields(before, after):
    """The top-level keys of two views that differ, in a stable order."""
    return [key for key in after if before.get(key) != after.get(key)]


def _cloudfront_list(items):
    items = list(items)
    return {"Quantity": len(items), "Items": items} if items else {"Quantity": 0}


def _methods():
    return {"Quantity": len(METHODS), "Items": list(METHODS),
            "CachedMethods": {"Quantity": len(METHODS), "Items": list(METHODS)}}


def _viewer_certificate(view):
    if view.get("cloudfront_default_certificate"):
        return {"CloudFrontDefaultCertificate": True}
    return {"CloudFrontDefaultCertificate": False, "ACMCertificateArn": view["acm_certificate_arn"],
            "SSLSupportMethod": view["ssl_support_method"], "MinimumProtocolVersion": view["minimum_protocol_version"]}


def new_config(view, caller_reference):
    """A complete ``DistributionConfig`` for ``CreateDistribution`` from a desired view."""
    config = {
        "CallerReference": caller_reference,
        "Aliases": _cloudfront_list(view["aliases"]),
        "DefaultRootObject": "",
        "Origins": {"Quantity": 0},
        "DefaultCacheBehavior": {
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
            "SmoothStreaming": False,
            "Compress": False,
            "LambdaFunctionAssociations": {"Quantity": 0},
            "FunctionAssociations": {"Quantity": 0},
            "FieldLevelEncryptionId": "",
        },
        "CacheBehaviors": {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": view["comment"],
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        "PriceClass": view["price_class"],
        "Enabled": view["enabled"],
        "ViewerCertificate": {},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2",
        "IsIPV6Enabled": True,
    }
    return merge_config(config, view)


def merge_config(existing, view):
    """``existing`` (a whole ``DistributionConfig``) with the managed fields set as in ``view``; others are kept."""
    config = copy.deepcopy(existing)
    wanted = view["origins"][0]
    existing_origins = _items(config.get("Origins"))
    # Keep the unmanaged settings of the origin being replaced: same Id, else same host, else the only origin.
    previous = next((o for o in existing_origins if o.get("Id") == wanted["id"]), None) \
        or next((o for o in existing_origins if o.get("DomainName") == wanted["domain_name"]), None) \
        or (existing_origins[0] if len(existing_origins) == 1 else {})
    origin = copy.deepcopy(previous) or {"CustomHeaders": {"Quantity": 0}, "ConnectionAttempts": 3, "ConnectionTimeout": 10}
    origin.pop("CustomOriginConfig", None)
    origin.update({"Id": wanted["id"], "DomainName": wanted["domain_name"], "OriginPath": "",
                   "OriginAccessControlId": wanted["origin_access_control_id"]})
    s3_config = dict(origin.get("S3OriginConfig") or {})
    s3_config["OriginAccessIdentity"] = ""
    origin["S3OriginConfig"] = s3_config
    config["Origins"] = {"Quantity": 1, "Items": [origin]}

    behavior = dict(config.get("DefaultCacheBehavior") or {})
    for key in _LEGACY_CACHE_KEYS:
        behavior.pop(key, None)
    behavior.update({"TargetOriginId": view["target_origin_id"], "ViewerProtocolPolicy": view["viewer_protocol_policy"],
                     "AllowedMethods": _methods(), "CachePolicyId": view["cache_policy_id"]})
    config["DefaultCacheBehavior"] = behavior

    if managed_view(config)["viewer_certificate"] != view["viewer_certificate"]:
        config["ViewerCertificate"] = _viewer_certificate(view["viewer_certificate"])
    if sorted(_items(config.get("Aliases"))) != view["aliases"]:
        config["Aliases"] = _cloudfront_list(view["aliases"])
    config["PriceClass"] = view["price_class"]
    config["Enabled"] = view["enabled"]
    config["Comment"] = view["comment"]
    return config


# --------------------------------------------------------------------------- results


def canonical_arn(api_arn, distribution_id):
    """``arn:<partition>:cloudfront::<account>:distribution/<id>`` with the partition and account of the API's ARN.

    The region field of a distribution ARN is empty; a malformed ARN (moto 5.2.1 left the empty field out) is rebuilt.
    """
    parts = (api_arn or "").split(":")
    if len(parts) < 5 or parts[0] != "arn":
        return api_arn
    accounts = [part for part in parts[3:5] if _ACCOUNT_RE.match(part)]
    if not accounts:
        return api_arn
    return "arn:%s:cloudfront::%s:distribution/%s" % (parts[1], accounts[0], distribution_id)


def describe(distribution=None, config=None, etag=None, tags=None, summary=None):
    """The ``distribution`` return value from what is known (a full Distribution, or a summary plus a config)."""
    distribution = distribution or {}
    summary = summary or {}
    config = config or distribution.get("DistributionConfig") or {}
    source = distribution or summary
    dist_id = source.get("Id")
    view = managed_view(config) if config else {}
    origin = (view.get("origins") or [{}])[0]
    return {
        "id": dist_id,
        "arn": canonical_arn(source.get("ARN"), dist_id) if dist_id else None,
        "domain_name": source.get("DomainName"),
        "status": source.get("Status"),
        "enabled": view.get("enabled"),
        "etag": etag,
        "caller_reference": config.get("CallerReference"),
        "origin_domain": origin.get("domain_name"),
        "oac_id": origin.get("origin_access_control_id") or None,
        "origin_access_identity": origin.get("origin_access_identity"),
        "aliases": view.get("aliases", []),
        "price_class": view.get("price_class"),
        "comment": view.get("comment"),
        "tags": dict(tags or {}),
    }


def planned(view, tags, caller_reference, current=None):
    """A ``distribution`` return value for a change not made (check mode): the current one with the wanted fields."""
    result = dict(current or describe(config={}))
    origin = view["origins"][0]
    result.update({"enabled": view["enabled"], "origin_domain": origin["domain_name"],
                   "oac_id": origin["origin_access_control_id"], "origin_access_identity": "",
                   "aliases": view["aliases"], "price_class": view["price_class"], "comment": view["comment"],
                   "tags": dict(tags)})
    if not result.get("caller_reference"):
        result["caller_reference"] = caller_reference
    return result


# --------------------------------------------------------------------------- the manager


class IssuerDistributions:
    """Finds, converges, waits for and deletes the issuer distribution of one bucket.

    ``client`` is a boto3 CloudFront client (wrapped with AWSRetry); ``check_mode`` suppresses every write call;
    ``warn`` receives warnings; ``sleep`` and ``monotonic`` are injectable for tests.
    """

    def __init__(self, client, bucket, bucket_region, check_mode=False, warn=None, sleep=time.sleep, monotonic=time.monotonic):
        validate_bucket(bucket, bucket_region)
        self.client = client
        self.bucket = bucket
        self.endpoint = regional_endpoint(bucket, bucket_region)
        self.check_mode = check_mode
        self.warn = warn or (lambda message: None)
        self.sleep = sleep
        self.monotonic = monotonic
        self.foreign = []

    # -- discovery

    def _serves_bucket(self, summary):
        """True when an origin of the summary is this bucket (any S3 endpoint spelling)."""
        prefix = self.bucket + ".s3"
        for origin in _items(summary.get("Origins")):
            domain = (origin.get("DomainName") or "").lower()
            if domain == self.endpoint or (domain.startswith(prefix) and domain.endswith((".amazonaws.com", ".amazonaws.com.cn"))):
                return True
        return False

    def find(self):
        """``(summary, tags)`` of the distribution carrying the marker tag for this bucket, or ``(None, None)``.

        Distributions serving the bucket are looked at first (one tag read each); only when none of them is marked are
        the others' tags read, so a marked distribution whose origin was changed by hand is still found and repaired.
        Distributions serving the bucket without the marker are listed in :attr:`foreign` and never touched.
        """
        summaries = list_distribution_summaries(self.client)
        serving = [s for s in summaries if self._serves_bucket(s)]
        others = [s for s in summaries if not self._serves_bucket(s)]
        ours = []
        self.foreign = []
        for summary in serving:
            tags = get_tags(self.client, summary["ARN"])
            if tags.get(MARKER_TAG_KEY) == self.bucket:
                ours.append((summary, tags))
            else:
                self.foreign.append(summary["Id"])
        if not ours:
            for summary in others:
                tags = get_tags(self.client, summary["ARN"])
                if tags.get(MARKER_TAG_KEY) == self.bucket:
                    ours.append((summary, tags))
        self.foreign.sort()
        if len(ours) > 1:
            raise CloudFrontDistributionError(
                message="Several CloudFront distributions carry the tag %s=%s: %s; remove the tag from all but one"
                % (MARKER_TAG_KEY, self.bucket, ", ".join(sorted(s["Id"] for s, dummy in ours))))
        if self.foreign:
            self.warn("CloudFront distribution(s) %s also serve bucket %s but do not carry the tag %s=%s: this module did "
                      "not create them and leaves them untouched" % (", ".join(self.foreign), self.bucket,
                                                                     MARKER_TAG_KEY, self.bucket))
        return ours[0] if ours else (None, None)

    # -- waiting

    def wait_deployed(self, distribution_id, timeout, sleep_seconds):
        """Poll ``GetDistribution`` until ``Deployed``. Returns ``(Distribution, ETag, waited seconds, polls)``.

        Raises :class:`WaitTimeout` (with the last status) when ``timeout`` seconds pass first, or
        :class:`CloudFrontDistributionError` when the distribution disappears.
        """
        start = self.monotonic()
        polls = 0
        while True:
            answer = get_distribution(self.client, distribution_id)
            polls += 1
            if answer is None:
                raise CloudFrontDistributionError(message="CloudFront distribution %s disappeared while waiting" % distribution_id)
            distribution, etag = answer
            waited = self.monotonic() - start
            if distribution.get("Status") == DEPLOYED:
                return distribution, etag, waited, polls
            remaining = timeout - waited
            if remaining <= 0:
                raise WaitTimeout(distribution_id, distribution.get("Status"), waited, polls,
                                  distribution=(distribution, etag))
            self.sleep(max(0.0, min(sleep_seconds, remaining)))

    # -- present

    def present(self, view, tags, purge_tags=True, caller_reference=None):
        """Converge. Returns ``{"changed", "distribution", "before", "after", "changes", "etag"}``."""
        wanted_tags = desired_tags(self.bucket, tags)
        caller_reference = caller_reference or default_caller_reference(self.bucket, wanted_tags)
        summary, current_tags = self.find()
        if summary is None:
            return self._create(view, wanted_tags, caller_reference)
        return self._update(summary, current_tags, view, wanted_tags, purge_tags)

    def _create(self, view, tags, caller_reference):
        config = new_config(view, caller_reference)
        result = {"changed": True, "before": {}, "after": dict(view, tags=tags), "changes": ["create"]}
        if self.check_mode:
            result["distribution"] = planned(view, tags, caller_reference)
            return result
        try:
            distribution, etag = create_distribution(self.client, self.bucket, config, tags)
        except CloudFrontDistributionError as error:
            code = getattr(error.exception, "response", {}).get("Error", {}).get("Code")
            if code == "DistributionAlreadyExists":
                raise CloudFrontDistributionError(
                    message="A CloudFront distribution with caller reference %r already exists but does not carry the tag "
                            "%s=%s (or no longer serves the bucket); it is not ours to change: give another "
                            "caller_reference or restore its tag" % (caller_reference, MARKER_TAG_KEY, self.bucket),
                    exception=error.exception)
            raise
        result["distribution"] = describe(distribution, etag=etag, tags=tags)
        result["etag"] = etag
        return result

    def _update(self, summary, current_tags, view, tags, purge_tags):
        dist_id = summary["Id"]
        answer = get_distribution_config(self.client, dist_id)
        if answer is None:
            raise CloudFrontDistributionError(message="CloudFront distribution %s disappeared while being read" % dist_id)
        config, etag = answer
        before = managed_view(config)
        changes = changed_fields(before, view)
        to_add, to_remove = compare_aws_tags(current_tags, tags, purge_tags)
        final_tags = dict(current_tags)
        final_tags.update(to_add)
        for key in to_remove:
            final_tags.pop(key, None)
        if to_add or to_remove:
            changes.append("tags")
        result = {"changed": bool(changes), "changes": changes,
                  "before": dict(before, tags=current_tags), "after": dict(view, tags=final_tags)}
        current = describe(summary=summary, config=config, etag=etag, tags=current_tags)
        if self.check_mode:
            result["distribution"] = planned(view, final_tags, None, current) if changes else current
            return result
        distribution = None
        if changed_fields(before, view):
            distribution, etag = update_distribution(self.client, dist_id, merge_config(config, view), etag)
        arn = summary["ARN"]
        if to_remove:
            untag_distribution(self.client, arn, to_remove)
        if to_add:
            tag_distribution(self.client, arn, to_add)
        if distribution is not None:
            result["distribution"] = describe(distribution, etag=etag, tags=final_tags)
        else:
            result["distribution"] = describe(summary=summary, config=config, etag=etag, tags=final_tags)
        return result

    # -- absent

    def absent(self, timeout, sleep_seconds):
        """Disable, wait for ``Deployed``, delete. Returns ``{"changed", "distribution", "before", "after", "changes"}``.

        Raises :class:`WaitTimeout` when the disabled distribution is still deploying after ``timeout`` seconds (a
        re-run continues from there).
        """
        summary, tags = self.find()
        if summary is None:
            return {"changed": False, "changes": [], "before": {}, "after": {}, "distribution": None}
        dist_id = summary["Id"]
        answer = get_distribution_config(self.client, dist_id)
        if answer is None:
            return {"changed": False, "changes": [], "before": {}, "after": {}, "distribution": None}
        config, etag = answer
        before = dict(managed_view(config), tags=tags)
        current = describe(summary=summary, config=config, etag=etag, tags=tags)
        result = {"changed": True, "changes": ["delete"], "before": before, "after": {}, "distribution": current}
        if self.check_mode:
            return result
        if config.get("Enabled"):
            disabled = copy.deepcopy(config)
            disabled["Enabled"] = False
            distribution, etag = update_distribution(self.client, dist_id, disabled, etag)
            result["changes"] = ["disable", "delete"]
            result["distribution"] = describe(distribution, etag=etag, tags=tags)
        try:
            distribution, etag, dummy, dummy2 = self.wait_deployed(dist_id, timeout, sleep_seconds)
        except WaitTimeout as timeout_error:
            distribution, etag = timeout_error.distribution
            result["distribution"] = describe(distribution, etag=etag, tags=tags)
            result["changes"] = [change for change in result["changes"] if change != "delete"]
            result["changed"] = bool(result["changes"])
            timeout_error.result = result
            raise
        delete_distribution(self.client, dist_id, etag)
        result["distribution"] = dict(describe(distribution, etag=etag, tags=tags), status="Deleted")
        return result
