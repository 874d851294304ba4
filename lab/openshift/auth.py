"""Bearer-token authentication and a small RBAC model.

A principal is a user name plus rules. A rule is ``(verb, group, resource)``
where each part may be ``"*"``; ``resource`` may name a subresource
(``serviceaccounts/token``, ``pods/status``). An admin principal may do
everything. Discovery, ``/version``, the OIDC discovery endpoints and the
self-review APIs are open to every authenticated principal, as the
``system:discovery`` / ``system:basic-user`` /
``system:service-account-issuer-discovery`` bindings make them on OpenShift
(the last binding is an assumption: field notes §6.4 mark it unverified).

Tokens look like OpenShift OAuth access tokens (``sha256~...``).
"""

import dataclasses
import secrets
import threading

READ_VERBS = ("get", "list", "watch")


@dataclasses.dataclass
class Principal:
    """An authenticated user."""

    name: str
    rules: frozenset = frozenset()
    admin: bool = False
    groups: tuple = ("system:authenticated",)

    def allows(self, verb, group, resource):
        """True if the principal may ``verb`` ``group``/``resource``."""
        if self.admin:
            return True
        for rule_verb, rule_group, rule_resource in self.rules:
            if rule_verb not in ("*", verb):
                continue
            if rule_group not in ("*", group):
                continue
            if rule_resource in ("*", resource) or (rule_resource.endswith("/*") and resource.startswith(rule_resource[:-1])):
                return True
        return False


def new_token():
    """A fresh token in OpenShift's ``sha256~`` form."""
    return "sha256~" + secrets.token_urlsafe(32)[:43]


class TokenRegistry:
    """Tokens known to the API server."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens = {}

    def add(self, principal, token=None):
        """Register ``principal`` under ``token`` (generated if None); returns the token."""
        token = token or new_token()
        with self._lock:
            self._tokens[token] = principal
        return token

    def remove(self, token):
        """Revoke a token."""
        with self._lock:
            self._tokens.pop(token, None)

    def lookup(self, token):
        """The principal of ``token`` or None."""
        with self._lock:
            return self._tokens.get(token)


def read_only_rules():
    """get/list/watch on every resource, nothing else."""
    return frozenset((verb, "*", "*") for verb in READ_VERBS)
