# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Operator roles on an issuer: role names and trust-policy edits (private module_util, no AWS calls).

**Names.** ccoctl names a role ``<name_prefix>-<secretRef.namespace>-<secretRef.name>`` cut to the first 64
characters, with no collision check. :func:`plan_names` keeps that name unless it is unsafe: when two roles of one
call would get the same name (two CredentialsRequests whose names agree in the first 64 characters, or a derived
name equal to a name given explicitly), each derived one of them gets :func:`hashed_role_name` instead: the full
name cut to 55 characters, ``-`` and the first 8 hex digits of its SHA-256 (stable: the same inputs give the same
name on every run). The module also switches to the hashed name when a role with the plain name exists but does not
belong to this cluster (:func:`belongs_to_cluster`).

**Trust edits.** :func:`edit_trust` changes only the ``Allow`` statements whose ``Principal.Federated`` names an IAM
OIDC provider (``arn:<partition>:iam::<account>:oidc-provider/...``); every other statement (``Deny``, AWS or service
principals, SAML or other web-identity federations) is kept as it is, in its place. Documents are compared
semantically with amazon.aws' ``compare_policies`` (ccoctl writes them with string formatting).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_policy as policy
from ansible_collections.openshift_sts.oidc.plugins.module_utils._aws_iam import (
    WEB_IDENTITY_ACTION,
    evaluate_trust,
    is_provider_key,
    provider_url_from_arn,
)

MODES = ("replace", "add", "remove_other_providers")
POLICY_VERSION = "2012-10-17"
MAX_ROLE_NAME = 64
HASH_LENGTH = 8
DEFAULT_AUDIENCE = "openshift"

# Tags: ccoctl's own (``ccoctl aws delete --name`` finds the roles by them) and the marks of this collection.
CCOCTL_OWNED_TAG = "openshift.io/cloud-credential-operator/%s"
CCOCTL_OWNED_VALUE = "owned"
CCOCTL_NAME_TAG = "Name"
CREATED_BY_TAG = "openshift_sts.oidc/created-by"
CREATED_BY_VALUE = "iam_role_trust"
NAME_PREFIX_TAG = "openshift_sts.oidc/name-prefix"

_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_OIDC_MARK = ":oidc-provider/"
_SUBJECT_OPERATORS = ("StringEquals", "ForAnyValue:StringEquals")
_PATTERN_OPERATORS = ("StringLike", "ForAnyValue:StringLike")


class TrustEditError(ValueError):
    """A trust policy cannot be edited safely (the message says why and what to do)."""


# ---------------------------------------------------------------- names
def roles_from_credentials_requests(credentials_requests):
    """Role entries (the ``roles`` option's shape) for CredentialsRequests as cluster_trust_info returns them.

    The role is the one the request's Secret names (``role_arn``), so an existing
    role is rewritten in place; without one the name is derived later.
    """
    roles = []
    for request in credentials_requests:
        arn = request.get("role_arn") or ""
        statements = []
        for entry in request.get("policy_statements") or request.get("statementEntries") or []:
            statements.append({
                "effect": entry.get("effect", "Allow"),
                "action": list(entry.get("action") or []),
                "resource": entry.get("resource") or "*",
                "policy_condition": entry.get("policy_condition") or entry.get("policyCondition"),
            })
        roles.append({
            "name": arn.rsplit("/", 1)[-1] if ":role/" in arn else None,
            "namespace": request.get("namespace"),
            "secret_name": request.get("secret_name"),
            "service_accounts": list(request.get("service_accounts") or []),
            "policy_statements": statements,
            "description": "OpenShift role for %s/%s" % (request.get("namespace"), request.get("secret_name")),
        })
    return roles


def full_role_name(name_prefix, namespace, secret_name):
    """``<name_prefix>-<namespace>-<secret_name>``, uncut."""
    return "%s-%s-%s" % (name_prefix, namespace, secret_name)


def ccoctl_role_name(name_prefix, namespace, secret_name):
    """ccoctl's role name: the full name cut to the first 64 characters."""
    return full_role_name(name_prefix, namespace, secret_name)[:MAX_ROLE_NAME]


