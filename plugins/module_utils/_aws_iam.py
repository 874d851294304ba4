# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IAM side of the trust chain: the OIDC provider and the roles' trust policies (private module_util).

STS finds the IAM OIDC provider whose URL equals the token's ``iss`` minus ``https://`` in the role's
account, checks ``aud`` against its client IDs, then evaluates the role's trust policy for the action
``sts:AssumeRoleWithWebIdentity`` with the principal ``Federated: arn:<partition>:iam::<account>:oidc-provider/
<host and path>`` and the condition keys ``<host and path>:sub`` and ``:aud``.
"""

from __future__ import annotations

import re

from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_policy as policy
from ansible_collections.openshift_sts.oidc.plugins.module_utils._aws_calls import TrustCheckErrorHandler, retry
from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding

WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity"
_ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?P<path_name>.+)$")
_SUBJECT = re.compile(r"^system:serviceaccount:(?P<namespace>[^:\s]+):(?P<name>[^:\s]+)$")
_PROVIDER_MARK = ":oidc-provider/"


# ---------------------------------------------------------------- names
def partition_for_region(region):
    """The AWS partition of a region: ``aws-us-gov``, ``aws-cn``, ``aws-eusc`` or ``aws``."""
    region = (region or "").lower()
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("eusc-"):
        return "aws-eusc"
    return "aws"


def provider_arn(partition, account, host_and_path):
    """The ARN of the IAM OIDC provider of an issuer (``host_and_path`` = issuer without ``https://``)."""
    return "arn:%s:iam::%s:oidc-provider/%s" % (partition, account, host_and_path)


def provider_url_from_arn(arn):
    """The provider URL (without scheme) an OIDC provider ARN names, or None."""
    if not isinstance(arn, str) or _PROVIDER_MARK not in arn:
        return None
    return arn.split(_PROVIDER_MARK, 1)[1]


def account_from_arn(arn):
    """The account id of an ARN, or None."""
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    return parts[4] if len(parts) == 6 and parts[4].isdigit() else None


def parse_role_arn(arn):
    """``{"partition", "account", "name", "path"}`` of a role ARN; raises ``ValueError`` for anything else."""
    match = _ROLE_ARN.match(arn or "")
    if not match:
        raise ValueError("%r is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>)" % (arn,))
    path_name = match.group("path_name")
    name = path_name.rsplit("/", 1)[-1]
    path = "/" + path_name[:-len(name)] if "/" in path_name else "/"
    return {"partition": match.group("partition"), "account": match.group("account"), "name": name, "path": path}


def normalize_subject(service_account):
    """``system:serviceaccount:<namespace>:<name>`` from that string or from ``{namespace, name}``.

    Raises ``ValueError`` for anything else.
    """
    if isinstance(service_account, dict):
        namespace, name = service_account.get("namespace"), service_account.get("name")
        if not (isinstance(namespace, str) and isinstance(name, str) and namespace and name) or \
                set(service_account) - set(("namespace", "name")):
            raise ValueError("a service account dict needs exactly the string keys namespace and name, got %r" % (service_account,))
        subject = "system:serviceaccount:%s:%s" % (namespace, name)
    elif isinstance(service_account, str):
        subject = service_account.strip()
    else:
        raise ValueError("a service account is a string or a dict, got %r" % (service_account,))
    if not _SUBJECT.match(subject):
        raise ValueError("%r is not of the form system:serviceaccount:<namespace>:<name>" % (subject,))
    return subject


def find_provider(arns, host_and_path):
    """``(exact ARN or None, near misses)`` among provider ARNs for the issuer's ``host_and_path``.

    A near miss names the issuer up to case, a trailing slash or a leading ``https://``: STS compares
    exactly, so it does not count, but it is worth showing.
    """
    exact = None
    near = []
    wanted = host_and_path.lower().rstrip("/")
    for arn in arns:
        url = provider_url_from_arn(arn)
        if url is None:
            continue
        if url == host_and_path:
            exact = exact or arn
            continue
        bare = url.lower()
        for prefix in ("https://", "http://"):
            if bare.startswith(prefix):
                bare = bare[len(prefix):]
        if bare.rstrip("/") == wanted:
            near.append(url)
    return exact, near


def _near_miss_reason(url, host_and_path):
    """How a near-miss provider URL differs from the issuer's ``host_and_path``, in words."""
    bare = url.split("://", 1)[-1]
    reasons = []
    if "://" in url:
        reasons.append("includes the scheme")
    if bare.rstrip("/") != bare:
        reasons.append("ends with '/'")
    if bare.rstrip("/") != host_and_path and bare.rstrip("/").lower() == host_and_path.lower():
        reasons.append("differs in case")
    return " and ".join(reasons) or "differs"


# ---------------------------------------------------------------- API helpers
@TrustCheckErrorHandler.common_error_handler("list the IAM OIDC providers")
@retry
def list_oidc_providers(client):
    """The ARNs of the account's IAM OIDC providers (one call, not paginated)."""
    return [item["Arn"] for item in client.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])]


