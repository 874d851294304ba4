"""JSON requests over a kubernetes ApiClient's own connection: URL, headers, errors, counting, pool size."""

from __future__ import annotations

import json
import types

import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _kubernetes_rest as R


class FakeResponse:
    def __init__(self, status, data, reason="OK"):
        self.status, self.data, self.reason = status, data, reason


class FakePoolManager:
    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        self.connection_pool_kw = {"maxsize": 10}

    def request(self, method, url, body=None, headers=None, timeout=None):
        self.requests.append({"method": method, "url": url, "body": body, "headers": headers, "timeout": timeout})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeConfiguration:
    host = "https://api.lab:6443/"

    def __init__(self):
        self.refreshed = 0

    def auth_settings(self):
        self.refreshed += 1  # the real one calls the refresh hook of exec and OIDC users
        return {"BearerToken": {"in": "header", "key": "authorization", "value": "Bearer sha256~secret%d" % self.refreshed}}


def client(*answers):
    pool = FakePoolManager(answers)
    return types.SimpleNamespace(configuration=FakeConfiguration(), rest_client=types.SimpleNamespace(pool_manager=pool)), pool


def test_get_builds_the_url_sends_the_current_credentials_and_counts():
    api, pool = client(FakeResponse(200, b'{"items": []}'), FakeResponse(200, b'{"kind": "Secret"}'))
    rest = R.KubeRest(api, timeout=7)
    assert rest.get(R.path("api/v1", "namespaces", "openshift ns", "secrets"), fieldSelector="metadata.name=a", limit=None) == {"items": []}
    assert rest.get("/api/v1/secrets") == {"kind": "Secret"}
    first, second = pool.requests
    assert first["url"] == "https://api.lab:6443/api/v1/namespaces/openshift%20ns/secrets?fieldSelector=metadata.name%3Da"
    assert first["method"] == "GET" and first["body"] is None and first["timeout"] == 7
    assert first["headers"]["authorization"] == "Bearer sha256~secret1" and "Content-Type" not in first["headers"]
    assert second["headers"]["authorization"] == "Bearer sha256~secret2"  # computed again for every request
    assert rest.calls == 2


def test_post_sends_json():
    api, pool = client(FakeResponse(201, b'{"status": {"token": "t"}}', "Created"))
    assert R.KubeRest(api).post("/api/v1/namespaces/n/serviceaccounts/s/token", {"spec": {"audiences": ["openshift"]}}) == {
        "status": {"token": "t"}}
    assert pool.requests[0]["method"] == "POST" and pool.requests[0]["headers"]["Content-Type"] == "application/json"
    assert json.loads(pool.requests[0]["body"]) == {"spec": {"audiences": ["openshift"]}}


@pytest.mark.parametrize("answer, status, reason", [
    (FakeResponse(403, b'{"kind": "Status"}', "Forbidden"), 403, "Forbidden"),
    (FakeResponse(404, b"", "Not Found"), 404, "Not Found"),
    (FakeResponse(200, b"<html>", "OK"), 200, "the answer is not JSON"),
    (FakeResponse(200, b"[1]", "OK"), 200, "the answer is not a JSON object"),
    (ConnectionRefusedError(111, "refused"), None, "ConnectionRefusedError: [Errno 111] refused"),
])
def test_failures_carry_the_status_and_the_reason(answer, status, reason):
    api, _pool = client(answer)
    rest = R.KubeRest(api)
    with pytest.raises(R.KubeHTTPError) as raised:
        rest.get("/openid/v1/jwks")
    assert (raised.value.status, raised.value.reason) == (status, reason)
    assert "secret" not in str(raised.value)
    assert rest.calls == 1


def test_the_pool_grows_to_the_concurrency_and_never_shrinks():
    api, pool = client()
    rest = R.KubeRest(api, pool_size=50)
    assert pool.connection_pool_kw["maxsize"] == 50
    rest.grow_pool(20)
    assert pool.connection_pool_kw["maxsize"] == 50


def test_one_client_per_connection(monkeypatch):
    made = []

    def get_api_client(**settings):
        made.append(settings)
        api, _pool = client()
        return types.SimpleNamespace(client=types.SimpleNamespace(client=api))
    module = types.ModuleType("client")
    module.get_api_client = get_api_client
    monkeypatch.setitem(__import__("sys").modules, "ansible_collections.kubernetes.core.plugins.module_utils.k8s.client", module)
    monkeypatch.setattr(R, "_CLIENTS", {})
    first = R.client_for({"host": "https://a", "api_key": None}, 8)
    assert R.client_for({"host": "https://a"}, 64) is first
    assert R.client_for({"host": "https://b"}) is not first
    assert made == [{"host": "https://a"}, {"host": "https://b"}]
    assert first._client.rest_client.pool_manager.connection_pool_kw["maxsize"] == 64  # pylint: disable=protected-access


def test_a_request_without_answer_says_what_the_connection_met():
    import ssl  # pylint: disable=import-outside-toplevel
    from urllib3.exceptions import MaxRetryError  # pylint: disable=import-outside-toplevel
    wrapped = MaxRetryError(None, "/apis", reason=ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))
    api, _pool = client(wrapped)
    with pytest.raises(R.KubeHTTPError) as raised:
        R.KubeRest(api).get("/apis")
    assert raised.value.status is None
    assert raised.value.reason.startswith("SSLError: ") and "CERTIFICATE_VERIFY_FAILED" in raised.value.reason
    assert R.describe_failure(ValueError()) == "ValueError"
    assert len(R.describe_failure(OSError("x" * 1000))) == len("OSError: ") + 300
