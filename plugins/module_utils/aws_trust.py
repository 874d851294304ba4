# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Read-only AWS-side inspection of an OIDC trust chain (the logic of the ``aws_trust_check`` module).

:func:`inspect_trust` looks at the IAM OIDC provider of an issuer, the trust policies of the given roles,
and how the issuer is hosted (S3 or CloudFront), and returns findings from the shared catalogue
(:mod:`findings`). Each distinct thing is fetched once: the provider list once, each role once, each
bucket once, the distribution list once; so the number of API calls is a constant plus one per role.
Independent calls run concurrently in a bounded pool (the roles' ``GetRole``, the settings of a bucket, the
IAM side beside the hosting side); the result does not depend on the order they finish in.

Missing credentials give a single ``AWS_CREDENTIALS_MISSING`` finding; a denied call gives an
``AWS_PERMISSION_MISSING`` finding and the rest goes on.
"""

from __future__ import annotations

import ipaddress
import threading
from urllib.parse import urlsplit

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_hosting as hosting_utils
from ansible_collections.openshift_sts.oidc.plugins.module_utils import _aws_iam as iam_utils
from ansible_collections.openshift_sts.oidc.plugins.module_utils._aws_calls import (
    DEFAULT_CONCURRENCY,
    UNAVAILABLE,
    Calls,
    CredentialsMissing,
)
from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding, has_errors, sort_findings
from ansible_collections.openshift_sts.oidc.plugins.module_utils.issuer import host_and_path, issuer_problems

DEFAULT_AUDIENCE = "openshift"


def normalize_roles(roles):
    """Deduplicate ``roles`` by ARN (first occurrence wins the order), merging their service accounts.

    Each item is ``{"role_arn": str, "service_accounts": [str | {namespace, name}] or None}``. Returns a list of
    ``{"role_arn", "subjects"}`` with subjects as ``system:serviceaccount:<ns>:<name>``; raises ``ValueError`` for a
    malformed ARN or service account.
    """
    merged = {}
    order = []
    for index, role in enumerate(roles or []):
        if not isinstance(role, dict) or not role.get("role_arn"):
            raise ValueError("roles[%d] needs a role_arn" % index)
        arn = role["role_arn"].strip()
        iam_utils.parse_role_arn(arn)
        subjects = [iam_utils.normalize_subject(item) for item in role.get("service_accounts") or []]
        if arn not in merged:
            merged[arn] = []
            order.append(arn)
        for subject in subjects:
            if subject not in merged[arn]:
                merged[arn].append(subject)
    return [{"role_arn": arn, "subjects": merged[arn]} for arn in order]


def _is_ip_or_localhost(url):
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _strip_account_prefix(request, **kwargs):
    """s3control puts ``<account>.`` before the endpoint host; an IP endpoint (a local AWS twin) has no such name."""
    scheme, rest = request.url.split("://", 1)
    host, sep, path = rest.partition("/")
    label, dot, remainder = host.partition(".")
    if label.isdigit() and dot and _is_ip_or_localhost("%s://%s" % (scheme, remainder)):
        request.url = "%s://%s%s%s" % (scheme, remainder, sep, path)


LIST_ROLES_FROM = 20
"""From this many roles on, the roles are read with one paginated ``ListRoles`` rather than a ``GetRole`` each."""


def aws_client_config(concurrency):
    """The botocore config of the inspection's clients: one connection per call in flight (botocore keeps 10)."""
    import botocore.config  # pylint: disable=import-outside-toplevel  # the modules report a missing botocore
    return botocore.config.Config(max_pool_connections=max(10, concurrency))


