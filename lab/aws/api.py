"""The AWS API endpoint of the lab: moto behind a thin front that adds what moto lacks.

The front (a threading HTTP server on loopback) is what clients reach through
``AWS_ENDPOINT_URL``. It applies faults, records every call, answers what
moto lacks or gets wrong, and proxies everything else to an in-process
``ThreadedMotoServer``:

* IAM ``Add/RemoveClientIDToOpenIDConnectProvider`` (idempotent; moto's
  provider object is updated, so Get/List agree);
* CloudFront: origin ``OriginAccessControlId`` / ``S3OriginConfig`` kept,
  unknown OAC/OAI rejected, real ``IfMatch``/ETag semantics,
  ``DistributionNotDisabled``, a modelled ``InProgress`` -> ``Deployed``
  timeline, origin access identities;
* S3: April-2023 defaults for new buckets (all four Block Public Access flags
  on, ``BucketOwnerEnforced``), public policies and public ACLs refused under
  Block Public Access, ACLs refused when disabled, a real
  ``GetBucketPolicyStatus``;
* STS ``AssumeRoleWithWebIdentity`` answered by :mod:`lab.aws.sts`.

Every other service moto has (KMS included) is proxied to moto unchanged; a JSON-protocol call is
recorded under the operation its ``X-Amz-Target`` header names (``CreateKey``, ``PutKeyPolicy``).

Faults are looked up for the call's IAM action first (``s3:GetBucketPolicyStatus``,
see :func:`iam_action`), then for its service (``s3``). A ``deny`` fault answers
``AccessDenied`` (HTTP 403) in the service's error shape; like an identity-based
policy it only applies to signed calls, and never to ``sts:GetCallerIdentity``,
which AWS answers whatever the policies say.
"""

import http.client
import http.server
import json
import logging
import re
import socket
import socketserver
import time
import urllib.parse
import xml.etree.ElementTree as ET

from moto.iam.models import iam_backends
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.s3.models import OWNER, PublicAccessBlock
from moto.sts.models import sts_backends

from lab.aws import ACCOUNT_ID, PARTITION, policy as iam_policy
from lab.aws.cloudfront import OAI_PREFIX, CloudFrontStore, OriginAccessIdentity, new_id, patch_moto_origins
from lab.aws.responses import (NAMESPACES, Response, access_denied, cloudfront_error, query_error, query_result,
                               s3_error, server_error, throttling)
from lab.aws.s3access import ACL_ALLOWED_WITH_ENFORCED, ALL_USERS, AUTHENTICATED_USERS, PUBLIC_CANNED_ACLS, S3View
from lab.aws.sts import WebIdentityValidator
from lab.serving import ServingThread

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
STS_ACTIONS = frozenset((
    "AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "GetCallerIdentity", "GetSessionToken",
    "GetFederationToken", "DecodeAuthorizationMessage", "GetAccessKeyInfo", "AssumeRoot",
))
_HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
                         "transfer-encoding", "upgrade", "content-length", "server", "date"))
