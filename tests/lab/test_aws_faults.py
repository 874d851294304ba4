"""Faults, latency, the request log and the control API (issue 3 §4)."""

import json
import time

import botocore.exceptions
import pytest
import requests

from lab.control import LabControl

BUCKET = "lab-fault-test"


def test_throttling_next_n_calls_per_service(aws_lab):
    iam = aws_lab.client("iam")
    aws_lab.faults.inject("iam", "throttle", count=2)
    for dummy in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as error:
            iam.list_roles()
        assert error.value.response["Error"]["Code"] == "Throttling"
    iam.list_roles()
    aws_lab.faults.inject("iam", "throttle", count=2)
    aws_lab.client("iam", max_attempts=3).list_roles()  # botocore retries throttling
    statuses = [r["status"] for r in aws_lab.log.entries(kind="api", service="iam")]
    assert statuses == [400, 400, 200, 400, 400, 200]


def test_s3_throttling_is_slow_down_503(aws_lab):
    s3 = aws_lab.client("s3")
    aws_lab.faults.inject("s3", "throttle")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        s3.list_buckets()
    assert error.value.response["Error"]["Code"] == "SlowDown"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_cloudfront_5xx_and_sts_throttling(aws_lab):
    aws_lab.faults.inject("cloudfront", "error", error_status=503)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        aws_lab.client("cloudfront").list_distributions()
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    aws_lab.faults.inject("sts", "throttle")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        aws_lab.client("sts").get_caller_identity()
    assert error.value.response["Error"]["Code"] == "Throttling"


def test_connection_reset(aws_lab):
    aws_lab.faults.inject("iam", "reset")
    with pytest.raises((botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)):
        aws_lab.client("iam").list_roles()
    aws_lab.client("iam").list_roles()


def test_added_latency(aws_lab):
    aws_lab.faults.set_latency("iam", 0.3)
    start = time.monotonic()
    aws_lab.client("iam").list_roles()
    assert time.monotonic() - start >= 0.3


