# -*- coding: utf-8 -*-
# Copyright: contributors to the openshift_sts.oidc collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Service-account tokens from the TokenRequest API, and the Kubernetes connection options.

kubernetes.core has no TokenRequest support (kubernetes.core#779): the token
is minted with ``CoreV1Api.create_namespaced_service_account_token`` on the
API client of kubernetes.core's own client factory, so every connection
option and ``K8S_AUTH_*`` environment variable behaves as in kubernetes.core.
"""

import copy
import threading

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

    def __init__(self, module, connection, audience, expiration_seconds=MIN_EXPIRATION_SECONDS):
        self._module = module
        self._connection = dict((k, v) for k, v in (connection or {}).items() if v is not None)
        self._audience = audience
        self._expiration = max(MIN_EXPIRATION_SECONDS, int(expiration_seconds))
        self._api = None
        self._lock = threading.Lock()
        self._tokens = {}

    def _core_api(self):
        with self._lock:
            if self._api is None:
                # Imported here: only runs that mint tokens need kubernetes at all.
                import kubernetes.client  # pylint: disable=import-outside-toplevel
                from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (  # pylint: disable=import-outside-toplevel
                    get_api_client,
                )
                k8s = get_api_client(**self._connection)
                self._api = kubernetes.client.CoreV1Api(k8s.client.client)
            return self._api

    def token(self, namespace, name):
        """The token text for ``namespace/name``; raises ``TokenUnavailable``-compatible errors via ``error``."""
        key = (namespace, name)
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None:
            return cached
        import kubernetes.client  # pylint: disable=import-outside-toplevel
        body = kubernetes.client.AuthenticationV1TokenRequest(
            spec=kubernetes.client.V1TokenRequestSpec(audiences=[self._audience], expiration_seconds=self._expiration))
        response = self._core_api().create_namespaced_service_account_token(name, namespace, body)
        token = response.status.token
        with self._lock:
            self._tokens[key] = token
        return token


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
