"""S3 as an anonymous caller (or a CloudFront origin fetch) sees it.

Decisions are computed from moto's in-process state: bucket policy, bucket
and account Block Public Access, object ownership, ACLs, object existence and
stored Content-Type. Objects are read from moto's backend directly, never by
anonymous HTTP to moto (moto serves private objects to anyone and its Cognito
routes hijack ``.well-known`` paths).
"""

import re

from moto.s3.models import s3_backends
from moto.s3control.models import s3control_backends

from lab.aws import ACCOUNT_ID, PARTITION, policy as iam_policy
from lab.aws.responses import Response, s3_access_denied, s3_error

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
ACL_ALLOWED_WITH_ENFORCED = ("private", "bucket-owner-full-control")
BPA_FLAGS = ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets")

_VIRTUAL = re.compile(r"^(?P<bucket>.+)\.s3(?:[.-](?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d))?\.amazonaws\.com$")
_PATH = re.compile(r"^s3(?:[.-](?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d))?\.amazonaws\.com$")


def parse_s3_host(host, path):
    """Split an S3 REST endpoint request into ``(bucket, key, region, style)``.

    ``region`` is None for the global endpoint; ``style`` is ``virtual`` or
    ``path``. Returns None if ``host`` is not an S3 REST endpoint.
    """
    host = host.split(":")[0].lower()
    path = path.split("?", 1)[0]
    match = _PATH.match(host)
    if match:
        parts = path.lstrip("/").split("/", 1)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else ""
        return bucket, key, match.group("region"), "path"
    match = _VIRTUAL.match(host)
    if match:
        return match.group("bucket"), path.lstrip("/"), match.group("region"), "virtual"
    return None


def regional_endpoint(bucket_name, region):
    """The regional virtual-host endpoint of a bucket."""
    return f"{bucket_name}.s3.{region}.amazonaws.com"


class S3View:
    """Read-only access to moto's S3 and S3 Control state."""

    def __init__(self, account_id=ACCOUNT_ID):
        self.account_id = account_id

    @property
    def backend(self):
        """moto's S3 backend for the lab account."""
        return s3_backends[self.account_id][PARTITION]

    def bucket(self, name):
        """moto's bucket object, or None."""
        return self.backend.buckets.get(name)

    def account_bpa(self):
        """The account-level PublicAccessBlock (s3control), or None."""
        return s3control_backends[self.account_id][PARTITION].public_access_block

    def effective_bpa(self, bucket):
        """The four BPA flags, bucket OR account level, as a dict."""
        flags = dict.fromkeys(BPA_FLAGS, False)
        for block in (getattr(bucket, "public_access_block", None), self.account_bpa()):
            if block is not None:
                for flag in BPA_FLAGS:
                    flags[flag] = flags[flag] or bool(getattr(block, flag))
        return flags

    @staticmethod
    def acls_enabled(bucket):
        """False when Object Ownership is BucketOwnerEnforced (ACLs disabled)."""
        return getattr(bucket, "ownership_rule", None) != "BucketOwnerEnforced"

    @staticmethod
    def policy(bucket):
        """The bucket policy as a dict, or None."""
        return iam_policy.load(bucket.policy) if bucket is not None and bucket.policy else None

    @staticmethod
    def key(bucket, key_name):
        """moto's current object version for ``key_name``, or None (delete markers too)."""
        key = bucket.keys.get(key_name) if key_name else None
        return key if key is not None and hasattr(key, "value") else None


def acl_is_public(acl):
    """True if an ACL grants AllUsers or AuthenticatedUsers anything."""
    for grant in getattr(acl, "grants", None) or []:
        for grantee in grant.grantees:
            if grantee.uri in (ALL_USERS, AUTHENTICATED_USERS):
                return True
    return False