@TrustCheckErrorHandler.common_error_handler("get the IAM OIDC provider {arn}")
@retry
def get_oidc_provider(client, arn):
    """``GetOpenIDConnectProvider`` (``Url`` without scheme, ``ClientIDList``, ``ThumbprintList``)."""
    return client.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)


@IAMErrorHandler.list_error_handler("get role {name}")
@retry
def get_role(client, name):
    """``GetRole``; None when the role does not exist."""
    return client.get_role(RoleName=name)["Role"]


@TrustCheckErrorHandler.common_error_handler("list the IAM roles")
@retry
def list_roles(client):
    """Every role of the account by ARN, trust policies included (``ListRoles``, 1000 per page)."""
    roles, marker = {}, None
    while True:
        page = client.list_roles(MaxItems=1000, **({"Marker": marker} if marker else {}))
        roles.update((role["Arn"], role) for role in page.get("Roles", []))
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return roles


@TrustCheckErrorHandler.common_error_handler("get the caller identity")
@retry
def get_caller_identity(client):
    """``sts:GetCallerIdentity`` (needs no permission)."""
    return client.get_caller_identity()


# ---------------------------------------------------------------- provider
def check_provider(issuer, host_and_path, audience, arns, details):
    """Findings and the ``provider`` result for the IAM OIDC provider of ``issuer``.

    ``arns``: the provider ARNs listed; ``details``: ``GetOpenIDConnectProvider`` of the exact match (or None).
    """
    exact, near = find_provider(arns, host_and_path)
    findings = []
    if exact is None:
        urls = [provider_url_from_arn(arn) for arn in arns if provider_url_from_arn(arn) is not None]
        message = "The account has no IAM OIDC provider for %s, so STS answers 'No OpenIDConnect provider found'." % issuer
        if near:
            message = ("The account has no IAM OIDC provider for exactly %s; %s %s, and STS compares the URL exactly."
                       % (issuer, near[0], _near_miss_reason(near[0], host_and_path)))
        findings.append(finding(
            "OIDC_PROVIDER_MISSING", issuer, message,
            expected="an IAM OIDC provider with Url %s" % host_and_path,
            actual=sorted(near) + sorted(url for url in urls if url not in near) if urls else "no IAM OIDC provider in the account",
            remediation="Create the IAM OIDC provider for %s (no trailing slash) with client ID %s (the provider tasks of "
                        "this collection or ccoctl aws create-identity-provider)%s." % (
                            issuer, audience, "; delete the near miss %s if nothing uses it" % near[0] if near else "")))
        return findings, {"Arn": None, "Url": None, "ClientIDList": [], "ThumbprintList": [], "near_misses": near}
    details = details or {}
    client_ids = list(details.get("ClientIDList") or [])
    provider = {"Arn": exact, "Url": details.get("Url", host_and_path), "ClientIDList": client_ids,
                "ThumbprintList": list(details.get("ThumbprintList") or []), "near_misses": near}
    if details and audience not in client_ids:
        findings.append(finding(
            "OIDC_PROVIDER_AUDIENCE_MISSING", exact,
            "The IAM OIDC provider for %s does not list the audience %s, so STS answers 'Incorrect token audience'."
            % (issuer, audience),
            expected="%s in ClientIDList" % audience,
            actual=client_ids,
            remediation="Add the client ID %s to the IAM OIDC provider %s (aws iam add-client-id-to-open-id-connect-provider "
                        "or the provider tasks of this collection)." % (audience, exact)))
    return findings, provider


# ---------------------------------------------------------------- trust policy
def is_provider_key(key):
    """True for the condition key of an identity provider (``<host/path>:sub``, ``accounts.google.com:aud``).

    Only ``aws:`` and ``sts:`` keys can be in the context of ``AssumeRoleWithWebIdentity`` besides the keys of the
    token's own provider, so any other prefix names another provider (or is a typo) and is never present.
    """
    prefix = key.rsplit(":", 1)[0] if ":" in key else ""
    return bool(prefix) and prefix.lower() not in ("aws", "sts")


