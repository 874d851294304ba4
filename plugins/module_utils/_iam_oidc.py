# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IAM OpenID Connect identity providers, amazon.aws style (private module_util of ``iam_oidc_provider``).

IAM keeps one provider per URL and returns that URL without its scheme. STS finds the provider whose URL equals
the token's ``iss`` minus ``https://``, exactly, so a provider is found here by the same exact comparison and a
provider of any other URL (a parent path, a trailing slash) is never reused or changed.

The ``plan_*`` functions are pure: they compute what must change. The ``ensure_*`` functions apply a plan, and make
no write call in check mode. The API helpers are decorated with :class:`OIDCProviderErrorHandler` (failures become
:class:`OIDCProviderError`) and ``AWSRetry.jittered_backoff`` (throttling and ``ConcurrentModification`` retried).
"""

from __future__ import annotations

import copy
import re

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError, IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

DEFAULT_CLIENT_IDS = ("openshift", "sts.amazonaws.com")
MAX_URL_LENGTH = 255
MAX_THUMBPRINTS = 5
MAX_CLIENT_IDS = 100
_PROVIDER_MARK = ":oidc-provider/"
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_ARN = re.compile(r"^arn:(?P<partition>[a-z0-9-]+):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}):")

_retry = AWSRetry.jittered_backoff(catch_extra_error_codes=["ConcurrentModification"])


class OIDCProviderError(AnsibleIAMError):
    """A failed IAM call on an OpenID Connect provider."""


class OIDCProviderErrorHandler(IAMErrorHandler):
    """IAM error handler of the OIDC provider calls: ``NoSuchEntity`` is the missing case."""

    _CUSTOM_EXCEPTION = OIDCProviderError


# ---------------------------------------------------------------- input
def normalize_provider_url(url):
    """IAM's form of an issuer URL (no scheme), after the checks IAM makes.

    ``url`` may start with ``https://`` or carry no scheme. It must name a host with no port, user information,
    query or fragment; paths are kept as given (case and trailing slash included: IAM compares URLs exactly).
    Raises ``ValueError`` with a message naming the problem.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError("url must be a non-empty string")
    text = url.strip()
    if text != url:
        raise ValueError("url must not start or end with white space: %r" % url)
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if match:
        if match.group(1) != "https":
            raise ValueError("url must use the https scheme (IAM accepts only https://), not %s://" % match.group(1))
        text = text[len("https://"):]
    if re.search(r"\s", text):
        raise ValueError("url must not contain white space: %r" % url)
    if "?" in text or "#" in text:
        raise ValueError("url must not contain a query or a fragment (IAM rejects them): %s" % url)
    host = text.split("/", 1)[0]
    if "@" in host:
        raise ValueError("url must not contain user information: %s" % url)
    if ":" in host:
        raise ValueError("url must not contain a port number (IAM rejects it): %s" % url)
    if not _HOST.match(host) or ".." in host:
        raise ValueError("url must start with a valid host name: %s" % url)
    if len("https://" + text) > MAX_URL_LENGTH:
        raise ValueError("url must be at most %d characters with https://, not %d" % (MAX_URL_LENGTH, len("https://" + text)))
    return text


def issuer_of(iam_url):
    """The issuer (``https://`` + IAM's form) of a provider URL."""
    return "https://" + iam_url


def validate_thumbprints(thumbprints):
    """The thumbprints given, checked (40 hexadecimal characters, at most 5, no duplicates); ``None`` stays ``None``."""
    if thumbprints is None:
        return None
    problems = [thumb for thumb in thumbprints if not _THUMBPRINT.match(thumb or "")]
    if problems:
        raise ValueError("thumbprints must be SHA-1 fingerprints of 40 hexadecimal characters without colons: %s"
                         % ", ".join(repr(thumb) for thumb in problems))
    unique = []
    for thumb in thumbprints:
        if thumb.lower() not in [item.lower() for item in unique]:
            unique.append(thumb)
    if len(unique) > MAX_THUMBPRINTS:
        raise ValueError("IAM keeps at most %d thumbprints per provider, not %d" % (MAX_THUMBPRINTS, len(unique)))
    return unique


def validate_client_ids(client_ids):
    """The client IDs given, checked (1-255 characters, at most 100), without duplicates, in order."""
    unique = []
    for client_id in client_ids or []:
        if not client_id or len(client_id) > 255:
            raise ValueError("each client ID must have 1 to 255 characters: %r" % client_id)
        if client_id not in unique:
            unique.append(client_id)
    if len(unique) > MAX_CLIENT_IDS:
        raise ValueError("IAM keeps at most %d client IDs per provider, not %d" % (MAX_CLIENT_IDS, len(unique)))
    return unique


