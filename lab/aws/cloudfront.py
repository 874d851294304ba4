"""CloudFront as the lab models it on top of moto.

moto drops each origin's ``OriginAccessControlId`` and ``S3OriginConfig``,
accepts any ETag, deploys on the first read, deletes enabled distributions
and has no origin access identities. This module keeps what moto forgets:

* :func:`patch_moto_origins` makes moto's ``Origin`` objects remember both
  fields, so every moto response (create, get, get-config, update, list)
  returns them;
* :class:`CloudFrontStore` holds the deployment timeline of each
  distribution (the configuration served by the edges, and when an update
  becomes ``Deployed``) and the origin access identities;
* :func:`serve` answers ``GET https://<id>.cloudfront.net/<path>``.
"""

import hashlib
import secrets
import string
import threading

from moto.cloudfront import models as cf_models
from moto.cloudfront.models import cloudfront_backends
from moto.moto_api import state_manager

from lab.aws import ACCOUNT_ID, PARTITION
from lab.aws.responses import Response
from lab.aws.s3access import decide_read, parse_s3_host, render

OAI_PREFIX = "origin-access-identity/cloudfront/"
OAI_ARN = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {}"
DISTRIBUTION_MODEL = "cloudfront::distribution"


def patch_moto_origins():
    """Make moto's CloudFront ``Origin`` keep ``OriginAccessControlId`` and ``S3OriginConfig``.

    Additive and idempotent: it only stores two more attributes, which moto's
    serializer then emits under their model names.
    """
    origin_cls = cf_models.Origin
    if getattr(origin_cls, "_lab_patched", False):
        return
    original_init = origin_cls.__init__

    def __init__(self, origin):
        original_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        s3_config = origin.get("S3OriginConfig")
        if s3_config is not None:
            self.s3_origin_config = {"OriginAccessIdentity": s3_config.get("OriginAccessIdentity") or ""}

    origin_cls.__init__ = __init__
    origin_cls._lab_patched = True  # pylint: disable=protected-access


def new_id(length=14):
    """A CloudFront-style id (``E`` + upper-case letters and digits)."""
    alphabet = string.ascii_uppercase + string.digits
    return "E" + "".join(secrets.choice(alphabet) for dummy in range(length - 1))


def _bool(value):
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


class Snapshot:
    """The configuration of a distribution as its edges serve it."""

    def __init__(self, dist):
        config = dist.distribution_config
        self.id = dist.distribution_id
        self.arn = dist.arn
        self.domain_name = dist.domain_name
        self.enabled = _bool(getattr(config, "Enabled", True))
        self.default_root_object = getattr(config, "DefaultRootObject", "") or ""
        self.target_origin_id = config.DefaultCacheBehavior.target_origin_id
        self.origins = {}
        for origin in config.Origins["Items"]:
            s3_config = getattr(origin, "s3_origin_config", None)
            self.origins[origin.id] = {
                "domain": origin.domain_name,
                "path": origin.origin_path or "",
                "oac": getattr(origin, "origin_access_control_id", "") or "",
                "oai": (s3_config or {}).get("OriginAccessIdentity", "") if s3_config is not None else None,
            }


class OriginAccessIdentity:
    """A CloudFront origin access identity (moto has none)."""

    def __init__(self, caller_reference, comment):
        self.id = new_id()
        self.caller_reference = caller_reference
        self.comment = comment
        self.s3_canonical_user_id = hashlib.sha384(self.id.encode()).hexdigest()[:96]
        self.etag = new_id()

    @property
    def arn(self):
        """The IAM principal ARN a bucket policy names."""
        return OAI_ARN.format(self.id)


