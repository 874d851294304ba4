# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict of a diagnosis: status, root cause, explanation, fix and the state of each link of the trust chain.

Pure functions over the findings of every diagnostic module (``issuer_probe``, ``aws_trust_check``,
``sts_assume_check``); no I/O. The rules (also in ``docs/report.md``):

*Status*
    ``broken`` when a finding has severity ``error``; otherwise ``degraded`` when a finding has severity ``warning``
    or when the chain is *unverified* (a link that matters was not inspected and no role was assumed through STS,
    so nothing proves the chain end to end); otherwise ``healthy``. ``info`` findings never change the status by
    themselves; ``AWS_CREDENTIALS_MISSING`` and ``HOSTING_NOT_INSPECTED`` mark links as not inspected.

*Root cause*
    The code of the most upstream finding that is not a consequence of another one. Order (:data:`ROOT_ORDER`):
    token, issuer, hosting, discovery, jwks, iam_provider, role_trust, sts, other; within a link errors before
    warnings, then catalogue order. A finding is a *consequence* when an upstream finding explains it
    (:data:`EXPLAINED_BY`): a discovery/JWKS access failure is explained by a hosting finding (private bucket,
    CloudFront), an STS failure by an upstream error (or, without one, an upstream warning such as ``ISSUER_SLOW``).
    Consequences are replaced by what explains them. For ``broken`` the root cause is chosen among errors and
    the warnings that explain an error; for ``degraded`` among warnings; ``healthy`` has none.
