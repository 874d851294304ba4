"""Unit tests of the issuer probe logic with an injected fetch function (no network, no sleeps)."""

from __future__ import annotations

import json

import jwt
import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import keys as K
from ansible_collections.openshift_sts.oidc.plugins.module_utils import probe as P
from ansible_collections.openshift_sts.oidc.plugins.module_utils.anonymous_fetch import MAX_BODY, FetchResult

ISSUER = "https://mycluster-oidc.s3.us-east-1.amazonaws.com"
DISCOVERY_URL = ISSUER + "/.well-known/openid-configuration"
JWKS_URL = ISSUER + "/keys.json"
NOW = 1900000000


class FakeFetch:
    """``fetch(url, timeout)`` answering from ``routes``; unknown URLs give 404."""

    def __init__(self, routes):
        self.routes = routes
        self.calls = []

    def __call__(self, url, timeout):
        self.calls.append((url, timeout))
        route = self.routes.get(url)
        if isinstance(route, FetchResult):
            return route
        if route is None:
            return FetchResult(url, status=404, reason="Not Found", body=b"", elapsed=0.01)
        status, body = route[0], route[1]
        headers = route[2] if len(route) > 2 else {}
        elapsed = route[3] if len(route) > 3 else 0.01
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 403: "Forbidden", 404: "Not Found",
                  503: "Service Unavailable"}.get(status, "")
        location = headers.get("location")
        if location and location.startswith("/"):
            location = ISSUER + location
        return FetchResult(url, status=status, reason=reason, headers=headers, body=body, elapsed=elapsed, location=location)


def failed(url, kind, detail, elapsed=0.05):
    """A FetchResult without an HTTP answer."""
    return FetchResult(url, error_kind=kind, error_detail=detail, elapsed=elapsed)


@pytest.fixture(scope="module")
def world(keyfactory):
    """A healthy issuer: its documents, the signing key and a token."""
    private = keyfactory.private("rsa2048")
    jwks = K.jwks_document([private.public_key()])
    kid = jwks["keys"][0]["kid"]
    claims = {"iss": ISSUER, "aud": ["openshift"], "sub": "system:serviceaccount:ns:sa", "exp": NOW + 3600, "iat": NOW}
    token = jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})
    return {
        "private": private, "jwks": jwks, "kid": kid, "token": token, "claims": claims,
        "discovery": K.discovery_document(ISSUER),
        "pem": keyfactory.spki_pem("rsa2048"),
    }


def routes(world, **overrides):
    """The healthy routes, with overrides by document name (discovery, jwks)."""
    result = {DISCOVERY_URL: (200, world["discovery"]), JWKS_URL: (200, world["jwks"])}
    if "discovery" in overrides:
        result[DISCOVERY_URL] = overrides["discovery"]
    if "jwks" in overrides:
        result[JWKS_URL] = overrides["jwks"]
    return result


def run(world, issuer=ISSUER, token=None, expected_keys=None, timeout=5.0, **overrides):
    """Probe with fake routes; check that the token never shows; return (result, fetch)."""
    fetch = FakeFetch(overrides.pop("table", None) or routes(world, **overrides))
    result = P.probe_issuer(issuer, fetch, token=token, expected_keys=expected_keys, timeout=timeout, now=NOW)
    dumped = json.dumps(result)
    if token:
        assert token not in dumped
        if token.count(".") == 2 and len(token.split(".")[2]) > 8:
            assert token.split(".")[2] not in dumped
    assert "<redacted" not in json.dumps(result["findings"])  # ordinary evidence is never mistaken for a secret
    for item in result["findings"]:
        assert set(item) == {"code", "severity", "link", "subject", "message", "expected", "actual", "remediation"}
        assert item["message"] and item["remediation"]
    return result, fetch


def codes(result):
    """``[(code, severity)]`` of the findings."""
    return [(item["code"], item["severity"]) for item in result["findings"]]


def only(result, code):
    """The single finding with ``code``."""
    matches = [item for item in result["findings"] if item["code"] == code]
    assert len(matches) == 1, codes(result)
    return matches[0]