# ---------------------------------------------------------------- API helpers
@OIDCProviderErrorHandler.common_error_handler("list IAM OIDC providers")
@_retry
def list_oidc_provider_arns(client):
    """The ARNs of every OIDC provider of the account."""
    answer = client.list_open_id_connect_providers()
    return [item["Arn"] for item in answer.get("OpenIDConnectProviderList", [])]


@OIDCProviderErrorHandler.list_error_handler("get IAM OIDC provider {arn}")
@_retry
def get_oidc_provider(client, arn):
    """The raw ``GetOpenIDConnectProvider`` answer, or ``None`` when the provider does not exist."""
    return client.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)


@OIDCProviderErrorHandler.common_error_handler("create IAM OIDC provider for {url}")
@_retry
def create_oidc_provider(client, url, client_ids, thumbprints, tags):
    """Create a provider; IAM computes the thumbprint when ``thumbprints`` is ``None``. Returns its ARN."""
    params = {"Url": url, "ClientIDList": list(client_ids)}
    if thumbprints is not None:
        params["ThumbprintList"] = list(thumbprints)
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.create_open_id_connect_provider(**params)["OpenIDConnectProviderArn"]


@OIDCProviderErrorHandler.common_error_handler("add client ID {client_id} to IAM OIDC provider {arn}")
@_retry
def add_client_id(client, arn, client_id):
    """Add one client ID (idempotent in IAM)."""
    client.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=client_id)


@OIDCProviderErrorHandler.common_error_handler("remove client ID {client_id} from IAM OIDC provider {arn}")
@_retry
def remove_client_id(client, arn, client_id):
    """Remove one client ID (idempotent in IAM)."""
    client.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=client_id)


@OIDCProviderErrorHandler.common_error_handler("update the thumbprints of IAM OIDC provider {arn}")
@_retry
def update_thumbprints(client, arn, thumbprints):
    """Replace the thumbprint list."""
    client.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=list(thumbprints))


@OIDCProviderErrorHandler.common_error_handler("tag IAM OIDC provider {arn}")
@_retry
def tag_oidc_provider(client, arn, tags):
    """Set tags (a dict)."""
    client.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=ansible_dict_to_boto3_tag_list(tags))


@OIDCProviderErrorHandler.common_error_handler("untag IAM OIDC provider {arn}")
@_retry
def untag_oidc_provider(client, arn, keys):
    """Remove tags by key."""
    client.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=list(keys))


@OIDCProviderErrorHandler.deletion_error_handler("delete IAM OIDC provider {arn}")
@_retry
def delete_oidc_provider(client, arn):
    """Delete a provider; ``False`` when it was already gone."""
    client.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    return True


@OIDCProviderErrorHandler.common_error_handler("get the caller identity")
@_retry
def _caller_arn(sts_client):
    return sts_client.get_caller_identity()["Arn"]


# ---------------------------------------------------------------- reading
def partition_of(arn):
    """The partition of an ARN (``aws``, ``aws-cn``, ``aws-us-gov``, ...), or ``None``."""
    match = _ARN.match(arn or "")
    return match.group("partition") if match else None


def provider_arn(partition, account, iam_url):
    """The ARN IAM gives the provider of ``iam_url``."""
    return "arn:%s:iam::%s:oidc-provider/%s" % (partition, account, iam_url)


def predicted_provider_arn(sts_client, iam_url):
    """The ARN a new provider would get, from the caller's partition and account; ``None`` if unknown."""
    try:
        match = _ARN.match(_caller_arn(sts_client) or "")
    except OIDCProviderError:
        return None
    return provider_arn(match.group("partition"), match.group("account"), iam_url) if match else None


def normalize_provider(arn, raw):
    """The module's view of a provider (snake_case keys, tags as a dict, date as ISO 8601 text)."""
    created = raw.get("CreateDate")
    url = raw.get("Url") or ""
    return {
        "arn": arn,
        "url": url,
        "issuer": issuer_of(url) if url else None,
        "client_ids": list(raw.get("ClientIDList") or []),
        "thumbprints": list(raw.get("ThumbprintList") or []),
        "tags": boto3_tag_list_to_ansible_dict(raw.get("Tags") or []),
        "create_date": created.isoformat() if hasattr(created, "isoformat") else created,
    }


def find_oidc_provider(client, iam_url):
    """The provider whose URL is exactly ``iam_url`` (IAM's form), normalized, or ``None``.

    Candidates are the ARNs ending in ``:oidc-provider/<iam_url>``; each is read and its ``Url`` compared
    again, so that a provider of another URL is never returned.
    """
    for arn in list_oidc_provider_arns(client):
        head, mark, tail = arn.partition(_PROVIDER_MARK)
        if not mark or not head or tail != iam_url:
            continue
        raw = get_oidc_provider(client, arn)
        if raw is not None and raw.get("Url") == iam_url:
            return normalize_provider(arn, raw)
    return None