_is_provider_key = is_provider_key


def trust_resolver(host_and_path, subject, audience, federated_arn):
    """The request context of ``AssumeRoleWithWebIdentity`` for a token of this issuer.

    ``<host_and_path>:sub`` is ``subject`` (unknown when None), ``:aud`` the audience; keys of *other*
    identity providers (``<other host>:sub``) are never present; other keys are unknown.
    """
    prefix = host_and_path.lower()
    known = {prefix + ":aud": [audience], "aws:federatedprovider": [federated_arn]}
    if subject is not None:
        known[prefix + ":sub"] = [subject]

    def resolve(key):
        if key in known:
            return policy.PRESENT, known[key]
        if key == prefix + ":sub":
            return policy.UNKNOWN, None
        if key.startswith(prefix + ":"):
            return policy.UNKNOWN, None
        if _is_provider_key(key):
            return policy.MISSING, None
        return policy.UNKNOWN, None
    return resolve


def _ignore_aud(resolve, host_and_path):
    aud = host_and_path.lower() + ":aud"

    def wrapped(key):
        return (policy.UNKNOWN, None) if key == aud else resolve(key)
    return wrapped


def _federated(statement):
    spec = statement.get("Principal")
    return [policy.stringify(item) for item in policy.as_list(spec.get("Federated"))] if isinstance(spec, dict) else []


def _condition_values(document, suffix):
    """``{operator: {key: values}}`` of every condition whose key ends with ``suffix`` (``:sub``, ``:aud``)."""
    found = []
    for statement in policy.statements(document):
        block = statement.get("Condition")
        if not isinstance(block, dict):
            continue
        for operator, pairs in block.items():
            if isinstance(pairs, dict):
                for key, values in pairs.items():
                    if policy.stringify(key).lower().endswith(suffix):
                        found.append({operator: {key: values}})
    return found


def evaluate_trust(document, federated_arn, host_and_path, subjects, audience):
    """Evaluate a trust policy for tokens of one issuer.

    Returns a dict: ``federated`` (Federated principals of statements allowing the web-identity action),
    ``provider_trusted``, ``subject_conditions`` and ``audience_conditions`` (as found),
    ``audience_ok`` (None when unknown), ``subjects`` (per subject: ``allowed``, ``reason``, ``denied_by``),
    ``candidates`` (Allow statements for this provider).
    """
    principal = {"type": "Federated", "id": federated_arn}
    all_federated = []
    candidates = []
    for statement in policy.statements(document):
        if statement.get("Effect") != "Allow" or not policy.statement_matches_request(
                dict(statement, Principal="*") if "Principal" in statement else statement, principal, WEB_IDENTITY_ACTION):
            continue
        for item in _federated(statement):
            if item not in all_federated:
                all_federated.append(item)
        if policy.statement_matches_request(statement, principal, WEB_IDENTITY_ACTION):
            candidates.append(statement)
    result = {
        "federated": all_federated,
        "provider_trusted": bool(candidates),
        "subject_conditions": _condition_values(document, ":sub"),
        "audience_conditions": _condition_values(document, ":aud"),
        "candidates": candidates,
        "subjects": {},
        "audience_ok": None,
    }
    if not candidates:
        return result
    audience_resolve = trust_resolver(host_and_path, None, audience, federated_arn)
    if policy.evaluate(document, principal, WEB_IDENTITY_ACTION, None, audience_resolve)["decision"] == "allow":
        result["audience_ok"] = True
    elif policy.evaluate(document, principal, WEB_IDENTITY_ACTION, None,
                         _ignore_aud(audience_resolve, host_and_path))["decision"] == "allow":
        result["audience_ok"] = False
    for subject in subjects:
        resolve = trust_resolver(host_and_path, subject, audience, federated_arn)
        verdict = policy.evaluate(document, principal, WEB_IDENTITY_ACTION, None, resolve)
        entry = {"allowed": verdict["decision"] == "allow", "denied_by": verdict["denied_by"], "reason": None}
        if verdict["decision"] == "deny":
            entry["reason"] = "an explicit Deny (%s) matches it" % ", ".join(
                policy.statement_label(item, policy.statements(document).index(item)) for item in verdict["denied_by"])
        elif verdict["decision"] == "implicit":
            without_aud = policy.evaluate(document, principal, WEB_IDENTITY_ACTION, None, _ignore_aud(resolve, host_and_path))
            if without_aud["decision"] == "allow":
                entry["reason"] = "audience"
                result["audience_ok"] = False
            else:
                entry["reason"] = _subject_failure(candidates, resolve, host_and_path)
        result["subjects"][subject] = entry
    return result