def hashed_role_name(name_prefix, namespace, secret_name):
    """The collision-safe name: the full name cut to 55 characters, ``-`` and 8 hex digits of its SHA-256."""
    full = full_role_name(name_prefix, namespace, secret_name)
    digest = hashlib.sha256(full.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    head = full[:MAX_ROLE_NAME - HASH_LENGTH - 1].rstrip("-")
    return "%s-%s" % (head, digest)


def role_name_problem(name):
    """Why ``name`` is not a valid IAM role name, or None."""
    if not isinstance(name, str) or not _ROLE_NAME.match(name):
        return "%r is not a valid IAM role name (1-64 characters of letters, digits and +=,.@_-)" % (name,)
    return None


def plan_names(roles, name_prefix):
    """The candidate names of each role, in order.

    ``roles``: dicts with ``name`` (or None), ``namespace``, ``secret_name``. Returns one dict per role:
    ``{"name": str, "source": "given"}`` for an explicit name, else ``{"candidates": [...], "source": "derived"}``
    where the candidates are the ccoctl name then the hashed name, or only the hashed name when the ccoctl name
    collides inside this call. Raises ``ValueError`` for a duplicate role or a name that cannot be derived.
    """
    plans = []
    given = {}
    derived = {}
    for index, role in enumerate(roles):
        if role.get("name"):
            problem = role_name_problem(role["name"])
            if problem:
                raise ValueError("roles[%d]: %s" % (index, problem))
            if role["name"] in given:
                raise ValueError("roles[%d]: the role %s is listed twice (roles[%d])" % (index, role["name"], given[role["name"]]))
            given[role["name"]] = index
            plans.append({"name": role["name"], "source": "given"})
            continue
        if not name_prefix or not role.get("namespace") or not role.get("secret_name"):
            raise ValueError("roles[%d] has no name: deriving one needs name_prefix, namespace and secret_name" % index)
        full = full_role_name(name_prefix, role["namespace"], role["secret_name"])
        if full in derived:
            raise ValueError("roles[%d]: the secret %s/%s is listed twice (roles[%d])"
                             % (index, role["namespace"], role["secret_name"], derived[full]))
        derived[full] = index
        plain = ccoctl_role_name(name_prefix, role["namespace"], role["secret_name"])
        hashed = hashed_role_name(name_prefix, role["namespace"], role["secret_name"])
        for candidate in (plain, hashed):
            problem = role_name_problem(candidate)
            if problem:
                raise ValueError("roles[%d]: the derived name %s" % (index, problem))
        plans.append({"candidates": [plain, hashed], "source": "derived", "plain": plain})
    plain_count = {}
    for plan in plans:
        if plan["source"] == "derived":
            plain_count[plan["plain"]] = plain_count.get(plan["plain"], 0) + 1
    for plan in plans:
        if plan["source"] == "derived":
            if plain_count[plan["plain"]] > 1 or plan["plain"] in given:
                plan["candidates"] = plan["candidates"][1:]
                plan["collision"] = True
            del plan["plain"]
    return plans


def tags_dict(tags):
    """Tags as a dict, from IAM's ``[{"Key", "Value"}]`` list or a dict."""
    if isinstance(tags, dict):
        return dict(tags)
    return dict((item.get("Key"), item.get("Value")) for item in tags or [] if isinstance(item, dict))


def belongs_to_cluster(tags, name_prefix, cluster_tags):
    """Whether a role's tags say it belongs to this cluster.

    True when it carries ccoctl's ``openshift.io/cloud-credential-operator/<name_prefix>: owned``, this collection's
    ``openshift_sts.oidc/name-prefix: <name_prefix>``, or every tag of ``cluster_tags`` (when not empty).
    """
    tags = tags_dict(tags)
    if name_prefix and (tags.get(CCOCTL_OWNED_TAG % name_prefix) == CCOCTL_OWNED_VALUE or tags.get(NAME_PREFIX_TAG) == name_prefix):
        return True
    return bool(cluster_tags) and all(tags.get(key) == value for key, value in cluster_tags.items())


def created_by_module(tags, name_prefix, cluster_tags):
    """Whether this module created the role for this cluster (only such roles may be deleted).

    Needs ``openshift_sts.oidc/created-by: iam_role_trust``; with ``name_prefix``, the ``openshift_sts.oidc/name-prefix``
    tag must not name another prefix; every tag of ``cluster_tags`` must match.
    """
    tags = tags_dict(tags)
    if tags.get(CREATED_BY_TAG) != CREATED_BY_VALUE:
        return False
    if name_prefix and tags.get(NAME_PREFIX_TAG, name_prefix) != name_prefix:
        return False
    return all(tags.get(key) == value for key, value in (cluster_tags or {}).items())


def creation_tags(name_prefix, cluster_tags):
    """The tags of a role this module creates: ccoctl's two tags (with a prefix), this collection's marks, then ``cluster_tags``."""
    tags = {}
    if name_prefix:
        tags[CCOCTL_OWNED_TAG % name_prefix] = CCOCTL_OWNED_VALUE
        tags[CCOCTL_NAME_TAG] = name_prefix
        tags[NAME_PREFIX_TAG] = name_prefix
    tags[CREATED_BY_TAG] = CREATED_BY_VALUE
    tags.update(cluster_tags or {})
    return tags


# ---------------------------------------------------------------- documents
def subjects(namespace, service_accounts):
    """``system:serviceaccount:<namespace>:<name>`` for each service account, duplicates dropped, order kept."""
    found = []
    for name in service_accounts or []:
        subject = "system:serviceaccount:%s:%s" % (namespace, name)
        if subject not in found:
            found.append(subject)
    return found


def trust_statement(provider_arn, subject_list):
    """ccoctl's trust statement for one provider and its service accounts."""
    host = provider_url_from_arn(provider_arn)
    return {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": WEB_IDENTITY_ACTION,
        "Condition": {"StringEquals": {host + ":sub": list(subject_list)}},
    }


def trust_document(provider_arn, subject_list):
    """The trust policy of a new role (ccoctl's document)."""
    return {"Version": POLICY_VERSION, "Statement": [trust_statement(provider_arn, subject_list)]}


def permissions_document(entries):
    """The inline policy of a role from a CredentialsRequest's ``statementEntries`` (ccoctl's shape).

    Each entry: ``effect``, ``action`` (list), ``resource`` and optionally ``policy_condition``.
    """
    statements = []
    for entry in entries or []:
        statement = {"Effect": entry["effect"], "Action": list(policy.as_list(entry["action"])),
                     "Resource": entry.get("resource") or "*"}
        if entry.get("policy_condition"):
            statement["Condition"] = entry["policy_condition"]
        statements.append(statement)
    return {"Version": POLICY_VERSION, "Statement": statements}


def dump(document):
    """A document as the compact JSON text written to IAM (IAM does not count whitespace against its quotas)."""
    return json.dumps(document, separators=(",", ":"))


def pretty(text):
    """A document's text re-indented for a diff (the text itself when it is not JSON)."""
    try:
        return json.dumps(policy.load_policy(text), indent=2) + "\n"
    except policy.PolicyError:
        return text if text.endswith("\n") else text + "\n"


def same_meaning(current, desired):
    """True when two policy documents (dicts or JSON text) mean the same (amazon.aws ``compare_policies``)."""
    return not compare_policies(policy.load_policy(current), policy.load_policy(desired), default_version=None)


# ---------------------------------------------------------------- statements
def _is_allow(statement):
    return isinstance(statement, dict) and statement.get("Effect") == "Allow"


def oidc_providers(statement):
    """The IAM OIDC provider ARNs among a statement's ``Principal.Federated`` values."""
    principal = statement.get("Principal") if isinstance(statement, dict) else None
    if not isinstance(principal, dict):
        return []
    return [value for value in (policy.stringify(item) for item in policy.as_list(principal.get("Federated")))
            if _OIDC_MARK in value]


def _key_prefix(key):
    key = policy.stringify(key).lower()
    return key.rsplit(":", 1)[0] if ":" in key else ""


def _drop_condition_keys(condition, drop):
    """``condition`` without the pairs whose key ``drop(key)`` is true; empty operators removed."""
    if not isinstance(condition, dict):
        return condition
    kept = {}
    for operator, pairs in condition.items():
        if not isinstance(pairs, dict):
            kept[operator] = pairs
            continue
        rest = dict((key, values) for key, values in pairs.items() if not drop(key))
        if rest:
            kept[operator] = rest
    return kept


def restrict(statement, keep, removed):
    """A copy of a statement whose ``Federated`` principal keeps only the OIDC providers ``keep`` (other federations
    are kept), without the condition keys of the providers ``removed``."""
    result = copy.deepcopy(statement)
    principal = result["Principal"]
    federated = [value for value in policy.as_list(principal.get("Federated"))
                 if _OIDC_MARK not in policy.stringify(value) or policy.stringify(value) in keep]
    principal["Federated"] = federated[0] if len(federated) == 1 else federated
    removed_hosts = set((provider_url_from_arn(arn) or "").lower() for arn in removed)
    if "Condition" in result:
        result["Condition"] = _drop_condition_keys(result["Condition"], lambda key: _key_prefix(key) in removed_hosts)
        if not result["Condition"]:
            del result["Condition"]
    return result


def _foreign_key(key, host):
    """True for the condition key of another identity provider (never in tokens of ``host``)."""
    return is_provider_key(policy.stringify(key)) and _key_prefix(key) != host.lower()


def _covers_web_identity(action):
    return any(policy.wildcard_match(item, WEB_IDENTITY_ACTION, True) for item in policy.as_list(action))


def grants_exactly(statement, provider_arn, subject_list):
    """Whether an Allow statement already trusts exactly ``subject_list`` of this provider, however it is written.

    Its principal is only this provider; its ``Action`` covers ``sts:AssumeRoleWithWebIdentity``; its one condition
    on ``<host>:sub`` (``StringEquals``, or ``StringLike`` without wildcards, or their ``ForAnyValue:`` forms) lists
    exactly these subjects, in any order, scalar or list; no condition names another provider's key. Other conditions
    (``aws:*``, ``<host>:aud``) are the owner's business and allowed.
    """
    host = provider_url_from_arn(provider_arn)
    principal = statement.get("Principal")
    if not _is_allow(statement) or not isinstance(principal, dict) or set(principal) != set(("Federated",)):
        return False
    if [policy.stringify(item) for item in policy.as_list(principal["Federated"])] != [provider_arn]:
        return False
    if "Action" not in statement or not _covers_web_identity(statement["Action"]):
        return False
    condition = statement.get("Condition") or {}
    if not isinstance(condition, dict):
        return False
    sub_key = (host + ":sub").lower()
    found = []
    for operator, pairs in condition.items():
        if not isinstance(pairs, dict):
            return False
        for key, values in pairs.items():
            if policy.stringify(key).lower() == sub_key:
                found.append((operator, [policy.stringify(item) for item in policy.as_list(values)]))
            elif _foreign_key(key, host):
                return False
    if len(found) != 1:
        return False
    operator, values = found[0]
    if operator in _PATTERN_OPERATORS:
        if any("*" in value or "?" in value for value in values):
            return False
    elif operator not in _SUBJECT_OPERATORS:
        return False
    return set(values) == set(subject_list)


def refreshed_statement(own, provider_arn, subject_list):
    """The one statement trusting ``subject_list`` of this provider, from its current statements ``own``.

    A single statement that :func:`grants_exactly` them is returned unchanged. Otherwise ccoctl's statement, keeping
    from the first current one its ``Sid``, its ``Action`` (when it covers the web-identity action) and its
    conditions other than ``<host>:sub`` and other providers' keys.
    """
    if len(own) == 1 and grants_exactly(own[0], provider_arn, subject_list):
        return own[0]
    host = provider_url_from_arn(provider_arn)
    base = own[0] if own else {}
    statement = {}
    if "Sid" in base:
        statement["Sid"] = base["Sid"]
    statement["Effect"] = "Allow"
    statement["Principal"] = {"Federated": provider_arn}
    statement["Action"] = base["Action"] if "Action" in base and _covers_web_identity(base["Action"]) else WEB_IDENTITY_ACTION
    sub_key = (host + ":sub").lower()
    kept = _drop_condition_keys(base.get("Condition") or {},
                                lambda key: policy.stringify(key).lower() == sub_key or _foreign_key(key, host))
    if not isinstance(kept, dict):
        kept = {}
    condition = {"StringEquals": dict(kept.get("StringEquals") or {})}
    condition["StringEquals"][host + ":sub"] = list(subject_list)
    for operator, pairs in kept.items():
        if operator != "StringEquals":
            condition[operator] = pairs
    statement["Condition"] = condition
    return statement


def _check_still_trusted(document, provider_arn, subject_list):
    """Raise :class:`TrustEditError` unless the document still lets every subject in through the new provider."""
    host = provider_url_from_arn(provider_arn)
    verdict = evaluate_trust(document, provider_arn, host, subject_list, DEFAULT_AUDIENCE)
    if not verdict["provider_trusted"]:
        raise TrustEditError(
            "no Allow statement trusts the new provider %s, so removing the other providers would cut the role off; "
            "add the new provider first (mode add), then clean up" % provider_arn)
    refused = ["%s (%s)" % (subject, entry["reason"]) for subject, entry in verdict["subjects"].items()
               if not entry["allowed"] and entry["reason"] != "audience"]
    if refused:
        raise TrustEditError(
            "the statements for the new provider %s do not admit %s, so removing the other providers would cut them off; "
            "refresh the trust first (mode add), then clean up" % (provider_arn, "; ".join(refused)))


def edit_trust(document, mode, provider_arn, subject_list, remove_hosts=None):
    """The trust policy ``document`` (parsed) edited for ``mode``; the input is not modified.

    - ``replace``: the Allow statements for other OIDC providers are removed; the new provider's statement is
      refreshed in place or put where the first removed one was (else appended).
    - ``add``: the new provider's statement is refreshed in place or appended; other providers' statements stay.
    - ``remove_other_providers``: the Allow statements for other OIDC providers are removed; the new provider's
      statements stay as they are. Refused (:class:`TrustEditError`) unless the result still trusts the new provider
      for every subject. With ``remove_hosts`` (provider URLs without ``https://``, e.g. the old issuer's), only the
      providers with those URLs are removed: statements of any other provider stay, in their place.

    A statement naming the new provider together with others is split: its part for the new provider is handled as
    above, the rest is kept (``add``) or removed. Statements that are not Allow statements for OIDC providers
    (``Deny``, AWS or service principals, SAML and other federations) are never changed, and keep their order.
    """
    if mode not in MODES:
        raise ValueError("mode must be one of %s" % ", ".join(MODES))
    result = []
    own = []
    own_slot = None
    removed_slot = None
    targets = None
    if mode == "remove_other_providers" and remove_hosts is not None:
        targets = set(host.lower().rstrip("/") for host in remove_hosts)
    for item in policy.as_list(document.get("Statement")):
        providers = oidc_providers(item) if _is_allow(item) else []
        if not providers:
            result.append(item)
            continue
        others = [arn for arn in providers if arn != provider_arn]
        if targets is not None:
            kept = [arn for arn in others if (provider_url_from_arn(arn) or "").lower() not in targets]
            if len(kept) == len(others):
                result.append(item)  # names none of the providers to remove
            elif kept or provider_arn in providers:
                result.append(restrict(item, kept + [arn for arn in providers if arn == provider_arn],
                                       [arn for arn in others if arn not in kept]))
            if provider_arn in providers:
                own.append(restrict(item, [provider_arn], others) if others else item)
            continue
        if provider_arn in providers:
            mine = restrict(item, [provider_arn], others) if others else item
            own.append(mine)
            if mode == "remove_other_providers":
                result.append(mine)
            elif own_slot is None:
                own_slot = len(result)
            if others and mode == "add":
                result.append(restrict(item, others, [provider_arn]))
        elif mode == "add":
            result.append(item)
        elif removed_slot is None:
            removed_slot = len(result)
    if mode != "remove_other_providers":
        slot = own_slot
        if slot is None:
            slot = removed_slot if mode == "replace" and removed_slot is not None else len(result)
        result.insert(slot, refreshed_statement(own, provider_arn, subject_list))
    edited = dict((key, value) for key, value in document.items())
    edited["Statement"] = result
    if mode == "remove_other_providers":
        _check_still_trusted(edited, provider_arn, subject_list)
    return edited
