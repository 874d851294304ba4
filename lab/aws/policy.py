"""A small IAM policy evaluator for bucket policies and role trust policies.

It covers what the lab's scenarios need: ``Effect``, ``Principal`` /
``NotPrincipal``, ``Action`` / ``NotAction``, ``Resource`` / ``NotResource``
with IAM wildcards, and the ``String*``, ``Arn*``, ``Bool`` and ``Null``
condition operators with the ``IfExists`` suffix and ``ForAnyValue:`` /
``ForAllValues:`` prefixes. Condition keys are case-insensitive, values are
case-sensitive (except ``StringEqualsIgnoreCase``), as in IAM.

A *principal* is a dict: ``{"type": "anonymous"}``, ``{"type": "Service",
"id": "cloudfront.amazonaws.com"}``, ``{"type": "AWS", "id": <arn>,
"canonical": <S3 canonical user id or None>}`` or ``{"type": "Federated",
"id": <provider arn>}``.
"""

import json
import re

# Condition keys that pin a wildcard principal to a known caller: a statement
# constrained by one of them with a fixed value is not "public" (S3 "The
# meaning of public" in the Block Public Access documentation).
RESTRICTING_KEYS = frozenset(k.lower() for k in (
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce",
    "aws:SourceIp", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths", "aws:userid", "aws:PrincipalServiceName", "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount",
))

ANONYMOUS = {"type": "anonymous"}


def as_list(value):
    """``value`` as a list (IAM accepts a scalar or a list almost everywhere)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def load(document):
    """Parse a policy document (str, bytes or dict); None if absent or invalid."""
    if document is None:
        return None
    if isinstance(document, dict):
        return document
    if isinstance(document, bytes):
        document = document.decode("utf-8")
    try:
        parsed = json.loads(document)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def statements(policy):
    """The statements of a parsed policy, as a list of dicts."""
    if not policy:
        return []
    return [s for s in as_list(policy.get("Statement")) if isinstance(s, dict)]


def _wildcard_regex(pattern, ignore_case):
    regex = "^" + ".*".join(".".join(re.escape(p) for p in part.split("?")) for part in pattern.split("*")) + "$"
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def wildcard_match(pattern, value, ignore_case=False):
    """IAM wildcard match: ``*`` any run of characters, ``?`` one character."""
    return bool(_wildcard_regex(str(pattern), ignore_case).match(str(value)))


def _principal_matches(spec, principal):
    if spec == "*":
        return True
    if not isinstance(spec, dict):
        return False
    if "*" in as_list(spec.get("AWS")):
        return True
    kind = principal.get("type")
    if kind == "anonymous":
        return False
    if kind == "AWS":
        if principal.get("id") in as_list(spec.get("AWS")):
            return True
        canonical = principal.get("canonical")
        return bool(canonical) and canonical in as_list(spec.get("CanonicalUser"))
    return principal.get("id") in as_list(spec.get(kind))


def _matches_any(patterns, value, ignore_case):
    return any(wildcard_match(p, value, ignore_case) for p in as_list(patterns))


def _compare(base, expected, actual):
    if base in ("StringEquals", "ArnEquals"):
        return expected == actual
    if base == "StringEqualsIgnoreCase":
        return expected.lower() == actual.lower()
    if base in ("StringLike", "ArnLike"):
        return wildcard_match(expected, actual)
    if base == "Bool":
        return expected.lower() == actual.lower()
    raise ValueError(base)


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_POSITIVE = ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool")


def _stringify(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _condition_holds(operator, key, expected_values, context):
    qualifier = None
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    present = key.lower() in context
    actual = as_list(context.get(key.lower()))
    expected = [_stringify(v) for v in as_list(expected_values)]
    if operator == "Null":
        wants_null = expected and expected[0].lower() == "true"
        return wants_null != present
    if not present:
        if qualifier == "ForAllValues":
            return True
        return if_exists or operator in _NEGATED
    actual = [_stringify(v) for v in actual]
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)
    if base not in _POSITIVE:
        return False  # unsupported operator: never matches (fail closed)
    if qualifier == "ForAllValues":
        result = all(any(_compare(base, e, a) for e in expected) for a in actual)
    else:
        result = any(_compare(base, e, a) for e in expected for a in actual)
    return not result if negated else result


def conditions_hold(block, context):
    """True if every condition of a ``Condition`` block holds in ``context``.

    ``context`` maps lower-case condition keys to a value or a list of values.
    """
    if not block:
        return True
    if not isinstance(block, dict):
        return False
    for operator, pairs in block.items():
        if not isinstance(pairs, dict):
            return False
        for key, values in pairs.items():
            if not _condition_holds(operator, key, values, context):
                return False
    return True


def statement_applies(statement, principal, action, resource, context):
    """True if ``statement`` covers this principal, action, resource and context."""
    if "Principal" in statement:
        if not _principal_matches(statement["Principal"], principal):
            return False
    elif "NotPrincipal" in statement:
        if _principal_matches(statement["NotPrincipal"], principal):
            return False
    if "Action" in statement:
        if not _matches_any(statement["Action"], action, True):
            return False
    elif "NotAction" in statement:
        if _matches_any(statement["NotAction"], action, True):
            return False
    if resource is not None:
        if "Resource" in statement:
            if not _matches_any(statement["Resource"], resource, False):
                return False
        elif "NotResource" in statement:
            if _matches_any(statement["NotResource"], resource, False):
                return False
    return conditions_hold(statement.get("Condition"), context)


def statement_is_public(statement):
    """True if an Allow statement grants a wildcard principal without a pinning condition."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotPrincipal" in statement:
        return True
    spec = statement.get("Principal")
    wildcard = spec == "*" or (isinstance(spec, dict) and "*" in as_list(spec.get("AWS")))
    if not wildcard:
        return False
    block = statement.get("Condition") or {}
    if isinstance(block, dict):
        for operator, pairs in block.items():
            if not isinstance(pairs, dict) or "Not" in operator or operator.endswith("IfExists"):
                continue
            for key, values in pairs.items():
                if key.lower() in RESTRICTING_KEYS:
                    values = [_stringify(v) for v in as_list(values)]
                    if values and not any("*" in v or v == "0.0.0.0/0" for v in values):
                        return False
    return True


def policy_is_public(policy):
    """True if any statement of ``policy`` is public (S3's definition)."""
    return any(statement_is_public(s) for s in statements(load(policy)))


def evaluate(policy, principal, action, resource, context, ignore_public=False):
    """Evaluate one request against one policy: ``"deny"``, ``"allow"`` or None (implicit deny).

    With ``ignore_public`` the public Allow statements are neutralised (S3's
    RestrictPublicBuckets); Deny statements always count.
    """
    allowed = False
    for statement in statements(load(policy)):
        if not statement_applies(statement, principal, action, resource, context):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return "deny"
        if effect == "Allow":
            if ignore_public and statement_is_public(statement):
                continue
            allowed = True
    return "allow" if allowed else None
