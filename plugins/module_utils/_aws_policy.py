# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small, read-only IAM policy evaluator for trust policies and bucket policies (private module_util).

Policies are compared *semantically*: ccoctl and other tools build them with string formatting, so
whitespace, key order, scalar-versus-list values and URL encoding do not matter.

The evaluator answers "does this statement apply to this request?" with three values: ``True``,
``False`` or ``None`` (it depends on a condition key whose value cannot be known here, such as
``aws:SourceIp``). A request context is a *resolver*: a function of the lower-case condition key that
returns ``(PRESENT, [values])``, ``(MISSING, None)`` (the key is never in the request) or
``(UNKNOWN, None)``.

Covered: ``Effect``, ``Principal``/``NotPrincipal``, ``Action``/``NotAction``, ``Resource``/``NotResource``
with IAM wildcards (``*``, ``?``); condition operators ``String*``, ``Arn*``, ``Bool`` and ``Null``, with the
``IfExists`` suffix and the ``ForAnyValue:``/``ForAllValues:`` prefixes. Other operators evaluate to unknown.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

PRESENT = "present"
MISSING = "missing"
UNKNOWN = "unknown"

ANONYMOUS = {"type": "anonymous"}

# Condition keys that pin a wildcard principal to known callers: an Allow statement constrained by one of
# them with a fixed value is not "public" in S3's sense (Block Public Access, "The meaning of public").
RESTRICTING_KEYS = frozenset(key.lower() for key in (
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp",
    "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:userid",
    "aws:PrincipalServiceName", "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
))

_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_POSITIVE = frozenset(("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"))


class PolicyError(ValueError):
    """A policy document that is not a JSON object."""


