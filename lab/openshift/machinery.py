"""API machinery the twin shares: Status errors, selectors, patches, timestamps.

Behaviour follows k8s.io/apimachinery: Status objects carry the reason and
message texts kube-apiserver uses, label selectors accept the full string
grammar (``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``, ``!key``), JSON
merge patch follows RFC 7386 and JSON patch RFC 6902.
"""

import copy
import datetime
import re


class ApiError(Exception):
    """An error answered as a ``Status`` object."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        """The ``Status`` body."""
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def qualified(resource, group):
    """``secrets`` or ``credentialsrequests.cloudcredential.openshift.io``."""
    return resource + "." + group if group else resource


def _details(name, group, resource):
    details = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = resource
    return details


def not_found(group, resource, name):
    """404 NotFound for one object."""
    return ApiError(404, "NotFound", '%s "%s" not found' % (qualified(resource, group), name), _details(name, group, resource))


def already_exists(group, resource, name):
    """409 AlreadyExists."""
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (qualified(resource, group), name), _details(name, group, resource))


def conflict(group, resource, name, why="the object has been modified; please apply your changes to the latest version and try again"):
    """409 Conflict (stale resourceVersion)."""
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s' % (qualified(resource, group), name, why),
                    _details(name, group, resource))


def invalid(group, kind, name, causes):
    """422 Invalid; ``causes`` is a list of ``(field, message)``."""
    text = "; ".join("%s: %s" % cause for cause in causes)
    details = {"name": name, "kind": kind, "causes": [{"reason": "FieldValueInvalid", "message": "%s: %s" % c, "field": c[0]} for c in causes]}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (qualified(kind, group), name, text), details)


def bad_request(message):
    """400 BadRequest."""
    return ApiError(400, "BadRequest", message)


def path_not_found():
    """404 for a path the server does not serve."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def method_not_allowed():
    """405 MethodNotAllowed."""
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def unsupported_media_type(content_type, accepted):
    """415 UnsupportedMediaType (kube's wording)."""
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: " + ", ".join(accepted),
                    {})


# ------------------------------------------------------------------ time

def rfc3339(epoch):
    """``2025-01-02T03:04:05Z`` (kube's metav1.Time, second precision)."""
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text):
    """Epoch seconds of a metav1.Time string."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


# ------------------------------------------------------------------ label selectors

_SET_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*$")


def _split_requirements(text):
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def parse_label_selector(text):
    """A predicate over a labels dict; raises ApiError 400 on bad syntax."""
    requirements = []
    for part in _split_requirements(text or ""):
        match = _SET_RE.match(part)
        if match:
            values = {v.strip() for v in match.group(3).split(",") if v.strip()}
            requirements.append((match.group(1), match.group(2), values))
            continue
        match = _EQ_RE.match(part)
        if match:
            operator = "!=" if match.group(2) == "!=" else "="
            requirements.append((match.group(1), operator, {match.group(3)}))
            continue
        match = _EXISTS_RE.match(part)
        if match:
            requirements.append((match.group(2), "!" if match.group(1) else "exists", set()))
            continue
        raise bad_request("unable to parse requirement: found '%s', expected: identifier" % part.strip())

    def predicate(labels):
        labels = labels or {}
        for key, operator, values in requirements:
            present = key in labels
            if operator in ("=", "in") and (not present or labels[key] not in values):
                return False
            if operator in ("!=", "notin") and present and labels[key] in values:
                return False
            if operator == "exists" and not present:
                return False
            if operator == "!" and present:
                return False
        return True

    return predicate


def parse_field_selector(text, supported):
    """A predicate over an object; ``supported`` maps field path to a getter."""
    requirements = []
    for part in _split_requirements(text or ""):
        match = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not match:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (text, part))
        field = match.group(1)
        if field not in supported:
            raise bad_request('field label not supported: %s' % field)
        requirements.append((supported[field], match.group(2) != "!=", match.group(3)))

    def predicate(obj):
        for getter, equal, value in requirements:
            if (str(getter(obj) or "") == value) != equal:
                return False
        return True

    return predicate


# ------------------------------------------------------------------ patches

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch; returns a new object."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError("invalid JSON pointer %r" % path)
    return [token.replace("~1", "/").replace("~0", "~") for token in path[1:].split("/")]


def _walk(doc, tokens):
    for token in tokens:
        if isinstance(doc, list):
            doc = doc[int(token)]
        elif isinstance(doc, dict):
            doc = doc[token]
        else:
            raise KeyError(token)
    return doc


def _add(doc, tokens, value):
    if not tokens:
        return value
    parent = _walk(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            index = int(last)
            if index > len(parent):
                raise IndexError(last)
            parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise KeyError(last)
    return doc


def _remove(doc, tokens):
    parent = _walk(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, list):
        return parent.pop(int(last))
    return parent.pop(last)


def json_patch(target, operations):
    """RFC 6902 JSON patch; returns a new object, raises ValueError on failure."""
    if not isinstance(operations, list):
        raise ValueError("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for operation in operations:
        try:
            op = operation["op"]
            path = _pointer(operation["path"])
            if op == "add":
                doc = _add(doc, path, copy.deepcopy(operation["value"]))
            elif op == "remove":
                _remove(doc, path)
            elif op == "replace":
                _walk(doc, path)
                if path:
                    _remove(doc, path)
                doc = _add(doc, path, copy.deepcopy(operation["value"]))
            elif op == "move":
                value = _remove(doc, _pointer(operation["from"]))
                doc = _add(doc, path, value)
            elif op == "copy":
                doc = _add(doc, path, copy.deepcopy(_walk(doc, _pointer(operation["from"]))))
            elif op == "test":
                if _walk(doc, path) != operation["value"]:
                    raise ValueError("testing value %s failed" % operation["path"])
            else:
                raise ValueError("Unexpected kind: %s" % op)
        except (KeyError, IndexError, TypeError) as error:
            raise ValueError("doc is missing path: %s: %s" % (operation.get("path"), error)) from error
    return doc