_CF = "/2020-05-31"
_CF_ROUTES = [
    (r"/distribution", {"POST": "CreateDistribution", "GET": "ListDistributions"}),
    (r"/distribution/(?P<id>[^/]+)", {"GET": "GetDistribution", "DELETE": "DeleteDistribution"}),
    (r"/distribution/(?P<id>[^/]+)/config", {"GET": "GetDistributionConfig", "PUT": "UpdateDistribution"}),
    (r"/distribution/(?P<id>[^/]+)/invalidation", {"POST": "CreateInvalidation", "GET": "ListInvalidations"}),
    (r"/distribution/(?P<id>[^/]+)/invalidation/[^/]+", {"GET": "GetInvalidation"}),
    (r"/origin-access-control", {"POST": "CreateOriginAccessControl", "GET": "ListOriginAccessControls"}),
    (r"/origin-access-control/(?P<id>[^/]+)", {"GET": "GetOriginAccessControl",
                                               "DELETE": "DeleteOriginAccessControl"}),
    (r"/origin-access-control/(?P<id>[^/]+)/config", {"GET": "GetOriginAccessControlConfig",
                                                      "PUT": "UpdateOriginAccessControl"}),
    (r"/origin-access-identity/cloudfront", {"POST": "CreateCloudFrontOriginAccessIdentity",
                                             "GET": "ListCloudFrontOriginAccessIdentities"}),
    (r"/origin-access-identity/cloudfront/(?P<id>[^/]+)", {"GET": "GetCloudFrontOriginAccessIdentity",
                                                           "DELETE": "DeleteCloudFrontOriginAccessIdentity"}),
    (r"/origin-access-identity/cloudfront/(?P<id>[^/]+)/config", {
        "GET": "GetCloudFrontOriginAccessIdentityConfig", "PUT": "UpdateCloudFrontOriginAccessIdentity"}),
    (r"/tagging", {"GET": "ListTagsForResource", "POST": "TagResource"}),
]
_S3_BUCKET_SUBRESOURCES = {
    "policyStatus": ("GetBucketPolicyStatus", None, None),
    "publicAccessBlock": ("GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock"),
    "ownershipControls": ("GetBucketOwnershipControls", "PutBucketOwnershipControls",
                          "DeleteBucketOwnershipControls"),
    "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
    "acl": ("GetBucketAcl", "PutBucketAcl", None),
    "tagging": ("GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"),
    "versioning": ("GetBucketVersioning", "PutBucketVersioning", None),
    "encryption": ("GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"),
    "location": ("GetBucketLocation", None, None),
    "website": ("GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"),
    "cors": ("GetBucketCors", "PutBucketCors", "DeleteBucketCors"),
    "lifecycle": ("GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle"),
    "logging": ("GetBucketLogging", "PutBucketLogging", None),
    "notification": ("GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration", None),
    "versions": ("ListObjectVersions", None, None),
    "uploads": ("ListMultipartUploads", None, None),
}

# API operation -> IAM action, where the names differ (the Service Authorization Reference).
_IAM_ACTIONS = {
    "s3": {
        "ListBuckets": "ListAllMyBuckets", "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket", "HeadBucket": "ListBucket",
        "HeadObject": "GetObject", "CopyObject": "PutObject", "DeleteObjects": "DeleteObject",
        "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject", "CompleteMultipartUpload": "PutObject",
        "ListParts": "ListMultipartUploadParts", "ListObjectVersions": "ListBucketVersions",
        "ListMultipartUploads": "ListBucketMultipartUploads",
        "GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
        "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
        "GetBucketEncryption": "GetEncryptionConfiguration", "PutBucketEncryption": "PutEncryptionConfiguration",
        "DeleteBucketEncryption": "PutEncryptionConfiguration",
        "DeleteBucketOwnershipControls": "PutBucketOwnershipControls", "DeleteBucketTagging": "PutBucketTagging",
        "GetBucketCors": "GetBucketCORS", "PutBucketCors": "PutBucketCORS", "DeleteBucketCors": "PutBucketCORS",
        "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
        "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration", "DeleteBucketLifecycle": "PutLifecycleConfiguration",
        "GetBucketNotificationConfiguration": "GetBucketNotification",
        "PutBucketNotificationConfiguration": "PutBucketNotification",
    },
    "s3control": {"GetPublicAccessBlock": "GetAccountPublicAccessBlock", "PutPublicAccessBlock": "PutAccountPublicAccessBlock",
                  "DeletePublicAccessBlock": "PutAccountPublicAccessBlock"},
    "cloudfront": {"CreateDistributionWithTags": "CreateDistribution"},
}
_IAM_PREFIX = {"s3control": "s3"}
_ALWAYS_ALLOWED = frozenset(("sts:GetCallerIdentity", "sts:AssumeRoleWithWebIdentity"))


def iam_action(service, operation):
    """The IAM action of an API call (``s3:GetEncryptionConfiguration`` for S3 ``GetBucketEncryption``), or None."""
    if not operation or " " in operation:
        return None
    return "%s:%s" % (_IAM_PREFIX.get(service, service), _IAM_ACTIONS.get(service, {}).get(operation, operation))


