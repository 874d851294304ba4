"""Unit tests of the issuer_probe module against a loopback HTTPS issuer behind a CONNECT proxy with a private CA."""

from __future__ import annotations

import json
import ssl

import jwt
import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import keys as K
from ansible_collections.openshift_sts.oidc.plugins.modules import issuer_probe
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.modules.module_runner import runner
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.module_utils.oidc_test_servers import ConnectProxy, OriginServer

HOST = "issuer.lab.test"
ISSUER = "https://" + HOST
NOW_EXP = 4102444800  # 2100-01-01

pytestmark = pytest.mark.usefixtures("clean_proxy_env")


@pytest.fixture
def issuer(ca, keyfactory, monkeypatch):
    """A healthy issuer at https://issuer.lab.test reached through HTTPS_PROXY; yields a dict of its parts."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(context)
    private = keyfactory.private("rsa2048")
    jwks = K.jwks_document([private.public_key()])
    kid = jwks["keys"][0]["kid"]
    token = jwt.encode({"iss": ISSUER, "aud": ["openshift"], "sub": "system:serviceaccount:ns:sa", "exp": NOW_EXP, "iat": 1},
                       private, algorithm="RS256", headers={"kid": kid})
    with OriginServer(context) as origin:
        origin.routes["/.well-known/openid-configuration"] = (200, {"Content-Type": "binary/octet-stream"},
                                                              K.render_discovery(K.discovery_document(ISSUER)).encode())
        origin.routes["/keys.json"] = (200, {}, K.render_json(jwks).encode())
        with ConnectProxy(targets={"%s:443" % HOST: ("127.0.0.1", origin.port)}) as proxy:
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            yield {"origin": origin, "proxy": proxy, "token": token, "kid": kid, "pem": keyfactory.spki_pem("rsa2048")}


run_module = runner(issuer_probe)


@pytest.mark.parametrize("check_mode", [False, True])
def test_healthy_issuer_through_proxy_with_private_ca(capsys, issuer, ca_file, check_mode):
    failed, result, out = run_module(capsys, check_mode=check_mode, issuer=ISSUER, token=issuer["token"],
                                     expected_keys=[issuer["pem"]], ca_path=ca_file, _ansible_inject_invocation=True)
    assert not failed, result
    assert result["changed"] is False
    assert result["ok"] is True and result["findings"] == [], result["findings"]
    assert result["discovery"]["jwks_uri"] == ISSUER + "/keys.json"
    assert result["jwks"]["keys"][0]["kid"] == issuer["kid"]
    assert [timing["document"] for timing in result["timings"]] == ["discovery", "jwks"]
    assert all(timing["proxy"] == issuer["proxy"].url and timing["status"] == 200 for timing in result["timings"])
    assert result["token_claims"]["kid"] == issuer["kid"] and result["token_claims"]["iss"] == ISSUER
    assert [target for target, _headers in issuer["proxy"].connects] == ["%s:443" % HOST] * 2
    assert result["invocation"]["module_args"]["token"] != issuer["token"]
    for secret in (issuer["token"], issuer["token"].split(".")[2], issuer["token"].split(".")[1]):
        assert secret not in out


def test_ssl_cert_file_instead_of_ca_path(capsys, issuer, ca_file, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    failed, result, _out = run_module(capsys, issuer=ISSUER)
    assert not failed and result["ok"], result["findings"]
    assert "token_claims" not in result


def test_untrusted_ca_is_a_finding_not_a_failure(capsys, issuer):
    failed, result, _out = run_module(capsys, issuer=ISSUER)
    assert not failed and result["ok"] is False
    assert [item["code"] for item in result["findings"]] == ["DISCOVERY_UNREACHABLE"]
    assert result["findings"][0]["actual"].startswith("tls: ")
    failed, result, _out = run_module(capsys, issuer=ISSUER, validate_certs=False)
    assert result["ok"] is True


def test_private_bucket_and_bad_token(capsys, issuer, ca_file):
    body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    issuer["origin"].routes["/.well-known/openid-configuration"] = (403, {"Server": "AmazonS3"}, body)
    token = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ"
    failed, result, out = run_module(capsys, issuer=ISSUER, token=token, ca_path=ca_file)
    assert not failed
    assert [(item["code"], item["severity"]) for item in result["findings"]] == [
        ("TOKEN_INVALID", "error"), ("TOKEN_ISSUER_MISMATCH", "error"), ("DISCOVERY_ACCESS_DENIED", "error")]
    assert result["findings"][2]["actual"] == "HTTP 403 Forbidden; S3 error AccessDenied: Access Denied; server: AmazonS3"
    assert result["jwks"] is None and result["ok"] is False
    assert token not in out and "c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ" not in out


def test_token_file_is_checked_like_token_and_never_echoed(capsys, issuer, ca_file, tmp_path):
    path = tmp_path / "probe.jwt"
    path.write_text(issuer["token"] + "\n")
    failed, result, out = run_module(capsys, issuer=ISSUER, token_file=str(path), expected_keys=[issuer["pem"]], ca_path=ca_file,
                                     _ansible_inject_invocation=True)
    assert not failed and result["ok"] is True, result["findings"]
    assert result["token_claims"]["kid"] == issuer["kid"] and result["token_claims"]["iss"] == ISSUER
    assert result["invocation"]["module_args"]["token_file"] == str(path)
    for secret in (issuer["token"], issuer["token"].split(".")[2]):
        assert secret not in out
    failed, result, _out = run_module(capsys, issuer=ISSUER, token="a.b.c", token_file=str(path))
    assert failed and "mutually exclusive" in result["msg"]
    failed, result, _out = run_module(capsys, issuer=ISSUER, token_file=str(tmp_path / "missing.jwt"))
    assert failed and "Cannot read token_file" in result["msg"]


def test_hostile_20kb_token(capsys, issuer, ca_file):
    token = "eyJ" + "A" * 20000 + ".e30.AAAA"
    failed, result, out = run_module(capsys, issuer=ISSUER, token=token, ca_path=ca_file)
    assert not failed
    assert result["findings"][0]["code"] == "TOKEN_INVALID"
    assert "A" * 100 not in out


def test_inline_private_key_is_masked_and_warned(capsys, issuer, ca_file, keyfactory):
    private_pem = keyfactory.pkcs8_pem("rsa2048")
    failed, result, out = run_module(capsys, issuer=ISSUER, expected_keys=[private_pem], ca_path=ca_file,
                                     _ansible_inject_invocation=True)
    assert not failed and result["ok"], result["findings"]
    assert "inline private key" in json.dumps(result["warnings"])
    assert "expected_keys" in result["invocation"]["module_args"]
    for line in private_pem.splitlines()[1:-1]:
        assert line not in out


def test_expected_key_not_published(capsys, issuer, ca_file, keyfactory):
    failed, result, _out = run_module(capsys, issuer=ISSUER, expected_keys=[{"keys": [K.jwk_for(keyfactory.public("P-256"))]}],
                                      ca_path=ca_file)
    assert not failed
    assert [item["code"] for item in result["findings"]] == ["JWKS_KID_MISSING"]


@pytest.mark.parametrize("args,message", [
    ({"issuer": ISSUER, "timeout": 0}, "timeout must be greater than 0"),
    ({"issuer": ISSUER, "expected_keys": [{"kty": "RSA"}]}, "bad expected_keys: expected_keys[0] is not an RSA or EC public JWK"),
    ({"issuer": ISSUER, "expected_keys": ["/no/such/key.pem"]}, "bad expected_keys: expected_keys[0]"),
    ({}, "missing required arguments: issuer"),
])
def test_bad_options_fail(capsys, args, message):
    failed, result, _out = run_module(capsys, **args)
    assert failed and message in result["msg"]


def test_missing_pyjwt_fails_only_with_a_token(capsys, monkeypatch):
    monkeypatch.setattr(issuer_probe, "HAS_PYJWT", False)
    failed, result, _out = run_module(capsys, issuer=ISSUER, token="a.b.c")
    assert failed and "PyJWT" in result["msg"]
