# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""CloudFront origin access controls, amazon.aws style (private module_util of ``cloudfront_origin_access_control``).

An origin access control (OAC) is found by its name, unique per account. Updates and deletes follow CloudFront's
optimistic locking: ``GetOriginAccessControl`` gives the current ``ETag``, which the write sends as ``IfMatch``; when
another writer got there first (``PreconditionFailed``), the object is read again, the difference recomputed and
the write retried a few times.

The ``plan_*`` functions are pure; the ``ensure_*`` functions make no write call in check mode. API helpers are
decorated with :class:`CloudFrontOACErrorHandler` (failures become :class:`CloudFrontOACError`) and
``AWSRetry.jittered_backoff``.
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

ORIGIN_TYPES = ("s3", "mediastore", "mediapackagev2", "lambda")
SIGNING_BEHAVIORS = ("always", "never", "no-override")
SIGNING_PROTOCOLS = ("sigv4",)
ETAG_ATTEMPTS = 3

_retry = AWSRetry.jittered_backoff()
# Config keys: CloudFront's name -> the module's name.
_CONFIG_KEYS = (
    ("Name", "name"),
    ("Description", "description"),
    ("SigningProtocol", "signing_protocol"),
    ("SigningBehavior", "signing_behavior"),
    ("OriginAccessControlOriginType", "origin_type"),
)


class CloudFrontOACError(AnsibleAWSError):
    """A failed CloudFront call on an origin access control."""


class CloudFrontOACErrorHandler(AWSErrorHandler):
    """CloudFront error handler of the OAC calls: ``NoSuchOriginAccessControl`` is the missing case."""

    _CUSTOM_EXCEPTION = CloudFrontOACError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NoSuchOriginAccessControl")


class OriginAccessControlInUse(CloudFrontOACError):
    """The OAC cannot be deleted: a distribution's origin still uses it."""


class ETagConflict(CloudFrontOACError):
    """Another writer kept changing the OAC between our read and our write."""


# ---------------------------------------------------------------- API helpers
@CloudFrontOACErrorHandler.common_error_handler("list CloudFront origin access controls")
@_retry
def list_origin_access_controls(client):
    """Every OAC summary of the account (all pages)."""
    items = []
    for page in client.get_paginator("list_origin_access_controls").paginate():
        items.extend((page.get("OriginAccessControlList") or {}).get("Items") or [])
    return items


@CloudFrontOACErrorHandler.list_error_handler("get CloudFront origin access control {oac_id}")
@_retry
def get_origin_access_control(client, oac_id):
    """``(OriginAccessControl, ETag)`` of an OAC, or ``None`` when it does not exist."""
    answer = client.get_origin_access_control(Id=oac_id)
    return answer["OriginAccessControl"], answer.get("ETag")


@CloudFrontOACErrorHandler.common_error_handler("create CloudFront origin access control")
@_retry
def create_origin_access_control(client, config):
    """Create an OAC; returns ``(OriginAccessControl, ETag)``."""
    answer = client.create_origin_access_control(OriginAccessControlConfig=config)
    return answer["OriginAccessControl"], answer.get("ETag")


def _is_precondition_failed(exc):
    code = getattr(exc.exception, "response", {}).get("Error", {}).get("Code") if exc.exception is not None else None
    return code in ("PreconditionFailed", "InvalidIfMatchVersion")


@CloudFrontOACErrorHandler.common_error_handler("update CloudFront origin access control {oac_id}")
@_retry
def update_origin_access_control(client, oac_id, config, etag):
    """Write a whole OAC config with ``IfMatch``; returns ``(OriginAccessControl, ETag)``."""
    answer = client.update_origin_access_control(Id=oac_id, IfMatch=etag, OriginAccessControlConfig=config)
    return answer["OriginAccessControl"], answer.get("ETag")


@CloudFrontOACErrorHandler.deletion_error_handler("delete CloudFront origin access control {oac_id}")
@_retry
def _delete_origin_access_control(client, oac_id, etag):
    client.delete_origin_access_control(Id=oac_id, IfMatch=etag)
    return True


def delete_origin_access_control(client, oac_id, etag, name=None):
    """Delete an OAC with ``IfMatch``; ``False`` when it was already gone.

    Raises :class:`OriginAccessControlInUse` with a clear message when a distribution still uses it.
    """
    try:
        return _delete_origin_access_control(client, oac_id, etag)
    except CloudFrontOACError as exc:
        code = getattr(exc.exception, "response", {}).get("Error", {}).get("Code") if exc.exception is not None else None
        if code == "OriginAccessControlInUse":
            raise OriginAccessControlInUse(
                message="Cannot delete CloudFront origin access control %s (%s): it is in use by a distribution. "
                        "Remove it from every distribution origin (and wait for the distribution to be Deployed) "
                        "before deleting it" % (name or oac_id, oac_id),
                exception=exc.exception) from exc
        raise


# ---------------------------------------------------------------- reading
def config_to_module(config):
    """An OAC config (CloudFront's keys) in the module's snake_case keys."""
    config = config or {}
    return dict((ours, config.get(theirs, "" if ours == "description" else None)) for theirs, ours in _CONFIG_KEYS)