# ---------------------------------------------------------------- planning
def _same_thumbprints(current, wanted):
    return sorted(t.lower() for t in current) == sorted(t.lower() for t in wanted)


def plan_provider_update(current, client_ids, purge_client_ids, thumbprints, tags, purge_tags):
    """What must change on an existing provider, and the provider once changed.

    ``client_ids`` is the list wanted (``None``: unmanaged); ``thumbprints`` ``None`` leaves them alone; ``tags``
    ``None`` leaves tags alone (amazon.aws semantics, ``aws:`` keys never purged). Returns a dict with
    ``add_client_ids``, ``remove_client_ids``, ``thumbprints`` (the new list or ``None``), ``set_tags``,
    ``unset_tags``, ``changed`` and ``after``.
    """
    after = copy.deepcopy(current)
    plan = {"add_client_ids": [], "remove_client_ids": [], "thumbprints": None, "set_tags": {}, "unset_tags": []}
    existing_ids = list(current.get("client_ids") or [])
    if client_ids is not None:
        plan["add_client_ids"] = [item for item in client_ids if item not in existing_ids]
        if purge_client_ids:
            plan["remove_client_ids"] = [item for item in existing_ids if item not in client_ids]
        after["client_ids"] = [item for item in existing_ids if item not in plan["remove_client_ids"]] + plan["add_client_ids"]
    if thumbprints is not None and not _same_thumbprints(current.get("thumbprints") or [], thumbprints):
        plan["thumbprints"] = list(thumbprints)
        after["thumbprints"] = list(thumbprints)
    if tags is not None:
        to_set, to_unset = compare_aws_tags(current.get("tags") or {}, tags, purge_tags=purge_tags)
        plan["set_tags"], plan["unset_tags"] = to_set, sorted(to_unset)
        new_tags = dict((key, value) for key, value in (current.get("tags") or {}).items() if key not in to_unset)
        new_tags.update(to_set)
        after["tags"] = new_tags
    plan["changed"] = bool(plan["add_client_ids"] or plan["remove_client_ids"] or plan["thumbprints"] is not None
                           or plan["set_tags"] or plan["unset_tags"])
    plan["after"] = after
    return plan


def plan_provider_create(iam_url, client_ids, thumbprints, tags, arn=None):
    """The provider a create would make (thumbprints ``[]`` when IAM is left to compute them)."""
    return {
        "arn": arn,
        "url": iam_url,
        "issuer": issuer_of(iam_url),
        "client_ids": list(client_ids or []),
        "thumbprints": list(thumbprints or []),
        "tags": dict(tags or {}),
        "create_date": None,
    }


# ---------------------------------------------------------------- applying
def ensure_provider_present(client, check_mode, iam_url, current, client_ids, purge_client_ids, thumbprints,
                            tags, purge_tags, sts_client=None):
    """Create or update the provider of ``iam_url``; returns ``(changed, provider)``.

    In check mode no write call is made and the provider returned is the one the change would give (on create,
    its ARN is predicted from ``sts_client``'s caller identity when one is given).
    """
    if current is None:
        ids = client_ids if client_ids is not None else list(DEFAULT_CLIENT_IDS)
        if check_mode:
            arn = predicted_provider_arn(sts_client, iam_url) if sts_client is not None else None
            return True, plan_provider_create(iam_url, ids, thumbprints, tags, arn=arn)
        arn = create_oidc_provider(client, issuer_of(iam_url), ids, thumbprints, tags)
        raw = get_oidc_provider(client, arn)
        return True, normalize_provider(arn, raw) if raw is not None else plan_provider_create(
            iam_url, ids, thumbprints, tags, arn=arn)

    plan = plan_provider_update(current, client_ids, purge_client_ids, thumbprints, tags, purge_tags)
    if not plan["changed"]:
        return False, current
    if check_mode:
        return True, plan["after"]
    arn = current["arn"]
    for client_id in plan["add_client_ids"]:
        add_client_id(client, arn, client_id)
    for client_id in plan["remove_client_ids"]:
        remove_client_id(client, arn, client_id)
    if plan["thumbprints"] is not None:
        update_thumbprints(client, arn, plan["thumbprints"])
    if plan["unset_tags"]:
        untag_oidc_provider(client, arn, plan["unset_tags"])
    if plan["set_tags"]:
        tag_oidc_provider(client, arn, plan["set_tags"])
    raw = get_oidc_provider(client, arn)
    return True, normalize_provider(arn, raw) if raw is not None else plan["after"]


def ensure_provider_absent(client, check_mode, current):
    """Delete the provider (by its ARN) if it exists; returns whether anything changed (or would)."""
    if current is None:
        return False
    if check_mode:
        return True
    return bool(delete_oidc_provider(client, current["arn"]))
