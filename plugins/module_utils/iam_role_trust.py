# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Operator roles' trust on an issuer, for many roles in one call (the logic of the ``iam_role_trust`` module).

amazon.aws style: each AWS call is a small function with an ``IAMErrorHandler`` decorator and ``AWSRetry`` backoff;
the ``ensure_*`` helpers read, compute the difference and return before any write call in check mode. Roles are
handled by a bounded thread pool (boto3 clients are thread-safe); one role's failure is recorded in its result and
the others go on.

Trust documents are read as the exact text IAM stores: botocore normally replaces IAM policy documents by parsed
dicts (``json_decode_policies``); :func:`raw_policy_client` switches that off for one client, so
``previous_trust_policy`` can be written back byte for byte on rollback.
"""

from __future__ import annotations

import traceback
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

try:
    from botocore.handlers import json_decode_policies
except ImportError:  # pragma: no cover - the module reports the missing library
    json_decode_policies = None

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.iam import (
    IAMErrorHandler,
    detach_iam_role_policy,
    list_iam_role_attached_policies,
    list_iam_role_policies,
)
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_iam as iam_utils
from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_policy as policy
from ansible_collections.openshift_sts.oidc.plugins.module_utils import _iam_trust_edit as edit
from ansible_collections.openshift_sts.oidc.plugins.module_utils._aws_calls import error_code, error_message
from ansible_collections.openshift_sts.oidc.plugins.module_utils.issuer import check_issuer, host_and_path

DEFAULT_CONCURRENCY = 8
_PARTITIONS = ("aws", "aws-us-gov", "aws-cn", "aws-eusc")

# Throttling and IAM's ConcurrentModification are retried with jittered backoff (botocore retries on top).
retry = AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=20, catch_extra_error_codes=["ConcurrentModification"])


class RoleTrustError(Exception):
    """The call cannot be made at all (bad options, unusable provider): nothing was changed."""


# ---------------------------------------------------------------- AWS calls
def raw_policy_client(client):
    """``client`` with botocore's decoding of IAM policy documents switched off (this client only)."""
    if json_decode_policies is not None:
        client.meta.events.unregister("after-call.iam", json_decode_policies)
    return client


def document_text(raw):
    """The text of a policy document as IAM returns it (URL-encoded); a dict (decoding client) is re-serialised."""
    if isinstance(raw, dict):
        return edit.dump(raw)
    return unquote(raw or "")


@IAMErrorHandler.list_error_handler("get role {name}")
@retry
def get_role(client, name):
    """``GetRole``; None when the role does not exist."""
    return client.get_role(RoleName=name)["Role"]


@IAMErrorHandler.common_error_handler("create role {name}")
@retry
def create_role(client, name, document, description, tags, boundary=None, max_session_duration=None):
    """``CreateRole`` with its trust policy text, description and tags."""
    params = dict(RoleName=name, AssumeRolePolicyDocument=document, Description=description,
                  Tags=ansible_dict_to_boto3_tag_list(tags))
    if boundary:
        params["PermissionsBoundary"] = boundary
    if max_session_duration:
        params["MaxSessionDuration"] = max_session_duration
    return client.create_role(**params)["Role"]


@IAMErrorHandler.common_error_handler("update the trust policy of role {name}")
@retry
def update_trust_policy(client, name, document):
    """``UpdateAssumeRolePolicy`` with exactly ``document``."""
    client.update_assume_role_policy(RoleName=name, PolicyDocument=document)


@IAMErrorHandler.list_error_handler("get the inline policy {policy_name} of role {name}")
@retry
def get_role_policy(client, name, policy_name):
    """The text of an inline policy; None when it does not exist."""
    return document_text(client.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"])


@IAMErrorHandler.common_error_handler("put the inline policy {policy_name} on role {name}")
@retry
def put_role_policy(client, name, policy_name, document):
    """``PutRolePolicy``."""
    client.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=document)


@IAMErrorHandler.deletion_error_handler("delete the inline policy {policy_name} of role {name}")
@retry
def delete_role_policy(client, name, policy_name):
    """``DeleteRolePolicy``; False when already gone."""
    client.delete_role_policy(RoleName=name, PolicyName=policy_name)
    return True