"""

from __future__ import absolute_import, division, print_function

import re

from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import CATALOGUE, LINK_TITLES, SEVERITIES, redact

__metaclass__ = type  # pylint: disable=invalid-name  # Ansible boilerplate

CHAIN = ("token", "issuer", "discovery", "jwks", "iam_provider", "role_trust", "sts")
"""The links of the trust chain as drawn, in the order STS walks them."""

DISPLAY_LINKS = ("token", "issuer", "discovery", "jwks", "hosting", "iam_provider", "role_trust", "sts")
"""Links shown in reports: the chain, with ``hosting`` attached to discovery and JWKS (plus ``other`` when it has findings)."""

ROOT_ORDER = ("token", "issuer", "hosting", "discovery", "jwks", "iam_provider", "role_trust", "sts", "other")
"""Order used to choose the root cause: hosting findings cause discovery/JWKS failures, so they come first."""

AWS_LINKS = ("hosting", "iam_provider", "role_trust")
"""Links only the AWS-side inspection (``aws_trust_check``) can inspect."""

HOSTING_ATTACHED_TO = ("discovery", "jwks")

STATES = ("ok", "warn", "fail", "unknown")

SHORT_TITLES = {
    "token": "Token",
    "issuer": "Issuer URL",
    "discovery": "Discovery",
    "jwks": "JWKS",
    "hosting": "S3 / CloudFront hosting",
    "iam_provider": "IAM OIDC provider",
    "role_trust": "IAM roles (trust)",
    "sts": "STS",
    "other": "Other",
}

# Access failures of the anonymous fetches: a hosting finding is their cause.
_ACCESS_CODES = frozenset((
    "DISCOVERY_UNREACHABLE", "DISCOVERY_ACCESS_DENIED", "DISCOVERY_NOT_FOUND", "DISCOVERY_REDIRECT",
    "JWKS_UNREACHABLE", "JWKS_ACCESS_DENIED", "JWKS_NOT_FOUND", "JWKS_REDIRECT",
))
# Discovery failures after which the JWKS is never fetched.
_DISCOVERY_BLOCKING = frozenset(("DISCOVERY_UNREACHABLE", "DISCOVERY_ACCESS_DENIED", "DISCOVERY_NOT_FOUND", "DISCOVERY_REDIRECT",
                                 "DISCOVERY_INVALID"))

EXPLAINED_BY = {
    # code: (links whose findings explain it, warning codes that explain it when no error does, per_role)
    "DISCOVERY_UNREACHABLE": (("hosting",), ("CLOUDFRONT_NOT_DEPLOYED",), False),
    "DISCOVERY_ACCESS_DENIED": (("hosting",), ("CLOUDFRONT_NOT_DEPLOYED",), False),
    "DISCOVERY_NOT_FOUND": (("hosting",), ("CLOUDFRONT_NOT_DEPLOYED",), False),
    "DISCOVERY_REDIRECT": (("hosting",), ("CLOUDFRONT_NOT_DEPLOYED",), False),
    "JWKS_UNREACHABLE": (("hosting",), ("CLOUDFRONT_NOT_DEPLOYED",), False),
    "JWKS_ACCESS_DENIED": (("hosting",), ("CLOUDFRONT_NOT_DEPLOYED",), False),
    "JWKS_NOT_FOUND": (("hosting",), ("CLOUDFRONT_NOT_DEPLOYED",), False),
    "JWKS_REDIRECT": (("hosting",), ("CLOUDFRONT_NOT_DEPLOYED",), False),
    "STS_INVALID_IDENTITY_TOKEN": (("token", "issuer", "hosting", "discovery", "jwks", "iam_provider"),
                                   ("ISSUER_SLOW", "JWKS_TOO_MANY_KEYS", "CLOUDFRONT_NOT_DEPLOYED"), False),
    "STS_IDP_COMMUNICATION_ERROR": (("issuer", "hosting", "discovery", "jwks"), ("ISSUER_SLOW", "CLOUDFRONT_NOT_DEPLOYED"), False),
    "STS_ACCESS_DENIED": (("token", "iam_provider", "role_trust"), (), True),
    "STS_EXPIRED_TOKEN": (("token",), ("TOKEN_EXPIRED",), False),
    "STS_IDP_REJECTED_CLAIM": (("token", "iam_provider", "role_trust"), (), True),
}
"""What explains a finding: an error on one of the links (for ``per_role``, a ``role_trust`` finding only explains the
STS finding of the same role), or, when no error does, one of the warning codes."""

PLAYBOOK_FIXABLE = frozenset((
    "ISSUER_NOT_CONFIGURED", "ISSUER_URL_INVALID",
    "DISCOVERY_UNREACHABLE", "DISCOVERY_ACCESS_DENIED", "DISCOVERY_NOT_FOUND", "DISCOVERY_REDIRECT", "DISCOVERY_INVALID",
    "DISCOVERY_ISSUER_MISMATCH", "ISSUER_SLOW",
    "JWKS_URI_INVALID", "JWKS_UNREACHABLE", "JWKS_ACCESS_DENIED", "JWKS_NOT_FOUND", "JWKS_REDIRECT", "JWKS_INVALID",
    "JWKS_TOO_MANY_KEYS", "JWKS_KID_MISSING", "JWKS_KEY_MISMATCH", "TOKEN_SIGNATURE_INVALID",
    "ISSUER_BUCKET_PRIVATE", "ISSUER_BUCKET_NOT_FOUND", "CLOUDFRONT_DISABLED", "CLOUDFRONT_ORIGIN_GLOBAL_ENDPOINT",
    "CLOUDFRONT_ORIGIN_ACCESS_MISSING", "CLOUDFRONT_OAI_WITH_KMS",
    "OIDC_PROVIDER_MISSING", "OIDC_PROVIDER_AUDIENCE_MISSING",
    "ROLE_NOT_FOUND", "ROLE_TRUST_PROVIDER_MISMATCH", "ROLE_TRUST_SUBJECT_MISMATCH", "ROLE_TRUST_AUDIENCE_MISMATCH",
    "STS_INVALID_IDENTITY_TOKEN", "STS_ACCESS_DENIED", "STS_IDP_COMMUNICATION_ERROR",
))
"""Root causes the ``remediate`` playbook fixes (private bucket behind CloudFront, IAM provider, role trust, issuer)."""

DEFAULT_PLAYBOOK_PREFIX = "ansible-playbook openshift_sts.oidc.remediate"
_BEFORE_INSTALL = ("install_dir", "before_install", "pre_install", "preinstall")

_SEVERITY_RANK = dict((name, rank) for rank, name in enumerate(SEVERITIES))
_ROOT_RANK = dict((name, rank) for rank, name in enumerate(ROOT_ORDER))
_CODE_RANK = dict((code, rank) for rank, code in enumerate(CATALOGUE))
_S3_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3[.-](?:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.)?amazonaws\.com$")
_CODE_CHARS = re.compile(r"[^A-Z0-9_]")
_SAFE_SHELL = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")
MAX_LINE = 240


# ---------------------------------------------------------------- small helpers
def link_of(item):
    """The link of a finding: its ``link``, else the catalogue's, else ``other``."""
    link = item.get("link") or CATALOGUE.get(item.get("code"), {}).get("link")
    return link if link in ROOT_ORDER else "other"


