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