def _acl_allows_read(acl, principal):
    for grant in getattr(acl, "grants", None) or []:
        if not {"READ", "FULL_CONTROL"} & set(grant.permissions):
            continue
        for grantee in grant.grantees:
            if grantee.uri == ALL_USERS:
                return True
            if grantee.uri == AUTHENTICATED_USERS and principal.get("type") != "anonymous":
                return True
            canonical = principal.get("canonical")
            if canonical and grantee.id == canonical:
                return True
    return False


class Decision:
    """The outcome of one read: HTTP status, error code and the object if served."""

    def __init__(self, status, code=None, key=None, endpoint=None):
        self.status = status
        self.code = code
        self.key = key
        self.endpoint = endpoint


def _allowed(view, bucket, principal, action, resource, context, acl):
    flags = view.effective_bpa(bucket)
    policy = view.policy(bucket)
    restricted = flags["restrict_public_buckets"] and iam_policy.policy_is_public(policy)
    verdict = iam_policy.evaluate(policy, principal, action, resource, context, ignore_public=restricted)
    if verdict == "deny":
        return False
    if verdict == "allow":
        return True
    if acl is not None and view.acls_enabled(bucket) and not flags["ignore_public_acls"]:
        return _acl_allows_read(acl, principal)
    return False


def decide_read(view, bucket_name, key_name, region, principal=None, context=None):
    """Decide an unsigned (or origin-identity) GET of ``bucket_name/key_name``.

    ``region`` is the region of the endpoint used (None: global endpoint).
    """
    principal = principal or iam_policy.ANONYMOUS
    context = {k.lower(): v for k, v in (context or {}).items()}
    context.setdefault("aws:securetransport", "true")
    bucket = view.bucket(bucket_name)
    if bucket is None:
        return Decision(404, "NoSuchBucket")
    if (region or "us-east-1") != bucket.region_name:
        return Decision(301, "PermanentRedirect", endpoint=regional_endpoint(bucket_name, bucket.region_name))
    arn = f"arn:{PARTITION}:s3:::{bucket_name}"
    key = view.key(bucket, key_name)
    if key is None:
        if _allowed(view, bucket, principal, "s3:ListBucket", arn, context, bucket.acl):
            return Decision(404, "NoSuchKey" if key_name else None)
        return Decision(403, "AccessDenied")
    if _allowed(view, bucket, principal, "s3:GetObject", f"{arn}/{key_name}", context, key.acl):
        return Decision(200, key=key)
    return Decision(403, "AccessDenied")


def render(decision, bucket_name, key_name, head=False):
    """The HTTP response S3 gives for ``decision``."""
    if decision.status == 200:
        key = decision.key
        body = b"" if head else key.value
        headers = [
            ("Content-Type", key.metadata.get("Content-Type", "binary/octet-stream")),
            ("ETag", key.etag),
            ("Last-Modified", key.last_modified_RFC1123),
            ("Accept-Ranges", "bytes"),
            ("Server", "AmazonS3"),
        ]
        for name in ("Cache-Control", "Content-Encoding", "Content-Disposition"):
            if key.metadata.get(name):
                headers.append((name, key.metadata[name]))
        response = Response(200, body, headers)
        response.content_length = key.size
        return response
    if decision.status == 301:
        response = s3_error("PermanentRedirect",
                            "The bucket you are attempting to access must be addressed using the specified endpoint. "
                            "Please send all future requests to this endpoint.", 301,
                            Endpoint=decision.endpoint, Bucket=bucket_name)
        response.headers.append(("x-amz-bucket-region", decision.endpoint.split(".s3.", 1)[1].split(".")[0]))
    elif decision.status == 404 and decision.code == "NoSuchBucket":
        response = s3_error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket_name)
    elif decision.status == 404 and decision.code == "NoSuchKey":
        response = s3_error("NoSuchKey", "The specified key does not exist.", 404, Key=key_name)
    elif decision.status == 404:
        response = Response(200, _empty_listing(bucket_name), [("Server", "AmazonS3")], "application/xml")
    else:
        response = s3_access_denied()
    if head:
        response.body = b""
    return response


def _empty_listing(bucket_name):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>{bucket_name}</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
            "</ListBucketResult>")
