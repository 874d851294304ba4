"""STS AssumeRoleWithWebIdentity as AWS validates it (field notes §2.3, §2.4)."""

import concurrent.futures
import json

import boto3
import botocore
import botocore.exceptions
import pytest
from botocore.config import Config

from lab.oidc import SigningKey

COULDNT = ("Couldn't retrieve verification key from your identity provider,  please reference "
           "AssumeRoleWithWebIdentity documentation for requirements")
SUB = "system:serviceaccount:openshift-machine-api:machine-api-controllers"


def _assume(aws_lab, role_arn, token, **kwargs):
    sts = aws_lab.client("sts", unsigned=True)
    return sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="lab-test", WebIdentityToken=token,
                                             **kwargs)


def _error(aws_lab, role_arn, token, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        _assume(aws_lab, role_arn, token, **kwargs)
    return error.value


def _invalid(aws_lab, role_arn, token, message):
    error = _error(aws_lab, role_arn, token)
    assert type(error).__name__ == "InvalidIdentityTokenException"
    assert error.response["Error"]["Code"] == "InvalidIdentityToken"
    assert error.response["Error"]["Message"] == message
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_success_returns_credentials_and_web_identity_fields(aws_lab, issuer):
    issuer.publish()
    role = issuer.role()
    result = _assume(aws_lab, role, issuer.token())
    assert result["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert result["SubjectFromWebIdentityToken"] == SUB
    assert result["Audience"] == "openshift"
    assert result["Provider"] == issuer.provider_arn
    assert result["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/machine-api/lab-test"
    fetched = [r["path"] for r in aws_lab.log.entries(kind="fetch")]
    assert fetched == ["/.well-known/openid-configuration", "/keys.json"]


def test_no_credentials_needed(aws_lab, issuer, monkeypatch, tmp_path):
    issuer.publish()
    role = issuer.role()
    token = issuer.token()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    sts = boto3.session.Session(region_name="us-east-1").client("sts", endpoint_url=aws_lab.endpoint_url)
    result = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="bare", WebIdentityToken=token)
    assert result["Provider"] == issuer.provider_arn
    record = aws_lab.log.entries(kind="api", operation="AssumeRoleWithWebIdentity")[-1]
    assert record["caller"] == "anonymous"


def test_not_a_jwt(aws_lab, issuer):
    issuer.publish()
    message = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
    _invalid(aws_lab, issuer.role(), "not-a-jwt-at-all", message)
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    payload = "eyJpc3MiOiJodHRwczovL3gifQ"
    _invalid(aws_lab, "arn:aws:iam::123456789012:role/machine-api", f"{header}.{payload}.", message)


def test_no_provider_for_issuer_is_exact_match(aws_lab, issuer):
    issuer.publish()
    role = issuer.role()
    _invalid(aws_lab, role, issuer.token(issuer=issuer.url + "/"),
             f"No OpenIDConnect provider found in your account for {issuer.url}/")


def test_incorrect_and_missing_audience(aws_lab, issuer):
    issuer.publish()
    role = issuer.role()
    _invalid(aws_lab, role, issuer.token(aud="sts.amazon.com"), "Incorrect token audience")
    _invalid(aws_lab, role, issuer.token(aud=None), "Missing a required claim: aud")


def test_private_bucket_couldnt_retrieve(aws_lab, issuer):
    issuer.publish(public=False)
    _invalid(aws_lab, issuer.role(), issuer.token(), COULDNT)
    assert [r["status"] for r in aws_lab.log.entries(kind="fetch")] == [403]


def test_unknown_kid_couldnt_retrieve(aws_lab, issuer):
    issuer.publish(jwks=SigningKey().jwks())
    _invalid(aws_lab, issuer.role(), issuer.token(), COULDNT)


def test_discovery_issuer_mismatch_couldnt_retrieve(aws_lab, issuer):
    issuer.publish()
    issuer.put_documents(issuer="https://elsewhere.example.com")
    _invalid(aws_lab, issuer.role(), issuer.token(), COULDNT)


def test_slow_identity_provider_couldnt_retrieve(aws_lab, issuer):
    issuer.publish()
    role = issuer.role()
    aws_lab.aws.sts.idp_timeout = 0.3
    aws_lab.faults.set_latency(issuer.host, 0.5)
    _invalid(aws_lab, role, issuer.token(), COULDNT)
    aws_lab.faults.set_latency(issuer.host, 0.05)
    assert _assume(aws_lab, role, issuer.token())["Audience"] == "openshift"


def test_default_idp_timeout_is_five_seconds(aws_lab):
    assert aws_lab.aws.sts.idp_timeout == 5.0


def test_more_than_100_keys_couldnt_retrieve(aws_lab, issuer):
    others = [SigningKey(algorithm="ES256") for dummy in range(100)]
    issuer.publish(jwks=issuer.key.jwks(*others))
    _invalid(aws_lab, issuer.role(), issuer.token(), COULDNT)
    issuer.put_documents(jwks=issuer.key.jwks(*others[:99]))
    assert _assume(aws_lab, issuer.role(name="second"), issuer.token())["Audience"] == "openshift"


def test_expired_token_uses_lab_clock(aws_lab, issuer):
    issuer.publish()
    role = issuer.role()
    token = issuer.token(lifetime=600)
    exp = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "==="))["exp"]
    aws_lab.clock.set(exp + 10, freeze=True)
    error = _error(aws_lab, role, token)
    assert type(error).__name__ == "ExpiredTokenException"
    assert error.response["Error"]["Message"] == (
        f"Token expired: current date/time {exp + 10} must be before the expiration date/time{exp}")