def text(value):
    """A one-line string of a finding field (lists joined with '; ', dicts as key=value), redacted."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(text(item) for item in value if item not in (None, ""))
    if isinstance(value, dict):
        return ", ".join("%s=%s" % (key, text(item)) for key, item in sorted(value.items(), key=lambda pair: str(pair[0])))
    return " ".join(redact(str(value)).split())


def shorten(value, limit=MAX_LINE):
    """``value`` cut to ``limit`` characters with an ellipsis."""
    value = text(value)
    return value if len(value) <= limit else value[:limit - 1].rstrip() + u"\u2026"


def sentence(value):
    """``value`` as a sentence: trimmed, ending with a full stop."""
    value = text(value).strip()
    if value and value[-1] not in ".!?":
        value += "."
    return value


def _rank(item, index=0):
    """Sort key for the root-cause choice."""
    return (_ROOT_RANK.get(link_of(item), len(ROOT_ORDER)), _SEVERITY_RANK.get(item.get("severity"), len(SEVERITIES)),
            _CODE_RANK.get(item.get("code"), len(_CODE_RANK)), index)


def _key(item):
    """Identity of a finding, to drop duplicates reported by two modules (their messages may be worded differently)."""
    return (item.get("code"), item.get("severity"), text(item.get("subject")), text(item.get("expected")), text(item.get("actual")))


def normalize_finding(item):
    """A finding dict with every documented key, its link filled in, every string redacted."""
    code = _CODE_CHARS.sub("_", str(item.get("code") or "UNKNOWN").upper())[:64] or "UNKNOWN"
    severity = item.get("severity") if item.get("severity") in SEVERITIES else CATALOGUE.get(code, {}).get("severity", "error")
    return {
        "code": code,
        "severity": severity,
        "link": link_of(dict(item, code=code)),
        "subject": redact(item.get("subject")) if item.get("subject") is not None else "",
        "message": redact(item.get("message")) if item.get("message") is not None else "",
        "expected": redact(item.get("expected")),
        "actual": redact(item.get("actual")),
        "remediation": redact(item.get("remediation") or CATALOGUE.get(code, {}).get("remediation") or ""),
    }


def collect_findings(findings, roles=None):
    """Every finding (of ``findings`` and of each role entry), normalized, without duplicates, in chain order."""
    seen = set()
    result = []
    pool = list(findings or [])
    for role in roles or []:
        pool.extend((role or {}).get("findings") or [])
    for item in pool:
        if not isinstance(item, dict):
            continue
        item = normalize_finding(item)
        key = _key(item)
        if key in seen:
            continue
        seen.add(key)
        result.append(item)
    order = dict((name, rank) for rank, name in enumerate(DISPLAY_LINKS + ("other",)))
    indexed = sorted(enumerate(result), key=lambda pair: (order.get(pair[1]["link"], len(order)),
                                                          _SEVERITY_RANK.get(pair[1]["severity"], 9), pair[0]))
    return [item for _index, item in indexed]


# ---------------------------------------------------------------- roles
_CLAIMS = ("iss", "aud", "sub", "kid", "alg", "exp", "iat", "error")
_TRUST_KEYS = ("exists", "trust_ok", "provider_arn", "federated", "subjects", "audience_conditions", "service_accounts",
               "policy_error")


def _optional_text(value):
    return None if value is None else text(value)


def _integer(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _boolean(value):
    return value if isinstance(value, bool) else None


def _claims(claims):
    """The reported claims of a token (never the token): strings, a string or list audience, integer times."""
    result = {}
    for name in _CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if name in ("exp", "iat"):
            result[name] = _integer(value)
        elif name == "aud" and isinstance(value, (list, tuple)):
            result[name] = [text(item) for item in value]
        else:
            result[name] = _optional_text(value)
    return result


def _trust(role):
    """The AWS-side entry of a role, with the documented keys and types."""
    result = {}
    for key in _TRUST_KEYS:
        if key not in role:
            continue
        value = role[key]
        if key in ("exists", "trust_ok"):
            result[key] = _boolean(value)
        elif key in ("provider_arn", "policy_error"):
            result[key] = _optional_text(value)
        else:
            result[key] = None if value is None else redact(list(value) if isinstance(value, (list, tuple)) else [value])
    return result


def _is_sts_entry(role):
    return "error_code" in role or "attempts" in role or "claims" in role or ("ok" in role and "trust_ok" not in role)


def merge_roles(roles, findings):
    """Per-role results merged by ``role_arn`` (first occurrence sets the order).

    Accepts ``sts_assume_check``'s ``roles`` entries (ok, error_code, claims...) and ``aws_trust_check``'s (exists,
    trust_ok, federated...). Each result: ``role_arn``, ``ok`` (true, false, or null when neither STS nor the trust
    policy was checked), ``sts_ok``, ``error_code``, ``error_message``, ``claims`` (never a token), ``trust`` (the AWS-side
    entry, or null) and ``findings`` (every finding whose subject is the role).
    """
    merged = {}
    order = []
    for role in roles or []:
        if not isinstance(role, dict) or not role.get("role_arn"):
            continue
        arn = text(role["role_arn"])
        entry = merged.get(arn)
        if entry is None:
            entry = {"role_arn": arn, "ok": None, "sts_ok": None, "error_code": None, "error_message": None,
                     "claims": None, "trust": None, "findings": []}
            merged[arn] = entry
            order.append(arn)
        if _is_sts_entry(role):
            if role.get("ok") is not None:
                entry["sts_ok"] = bool(role.get("ok")) if entry["sts_ok"] is None else entry["sts_ok"] and bool(role.get("ok"))
            entry["error_code"] = entry["error_code"] or _optional_text(role.get("error_code"))
            entry["error_message"] = entry["error_message"] or _optional_text(role.get("error_message"))
            if isinstance(role.get("claims"), dict) and entry["claims"] is None:
                entry["claims"] = _claims(role["claims"])
        if any(key in role for key in ("exists", "trust_ok")):
            entry["trust"] = _trust(role)
    by_subject = {}
    for item in findings:
        by_subject.setdefault(item["subject"], []).append(item)
    results = []
    for arn in order:
        entry = merged[arn]
        entry["findings"] = list(by_subject.get(arn, []))
        failed = (entry["sts_ok"] is False or (entry["trust"] or {}).get("trust_ok") is False
                  or (entry["trust"] or {}).get("exists") is False or any(item["severity"] == "error" for item in entry["findings"]))
        if failed:
            entry["ok"] = False
        elif entry["sts_ok"] is True or (entry["trust"] or {}).get("trust_ok") is True:
            entry["ok"] = True
        results.append(entry)
    return results


# ---------------------------------------------------------------- inspection
def _timing_documents(probe):
    return set(item.get("document") for item in (probe or {}).get("timings") or [] if isinstance(item, dict))


def probe_given(probe):
    """True when ``probe`` is an ``issuer_probe`` result (not absent, not a dict of nulls for a probe that did not run)."""
    return isinstance(probe, dict) and any(probe.get(key) is not None for key in ("timings", "discovery", "jwks"))


def inspected_links(findings, checks=None, probe=None, roles=None):
    """``{link: reason}`` for every link of :data:`DISPLAY_LINKS` that was *not* inspected (absent = inspected).

    With ``checks`` (the links the diagnosis inspected), the others are not inspected. Without it, token, issuer,
    discovery and JWKS count as inspected; the AWS links (hosting, IAM provider, role trust) only with a trace of the
    AWS-side inspection (a finding on them, an ``AWS_PERMISSION_MISSING``/``AWS_INSPECTION_FAILED`` finding, or a role
    entry of ``aws_trust_check``), and never after ``AWS_CREDENTIALS_MISSING``; hosting not after
    ``HOSTING_NOT_INSPECTED``; role trust not when every AWS role entry is unknown; STS only when a role was assumed
    or an STS finding exists. In both cases a link with a finding was inspected, and discovery/JWKS are not reached
    when the probe never fetched them.
    """
    codes = set(item["code"] for item in findings)
    with_findings = set(item["link"] for item in findings)
    roles = roles or []
    missing = {}
    if checks is not None:
        wanted = set(checks)
        for link in DISPLAY_LINKS:
            if link not in wanted:
                missing[link] = "not part of this diagnosis"
    else:
        aws_trace = (with_findings.intersection(AWS_LINKS) or codes.intersection(("AWS_PERMISSION_MISSING", "AWS_INSPECTION_FAILED"))
                     or any(role.get("trust") is not None for role in roles))
        if not aws_trace:
            for link in AWS_LINKS:
                missing[link] = "not inspected: no AWS-side result"
        if not any(role.get("sts_ok") is not None for role in roles):
            missing["sts"] = "not checked: no role was assumed"
    if "AWS_CREDENTIALS_MISSING" in codes:
        for link in AWS_LINKS:
            missing[link] = "not inspected: no AWS credentials"
    if "HOSTING_NOT_INSPECTED" in codes:
        missing["hosting"] = "not inspected: %s" % shorten(next(
            item["actual"] or item["message"] for item in findings if item["code"] == "HOSTING_NOT_INSPECTED"), 160)
    aws_roles = [role for role in roles if role.get("trust") is not None]
    if aws_roles and all(role["trust"].get("trust_ok") is None and role["trust"].get("exists") is None for role in aws_roles):
        missing.setdefault("role_trust", "not inspected: the roles could not be read")
    documents = _timing_documents(probe)
    discovery_blocked = codes.intersection(_DISCOVERY_BLOCKING) or "ISSUER_URL_INVALID" in codes and "discovery" not in with_findings
    if probe_given(probe):
        if "discovery" not in documents and probe.get("discovery") is None and "discovery" not in with_findings:
            missing["discovery"] = "not fetched: the issuer URL is not usable"
        if "jwks" not in documents and probe.get("jwks") is None and "jwks" not in with_findings:
            missing["jwks"] = "not reached: the discovery document could not be read" if discovery_blocked else "not fetched"
    elif codes.intersection(_DISCOVERY_BLOCKING) and "jwks" not in with_findings:
        missing["jwks"] = "not reached: the discovery document could not be read"
    for link in with_findings:
        if link != "hosting" or "HOSTING_NOT_INSPECTED" not in codes or any(
                item["link"] == "hosting" and item["severity"] != "info" for item in findings):
            missing.pop(link, None)
    return missing


# ---------------------------------------------------------------- root cause
def _explainers(item, findings):
    """The findings that explain ``item`` (errors first, else the listed warnings), or []."""
    rule = EXPLAINED_BY.get(item["code"])
    if rule is None:
        return []
    links, warning_codes, per_role = rule
    rank = _ROOT_RANK.get(item["link"], len(ROOT_ORDER))

    def applies(other):
        if other is item or _ROOT_RANK.get(other["link"], 99) >= rank:
            return False
        if per_role and other["link"] == "role_trust" and other["subject"] != item["subject"]:
            return False
        return True
    errors = [other for other in findings if other["severity"] == "error" and other["link"] in links and applies(other)]
    if errors:
        return errors
    return [other for other in findings if other["severity"] == "warning" and other["code"] in warning_codes and applies(other)]


def _resolve(item, findings, seen):
    """The findings at the origin of ``item`` (``item`` itself when nothing explains it)."""
    if id(item) in seen:
        return []
    seen = seen | set([id(item)])
    explainers = _explainers(item, findings)
    if not explainers:
        return [item]
    result = []
    for other in explainers:
        result.extend(_resolve(other, findings, seen))
    return result


def choose_root(findings):
    """``(root finding or None, [findings explained by it])``."""
    errors = [item for item in findings if item["severity"] == "error"]
    pool = errors or [item for item in findings if item["severity"] == "warning"]
    if not pool:
        return None, []
    candidates = []
    origins = {}
    for item in pool:
        for origin in _resolve(item, findings, set()):
            if origin is not item:
                origins.setdefault(id(origin), []).append(item)
            if all(origin is not other for other in candidates):
                candidates.append(origin)
    index = dict((id(item), position) for position, item in enumerate(findings))
    root = min(candidates, key=lambda item: _rank(item, index.get(id(item), 0)))
    return root, origins.get(id(root), [])


# ---------------------------------------------------------------- links
def _evidence(items):
    """One line per code: ``CODE [xN]: subject: actual`` (or the message)."""
    lines = []
    groups = []
    for item in items:
        for group in groups:
            if group[0]["code"] == item["code"]:
                group.append(item)
                break
        else:
            groups.append([item])
    for group in groups:
        first = group[0]
        detail = first["actual"] if first["actual"] not in (None, "", []) else first["message"]
        line = "%s%s: %s" % (first["code"], " \u00d7%d" % len(group) if len(group) > 1 else "",
                             "%s: %s" % (text(first["subject"]), text(detail)) if first["subject"] else text(detail))
        lines.append(shorten(line))
    return lines


def _ok_summary(link, issuer, probe, roles):
    """What was seen on a link with no problem."""
    probe = probe or {}
    timings = dict((item.get("document"), item) for item in probe.get("timings") or [] if isinstance(item, dict))
    sts_roles = [role for role in roles if role.get("sts_ok") is not None]
    trust_roles = [role for role in roles if (role.get("trust") or {}).get("trust_ok") is not None]
    if link == "issuer":
        return text(issuer) or "no problem found"
    if link == "token":
        claims = next((role["claims"] for role in roles if role.get("claims") and role["claims"].get("iss")), None) \
            or probe.get("token_claims")
        if claims and claims.get("iss"):
            return "tokens carry iss %s" % text(claims.get("iss"))
        return "no problem found"
    if link in ("discovery", "jwks") and link in timings:
        timing = timings[link]
        summary = "%s answered HTTP %s in %.2f s" % (text(timing.get("url")), timing.get("status"), float(timing.get("elapsed") or 0))
        keys = (probe.get("jwks") or {}).get("keys") if link == "jwks" else None
        if isinstance(keys, list):
            summary += ", %d key%s" % (len(keys), "" if len(keys) == 1 else "s")
        return summary
    if link == "role_trust" and trust_roles:
        return "%d role%s the issuer's provider" % (len(trust_roles), " trusts" if len(trust_roles) == 1 else "s trust")
    if link == "sts" and sts_roles:
        return "STS accepted the tokens of %d of %d role%s" % (
            sum(1 for role in sts_roles if role["sts_ok"]), len(sts_roles), "" if len(sts_roles) == 1 else "s")
    return "no problem found"


def _link_fix(problems, consequence, root):
    """The fix shown under a link: its first problem's remediation, or the pointer to the root cause it follows from."""
    if not problems:
        return None
    if root is not None and len(consequence) == len(problems):
        return "This follows from %s (%s): fix that first, then check again." % (
            root["code"], LINK_TITLES.get(root["link"], root["link"]))
    return text(problems[0]["remediation"])


