"""Unit tests of anonymous_fetch: anonymous GET, body cap, redirects, failure classification, proxy and private CA."""

from __future__ import annotations

import socket
import tracemalloc

import pytest
import trustme

from ansible_collections.openshift_sts.oidc.plugins.module_utils import anonymous_fetch as F
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.module_utils.oidc_test_servers import (
    BlackHole, ConnectProxy, OriginServer, closed_port, hanging_route, stream_route,
)

ISSUER_HOST = "issuer.lab.test"

pytestmark = pytest.mark.usefixtures("clean_proxy_env")


def tls_context(ca, *hosts):
    """A server SSL context with a leaf certificate for ``hosts``."""
    import ssl
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hosts).configure_cert(context)
    return context


@pytest.fixture
def origin():
    """A plain HTTP origin."""
    with OriginServer() as server:
        yield server


@pytest.fixture
def tls_origin(ca):
    """An HTTPS origin whose certificate names 127.0.0.1 and the lab issuer host."""
    with OriginServer(tls_context(ca, "127.0.0.1", ISSUER_HOST)) as server:
        yield server


def test_get_is_anonymous_and_reports_status_headers_body(origin, tmp_path, monkeypatch):
    origin.routes["/doc"] = (200, {"Content-Type": "application/json", "Set-Cookie": "a=b", "Server": "AmazonS3"}, b'{"a": 1}')
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password hunter2\n")
    monkeypatch.setenv("NETRC", str(netrc))
    result = F.fetch(origin.url("/doc"), timeout=2)
    assert result.ok and result.status == 200
    assert result.body == b'{"a": 1}' and not result.truncated
    assert result.headers["server"] == "AmazonS3"
    assert "set-cookie" not in result.headers
    assert result.error_kind is None and result.elapsed >= 0
    _path, headers = origin.requests[0]
    lowered = dict((name.lower(), value) for name, value in headers.items())
    assert "authorization" not in lowered and "cookie" not in lowered
    assert lowered["user-agent"] == F.USER_AGENT
    timing = result.timing()
    assert timing["status"] == 200 and timing["bytes"] == 8 and timing["proxy"] is None


def test_error_status_keeps_body(origin):
    xml = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    origin.routes["/private"] = (403, {"Content-Type": "application/xml"}, xml)
    result = F.fetch(origin.url("/private"), timeout=2)
    assert result.status == 403 and not result.ok
    assert b"AccessDenied" in result.body
    assert result.describe_failure() == "HTTP 403 Forbidden"


def test_redirect_loop_is_not_followed(origin):
    origin.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    result = F.fetch(origin.url("/loop"), timeout=2)
    assert result.status == 302
    assert result.location == origin.url("/loop")
    assert len(origin.requests) == 1


def test_permanent_redirect_without_location(origin):
    body = b"<Error><Code>PermanentRedirect</Code><Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint></Error>"
    origin.routes["/x"] = (301, {}, body)
    result = F.fetch(origin.url("/x"), timeout=2)
    assert result.status == 301 and result.location is None and b"PermanentRedirect" in result.body


def test_ten_megabyte_body_is_capped_with_bounded_memory(origin):
    origin.routes["/big"] = stream_route(10 * 1024 * 1024)
    tracemalloc.start()
    try:
        result = F.fetch(origin.url("/big"), timeout=5)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status == 200
    assert result.truncated is True
    assert len(result.body) == F.MAX_BODY
    assert peak < 6 * F.MAX_BODY


def test_body_exactly_at_cap_is_not_truncated(origin):
    origin.routes["/exact"] = (200, {}, b"a" * F.MAX_BODY)
    result = F.fetch(origin.url("/exact"), timeout=5)
    assert len(result.body) == F.MAX_BODY and result.truncated is False


def test_overall_deadline_with_injected_clock(origin):
    origin.routes["/big"] = stream_route(4 * 1024 * 1024, chunk=16 * 1024)
    ticks = iter(range(0, 10000))
    result = F.fetch(origin.url("/big"), timeout=5, clock=lambda: next(ticks) * 1.0, deadline=3)
    assert result.error_kind == "timeout"
    assert result.status is None and result.body == b""


def test_connection_refused():
    result = F.fetch("http://127.0.0.1:%d/x" % closed_port(), timeout=2)
    assert result.error_kind == "connection"
    assert "refused" in result.error_detail