def _subject_failure(candidates, resolve, host_and_path):
    """Why no candidate statement admits the subject, in words."""
    own = host_and_path.lower() + ":sub"
    reasons = []
    for statement in candidates:
        dummy, failures, dummy2 = policy.evaluate_conditions(statement.get("Condition"), resolve)
        for failure in failures:
            key = policy.stringify(failure["key"]).lower()
            if key != own and _is_provider_key(key):
                reasons.append("the condition key %s belongs to another issuer and is never in tokens of this issuer"
                               % failure["key"])
            elif key == own:
                reasons.append("%s %s does not match it" % (failure["operator"], failure["values"]))
            else:
                reasons.append("the condition %s on %s does not hold" % (failure["operator"], failure["key"]))
    return "; ".join(sorted(set(reasons))) or "no Allow statement admits it"


def check_role(role_arn, role, host_and_path, subjects, audience):
    """Findings and the ``roles`` entry of one role (``role`` = ``GetRole`` result or None)."""
    parsed = parse_role_arn(role_arn)
    expected_arn = provider_arn(parsed["partition"], parsed["account"], host_and_path)
    entry = {"role_arn": role_arn, "exists": role is not None, "trust_ok": False, "provider_arn": expected_arn,
             "federated": [], "subjects": [], "service_accounts": []}
    if role is None:
        return [finding(
            "ROLE_NOT_FOUND", role_arn,
            "The role %s does not exist in account %s (or is not visible to these credentials)." % (parsed["name"], parsed["account"]),
            expected="an existing role %s" % role_arn, actual="NoSuchEntity: role %s not found" % parsed["name"],
            remediation="Create the role (ccoctl aws create-iam-roles or this collection's role tasks) or fix the role ARN "
                        "in the credentials Secret.")], entry
    try:
        document = policy.load_policy(role.get("AssumeRolePolicyDocument") or {})
    except policy.PolicyError as error:
        document = {}
        entry["policy_error"] = str(error)
    trust = evaluate_trust(document, expected_arn, host_and_path, subjects, audience)
    entry["federated"] = trust["federated"]
    entry["subjects"] = trust["subject_conditions"]
    entry["audience_conditions"] = trust["audience_conditions"]
    findings = []
    if not trust["provider_trusted"]:
        findings.append(finding(
            "ROLE_TRUST_PROVIDER_MISMATCH", role_arn,
            "The trust policy of role %s does not allow sts:AssumeRoleWithWebIdentity for the OIDC provider of this issuer."
            % parsed["name"],
            expected=expected_arn,
            actual=trust["federated"] or "no Allow statement with a Federated principal for sts:AssumeRoleWithWebIdentity",
            remediation="Rewrite the trust policy with Principal.Federated %s and the condition key %s:sub (update the "
                        "role's assume-role policy; ccoctl does not rewrite trust policies of existing roles)."
                        % (expected_arn, host_and_path)))
        return findings, entry
    if trust["audience_ok"] is False:
        findings.append(finding(
            "ROLE_TRUST_AUDIENCE_MISMATCH", role_arn,
            "The trust policy of role %s has an :aud condition that rejects the token audience %s." % (parsed["name"], audience),
            expected="%s:aud admitting %s, or no :aud condition (ccoctl writes none)" % (host_and_path, audience),
            actual=trust["audience_conditions"],
            remediation="Change the %s:aud condition of the trust policy to %s, or remove it." % (host_and_path, audience)))
    for subject in subjects:
        verdict = trust["subjects"][subject]
        entry["service_accounts"].append({"subject": subject, "allowed": verdict["allowed"],
                                          "reason": verdict["reason"]})
        if verdict["allowed"] or verdict["reason"] == "audience":
            continue
        actual = trust["subject_conditions"] or "no %s:sub condition" % host_and_path
        if verdict["denied_by"]:
            actual = {"deny": verdict["denied_by"]}
        findings.append(finding(
            "ROLE_TRUST_SUBJECT_MISMATCH", role_arn,
            "The trust policy of role %s does not admit %s: %s." % (parsed["name"], subject, verdict["reason"]),
            expected="%s:sub admitting %s in an Allow statement for %s, and no Deny matching it"
                     % (host_and_path, subject, expected_arn),
            actual=actual,
            remediation="Add %s to the StringEquals %s:sub condition of the trust policy (and remove a Deny that "
                        "matches it)." % (subject, host_and_path)))
    entry["trust_ok"] = not findings
    return findings, entry