# ---------------------------------------------------------------- healthy
def test_healthy_issuer(world):
    result, fetch = run(world, token=world["token"], expected_keys=[K.jwk_for(world["private"].public_key())])
    assert result["findings"] == [] and result["ok"] is True
    assert result["discovery"]["issuer"] == ISSUER
    assert result["jwks"]["keys"][0]["kid"] == world["kid"]
    assert [call[0] for call in fetch.calls] == [DISCOVERY_URL, JWKS_URL]
    assert all(call[1] == 5.0 for call in fetch.calls)
    assert [timing["document"] for timing in result["timings"]] == ["discovery", "jwks"]
    assert result["token_claims"] == {"iss": ISSUER, "aud": ["openshift"], "sub": "system:serviceaccount:ns:sa",
                                      "kid": world["kid"], "alg": "RS256", "exp": NOW + 3600, "iat": NOW}


def test_healthy_without_token(world):
    result, _fetch = run(world)
    assert result["ok"] and result["token_claims"] is None


# ---------------------------------------------------------------- issuer URL
def test_issuer_trailing_slash_still_probed(world):
    result, fetch = run(world, issuer=ISSUER + "/")
    item = only(result, "ISSUER_URL_INVALID")
    assert any("'/'" in problem for problem in item["actual"])
    assert fetch.calls[0][0] == DISCOVERY_URL  # no '//'
    mismatch = only(result, "DISCOVERY_ISSUER_MISMATCH")
    assert mismatch["expected"] == ISSUER + "/" and mismatch["actual"] == ISSUER


def test_issuer_not_a_url_is_not_fetched(world):
    result, fetch = run(world, issuer="mycluster-oidc.s3.us-east-1.amazonaws.com")
    assert codes(result) == [("ISSUER_URL_INVALID", "error")]
    assert fetch.calls == [] and result["timings"] == [] and not result["ok"]


def test_issuer_user_info_query_fragment_are_not_sent(world):
    fetch = FakeFetch(routes(world))
    result = P.probe_issuer("https://user:hunter2@mycluster-oidc.s3.us-east-1.amazonaws.com?x=1#y", fetch, now=NOW)
    assert fetch.calls[0][0] == DISCOVERY_URL
    assert "hunter2" not in json.dumps(result)
    assert len(only(result, "ISSUER_URL_INVALID")["actual"]) == 3


def test_issuer_http_is_invalid_but_fetched(world):
    http_issuer = "http://mycluster-oidc.s3.us-east-1.amazonaws.com"
    table = {http_issuer + "/.well-known/openid-configuration": (200, K.discovery_document(http_issuer)),
             http_issuer + "/keys.json": (200, world["jwks"])}
    result, _fetch = run(world, issuer=http_issuer, table=table)
    assert ("ISSUER_URL_INVALID", "error") in codes(result)
    assert ("JWKS_URI_INVALID", "error") in codes(result)
    assert result["jwks"] is not None


# ---------------------------------------------------------------- discovery transport
@pytest.mark.parametrize("kind,detail", [
    ("dns", "cannot resolve mycluster-oidc.s3.us-east-1.amazonaws.com: Name or service not known"),
    ("connection", "connection to mycluster-oidc.s3.us-east-1.amazonaws.com refused"),
    ("tls", "certificate verification failed for x: unable to get local issuer certificate"),
    ("timeout", "no answer from x within the timeout"),
    ("proxy", "proxy http://proxy:3128 refused to CONNECT to x:443: 403 Forbidden"),
])
def test_discovery_unreachable_kinds(world, kind, detail):
    result, fetch = run(world, discovery=failed(DISCOVERY_URL, kind, detail))
    item = only(result, "DISCOVERY_UNREACHABLE")
    assert item["actual"] == "%s: %s" % (kind, detail)
    assert kind in item["message"] and item["subject"] == DISCOVERY_URL
    assert len(fetch.calls) == 1 and result["discovery"] is None and result["jwks"] is None
    assert "ISSUER_SLOW" not in [code for code, _s in codes(result)]


def test_discovery_server_error(world):
    result, _fetch = run(world, discovery=(503, b"busy", {"server": "nginx"}))
    item = only(result, "DISCOVERY_UNREACHABLE")
    assert item["actual"].startswith("http: HTTP 503 Service Unavailable") and "nginx" in item["actual"]