def build_links(findings, missing, root, consequences, issuer=None, probe=None, roles=None):
    """One entry per link of :data:`DISPLAY_LINKS` (``other`` only when it has findings)."""
    roles = roles or []
    names = list(DISPLAY_LINKS) + (["other"] if any(item["link"] == "other" and item["severity"] != "info" for item in findings) else [])
    sts_failed = any(item["link"] == "sts" and item["severity"] == "error" for item in findings)
    sts_proven = any(role.get("sts_ok") for role in roles) and not sts_failed
    entries = []
    for name in names:
        items = [item for item in findings if item["link"] == name]
        worst = min((_SEVERITY_RANK.get(item["severity"], 9) for item in items), default=9)
        if worst == 0:
            state = "fail"
        elif worst == 1:
            state = "warn"
        elif name in missing:
            state = "unknown"
        else:
            state = "ok"
        problems = [item for item in items if item["severity"] != "info"]
        consequence = [item for item in problems if any(item is other for other in consequences)]
        if state in ("fail", "warn"):
            first = problems[0]
            same = sum(1 for item in problems if item["code"] == first["code"])
            detail = text(first["message"])
            if name == "sts" and same > 1:
                refused = len(set(item["subject"] for item in problems if item["severity"] == "error"))
                total = max(refused, len([role for role in roles if role.get("sts_ok") is not None]))
                detail = "STS refused the tokens of %d of %d roles: %s" % (refused, total, text(first["actual"]))
            summary = "%s%s%s: %s" % (first["code"], " \u00d7%d" % same if same > 1 else "",
                                      " (consequence of %s)" % root["code"] if consequence and len(consequence) == len(problems) else "",
                                      detail)
            if len(problems) > same:
                summary += " (and %d more)" % (len(problems) - same)
        elif state == "unknown":
            summary = missing[name]
            if sts_proven and name != "sts":
                summary += "; STS accepted the tokens, so it works"
        else:
            summary = _ok_summary(name, issuer, probe, roles)
        entry = {
            "name": name,
            "title": LINK_TITLES.get(name, name),
            "short_title": SHORT_TITLES.get(name, name),
            "state": state,
            "inspected": name not in missing or bool(items),
            "summary": shorten(summary),
            "evidence": _evidence(items),
            "findings": sorted(set(item["code"] for item in items), key=[item["code"] for item in items].index),
            "fix": _link_fix(problems, consequence, root),
            "root_cause": bool(root is not None and any(item is root for item in items)),
            "consequence_of": root["code"] if consequence and root is not None else None,
            "attached_to": list(HOSTING_ATTACHED_TO) if name == "hosting" else None,
        }
        entries.append(entry)
    return entries


