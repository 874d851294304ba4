"""Fixtures for the lab's own tests (the lab package lives at the repository root)."""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# pylint: disable=wrong-import-position,unused-import  # the lab is importable only after the path insert
from lab.oidc import SigningKey, discovery_document, trust_policy  # noqa: E402
from lab.pytest_plugin import aws_lab, lab_world  # noqa: E402,F401,F811  # fixtures are found by name

SUB = "system:serviceaccount:openshift-machine-api:machine-api-controllers"


def public_policy(bucket):
    """ccoctl's public-read bucket policy."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowReadPublicAccess", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})


class Issuer:
    """A ccoctl-style public S3 issuer built with plain boto3 calls."""

    def __init__(self, lab, bucket="demo-oidc", region="us-east-1", key=None):
        self.lab = lab
        self.bucket = bucket
        self.region = region
        self.key = key or SigningKey()
        self.host = f"{bucket}.s3.{region}.amazonaws.com"
        self.url = f"https://{self.host}"
        self.s3 = lab.client("s3", region=region)
        self.iam = lab.client("iam")
        self.provider_arn = None

    def publish(self, public=True, jwks=None):
        """ccoctl create-identity-provider: bucket, BPA, policy, documents, IAM provider."""
        kwargs = {} if self.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": self.region}}
        self.s3.create_bucket(Bucket=self.bucket, **kwargs)
        if public:
            self.s3.put_public_access_block(Bucket=self.bucket, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                "RestrictPublicBuckets": False})
            self.s3.put_bucket_policy(Bucket=self.bucket, Policy=public_policy(self.bucket))
        self.put_documents(jwks)
        self.provider_arn = self.iam.create_open_id_connect_provider(
            Url=self.url, ClientIDList=["openshift", "sts.amazonaws.com"],
            ThumbprintList=["A" * 40])["OpenIDConnectProviderArn"]
        return self

    def put_documents(self, jwks=None, issuer=None):
        """Upload discovery and JWKS (untyped, as ccoctl does)."""
        self.s3.put_object(Bucket=self.bucket, Key=".well-known/openid-configuration",
                           Body=discovery_document(issuer or self.url).encode())
        self.s3.put_object(Bucket=self.bucket, Key="keys.json", Body=(jwks or self.key.jwks()).encode())

    def role(self, name="machine-api", subjects=(SUB,), operator="StringEquals", max_session=3600, audience=None):
        """A ccoctl-style role trusting this issuer; returns its ARN."""
        policy = trust_policy(self.provider_arn, self.host, list(subjects), operator=operator, audience=audience)
        return self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=policy,
                                    MaxSessionDuration=max_session)["Role"]["Arn"]

    def token(self, **kwargs):
        """A projected token from this issuer."""
        kwargs.setdefault("now", self.lab.clock.now())
        return self.key.token(kwargs.pop("issuer", self.url), **kwargs)


@pytest.fixture
def issuer(aws_lab):  # noqa: F811  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """An unpublished issuer; call ``.publish()``."""
    return Issuer(aws_lab)


@pytest.fixture
def make_issuer(aws_lab):  # noqa: F811  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """A factory of issuers: ``make_issuer(bucket=..., region=..., key=...)``."""
    return lambda **kwargs: Issuer(aws_lab, **kwargs)


@pytest.fixture
def policy_for():
    """ccoctl's public bucket policy for a bucket name."""
    return public_policy
