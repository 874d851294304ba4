"""REST semantics of kube-apiserver for the kinds the twin serves.

:class:`RestApi` maps one HTTP request to a response without knowing about
sockets: authentication and authorization, discovery, the OIDC endpoints,
CRUD with selectors, the four patch types, TokenRequest, TokenReview,
SelfSubjectAccessReview, and the lab-only control API under ``/_lab/``.
"""

import base64
import copy
import json
import re
import uuid
from urllib.parse import parse_qs

import yaml

from . import machinery
from .auth import Principal
from . import resources as R
from .store import deep_copy

JSON = "application/json"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSONPATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
LAB_PREFIX = "/_lab/"


class Response:  # pylint: disable=too-few-public-methods
    """An HTTP response: status code, JSON-able body (or bytes) and headers."""

    def __init__(self, code, body, content_type=JSON, headers=None):
        self.user = ""
        self.code = code
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}

    def payload(self):
        """The body as bytes."""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


def _involved_getter(field):
    return lambda obj: (obj.get("involvedObject") or {}).get(field)


def _field_getters(rtype):
    getters = {"metadata.name": lambda o: o["metadata"].get("name"),
               "metadata.namespace": lambda o: o["metadata"].get("namespace")}
    if rtype is R.PODS:
        getters.update({
            "spec.nodeName": lambda o: o["spec"].get("nodeName"),
            "spec.serviceAccountName": lambda o: o["spec"].get("serviceAccountName"),
            "spec.restartPolicy": lambda o: o["spec"].get("restartPolicy"),
            "spec.schedulerName": lambda o: o["spec"].get("schedulerName"),
            "status.phase": lambda o: (o.get("status") or {}).get("phase"),
            "status.podIP": lambda o: (o.get("status") or {}).get("podIP"),
            "status.nominatedNodeName": lambda o: (o.get("status") or {}).get("nominatedNodeName"),
        })
    elif rtype is R.SECRETS:
        getters["type"] = lambda o: o.get("type")
    elif rtype is R.NAMESPACES:
        getters["status.phase"] = lambda o: (o.get("status") or {}).get("phase")
    elif rtype is R.EVENTS:
        for field in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
            getters["involvedObject." + field] = _involved_getter(field)
        getters["reason"] = lambda o: o.get("reason")
        getters["type"] = lambda o: o.get("type")
        getters["source"] = lambda o: (o.get("source") or {}).get("component")
    elif rtype is R.REPLICASETS:
        getters["status.replicas"] = lambda o: (o.get("status") or {}).get("replicas")
    return getters