@IAMErrorHandler.deletion_error_handler("delete role {name}")
@retry
def delete_role(client, name):
    """``DeleteRole``; False when already gone."""
    client.delete_role(RoleName=name)
    return True


@IAMErrorHandler.list_error_handler("get the IAM OIDC provider {arn}")
@retry
def get_oidc_provider(client, arn):
    """``GetOpenIDConnectProvider``; None when it does not exist."""
    return client.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)


@IAMErrorHandler.common_error_handler("get the caller identity")
@retry
def get_caller_identity(client):
    """``sts:GetCallerIdentity`` (needs no permission)."""
    return client.get_caller_identity()


# ---------------------------------------------------------------- provider
def resolve_provider(issuer, provider_arn, sts_client, region):
    """``(provider ARN, partition, account)`` of the issuer's IAM OIDC provider.

    From ``provider_arn`` when given (its URL must be the issuer's), else from ``sts:GetCallerIdentity`` (account and
    partition of the caller's ARN; the region's partition when the ARN says nothing).
    """
    try:
        check_issuer(issuer)
    except ValueError as error:
        raise RoleTrustError(str(error))
    host = host_and_path(issuer)
    if provider_arn:
        url = iam_utils.provider_url_from_arn(provider_arn)
        parts = provider_arn.split(":", 5)
        if url is None or len(parts) != 6 or parts[0] != "arn" or parts[1] not in _PARTITIONS or parts[2] != "iam" \
                or not parts[4].isdigit() or len(parts[4]) != 12:
            raise RoleTrustError("provider_arn %r is not an IAM OIDC provider ARN (arn:<partition>:iam::<account>:oidc-provider/<host>)"
                                 % provider_arn)
        if url != host:
            raise RoleTrustError("provider_arn %s is the provider of https://%s, not of the issuer %s" % (provider_arn, url, issuer))
        return provider_arn, parts[1], parts[4]
    identity = get_caller_identity(sts_client)
    caller = identity.get("Arn") or ""
    partition = caller.split(":")[1] if caller.startswith("arn:") and caller.count(":") >= 5 else iam_utils.partition_for_region(region)
    account = identity["Account"]
    return iam_utils.provider_arn(partition, account, host), partition, account


# ---------------------------------------------------------------- per-role work
class Context(object):
    """What every role's work needs: the client, the options and the provider."""

    def __init__(self, client, params, check_mode, provider_arn=None, partition="aws", account=None):
        self.client = client
        self.check_mode = check_mode
        self.mode = params.get("mode") or "add"
        # With mode remove_other_providers, only these providers (URLs without https://) leave the trust policies.
        removed = params.get("remove_providers")
        self.remove_hosts = None if removed is None else [
            (item.split("://", 1)[1] if "://" in item else item).rstrip("/") for item in removed]
        self.name_prefix = params.get("name_prefix")
        self.cluster_tags = dict(params.get("tags") or {})
        self.create_missing = params.get("create_missing", True)
        self.permissions_boundary = params.get("permissions_boundary")
        self.max_session_duration = params.get("max_session_duration")
        self.provider_arn = provider_arn
        self.partition = partition
        self.account = account

    def role_arn(self, name):
        """The ARN a role of this name has (or would have) in the caller's account."""
        if not self.account:
            return None
        return "arn:%s:iam::%s:role/%s" % (self.partition, self.account, name)


def _result(name, arn=None):
    return {"name": name, "arn": arn, "exists": False, "created": False, "trust_changed": False, "policy_changed": False,
            "deleted": False, "changed": False, "previous_trust_policy": None, "trust_policy": None}


def _role_trust_text(role):
    return document_text(role.get("AssumeRolePolicyDocument"))