class Clients(object):
    """boto3 clients by (service, region), created once, with every API call counted.

    Thread-safe: clients are created one at a time (a boto3 client, once created, may be shared by threads)
    and the counts are updated under a lock.
    """

    def __init__(self, connect, default_region):
        """``connect(service, region)`` returns a boto3 client."""
        self._connect = connect
        self.default_region = default_region
        self._clients = {}
        self._lock = threading.RLock()
        self.counts = {}

    def __call__(self, service, region=None):
        key = (service, region or self.default_region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._connect(service, key[1])
                events = getattr(getattr(client, "meta", None), "events", None)
                if events is not None:
                    events.register_first("before-call.*.*", self._count)
                    if service == "s3control" and _is_ip_or_localhost(getattr(client.meta, "endpoint_url", None)):
                        events.register("before-sign.s3-control.*", _strip_account_prefix)
                self._clients[key] = client
        return client

    def _count(self, model=None, **kwargs):
        name = "%s.%s" % (model.service_model.service_name, model.name) if model is not None else "unknown"
        self.count(name)

    def count(self, name):
        """Record a call made without a botocore client (fake clients in tests)."""
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + 1


def _not_inspected(issuer, roles):
    info = hosting_utils.classify_issuer(issuer)
    items = ["the IAM OIDC provider for %s" % issuer]
    items.extend("the trust policy of %s" % role["role_arn"] for role in roles)
    if info["kind"] == "s3":
        items.append("the S3 bucket %s (Block Public Access, policy, ownership, ACLs, encryption)" % info["bucket"])
    else:
        items.append("the hosting of %s (CloudFront distribution, origin access, bucket policy)" % info["host"])
    return items


def credentials_missing_result(issuer, roles, detail=None):
    """The result when there are no usable AWS credentials: one info finding, nothing inspected."""
    items = _not_inspected(issuer, roles)
    message = "No usable AWS credentials were found, so the AWS side (IAM OIDC provider, role trust policies, issuer hosting) " \
              "was not inspected."
    return {
        "findings": [finding("AWS_CREDENTIALS_MISSING", issuer, message,
                             expected="AWS credentials with read access to IAM, S3 and CloudFront",
                             actual=items + (["error: %s" % detail] if detail else []))],
        "provider": None,
        "roles": [{"role_arn": role["role_arn"], "exists": None, "trust_ok": None, "federated": [], "subjects": [],
                   "service_accounts": []} for role in roles],
        "hosting": None,
        "ok": False,
        "inspected": False,
        "complete": False,
    }


def _read_roles(calls, iam, roles):
    """The ``GetRole`` result (None when missing, UNAVAILABLE when unreadable) of every role, in order.

    From :data:`LIST_ROLES_FROM` roles on, one paginated ``ListRoles`` (which carries the trust policies) reads them
    all, and ``GetRole`` only those it did not list: hundreds of ``GetRole`` calls would meet IAM's request rate
    limits. Without ``iam:ListRoles``, every role is read with ``GetRole``.
    """
    listed = None
    if len(roles) >= LIST_ROLES_FROM:
        listed = calls.run(iam_utils.list_roles, iam, permission="iam:ListRoles", subject="roles", optional=True,
                           purpose="the trust policies of the roles")
    listed = listed or {}
    unlisted = [role for role in roles if role["role_arn"] not in listed]
    names = [iam_utils.parse_role_arn(role["role_arn"])["name"] for role in unlisted]
    read = dict(zip([role["role_arn"] for role in unlisted], calls.run_all(
        (iam_utils.get_role, (iam, name), dict(permission="iam:GetRole", subject=role["role_arn"],
                                               purpose="the trust policy of role %s" % name))
        for role, name in zip(unlisted, names))))
    return [listed[role["role_arn"]] if role["role_arn"] in listed else read[role["role_arn"]] for role in roles]


def inspect_trust(clients, issuer, roles, audience=DEFAULT_AUDIENCE, region=None, concurrency=DEFAULT_CONCURRENCY):
    """Inspect the AWS side of ``issuer``'s trust chain.

    ``clients(service, region=None)`` returns a boto3 client (see :class:`Clients`; it is called from more than
    one thread); ``roles`` comes from :func:`normalize_roles`; at most ``concurrency`` AWS calls are in flight
    (1: one after the other). Returns a dict with ``findings`` (sorted), ``provider``, ``roles``, ``hosting``,
    ``ok`` (AWS side inspected and no error finding), ``inspected`` and ``complete`` (no check skipped).
    """
    calls = Calls(concurrency)
    try:
        return _inspect(calls, clients, issuer, roles, audience, region)
    except CredentialsMissing as error:
        return credentials_missing_result(issuer, roles, str(error) or None)


def _inspect(calls, clients, issuer, roles, audience, region):
    findings = []
    problems = issuer_problems(issuer)
    try:
        hap = host_and_path(issuer)
    except ValueError:
        hap = None
    if problems:
        findings.append(finding(
            "ISSUER_URL_INVALID", issuer, "The issuer URL is not one AWS accepts as it is: %s." % problems[0],
            expected="https://<host>[/<path>] without port, query, fragment or trailing slash", actual=problems))
    if hap is None:
        return {"findings": sort_findings(findings), "provider": None, "roles": [], "hosting": None, "ok": False,
                "inspected": False, "complete": False}
    info = hosting_utils.classify_issuer(issuer)
    region = region or info.get("region") or "us-east-1"
    partition = iam_utils.partition_for_region(region)
    iam = clients("iam", region)

    # The provider list comes first: it tells whether there are usable credentials at all, and names the account.
    arns = calls.run(iam_utils.list_oidc_providers, iam, permission="iam:ListOpenIDConnectProviders", subject=issuer,
                     purpose="whether an IAM OIDC provider exists for the issuer")

    def inspect_hosting(branch):
        """The hosting side, in its own thread beside the IAM side (they share no call)."""
        account = {}

        def account_id():
            if "id" not in account:
                account["id"] = next((iam_utils.account_from_arn(arn) for arn in (arns or []) if iam_utils.account_from_arn(arn)),
                                     None)
                if account["id"] is None:
                    identity = branch.run(iam_utils.get_caller_identity, clients("sts", region), permission="sts:GetCallerIdentity",
                                          subject="caller", purpose="the account id (for account-level Block Public Access)")
                    account["id"] = identity.get("Account") if identity else None
            return account["id"]
        return hosting_utils.HostingInspector(branch, clients, partition, account_id, region).inspect(issuer)

    hosting_branch = calls.fork(inspect_hosting)
    try:
        provider = None
        if arns is not UNAVAILABLE:
            exact = iam_utils.find_provider(arns, hap)[0]
            details = None
            if exact:
                details = calls.run(iam_utils.get_oidc_provider, iam, exact, permission="iam:GetOpenIDConnectProvider",
                                    subject=exact, missing=("NoSuchEntity",),
                                    purpose="the client IDs (audiences) of the IAM OIDC provider")
            provider_findings, provider = iam_utils.check_provider(issuer, hap, audience, arns, details or None)
            findings.extend(provider_findings)

        found_roles = _read_roles(calls, iam, roles)
    except BaseException:
        hosting_branch.wait()  # what the IAM side raised wins; the hosting side ends first
        raise
    hosting_findings, hosting = hosting_branch.join()
    role_results = []
    for role, found in zip(roles, found_roles):
        if found is UNAVAILABLE:
            role_results.append({"role_arn": role["role_arn"], "exists": None, "trust_ok": None, "federated": [],
                                 "subjects": [], "service_accounts": []})
            continue
        role_findings, entry = iam_utils.check_role(role["role_arn"], found, hap, role["subjects"], audience)
        findings.extend(role_findings)
        role_results.append(entry)

    findings.extend(hosting_findings)
    findings.extend(calls.findings)
    return {
        "findings": sort_findings(findings),
        "provider": provider,
        "roles": role_results,
        "hosting": hosting,
        "ok": not has_errors(findings),
        "inspected": True,
        "complete": not calls.skipped,
    }