# ---------------------------------------------------------------- explanation and fix
def _s3_bucket(issuer, findings):
    """``(bucket, region)`` of an S3 issuer (from the issuer host or a hosting finding's s3:// subject)."""
    host = text(issuer).split("://", 1)[-1].split("/", 1)[0].lower()
    match = _S3_HOST.match(host)
    if match:
        return match.group("bucket"), match.group("region")
    for item in findings:
        subject = text(item["subject"])
        if item["link"] == "hosting" and subject.startswith("s3://"):
            return subject[5:].split("/", 1)[0] or None, None
    return None, None


def _quote(value):
    value = text(value)
    return value if _SAFE_SHELL.match(value) else "'%s'" % value.replace("'", "'\"'\"'")


def build_fix(root, findings, issuer=None, cluster=None, hints=None):
    """The fix of the root cause: ``{text, command, playbook, mode, variables}`` (command null when no playbook applies)."""
    if root is None:
        return None
    hints = hints or {}
    cluster = cluster or {}
    remediation = sentence(root["remediation"])
    if root["code"] not in PLAYBOOK_FIXABLE:
        return {"text": remediation, "command": None, "playbook": None, "mode": None, "variables": {}}
    install_dir = hints.get("install_dir") or cluster.get("install_dir")
    source = cluster.get("source") or ("install_dir" if install_dir else "live")
    mode = "install_dir" if text(source).lower().replace("-", "_") in _BEFORE_INSTALL else "live"
    bucket, region = _s3_bucket(issuer, findings)
    variables = {}
    if mode == "install_dir":
        variables["oidc_install_dir"] = text(install_dir or "<install-dir>")
    variables["oidc_bucket_name"] = text(hints.get("bucket_name") or bucket or "<bucket-name>")
    if hints.get("region") or region:
        variables["oidc_aws_region"] = text(hints.get("region") or region)
    for name, value in sorted((hints.get("extra_vars") or {}).items()):
        variables[text(name)] = text(value) if not isinstance(value, bool) else ("true" if value else "false")
    if mode == "live":
        variables["oidc_confirm"] = "true"
    prefix = text(hints.get("playbook_prefix") or DEFAULT_PLAYBOOK_PREFIX)
    command = prefix + "".join(" -e %s" % _quote("%s=%s" % (name, value)) for name, value in variables.items())
    if mode == "install_dir":
        how = ("Before installing, run the remediate playbook with %s: it serves the issuer from a private S3 bucket through "
               "CloudFront with origin access control, registers the IAM OIDC provider, rewrites the roles' trust and the install "
               "manifests, and verifies them with STS." % ", ".join(sorted(variables)))
    else:
        how = ("On the running cluster, run the remediate playbook with %s (first without oidc_confirm to see the plan): it "
               "moves the issuer to a private S3 bucket behind CloudFront, adds the new provider to the roles' trust, patches "
               "the issuer and restarts the affected pods." % ", ".join(sorted(variables)))
    return {"text": "%s By hand: %s" % (how, remediation), "command": command,
            "playbook": prefix.split()[-1] if prefix.split() else prefix, "mode": mode, "variables": variables}