def resolve_name(ctx, plan, accept):
    """``(name, GetRole result or None, source)`` for a planned role.

    A given name is used as it is. A derived one is the ccoctl name unless that role exists and ``accept(tags)`` is
    false (it is not this cluster's), or it collides in this call; then the hashed name. A role already under the
    hashed name that ``accept`` takes wins over a free ccoctl name (names stay stable between runs).
    """
    if plan["source"] == "given":
        return plan["name"], get_role(ctx.client, plan["name"]), "given"
    candidates = plan["candidates"]
    if len(candidates) == 1:
        role = get_role(ctx.client, candidates[0])
        if role is not None and not accept(role.get("Tags")):
            raise edit.TrustEditError("the collision-safe name %s is taken by a role that does not belong to this cluster" % candidates[0])
        return candidates[0], role, "derived-hashed"
    plain, hashed = candidates
    plain_role = get_role(ctx.client, plain)
    if plain_role is not None and accept(plain_role.get("Tags")):
        return plain, plain_role, "derived"
    hashed_role = get_role(ctx.client, hashed)
    if hashed_role is not None and accept(hashed_role.get("Tags")):
        return hashed, hashed_role, "derived-hashed"
    if plain_role is None:
        return plain, None, "derived"
    if hashed_role is None:
        return hashed, None, "derived-hashed"
    raise edit.TrustEditError("both %s and %s are taken by roles that do not belong to this cluster" % (plain, hashed))


def _diff(name, before, after, what="trust policy"):
    return {"before_header": "%s of role %s (before)" % (what, name), "after_header": "%s of role %s (after)" % (what, name),
            "before": edit.pretty(before) if before else "", "after": edit.pretty(after) if after else ""}


def ensure_trust(ctx, name, current_text, subject_list):
    """``(changed, new text)``: the role's trust document edited for the mode; written only when its meaning changes."""
    try:
        current = policy.load_policy(current_text)
    except policy.PolicyError as error:
        raise edit.TrustEditError("the trust policy of role %s cannot be read: %s" % (name, error))
    desired = edit.edit_trust(current, ctx.mode, ctx.provider_arn, subject_list, ctx.remove_hosts)
    if edit.same_meaning(current, desired):
        return False, current_text
    text = edit.dump(desired)
    if not ctx.check_mode:
        update_trust_policy(ctx.client, name, text)
    return True, text


def ensure_inline_policy(ctx, name, entries, created=False):
    """``(changed, before, after)`` for the inline policy named like the role; put only when its meaning changes."""
    desired = edit.dump(edit.permissions_document(entries))
    current = None if created else get_role_policy(ctx.client, name, name)
    if current is not None and edit.same_meaning(current, desired):
        return False, current, current
    if not ctx.check_mode:
        put_role_policy(ctx.client, name, name, desired)
    return True, current, desired


def ensure_role_present(ctx, plan, spec, result, diffs):
    """Create the role, or put its trust on the provider; fills ``result`` and ``diffs`` as the work goes on."""
    subject_list = edit.subjects(spec.get("namespace"), spec.get("service_accounts"))
    name, role, source = resolve_name(
        ctx, plan, lambda tags: edit.belongs_to_cluster(tags, ctx.name_prefix, ctx.cluster_tags))
    result.update(name=name, arn=ctx.role_arn(name), name_source=source)
    if role is None:
        if not ctx.create_missing:
            result["msg"] = "the role does not exist and create_missing is false"
            return
        if not subject_list:
            raise edit.TrustEditError("a new role needs service_accounts for its trust policy")
        text = edit.dump(edit.trust_document(ctx.provider_arn, subject_list))
        description = spec.get("description") or "OpenShift role for %s/%s" % (spec.get("namespace"), spec.get("secret_name") or name)
        if not ctx.check_mode:
            created = create_role(ctx.client, name, text, description, edit.creation_tags(ctx.name_prefix, ctx.cluster_tags),
                                  ctx.permissions_boundary, ctx.max_session_duration)
            result["arn"] = created.get("Arn", result["arn"])
        result.update(created=True, trust_changed=True, changed=True, trust_policy=text)
        diffs.append(_diff(name, None, text))
        if spec.get("policy_statements"):
            dummy, before, after = ensure_inline_policy(ctx, name, spec["policy_statements"], created=True)
            result["policy_changed"] = True
            diffs.append(_diff(name, before, after, "inline policy %s" % name))
        return
    previous = _role_trust_text(role)
    result.update(exists=True, arn=role.get("Arn", result["arn"]), previous_trust_policy=previous, trust_policy=previous)
    if ctx.mode != "remove_other_providers" and not subject_list:
        raise edit.TrustEditError("service_accounts are needed to put the role's trust on the new provider")
    changed, text = ensure_trust(ctx, name, previous, subject_list)
    result.update(trust_changed=changed, changed=changed, trust_policy=text)
    if changed:
        diffs.append(_diff(name, previous, text))
    if spec.get("policy_statements") and edit.created_by_module(role.get("Tags"), ctx.name_prefix, ctx.cluster_tags):
        # A role this module created, interrupted before its inline policy was put, converges on the next run.
        policy_changed, before, after = ensure_inline_policy(ctx, name, spec["policy_statements"])
        result["policy_changed"] = policy_changed
        result["changed"] = result["changed"] or policy_changed
        if policy_changed:
            diffs.append(_diff(name, before, after, "inline policy %s" % name))