class Request:
    """One API request as the front received it."""

    def __init__(self, method, target, headers, body, client):
        self.method = method
        self.target = target
        parts = urllib.parse.urlsplit(target)
        self.path = parts.path
        self.query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.client = client
        self.params = {k: v[0] for k, v in self.query.items()}
        content_type = headers.get("Content-Type") or ""
        if method == "POST" and "x-www-form-urlencoded" in content_type:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            self.params.update({k: v[0] for k, v in form.items()})
        auth = headers.get("Authorization") or ""
        match = _CREDENTIAL.search(auth) or _CREDENTIAL.search("Credential=" + self.params.get("X-Amz-Credential", ""))
        self.access_key, self.region, self.signing_service = match.groups() if match else (None, None, None)
        self.service = self._service()
        self.operation = None

    def _service(self):
        service = self.signing_service
        if service is None:
            if self.path.startswith(_CF + "/"):
                service = "cloudfront"
            elif "Action" in self.params:
                service = "sts" if self.params["Action"] in STS_ACTIONS else "iam"
            else:
                service = "s3"
        if service == "s3" and self.path.startswith("/v20180820/"):
            service = "s3control"
        return service

    @property
    def caller(self):
        """The access key id that signed the request, or ``anonymous``."""
        return self.access_key or "anonymous"

    def header(self, name):
        """A request header (case-insensitive) or None."""
        return self.headers.get(name)


def _xml_text(element, path):
    found = element.find(path)
    return (found.text or "") if found is not None else None


def _parse_origins(body):
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    origins = []
    for origin in root.findall(".//{*}Origins/{*}Items/{*}Origin"):
        s3_config = origin.find("{*}S3OriginConfig")
        origins.append({
            "id": _xml_text(origin, "{*}Id"),
            "oac": _xml_text(origin, "{*}OriginAccessControlId") or "",
            "oai": (_xml_text(s3_config, "{*}OriginAccessIdentity") or "") if s3_config is not None else "",
        })
    return origins


