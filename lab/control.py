"""The lab's control API: JSON over HTTP on the AWS front, under ``/_lab/``.

A lab started by ``python -m lab up`` in another process is steered through
it; :class:`LabControl` is its Python client. In-process users can call the
:class:`lab.world.Lab` methods directly.

==========  ======================  ===============================================
Method      Path                    Body / query
==========  ======================  ===============================================
GET         /_lab/health            -> ``{"ok": true}``
GET         /_lab/env               -> the environment variables of the lab
GET         /_lab/log               ``?since=N&kind=api&service=s3...`` -> ``{"entries", "last"}``
DELETE      /_lab/log               forget the records
GET         /_lab/faults            -> every active fault
POST        /_lab/faults            ``{"target", "latency", "throttle", "errors", "error_status",
                                    "resets", "deny", "idp_communication", "idp_rejected_claim",
                                    "untrusted_cert"}``; target: a service (``s3``), an IAM
                                    action (``s3:GetBucketPolicyStatus``, wildcards allowed) or a host
DELETE      /_lab/faults            ``?target=NAME`` (all if absent)
GET/POST    /_lab/clock             ``{"advance": s}`` | ``{"set": epoch, "freeze": bool}`` | ``{"reset": true}``
POST        /_lab/cloudfront        ``{"deploy_seconds": s}`` and/or ``{"finish_deployments": true}``
POST        /_lab/sts               ``{"idp_timeout": s, "max_keys": n}``
GET         /_lab/trust_policies    ``?role=NAME`` -> ``{name: text}``: trust policies as IAM stores them, byte for byte
POST        /_lab/hosts             ``{"host", "documents": {path: {"body", "content_type", "status"}}}``
DELETE      /_lab/hosts             ``?host=NAME``
POST        /_lab/reset             reset AWS state, faults, clock, custom hosts and log
==========  ======================  ===============================================
"""

import json
import urllib.parse
import urllib.request

from lab.aws.responses import Response

_FILTERS = ("kind", "service", "operation", "host", "caller", "status", "bucket", "method")


def _json(status, payload):
    return Response(status, json.dumps(payload, default=str), content_type="application/json")


class Control:
    """Server side of the control API, bound to a :class:`lab.world.Lab`."""

    def __init__(self, lab):
        self.lab = lab

    def handle(self, method, target, body):
        """Answer one ``/_lab/...`` request."""
        parts = urllib.parse.urlsplit(target)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return _json(400, {"error": "body is not JSON"})
        route = parts.path[len("/_lab/"):].strip("/")
        handler = getattr(self, f"_{method.lower()}_{route}", None)
        if handler is None:
            return _json(404, {"error": f"no control endpoint {method} {parts.path}"})
        try:
            return _json(200, handler(query, payload))
        except (KeyError, TypeError, ValueError) as exc:
            return _json(400, {"error": str(exc)})

    def _get_health(self, _query, _payload):
        return {"ok": True}

    def _get_env(self, _query, _payload):
        return self.lab.env()

    def _get_log(self, query, _payload):
        filters = {k: query[k] for k in _FILTERS if k in query}
        if "status" in filters:
            filters["status"] = int(filters["status"])
        entries = self.lab.log.entries(since=int(query.get("since", 0)), **filters)
        return {"entries": entries, "last": self.lab.log.last_seq()}

    def _delete_log(self, _query, _payload):
        self.lab.log.clear()
        return {"ok": True}

    def _get_faults(self, _query, _payload):
        return self.lab.faults.snapshot()

    def _post_faults(self, _query, payload):
        target = payload.pop("target")
        self.lab.faults.configure(target, **payload)
        return self.lab.faults.snapshot()

    def _delete_faults(self, query, _payload):
        self.lab.faults.clear(query.get("target"))
        return self.lab.faults.snapshot()

    def _get_clock(self, _query, _payload):
        return {"now": self.lab.clock.now(), **self.lab.clock.state()}

    def _post_clock(self, _query, payload):
        if payload.get("reset"):
            self.lab.clock.reset()
        if "set" in payload:
            self.lab.clock.set(payload["set"], freeze=bool(payload.get("freeze")))
        if "advance" in payload:
            self.lab.clock.advance(float(payload["advance"]))
        return self._get_clock(None, None)

    def _post_cloudfront(self, _query, payload):
        if "deploy_seconds" in payload or not payload.get("finish_deployments"):
            self.lab.aws.cloudfront.deploy_seconds = float(payload["deploy_seconds"])
        if payload.get("finish_deployments"):
            self.lab.aws.cloudfront.finish_deployments()
        return {"deploy_seconds": self.lab.aws.cloudfront.deploy_seconds}

    def _post_sts(self, _query, payload):
        if "idp_timeout" in payload:
            self.lab.aws.sts.idp_timeout = float(payload["idp_timeout"])
        if "max_keys" in payload:
            self.lab.aws.sts.max_keys = int(payload["max_keys"])
        return {"idp_timeout": self.lab.aws.sts.idp_timeout, "max_keys": self.lab.aws.sts.max_keys}

    def _get_trust_policies(self, query, _payload):
        return self.lab.aws.trust_policy_texts(query.get("role"))

    def _post_hosts(self, _query, payload):
        documents = {}
        for path, doc in (payload.get("documents") or {}).items():
            if isinstance(doc, dict):
                documents[path] = (doc.get("body", ""), doc.get("content_type", "application/json"),
                                   int(doc.get("status", 200)))
            else:
                documents[path] = (doc, "application/json")
        self.lab.internet.register_host(payload["host"], documents=documents)
        return {"ok": True}

    def _delete_hosts(self, query, _payload):
        self.lab.internet.unregister_host(query["host"])
        return {"ok": True}

    def _post_reset(self, _query, _payload):
        self.lab.reset()
        return {"ok": True}


