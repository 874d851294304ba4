"""Unit tests of token parsing (hostile input) and signature verification."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import keys as K
from ansible_collections.openshift_sts.oidc.plugins.module_utils import token as T

ISSUER = "https://mycluster-oidc.s3.us-east-1.amazonaws.com"
CLAIMS = {"iss": ISSUER, "aud": ["openshift"], "sub": "system:serviceaccount:ns:sa", "exp": 2000000000, "iat": 1999996400}


def b64(data):
    """Unpadded base64url of bytes or JSON."""
    if not isinstance(data, bytes):
        data = json.dumps(data).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header, claims, signature=b"sig"):
    """A token from arbitrary parts (no real signature)."""
    return "%s.%s.%s" % (b64(header), b64(claims), b64(signature))


def signed(keyfactory, kind="rsa2048", alg="RS256", claims=None, kid=True):
    """A really signed token and the JWKS of its key."""
    private = keyfactory.private(kind)
    headers = {"kid": K.kid_for(private.public_key())} if kid else {}
    token = jwt.encode(claims or CLAIMS, private, algorithm=alg, headers=headers)
    return token, K.jwks_document([private.public_key()])


def test_parse_summary(keyfactory):
    token, jwks = signed(keyfactory)
    summary = T.parse_token(token)
    assert summary["iss"] == ISSUER and summary["aud"] == ["openshift"] and summary["sub"] == CLAIMS["sub"]
    assert summary["kid"] == jwks["keys"][0]["kid"] and summary["alg"] == "RS256"
    assert summary["exp"] == CLAIMS["exp"] and summary["iat"] == CLAIMS["iat"]
    assert summary["problems"] == []
    dumped = json.dumps(summary)
    assert token not in dumped and token.split(".")[2] not in dumped


def test_parse_accepts_string_aud_bytes_and_whitespace():
    token = raw_token({"alg": "RS256", "kid": "k"}, dict(CLAIMS, aud="openshift"))
    summary = T.parse_token((token + "\n").encode())
    assert summary["aud"] == ["openshift"] and summary["problems"] == []


@pytest.mark.parametrize("value,reason", [
    ("", "empty"),
    ("   ", "empty"),
    ("abc", "1 part"),
    ("abc.def", "2 part"),
    ("a.b.c.d", "4 part"),
    ("a.b.c.d.e", "JWE"),
    ("!!!.eyJ9.sig", "not base64url"),
    ("eyJhbGciOiJSUzI1NiJ9.e.sig", "impossible base64url length"),
    ("%s.%s.sig" % (b64(b"not json"), b64({})), "header is not JSON"),
    ("%s.%s.sig" % (b64({"alg": "RS256"}), b64(b"[1, 2]")), "not an object"),
    ("%s.%s.sig" % (b64({"alg": "RS256"}), b64(b'"x"')), "not an object"),
    ("%s.%s.sig" % (b64(b"\xff\xfe"), b64({})), "not UTF-8"),
    ("%s.%s.sig" % (b64({"alg": "RS256"}), b64(b"[" * 10000 + b"]" * 10000)), "not JSON"),
    ("%s.%s.s+g/" % (b64({"alg": "RS256"}), b64({})), "signature is not base64url"),
    ("x" * 70000, "far beyond"),
    (12345, "not a string"),
    (b"\xff.\xfe.\xfd", "not ASCII"),
])
def test_parse_rejects_malformed(value, reason):
    with pytest.raises(T.TokenError) as error:
        T.parse_token(value)
    assert reason in str(error.value)
    if isinstance(value, str) and len(value) > 8:
        assert value not in str(error.value)


def test_alg_none_is_a_problem_not_a_crash():
    token = raw_token({"alg": "none"}, CLAIMS, b"")
    summary = T.parse_token(token)
    assert summary["alg"] == "none"
    assert any("unsigned" in problem for problem in summary["problems"])


@pytest.mark.parametrize("alg", ["HS256", "PS256", "EdDSA"])
def test_algorithms_sts_refuses(alg):
    summary = T.parse_token(raw_token({"alg": alg, "kid": "k"}, CLAIMS))
    assert any("STS accepts only" in problem for problem in summary["problems"])


def test_missing_and_odd_typed_claims():
    claims = {"iss": 42, "aud": [1, 2], "exp": "tomorrow", "iat": True, "nbf": 1.5}
    summary = T.parse_token(raw_token({"alg": "RS256", "kid": {"x": 1}}, claims))
    problems = " | ".join(summary["problems"])
    for expected in ("iss is not a string", "sub is missing", "aud is neither", "exp is not an integer",
                     "iat is not an integer", "nbf is not an integer", "kid is not a short string"):
        assert expected in problems
    assert summary["iss"] is None and summary["kid"] is None and summary["aud"] == [] and summary["exp"] is None


def test_missing_alg_aud_and_exp_and_float_exp():
    summary = T.parse_token(raw_token({"typ": "JWT"}, {"iss": ISSUER, "sub": "s"}))
    problems = " | ".join(summary["problems"])
    assert "no alg" in problems and "aud is missing" in problems and "exp is missing" in problems
    summary = T.parse_token(raw_token({"alg": "RS256"}, dict(CLAIMS, exp=2000000000.0)))
    assert summary["exp"] == 2000000000 and "decimal" in summary["problems"][0]


def test_20kb_token():
    token = raw_token({"alg": "RS256", "kid": "k"}, dict(CLAIMS, padding="p" * 15000), b"s" * 256)
    assert len(token) > T.STS_MAX_TOKEN_LENGTH
    summary = T.parse_token(token)
    assert summary["iss"] == ISSUER
    assert any("at most 20000" in problem for problem in summary["problems"])


def test_empty_signature_is_a_problem():
    token = raw_token({"alg": "RS256"}, CLAIMS, b"")
    assert "the signature is empty" in T.parse_token(token)["problems"]


@pytest.mark.parametrize("kind,alg", [("rsa2048", "RS256"), ("rsa2048", "RS384"), ("rsa2048", "RS512"),
                                      ("P-256", "ES256"), ("P-384", "ES384"), ("P-521", "ES512")])
def test_verify_signature_ok(keyfactory, kind, alg):
    token, jwks = signed(keyfactory, kind, alg)
    ok, reason = T.verify_signature(token, jwks)
    assert ok, reason
    assert jwks["keys"][0]["kid"] in reason


def test_verify_signature_without_kid_tries_every_key(keyfactory):
    token, jwks = signed(keyfactory, kid=False)
    other = K.jwks_document([keyfactory.public("rsa2048#2")])
    ok, _reason = T.verify_signature(token, {"keys": other["keys"] + jwks["keys"]})
    assert ok


def test_verify_signature_wrong_key_same_kid(keyfactory):
    token, jwks = signed(keyfactory)
    impostor = K.jwk_for(keyfactory.public("rsa2048#2"))
    impostor["kid"] = jwks["keys"][0]["kid"]
    ok, reason = T.verify_signature(token, {"keys": [impostor]})
    assert not ok and "does not match" in reason


def test_verify_signature_kid_not_published(keyfactory):
    token, _jwks = signed(keyfactory)
    ok, reason = T.verify_signature(token, K.jwks_document([keyfactory.public("rsa2048#2")]))
    assert not ok and "no published key has the token's kid" in reason


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_verify_signature_refuses_none_and_hmac(keyfactory, alg):
    jwks = K.jwks_document([keyfactory.public("rsa2048")])
    if alg == "none":
        token = raw_token({"alg": "none", "kid": jwks["keys"][0]["kid"]}, CLAIMS, b"")
    else:
        token = jwt.encode(CLAIMS, "a-shared-secret-of-sufficient-length-32b", algorithm="HS256",
                           headers={"kid": jwks["keys"][0]["kid"]})
    ok, reason = T.verify_signature(token, jwks)
    assert not ok and "not one STS accepts" in reason


def test_verify_signature_key_type_and_curve_mismatch(keyfactory):
    token, jwks = signed(keyfactory, "P-256", "ES256")
    rsa_jwk = K.jwk_for(keyfactory.public("rsa2048"))
    rsa_jwk["kid"] = jwks["keys"][0]["kid"]
    ok, reason = T.verify_signature(token, {"keys": [rsa_jwk]})
    assert not ok and "needs an EC key" in reason
    p384 = K.jwk_for(keyfactory.public("P-384"))
    p384["kid"] = jwks["keys"][0]["kid"]
    ok, reason = T.verify_signature(token, {"keys": [p384]})
    assert not ok and "curve" in reason


@pytest.mark.parametrize("jwks", [None, {}, {"keys": "x"}, {"keys": []}, {"keys": [1, "a", None]}])
def test_verify_signature_hostile_jwks(keyfactory, jwks):
    token, _good = signed(keyfactory, kid=False)
    ok, _reason = T.verify_signature(token, jwks)
    assert not ok


def test_verify_signature_broken_key_members(keyfactory):
    token, jwks = signed(keyfactory)
    broken = dict(jwks["keys"][0], n="!!!", e=5)
    ok, reason = T.verify_signature(token, {"keys": [broken]})
    assert not ok and "cannot be loaded" in reason


def test_verify_signature_garbage_token():
    ok, reason = T.verify_signature("a.b", {"keys": []})
    assert not ok and "cannot be parsed" in reason
