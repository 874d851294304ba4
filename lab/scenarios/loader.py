"""Reading scenario files: defaults, parameters, ``--set`` overrides and validation.

A scenario is a YAML mapping (see docs/lab.md, "Scenarios"). :func:`load_scenario`
returns it fully resolved: every default filled in, every ``${parameter}``
substituted, every ``--set`` override applied and every value checked, so the
builder never guesses.
"""

import copy
import os
import re

import yaml

SCENARIO_DIR = os.path.dirname(os.path.abspath(__file__))

HOSTING_TYPES = ("public-s3", "private-s3", "cloudfront-oac", "cloudfront-oai", "custom-host")
DOCUMENT_STATES = ("correct", "stale", "corrupt", "missing")
TRUST_STATES = ("right", "wrong-subject", "wrong-provider", "missing")
STATUSES = ("healthy", "degraded", "broken")
EXPECT_MODES = ("live", "live_without_aws", "before_install", "before_install_without_aws")
FAULT_KNOBS = ("latency", "throttle", "errors", "error_status", "resets", "deny", "idp_communication", "idp_rejected_claim",
               "untrusted_cert")
"""The knobs of an AWS/internet fault entry: the keyword arguments of :meth:`lab.faults.FaultPlan.configure`."""
TWIN_FAULT_KNOBS = ("pattern", "status", "count", "method", "delay", "message", "latency")

DEFAULTS = {
    "name": None,
    "description": None,
    "parameters": {},
    "cluster": {
        "name": "lab",
        "infra_name": None,
        "base_domain": "example.com",
        "issuer": None,
        "credentials_requests": "default",
        "signing_keys": {"rotated": False, "key_size": 2048},
        "tokens": {"audience": "openshift", "expiration_seconds": 3600},
        "rollout_seconds": 0.0,
    },
    "aws": {
        "account": "123456789012",
        "region": "us-east-2",
        "partition": "aws",
        "hosting": {
            "type": "public-s3",
            "bucket": None,
            "block_public_access": "account",
            "locked": "before-ccoctl",
            "origin": "regional",
            "deploy_seconds": 0.0,
            "host": None,
        },
        "documents": {"discovery": "correct", "jwks": "correct"},
        "oidc_provider": {"present": True, "url": "exact", "client_ids": ["openshift", "sts.amazonaws.com"]},
        "roles": {"trust": "right", "overrides": {}},
        "sts": {"idp_timeout": None},
    },
    "faults": [],
    "expect": {},
}

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REGION = re.compile(r"^(?P<prefix>[a-z]{2}(?:-gov|-iso[a-z]?)?)-[a-z]+-\d$")


class ScenarioError(ValueError):
    """A scenario file that cannot be built as written."""


def scenario_names():
    """Names of the scenarios shipped in lab/scenarios (sorted)."""
    return sorted(name[:-5] for name in os.listdir(SCENARIO_DIR) if name.endswith(".yaml"))


def scenario_path(name_or_path):
    """The file of a shipped scenario name, or ``name_or_path`` itself if it is a file."""
    if os.path.isfile(name_or_path):
        return os.path.abspath(name_or_path)
    candidate = os.path.join(SCENARIO_DIR, name_or_path + ".yaml")
    if os.path.isfile(candidate):
        return candidate
    raise ScenarioError(f"no scenario {name_or_path!r}: not a file, and not one of {', '.join(scenario_names())}")