def ensure_role_absent(ctx, plan, dummy_spec, result, diffs):
    """Delete a role this module created (its inline policies first, then the role); leave any other role alone."""
    name, role, source = resolve_name(
        ctx, plan, lambda tags: edit.created_by_module(tags, ctx.name_prefix, ctx.cluster_tags))
    result.update(name=name, arn=ctx.role_arn(name), name_source=source)
    if role is None:
        return
    previous = _role_trust_text(role)
    result.update(exists=True, arn=role.get("Arn", result["arn"]), previous_trust_policy=previous, trust_policy=previous)
    if not edit.created_by_module(role.get("Tags"), ctx.name_prefix, ctx.cluster_tags):
        result["msg"] = ("left alone: the role is not tagged %s=%s for this cluster, so this module did not create it"
                         % (edit.CREATED_BY_TAG, edit.CREATED_BY_VALUE))
        result["skipped"] = True
        return
    if not ctx.check_mode:
        for policy_name in list_iam_role_policies(ctx.client, name):
            delete_role_policy(ctx.client, name, policy_name)
        for attached in list_iam_role_attached_policies(ctx.client, name):
            detach_iam_role_policy(ctx.client, attached["PolicyArn"], name)
        delete_role(ctx.client, name)
    result.update(deleted=True, changed=True, trust_policy=None)
    diffs.append(_diff(name, previous, None))


def restore_role_trust(ctx, item, dummy_spec, result, diffs):
    """Write ``item["trust_policy"]`` back exactly when the role's current text differs (byte for byte)."""
    name = item["name"]
    wanted = item["trust_policy"]
    try:
        policy.load_policy(wanted)
    except policy.PolicyError as error:
        raise edit.TrustEditError("the trust_policy to restore is not a policy document: %s" % error)
    role = get_role(ctx.client, name)
    if role is None:
        raise edit.TrustEditError("the role %s does not exist, so its trust policy cannot be restored" % name)
    current = _role_trust_text(role)
    result.update(exists=True, arn=role.get("Arn", result["arn"]), previous_trust_policy=current, trust_policy=current)
    if current == wanted:
        return
    if not ctx.check_mode:
        update_trust_policy(ctx.client, name, wanted)
    result.update(trust_changed=True, changed=True, trust_policy=wanted)
    diffs.append(_diff(name, current, wanted))


# ---------------------------------------------------------------- running
def _describe(error):
    """A role failure in words (AWS code and message; never request parameters)."""
    if isinstance(error, AnsibleAWSError):
        cause = getattr(error, "exception", None)
        if cause is not None:
            return "%s: %s: %s" % (error.message, error_code(cause), error_message(cause))
        return str(error.message)
    if isinstance(error, edit.TrustEditError):
        return str(error)
    return "unexpected %s: %s" % (type(error).__name__, error)


def _guarded(func, ctx, plan, spec, label):
    """Run one role's work; a failure is recorded in its result, with what was done before it."""
    result = _result(label, ctx.role_arn(label))
    diffs = []
    try:
        func(ctx, plan, spec, result, diffs)
    except Exception as error:  # pylint: disable=broad-except  # one role's failure must not hide the others' results
        result.update(failed=True, msg=_describe(error))
        if not isinstance(error, (AnsibleAWSError, edit.TrustEditError)):
            result["exception"] = traceback.format_exc()
    return result, diffs


