"""An in-memory IAM (and STS) for the iam_role_trust tests: roles with their exact trust text, tags, inline policies.

Trust and inline policy documents are stored as the exact text written and returned URL-encoded, as IAM does.
Every call is recorded in ``calls`` as ``(operation, role name or None)``; ``fail`` maps ``(operation, role)`` to an
error code raised once per call; ``delay`` makes each ``GetRole`` take that long, and ``max_active`` records the
largest number of calls in progress at the same time.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from urllib.parse import quote

from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
WRITES = frozenset(("CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "DeleteRole",
                    "DetachRolePolicy", "TagRole"))


def client_error(code, operation, status=400):
    """A ClientError as botocore raises it."""
    return ClientError({"Error": {"Code": code, "Message": "%s (test)" % code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


class _Events(object):
    """Accepts the unregister call of raw_policy_client."""

    def __init__(self):
        self.unregistered = []

    def unregister(self, event, handler):
        """Record the handler switched off."""
        self.unregistered.append((event, handler))


class _Paginator(object):
    def __init__(self, func, key):
        self._func = func
        self._key = key

    def paginate(self, **kwargs):
        """One page with everything."""
        result = {self._key: self._func(**kwargs)}
        return SimpleNamespace(build_full_result=lambda: result)


class FakeIam(object):
    """The IAM API calls iam_role_trust makes, on in-memory state."""

    def __init__(self, account=ACCOUNT, partition="aws"):
        self.account = account
        self.partition = partition
        self.roles = {}
        self.providers = set()
        self.calls = []
        self.fail = {}
        self.delay = 0.0
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self.meta = SimpleNamespace(events=_Events())

    # ------------------------------------------------------------ building
    def add_provider(self, host):
        """An IAM OIDC provider; returns its ARN."""
        arn = "arn:%s:iam::%s:oidc-provider/%s" % (self.partition, self.account, host)
        self.providers.add(arn)
        return arn

    def add_role(self, name, trust_text, tags=None, inline=None, attached=None):
        """A role with this exact trust text."""
        self.roles[name] = {
            "Path": "/", "RoleName": name, "RoleId": "AROA" + name.upper()[:16],
            "Arn": "arn:%s:iam::%s:role/%s" % (self.partition, self.account, name),
            "AssumeRolePolicyDocument": trust_text, "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
            "Description": "", "inline": dict(inline or {}), "attached": list(attached or []),
        }
        return self.roles[name]["Arn"]

    def trust(self, name):
        """The exact trust text of a role."""
        return self.roles[name]["AssumeRolePolicyDocument"]

    def writes(self):
        """The write calls made, in order."""
        return [call for call in self.calls if call[0] in WRITES]

    # ------------------------------------------------------------ plumbing
    def _call(self, operation, role=None):
        with self._lock:
            self.calls.append((operation, role))
            code = self.fail.pop((operation, role), None)
        if code:
            raise client_error(code, operation, 403 if code == "AccessDenied" else 400)

    def _role(self, name, operation):
        if name not in self.roles:
            raise client_error("NoSuchEntity", operation, 404)
        return self.roles[name]

    # ------------------------------------------------------------ API
    def get_role(self, RoleName):
        """GetRole: the trust document URL-encoded, tags included."""
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.delay:
                time.sleep(self.delay)
            self._call("GetRole", RoleName)
            role = dict(self._role(RoleName, "GetRole"))
        finally:
            with self._lock:
                self.active -= 1
        role["AssumeRolePolicyDocument"] = quote(role["AssumeRolePolicyDocument"], safe="")
        return {"Role": dict((k, v) for k, v in role.items() if k not in ("inline", "attached"))}

    def create_role(self, RoleName, AssumeRolePolicyDocument, Description=None, Tags=None, PermissionsBoundary=None,
                    MaxSessionDuration=None):
        """CreateRole."""
        self._call("CreateRole", RoleName)
        if RoleName in self.roles:
            raise client_error("EntityAlreadyExists", "CreateRole", 409)
        self.add_role(RoleName, AssumeRolePolicyDocument, dict((t["Key"], t["Value"]) for t in Tags or []))
        role = self.roles[RoleName]
        role["Description"] = Description
        if PermissionsBoundary:
            role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": PermissionsBoundary}
        if MaxSessionDuration:
            role["MaxSessionDuration"] = MaxSessionDuration
        return {"Role": {"RoleName": RoleName, "Arn": role["Arn"]}}

    def update_assume_role_policy(self, RoleName, PolicyDocument):
        """UpdateAssumeRolePolicy: stores the text exactly."""
        self._call("UpdateAssumeRolePolicy", RoleName)
        self._role(RoleName, "UpdateAssumeRolePolicy")["AssumeRolePolicyDocument"] = PolicyDocument
        return {}

    def get_role_policy(self, RoleName, PolicyName):
        """GetRolePolicy."""
        self._call("GetRolePolicy", RoleName)
        inline = self._role(RoleName, "GetRolePolicy")["inline"]
        if PolicyName not in inline:
            raise client_error("NoSuchEntity", "GetRolePolicy", 404)
        return {"RoleName": RoleName, "PolicyName": PolicyName, "PolicyDocument": quote(inline[PolicyName], safe="")}

    def put_role_policy(self, RoleName, PolicyName, PolicyDocument):
        """PutRolePolicy."""
        self._call("PutRolePolicy", RoleName)
        self._role(RoleName, "PutRolePolicy")["inline"][PolicyName] = PolicyDocument
        return {}

    def delete_role_policy(self, RoleName, PolicyName):
        """DeleteRolePolicy."""
        self._call("DeleteRolePolicy", RoleName)
        inline = self._role(RoleName, "DeleteRolePolicy")["inline"]
        if PolicyName not in inline:
            raise client_error("NoSuchEntity", "DeleteRolePolicy", 404)
        del inline[PolicyName]
        return {}

    def detach_role_policy(self, RoleName, PolicyArn):
        """DetachRolePolicy."""
        self._call("DetachRolePolicy", RoleName)
        self._role(RoleName, "DetachRolePolicy")["attached"].remove(PolicyArn)
        return {}

    def delete_role(self, RoleName):
        """DeleteRole: refused while policies remain, as IAM does."""
        self._call("DeleteRole", RoleName)
        role = self._role(RoleName, "DeleteRole")
        if role["inline"] or role["attached"]:
            raise client_error("DeleteConflict", "DeleteRole", 409)
        del self.roles[RoleName]
        return {}

    def _list_role_policies(self, RoleName):
        self._call("ListRolePolicies", RoleName)
        return sorted(self._role(RoleName, "ListRolePolicies")["inline"])

    def _list_attached(self, RoleName):
        self._call("ListAttachedRolePolicies", RoleName)
        return [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn}
                for arn in self._role(RoleName, "ListAttachedRolePolicies")["attached"]]

    def get_paginator(self, operation):
        """Paginators of the list calls."""
        if operation == "list_role_policies":
            return _Paginator(self._list_role_policies, "PolicyNames")
        if operation == "list_attached_role_policies":
            return _Paginator(self._list_attached, "AttachedPolicies")
        raise NotImplementedError(operation)

    def get_open_id_connect_provider(self, OpenIDConnectProviderArn):
        """GetOpenIDConnectProvider."""
        self._call("GetOpenIDConnectProvider")
        if OpenIDConnectProviderArn not in self.providers:
            raise client_error("NoSuchEntity", "GetOpenIDConnectProvider", 404)
        return {"Url": OpenIDConnectProviderArn.split("oidc-provider/", 1)[1], "ClientIDList": ["openshift"], "ThumbprintList": []}


class FakeSts(object):
    """sts:GetCallerIdentity."""

    def __init__(self, account=ACCOUNT, partition="aws"):
        self.account = account
        self.partition = partition
        self.calls = 0

    def get_caller_identity(self):
        """The caller."""
        self.calls += 1
        return {"Account": self.account, "Arn": "arn:%s:iam::%s:user/ansible" % (self.partition, self.account),
                "UserId": "AIDATEST"}