def test_discovery_access_denied_s3(world):
    body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>'
            b"<RequestId>X</RequestId></Error>")
    result, _fetch = run(world, discovery=(403, body, {"server": "AmazonS3", "content-type": "application/xml"}))
    item = only(result, "DISCOVERY_ACCESS_DENIED")
    assert item["actual"] == "HTTP 403 Forbidden; S3 error AccessDenied: Access Denied; server: AmazonS3"
    assert item["expected"] == "HTTP 200 for an anonymous GET"
    assert len(result["findings"]) == 1


def test_discovery_access_denied_cloudfront(world):
    headers = {"server": "CloudFront", "x-cache": "Error from cloudfront"}
    result, _fetch = run(world, discovery=(403, b"<html><body>denied</body></html>", headers))
    assert "server: CloudFront; x-cache: Error from cloudfront" in only(result, "DISCOVERY_ACCESS_DENIED")["actual"]


def test_discovery_not_found(world):
    body = b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
    result, _fetch = run(world, discovery=(404, body))
    assert "S3 error NoSuchKey" in only(result, "DISCOVERY_NOT_FOUND")["actual"]


def test_discovery_permanent_redirect_endpoint(world):
    body = (b"<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed "
            b"using the specified endpoint.</Message><Endpoint>mycluster-oidc.s3.eu-west-1.amazonaws.com</Endpoint></Error>")
    result, _fetch = run(world, discovery=(301, body, {"x-amz-bucket-region": "eu-west-1"}))
    item = only(result, "DISCOVERY_REDIRECT")
    assert "mycluster-oidc.s3.eu-west-1.amazonaws.com" in item["actual"] and "eu-west-1" in item["actual"]
    assert "PermanentRedirect" in item["actual"]


def test_discovery_redirect_loop(world):
    result, fetch = run(world, discovery=(302, b"", {"location": "/.well-known/openid-configuration"}))
    item = only(result, "DISCOVERY_REDIRECT")
    assert "redirect loop" in item["actual"] and DISCOVERY_URL in item["actual"]
    assert len(fetch.calls) == 1


# ---------------------------------------------------------------- discovery content
@pytest.mark.parametrize("body,headers,expected", [
    (b"<!DOCTYPE html><html><head><title>404 Not Found</title></head></html>", {"content-type": "text/html"},
     "an HTML page titled '404 Not Found' (content-type text/html)"),
    (b"<Error><Code>InternalError</Code><Message>oops</Message></Error>", {}, "an S3 XML error InternalError: oops"),
    (b"<?xml version='1.0'?><a/>", {}, "an XML document"),
    (b"not json at all", {}, "not JSON: Expecting value: line 1 column 1 (char 0)"),
    (b"[1, 2]", {}, "a JSON list"),
    (b"", {}, "an empty body"),
    (b"\xff\xfe\x00", {}, "binary data (3 bytes)"),
    (b"[" * 5000 + b"]" * 5000, {}, "not JSON: nested too deeply"),
])
def test_discovery_invalid_bodies(world, body, headers, expected):
    result, fetch = run(world, discovery=(200, body, headers))
    item = only(result, "DISCOVERY_INVALID")
    assert item["actual"] == expected
    assert len(fetch.calls) == 1


def test_discovery_truncated(world):
    result, _fetch = run(world, discovery=FetchResult(DISCOVERY_URL, status=200, body=b"{" * MAX_BODY, truncated=True))
    assert only(result, "DISCOVERY_INVALID")["actual"] == "more than %d bytes" % MAX_BODY


def test_discovery_missing_fields(world):
    doc = {"issuer": ISSUER, "jwks_uri": JWKS_URL, "response_types_supported": "id_token"}
    result, _fetch = run(world, discovery=(200, doc))
    item = only(result, "DISCOVERY_INVALID")
    assert "missing: subject_types_supported, id_token_signing_alg_values_supported" in item["actual"]
    assert "response_types_supported is not a list of strings" in item["actual"]
    assert result["jwks"] is not None  # jwks_uri is still followed