def parse_set(items):
    """``["key=value", ...]`` (CLI ``--set``) as a dict; values are parsed as YAML scalars."""
    result = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"--set expects key=value, got {item!r}")
        result[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return result


def _merge(base, override):
    """Deep-merge ``override`` into a copy of ``base`` (mappings merge, everything else replaces)."""
    result = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and result[key]:
            result[key] = _merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _substitute(value, params):
    if isinstance(value, dict):
        return {k: _substitute(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params) for v in value]
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            if whole.group(1) not in params:
                raise ScenarioError(f"unknown parameter ${{{whole.group(1)}}}")
            return params[whole.group(1)]

        def one(match):
            if match.group(1) not in params:
                raise ScenarioError(f"unknown parameter ${{{match.group(1)}}}")
            return str(params[match.group(1)])
        return _PLACEHOLDER.sub(one, value)
    return value


def _set_path(tree, dotted, value):
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def load_scenario(scenario, params=None):
    """Load and resolve a scenario.

    ``scenario``: a shipped name (``broken-private-bucket``), a file path, or
    an already parsed mapping. ``params``: overrides; a key naming a declared
    parameter sets it, any other key is a dotted path into the scenario
    (``aws.region``, ``cluster.tokens.expiration_seconds``).
    """
    if isinstance(scenario, dict):
        raw, source = copy.deepcopy(scenario), scenario.get("source")
        raw.pop("source", None)
    else:
        source = scenario_path(scenario)
        with open(source, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
        if not isinstance(raw, dict):
            raise ScenarioError(f"{source}: a scenario is a YAML mapping")
    params = dict(params or {})
    declared = dict(raw.get("parameters") or {})
    paths = {}
    for key, value in params.items():
        if key in declared:
            declared[key] = value
        elif "." in key or key in DEFAULTS:
            paths[key] = value
        else:
            raise ScenarioError(f"unknown parameter {key!r} (declared: {', '.join(sorted(declared)) or 'none'}; "
                                "use a dotted path such as aws.region to override a field)")
    spec = _merge(DEFAULTS, raw)
    spec["parameters"] = declared
    for key, value in paths.items():
        _set_path(spec, key, value)
    spec = _substitute(spec, declared)
    spec["source"] = source
    if not spec.get("name"):
        spec["name"] = os.path.splitext(os.path.basename(source))[0] if source else "inline"
    validate(spec)
    return spec


def _require(condition, message):
    if not condition:
        raise ScenarioError(message)


def _validate_cluster(cluster):
    _require(re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?", str(cluster["name"] or "")),
             f"cluster.name {cluster['name']!r}: lower-case letters, digits and dashes")
    requests = cluster["credentials_requests"]
    if isinstance(requests, dict):
        _require(isinstance(requests.get("count"), int) and requests["count"] >= 1,
                 "cluster.credentials_requests.count must be a positive integer")
    elif isinstance(requests, list):
        for entry in requests:
            _require(isinstance(entry, dict) and entry.get("name") and entry.get("namespace") and entry.get("secret")
                     and entry.get("service_accounts"),
                     "each explicit CredentialsRequest needs name, namespace, secret and service_accounts")
    else:
        _require(requests == "default", "cluster.credentials_requests: default, {count: N} or a list")
    keys = cluster["signing_keys"]
    _require(isinstance(keys.get("rotated"), bool), "cluster.signing_keys.rotated must be true or false")
    _require(keys.get("key_size") in (2048, 3072, 4096), "cluster.signing_keys.key_size: 2048, 3072 or 4096")
    tokens = cluster["tokens"]
    _require(isinstance(tokens.get("expiration_seconds"), int) and tokens["expiration_seconds"] >= 600,
             "cluster.tokens.expiration_seconds must be an integer >= 600 (kube-apiserver's minimum)")
    if cluster["issuer"] is not None:
        _require(str(cluster["issuer"]).startswith("https://"), "cluster.issuer must be an https:// URL")


def _validate_aws(aws):
    _require(re.fullmatch(r"\d{12}", str(aws["account"])), "aws.account must be 12 digits")
    aws["account"] = str(aws["account"])
    match = _REGION.match(str(aws["region"]))
    _require(match, f"aws.region {aws['region']!r} is not a region name")
    expected = {"us-gov": "aws-us-gov", "cn": "aws-cn"}.get(match.group("prefix"), "aws")
    _require(aws["partition"] == expected, f"aws.partition {aws['partition']!r} does not match region {aws['region']}"
             f" (expected {expected})")
    hosting = aws["hosting"]
    _require(hosting["type"] in HOSTING_TYPES, f"aws.hosting.type: one of {', '.join(HOSTING_TYPES)}")
    _require(hosting["block_public_access"] in ("bucket", "account"), "aws.hosting.block_public_access: bucket|account")
    _require(hosting["locked"] in ("before-ccoctl", "after-ccoctl"), "aws.hosting.locked: before-ccoctl|after-ccoctl")
    _require(hosting["origin"] in ("regional", "global"), "aws.hosting.origin: regional|global")
    _require(isinstance(hosting["deploy_seconds"], (int, float)) and hosting["deploy_seconds"] >= 0,
             "aws.hosting.deploy_seconds must be a number >= 0")
    if hosting["type"] == "custom-host":
        _require(hosting.get("host"), "aws.hosting.host is required for custom-host")
    docs = aws["documents"]
    discovery = docs["discovery"]
    _require(discovery in DOCUMENT_STATES or (isinstance(discovery, dict) and set(discovery) <= {"issuer", "jwks_uri"}),
             f"aws.documents.discovery: one of {', '.join(DOCUMENT_STATES)} or {{issuer, jwks_uri}}")
    _require(docs["jwks"] in DOCUMENT_STATES, f"aws.documents.jwks: one of {', '.join(DOCUMENT_STATES)}")
    provider = aws["oidc_provider"]
    _require(isinstance(provider["present"], bool), "aws.oidc_provider.present must be true or false")
    url = provider["url"]
    _require(url in ("exact", "trailing-slash") or str(url).startswith("https://"),
             "aws.oidc_provider.url: exact, trailing-slash or an https:// URL")
    _require(isinstance(provider["client_ids"], list), "aws.oidc_provider.client_ids must be a list")
    roles = aws["roles"]
    _require(roles["trust"] in TRUST_STATES, f"aws.roles.trust: one of {', '.join(TRUST_STATES)}")
    for name, trust in (roles.get("overrides") or {}).items():
        _require(trust in TRUST_STATES, f"aws.roles.overrides.{name}: one of {', '.join(TRUST_STATES)}")


def _validate_faults(faults):
    _require(isinstance(faults, list), "faults must be a list")
    for fault in faults:
        _require(isinstance(fault, dict), "each fault is a mapping")
        if fault.get("twin") == "openshift":
            unknown = set(fault) - set(TWIN_FAULT_KNOBS) - {"twin"}
            _require(not unknown, f"unknown OpenShift fault fields {sorted(unknown)}")
            _require("pattern" in fault or "latency" in fault, "an OpenShift fault needs pattern or latency")
        else:
            _require(fault.get("target"), "an AWS/internet fault needs target (or twin: openshift)")
            unknown = set(fault) - set(FAULT_KNOBS) - {"target"}
            _require(not unknown, f"unknown fault fields {sorted(unknown)}")


def _validate_expect(expect):
    for mode in EXPECT_MODES:
        entry = expect.get(mode)
        if entry is None:
            continue
        _require(entry.get("status") in STATUSES, f"expect.{mode}.status: one of {', '.join(STATUSES)}")
        _require("root_cause" in entry, f"expect.{mode}.root_cause is required (null when healthy)")
        _require((entry["root_cause"] is None) == (entry["status"] == "healthy"),
                 f"expect.{mode}: root_cause is null exactly when status is healthy")


def validate(spec):
    """Raise :class:`ScenarioError` unless ``spec`` (defaults merged) is buildable."""
    _require(spec.get("description"), f"scenario {spec.get('name')}: description is required")
    _validate_cluster(spec["cluster"])
    _validate_aws(spec["aws"])
    _validate_faults(spec["faults"])
    _validate_expect(spec.get("expect") or {})
    _require("live" in (spec.get("expect") or {}), "expect.live is required")
