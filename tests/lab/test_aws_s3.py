"""S3 as real AWS behaves (field notes §4, §9.2): API refusals and anonymous reads."""

import json

import botocore.exceptions
import pytest

BUCKET = "lab-s3-test"


def _policy(bucket, statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _public(bucket):
    return {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}


def _open_bucket(s3, bucket=BUCKET, **flags):
    s3.create_bucket(Bucket=bucket)
    config = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
              "RestrictPublicBuckets": False}
    config.update(flags)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=config)


def _error_code(response):
    return response.text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def test_new_bucket_has_april_2023_defaults(aws_lab):
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    rules = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_create_bucket_with_public_acl_is_refused(aws_lab):
    s3 = aws_lab.client("s3")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        s3.create_bucket(Bucket=BUCKET, ACL="public-read")
    assert error.value.response["Error"]["Code"] == "InvalidBucketAclWithObjectOwnership"


def test_anonymous_get_of_private_object_is_403_with_access_denied_xml(aws_lab):
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    response = aws_lab.get(f"https://{BUCKET}.s3.us-east-1.amazonaws.com/keys.json")
    assert response.status_code == 403
    assert _error_code(response) == "AccessDenied"
    assert "<Message>Access Denied</Message>" in response.text


def test_public_policy_under_block_public_policy_is_refused_and_reads_stay_403(aws_lab):
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [_public(BUCKET)]))
    assert error.value.response["Error"]["Code"] == "AccessDenied"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(botocore.exceptions.ClientError) as error:
        s3.get_bucket_policy(Bucket=BUCKET)
    assert error.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    assert aws_lab.get(f"https://{BUCKET}.s3.amazonaws.com/keys.json").status_code == 403


def test_account_level_block_public_policy_refuses_public_policy(aws_lab):
    s3 = aws_lab.client("s3")
    _open_bucket(s3)
    control = aws_lab.client("s3control")
    control.put_public_access_block(AccountId="123456789012", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": False})
    with pytest.raises(botocore.exceptions.ClientError) as error:
        s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [_public(BUCKET)]))
    assert error.value.response["Error"]["Code"] == "AccessDenied"


def test_public_policy_without_bpa_serves_object_with_stored_content_type(aws_lab):
    s3 = aws_lab.client("s3")
    _open_bucket(s3)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [_public(BUCKET)]))
    s3.put_object(Bucket=BUCKET, Key=".well-known/openid-configuration", Body=b'{"a": 1}',
                  ContentType="application/json")
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b'{"keys": []}')
    response = aws_lab.get(f"https://{BUCKET}.s3.us-east-1.amazonaws.com/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"a": 1}
    untyped = aws_lab.get(f"https://s3.us-east-1.amazonaws.com/{BUCKET}/keys.json")
    assert untyped.status_code == 200
    assert untyped.headers["Content-Type"] == "binary/octet-stream"
    assert aws_lab.client("s3").get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"] is True


def test_restrict_public_buckets_neutralises_an_existing_public_policy(aws_lab):
    s3 = aws_lab.client("s3")
    _open_bucket(s3)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [_public(BUCKET)]))
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    url = f"https://{BUCKET}.s3.amazonaws.com/keys.json"
    assert aws_lab.get(url).status_code == 200
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    assert aws_lab.get(url).status_code == 403


def test_account_level_restrict_public_buckets_neutralises_too(aws_lab):
    s3 = aws_lab.client("s3")
    _open_bucket(s3)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [_public(BUCKET)]))
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    aws_lab.client("s3control").put_public_access_block(AccountId="123456789012", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    assert aws_lab.get(f"https://{BUCKET}.s3.amazonaws.com/keys.json").status_code == 403


def test_public_read_acl_served_unless_ignore_public_acls(aws_lab):
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}", ACL="public-read")
    url = f"https://{BUCKET}.s3.amazonaws.com/keys.json"
    assert aws_lab.get(url).status_code == 200
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    assert aws_lab.get(url).status_code == 403