def test_discovery_without_jwks_uri_stops(world):
    doc = dict(world["discovery"])
    del doc["jwks_uri"]
    result, fetch = run(world, discovery=(200, doc))
    assert "missing: jwks_uri" in only(result, "DISCOVERY_INVALID")["actual"]
    assert len(fetch.calls) == 1


def test_discovery_bom_and_unusable_algs_are_warnings(world):
    doc = dict(world["discovery"], id_token_signing_alg_values_supported=["HS256"])
    result, _fetch = run(world, discovery=(200, b"\xef\xbb\xbf" + json.dumps(doc).encode()))
    assert codes(result) == [("DISCOVERY_INVALID", "warning"), ("DISCOVERY_INVALID", "warning")]
    assert result["ok"] is True


def test_discovery_issuer_mismatch(world):
    other = "https://old-oidc.s3.us-east-1.amazonaws.com"
    result, _fetch = run(world, discovery=(200, dict(world["discovery"], issuer=other)))
    item = only(result, "DISCOVERY_ISSUER_MISMATCH")
    assert item["expected"] == ISSUER and item["actual"] == other


# ---------------------------------------------------------------- slowness
@pytest.mark.parametrize("timeout,first,second,severity", [
    (5.0, 1.0, 2.9, None),
    (5.0, 2.0, 2.1, "warning"),
    (5.0, 3.0, 2.5, "error"),
    (10.0, 4.0, 3.9, None),
    (10.0, 4.0, 4.1, "warning"),
    (1.0, 0.5, 0.6, "error"),
])
def test_issuer_slow_thresholds_derive_from_timeout(world, timeout, first, second, severity):
    result, _fetch = run(world, timeout=timeout, discovery=(200, world["discovery"], {}, first), jwks=(200, world["jwks"], {}, second))
    slow = [item for item in result["findings"] if item["code"] == "ISSUER_SLOW"]
    if severity is None:
        assert not slow
        return
    assert len(slow) == 1 and slow[0]["severity"] == severity
    assert slow[0]["actual"] == "discovery %.2f s + jwks %.2f s = %.2f s" % (first, second, first + second)
    assert slow[0]["expected"].startswith("below %.2f s (80 %%" % (0.8 * timeout))


def test_issuer_slow_on_discovery_alone(world):
    result, _fetch = run(world, discovery=(403, b"", {}, 4.5))
    assert only(result, "ISSUER_SLOW")["actual"] == "discovery 4.50 s"


# ---------------------------------------------------------------- jwks_uri
def test_jwks_uri_other_host_is_a_warning(world):
    other = "https://keys.example.com/keys.json"
    table = {DISCOVERY_URL: (200, dict(world["discovery"], jwks_uri=other)), other: (200, world["jwks"])}
    result, _fetch = run(world, table=table)
    assert codes(result) == [("JWKS_URI_INVALID", "warning")]
    assert only(result, "JWKS_URI_INVALID")["expected"] == JWKS_URL


def test_jwks_uri_relative_is_an_error_and_not_fetched(world):
    result, fetch = run(world, discovery=(200, dict(world["discovery"], jwks_uri="keys.json")))
    assert codes(result) == [("JWKS_URI_INVALID", "error")]
    assert len(fetch.calls) == 1