def build_explanation(status, root, consequences, findings, missing, roles):
    """2 to 4 sentences: what is broken, the evidence, what follows from it, and what could not be seen."""
    if status == "healthy":
        sts_roles = [role for role in roles if role.get("sts_ok") is not None]
        if sts_roles:
            return "Every inspected link of the trust chain works: STS accepted the tokens of all %d role%s." % (
                len(sts_roles), "" if len(sts_roles) == 1 else "s")
        return "No problem was found on any inspected link of the trust chain."
    if root is None:
        names = ", ".join(LINK_TITLES.get(link, link) for link in DISPLAY_LINKS if link in missing)
        return ("No problem was found, but the chain could not be verified end to end: %s %s not inspected and no role was "
                "assumed through STS. Run the diagnosis with AWS credentials and the cluster's roles to verify it." % (
                    names, "was" if "," not in names else "were"))
    parts = ["%s (%s): %s" % (CATALOGUE.get(root["code"], {}).get("title", root["code"]), root["code"], sentence(root["message"]))]
    evidence = "Evidence: %s%s" % ("%s: " % text(root["subject"]) if root["subject"] else "", shorten(root["actual"] or root["message"], 300))
    if root["expected"] not in (None, "", []):
        evidence += " (expected: %s)" % shorten(root["expected"], 120)
    parts.append(sentence(evidence))
    access = [item for item in consequences if item["code"] in _ACCESS_CODES]
    if access:
        parts.append(sentence("As a result an anonymous GET of %s answered %s" % (text(access[0]["subject"]), shorten(access[0]["actual"], 200))))
    sts = [item for item in consequences if item["link"] == "sts"]
    if sts:
        total = len([role for role in roles if role.get("sts_ok") is not None]) or len(sts)
        codes = sorted(set(item["code"] for item in sts))
        parts.append("STS refused the tokens of %d of %d role%s (%s) because of it." % (
            len(set(item["subject"] for item in sts)), max(total, len(set(item["subject"] for item in sts))),
            "" if total == 1 else "s", ", ".join(codes)))
    if len(parts) < 4 and root["code"] in _ACCESS_CODES and "hosting" in missing:
        parts.append("The issuer's hosting was %s, so the bucket or CloudFront setting that blocks the request is not known%s." % (
            missing["hosting"].replace("not inspected: ", "not inspected (") + ")" if missing["hosting"].startswith("not inspected: ")
            else missing["hosting"],
            "; run the diagnosis with AWS credentials to see it" if "AWS credentials" in missing["hosting"] else ""))
    return " ".join(parts[:4])