class LabControl:
    """Client of the control API (``LAB_CONTROL_URL``), for labs in other processes."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method, path, payload=None, **query):
        """Send one control request and return the decoded JSON answer."""
        url = f"{self.url}/{path.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with self._opener.open(request, timeout=30) as answer:
            return json.loads(answer.read())

    def health(self):
        """``{"ok": True}`` when the lab answers."""
        return self.call("GET", "health")

    def env(self):
        """The lab's environment variables."""
        return self.call("GET", "env")

    def log(self, since=0, **filters):
        """Request records newer than ``since`` matching ``filters``."""
        return self.call("GET", "log", since=since, **filters)["entries"]

    def clear_log(self):
        """Forget the records."""
        return self.call("DELETE", "log")

    def fault(self, target, **knobs):
        """Configure faults of ``target`` (see :meth:`lab.faults.FaultPlan.configure`)."""
        return self.call("POST", "faults", dict(knobs, target=target))

    def clear_faults(self, target=None):
        """Remove faults of ``target`` or all."""
        return self.call("DELETE", "faults", **({"target": target} if target else {}))

    def advance_clock(self, seconds):
        """Move the lab clock forward."""
        return self.call("POST", "clock", {"advance": seconds})

    def set_deploy_seconds(self, seconds):
        """How long new CloudFront configurations stay InProgress."""
        return self.call("POST", "cloudfront", {"deploy_seconds": seconds})

    def finish_deployments(self):
        """Make every pending CloudFront configuration Deployed now."""
        return self.call("POST", "cloudfront", {"finish_deployments": True})

    def set_idp_timeout(self, seconds):
        """STS's limit on identity-provider answers (AWS: 5 s)."""
        return self.call("POST", "sts", {"idp_timeout": seconds})

    def trust_policies(self, role=None):
        """``{role name: trust policy text}`` as IAM stores it (byte for byte), of every role or of ``role``."""
        return self.call("GET", "trust_policies", **({"role": role} if role else {}))

    def register_host(self, host, documents):
        """Serve static ``documents`` ({path: body or {"body", "content_type", "status"}}) on ``host``."""
        return self.call("POST", "hosts", {"host": host, "documents": documents})

    def reset(self):
        """Reset the lab's state."""
        return self.call("POST", "reset", {})