def run_concurrently(func, ctx, work, concurrency):
    """Run ``func(ctx, plan, spec, result, diffs)`` for each ``(plan, spec, label)`` of ``work`` with at most ``concurrency`` threads.

    Returns ``(results, diffs)`` in the order of ``work``.
    """
    if not work:
        return [], []
    workers = max(1, min(int(concurrency or DEFAULT_CONCURRENCY), len(work)))
    if workers == 1:
        outcomes = [_guarded(func, ctx, plan, spec, label) for plan, spec, label in work]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(lambda item: _guarded(func, ctx, item[0], item[1], item[2]), work))
    results = [outcome[0] for outcome in outcomes]
    diffs = [diff for outcome in outcomes for diff in outcome[1]]
    return results, diffs


def _label(plan):
    return plan.get("name") or plan["candidates"][0]


def check_provider_exists(ctx, warn):
    """Refuse to write trust for a provider that does not exist (a warning in check mode or when it cannot be read)."""
    try:
        found = get_oidc_provider(ctx.client, ctx.provider_arn)
    except AnsibleAWSError as error:
        warn("could not check that the IAM OIDC provider %s exists: %s" % (ctx.provider_arn, _describe(error)))
        return
    if found is not None:
        return
    message = "the IAM OIDC provider %s does not exist; create it before putting roles' trust on it" % ctx.provider_arn
    if ctx.check_mode:
        warn(message + " (check mode goes on)")
        return
    raise RoleTrustError(message)


def manage_roles(iam_client, sts_client, params, check_mode, region, warn):
    """Run the module's work; returns ``(result, failed)``.

    ``result``: ``roles`` (one entry per role, in order), ``provider_arn``, ``changed`` and ``diff`` (a list of
    before/after documents per changed role). ``failed``: the number of roles whose work failed. Raises
    :class:`RoleTrustError` when nothing can be done (and nothing was changed).
    """
    client = raw_policy_client(iam_client)
    concurrency = params.get("concurrency") or DEFAULT_CONCURRENCY
    if params.get("restore") is not None:
        ctx = Context(client, params, check_mode)
        names = [item["name"] for item in params["restore"]]
        duplicates = sorted(set(name for name in names if names.count(name) > 1))
        if duplicates:
            raise RoleTrustError("restore lists %s more than once" % ", ".join(duplicates))
        work = [(item, None, item["name"]) for item in params["restore"]]
        results, diffs = run_concurrently(restore_role_trust, ctx, work, concurrency)
        return _finish(results, diffs, None)
    roles = params.get("roles") or []
    try:
        plans = edit.plan_names(roles, params.get("name_prefix"))
    except ValueError as error:
        raise RoleTrustError(str(error))
    absent = params.get("state") == "absent"
    provider_arn, partition, account = None, iam_utils.partition_for_region(region), None
    if params.get("issuer") or not absent:
        if not params.get("issuer"):
            raise RoleTrustError("issuer is required unless state is absent or restore is given")
        try:
            provider_arn, partition, account = resolve_provider(params["issuer"], params.get("provider_arn"), sts_client, region)
        except AnsibleAWSError as error:
            raise RoleTrustError(_describe(error))
    ctx = Context(client, params, check_mode, provider_arn, partition, account)
    work = [(plan, spec, _label(plan)) for plan, spec in zip(plans, roles)]
    if absent:
        results, diffs = run_concurrently(ensure_role_absent, ctx, work, concurrency)
    else:
        if work:
            check_provider_exists(ctx, warn)
        results, diffs = run_concurrently(ensure_role_present, ctx, work, concurrency)
    return _finish(results, diffs, provider_arn)


def rollback_of(results):
    """What undoes this call: ``restore`` (the previous text of each rewritten trust policy) and ``delete`` (the
    created roles), in the shapes of the ``restore`` and ``roles`` options."""
    restore = [{"name": result["name"], "trust_policy": result["previous_trust_policy"]} for result in results
               if result["trust_changed"] and result["exists"] and not result["deleted"]
               and result["previous_trust_policy"] is not None]
    delete = [{"name": result["name"]} for result in results if result["created"]]
    return {"restore": restore, "delete": delete}


def _finish(results, diffs, provider_arn):
    failed = sum(1 for result in results if result.get("failed"))
    return {"roles": results, "provider_arn": provider_arn, "changed": any(result["changed"] for result in results),
            "rollback": rollback_of(results), "diff": diffs}, failed