def test_dns_failure(monkeypatch):
    def fail(*_args, **_kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    monkeypatch.setattr(socket, "getaddrinfo", fail)
    result = F.fetch("https://no-such-bucket.s3.us-east-1.amazonaws.com/x", timeout=2)
    assert result.error_kind == "dns"
    assert "no-such-bucket.s3.us-east-1.amazonaws.com" in result.error_detail


def test_timeout_on_silent_server():
    with BlackHole() as hole:
        result = F.fetch("https://127.0.0.1:%d/x" % hole.port, timeout=0.2)
    assert result.error_kind == "timeout"
    assert result.describe_failure().startswith("timeout:")


def test_timeout_waiting_for_answer(origin):
    origin.routes["/slow"] = hanging_route(origin.stop)
    result = F.fetch(origin.url("/slow"), timeout=0.2)
    assert result.error_kind == "timeout"


def test_tls_untrusted_certificate(tls_origin):
    result = F.fetch(tls_origin.url("/x"), timeout=2)  # system trust does not know the test CA
    assert result.error_kind == "tls"
    assert "certificate" in result.error_detail


def test_tls_trusted_with_ca_path(tls_origin, ca_file):
    tls_origin.routes["/x"] = (200, {}, b"{}")
    result = F.fetch(tls_origin.url("/x"), timeout=2, ca_path=ca_file)
    assert result.status == 200


def test_tls_trusted_with_ssl_cert_file(tls_origin, ca_file, monkeypatch):
    tls_origin.routes["/x"] = (200, {}, b"{}")
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    result = F.fetch(tls_origin.url("/x"), timeout=2)
    assert result.status == 200


def test_tls_hostname_mismatch(ca, ca_file):
    with OriginServer(tls_context(ca, "other.example")) as server:
        result = F.fetch(server.url("/x"), timeout=2, ca_path=ca_file)
    assert result.error_kind == "tls"
    assert "127.0.0.1" in result.error_detail


def test_validate_certs_false_accepts_untrusted(tls_origin):
    tls_origin.routes["/x"] = (200, {}, b"{}")
    assert F.fetch(tls_origin.url("/x"), timeout=2, validate_certs=False).status == 200


def test_plain_http_server_on_https_url_is_tls_error(origin):
    result = F.fetch("https://127.0.0.1:%d/x" % origin.port, timeout=2)
    assert result.error_kind == "tls"


def test_invalid_url():
    assert F.fetch("ftp://example.com/x").error_kind == "invalid_url"
    assert F.fetch("not a url").error_kind == "invalid_url"


def test_through_connect_proxy_with_private_ca(tls_origin, ca_file, monkeypatch):
    """HTTPS_PROXY with CONNECT; the client never resolves the issuer host itself; the private CA is trusted."""
    tls_origin.routes["/.well-known/openid-configuration"] = (200, {}, b'{"issuer": "x"}')
    with ConnectProxy(targets={"%s:443" % ISSUER_HOST: ("127.0.0.1", tls_origin.port)}) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", "http://user:pa55word@127.0.0.1:%d" % proxy.port)
        result = F.fetch("https://%s/.well-known/openid-configuration" % ISSUER_HOST, timeout=2, ca_path=ca_file)
        assert result.status == 200, result.describe_failure()
        assert result.proxy == proxy.url
        target, headers = proxy.connects[0]
        assert target == "%s:443" % ISSUER_HOST
        assert "Proxy-Authorization" in headers  # proxy credentials go to the proxy only
    _path, origin_headers = tls_origin.requests[0]
    assert not any(name.lower() in ("authorization", "proxy-authorization", "cookie") for name in origin_headers)
    assert "pa55word" not in repr(result.timing())


def test_lowercase_proxy_env_and_no_proxy(tls_origin, ca_file, monkeypatch):
    tls_origin.routes["/x"] = (200, {}, b"{}")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:%d" % closed_port())
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    result = F.fetch(tls_origin.url("/x"), timeout=2, ca_path=ca_file)
    assert result.status == 200 and result.proxy is None


def test_proxy_unreachable(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:%d" % closed_port())
    result = F.fetch("https://%s/x" % ISSUER_HOST, timeout=2)
    assert result.error_kind == "proxy"
    assert "cannot connect to proxy" in result.error_detail


def test_proxy_refuses_connect(monkeypatch):
    with ConnectProxy(deny={ISSUER_HOST}) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        result = F.fetch("https://%s/x" % ISSUER_HOST, timeout=2)
    assert result.error_kind == "proxy"
    assert "403" in result.error_detail


def test_proxy_cannot_reach_target(monkeypatch):
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        result = F.fetch("https://unknown.lab.test/x", timeout=2)
    assert result.error_kind == "proxy"
    assert "502" in result.error_detail


def test_tls_interception_through_proxy_is_tls(ca, monkeypatch):
    """A proxy that intercepts TLS with a CA the client does not trust: a tls error, not a proxy one."""
    rogue = trustme.CA()
    with OriginServer(tls_context(rogue, ISSUER_HOST)) as server:
        with ConnectProxy(targets={"%s:443" % ISSUER_HOST: ("127.0.0.1", server.port)}) as proxy:
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            result = F.fetch("https://%s/x" % ISSUER_HOST, timeout=2)
    assert result.error_kind == "tls"


def test_select_proxy_and_strip_userinfo():
    proxies = {"https": "http://u:p@proxy:3128", "no": ".internal.example,10.0.0.1"}
    assert F.select_proxy("https://a.example/x", proxies) == "http://u:p@proxy:3128"
    assert F.select_proxy("https://b.internal.example/x", proxies) is None
    assert F.select_proxy("http://a.example/x", proxies) is None
    assert F.strip_userinfo("http://u:p@proxy:3128") == "http://proxy:3128"
    assert F.strip_userinfo("proxy:3128") == "proxy:3128"


def test_classify_error_fallbacks():
    assert F.classify_error(ValueError("bad"), "h")[0] == "invalid_url"
    assert F.classify_error(ConnectionResetError(104, "reset"), "h")[0] == "connection"
    assert F.classify_error(ConnectionRefusedError(111, "refused"), "h", proxy="http://p:1")[0] == "proxy"
    assert F.classify_error(socket.gaierror(-2, "nope"), "h", proxy="http://p:1")[0] == "proxy"
