# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON requests to the Kubernetes API over the connection kubernetes.core's client factory configures.

The one client factory of the collection (:func:`client_for`). kubernetes.core's ``get_api_client`` turns the
``kubernetes`` option and the ``K8S_AUTH_*`` variables into a configured ``ApiClient``, exactly as kubernetes.core's
modules do. The typed APIs of the kubernetes client (``CoreV1Api`` and friends) would then import hundreds of model
classes on first use - about half a second, longer than the whole diagnosis of a dozen roles - only to be asked for
raw JSON. So the requests go straight through the ``ApiClient``'s urllib3 pool manager, which holds its TLS, proxy
and client-certificate settings, with the authorization header its configuration computes (and refreshes, for
exec and OIDC kubeconfig users).
"""

from __future__ import absolute_import, division, print_function

import json
import threading

try:
    from urllib.parse import quote, urlencode
except ImportError:  # pragma: no cover - Python 2 is not supported
    quote = urlencode = None

__metaclass__ = type  # pylint: disable=invalid-name  # Ansible boilerplate

DEFAULT_TIMEOUT = 30

_CLIENTS = {}
_CLIENTS_LOCK = threading.Lock()


class KubeHTTPError(Exception):
    """A request failed: ``status`` is the HTTP status (None without an answer), ``reason`` says why."""

    def __init__(self, status, reason):
        super(KubeHTTPError, self).__init__("%s %s" % (status or "no answer:", reason))
        self.status = status
        self.reason = reason


def describe_failure(error):
    """``Type: message`` of a request that got no answer; urllib3's MaxRetryError is replaced by what it met."""
    cause = getattr(error, "reason", None)
    if isinstance(cause, Exception):
        error = cause
    text = " ".join(str(error).split())
    return "%s: %s" % (type(error).__name__, text[:300]) if text else type(error).__name__


def path(*segments):
    """An API path from its segments, each percent-encoded (``path("api/v1", "namespaces", ns)``)."""
    return "/" + "/".join(quote(str(item), safe="") if index else item for index, item in enumerate(segments))


class KubeRest(object):  # pylint: disable=useless-object-inheritance
    """JSON requests over a configured kubernetes ``ApiClient``; every request counts in :attr:`calls`."""

    def __init__(self, api_client, pool_size=None, timeout=DEFAULT_TIMEOUT):
        self._client = api_client
        self._config = api_client.configuration
        self._timeout = timeout
        self._lock = threading.Lock()
        self.calls = 0
        self.grow_pool(pool_size)

    def grow_pool(self, size):
        """Keep at least ``size`` connections open to the API server (the kubernetes client keeps ``5 x CPUs``).

        With more threads than open connections, every extra request would open, and drop, a TLS connection.
        """
        settings = getattr(getattr(self._client.rest_client, "pool_manager", None), "connection_pool_kw", None)
        if size and isinstance(settings, dict) and (settings.get("maxsize") or 1) < size:
            settings["maxsize"] = int(size)

    def _headers(self, with_body):
        headers = {"Accept": "application/json", "User-Agent": "openshift_sts.oidc"}
        if with_body:
            headers["Content-Type"] = "application/json"
        for setting in (self._config.auth_settings() or {}).values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
        return headers

    def request(self, method, api_path, query=None, body=None, timeout=None):
        """The JSON object the API answers ``method api_path?query``; raises :class:`KubeHTTPError`."""
        with self._lock:
            self.calls += 1
        url = self._config.host.rstrip("/") + api_path
        pairs = [(key, value) for key, value in (query or {}).items() if value is not None]
        if pairs:
            url += "?" + urlencode(pairs)
        data = json.dumps(body) if body is not None else None
        try:
            response = self._client.rest_client.pool_manager.request(
                method, url, body=data, headers=self._headers(data is not None), timeout=timeout or self._timeout)
        except Exception as error:  # pylint: disable=broad-except  # urllib3, TLS and socket errors alike
            raise KubeHTTPError(None, describe_failure(error))
        if response.status >= 400:
            raise KubeHTTPError(response.status, response.reason or "error")
        try:
            document = json.loads(response.data)
        except ValueError:
            raise KubeHTTPError(response.status, "the answer is not JSON")
        if not isinstance(document, dict):
            raise KubeHTTPError(response.status, "the answer is not a JSON object")
        return document

    def get(self, api_path, **query):
        """``GET api_path`` with the query parameters given as keywords (None ones left out)."""
        return self.request("GET", api_path, query)

    def post(self, api_path, body):
        """``POST api_path`` with a JSON body."""
        return self.request("POST", api_path, body=body)


def client_for(connection, pool_size=None):
    """The :class:`KubeRest` of ``connection`` (the ``kubernetes`` option), one per connection per process.

    Readers and token minters of one module thus share their connections and their request count.
    """
    settings = dict((key, value) for key, value in (connection or {}).items() if value is not None)
    key = json.dumps(settings, sort_keys=True, default=str)
    with _CLIENTS_LOCK:
        rest = _CLIENTS.get(key)
        if rest is None:
            from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (  # pylint: disable=import-outside-toplevel
                get_api_client,
            )
            rest = _CLIENTS[key] = KubeRest(get_api_client(**settings).client.client, pool_size)
        else:
            rest.grow_pool(pool_size)
    return rest