def test_block_public_acls_refuses_public_acl_writes(aws_lab):
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET, ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    for call in (lambda: s3.put_object_acl(Bucket=BUCKET, Key="keys.json", ACL="public-read"),
                 lambda: s3.put_object(Bucket=BUCKET, Key="k2", Body=b"{}", ACL="public-read"),
                 lambda: s3.put_bucket_acl(Bucket=BUCKET, ACL="public-read")):
        with pytest.raises(botocore.exceptions.ClientError) as error:
            call()
        assert error.value.response["Error"]["Code"] == "AccessDenied"
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_bucket_owner_enforced_refuses_acls(aws_lab):
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.delete_public_access_block(Bucket=BUCKET)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}", ACL="public-read")
    assert error.value.response["Error"]["Code"] == "AccessControlListNotSupported"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}", ACL="bucket-owner-full-control")


def test_explicit_deny_wins_over_public_allow(aws_lab):
    s3 = aws_lab.client("s3")
    _open_bucket(s3)
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [_public(BUCKET), deny]))
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    response = aws_lab.get(f"https://{BUCKET}.s3.amazonaws.com/keys.json")
    assert response.status_code == 403
    assert _error_code(response) == "AccessDenied"


def test_oac_policy_is_not_anonymous_access(aws_lab):
    s3 = aws_lab.client("s3")
    _open_bucket(s3)
    oac = {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
           "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [oac]))
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    assert aws_lab.get(f"https://{BUCKET}.s3.amazonaws.com/keys.json").status_code == 403
    assert s3.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"] is False


def test_missing_key_is_403_unless_list_bucket_is_public(aws_lab):
    s3 = aws_lab.client("s3")
    _open_bucket(s3)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [_public(BUCKET)]))
    response = aws_lab.get(f"https://{BUCKET}.s3.amazonaws.com/missing.json")
    assert response.status_code == 403
    assert _error_code(response) == "AccessDenied"
    listing = {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [_public(BUCKET), listing]))
    response = aws_lab.get(f"https://{BUCKET}.s3.amazonaws.com/missing.json")
    assert response.status_code == 404
    assert _error_code(response) == "NoSuchKey"


def test_wrong_region_endpoint_gives_permanent_redirect(aws_lab):
    s3 = aws_lab.client("s3", region="eu-west-1")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_policy(BUCKET, [_public(BUCKET)]))
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    for url in (f"https://{BUCKET}.s3.us-west-2.amazonaws.com/keys.json",
                f"https://{BUCKET}.s3.amazonaws.com/keys.json",
                f"https://s3.amazonaws.com/{BUCKET}/keys.json"):
        response = aws_lab.get(url, allow_redirects=False)
        assert response.status_code == 301, url
        assert _error_code(response) == "PermanentRedirect"
        assert f"<Endpoint>{BUCKET}.s3.eu-west-1.amazonaws.com</Endpoint>" in response.text
    assert aws_lab.get(f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/keys.json").status_code == 200
    assert aws_lab.get(f"https://s3.eu-west-1.amazonaws.com/{BUCKET}/keys.json").status_code == 200


def test_dotted_bucket_name_fails_virtual_host_tls(aws_lab):
    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket="my.dotted.bucket")
    with pytest.raises(Exception) as error:  # requests.exceptions.SSLError
        aws_lab.get("https://my.dotted.bucket.s3.us-east-1.amazonaws.com/keys.json")
    assert "SSL" in type(error.value).__name__ or "certificate" in str(error.value).lower()


def test_head_and_urllib_through_proxy(aws_lab):
    import ssl  # pylint: disable=import-outside-toplevel
    import urllib.error  # pylint: disable=import-outside-toplevel
    import urllib.request  # pylint: disable=import-outside-toplevel

    s3 = aws_lab.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="keys.json", Body=b"{}")
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": aws_lab.proxy_url}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=aws_lab.ca_bundle)))
    with pytest.raises(urllib.error.HTTPError) as error:
        opener.open(urllib.request.Request(f"https://{BUCKET}.s3.amazonaws.com/keys.json", method="HEAD"),
                    timeout=10)
    assert error.value.code == 403