def as_list(value):
    """``value`` as a list: IAM accepts a scalar or a list almost everywhere."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def load_policy(document):
    """Parse a policy document: a dict, a JSON string, or URL-encoded JSON (IAM's ``AssumeRolePolicyDocument``).

    Raises :class:`PolicyError` when it is not a JSON object.
    """
    if isinstance(document, dict):
        return document
    if isinstance(document, bytes):
        document = document.decode("utf-8", "replace")
    if not isinstance(document, str):
        raise PolicyError("the policy document is a %s, not a JSON object" % type(document).__name__)
    text = document.strip()
    if not text.startswith("{") and "%7B" in text.upper()[:8]:
        text = unquote(text)
    try:
        parsed = json.loads(text)
    except ValueError as error:
        raise PolicyError("the policy document is not valid JSON: %s" % error)
    if not isinstance(parsed, dict):
        raise PolicyError("the policy document is not a JSON object")
    return parsed


def statements(policy):
    """The statements of a parsed policy (dicts only)."""
    if not isinstance(policy, dict):
        return []
    return [item for item in as_list(policy.get("Statement")) if isinstance(item, dict)]


def stringify(value):
    """A condition or principal value as IAM compares it: booleans as true/false, others as str."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_REGEX_CACHE = {}


def wildcard_match(pattern, value, ignore_case=False):
    """IAM wildcard match of the whole ``value``: ``*`` any run of characters, ``?`` exactly one."""
    key = (pattern, ignore_case)
    regex = _REGEX_CACHE.get(key)
    if regex is None:
        body = ".*".join(".".join(re.escape(piece) for piece in part.split("?")) for part in stringify(pattern).split("*"))
        regex = re.compile("^" + body + "$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)
        _REGEX_CACHE[key] = regex
    return regex.match(stringify(value)) is not None


def _matches_any(patterns, value, ignore_case):
    return any(wildcard_match(pattern, value, ignore_case) for pattern in as_list(patterns))


def principal_matches(spec, principal):
    """Whether a ``Principal`` element names ``principal``.

    ``principal`` is ``{"type": "anonymous"}``, ``{"type": "Service", "id": "cloudfront.amazonaws.com"}``,
    ``{"type": "AWS", "id": <arn>, "canonical": <S3 canonical user id or None>}`` or
    ``{"type": "Federated", "id": <provider arn>}``. ``"*"`` and ``{"AWS": "*"}`` match everyone.
    """
    if spec == "*":
        return True
    if not isinstance(spec, dict):
        return False
    if "*" in as_list(spec.get("AWS")):
        return True
    kind = principal.get("type")
    ident = principal.get("id")
    if kind == "anonymous" or not ident:
        return False
    if kind == "AWS":
        canonical = principal.get("canonical")
        return ident in as_list(spec.get("AWS")) or bool(canonical and canonical in as_list(spec.get("CanonicalUser")))
    if kind == "Service":
        return ident.lower() in [stringify(item).lower() for item in as_list(spec.get("Service"))]
    return ident in as_list(spec.get(kind))


def wildcard_principal(spec):
    """True when a ``Principal`` element is ``"*"`` or ``{"AWS": "*"}`` (everyone, also anonymous callers)."""
    return spec == "*" or (isinstance(spec, dict) and "*" in as_list(spec.get("AWS")))


def _compare(base, expected, actual):
    if base in ("StringEquals", "ArnEquals"):
        return expected == actual
    if base == "StringEqualsIgnoreCase":
        return expected.lower() == actual.lower()
    if base in ("StringLike", "ArnLike"):
        return wildcard_match(expected, actual)
    return expected.lower() == actual.lower()  # Bool


def _split_operator(operator):
    qualifier = None
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[:-len("IfExists")]
    return qualifier, operator, if_exists


def condition_holds(operator, key, expected_values, resolve):
    """Evaluate one ``operator: {key: values}`` pair: True, False, or None (unknown)."""
    qualifier, base_operator, if_exists = _split_operator(stringify(operator))
    state, actual = resolve(stringify(key).lower())
    expected = [stringify(item) for item in as_list(expected_values)]
    if base_operator == "Null":
        if state == UNKNOWN:
            return None
        wants_absent = bool(expected) and expected[0].lower() == "true"
        return wants_absent == (state == MISSING)
    negated = base_operator in _NEGATED
    base = _NEGATED.get(base_operator, base_operator)
    if base not in _POSITIVE:
        return None
    if state == UNKNOWN:
        return None
    if state == MISSING:
        if qualifier == "ForAllValues":
            return True
        return if_exists or negated
    actual = [stringify(item) for item in as_list(actual)]
    if qualifier == "ForAllValues":
        result = all(any(_compare(base, item, value) for item in expected) for value in actual)
    else:
        result = any(_compare(base, item, value) for item in expected for value in actual)
    return not result if negated else result


def evaluate_conditions(block, resolve):
    """Evaluate a ``Condition`` block (every pair must hold).

    Returns ``(result, failures, unknown)``: ``result`` True/False/None, ``failures`` and ``unknown`` the
    ``{"operator", "key", "values"}`` pairs that failed or could not be evaluated.
    """
    failures, unknown = [], []
    if not block:
        return True, failures, unknown
    if not isinstance(block, dict):
        return False, [{"operator": None, "key": None, "values": block}], unknown
    for operator, pairs in block.items():
        if not isinstance(pairs, dict):
            failures.append({"operator": operator, "key": None, "values": pairs})
            continue
        for key, values in pairs.items():
            outcome = condition_holds(operator, key, values, resolve)
            item = {"operator": operator, "key": key, "values": values}
            if outcome is False:
                failures.append(item)
            elif outcome is None:
                unknown.append(item)
    if failures:
        return False, failures, unknown
    return (None if unknown else True), failures, unknown


def statement_matches_request(statement, principal, action, resource=None):
    """Whether a statement's principal, action and resource elements cover the request (conditions aside)."""
    if "Principal" in statement:
        if not principal_matches(statement["Principal"], principal):
            return False
    elif "NotPrincipal" in statement:
        if principal_matches(statement["NotPrincipal"], principal):
            return False
    if "Action" in statement:
        if not _matches_any(statement["Action"], action, True):
            return False
    elif "NotAction" in statement:
        if _matches_any(statement["NotAction"], action, True):
            return False
    else:
        return False
    if resource is not None:
        if "Resource" in statement:
            if not _matches_any(statement["Resource"], resource, False):
                return False
        elif "NotResource" in statement:
            if _matches_any(statement["NotResource"], resource, False):
                return False
    return True


def statement_is_public(statement):
    """True when an Allow statement grants a wildcard principal without a condition that pins the caller."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotPrincipal" in statement:
        return True
    if not wildcard_principal(statement.get("Principal")):
        return False
    block = statement.get("Condition") or {}
    if isinstance(block, dict):
        for operator, pairs in block.items():
            qualifier, base, if_exists = _split_operator(stringify(operator))
            if not isinstance(pairs, dict) or base in _NEGATED or if_exists or qualifier == "ForAllValues":
                continue
            for key, values in pairs.items():
                if stringify(key).lower() in RESTRICTING_KEYS:
                    values = [stringify(item) for item in as_list(values)]
                    if values and not any("*" in item or item == "0.0.0.0/0" for item in values):
                        return False
    return True


def evaluate(policy, principal, action, resource, resolve, neutralise_public=False):
    """Evaluate one request against a parsed policy.

    Returns a dict: ``decision`` (``allow``, ``deny`` or ``implicit``), ``allowed_by`` and ``denied_by`` (the
    statements that decide), ``unevaluated`` (statements that depend on unknown condition values: counted as
    applying for Allow, not applying for Deny, so only certain failures are reported) and ``neutralised``
    (public Allow statements ignored because of ``neutralise_public``, S3's RestrictPublicBuckets).
    """
    allowed, denied, unevaluated, neutralised = [], [], [], []
    for statement in statements(policy):
        if not statement_matches_request(statement, principal, action, resource):
            continue
        result, dummy, unknown = evaluate_conditions(statement.get("Condition"), resolve)
        if result is False:
            continue
        if result is None:
            unevaluated.append({"statement": statement, "conditions": unknown})
        effect = statement.get("Effect")
        if effect == "Deny" and result is True:
            denied.append(statement)
        elif effect == "Allow":
            if neutralise_public and statement_is_public(statement):
                neutralised.append(statement)
            else:
                allowed.append(statement)
    decision = "deny" if denied else ("allow" if allowed else "implicit")
    return {"decision": decision, "allowed_by": allowed, "denied_by": denied, "unevaluated": unevaluated,
            "neutralised": neutralised}


def statement_label(statement, index=None):
    """A short name for a statement in messages: its Sid, else its position."""
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    if sid:
        return "statement %s" % sid
    if index is not None:
        return "statement #%d" % (index + 1)
    return "a statement without Sid"