# ---------------------------------------------------------------- verdict
def _counts(findings, roles):
    by_severity = dict((name, sum(1 for item in findings if item["severity"] == name)) for name in SEVERITIES)
    by_severity["total"] = len(findings)
    return {
        "roles": {"total": len(roles), "ok": sum(1 for role in roles if role["ok"] is True),
                  "failed": sum(1 for role in roles if role["ok"] is False),
                  "unknown": sum(1 for role in roles if role["ok"] is None)},
        "findings": by_severity,
    }


def _unverified(links, roles):
    """True when a link that matters was not inspected and no STS call proved the chain end to end."""
    states = dict((entry["name"], entry["state"]) for entry in links)
    if states.get("sts") == "ok" and any(role.get("sts_ok") for role in roles):
        return False
    relevant = [name for name in CHAIN if name != "sts"]
    if states.get("discovery") != "ok" or states.get("jwks") != "ok":
        relevant.append("hosting")
    return any(states.get(name) == "unknown" for name in relevant)


def _headline(status, root):
    """One line: ``broken \u2014 root cause CODE: message``."""
    if root is not None:
        return shorten("%s \u2014 root cause %s: %s" % (status, root["code"], text(root["message"]).rstrip(".")), 400)
    if status == "degraded":
        return "degraded \u2014 the chain could not be verified end to end"
    return "healthy \u2014 every inspected link of the trust chain works"


