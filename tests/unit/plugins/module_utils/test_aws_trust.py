"""Unit tests of the AWS trust inspection (aws_trust.inspect_trust) with fake AWS clients: every code it emits."""

from __future__ import annotations

import json
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_hosting as H
from ansible_collections.openshift_sts.oidc.plugins.module_utils import aws_trust as T
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.module_utils.aws_trust_fakes import (
    ACCOUNT, FakeAws, ccoctl_public_policy, ccoctl_trust, oac_policy, oai_policy, public_read_grant)

BUCKET = "mycluster-oidc"
HP = BUCKET + ".s3.us-east-2.amazonaws.com"
ISSUER = "https://" + HP
SA = "system:serviceaccount:openshift-image-registry:registry"
SA2 = "system:serviceaccount:openshift-machine-api:machine-api-controllers"
PROVIDER = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, HP)
OPEN_BPA = dict(BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=False, RestrictPublicBuckets=False)


def run(aws, issuer=ISSUER, roles=(), audience="openshift", region="us-east-2"):
    return T.inspect_trust(aws.clients, issuer, T.normalize_roles(list(roles)), audience, region)


def codes(result):
    return [item["code"] for item in result["findings"]]


def only(result, code):
    found = [item for item in result["findings"] if item["code"] == code]
    assert len(found) == 1, (code, result["findings"])
    return found[0]


def healthy_s3(aws, subjects=(SA,)):
    """A ccoctl-style public-bucket setup; returns the role ARN."""
    arn = aws.add_provider(HP)
    aws.add_bucket(BUCKET, "us-east-2", bpa=dict(OPEN_BPA), policy=ccoctl_public_policy(BUCKET))
    return aws.add_role("mycluster-registry", ccoctl_trust(arn, HP, subjects))


# ---------------------------------------------------------------- healthy
def test_healthy_s3_issuer_has_no_findings_and_bounded_calls():
    aws = FakeAws()
    role = healthy_s3(aws, [SA, SA2])
    as_dict = {"namespace": "openshift-machine-api", "name": "machine-api-controllers"}
    result = run(aws, roles=[{"role_arn": role, "service_accounts": [SA, as_dict]}])
    assert result["findings"] == []
    assert result["ok"] is True and result["inspected"] is True and result["complete"] is True
    assert result["provider"]["Arn"].endswith(HP) and result["provider"]["ClientIDList"] == ["openshift", "sts.amazonaws.com"]
    assert result["roles"][0]["trust_ok"] is True and result["roles"][0]["federated"] == [result["provider"]["Arn"]]
    assert result["hosting"]["kind"] == "s3" and result["hosting"]["bucket"] == BUCKET
    assert result["hosting"]["settings"]["public_access_block"] == OPEN_BPA
    assert aws.count("iam.ListOpenIDConnectProviders") == 1 and aws.count("iam.GetRole") == 1


def test_call_count_is_constant_plus_one_per_role_and_roles_are_deduplicated():
    aws = FakeAws()
    arn = healthy_s3(aws)
    baseline = len(run(aws, roles=[{"role_arn": arn}]) and aws.calls)
    roles = [{"role_arn": aws.add_role("r%d" % i, ccoctl_trust(aws.add_provider(HP), HP, [SA]))} for i in range(10)]
    aws.calls[:] = []
    result = run(aws, roles=roles + roles + [{"role_arn": arn, "service_accounts": [SA]}, {"role_arn": arn}])
    assert len(result["roles"]) == 11
    assert len(aws.calls) == baseline + 10
    assert aws.count("iam.GetRole") == 11
    assert aws.count("s3.GetBucketPolicy") == 1 and aws.count("s3control.GetPublicAccessBlock") == 1


# ---------------------------------------------------------------- IAM provider
def test_provider_missing_lists_near_misses():
    aws = FakeAws()
    aws.add_provider(HP + "/")
    aws.add_provider("other.example.com")
    aws.add_bucket(BUCKET, "us-east-2", bpa=dict(OPEN_BPA), policy=ccoctl_public_policy(BUCKET))
    result = run(aws)
    item = only(result, "OIDC_PROVIDER_MISSING")
    assert item["severity"] == "error" and item["subject"] == ISSUER
    assert item["expected"] == "an IAM OIDC provider with Url %s" % HP
    assert item["actual"] == [HP + "/", "other.example.com"]
    assert "ends with '/'" in item["message"]
    assert result["provider"]["Arn"] is None and result["provider"]["near_misses"] == [HP + "/"]
    assert aws.count("iam.GetOpenIDConnectProvider") == 0


def test_provider_missing_in_empty_account_uses_caller_identity_for_account_bpa():
    aws = FakeAws()
    aws.add_bucket(BUCKET, "us-east-2", bpa=dict(OPEN_BPA), policy=ccoctl_public_policy(BUCKET))
    aws.account_bpa = dict(BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=True, RestrictPublicBuckets=True)
    result = run(aws)
    assert only(result, "OIDC_PROVIDER_MISSING")["actual"] == "no IAM OIDC provider in the account"
    assert aws.count("sts.GetCallerIdentity") == 1
    item = only(result, "ISSUER_BUCKET_PRIVATE")
    assert item["actual"].startswith("account BPA RestrictPublicBuckets=true")


def test_provider_audience_missing():
    aws = FakeAws()
    aws.add_provider(HP, client_ids=["sts.amazonaws.com"], thumbprints=["A" * 40])
    aws.add_bucket(BUCKET, "us-east-2", bpa=dict(OPEN_BPA), policy=ccoctl_public_policy(BUCKET))
    result = run(aws)
    item = only(result, "OIDC_PROVIDER_AUDIENCE_MISSING")
    assert item["expected"] == "openshift in ClientIDList" and item["actual"] == ["sts.amazonaws.com"]
    assert "Incorrect token audience" in item["message"]
    assert result["provider"]["ThumbprintList"] == ["A" * 40]
    assert run(aws, audience="sts.amazonaws.com")["findings"] == []


# ---------------------------------------------------------------- roles
def test_role_not_found():
    aws = FakeAws()
    healthy_s3(aws)
    missing = "arn:aws:iam::%s:role/path/gone" % ACCOUNT
    result = run(aws, roles=[{"role_arn": missing, "service_accounts": [SA]}])
    item = only(result, "ROLE_NOT_FOUND")
    assert item["subject"] == missing and item["actual"] == "NoSuchEntity: role gone not found"
    assert result["roles"][0]["exists"] is False


def test_role_trusts_old_provider():
    aws = FakeAws()
    healthy_s3(aws)
    old = "arn:aws:iam::%s:oidc-provider/old-oidc.s3.us-east-1.amazonaws.com" % ACCOUNT
    role = aws.add_role("moved", ccoctl_trust(old, "old-oidc.s3.us-east-1.amazonaws.com", [SA]))
    item = only(run(aws, roles=[{"role_arn": role, "service_accounts": [SA]}]), "ROLE_TRUST_PROVIDER_MISMATCH")
    assert item["expected"] == "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, HP)
    assert item["actual"] == [old]


def test_role_subject_mismatch_and_url_encoded_policy():
    aws = FakeAws()
    healthy_s3(aws)
    role = aws.add_role("encoded", quote(json.dumps(ccoctl_trust(PROVIDER, HP, [SA2]))))
    result = run(aws, roles=[{"role_arn": role, "service_accounts": [SA, SA2]}])
    item = only(result, "ROLE_TRUST_SUBJECT_MISMATCH")
    assert SA in item["message"] and SA in item["expected"]
    assert item["actual"] == [{"StringEquals": {HP + ":sub": [SA2]}}]
    assert result["roles"][0]["service_accounts"] == [{"subject": SA, "allowed": False, "reason": item["message"].split(": ", 1)[1][:-1]},
                                                      {"subject": SA2, "allowed": True, "reason": None}]


def test_role_explicit_deny_is_a_subject_mismatch():
    aws = FakeAws()
    healthy_s3(aws)
    arn = PROVIDER
    document = ccoctl_trust(arn, HP, [SA])
    document["Statement"].append({"Sid": "NoRegistry", "Effect": "Deny", "Principal": {"Federated": arn},
                                  "Action": "sts:AssumeRoleWithWebIdentity",
                                  "Condition": {"StringLike": {HP + ":sub": "*:registry"}}})
    item = only(run(aws, roles=[{"role_arn": aws.add_role("deny", document), "service_accounts": [SA]}]),
                "ROLE_TRUST_SUBJECT_MISMATCH")
    assert "NoRegistry" in item["message"] and item["actual"]["deny"][0]["Sid"] == "NoRegistry"


def test_role_audience_mismatch():
    aws = FakeAws()
    healthy_s3(aws)
    arn = PROVIDER
    document = ccoctl_trust(arn, HP, [SA])
    document["Statement"][0]["Condition"]["StringEquals"][HP + ":aud"] = "sts.amazonaws.com"
    result = run(aws, roles=[{"role_arn": aws.add_role("eks-style", document), "service_accounts": [SA]}])
    assert codes(result) == ["ROLE_TRUST_AUDIENCE_MISMATCH"]
    item = result["findings"][0]
    assert item["actual"] == [{"StringEquals": {HP + ":aud": "sts.amazonaws.com"}}]
    assert "openshift" in item["expected"]


# ---------------------------------------------------------------- S3 hosting
@pytest.mark.parametrize("account_bpa, bucket_bpa, policy, expected", [
    (dict(RestrictPublicBuckets=True), OPEN_BPA, "public", "account BPA RestrictPublicBuckets=true"),
    (None, dict(OPEN_BPA, RestrictPublicBuckets=True), "public", "bucket BPA RestrictPublicBuckets=true"),
    (None, dict(OPEN_BPA, BlockPublicPolicy=True), None, "no public grant"),
    (None, OPEN_BPA, "deny", "explicit deny"),
])
def test_bucket_private_names_the_setting(account_bpa, bucket_bpa, policy, expected):
    aws = FakeAws()
    aws.add_provider(HP)
    document = ccoctl_public_policy(BUCKET) if policy else None
    if policy == "deny":
        document["Statement"].append({"Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                      "Resource": "arn:aws:s3:::%s/*" % BUCKET})
    aws.add_bucket(BUCKET, "us-east-2", bpa=bucket_bpa, policy=document)
    aws.account_bpa = account_bpa
    result = run(aws)
    item = only(result, "ISSUER_BUCKET_PRIVATE")
    assert item["subject"] == "s3://%s/" % BUCKET
    assert item["actual"].startswith(expected), item["actual"]
    assert expected.split(" Restrict")[0] in item["message"]
    assert "keys.json" in item["expected"]
    if expected == "no public grant":
        assert "bucket BPA BlockPublicPolicy=true would also reject" in item["actual"]


def test_public_read_acl_with_and_without_ignore_public_acls():
    aws = FakeAws()
    aws.add_provider(HP)
    objects = {".well-known/openid-configuration": [public_read_grant()], "keys.json": [public_read_grant()]}
    aws.add_bucket(BUCKET, "us-east-2", bpa={}, ownership="ObjectWriter", objects=objects)
    assert run(aws)["findings"] == []
    aws.buckets[BUCKET]["bpa"] = dict(IgnorePublicAcls=True)
    item = only(run(aws), "ISSUER_BUCKET_PRIVATE")
    assert item["actual"].startswith("bucket BPA IgnorePublicAcls=true: it ignores the public-read ACL")


def test_bucket_not_found_and_path_style_issuer():
    aws = FakeAws()
    aws.add_provider("s3.us-east-2.amazonaws.com/" + BUCKET)
    result = run(aws, issuer="https://s3.us-east-2.amazonaws.com/" + BUCKET)
    item = only(result, "ISSUER_BUCKET_NOT_FOUND")
    assert item["actual"] == "NoSuchBucket: " + BUCKET
    assert result["hosting"]["endpoint"] == "path" and result["hosting"]["bucket"] == BUCKET


def test_access_denied_becomes_permission_finding_and_the_rest_goes_on():
    aws = FakeAws()
    role = healthy_s3(aws)
    aws.denied.update(["s3.GetBucketPolicyStatus", "iam.GetOpenIDConnectProvider"])
    result = run(aws, roles=[{"role_arn": role, "service_accounts": [SA]}])
    permissions = [item for item in result["findings"] if item["code"] == "AWS_PERMISSION_MISSING"]
    named = sorted(item["expected"].split()[1] for item in permissions)
    assert named == ["iam:GetOpenIDConnectProvider", "s3:GetBucketPolicyStatus"]
    assert all(item["severity"] == "warning" and item["actual"].startswith("AccessDenied") for item in permissions)
    assert result["ok"] is True and result["complete"] is False
    assert result["roles"][0]["trust_ok"] is True


def test_other_error_becomes_inspection_failed(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)  # InternalError is retried with backoff
    aws = FakeAws()
    healthy_s3(aws)
    aws.errors["s3.GetBucketAcl"] = "InternalError"
    item = only(run(aws), "AWS_INSPECTION_FAILED")
    assert item["actual"].startswith("InternalError") and "s3:GetBucketAcl" in item["message"]
    assert aws.count("s3.GetBucketAcl") > 1


def test_no_credentials_gives_a_single_info_finding():
    aws = FakeAws()
    healthy_s3(aws)
    aws.no_credentials = True
    result = run(aws, roles=[{"role_arn": "arn:aws:iam::%s:role/r" % ACCOUNT}])
    assert codes(result) == ["AWS_CREDENTIALS_MISSING"]
    item = result["findings"][0]
    assert item["severity"] == "info"
    assert "the trust policy of arn:aws:iam::%s:role/r" % ACCOUNT in item["actual"]
    assert any("S3 bucket %s" % BUCKET in line for line in item["actual"])
    assert result["ok"] is False and result["inspected"] is False
    assert len(aws.calls) == 1


# ---------------------------------------------------------------- CloudFront hosting
def cloudfront_setup(aws, dist_id="E2OAC", oac="OAC1", oai=None, origin=None, region="us-east-2", policy="oac", **kwargs):
    dist = aws.add_distribution(dist_id, origin or "%s.s3.%s.amazonaws.com" % (BUCKET, region), oac=oac, oai=oai, **kwargs)
    host = dist["DomainName"]
    aws.add_provider(host)
    document = {"oac": lambda: oac_policy(BUCKET, dist["ARN"]), "oai": lambda: oai_policy(BUCKET, "E3OAI"),
                None: lambda: None}[policy]()
    aws.add_bucket(BUCKET, region, policy=document)
    return "https://" + host, dist


def test_cloudfront_with_oac_is_healthy():
    aws = FakeAws()
    issuer, dist = cloudfront_setup(aws)
    result = run(aws, issuer=issuer)
    assert result["findings"] == []
    assert result["hosting"]["kind"] == "cloudfront" and result["hosting"]["bucket"] == BUCKET
    assert result["hosting"]["distribution"]["arn"] == dist["ARN"]
    assert result["hosting"]["distribution"]["origins"][0]["origin_access_control_id"] == "OAC1"


def test_cloudfront_disabled_and_not_deployed():
    aws = FakeAws()
    issuer, dummy = cloudfront_setup(aws, enabled=False, status="InProgress")
    result = run(aws, issuer=issuer)
    assert only(result, "CLOUDFRONT_DISABLED")["actual"] == "Enabled false"
    item = only(result, "CLOUDFRONT_NOT_DEPLOYED")
    assert item["actual"] == "Status InProgress" and item["severity"] == "warning"


def test_cloudfront_origin_on_global_endpoint():
    aws = FakeAws()
    issuer, dummy = cloudfront_setup(aws, origin=BUCKET + ".s3.amazonaws.com")
    item = only(run(aws, issuer=issuer), "CLOUDFRONT_ORIGIN_GLOBAL_ENDPOINT")
    assert item["expected"] == HP and item["actual"] == BUCKET + ".s3.amazonaws.com"
    aws2 = FakeAws()
    issuer2, dummy = cloudfront_setup(aws2, origin=BUCKET + ".s3.amazonaws.com", region="us-east-1")
    assert run(aws2, issuer=issuer2)["findings"] == []


def test_cloudfront_oac_grant_for_another_distribution():
    aws = FakeAws()
    issuer, dist = cloudfront_setup(aws)
    aws.buckets[BUCKET]["policy"] = oac_policy(BUCKET, dist["ARN"].replace("E2OAC", "EOTHER"))
    item = only(run(aws, issuer=issuer), "CLOUDFRONT_ORIGIN_ACCESS_MISSING")
    assert "with AWS:SourceArn %s" % dist["ARN"] in item["actual"]
    assert "EOTHER" in item["actual"]
    assert dist["ARN"] in item["expected"]


def test_cloudfront_oac_grant_with_arnlike_and_origin_path():
    aws = FakeAws()
    issuer, dist = cloudfront_setup(aws, origin_path="/cluster1")
    document = oac_policy(BUCKET, dist["ARN"])
    document["Statement"][0]["Resource"] = "arn:aws:s3:::%s/cluster1/*" % BUCKET
    document["Statement"][0]["Condition"] = {"ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::%s:distribution/*" % ACCOUNT}}
    aws.buckets[BUCKET]["policy"] = document
    assert run(aws, issuer=issuer)["findings"] == []
    document["Statement"][0]["Resource"] = "arn:aws:s3:::%s/other/*" % BUCKET
    assert "CLOUDFRONT_ORIGIN_ACCESS_MISSING" in codes(run(aws, issuer=issuer))


def test_cloudfront_without_origin_access_on_private_bucket():
    aws = FakeAws()
    issuer, dummy = cloudfront_setup(aws, oac="", policy=None)
    item = only(run(aws, issuer=issuer), "CLOUDFRONT_ORIGIN_ACCESS_MISSING")
    assert item["actual"].startswith("the origin has neither origin access control nor an origin access identity")


def test_cloudfront_oai_with_kms():
    aws = FakeAws()
    issuer, dummy = cloudfront_setup(aws, oac="", oai="origin-access-identity/cloudfront/E3OAI", policy="oai")
    assert run(aws, issuer=issuer)["findings"] == []
    aws.buckets[BUCKET].update(encryption="aws:kms", kms_key="arn:aws:kms:us-east-2:%s:key/k1" % ACCOUNT)
    item = only(run(aws, issuer=issuer), "CLOUDFRONT_OAI_WITH_KMS")
    assert "aws:kms" in item["actual"] and "key/k1" in item["actual"]


def test_cloudfront_oai_missing_grant():
    aws = FakeAws()
    issuer, dummy = cloudfront_setup(aws, oac="", oai="origin-access-identity/cloudfront/E3OAI", policy=None)
    item = only(run(aws, issuer=issuer), "CLOUDFRONT_ORIGIN_ACCESS_MISSING")
    assert "origin access identity E3OAI" in item["actual"]


def test_custom_domain_found_among_aliases_and_unknown_hosts():
    aws = FakeAws()
    dummy, dist = cloudfront_setup(aws, aliases=["oidc.example.com"])
    aws.add_provider("oidc.example.com")
    result = run(aws, issuer="https://oidc.example.com")
    assert result["findings"] == [] and result["hosting"]["kind"] == "cloudfront"
    other = run(aws, issuer="https://issuer.example.org")
    item = [entry for entry in other["findings"] if entry["code"] == "HOSTING_NOT_INSPECTED"][0]
    assert item["severity"] == "info" and item["actual"] == "host issuer.example.org"
    gone = run(aws, issuer="https://d0000000000000.cloudfront.net")
    item = [entry for entry in gone["findings"] if entry["code"] == "HOSTING_NOT_INSPECTED"][0]
    assert item["severity"] == "warning"


def test_invalid_issuer_url():
    aws = FakeAws()
    result = run(aws, issuer="http://example.com/")
    assert codes(result) == ["ISSUER_URL_INVALID"] and result["inspected"] is False
    assert aws.calls == []


# ---------------------------------------------------------------- host names, clients
@pytest.mark.parametrize("host, path, expected", [
    ("b.s3.us-east-2.amazonaws.com", "", {"bucket": "b", "region": "us-east-2", "prefix": "", "endpoint": "virtual"}),
    ("b.s3-us-west-1.amazonaws.com", "/p", {"bucket": "b", "region": "us-west-1", "prefix": "p/", "endpoint": "virtual"}),
    ("b.s3.amazonaws.com", "", {"bucket": "b", "region": None, "prefix": "", "endpoint": "global"}),
    ("b.s3.cn-north-1.amazonaws.com.cn", "", {"bucket": "b", "region": "cn-north-1", "prefix": "", "endpoint": "virtual"}),
    ("s3.eu-west-1.amazonaws.com", "/b/x/y", {"bucket": "b", "region": "eu-west-1", "prefix": "x/y/", "endpoint": "path"}),
    ("b.s3-website-us-east-1.amazonaws.com", "", {"bucket": "b", "region": "us-east-1", "prefix": "", "endpoint": "website"}),
    ("my.dotted.bucket.s3.us-east-1.amazonaws.com", "",
     {"bucket": "my.dotted.bucket", "region": "us-east-1", "prefix": "", "endpoint": "virtual"}),
    ("d111.cloudfront.net", "", None),
    ("s3.us-east-1.amazonaws.com", "", None),
])
def test_parse_s3_host(host, path, expected):
    assert H.parse_s3_host(host, path) == expected


def test_clients_count_calls_and_strip_account_prefix_for_ip_endpoints():
    def connect(service, region):
        return boto3.client(service, region_name=region, endpoint_url="http://127.0.0.1:9", aws_access_key_id="AKIAFAKE",
                            aws_secret_access_key="fake")
    clients = T.Clients(connect, "us-east-1")
    s3control = clients("s3control")
    assert clients("s3control", "us-east-1") is s3control
    seen = []
    s3control.meta.events.register("before-send.s3-control.*", lambda request, **kw: seen.append(request.url))
    with Stubber(s3control) as stub:
        stub.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}},
                          {"AccountId": ACCOUNT})
        assert H.get_account_public_access_block(s3control, ACCOUNT) == {"BlockPublicAcls": True}
    assert clients.counts == {"s3control.GetPublicAccessBlock": 1}
    assert T._strip_account_prefix.__doc__  # pylint: disable=protected-access

    class Request:
        url = "http://%s.127.0.0.1:9/v20180820/configuration/publicAccessBlock" % ACCOUNT
    request = Request()
    T._strip_account_prefix(request)  # pylint: disable=protected-access
    assert request.url == "http://127.0.0.1:9/v20180820/configuration/publicAccessBlock"
    request.url = "https://%s.s3-control.us-east-1.amazonaws.com/v20180820/x" % ACCOUNT
    T._strip_account_prefix(request)  # pylint: disable=protected-access
    assert request.url.startswith("https://%s.s3-control" % ACCOUNT)


def test_stubbed_iam_client_through_inspect_trust():
    """Real botocore IAM client (Stubber): the URL-decoded, JSON-parsed trust policy botocore returns."""
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="AKIAFAKE", aws_secret_access_key="fake")
    aws = FakeAws()
    provider = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, HP)
    aws.add_bucket(BUCKET, "us-east-2", bpa=dict(OPEN_BPA), policy=ccoctl_public_policy(BUCKET))

    def clients(service, region=None):
        return iam if service == "iam" else aws.clients(service, region)
    role_arn = "arn:aws:iam::%s:role/r" % ACCOUNT
    with Stubber(iam) as stub:
        stub.add_response("list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": provider}]})
        stub.add_response("get_open_id_connect_provider", {"Url": HP, "ClientIDList": ["openshift"], "ThumbprintList": []},
                          {"OpenIDConnectProviderArn": provider})
        stub.add_response("get_role", {"Role": {
            "Path": "/", "RoleName": "r", "RoleId": "AROAEXAMPLEEXAMPLE01", "Arn": role_arn,
            "CreateDate": "2024-01-01T00:00:00Z",
            "AssumeRolePolicyDocument": json.dumps(ccoctl_trust(provider, HP, [SA2]))}}, {"RoleName": "r"})
        result = T.inspect_trust(clients, ISSUER, T.normalize_roles([{"role_arn": role_arn, "service_accounts": [SA]}]),
                                 "openshift", "us-east-2")
        stub.assert_no_pending_responses()
    assert codes(result) == ["ROLE_TRUST_SUBJECT_MISMATCH"]


def test_normalize_roles_rejects_bad_input():
    with pytest.raises(ValueError):
        T.normalize_roles([{"role_arn": "arn:aws:iam::1:role/x"}])
    with pytest.raises(ValueError):
        T.normalize_roles([{"role_arn": "arn:aws:iam::%s:role/x" % ACCOUNT, "service_accounts": ["ns/sa"]}])


def test_near_miss_in_case_is_named():
    aws = FakeAws()
    aws.add_provider(HP.upper())
    aws.add_bucket(BUCKET, "us-east-2", bpa=dict(OPEN_BPA), policy=ccoctl_public_policy(BUCKET))
    item = only(run(aws), "OIDC_PROVIDER_MISSING")
    assert "differs in case" in item["message"] and item["actual"] == [HP.upper()]


def test_cloudfront_non_s3_origin_and_cache_behaviour():
    aws = FakeAws()
    issuer, dist = cloudfront_setup(aws)
    config = dist["DistributionConfig"]
    config["Origins"]["Items"].append({"Id": "web", "DomainName": "origin.example.com", "OriginPath": ""})
    config["CacheBehaviors"] = {"Quantity": 1, "Items": [{"PathPattern": "*.json", "TargetOriginId": "web"}]}
    result = run(aws, issuer=issuer)
    item = only(result, "HOSTING_NOT_INSPECTED")
    assert item["actual"] == "origin domain origin.example.com"
    assert [origin["id"] for origin in result["hosting"]["distribution"]["origins"]] == ["origin1", "web"]


def test_cloudfront_oai_granted_by_canonical_user():
    aws = FakeAws()
    issuer, dummy = cloudfront_setup(aws, oac="", oai="origin-access-identity/cloudfront/E3OAI", policy=None)
    aws.oais["E3OAI"] = "f" * 96
    aws.buckets[BUCKET]["policy"] = {"Statement": [{"Effect": "Allow", "Principal": {"CanonicalUser": "f" * 96},
                                                    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % BUCKET}]}
    assert run(aws, issuer=issuer)["findings"] == []
    assert aws.count("cloudfront.GetCloudFrontOriginAccessIdentity") == 1
