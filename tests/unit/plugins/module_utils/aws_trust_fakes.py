"""In-memory fakes of the IAM, STS, S3, S3 Control and CloudFront clients the AWS trust inspection calls.

Each fake answers only the read-only calls of the inspection, from one shared :class:`FakeAws` state, raising
``botocore.exceptions.ClientError`` with real error codes. ``denied`` (a set of ``service.Operation``) makes a
call answer ``AccessDenied``; ``errors`` maps ``service.Operation`` to an error code; ``no_credentials``
makes every call raise ``NoCredentialsError``. Every call is counted in ``calls``.

The inspection makes calls from several threads: the fakes only read the state while it runs, ``calls`` is
appended under a lock, and ``hook(name)`` (when set) runs in the calling thread before each call is answered,
so a test can delay calls or watch how many are in flight.
"""

from __future__ import annotations

import json
import threading

from botocore.exceptions import ClientError, NoCredentialsError

ACCOUNT = "123456789012"
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def client_error(code, operation, status=400, message=None):
    """A ClientError as botocore raises it."""
    return ClientError({"Error": {"Code": code, "Message": message or code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


class FakeAws:
    """The state of a fake account."""

    def __init__(self, account=ACCOUNT):
        self.account = account
        self.providers = {}          # arn -> {"Url", "ClientIDList", "ThumbprintList"}
        self.roles = {}              # name -> trust policy (dict or str)
        self.buckets = {}            # name -> dict(region, bpa, policy, ownership, acl, encryption, objects={key: grants})
        self.account_bpa = None
        self.distributions = {}      # id -> Distribution dict
        self.oais = {}               # id -> canonical user id
        self.denied = set()
        self.errors = {}
        self.no_credentials = False
        self.calls = []
        self.hook = None
        self.list_page_size = 1000  # ListRoles' largest page (MaxItems)
        self._lock = threading.Lock()

    # ------------------------------------------------------------ building
    def add_provider(self, url, client_ids=("openshift", "sts.amazonaws.com"), thumbprints=()):
        """Create an IAM OIDC provider; returns its ARN."""
        arn = "arn:aws:iam::%s:oidc-provider/%s" % (self.account, url)
        self.providers[arn] = {"Url": url, "ClientIDList": list(client_ids), "ThumbprintList": list(thumbprints)}
        return arn

    def add_role(self, name, trust):
        """Create a role with a trust policy; returns its ARN."""
        self.roles[name] = trust
        return "arn:aws:iam::%s:role/%s" % (self.account, name)

    def add_bucket(self, name, region="us-east-1", bpa=None, policy=None, ownership="BucketOwnerEnforced",
                   encryption="AES256", kms_key=None, objects=None):
        """Create a bucket (April-2023 defaults unless told otherwise)."""
        self.buckets[name] = {
            "region": region,
            "bpa": dict(BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=True,
                        RestrictPublicBuckets=True) if bpa is None else bpa,
            "policy": policy, "ownership": ownership, "encryption": encryption, "kms_key": kms_key,
            "objects": objects if objects is not None else {".well-known/openid-configuration": [], "keys.json": []},
        }
        return self.buckets[name]

    def add_distribution(self, dist_id, origin_domain, oac="", oai=None, enabled=True, status="Deployed", aliases=(),
                         origin_path=""):
        """Create a distribution with one S3 origin."""
        origin = {"Id": "origin1", "DomainName": origin_domain, "OriginPath": origin_path,
                  "OriginAccessControlId": oac, "S3OriginConfig": {"OriginAccessIdentity": oai or ""}}
        dist = {
            "Id": dist_id, "ARN": "arn:aws:cloudfront::%s:distribution/%s" % (self.account, dist_id), "Status": status,
            "DomainName": "%s.cloudfront.net" % dist_id.lower(),
            "DistributionConfig": {
                "Enabled": enabled, "Aliases": {"Quantity": len(aliases), "Items": list(aliases)},
                "Origins": {"Quantity": 1, "Items": [origin]},
                "DefaultCacheBehavior": {"TargetOriginId": "origin1"},
            },
        }
        self.distributions[dist_id] = dist
        return dist

    def clients(self, service, region=None):
        """The client factory the inspection takes."""
        return {"iam": FakeIam, "sts": FakeSts, "s3": FakeS3, "s3control": FakeS3Control,
                "cloudfront": FakeCloudFront}[service](self)

    def record(self, name):
        """Count a call (thread-safe), then run ``hook``."""
        with self._lock:
            self.calls.append(name)
        if self.hook is not None:
            self.hook(name)

    def count(self, prefix=None):
        """Number of calls (optionally of one ``service.Operation`` or service prefix)."""
        return len([name for name in self.calls if prefix is None or name == prefix or name.startswith(prefix + ".")])


class _Fake:
    service = None

    def __init__(self, aws):
        self.aws = aws

    def _call(self, operation):
        name = "%s.%s" % (self.service, operation)
        self.aws.record(name)
        if self.aws.no_credentials:
            raise NoCredentialsError()
        if name in self.aws.denied:
            raise client_error("AccessDenied", operation, 403, "User is not authorized to perform %s" % operation)
        if name in self.aws.errors:
            raise client_error(self.aws.errors[name], operation, 500)


class FakeIam(_Fake):
    """IAM."""

    service = "iam"

    def list_open_id_connect_providers(self):
        self._call("ListOpenIDConnectProviders")
        return {"OpenIDConnectProviderList": [{"Arn": arn} for arn in self.aws.providers]}

    def get_open_id_connect_provider(self, OpenIDConnectProviderArn):  # pylint: disable=invalid-name
        self._call("GetOpenIDConnectProvider")
        if OpenIDConnectProviderArn not in self.aws.providers:
            raise client_error("NoSuchEntity", "GetOpenIDConnectProvider", 404)
        return dict(self.aws.providers[OpenIDConnectProviderArn])

    def list_roles(self, MaxItems=100, Marker=None):  # pylint: disable=invalid-name
        """ListRoles, paginated as IAM does (``Marker`` is the index of the next role here)."""
        self._call("ListRoles")
        names = sorted(self.aws.roles)
        start = int(Marker or 0)
        page = names[start:start + min(MaxItems, self.aws.list_page_size)]
        answer = {"Roles": [self._role(name) for name in page], "IsTruncated": start + len(page) < len(names)}
        if answer["IsTruncated"]:
            answer["Marker"] = str(start + len(page))
        return answer

    def _role(self, name):
        return {"RoleName": name, "Arn": "arn:aws:iam::%s:role/%s" % (self.aws.account, name),
                "AssumeRolePolicyDocument": self.aws.roles[name]}

    def get_role(self, RoleName):  # pylint: disable=invalid-name
        self._call("GetRole")
        if RoleName not in self.aws.roles:
            raise client_error("NoSuchEntity", "GetRole", 404, "The role with name %s cannot be found." % RoleName)
        return {"Role": self._role(RoleName)}


class FakeSts(_Fake):
    """STS."""

    service = "sts"

    def get_caller_identity(self):
        self._call("GetCallerIdentity")
        return {"Account": self.aws.account, "Arn": "arn:aws:iam::%s:user/checker" % self.aws.account}


class FakeS3(_Fake):
    """S3 (bucket-level calls)."""

    service = "s3"

    def _bucket(self, operation, bucket):
        self._call(operation)
        if bucket not in self.aws.buckets:
            raise client_error("NoSuchBucket", operation, 404)
        return self.aws.buckets[bucket]

    def get_bucket_location(self, Bucket):  # pylint: disable=invalid-name
        region = self._bucket("GetBucketLocation", Bucket)["region"]
        return {"LocationConstraint": None if region == "us-east-1" else region}

    def get_public_access_block(self, Bucket):  # pylint: disable=invalid-name
        bpa = self._bucket("GetPublicAccessBlock", Bucket)["bpa"]
        if not bpa:
            raise client_error("NoSuchPublicAccessBlockConfiguration", "GetPublicAccessBlock", 404)
        return {"PublicAccessBlockConfiguration": dict(bpa)}

    def get_bucket_policy_status(self, Bucket):  # pylint: disable=invalid-name
        bucket = self._bucket("GetBucketPolicyStatus", Bucket)
        if not bucket["policy"]:
            raise client_error("NoSuchBucketPolicy", "GetBucketPolicyStatus", 404)
        return {"PolicyStatus": {"IsPublic": '"*"' in json.dumps(bucket["policy"])}}

    def get_bucket_policy(self, Bucket):  # pylint: disable=invalid-name
        bucket = self._bucket("GetBucketPolicy", Bucket)
        if not bucket["policy"]:
            raise client_error("NoSuchBucketPolicy", "GetBucketPolicy", 404)
        policy = bucket["policy"]
        return {"Policy": policy if isinstance(policy, str) else json.dumps(policy)}

    def get_bucket_ownership_controls(self, Bucket):  # pylint: disable=invalid-name
        bucket = self._bucket("GetBucketOwnershipControls", Bucket)
        if not bucket["ownership"]:
            raise client_error("OwnershipControlsNotFoundError", "GetBucketOwnershipControls", 404)
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": bucket["ownership"]}]}}

    def get_bucket_acl(self, Bucket):  # pylint: disable=invalid-name
        self._bucket("GetBucketAcl", Bucket)
        owner = {"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID}, "Permission": "FULL_CONTROL"}
        return {"Owner": {"ID": OWNER_ID}, "Grants": [owner]}

    def get_object_acl(self, Bucket, Key):  # pylint: disable=invalid-name
        bucket = self._bucket("GetObjectAcl", Bucket)
        if Key not in bucket["objects"]:
            raise client_error("NoSuchKey", "GetObjectAcl", 404)
        grants = [{"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID}, "Permission": "FULL_CONTROL"}]
        grants.extend(bucket["objects"][Key])
        return {"Owner": {"ID": OWNER_ID}, "Grants": grants}

    def get_bucket_encryption(self, Bucket):  # pylint: disable=invalid-name
        bucket = self._bucket("GetBucketEncryption", Bucket)
        if not bucket["encryption"]:
            raise client_error("ServerSideEncryptionConfigurationNotFoundError", "GetBucketEncryption", 404)
        default = {"SSEAlgorithm": bucket["encryption"]}
        if bucket["kms_key"]:
            default["KMSMasterKeyID"] = bucket["kms_key"]
        return {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": default}]}}


class FakeS3Control(_Fake):
    """S3 Control (account-level Block Public Access)."""

    service = "s3control"

    def get_public_access_block(self, AccountId):  # pylint: disable=invalid-name
        self._call("GetPublicAccessBlock")
        assert AccountId == self.aws.account
        if not self.aws.account_bpa:
            raise client_error("NoSuchPublicAccessBlockConfiguration", "GetPublicAccessBlock", 404)
        return {"PublicAccessBlockConfiguration": dict(self.aws.account_bpa)}


class FakeCloudFront(_Fake):
    """CloudFront."""

    service = "cloudfront"

    def list_distributions(self, Marker=None):  # pylint: disable=invalid-name
        self._call("ListDistributions")
        items = []
        for dist in self.aws.distributions.values():
            summary = {"Id": dist["Id"], "ARN": dist["ARN"], "Status": dist["Status"], "DomainName": dist["DomainName"]}
            summary.update(dist["DistributionConfig"])
            items.append(summary)
        return {"DistributionList": {"Marker": Marker or "", "IsTruncated": False, "Quantity": len(items), "Items": items}}

    def get_distribution(self, Id):  # pylint: disable=invalid-name
        self._call("GetDistribution")
        if Id not in self.aws.distributions:
            raise client_error("NoSuchDistribution", "GetDistribution", 404)
        return {"Distribution": json.loads(json.dumps(self.aws.distributions[Id]))}

    def get_cloud_front_origin_access_identity(self, Id):  # pylint: disable=invalid-name
        self._call("GetCloudFrontOriginAccessIdentity")
        return {"CloudFrontOriginAccessIdentity": {"Id": Id, "S3CanonicalUserId": self.aws.oais.get(Id, "c" * 96)}}


def public_read_grant():
    """An object ACL grant of READ to everyone (the pre-2023 ccoctl upload)."""
    return {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}


def ccoctl_public_policy(bucket):
    """ccoctl's public bucket policy (AllowReadPublicAccess)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowReadPublicAccess", "Principal": "*", "Effect": "Allow", "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::%s/*" % bucket]}]}


def oac_policy(bucket, dist_arn):
    """The bucket-policy statement CloudFront OAC needs."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowCloudFrontServicePrincipal", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket,
        "Condition": {"StringEquals": {"AWS:SourceArn": dist_arn}}}]}


def oai_policy(bucket, oai_id):
    """ccoctl's private-bucket policy for an OAI."""
    return {"Version": "2008-10-17", "Id": "PolicyForCloudFrontPrivateContent", "Statement": [{
        "Sid": "1", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity %s" % oai_id},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}]}


def ccoctl_trust(provider_arn, host_and_path, subjects):
    """ccoctl's trust policy (create-iam-roles)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"%s:sub" % host_and_path: list(subjects)}}}]}