def _acl_request(request):
    """``(is_public, grants_someone_else)`` for the ACL a request sets (headers or body)."""
    canned = request.header("x-amz-acl")
    public = canned in PUBLIC_CANNED_ACLS
    other = canned is not None and canned not in ACL_ALLOWED_WITH_ENFORCED
    for name in ("x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                 "x-amz-grant-full-control"):
        value = request.header(name)
        if value:
            other = other or f'id="{OWNER}"' not in value.replace(" ", "") or "," in value
            public = public or ALL_USERS in value or AUTHENTICATED_USERS in value
    if "acl" in request.query and request.body:
        try:
            root = ET.fromstring(request.body)
        except ET.ParseError:
            root = None
        if root is not None:
            for grantee in root.findall(".//{*}Grantee"):
                uri = _xml_text(grantee, "{*}URI")
                ident = _xml_text(grantee, "{*}ID")
                if uri in (ALL_USERS, AUTHENTICATED_USERS):
                    public = True
                if uri or (ident and ident != OWNER):
                    other = True
    return public, other


class AwsTwin:
    """moto plus the front; owns the CloudFront store and the STS validator."""

    def __init__(self, clock, faults, log, fetch=None, deploy_seconds=0.0, idp_timeout=5.0,
                 modern_bucket_defaults=True, account_id=ACCOUNT_ID):
        patch_moto_origins()
        self.clock = clock
        self.faults = faults
        self.log = log
        self.account_id = account_id
        self.modern_bucket_defaults = modern_bucket_defaults
        self.cloudfront = CloudFrontStore(clock, deploy_seconds, account_id)
        self.s3 = S3View(account_id)
        self._fetch = fetch
        self.sts = WebIdentityValidator(self.fetch, clock, faults, idp_timeout=idp_timeout, default_account=account_id)
        self.control_handler = None
        self._moto = None
        self._front = None

    def fetch(self, url, timeout, caller="sts"):
        """The public-internet fetch used by STS (set by the world)."""
        if self._fetch is None:
            raise OSError("no internet attached")
        return self._fetch(url, timeout=timeout, caller=caller)

    def attach_fetch(self, fetch):
        """Connect the STS validator to the lab's public internet."""
        self._fetch = fetch

    # ------------------------------------------------------------ lifecycle
    def start(self):
        """Start moto and the front on free loopback ports."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        front = _FrontServer(("127.0.0.1", 0), _FrontHandler)
        front.twin = self
        self._front = ServingThread(front, "lab-aws-front").start()
        return self

    def stop(self):
        """Stop the front and moto."""
        if self._front is not None:
            self._front.stop()
            self._front = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    @property
    def url(self):
        """The endpoint URL clients use (``AWS_ENDPOINT_URL``)."""
        return self._front.url

    @property
    def moto_address(self):
        """``(host, port)`` of the moto server behind the front."""
        return self._moto.get_host_and_port()

    def reset(self):
        """Reset moto's state and the lab's AWS state."""
        host, port = self.moto_address
        connection = http.client.HTTPConnection(host, port, timeout=30)
        try:
            connection.request("POST", "/moto-api/reset")
            connection.getresponse().read()
        finally:
            connection.close()
        self.cloudfront.reset()

    def trust_policy_texts(self, role_name=None):
        """The trust policy of every role (or of ``role_name``) as IAM stores it: the text of the last
        ``CreateRole``/``UpdateAssumeRolePolicy``, byte for byte (``GetRole`` returns it URL-encoded and botocore
        decodes it into a dict, which hides whitespace and key order). ``{name: text}``; KeyError for a missing role."""
        roles = iam_backends[self.account_id][PARTITION].roles.values()
        texts = {role.name: role.assume_role_policy_document for role in list(roles)}
        if role_name is not None:
            return {role_name: texts[role_name]}
        return texts

    # ------------------------------------------------------------ dispatch
    def dispatch(self, request):
        """Answer one request; None means "drop the connection" (reset fault)."""
        if request.path.startswith("/_lab/"):
            if self.control_handler is None:
                return Response(404, b'{"error": "no control"}', content_type="application/json")
            return self.control_handler(request.method, request.target, request.body)
        if request.path.startswith("/moto-api"):
            return self.forward(request)
        request.operation = self._operation(request)
        action = iam_action(request.service, request.operation)
        names = tuple(name for name in (action, f"{request.service}:{request.operation}", request.service) if name)
        kinds = ("throttle", "error", "reset")
        if request.access_key and action not in _ALWAYS_ALLOWED:
            kinds += ("deny",)
        decision = self.faults.take(tuple(dict.fromkeys(names)), kinds=kinds)
        if decision.latency:
            time.sleep(decision.latency)
        if decision.action == "reset":
            self._record(request, None, "fault: connection reset")
            return None
        if decision.action == "deny":
            response, detail = access_denied(request.service, action, self._principal(request),
                                             self._resource(request)), "fault"
        elif decision.action == "throttle":
            response, detail = throttling(request.service if request.service != "s3control" else "s3"), "fault"
        elif decision.action == "error":
            response, detail = server_error(request.service if request.service != "s3control" else "s3",
                                            decision.error_status), "fault"
        else:
            handler = getattr(self, "_" + request.service, None)
            response = handler(request) if handler is not None else None
            detail = "lab" if response is not None else "moto"
            if response is None:
                response = self.forward(request)
        self._record(request, response, detail)
        return response

    def _principal(self, request):
        """The ARN GetCallerIdentity reports for the request's access key (moto's answer)."""
        backend = sts_backends[self.account_id][PARTITION]
        return backend.get_caller_identity(request.access_key, request.region or "us-east-1")[1]

    def _resource(self, request):
        """The ARN of the resource a call acts on, for an AccessDenied message; None for resource-less actions."""
        service, params = request.service, request.params
        if service == "s3":
            bucket, key = getattr(request, "bucket", None), getattr(request, "key", None)
            if not bucket:
                return None
            return f"arn:{PARTITION}:s3:::{bucket}" + (f"/{key}" if key else "")
        if service == "iam":
            if params.get("RoleName"):
                return f"arn:{PARTITION}:iam::{self.account_id}:role/{params['RoleName']}"
            return params.get("OpenIDConnectProviderArn") or params.get("PolicyArn")
        if service == "cloudfront" and getattr(request, "cf_id", None):
            operation = request.operation or ""
            kind = ("origin-access-identity" if "OriginAccessIdentit" in operation
                    else "origin-access-control" if "OriginAccessControl" in operation else "distribution")
            return f"arn:{PARTITION}:cloudfront::{self.account_id}:{kind}/{request.cf_id}"
        return None

    def _record(self, request, response, detail):
        code = None
        if response is not None:
            code = response.error_code
            if code is None and response.status >= 300:
                match = re.search(rb"<Code>([^<]+)</Code>", response.body or b"")
                code = match.group(1).decode() if match else None
        record = {
            "kind": "api", "service": request.service, "operation": request.operation, "method": request.method,
            "path": request.path, "status": response.status if response is not None else 0, "error": code,
            "caller": request.caller, "detail": detail,
        }
        bucket = getattr(request, "bucket", None)
        if bucket:
            record["bucket"] = bucket
        self.log.add(**record)

    def forward(self, request):
        """Proxy a request to moto unchanged and return its answer."""
        host, port = self.moto_address
        connection = http.client.HTTPConnection(host, port, timeout=120)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("transfer-encoding", "connection")}
            headers["Content-Length"] = str(len(request.body))
            connection.request(request.method, request.target, body=request.body, headers=headers)
            upstream = connection.getresponse()
            body = upstream.read()
            headers = [(k, v) for k, v in upstream.getheaders() if k.lower() not in _HOP_BY_HOP]
            response = Response(upstream.status, body, headers)
            if request.method == "HEAD":
                response.content_length = int(upstream.getheader("Content-Length") or 0)
            return response
        finally:
            connection.close()

    # ------------------------------------------------------------ operation names
    def _operation(self, request):
        target = request.header("X-Amz-Target")
        if target and request.service not in ("s3", "s3control"):
            return target.rsplit(".", 1)[-1]  # JSON protocol (KMS: ``TrentService.CreateKey``)
        if request.service in ("iam", "sts"):
            return request.params.get("Action")
        if request.service == "cloudfront":
            sub = request.path[len(_CF):] if request.path.startswith(_CF) else request.path
            for pattern, methods in _CF_ROUTES:
                match = re.fullmatch(pattern, sub)
                if match:
                    request.cf_id = match.groupdict().get("id")
                    name = methods.get(request.method, f"{request.method} {sub}")
                    if name == "CreateDistribution" and "WithTags" in request.query:
                        name = "CreateDistributionWithTags"
                    if name == "TagResource" and request.params.get("Operation") == "Untag":
                        name = "UntagResource"
                    return name
            return f"{request.method} {sub}"
        if request.service == "s3control":
            verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(request.method, request.method)
            if request.path.endswith("/configuration/publicAccessBlock"):
                return verb + "PublicAccessBlock"
            return f"{request.method} {request.path}"
        return self._s3_operation(request)

    @staticmethod
    def _s3_operation(request):
        parts = request.path.lstrip("/").split("/", 1)
        request.bucket = parts[0] or None
        request.key = urllib.parse.unquote(parts[1]) if len(parts) > 1 and parts[1] else None
        method, query = request.method, request.query
        if request.key:
            if "acl" in query:
                return "PutObjectAcl" if method == "PUT" else "GetObjectAcl"
            if "tagging" in query:
                return {"PUT": "PutObjectTagging", "GET": "GetObjectTagging"}.get(method, "DeleteObjectTagging")
            if "uploads" in query:
                return "CreateMultipartUpload"
            if "uploadId" in query:
                return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload"}.get(
                    method, "ListParts")
            if method == "PUT":
                return "CopyObject" if request.header("x-amz-copy-source") else "PutObject"
            return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, method)
        if request.bucket:
            if "delete" in query and method == "POST":
                return "DeleteObjects"
            for sub, names in _S3_BUCKET_SUBRESOURCES.items():
                if sub in query:
                    name = dict(zip(("GET", "PUT", "DELETE"), names)).get(method)
                    return name or f"{method} ?{sub}"
            return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(
                method, "ListObjectsV2" if request.params.get("list-type") == "2" else "ListObjects")
        return "ListBuckets"

    # ------------------------------------------------------------ IAM
    def _iam(self, request):
        action = request.operation
        if action not in ("AddClientIDToOpenIDConnectProvider", "RemoveClientIDFromOpenIDConnectProvider"):
            return None
        arn = request.params.get("OpenIDConnectProviderArn", "")
        client_id = request.params.get("ClientID")
        if client_id is None or not 1 <= len(client_id) <= 255:
            return query_error("iam", "ValidationError",
                               "1 validation error detected: Value at 'clientID' failed to satisfy constraint: "
                               "Member must have length between 1 and 255")
        provider = iam_backends[self.account_id][PARTITION].open_id_providers.get(arn)
        if provider is None:
            return query_error("iam", "NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}", 404)
        if action.startswith("Add"):
            if client_id not in provider.client_id_list:
                if len(provider.client_id_list) >= 100:
                    return query_error("iam", "LimitExceeded",
                                       "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100", 409)
                provider.client_id_list = list(provider.client_id_list) + [client_id]
        else:
            provider.client_id_list = [c for c in provider.client_id_list if c != client_id]
        return query_result("iam", action)

    # ------------------------------------------------------------ STS
    def _sts(self, request):
        if request.operation != "AssumeRoleWithWebIdentity":
            return None
        return self.sts.handle(request.params)

    # ------------------------------------------------------------ S3
    def _s3(self, request):
        operation = request.operation
        bucket = self.s3.bucket(request.bucket) if request.bucket else None
        if operation == "CreateBucket":
            return self._create_bucket(request, bucket)
        if bucket is None:
            return None
        if operation == "PutBucketPolicy":
            if iam_policy.policy_is_public(request.body) and self.s3.effective_bpa(bucket)["block_public_policy"]:
                return s3_error("AccessDenied",
                                f"User: arn:aws:iam::{self.account_id}:root is not authorized to perform: "
                                f's3:PutBucketPolicy on resource: "arn:aws:s3:::{request.bucket}" because public '
                                "policies are blocked by the BlockPublicPolicy block public access setting.", 403)
        elif operation in ("PutBucketAcl", "PutObjectAcl", "PutObject", "CopyObject"):
            public, other = _acl_request(request)
            if other and not self.s3.acls_enabled(bucket):
                return s3_error("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)
            if public and self.s3.effective_bpa(bucket)["block_public_acls"]:
                return s3_error("AccessDenied", "Access Denied", 403)
        elif operation == "GetBucketPolicyStatus":
            if not bucket.policy:
                return s3_error("NoSuchBucketPolicy", "The bucket policy does not exist", 404,
                                BucketName=request.bucket)
            public = "true" if iam_policy.policy_is_public(bucket.policy) else "false"
            return Response(200, '<?xml version="1.0" encoding="UTF-8"?>\n'
                                 '<PolicyStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                                 f"<IsPublic>{public}</IsPublic></PolicyStatus>", content_type="application/xml")
        return None

    def _create_bucket(self, request, existing):
        ownership = request.header("x-amz-object-ownership")
        if self.modern_bucket_defaults and ownership in (None, "BucketOwnerEnforced") and _acl_request(request)[1]:
            return s3_error("InvalidBucketAclWithObjectOwnership",
                            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting", 400)
        response = self.forward(request)
        if response.status == 200 and existing is None and self.modern_bucket_defaults:
            bucket = self.s3.bucket(request.bucket)
            if bucket is not None:
                bucket.public_access_block = PublicAccessBlock(True, True, True, True)
                bucket.ownership_rule = ownership or "BucketOwnerEnforced"
        return response

    # ------------------------------------------------------------ CloudFront
    def _check_if_match(self, request, etag):
        if_match = request.header("If-Match")
        if not if_match:
            return cloudfront_error("InvalidIfMatchVersion", "The If-Match version is missing or not valid for the "
                                    "resource.", 400)
        if if_match != etag:
            return cloudfront_error("PreconditionFailed", "The precondition given in one or more of the request-"
                                    "header fields evaluated to false.", 412)
        return None

    def _check_origins(self, request):
        backend = self.cloudfront.backend
        for origin in _parse_origins(request.body):
            if origin["oac"] and origin["oai"]:
                return cloudfront_error("IllegalOriginAccessConfiguration", "An origin cannot contain both an "
                                        "origin access control (OAC) and an origin access identity (OAI).", 400)
            if origin["oac"] and origin["oac"] not in backend.origin_access_controls:
                return cloudfront_error("NoSuchOriginAccessControl",
                                        "The specified origin access control does not exist.", 404)
            if origin["oai"] and (not origin["oai"].startswith(OAI_PREFIX)
                                  or self.cloudfront.oai_for(origin["oai"]) is None):
                return cloudfront_error("InvalidOriginAccessIdentity", "The specified origin access identity does "
                                        "not exist or is not valid.", 400)
        return None

    def _cloudfront(self, request):
        store = self.cloudfront
        store.sync_status()
        operation = request.operation
        if "CloudFrontOriginAccessIdentit" in (operation or ""):
            return self._oai(request)
        dist_id = getattr(request, "cf_id", None)
        dist = store.backend.distributions.get(dist_id) if dist_id else None
        if operation in ("CreateDistribution", "CreateDistributionWithTags"):
            error = self._check_origins(request)
            if error is not None:
                return error
            response = self.forward(request)
            if response.status == 201:
                match = re.search(rb"<Id>([^<]+)</Id>", response.body)
                if match:
                    store.record(match.group(1).decode())
            return response
        if operation == "UpdateDistribution" and dist is not None:
            error = self._check_if_match(request, dist.etag) or self._check_origins(request)
            if error is not None:
                return error
            previous = dist.etag
            dist.etag = new_id()
            dist.status = "InProgress"
            response = self.forward(request)
            if response.status == 200:
                store.record(dist_id)
            else:
                dist.etag = previous
            return response
        if operation == "DeleteDistribution" and dist is not None:
            error = self._check_if_match(request, dist.etag)
            if error is not None:
                return error
            if str(dist.distribution_config.Enabled).lower() == "true" or not store.is_deployed(dist_id):
                return cloudfront_error("DistributionNotDisabled",
                                        "The distribution you are trying to delete has not been disabled.", 409)
            response = self.forward(request)
            if response.status < 300:
                store.forget(dist_id)
            return response
        if operation == "DeleteOriginAccessControl" and dist_id in store.backend.origin_access_controls:
            if store.oac_in_use(dist_id):
                return cloudfront_error("OriginAccessControlInUse", "The origin access control is in use.", 409)
        return None

    def _oai(self, request):
        store = self.cloudfront
        operation = request.operation
        oai_id = getattr(request, "cf_id", None)
        if operation == "CreateCloudFrontOriginAccessIdentity":
            try:
                root = ET.fromstring(request.body)
            except ET.ParseError:
                return cloudfront_error("MalformedInput", "Malformed XML.", 400)
            reference = _xml_text(root, "{*}CallerReference") or ""
            comment = _xml_text(root, "{*}Comment") or ""
            for existing in list(store.oais.values()):
                if existing.caller_reference == reference:
                    if existing.comment == comment:
                        return _oai_response(existing, 201)
                    return cloudfront_error("CloudFrontOriginAccessIdentityAlreadyExists",
                                            "If the CallerReference is a value you already sent in a previous "
                                            "request to create an identity but the content of the "
                                            "CloudFrontOriginAccessIdentityConfig is different from the original "
                                            "request, CloudFront returns this error.", 409)
            oai = OriginAccessIdentity(reference, comment)
            store.oais[oai.id] = oai
            return _oai_response(oai, 201)
        if operation == "ListCloudFrontOriginAccessIdentities":
            items = "".join(
                f"<CloudFrontOriginAccessIdentitySummary><Id>{o.id}</Id>"
                f"<S3CanonicalUserId>{o.s3_canonical_user_id}</S3CanonicalUserId>"
                f"<Comment>{_esc(o.comment)}</Comment></CloudFrontOriginAccessIdentitySummary>"
                for o in store.oais.values())
            body = (f'<?xml version="1.0"?><CloudFrontOriginAccessIdentityList xmlns="{NAMESPACES["cloudfront"]}">'
                    f"<Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated>"
                    f"<Quantity>{len(store.oais)}</Quantity>"
                    + (f"<Items>{items}</Items>" if items else "") + "</CloudFrontOriginAccessIdentityList>")
            return Response(200, body, content_type="text/xml")
        oai = store.oais.get(oai_id)
        if oai is None:
            return cloudfront_error("NoSuchCloudFrontOriginAccessIdentity",
                                    "The specified origin access identity does not exist.", 404)
        if operation == "GetCloudFrontOriginAccessIdentity":
            return _oai_response(oai, 200)
        if operation == "GetCloudFrontOriginAccessIdentityConfig":
            return _oai_response(oai, 200, config_only=True)
        error = self._check_if_match(request, oai.etag)
        if error is not None:
            return error
        if operation == "DeleteCloudFrontOriginAccessIdentity":
            if store.oai_in_use(oai.id):
                return cloudfront_error("CloudFrontOriginAccessIdentityInUse",
                                        "The CloudFront origin access identity is still being used.", 409)
            del store.oais[oai.id]
            return Response(204)
        if operation == "UpdateCloudFrontOriginAccessIdentity":
            try:
                root = ET.fromstring(request.body)
            except ET.ParseError:
                return cloudfront_error("MalformedInput", "Malformed XML.", 400)
            if (_xml_text(root, "{*}CallerReference") or "") != oai.caller_reference:
                return cloudfront_error("IllegalUpdate", "Origin and CallerReference cannot be updated.", 400)
            oai.comment = _xml_text(root, "{*}Comment") or ""
            oai.etag = new_id()
            return _oai_response(oai, 200)
        return None


def _esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _oai_response(oai, status, config_only=False):
    config = (f"<CallerReference>{_esc(oai.caller_reference)}</CallerReference>"
              f"<Comment>{_esc(oai.comment)}</Comment>")
    namespace = NAMESPACES["cloudfront"]
    if config_only:
        body = f'<?xml version="1.0"?><CloudFrontOriginAccessIdentityConfig xmlns="{namespace}">{config}' \
               "</CloudFrontOriginAccessIdentityConfig>"
    else:
        body = (f'<?xml version="1.0"?><CloudFrontOriginAccessIdentity xmlns="{namespace}"><Id>{oai.id}</Id>'
                f"<S3CanonicalUserId>{oai.s3_canonical_user_id}</S3CanonicalUserId>"
                f"<CloudFrontOriginAccessIdentityConfig>{config}</CloudFrontOriginAccessIdentityConfig>"
                "</CloudFrontOriginAccessIdentity>")
    headers = [("ETag", oai.etag)]
    if status == 201:
        headers.append(("Location", f"https://cloudfront.amazonaws.com/2020-05-31/origin-access-identity/cloudfront/"
                                    f"{oai.id}"))
    return Response(status, body, headers, "text/xml")


class _FrontServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 256
    twin = None


class _FrontHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        """Disable Nagle: headers and body go out in separate writes."""
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silence the default stderr access log (the lab has its own)."""

    def _body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        request = Request(self.command, self.path, self.headers, self._body(), self.client_address)
        try:
            response = self.server.twin.dispatch(request)
        except Exception as exc:  # pylint: disable=broad-except  # a lab bug must not hang the client
            response = Response(500, json.dumps({"error": repr(exc)}), content_type="application/json")
        if response is None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response_only(response.status)
        self.send_header("Date", self.date_time_string())
        for key, value in response.headers:
            if key.lower() not in ("content-length", "date", "connection"):
                self.send_header(key, value)
        length = getattr(response, "content_length", None) if self.command == "HEAD" else None
        self.send_header("Content-Length", str(length if length is not None else len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle
