"""CloudFront as real AWS behaves (field notes §5, §9.3)."""

import json
import time

import botocore.exceptions
import pytest

BUCKET = "lab-cf-origin"


def _bucket(aws_lab, region="us-east-1", bucket=BUCKET):
    s3 = aws_lab.client("s3", region=region)
    kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **kwargs)
    s3.put_object(Bucket=bucket, Key="keys.json", Body=b'{"keys": []}', ContentType="application/json")
    s3.put_object(Bucket=bucket, Key="pvt/keys.json", Body=b'{"keys": ["pvt"]}', ContentType="application/json")
    return s3


def _oac(cloudfront):
    return cloudfront.create_origin_access_control(OriginAccessControlConfig={
        "Name": f"oac-{time.monotonic_ns()}", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]


def _config(domain, oac_id="", oai="", enabled=True, origin_path="", reference=None):
    origin = {"Id": "s3-origin", "DomainName": domain, "OriginPath": origin_path,
              "S3OriginConfig": {"OriginAccessIdentity": oai}}
    if oac_id:
        origin["OriginAccessControlId"] = oac_id
    return {
        "CallerReference": reference or str(time.monotonic_ns()),
        "Comment": "lab",
        "Enabled": enabled,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3-origin", "ViewerProtocolPolicy": "https-only",
                                 "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"},
    }


def _oac_policy(bucket, dist_arn):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"StringEquals": {"AWS:SourceArn": dist_arn}}}]})


def _oac_distribution(aws_lab, region="us-east-1", domain=None, origin_path=""):
    s3 = _bucket(aws_lab, region)
    cloudfront = aws_lab.client("cloudfront")
    oac_id = _oac(cloudfront)
    domain = domain or f"{BUCKET}.s3.{region}.amazonaws.com"
    dist = cloudfront.create_distribution(
        DistributionConfig=_config(domain, oac_id, origin_path=origin_path))["Distribution"]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_oac_policy(BUCKET, dist["ARN"]))
    return cloudfront, dist, oac_id


def test_oac_distribution_serves_object_and_keeps_origin_settings(aws_lab):
    cloudfront, dist, oac_id = _oac_distribution(aws_lab)
    assert dist["ARN"] == f"arn:aws:cloudfront::123456789012:distribution/{dist['Id']}"
    assert dist["Status"] == "InProgress"
    origin = dist["DistributionConfig"]["Origins"]["Items"][0]
    assert origin["OriginAccessControlId"] == oac_id
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    for fetched in (cloudfront.get_distribution(Id=dist["Id"])["Distribution"]["DistributionConfig"],
                    cloudfront.get_distribution_config(Id=dist["Id"])["DistributionConfig"],
                    cloudfront.list_distributions()["DistributionList"]["Items"][0]):
        assert fetched["Origins"]["Items"][0]["OriginAccessControlId"] == oac_id
    response = aws_lab.get(f"https://{dist['DomainName']}/keys.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"keys": []}
    # the bucket itself stays private
    assert aws_lab.get(f"https://{BUCKET}.s3.us-east-1.amazonaws.com/keys.json").status_code == 403


def test_oac_policy_for_another_distribution_gives_403(aws_lab):
    s3 = _bucket(aws_lab)
    cloudfront = aws_lab.client("cloudfront")
    dist = cloudfront.create_distribution(DistributionConfig=_config(
        f"{BUCKET}.s3.us-east-1.amazonaws.com", _oac(cloudfront)))["Distribution"]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_oac_policy(
        BUCKET, "arn:aws:cloudfront::123456789012:distribution/EOTHER0000000"))
    response = aws_lab.get(f"https://{dist['DomainName']}/keys.json")
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text


def test_missing_key_through_cloudfront_is_403(aws_lab):
    dist = _oac_distribution(aws_lab)[1]
    assert aws_lab.get(f"https://{dist['DomainName']}/nope.json").status_code == 403


def test_origin_path_is_honoured(aws_lab):
    dist = _oac_distribution(aws_lab, origin_path="/pvt")[1]
    assert aws_lab.get(f"https://{dist['DomainName']}/keys.json").json() == {"keys": ["pvt"]}


def test_unknown_oac_is_rejected(aws_lab):
    _bucket(aws_lab)
    cloudfront = aws_lab.client("cloudfront")
    with pytest.raises(cloudfront.exceptions.NoSuchOriginAccessControl):
        cloudfront.create_distribution(DistributionConfig=_config(
            f"{BUCKET}.s3.us-east-1.amazonaws.com", "E0000000000000"))


def test_in_progress_distribution_is_not_served_until_deployed(aws_lab):
    aws_lab.aws.cloudfront.deploy_seconds = 600
    cloudfront, dist = _oac_distribution(aws_lab)[:2]
    assert cloudfront.get_distribution(Id=dist["Id"])["Distribution"]["Status"] == "InProgress"
    response = aws_lab.get(f"https://{dist['DomainName']}/keys.json")
    assert response.status_code == 403
    assert response.headers["X-Cache"] == "Error from cloudfront"
    aws_lab.clock.advance(601)
    assert cloudfront.get_distribution(Id=dist["Id"])["Distribution"]["Status"] == "Deployed"
    assert aws_lab.get(f"https://{dist['DomainName']}/keys.json").status_code == 200


def test_global_endpoint_origin_for_regional_bucket_relays_permanent_redirect(aws_lab):
    dist = _oac_distribution(aws_lab, region="eu-west-1", domain=f"{BUCKET}.s3.amazonaws.com")[1]
    response = aws_lab.get(f"https://{dist['DomainName']}/keys.json", allow_redirects=False)
    assert response.status_code == 301
    assert "<Code>PermanentRedirect</Code>" in response.text


def test_origin_access_identity_flow(aws_lab):
    s3 = _bucket(aws_lab)
    cloudfront = aws_lab.client("cloudfront")
    oai = cloudfront.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
        "CallerReference": "demo", "Comment": "openshift.io/cloud-credential-operator/demo"})
    oai_id = oai["CloudFrontOriginAccessIdentity"]["Id"]
    assert oai["ETag"]
    assert cloudfront.get_cloud_front_origin_access_identity(Id=oai_id)["CloudFrontOriginAccessIdentity"][
        "CloudFrontOriginAccessIdentityConfig"]["Comment"] == "openshift.io/cloud-credential-operator/demo"
    listed = cloudfront.list_cloud_front_origin_access_identities()["CloudFrontOriginAccessIdentityList"]
    assert [item["Id"] for item in listed["Items"]] == [oai_id]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2008-10-17", "Id": "PolicyForCloudFrontPrivateContent", "Statement": [{
            "Sid": "1", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {oai_id}"},
            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    dist = cloudfront.create_distribution(DistributionConfig=_config(
        f"{BUCKET}.s3.us-east-1.amazonaws.com", oai=f"origin-access-identity/cloudfront/{oai_id}"))["Distribution"]
    assert dist["DistributionConfig"]["Origins"]["Items"][0]["S3OriginConfig"]["OriginAccessIdentity"] == \
        f"origin-access-identity/cloudfront/{oai_id}"
    assert aws_lab.get(f"https://{dist['DomainName']}/keys.json").status_code == 200
    etag = cloudfront.get_cloud_front_origin_access_identity(Id=oai_id)["ETag"]
    with pytest.raises(cloudfront.exceptions.CloudFrontOriginAccessIdentityInUse):
        cloudfront.delete_cloud_front_origin_access_identity(Id=oai_id, IfMatch=etag)
    with pytest.raises(cloudfront.exceptions.InvalidOriginAccessIdentity):
        cloudfront.create_distribution(DistributionConfig=_config(
            f"{BUCKET}.s3.us-east-1.amazonaws.com", oai="origin-access-identity/cloudfront/ENOPE"))


def test_etag_if_match_and_distribution_not_disabled(aws_lab):
    cloudfront, dist = _oac_distribution(aws_lab)[:2]
    current = cloudfront.get_distribution_config(Id=dist["Id"])
    config, etag = current["DistributionConfig"], current["ETag"]
    with pytest.raises(cloudfront.exceptions.DistributionNotDisabled):
        cloudfront.delete_distribution(Id=dist["Id"], IfMatch=etag)
    with pytest.raises(cloudfront.exceptions.PreconditionFailed):
        cloudfront.update_distribution(Id=dist["Id"], IfMatch="EWRONG", DistributionConfig=config)
    with pytest.raises(cloudfront.exceptions.InvalidIfMatchVersion):
        cloudfront.delete_distribution(Id=dist["Id"])
    config["Enabled"] = False
    updated = cloudfront.update_distribution(Id=dist["Id"], IfMatch=etag, DistributionConfig=config)
    assert updated["ETag"] != etag
    assert updated["Distribution"]["Status"] == "InProgress"
    with pytest.raises(cloudfront.exceptions.PreconditionFailed):
        cloudfront.delete_distribution(Id=dist["Id"], IfMatch=etag)
    assert aws_lab.get(f"https://{dist['DomainName']}/keys.json").status_code == 403  # disabled
    cloudfront.delete_distribution(Id=dist["Id"], IfMatch=updated["ETag"])
    with pytest.raises(botocore.exceptions.ClientError) as error:
        cloudfront.get_distribution(Id=dist["Id"])
    assert error.value.response["Error"]["Code"] == "NoSuchDistribution"


def test_oac_in_use_cannot_be_deleted(aws_lab):
    cloudfront, oac_id = _oac_distribution(aws_lab)[::2]
    etag = cloudfront.get_origin_access_control(Id=oac_id)["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as error:
        cloudfront.delete_origin_access_control(Id=oac_id, IfMatch=etag)
    assert error.value.response["Error"]["Code"] == "OriginAccessControlInUse"