def compute_verdict(findings, roles=None, checks=None, probe=None, issuer=None, cluster=None, hints=None):
    """The verdict of a diagnosis.

    ``findings``: every finding of every module; ``roles``: per-role entries of ``sts_assume_check`` and
    ``aws_trust_check``; ``checks``: the links inspected (None: derived, see :func:`inspected_links`); ``probe``:
    ``issuer_probe``'s result (discovery, jwks, timings); ``cluster``: name, source (live|install_dir), api_url,
    install_dir; ``hints``: remediation hints (playbook_prefix, install_dir, bucket_name, region, extra_vars).

    Returns ``{"verdict": {...}, "findings": [...], "roles": [...]}`` with the normalized findings and merged roles.
    """
    items = collect_findings(findings, roles)
    merged = merge_roles(roles, items)
    missing = inspected_links(items, checks, probe, merged)
    root, consequences = choose_root(items)
    links = build_links(items, missing, root, consequences, issuer, probe, merged)
    if any(item["severity"] == "error" for item in items):
        status = "broken"
    elif any(item["severity"] == "warning" for item in items) or _unverified(links, merged):
        status = "degraded"
    else:
        status = "healthy"
    also = []
    for item in items:
        if item["severity"] in ("error", "warning") and item is not root and all(item is not other for other in consequences) \
                and item["code"] not in also:
            also.append(item["code"])
    verdict = {
        "status": status,
        "root_cause": root["code"] if root is not None else None,
        "root_link": root["link"] if root is not None else None,
        "root_subject": text(root["subject"]) if root is not None else None,
        "headline": _headline(status, root),
        "explanation": build_explanation(status, root, consequences, items, missing, merged),
        "fix": build_fix(root, items, issuer, cluster, hints),
        "consequences": sorted(set(item["code"] for item in consequences)),
        "also_failing": also,
        "links": links,
        "counts": _counts(items, merged),
    }
    return {"verdict": verdict, "findings": items, "roles": merged}


LABELS = {"ok": "[OK]", "warn": "[WARN]", "fail": "[FAIL]", "unknown": "[INFO]"}


def summary_lines(verdict):
    """The console summary: one ``[OK]``/``[WARN]``/``[FAIL]``/``[INFO]`` line per link, then the verdict (and fix)."""
    lines = ["%s %s: %s" % (LABELS[entry["state"]], entry["title"], entry["summary"]) for entry in verdict["links"]]
    lines.append("VERDICT: %s" % verdict["headline"])
    if verdict["fix"]:
        lines.append(shorten("FIX: %s" % (verdict["fix"]["command"] or verdict["fix"]["text"]), 400))
    return lines