def test_trust_policy_subject_mismatch_is_access_denied(aws_lab, issuer):
    issuer.publish()
    role = issuer.role(subjects=["system:serviceaccount:other:sa"])
    error = _error(aws_lab, role, issuer.token())
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert error.response["Error"]["Message"] == "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_missing_role_is_access_denied(aws_lab, issuer):
    issuer.publish()
    error = _error(aws_lab, "arn:aws:iam::123456789012:role/does-not-exist", issuer.token())
    assert error.response["Error"]["Code"] == "AccessDenied"


def test_string_like_wildcard_and_aud_condition(aws_lab, issuer):
    issuer.publish()
    role = issuer.role(subjects=["system:serviceaccount:openshift-machine-api:*"], operator="StringLike")
    assert _assume(aws_lab, role, issuer.token())["SubjectFromWebIdentityToken"] == SUB
    strict = issuer.role(name="aud-bound", audience="sts.amazonaws.com")
    assert _error(aws_lab, strict, issuer.token()).response["Error"]["Code"] == "AccessDenied"
    assert _assume(aws_lab, strict, issuer.token(aud="sts.amazonaws.com"))["Audience"] == "sts.amazonaws.com"


def test_trust_policy_naming_another_provider_is_access_denied(aws_lab, make_issuer):
    old = make_issuer(bucket="old-oidc").publish()
    new = make_issuer(bucket="new-oidc", key=old.key).publish()
    role = old.role()
    assert _error(aws_lab, role, new.token()).response["Error"]["Code"] == "AccessDenied"


def test_duration_above_max_session_is_validation_error(aws_lab, issuer):
    issuer.publish()
    role = issuer.role(max_session=3600)
    error = _error(aws_lab, role, issuer.token(), DurationSeconds=7200)
    assert error.response["Error"]["Code"] == "ValidationError"
    assert error.response["Error"]["Message"] == \
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."


def test_es256_tokens_are_accepted(aws_lab, make_issuer):
    issuer = make_issuer(key=SigningKey(algorithm="ES256")).publish()
    assert _assume(aws_lab, issuer.role(), issuer.token())["Audience"] == "openshift"


def test_cloudfront_issuer_end_to_end(aws_lab, issuer):
    s3 = issuer.s3
    s3.create_bucket(Bucket=issuer.bucket)
    issuer.put_documents()
    cloudfront = aws_lab.client("cloudfront")
    oai = cloudfront.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
        "CallerReference": "demo", "Comment": "c"})["CloudFrontOriginAccessIdentity"]["Id"]
    s3.put_bucket_policy(Bucket=issuer.bucket, Policy=json.dumps({"Version": "2008-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {oai}"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{issuer.bucket}/*"}]}))
    dist = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "demo", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": issuer.host,
                                              "S3OriginConfig": {"OriginAccessIdentity":
                                                                 f"origin-access-identity/cloudfront/{oai}"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "https-only"}})["Distribution"]
    url = f"https://{dist['DomainName']}"
    issuer.put_documents(issuer=url)
    provider = aws_lab.client("iam").create_open_id_connect_provider(
        Url=url, ClientIDList=["openshift"], ThumbprintList=["A" * 40])["OpenIDConnectProviderArn"]
    issuer.provider_arn, issuer.host = provider, dist["DomainName"]
    result = _assume(aws_lab, issuer.role(), issuer.key.token(url, now=aws_lab.clock.now()))
    assert result["Provider"] == provider


def test_untrusted_certificate_couldnt_retrieve(aws_lab, issuer):
    issuer.publish()
    aws_lab.faults.set_untrusted_cert(issuer.host)
    _invalid(aws_lab, issuer.role(), issuer.token(), COULDNT)


def test_idp_communication_error_fault(aws_lab, issuer):
    issuer.publish()
    aws_lab.faults.inject("sts", "idp_communication", count=10)
    error = _error(aws_lab, issuer.role(), issuer.token())
    assert type(error).__name__ == "IDPCommunicationErrorException"
    # botocore retries IDPCommunicationError even with max_attempts=1 (field notes §2.4)
    attempts = aws_lab.log.entries(kind="api", operation="AssumeRoleWithWebIdentity")
    assert len(attempts) >= 1 and all(r["error"] == "IDPCommunicationError" for r in attempts)


def test_idp_rejected_claim_fault(aws_lab, issuer):
    """The idp_rejected_claim fault answers 403 IDPRejectedClaim (modeled by botocore) once per injection."""
    issuer.publish()
    role, token = issuer.role(), issuer.token()
    aws_lab.faults.inject("sts", "idp_rejected_claim", count=1)
    error = _error(aws_lab, role, token)
    assert type(error).__name__ == "IDPRejectedClaimException"
    assert error.response["Error"]["Code"] == "IDPRejectedClaim"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "reported that authentication failed" in error.response["Error"]["Message"]
    assert "Credentials" in _assume(aws_lab, role, token)


def test_hundred_concurrent_calls(aws_lab, issuer):
    issuer.publish()
    role = issuer.role()
    token = issuer.token()
    sts = aws_lab.client("sts", unsigned=True, max_attempts=1)
    sts.meta.config.max_pool_connections = 100

    def call(index):
        return sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName=f"s{index}",
                                                 WebIdentityToken=token)["Audience"]

    client_config = Config(max_pool_connections=100, retries={"total_max_attempts": 1},
                           signature_version=botocore.UNSIGNED)
    sts = boto3.session.Session(region_name="us-east-1").client("sts", endpoint_url=aws_lab.endpoint_url,
                                                                config=client_config)
    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(call, range(100)))
    assert results == ["openshift"] * 100
