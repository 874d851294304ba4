# -*- coding: utf-8 -*-
# Copyright: contributors to the openshift_sts.oidc collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Service-account tokens from the TokenRequest API, and the Kubernetes connection options.

kubernetes.core has no TokenRequest support (kubernetes.core#779): the token
is minted with a ``POST .../serviceaccounts/<name>/token`` over the
connection of kubernetes.core's own client factory (see ``_kubernetes_rest``),
so every connection option and ``K8S_AUTH_*`` environment variable behaves as
in kubernetes.core.
"""

import copy
import threading

from ansible_collections.openshift_sts.oidc.plugins.module_utils._kubernetes_rest import KubeHTTPError, client_for, path
from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding

# Minimum TokenRequest lifetime kube-apiserver grants.
MIN_EXPIRATION_SECONDS = 600

# kubernetes.core's connection options (AUTH_ARG_SPEC), those that apply to a
# bearer-token, kubeconfig or client-certificate connection; documented by the
# doc fragment openshift_sts.oidc.kubernetes_connection.
_CONNECTION_OPTIONS = dict(
    host=dict(type="str"),
    api_key=dict(type="str", no_log=True),
    kubeconfig=dict(type="raw"),
    context=dict(type="str"),
    validate_certs=dict(type="bool", aliases=["verify_ssl"]),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"]),
    client_cert=dict(type="path", aliases=["cert_file"]),
    client_key=dict(type="path", aliases=["key_file"]),
    proxy=dict(type="str"),
    no_proxy=dict(type="str"),
)


def kubernetes_option_spec():
    """The ``kubernetes`` dict option: kubernetes.core's connection options, nested.

    Nested, because a module that also takes amazon.aws's options would
    otherwise have two different ``validate_certs``. kubernetes.core's client
    factory reads the ``K8S_AUTH_*`` environment variables for every option
    left unset, as AAP's OpenShift credential expects.
    """
    return dict(type="dict", default={}, options=copy.deepcopy(_CONNECTION_OPTIONS))


class TokenMinter(object):  # pylint: disable=useless-object-inheritance
    """Mints one token per (namespace, service account, audience), concurrently safe, once each."""

    def __init__(self, connection, audience, expiration_seconds=MIN_EXPIRATION_SECONDS, pool_size=None):
        self._connection = dict((k, v) for k, v in (connection or {}).items() if v is not None)
        self._audience = audience
        self._expiration = max(MIN_EXPIRATION_SECONDS, int(expiration_seconds))
        self._pool_size = pool_size
        self._rest = None
        self._lock = threading.Lock()
        # TokenRequests in flight at once: as many as the connections kept open to the API server.
        self._slots = threading.BoundedSemaphore(pool_size or 10)
        self._tokens = {}

    def rest(self):
        """The :class:`_kubernetes_rest.KubeRest` of the connection (made on first use: a minter may never mint)."""
        with self._lock:
            if self._rest is None:
                self._rest = client_for(self._connection, self._pool_size)
            return self._rest

    def token(self, namespace, name):
        """The token text for ``namespace/name`` (minted once, then reused); raises ``KubeHTTPError``."""
        key = (namespace, name)
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None:
            return cached
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"audiences": [self._audience], "expirationSeconds": self._expiration}}
        rest = self.rest()
        with self._slots:
            answer = rest.post(path("api/v1", "namespaces", namespace, "serviceaccounts", name, "token"), body)
        token = (answer.get("status") or {}).get("token")
        if not token:
            raise KubeHTTPError(201, "the TokenRequest was answered without a token")
        with self._lock:
            self._tokens[key] = token
        return token

    def minted(self):
        """Every token minted so far (to register as no_log values)."""
        with self._lock:
            return list(self._tokens.values())


def token_error(namespace, name, exc):
    """The finding for a service account whose token could not be minted."""
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None) or type(exc).__name__
    subject = "system:serviceaccount:%s:%s" % (namespace, name)
    if status == 404:
        message = "The service account %s does not exist, so no token can be requested for it." % subject
        fix = "Check the CredentialsRequest's serviceAccountNames and secretRef.namespace."
    elif status in (401, 403):
        message = "The Kubernetes credentials may not request tokens for %s (TokenRequest answered %s)." % (subject, status)
        fix = "Use credentials allowed to create serviceaccounts/token in namespace %s." % namespace
    else:
        message = "A token for %s could not be requested from the Kubernetes API." % subject
        fix = "Check the Kubernetes connection options (host, credentials, CA) and that the API server answers."
    return finding("TOKEN_INVALID", subject=subject, message=message, expected="a TokenRequest answered with a token",
                   actual="%s %s" % (status or "", reason), remediation=fix)