def normalize_origin_access_control(oac, etag):
    """The module's view of an OAC: ``id``, ``name``, ``etag`` and ``config`` (snake_case)."""
    config = config_to_module(oac.get("OriginAccessControlConfig"))
    return {"id": oac.get("Id"), "name": config["name"], "etag": etag, "config": config}


def find_origin_access_controls(client, name):
    """The summaries of the OACs named ``name`` (CloudFront allows one; several means the account is odd)."""
    return [item for item in list_origin_access_controls(client) if item.get("Name") == name]


def find_origin_access_control(client, name):
    """``(OriginAccessControl, ETag)`` of the OAC named ``name``, or ``None``.

    Raises :class:`CloudFrontOACError` when several OACs carry the name, rather than pick one.
    """
    matches = find_origin_access_controls(client, name)
    if len(matches) > 1:
        raise CloudFrontOACError(message="Several CloudFront origin access controls are named %s (%s); names must be "
                                         "unique, remove the extra ones" % (name, ", ".join(item["Id"] for item in matches)))
    if not matches:
        return None
    return get_origin_access_control(client, matches[0]["Id"])


# ---------------------------------------------------------------- planning
def desired_config(name, description, origin_type, signing_behavior, signing_protocol, current=None):
    """The OAC config (CloudFront's keys) wanted; ``None`` values keep the current value (or the default)."""
    current = current or {}
    wanted = {
        "Name": name,
        "Description": description if description is not None else current.get("Description", ""),
        "SigningProtocol": signing_protocol or current.get("SigningProtocol") or "sigv4",
        "SigningBehavior": signing_behavior or current.get("SigningBehavior") or "always",
        "OriginAccessControlOriginType": origin_type or current.get("OriginAccessControlOriginType") or "s3",
    }
    return wanted


def plan_config_update(current, wanted):
    """The keys (module names) whose value differs between two configs, as ``{key: {"before", "after"}}``."""
    before, after = config_to_module(current), config_to_module(wanted)
    return dict((key, {"before": before[key], "after": after[key]}) for key in after if before[key] != after[key])


# ---------------------------------------------------------------- applying
def ensure_origin_access_control_present(client, check_mode, found, name, description, origin_type,
                                         signing_behavior, signing_protocol):
    """Create or update the OAC named ``name``; returns ``(changed, oac)`` (normalized).

    ``found`` is ``(OriginAccessControl, ETag)`` or ``None``. Check mode makes no write call and returns the OAC
    the change would give (``id`` and ``etag`` null on create).
    """
    if found is None:
        config = desired_config(name, description, origin_type, signing_behavior, signing_protocol)
        if check_mode:
            return True, normalize_origin_access_control({"Id": None, "OriginAccessControlConfig": config}, None)
        oac, etag = create_origin_access_control(client, config)
        return True, normalize_origin_access_control(oac, etag)

    oac, etag = found
    for attempt in range(ETAG_ATTEMPTS):
        current = oac.get("OriginAccessControlConfig") or {}
        wanted = desired_config(name, description, origin_type, signing_behavior, signing_protocol, current)
        if not plan_config_update(current, wanted):
            return False, normalize_origin_access_control(oac, etag)
        if check_mode:
            return True, normalize_origin_access_control(dict(oac, OriginAccessControlConfig=wanted), etag)
        try:
            new_oac, new_etag = update_origin_access_control(client, oac["Id"], wanted, etag)
            return True, normalize_origin_access_control(new_oac, new_etag)
        except CloudFrontOACError as exc:
            if not _is_precondition_failed(exc) or attempt == ETAG_ATTEMPTS - 1:
                raise
        refreshed = get_origin_access_control(client, oac["Id"])
        if refreshed is None:
            raise CloudFrontOACError(message="CloudFront origin access control %s (%s) was deleted while being updated"
                                             % (name, oac["Id"]))
        oac, etag = refreshed
    raise ETagConflict(message="CloudFront origin access control %s kept changing; giving up" % name)  # pragma: no cover


def ensure_origin_access_control_absent(client, check_mode, found):
    """Delete the OAC if it exists, with ``IfMatch`` from a fresh read; returns whether anything changed."""
    if found is None:
        return False
    if check_mode:
        return True
    oac, etag = found
    name = (oac.get("OriginAccessControlConfig") or {}).get("Name")
    for attempt in range(ETAG_ATTEMPTS):
        try:
            return bool(delete_origin_access_control(client, oac["Id"], etag, name=name))
        except OriginAccessControlInUse:
            raise
        except CloudFrontOACError as exc:
            if not _is_precondition_failed(exc) or attempt == ETAG_ATTEMPTS - 1:
                raise
        refreshed = get_origin_access_control(client, oac["Id"])
        if refreshed is None:
            return False
        etag = refreshed[1]
    raise ETagConflict(message="CloudFront origin access control %s kept changing; giving up" % name)  # pragma: no cover