class CloudFrontStore:
    """Deployment timelines and origin access identities."""

    def __init__(self, clock, deploy_seconds=0.0, account_id=ACCOUNT_ID):
        self.clock = clock
        self.deploy_seconds = float(deploy_seconds)
        self.account_id = account_id
        self._lock = threading.RLock()
        self._versions = {}
        self.oais = {}

    @property
    def backend(self):
        """moto's CloudFront backend."""
        return cloudfront_backends[self.account_id][PARTITION]

    def reset(self):
        """Forget everything."""
        with self._lock:
            self._versions = {}
            self.oais = {}

    def record(self, distribution_id):
        """Record the current moto configuration as a new version, deployed after the delay."""
        dist = self.backend.distributions.get(distribution_id)
        if dist is None:
            return
        with self._lock:
            ready = self.clock.now() + self.deploy_seconds
            self._versions.setdefault(distribution_id, []).append((ready, Snapshot(dist)))

    def finish_deployments(self):
        """Deploy every pending configuration now (as if the edges had caught up), without moving the clock."""
        with self._lock:
            now = self.clock.now()
            for dist_id, versions in self._versions.items():
                self._versions[dist_id] = [(min(ready, now), snap) for ready, snap in versions]

    def forget(self, distribution_id):
        """Drop a deleted distribution."""
        with self._lock:
            self._versions.pop(distribution_id, None)

    def is_deployed(self, distribution_id):
        """True once the newest version of the distribution is on every edge."""
        with self._lock:
            versions = self._versions.get(distribution_id)
            return not versions or versions[-1][0] <= self.clock.now()

    def served(self, distribution_id):
        """The newest deployed version (what edges serve), or None."""
        with self._lock:
            versions = self._versions.get(distribution_id)
            if versions is None:
                dist = self.backend.distributions.get(distribution_id)
                return Snapshot(dist) if dist is not None else None
            now = self.clock.now()
            deployed = [snap for ready, snap in versions if ready <= now]
            return deployed[-1] if deployed else None

    def sync_status(self):
        """Write the modelled ``Status`` into moto's distributions before moto answers."""
        state_manager.set_transition(DISTRIBUTION_MODEL, {"progression": "manual", "times": 2 ** 31})
        for dist_id, dist in list(self.backend.distributions.items()):
            dist.status = "Deployed" if self.is_deployed(dist_id) else "InProgress"

    def find_by_domain(self, host):
        """The distribution id serving ``host``, or None."""
        for dist_id, dist in list(self.backend.distributions.items()):
            if dist.domain_name == host:
                return dist_id
        return None

    def oai_for(self, reference):
        """The OAI named by ``origin-access-identity/cloudfront/<id>`` (or a bare id), or None."""
        if reference and reference.startswith(OAI_PREFIX):
            reference = reference[len(OAI_PREFIX):]
        return self.oais.get(reference)

    def oai_in_use(self, oai_id):
        """True if a distribution origin references the OAI."""
        for dist in list(self.backend.distributions.values()):
            for origin in dist.distribution_config.Origins["Items"]:
                config = getattr(origin, "s3_origin_config", None) or {}
                if config.get("OriginAccessIdentity", "").endswith("/" + oai_id):
                    return True
        return False

    def oac_in_use(self, oac_id):
        """True if a distribution origin references the OAC."""
        for dist in list(self.backend.distributions.values()):
            for origin in dist.distribution_config.Origins["Items"]:
                if getattr(origin, "origin_access_control_id", "") == oac_id:
                    return True
        return False


def cloudfront_error_page(status=403, reason="Bad request."):
    """CloudFront's own HTML error page (``X-Cache: Error from cloudfront``)."""
    body = (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n'
        "<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>\n"
        f"<H1>{status} ERROR</H1>\n<H2>The request could not be satisfied.</H2>\n<HR noshade size=\"1px\">\n"
        f"{reason}\n</BODY></HTML>"
    )
    return Response(status, body, [("X-Cache", "Error from cloudfront"), ("Server", "CloudFront")],
                    "text/html")


def serve(store, s3_view, distribution_id, path, head=False):
    """Answer ``GET https://<distribution domain><path>`` as CloudFront's edges would.

    Returns ``(response, detail)`` where ``detail`` explains the decision.
    """
    snap = store.served(distribution_id)
    if snap is None:
        return cloudfront_error_page(403, "The distribution is not deployed yet."), "not deployed"
    if not snap.enabled:
        return cloudfront_error_page(403, "The distribution is disabled."), "disabled"
    path = path.split("?", 1)[0]
    if path in ("", "/") and snap.default_root_object:
        path = "/" + snap.default_root_object
    origin = snap.origins.get(snap.target_origin_id)
    if origin is None:
        return cloudfront_error_page(502, "No origin."), "no origin"
    parsed = parse_s3_host(origin["domain"], "/")
    if parsed is None:
        return cloudfront_error_page(502, "The origin is not reachable from the lab."), "custom origin"
    bucket_name, region = parsed[0], parsed[2]
    key_name = (origin["path"].strip("/") + "/" if origin["path"].strip("/") else "") + path.lstrip("/")
    principal, context, who = None, {}, "anonymous"
    oac = store.backend.origin_access_controls.get(origin["oac"]) if origin["oac"] else None
    if oac is not None and (oac.signing_behavior or "always") != "never":
        principal = {"type": "Service", "id": "cloudfront.amazonaws.com"}
        context = {"aws:SourceArn": snap.arn, "aws:SourceAccount": store.account_id}
        who = "oac"
    elif origin["oai"]:
        oai = store.oai_for(origin["oai"])
        if oai is not None:
            principal = {"type": "AWS", "id": oai.arn, "canonical": oai.s3_canonical_user_id}
            who = "oai"
    decision = decide_read(s3_view, bucket_name, key_name, region, principal, context)
    response = render(decision, bucket_name, key_name, head=head)
    response.headers.extend([
        ("Via", f"1.1 {secrets.token_hex(16)}.cloudfront.net (CloudFront)"),
        ("X-Cache", "Miss from cloudfront" if decision.status == 200 else "Error from cloudfront"),
        ("X-Amz-Cf-Id", secrets.token_urlsafe(40)),
    ])
    return response, f"origin {origin['domain']} key {key_name} as {who}: {decision.status}"