def _public_object(aws_lab):
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.delete_public_access_block(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    return f"https://{BUCKET}.s3.us-east-1.amazonaws.com/keys.json"


def test_internet_host_faults(aws_lab):
    url = _public_object(aws_lab)
    host = f"{BUCKET}.s3.us-east-1.amazonaws.com"
    aws_lab.faults.inject(host, "throttle")
    response = aws_lab.get(url)
    assert response.status_code == 503 and "<Code>SlowDown</Code>" in response.text
    aws_lab.faults.inject(host, "reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        aws_lab.get(url)
    aws_lab.faults.set_untrusted_cert(host)
    with pytest.raises(requests.exceptions.SSLError):
        aws_lab.get(url)
    aws_lab.faults.set_untrusted_cert(host, False)
    aws_lab.faults.set_latency("*.s3.us-east-1.amazonaws.com", 0.2)
    start = time.monotonic()
    assert aws_lab.get(url).status_code == 200
    assert time.monotonic() - start >= 0.2


def test_log_proves_bucket_never_public(aws_lab):
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    with pytest.raises(botocore.exceptions.ClientError):
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    for dummy in range(3):
        aws_lab.get(f"https://{BUCKET}.s3.amazonaws.com/keys.json")
    writes = aws_lab.log.entries(kind="api", operation="PutBucketPolicy", bucket=BUCKET)
    assert [(w["status"], w["error"]) for w in writes] == [(403, "AccessDenied")]
    reads = aws_lab.log.entries(kind="internet", caller="anonymous")
    assert len(reads) == 3 and all(r["status"] == 403 for r in reads)
    api_calls = aws_lab.log.entries(kind="api")
    assert [r["operation"] for r in api_calls] == ["CreateBucket", "PutObject", "PutBucketPolicy"]


def test_control_api_steers_the_lab(aws_lab):
    control = LabControl(aws_lab.env["LAB_CONTROL_URL"])
    assert control.health() == {"ok": True}
    assert control.env()["AWS_ENDPOINT_URL"] == aws_lab.endpoint_url
    control.fault("iam", throttle=1)
    with pytest.raises(botocore.exceptions.ClientError):
        aws_lab.client("iam").list_roles()
    entries = control.log(kind="api", service="iam")
    assert [e["error"] for e in entries] == ["Throttling"]
    before = aws_lab.clock.now()
    control.advance_clock(3600)
    assert aws_lab.clock.now() >= before + 3600
    control.register_host("issuer.example.com", {"/.well-known/openid-configuration": {"body": "{}"}})
    assert aws_lab.get("https://issuer.example.com/.well-known/openid-configuration").json() == {}
    assert aws_lab.get("https://issuer.example.com/missing").status_code == 404
    control.clear_faults()
    control.reset()
    assert aws_lab.client("iam").list_roles()["Roles"] == []


def test_unknown_host_is_refused_by_the_proxy(aws_lab):
    with pytest.raises(requests.exceptions.ProxyError):
        aws_lab.get("https://nothing.example.org/")


DENIED = "User: arn:aws:sts::123456789012:user/moto is not authorized to perform: {action}{where} because no identity-based policy allows the {action} action"


def _denied(call):
    """The AccessDenied error of ``call()`` as botocore parsed it: (code, message, HTTP status)."""
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call()
    response = error.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_deny_next_calls_of_a_service_in_each_protocol(aws_lab):
    """``deny`` answers 403 AccessDenied in the service's own error shape: query XML (IAM, STS), REST XML (CloudFront, S3)."""
    iam, cloudfront, s3 = aws_lab.client("iam"), aws_lab.client("cloudfront"), aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    caller = aws_lab.client("sts").get_caller_identity()["Arn"]
    assert caller == "arn:aws:sts::123456789012:user/moto"  # the principal the messages name
    aws_lab.faults.configure("iam", deny=2)
    assert _denied(iam.list_open_id_connect_providers) == (
        "AccessDenied", DENIED.format(action="iam:ListOpenIDConnectProviders", where=""), 403)
    assert _denied(lambda: iam.get_role(RoleName="machine-api")) == (
        "AccessDenied", DENIED.format(action="iam:GetRole", where=" on resource: arn:aws:iam::123456789012:role/machine-api"), 403)
    iam.list_roles()  # only the next two calls
    aws_lab.faults.configure("cloudfront", deny=1)
    assert _denied(cloudfront.list_distributions) == (
        "AccessDenied", DENIED.format(action="cloudfront:ListDistributions", where=""), 403)
    aws_lab.faults.configure("s3", deny=1)
    assert _denied(lambda: s3.get_bucket_policy(Bucket=BUCKET)) == (
        "AccessDenied", DENIED.format(action="s3:GetBucketPolicy", where=f' on resource: "arn:aws:s3:::{BUCKET}"'), 403)
    aws_lab.faults.configure("sts", deny=1)
    assert _denied(lambda: aws_lab.client("sts").get_session_token()) == (
        "AccessDenied", DENIED.format(action="sts:GetSessionToken", where=""), 403)
    records = aws_lab.log.entries(kind="api", status=403)
    assert [(r["operation"], r["error"], r["detail"]) for r in records] == [
        ("ListOpenIDConnectProviders", "AccessDenied", "fault"), ("GetRole", "AccessDenied", "fault"),
        ("ListDistributions", "AccessDenied", "fault"), ("GetBucketPolicy", "AccessDenied", "fault"),
        ("GetSessionToken", "AccessDenied", "fault")]
    assert aws_lab.faults.snapshot()["iam"]["queue"] == []


def test_deny_raw_error_bodies(aws_lab):
    """The bodies are the real shapes: ErrorResponse with the service namespace (IAM/STS/CloudFront), <Error> for S3."""
    signed = aws_lab.client("iam")
    aws_lab.faults.configure("iam", deny=1)
    raw = []
    signed.meta.events.register("after-call.iam.ListRoles", lambda http_response, **_kw: raw.append(http_response.text))
    with pytest.raises(botocore.exceptions.ClientError):
        signed.list_roles()
    assert raw[0].startswith('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
                             "<Code>AccessDenied</Code><Message>User: ")
    assert "<RequestId>" in raw[0]
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    aws_lab.faults.configure("s3", deny=1)
    raw.clear()
    s3.meta.events.register("after-call.s3.GetBucketAcl", lambda http_response, **_kw: raw.append(http_response.text))
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_bucket_acl(Bucket=BUCKET)
    assert raw[0].startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>User: ')
    assert "<HostId>" in raw[0]


def test_deny_one_operation_by_its_iam_action(aws_lab):
    """A target naming an IAM action denies that call only; the service's other calls go through."""
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.delete_public_access_block(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    control = LabControl(aws_lab.env["LAB_CONTROL_URL"])
    control.fault("s3:GetBucketPolicyStatus", deny=1)
    control.fault("s3:GetEncryptionConfiguration", deny=1)  # the IAM action of GetBucketEncryption
    control.fault("s3:GetAccountPublicAccessBlock", deny=1)  # s3control's GetPublicAccessBlock
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    assert _denied(lambda: s3.get_bucket_policy_status(Bucket=BUCKET)) == (
        "AccessDenied", DENIED.format(action="s3:GetBucketPolicyStatus", where=f' on resource: "arn:aws:s3:::{BUCKET}"'), 403)
    assert s3.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"] is True  # one call only
    assert _denied(lambda: s3.get_bucket_encryption(Bucket=BUCKET))[1] == DENIED.format(
        action="s3:GetEncryptionConfiguration", where=f' on resource: "arn:aws:s3:::{BUCKET}"')
    s3control = aws_lab.client("s3control")
    assert _denied(lambda: s3control.get_public_access_block(AccountId="123456789012")) == (
        "AccessDenied", DENIED.format(action="s3:GetAccountPublicAccessBlock", where=""), 403)
    control.fault("iam:Get*", deny=1)  # wildcards, as for hosts
    aws_lab.client("iam").list_roles()
    assert _denied(lambda: aws_lab.client("iam").get_role(RoleName="x"))[0] == "AccessDenied"
    assert control.call("GET", "faults")["s3:GetBucketPolicyStatus"]["queue"] == []


def test_deny_spares_get_caller_identity_and_unsigned_calls(aws_lab):
    """As in AWS: GetCallerIdentity needs no permission, and an identity-based policy cannot deny an unsigned call."""
    aws_lab.faults.configure("sts", deny=1)
    assert aws_lab.client("sts").get_caller_identity()["Account"] == "123456789012"
    with pytest.raises(botocore.exceptions.ClientError) as error:  # unsigned: the web identity is checked, not the deny
        aws_lab.client("sts", unsigned=True).assume_role_with_web_identity(
            RoleArn="arn:aws:iam::123456789012:role/none", RoleSessionName="probe", WebIdentityToken="not-a-jwt")
    assert error.value.response["Error"]["Code"] == "InvalidIdentityToken"
    assert aws_lab.faults.snapshot()["sts"]["queue"] == ["deny"]  # still waiting for a signed call
    with pytest.raises(ValueError):
        aws_lab.faults.inject("sts", "forbid")