# ---------------------------------------------------------------- JWKS transport and content
@pytest.mark.parametrize("route,code", [
    (failed(JWKS_URL, "tls", "certificate verification failed"), "JWKS_UNREACHABLE"),
    ((403, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"), "JWKS_ACCESS_DENIED"),
    ((404, b""), "JWKS_NOT_FOUND"),
    ((307, b"", {"location": "https://elsewhere.example/keys.json"}), "JWKS_REDIRECT"),
    ((200, b"<html><title>Error</title></html>"), "JWKS_INVALID"),
])
def test_jwks_transport(world, route, code):
    result, _fetch = run(world, jwks=route)
    item = only(result, code)
    assert item["subject"] == JWKS_URL and item["link"] == "jwks"
    assert result["jwks"] is None


@pytest.mark.parametrize("jwks,fragment", [
    ({"nokeys": []}, "keys is missing"),
    ({"keys": {"a": 1}}, "keys is a JSON dict"),
    ({"keys": []}, "no RSA or EC key"),
    ({"keys": [1, "a", None, []]}, "key #0 is a JSON int, not an object"),
    ({"keys": [{"kid": "x", "n": "AQAB", "e": "AQAB"}]}, "key #0 (kid x) has no kty"),
    ({"keys": [{"kty": "RSA", "kid": "x", "e": "AQAB"}]}, "key #0 (kid x) (RSA) lacks valid n"),
    ({"keys": [{"kty": "RSA", "kid": "x", "n": 12, "e": "A+B/"}]}, "lacks valid n, e"),
    ({"keys": [{"kty": "EC", "kid": "x", "crv": "P-192", "x": "AQAB", "y": "AQAB"}]}, "lacks valid crv"),
    ({"keys": [{"kty": "OKP", "kid": "x", "crv": "Ed25519", "x": "AQAB"}]}, "no RSA or EC key"),
])
def test_jwks_invalid_keys(world, jwks, fragment):
    result, _fetch = run(world, jwks=(200, jwks))
    errors = [item for item in result["findings"] if item["code"] == "JWKS_INVALID" and item["severity"] == "error"]
    assert len(errors) == 1
    actual = errors[0]["actual"]
    assert fragment in (actual if isinstance(actual, str) else " | ".join(actual))
    assert not result["ok"]


def test_jwks_wrong_type_keys_beside_a_good_one(world):
    jwks = {"keys": [1, "a", None, world["jwks"]["keys"][0]]}
    result, _fetch = run(world, jwks=(200, jwks), token=world["token"])
    errors = only(result, "JWKS_INVALID")
    assert errors["actual"][:3] == ["key #0 is a JSON int, not an object", "key #1 is a JSON str, not an object",
                                    "key #2 is a JSON NoneType, not an object"]
    assert "TOKEN_SIGNATURE_INVALID" not in [code for code, _s in codes(result)]


def test_jwks_questionable_keys_are_warnings(world, keyfactory):
    good = dict(world["jwks"]["keys"][0])
    okp = {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AQAB"}
    enc = dict(K.jwk_for(keyfactory.public("rsa2048#2")), use="enc", alg="ES256")
    nokid = K.jwk_for(keyfactory.public("P-256"))
    del nokid["kid"]
    result, _fetch = run(world, jwks=(200, {"keys": [good, okp, enc, nokid]}))
    assert codes(result) == [("JWKS_INVALID", "warning")]
    actual = " | ".join(only(result, "JWKS_INVALID")["actual"])
    assert "kty OKP" in actual and "use 'enc'" in actual and "alg 'ES256'" in actual and "key #3 has no kid" in actual


def test_jwks_duplicate_kids(world, keyfactory):
    good = world["jwks"]["keys"][0]
    result, _fetch = run(world, jwks=(200, {"keys": [good, dict(good)]}))
    assert codes(result) == [("JWKS_INVALID", "warning")]
    assert "published 2 times (#0, #1) with the same key" in only(result, "JWKS_INVALID")["actual"][0]
    impostor = dict(K.jwk_for(keyfactory.public("rsa2048#2")), kid=good["kid"])
    result, _fetch = run(world, jwks=(200, {"keys": [good, impostor]}))
    assert codes(result) == [("JWKS_INVALID", "error")]
    assert "with different keys" in only(result, "JWKS_INVALID")["actual"][0]


def test_jwks_private_key_exposed(world):
    leaked = dict(world["jwks"]["keys"][0], d="c2VjcmV0LWV4cG9uZW50LXZhbHVl", p="cHJpbWUtcC12YWx1ZQ")
    symmetric = {"kty": "oct", "kid": "hmac", "k": "c3ltbWV0cmljLXNlY3JldC1rZXk"}
    result, _fetch = run(world, jwks=(200, {"keys": [leaked, symmetric]}))
    item = only(result, "JWKS_PRIVATE_KEY_EXPOSED")
    assert item["actual"] == ["key #0 (kid %s) has private members d, p" % world["kid"], "key #1 (kid hmac) has private members k"]
    dumped = json.dumps(result)
    for secret in ("c2VjcmV0LWV4cG9uZW50LXZhbHVl", "cHJpbWUtcC12YWx1ZQ", "c3ltbWV0cmljLXNlY3JldC1rZXk"):
        assert secret not in dumped
    assert "d" not in result["jwks"]["keys"][0] and "k" not in result["jwks"]["keys"][1]


def test_jwks_too_many_keys(world, keyfactory):
    filler = K.jwk_for(keyfactory.public("P-256"))
    keys = [dict(filler, kid="filler-%03d" % index) for index in range(100)]
    result, _fetch = run(world, jwks=(200, {"keys": [world["jwks"]["keys"][0]] + keys}), token=world["token"])
    assert only(result, "JWKS_TOO_MANY_KEYS")["severity"] == "warning"
    result, _fetch = run(world, jwks=(200, {"keys": keys + [world["jwks"]["keys"][0]]}), token=world["token"])
    item = only(result, "JWKS_TOO_MANY_KEYS")
    assert item["severity"] == "error" and "needed kid %s is past the first 100" % world["kid"] in item["actual"]


# ---------------------------------------------------------------- kids, keys, signature
def test_token_kid_missing(world, keyfactory):
    other = K.jwks_document([keyfactory.public("rsa2048#2")])
    result, _fetch = run(world, jwks=(200, other), token=world["token"])
    assert codes(result) == [("JWKS_KID_MISSING", "error")]
    item = only(result, "JWKS_KID_MISSING")
    assert item["expected"] == world["kid"] and item["actual"] == [other["keys"][0]["kid"]]


def test_expected_key_kid_missing(world, keyfactory):
    expected = [K.jwk_for(keyfactory.public("rsa2048#2"))]
    result, _fetch = run(world, expected_keys=expected)
    item = only(result, "JWKS_KID_MISSING")
    assert item["expected"] == expected[0]["kid"] and item["actual"] == [world["kid"]]


def test_expected_key_same_kid_other_material(world, keyfactory):
    impostor = dict(K.jwk_for(keyfactory.public("rsa2048#2")), kid=world["kid"])
    result, _fetch = run(world, jwks=(200, {"keys": [impostor]}), expected_keys=[K.jwk_for(world["private"].public_key())],
                         token=world["token"])
    assert ("JWKS_KEY_MISMATCH", "error") in codes(result)
    item = only(result, "JWKS_KEY_MISMATCH")
    assert item["expected"] != item["actual"] and world["kid"] in item["expected"]
    assert ("TOKEN_SIGNATURE_INVALID", "error") in codes(result)


def test_expected_key_published_under_other_kid(world):
    renamed = dict(world["jwks"]["keys"][0], kid="renamed")
    result, _fetch = run(world, jwks=(200, {"keys": [renamed]}), expected_keys=[K.jwk_for(world["private"].public_key())])
    item = only(result, "JWKS_KEY_MISMATCH")
    assert "published under kid renamed" in item["message"]


def test_expected_key_without_kid_missing(world, keyfactory):
    jwk = K.jwk_for(keyfactory.public("rsa2048#2"))
    del jwk["kid"]
    result, _fetch = run(world, expected_keys=[jwk])
    assert codes(result) == [("JWKS_KEY_MISMATCH", "error")]


def test_token_signature_invalid(world, keyfactory):
    forged = jwt.encode(world["claims"], keyfactory.private("rsa2048#2"), algorithm="RS256", headers={"kid": world["kid"]})
    result, _fetch = run(world, token=forged)
    item = only(result, "TOKEN_SIGNATURE_INVALID")
    assert "does not match" in item["actual"]


# ---------------------------------------------------------------- token
def test_token_invalid(world):
    result, fetch = run(world, token="abc.def")
    item = only(result, "TOKEN_INVALID")
    assert "2 part" in item["actual"] and result["token_claims"] is None
    assert len(fetch.calls) == 2  # the issuer is still probed


def test_token_unsigned(world):
    header = jwt.utils.base64url_encode(b'{"alg":"none"}').decode()
    body = jwt.utils.base64url_encode(json.dumps(world["claims"]).encode()).decode()
    result, _fetch = run(world, token="%s.%s." % (header, body))
    item = only(result, "TOKEN_INVALID")
    assert "unsigned" in item["message"]
    assert "TOKEN_SIGNATURE_INVALID" not in [code for code, _s in codes(result)]


def test_token_issuer_mismatch_and_expired(world):
    claims = dict(world["claims"], iss=ISSUER + "/", exp=NOW - 60)
    token = jwt.encode(claims, world["private"], algorithm="RS256", headers={"kid": world["kid"]})
    result, _fetch = run(world, token=token)
    assert codes(result) == [("TOKEN_ISSUER_MISMATCH", "error"), ("TOKEN_EXPIRED", "warning")]
    item = only(result, "TOKEN_ISSUER_MISMATCH")
    assert item["expected"] == ISSUER and item["actual"] == ISSUER + "/"
    assert only(result, "TOKEN_EXPIRED")["actual"] == "exp %d, now %d" % (NOW - 60, NOW)


def test_findings_come_in_chain_order(world, keyfactory):
    other = K.jwks_document([keyfactory.public("rsa2048#2")])
    result, _fetch = run(world, issuer=ISSUER + "/", token="x.y", jwks=(200, other, {}, 4.5),
                         table={DISCOVERY_URL: (200, world["discovery"], {}, 0.1), JWKS_URL: (200, other, {}, 4.5)})
    links = [item["link"] for item in result["findings"]]
    assert links == sorted(links, key=["token", "issuer", "discovery", "jwks"].index)
    assert result["findings"][0]["code"] == "TOKEN_INVALID"


# ---------------------------------------------------------------- expected keys
def test_normalize_expected_keys_all_forms(world, keyfactory, tmp_path):
    public = world["private"].public_key()
    kid = K.kid_for(public)
    jwk_without_kid = dict(K.jwk_for(public))
    del jwk_without_kid["kid"]
    pem_file = tmp_path / "key.pem"
    pem_file.write_text(keyfactory.pkcs8_pem("rsa2048"))
    items = [world["jwks"], jwk_without_kid, json.dumps(world["jwks"]), world["pem"], keyfactory.traditional_pem("rsa2048"),
             str(pem_file), dict(K.jwk_for(public), d="c2VjcmV0")]
    result = P.normalize_expected_keys(items)
    assert [jwk["kid"] for jwk in result] == [kid] * 7
    assert all("d" not in jwk for jwk in result)
    ec_jwk = dict(K.jwk_for(keyfactory.public("P-384")))
    del ec_jwk["kid"]
    assert P.normalize_expected_keys([ec_jwk])[0]["kid"] == K.kid_for(keyfactory.public("P-384"))


@pytest.mark.parametrize("item,fragment", [
    ({"kty": "RSA"}, "expected_keys[0] is not an RSA or EC public JWK"),
    ({"keys": "x"}, "keys is not a list"),
    ({"keys": [1]}, "expected_keys[0].keys[0] is not a JWK object"),
    ("{not json", "looks like JSON"),
    (42, "must be a JWKS, a JWK or PEM text"),
    ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "expected_keys[0]"),
])
def test_normalize_expected_keys_errors(item, fragment):
    with pytest.raises(ValueError) as error:
        P.normalize_expected_keys([item])
    assert fragment in str(error.value)


def test_normalize_expected_keys_never_echoes_private_pem(keyfactory):
    pem = keyfactory.pkcs8_pem("rsa2048")
    broken = pem.replace(pem.splitlines()[3], "!!!!")
    with pytest.raises(ValueError) as error:
        P.normalize_expected_keys([broken])
    assert pem.splitlines()[5] not in str(error.value)


# ---------------------------------------------------------------- helpers
def test_s3_error_and_thumbprint():
    assert P.s3_error(b"<Error><Code>A</Code><Message>B</Message></Error>") == {"Code": "A", "Message": "B"}
    assert P.s3_error(b"{}") == {}
    # RFC 7638 section 3.1 example
    jwk = {"kty": "RSA", "e": "AQAB",
           "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
                "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91"
                "CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
    assert P.thumbprint(P.key_material(jwk)) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert P.thumbprint(None) is None