class RestApi:
    """Request handling; ``cluster`` is a :class:`lab.openshift.cluster.Cluster`."""

    def __init__(self, cluster, tokens, lab_token):
        self.cluster = cluster
        self.store = cluster.store
        self.tokens = tokens
        self.lab_token = lab_token

    # ================================================================ entry
    def handle(self, method, raw_path, headers, body):
        """Answer one request; ``headers`` has lower-case keys."""
        path, _sep, query_string = raw_path.partition("?")
        query = {k: v[-1] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        principal = None
        try:
            if path.startswith(LAB_PREFIX):
                response = self._lab(method, path, headers)
                response.user = "lab"
                return response
            principal = self._authenticate(headers)
            self.cluster.tick()
            response = self._route(principal, method, path, query, headers, body)
        except machinery.ApiError as error:
            response = Response(error.code, error.status(), headers=error.headers)
        response.user = principal.name if principal is not None else ""
        return response

    def _authenticate(self, headers):
        value = headers.get("authorization", "")
        token = value[7:].strip() if value[:7].lower() == "bearer " else ""
        principal = self.tokens.lookup(token) if token else None
        if principal is None and token.count(".") == 2:
            try:
                user, _aud = self.cluster.review(token)
                principal = Principal(user["username"], groups=tuple(user["groups"]))
            except ValueError:
                principal = None
        if principal is None:
            raise machinery.ApiError(401, "Unauthorized", "Unauthorized")
        return principal

    @staticmethod
    def _forbid(principal, verb, group, resource, name, namespace):
        if principal.allows(verb, group, resource):
            return
        what = resource.split("/")[0]
        sub = ""
        if "/" in resource:
            sub = "/" + resource.split("/", 1)[1]
        target = '%s "%s"' % (machinery.qualified(what, group), name) if name else machinery.qualified(what, group)
        scope = 'in the namespace "%s"' % namespace if namespace else "at the cluster scope"
        message = '%s is forbidden: User "%s" cannot %s resource "%s%s" in API group "%s" %s' % (
            target, principal.name, verb, what, sub, group, scope)
        details = {"name": name} if name else {}
        if group:
            details["group"] = group
        details["kind"] = what
        raise machinery.ApiError(403, "Forbidden", message, details)

    # ================================================================ routing
    def _route(self, principal, method, path, query, headers, body):  # pylint: disable=too-many-return-statements
        parts = [p for p in path.split("/") if p]
        if method == "GET":
            document = self._non_resource(parts)
            if document is not None:
                return document
        if not parts or parts[0] not in ("api", "apis"):
            raise machinery.path_not_found()
        if parts[0] == "api":
            if len(parts) < 2 or parts[1] != "v1":
                raise machinery.path_not_found()
            group, version, rest = "", "v1", parts[2:]
        else:
            if len(parts) < 3:
                raise machinery.path_not_found()
            group, version, rest = parts[1], parts[2], parts[3:]
        if (group, version) not in R.BY_GROUP_VERSION or not rest:
            raise machinery.path_not_found()
        namespace, resource, name, sub = self._parse_rest(group, rest)
        rtype = R.BY_RESOURCE.get((group, resource))
        if rtype is None or rtype.version != version:
            raise machinery.path_not_found()
        if rtype.namespaced is False and namespace:
            raise machinery.path_not_found()
        return self._dispatch(principal, method, rtype, namespace, name, sub, query, headers, body)

    @staticmethod
    def _parse_rest(group, rest):
        if rest[0] == "namespaces" and len(rest) >= 3 and (group, rest[2]) in R.BY_RESOURCE and R.BY_RESOURCE[(group, rest[2])].namespaced:
            namespace = rest[1]
            rest = rest[2:]
        else:
            namespace = ""
        resource = rest[0]
        name = rest[1] if len(rest) > 1 else ""
        sub = "/".join(rest[2:])
        return namespace, resource, name, sub

    def _non_resource(self, parts):
        path = "/" + "/".join(parts)
        if path == "/version":
            return Response(200, R.VERSION_INFO)
        if path == "/api":
            return Response(200, R.api_versions())
        if path == "/api/v1":
            return Response(200, R.resource_list("", "v1"))
        if path == "/apis":
            return Response(200, R.api_group_list())
        if len(parts) == 2 and parts[0] == "apis":
            document = R.api_group(parts[1])
            if document is None:
                raise machinery.path_not_found()
            return Response(200, document)
        if len(parts) == 3 and parts[0] == "apis":
            document = R.resource_list(parts[1], parts[2])
            if document is None:
                raise machinery.path_not_found()
            return Response(200, document)
        if path in ("/healthz", "/readyz", "/livez"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path == "/openapi/v2":
            return Response(200, R.OPENAPI_V2)
        if path == "/openapi/v3":
            return Response(200, {"paths": {}})
        if path == "/.well-known/openid-configuration":
            return Response(200, self.cluster.openid_configuration(), headers={"Cache-Control": "public, max-age=3600"})
        if path == "/openid/v1/jwks":
            return Response(200, self.cluster.jwks(), "application/jwk-set+json", {"Cache-Control": "public, max-age=3600"})
        return None

    # ================================================================ verbs
    def _dispatch(self, principal, method, rtype, namespace, name, sub, query, headers, body):  # pylint: disable=too-many-arguments,too-many-return-statements
        group = rtype.group
        if rtype in R.VIRTUAL:
            if method != "POST" or name:
                raise machinery.method_not_allowed()
            if rtype is not R.SELFSUBJECTACCESSREVIEWS:  # system:basic-user lets everyone review themselves
                self._forbid(principal, "create", group, rtype.resource, "", "")
            return self._review(principal, rtype, self._decode(body, headers))
        if sub == "token" and rtype is R.SERVICEACCOUNTS:
            if method != "POST":
                raise machinery.method_not_allowed()
            self._forbid(principal, "create", group, "serviceaccounts/token", name, namespace)
            return self._token_request(namespace, name, self._decode(body, headers), query)
        if sub and not (sub == "status" and rtype.status_subresource):
            raise machinery.path_not_found()
        resource_name = rtype.resource + ("/" + sub if sub else "")
        if query.get("watch") in ("true", "1"):
            self._forbid(principal, "watch", group, resource_name, name, namespace)
            raise machinery.bad_request("watch is not supported by the lab's API server twin")
        dry_run = query.get("dryRun") == "All"
        if method == "GET":
            if name:
                self._forbid(principal, "get", group, resource_name, name, namespace)
                return Response(200, self._visible(rtype, self.store.require(rtype, namespace, name)))
            self._forbid(principal, "list", group, resource_name, "", namespace)
            return self._list(rtype, namespace, query)
        if method == "POST":
            if name:
                raise machinery.method_not_allowed()
            self._forbid(principal, "create", group, resource_name, "", namespace)
            return self._create(rtype, namespace, self._decode(body, headers), dry_run)
        if method == "PUT":
            self._forbid(principal, "update", group, resource_name, name, namespace)
            return self._replace(rtype, namespace, name, sub, self._decode(body, headers), dry_run)
        if method == "PATCH":
            self._forbid(principal, "patch", group, resource_name, name, namespace)
            return self._patch(rtype, namespace, name, sub, headers, body, query, dry_run)
        if method == "DELETE":
            if not name:
                self._forbid(principal, "deletecollection", group, resource_name, "", namespace)
                return self._delete_collection(rtype, namespace, query, dry_run)
            self._forbid(principal, "delete", group, resource_name, name, namespace)
            return self._delete(rtype, namespace, name, dry_run)
        raise machinery.method_not_allowed()

    @staticmethod
    def _decode(body, headers):
        content_type = headers.get("content-type", JSON).split(";")[0].strip()
        try:
            if "yaml" in content_type:
                return yaml.safe_load(body.decode() or "null")
            return json.loads(body.decode() or "null")
        except (ValueError, yaml.YAMLError) as error:
            raise machinery.bad_request("the body of the request could not be decoded: %s" % error) from error

    @staticmethod
    def _visible(rtype, obj, in_list=False):
        if in_list and not rtype.custom:
            return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        return obj

    def _list(self, rtype, namespace, query):
        label = machinery.parse_label_selector(query.get("labelSelector", ""))
        field = machinery.parse_field_selector(query.get("fieldSelector", ""), _field_getters(rtype))
        with self.store.lock:
            revision = self.store.revision
            items = [o for o in self.store.list(rtype, namespace or None) if label(o["metadata"].get("labels")) and field(o)]
        metadata = {"resourceVersion": revision}
        limit = int(query.get("limit") or 0)
        start = 0
        if query.get("continue"):
            try:
                start = int(base64.urlsafe_b64decode(query["continue"].encode()).decode())
            except ValueError as error:
                raise machinery.ApiError(410, "Expired", "The provided continue parameter is too old") from error
        if limit or start:
            end = start + limit if limit else len(items)
            if end < len(items):
                metadata["continue"] = base64.urlsafe_b64encode(str(end).encode()).decode()
                metadata["remainingItemCount"] = len(items) - end
            items = items[start:end]
        document = {"kind": rtype.kind + "List", "apiVersion": rtype.api_version, "metadata": metadata,
                    "items": [self._visible(rtype, o, True) for o in items]}
        return Response(200, document)

    # ---------------------------------------------------------------- create
    def _check_body(self, rtype, obj, namespace, name=None):
        if not isinstance(obj, dict):
            raise machinery.bad_request("the body of the request was not a JSON object")
        if obj.get("kind") not in (None, "", rtype.kind) or obj.get("apiVersion") not in (None, "", rtype.api_version):
            raise machinery.bad_request("the API version in the data (%s) does not match the expected API version (%s)"
                                        % (obj.get("apiVersion"), rtype.api_version)
                                        if obj.get("apiVersion") != rtype.api_version else
                                        "%s in version \"%s\" cannot be handled as a %s" % (obj.get("kind"), rtype.version, rtype.kind))
        meta = obj.setdefault("metadata", {})
        if rtype.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise machinery.bad_request("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = namespace
        if name is not None and meta.get("name") and meta["name"] != name:
            raise machinery.bad_request("the name of the object (%s) does not match the name on the URL (%s)" % (meta["name"], name))
        if name is not None:
            meta["name"] = name
        return meta

    def _create(self, rtype, namespace, obj, dry_run):
        if rtype.namespaced and not namespace:
            raise machinery.path_not_found()
        meta = self._check_body(rtype, obj, namespace)
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            else:
                raise machinery.invalid(rtype.group, rtype.kind, "", [("metadata.name", "Required value: name or generateName is required")])
        with self.store.lock:
            if rtype.namespaced and self.store.get(R.NAMESPACES, "", namespace) is None:
                raise machinery.not_found("", "namespaces", namespace)
            if rtype.status_subresource and rtype.custom:
                obj.pop("status", None)
            self._validate(rtype, obj)
            if rtype is R.PODS:
                obj = self.cluster.admit_pod(obj)
            if rtype is R.SECRETS:
                obj = _encode_string_data(obj)
            if dry_run:
                if self.store.get(rtype, namespace, meta["name"]) is not None:
                    raise machinery.already_exists(rtype.group, rtype.resource, meta["name"])
                return Response(201, obj)
            return Response(201, self.store.create(rtype, obj))

    @staticmethod
    def _validate(rtype, obj):
        name = obj["metadata"].get("name", "")
        if not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", name) or len(name) > 253:
            raise machinery.invalid(rtype.group, rtype.kind, name, [
                ("metadata.name", 'Invalid value: "%s": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                 "characters, '-' or '.', and must start and end with an alphanumeric character" % name)])
        if rtype is R.DEPLOYMENTS:
            spec = obj.get("spec") or {}
            if not (spec.get("selector") or {}).get("matchLabels") and not (spec.get("selector") or {}).get("matchExpressions"):
                raise machinery.invalid(rtype.group, rtype.kind, name, [("spec.selector", "Required value")])
            template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not machinery.parse_label_selector(",".join("%s=%s" % kv for kv in spec["selector"].get("matchLabels", {}).items()))(
                    template_labels):
                raise machinery.invalid(rtype.group, rtype.kind, name, [
                    ("spec.template.metadata.labels", "Invalid value: `selector` does not match template `labels`")])

    # ---------------------------------------------------------------- update
    def _merge_for_write(self, rtype, old, new, sub):
        """Apply the status-subresource split: the main resource ignores status, /status ignores the rest."""
        if not rtype.status_subresource:
            return new
        if sub == "status":
            merged = copy.deepcopy(old)
            merged["status"] = new.get("status")
            merged["metadata"] = dict(old["metadata"], resourceVersion=new.get("metadata", {}).get("resourceVersion"))
            if merged["status"] is None:
                merged.pop("status")
            return merged
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
        return new

    def _store_update(self, rtype, old, new, dry_run):
        meta = new.setdefault("metadata", {})
        expected = meta.get("resourceVersion")
        if expected and expected != old["metadata"]["resourceVersion"]:
            raise machinery.conflict(rtype.group, rtype.resource, old["metadata"]["name"])
        for key in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
        meta.setdefault("resourceVersion", old["metadata"]["resourceVersion"])
        if rtype is R.SECRETS:
            new = _encode_string_data(new)
        if rtype is R.PODS:
            new["spec"] = _pod_spec_update(old, new)
        self._validate(rtype, new)
        if dry_run:
            return Response(200, new)
        return Response(200, self.store.update(rtype, new))

    def _replace(self, rtype, namespace, name, sub, obj, dry_run):
        with self.store.lock:
            old = self.store.require(rtype, namespace, name)
            self._check_body(rtype, obj, namespace, name)
            new = self._merge_for_write(rtype, old, obj, sub)
            return self._store_update(rtype, old, new, dry_run)

    def _patch(self, rtype, namespace, name, sub, headers, body, query, dry_run):  # pylint: disable=too-many-arguments
        content_type = headers.get("content-type", "").split(";")[0].strip()
        accepted = [JSONPATCH, MERGE, APPLY] if rtype.custom else [JSONPATCH, MERGE, STRATEGIC, APPLY]
        if content_type not in accepted:
            raise machinery.unsupported_media_type(content_type, accepted)
        patch = self._decode(body, headers)
        with self.store.lock:
            old = self.store.get(rtype, namespace, name)
            if content_type == APPLY:
                return self._apply(rtype, namespace, name, sub, old, patch, query, dry_run)
            if old is None:
                raise machinery.not_found(rtype.group, rtype.resource, name)
            current = copy.deepcopy(old)
            if content_type == JSONPATCH:
                try:
                    new = machinery.json_patch(current, patch)
                except ValueError as error:
                    raise machinery.ApiError(422, "Invalid", str(error)) from error
            else:
                if not isinstance(patch, dict):
                    raise machinery.bad_request("the body of the request was not a JSON object")
                new = machinery.merge_patch(current, patch)
            if not isinstance(new, dict):
                raise machinery.ApiError(422, "Invalid", "the patch produced something that is not an object")
            meta = new.setdefault("metadata", {})
            if meta.get("name") != name or (rtype.namespaced and meta.get("namespace") != namespace):
                raise machinery.bad_request("metadata.name and metadata.namespace cannot be changed by a patch")
            new = self._merge_for_write(rtype, old, new, sub)
            return self._store_update(rtype, old, new, dry_run)

    def _apply(self, rtype, namespace, name, sub, old, patch, query, dry_run):  # pylint: disable=too-many-arguments
        """Server-side apply, modelled as a merge of the applied configuration."""
        if not query.get("fieldManager"):
            raise machinery.bad_request("PATCH requests with apply-patch+yaml require fieldManager")
        if not isinstance(patch, dict):
            raise machinery.bad_request("the body of the request was not a YAML object")
        if patch.get("apiVersion") != rtype.api_version or patch.get("kind") != rtype.kind:
            raise machinery.bad_request("invalid object type: %s, %s" % (patch.get("apiVersion"), patch.get("kind")))
        entry = {"manager": query["fieldManager"], "operation": "Apply", "apiVersion": rtype.api_version,
                 "time": machinery.rfc3339(self.cluster.clock()), "fieldsType": "FieldsV1", "fieldsV1": {}}
        if sub:
            entry["subresource"] = sub
        if old is None:
            if sub:
                raise machinery.not_found(rtype.group, rtype.resource, name)
            obj = copy.deepcopy(patch)
            obj.setdefault("metadata", {})["name"] = name
            obj["metadata"]["managedFields"] = [entry]
            return self._create(rtype, namespace, obj, dry_run)
        new = machinery.merge_patch(copy.deepcopy(old), {k: v for k, v in patch.items() if v is not None})
        new["metadata"].pop("resourceVersion", None)
        managed = [m for m in old["metadata"].get("managedFields", []) if m.get("manager") != entry["manager"]]
        new["metadata"]["managedFields"] = managed + [entry]
        new = self._merge_for_write(rtype, old, new, sub)
        return self._store_update(rtype, old, new, dry_run)

    # ---------------------------------------------------------------- delete
    def _delete(self, rtype, namespace, name, dry_run):
        with self.store.lock:
            old = self.store.require(rtype, namespace, name)
            if not dry_run:
                self.store.delete(rtype, namespace, name)
        if rtype in (R.PODS, R.NAMESPACES) or rtype.custom:
            gone = copy.deepcopy(old)
            gone["metadata"]["deletionTimestamp"] = machinery.rfc3339(self.cluster.clock())
            if rtype is R.PODS:
                gone["metadata"]["deletionGracePeriodSeconds"] = gone["spec"].get("terminationGracePeriodSeconds", 30)
            if rtype is R.NAMESPACES:
                gone["status"] = {"phase": "Terminating"}
            return Response(200, gone)
        details = {"name": name, "kind": rtype.resource, "uid": old["metadata"]["uid"]}
        if rtype.group:
            details["group"] = rtype.group
        return Response(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})

    def _delete_collection(self, rtype, namespace, query, dry_run):
        if "deletecollection" not in rtype.verbs:
            raise machinery.method_not_allowed()
        listed = self._list(rtype, namespace, query).body
        with self.store.lock:
            for item in listed["items"]:
                meta = item["metadata"]
                if not dry_run and self.store.get(rtype, meta.get("namespace", ""), meta["name"]) is not None:
                    self.store.delete(rtype, meta.get("namespace", ""), meta["name"])
        listed["items"] = [dict(item, metadata=dict(item["metadata"], deletionTimestamp=machinery.rfc3339(self.cluster.clock())))
                           for item in listed["items"]]
        return Response(200, listed)

    # ---------------------------------------------------------------- tokens and reviews
    def _token_request(self, namespace, name, body, query):
        body = body or {}
        spec = body.get("spec") or {}
        expiration = spec.get("expirationSeconds")
        expiration = 3600 if expiration is None else expiration
        if not isinstance(expiration, int) or expiration < 600:
            raise machinery.invalid("authentication.k8s.io", "TokenRequest", name, [
                ("spec.expirationSeconds", "Invalid value: %s: may not specify a duration less than 10 minutes" % expiration)])
        if expiration > 2 ** 32:
            raise machinery.invalid("authentication.k8s.io", "TokenRequest", name, [
                ("spec.expirationSeconds", "Invalid value: %s: may not specify a duration larger than 2^32 seconds" % expiration)])
        audiences = spec.get("audiences") or None
        with self.store.lock:
            self.store.require(R.SERVICEACCOUNTS, namespace, name)
            pod = secret = None
            ref = spec.get("boundObjectRef")
            if ref:
                kinds = {"Pod": R.PODS, "Secret": R.SECRETS}
                if ref.get("kind") not in kinds:
                    raise machinery.bad_request("cannot bind token to object of type %s" % ref.get("kind"))
                target = self.store.require(kinds[ref["kind"]], namespace, ref.get("name", ""))
                if ref.get("uid") and ref["uid"] != target["metadata"]["uid"]:
                    raise machinery.conflict("", kinds[ref["kind"]].resource, ref.get("name"),
                                             "the UID in the bound object reference (%s) does not match the UID in record. "
                                             "The object might have been deleted and then recreated" % ref["uid"])
                if ref["kind"] == "Pod":
                    pod = target
                else:
                    secret = target
            token, claims = self.cluster.mint(namespace, name, audiences, expiration, pod=pod, secret=secret)
        response = {
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
            "spec": {"audiences": claims["aud"], "expirationSeconds": expiration, "boundObjectRef": ref or None},
            "status": {"token": token, "expirationTimestamp": machinery.rfc3339(claims["exp"])},
        }
        if query.get("dryRun") == "All":
            response["status"]["token"] = ""
        return Response(201, response)

    def _review(self, principal, rtype, body):
        body = body or {}
        spec = body.get("spec") or {}
        result = {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": {"creationTimestamp": None}, "spec": spec}
        if rtype is R.TOKENREVIEWS:
            try:
                user, audiences = self.cluster.review(spec.get("token", ""), spec.get("audiences"))
                result["status"] = {"authenticated": True, "user": user, "audiences": audiences}
            except ValueError as error:
                result["status"] = {"user": {}, "error": str(error)}
            return Response(201, result)
        attrs = spec.get("resourceAttributes") or {}
        resource = attrs.get("resource", "") + ("/" + attrs["subresource"] if attrs.get("subresource") else "")
        allowed = principal.allows(attrs.get("verb", ""), attrs.get("group", ""), resource) if attrs else True
        result["status"] = {"allowed": allowed}
        if not allowed:
            result["status"]["reason"] = ""
        return Response(201, result)

    # ================================================================ lab control API
    def _lab(self, method, path, headers):
        value = headers.get("authorization", "")
        if value != "Bearer " + self.lab_token:
            raise machinery.ApiError(401, "Unauthorized", "lab control API: Unauthorized")
        if method != "GET":
            raise machinery.method_not_allowed()
        match = re.match(r"^/_lab/pods/([^/]+)/([^/]+)/(token|tokens)$", path)
        if match:
            records = self.cluster.pod_tokens(match.group(1), match.group(2))
            public = [{k: r[k] for k in ("volume", "path", "audience", "expirationSeconds", "mountedAt", "token", "claims")} for r in records]
            if match.group(3) == "tokens":
                return Response(200, {"tokens": public})
            chosen = [r for r in public if r["path"] == "/var/run/secrets/openshift/serviceaccount/token"] or public
            if not chosen:
                raise machinery.not_found("", "tokens", match.group(2))
            return Response(200, chosen[0])
        if path == "/_lab/state":
            self.cluster.tick()
            return Response(200, {"activeIssuer": self.cluster.active_issuer, "trustedIssuers": self.cluster.trusted_issuers,
                                  "revision": self.cluster.revision, "rolloutInProgress": self.cluster.rollout_in_progress,
                                  "signingKeyId": self.cluster.signing_key.kid, "operatorErrors": list(self.cluster.operator_errors)})
        raise machinery.path_not_found()


def _encode_string_data(secret):
    """Secrets: stringData is merged into data (base64) and dropped, as the API server does."""
    string_data = secret.pop("stringData", None)
    if string_data:
        data = dict(secret.get("data") or {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        secret["data"] = data
    secret.setdefault("type", "Opaque")
    return secret


def _pod_spec_update(old, new):
    """Pod spec is immutable except a few fields; the lab keeps the old spec and takes image changes."""
    spec = deep_copy(old["spec"])
    new_containers = {c.get("name"): c for c in (new.get("spec") or {}).get("containers", [])}
    for container in spec.get("containers", []):
        if container.get("name") in new_containers and new_containers[container["name"]].get("image"):
            container["image"] = new_containers[container["name"]]["image"]
    return spec
