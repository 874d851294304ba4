"""Unit tests of plugins/module_utils/keys.py: key loading, kid, JWK/JWKS, discovery document, byte format."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading
import time

import jwt
import pytest

from cryptography.hazmat.primitives import serialization

from ansible_collections.openshift_sts.oidc.plugins.module_utils import keys as K

RSA_KINDS = ["rsa2048", "rsa3072"]
EC_KINDS = ["P-256", "P-384", "P-521"]
ALL_KINDS = RSA_KINDS + EC_KINDS
ALGS = {"rsa2048": "RS256", "rsa3072": "RS256", "P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
OPENSSL = shutil.which("openssl")


def b64url(data):
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    """Inverse of :func:`b64url`."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def body_lines(pem):
    """The base64 lines of a PEM text (to check that none of them leaks)."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----") and ":" not in line]


# ---------------------------------------------------------------- kid


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_kid_matches_manual_sha256_of_spki_der(keyfactory, kind):
    """kid = base64url(SHA-256(DER SPKI)) without padding, 43 characters."""
    public = keyfactory.public(kind)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    expected = b64url(hashlib.sha256(der).digest())
    assert K.kid_for(public) == expected
    assert len(expected) == 43 and "=" not in expected
    # the private key gives the same kid
    assert K.kid_for(keyfactory.private(kind)) == expected


@pytest.mark.skipif(OPENSSL is None, reason="openssl command not available")
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_kid_matches_openssl(keyfactory, kind, tmp_path):
    """OpenSSL derives the public key from the private key and hashes its DER: same kid."""
    private_file = tmp_path / "key.pem"
    private_file.write_text(keyfactory.pkcs8_pem(kind))
    der = subprocess.run([OPENSSL, "pkey", "-in", str(private_file), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    digest = subprocess.run([OPENSSL, "dgst", "-sha256", "-binary"], input=der, check=True, capture_output=True).stdout
    loaded = K.load_public_key(keyfactory.traditional_pem(kind))
    assert K.kid_for(loaded) == b64url(digest)


# ---------------------------------------------------------------- accepted formats


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_accepted_format_gives_the_same_key(keyfactory, kind):
    """SPKI, PKCS#1 public, installer .pub, PKCS#1/SEC1 and PKCS#8 private: one kid."""
    expected = K.kid_for(keyfactory.public(kind))
    texts = [keyfactory.spki_pem(kind), keyfactory.traditional_pem(kind), keyfactory.pkcs8_pem(kind)]
    if kind.startswith("rsa"):
        texts += [keyfactory.pkcs1_public_pem(kind), keyfactory.installer_pub_pem(kind)]
    for text in texts:
        assert K.kid_for(K.load_public_key(text)) == expected
        assert K.kid_for(K.load_public_key(text.encode("ascii"))) == expected


def test_installer_mislabelled_pub_is_accepted(keyfactory):
    """bound-service-account-signing-key.pub: 'RSA PUBLIC KEY' label over SPKI bytes."""
    text = keyfactory.installer_pub_pem("rsa2048")
    assert text.startswith("-----BEGIN RSA PUBLIC KEY-----")
    # the body really is SPKI, not PKCS#1
    der = base64.b64decode("".join(body_lines(text)))
    assert der == keyfactory.public("rsa2048").public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert K.kid_for(K.load_public_key(text)) == K.kid_for(keyfactory.public("rsa2048"))


def test_pem_with_surrounding_text_crlf_and_ec_parameters(keyfactory):
    """Comments around the block, CRLF line ends and an 'EC PARAMETERS' block (openssl ecparam -genkey) are fine."""
    expected = K.kid_for(keyfactory.public("P-256"))
    params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    text = "# generated for tests\n" + params + keyfactory.traditional_pem("P-256") + "trailing words\n"
    assert K.kid_for(K.load_public_key(text)) == expected
    crlf = keyfactory.spki_pem("P-256").replace("\n", "\r\n")
    assert K.kid_for(K.load_public_key(crlf)) == expected


# ---------------------------------------------------------------- rejected inputs


def _bad_inputs(keyfactory):
    """(name, PEM text or bytes, expected message fragment)."""
    rsa_pem = keyfactory.spki_pem("rsa2048")
    corrupt = rsa_pem.replace(body_lines(rsa_pem)[1], "!!!!" + body_lines(rsa_pem)[1][4:])
    not_a_key = "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.b64encode(b"0" * 64).decode()
    not_a_private_key = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % base64.b64encode(b"0" * 64).decode()
    return [
        ("garbage text", "this is not a key", "not a PEM key"),
        ("empty", "", "empty"),
        ("whitespace", "  \n ", "empty"),
        ("binary bytes", os.urandom(64) + b"\x00", "not PEM text"),
        ("non-ascii bytes", b"\xff\xfe\xfa key", "not PEM text"),
        ("truncated", rsa_pem[:100], "incomplete PEM block"),
        ("corrupt base64", corrupt, "not valid base64"),
        ("not a key", not_a_key, "not a valid SubjectPublicKeyInfo"),
        ("not a private key", not_a_private_key, "cannot be parsed"),
        ("encrypted pkcs8", keyfactory.encrypted_pkcs8_pem("rsa2048"), "encrypted private keys are not supported; decrypt it first"),
        ("encrypted pkcs1", keyfactory.encrypted_traditional_pem("rsa2048"), "encrypted private keys are not supported; decrypt it first"),
        ("encrypted sec1", keyfactory.encrypted_traditional_pem("P-256"), "encrypted private keys are not supported"),
        ("dsa traditional", keyfactory.traditional_pem("dsa"), "DSA keys are not supported"),
        ("dsa pkcs8", keyfactory.pkcs8_pem("dsa"), "DSA keys are not supported"),
        ("dsa public", keyfactory.spki_pem("dsa"), "DSA keys are not supported"),
        ("ed25519 private", keyfactory.pkcs8_pem("ed25519"), "Ed25519 keys are not supported"),
        ("ed25519 public", keyfactory.spki_pem("ed25519"), "Ed25519 keys are not supported"),
        ("certificate", keyfactory.certificate_pem("rsa2048"), "this is a certificate, not a key"),
        ("csr", keyfactory.csr_pem("rsa2048"), "certificate signing request, not a key"),
        ("certificate and key", keyfactory.certificate_pem("rsa2048") + keyfactory.pkcs8_pem("rsa2048"), "certificate as well as a key"),
        ("two keys", keyfactory.spki_pem("rsa2048") + keyfactory.spki_pem("P-256"), "holds 2 PEM keys"),
        ("rsa 1024 private", keyfactory.traditional_pem("rsa1024"), "RSA key of 1024 bits is too small; at least 2048"),
        ("rsa 1024 public", keyfactory.spki_pem("rsa1024"), "RSA key of 1024 bits is too small"),
        ("rsa 1024 pkcs1 public", keyfactory.pkcs1_public_pem("rsa1024"), "too small"),
        ("secp256k1", keyfactory.traditional_pem("secp256k1"), "EC curve secp256k1 is not supported; use P-256, P-384 or P-521"),
        ("secp224r1 public", keyfactory.spki_pem("secp224r1"), "EC curve secp224r1 is not supported"),
        ("openssh public", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user@host", "OpenSSH public key"),
        ("openssh private", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "OpenSSH private key format"),
        ("jwk json", '{"kty": "RSA", "n": "x", "e": "AQAB"}', "JSON"),
        ("unknown block", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", "unsupported PEM block 'X509 CRL'"),
        ("only parameters", "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n", "no key found"),
    ]


@pytest.fixture(scope="module")
def bad_inputs(keyfactory):
    """The bad inputs, by name."""
    return {name: (data, fragment) for name, data, fragment in _bad_inputs(keyfactory)}


@pytest.mark.parametrize("name", [
    "garbage text", "empty", "whitespace", "binary bytes", "non-ascii bytes", "truncated", "corrupt base64", "not a key",
    "not a private key", "encrypted pkcs8", "encrypted pkcs1", "encrypted sec1", "dsa traditional", "dsa pkcs8", "dsa public",
    "ed25519 private", "ed25519 public", "certificate", "csr", "certificate and key", "two keys", "rsa 1024 private",
    "rsa 1024 public", "rsa 1024 pkcs1 public", "secp256k1", "secp224r1 public", "openssh public", "openssh private",
    "jwk json", "unknown block", "only parameters",
])
def test_bad_input_is_rejected_with_a_clear_message(bad_inputs, name):
    """Every bad input raises KeyLoadError (a ValueError) naming the source and the reason, never the key text."""
    data, fragment = bad_inputs[name]
    with pytest.raises(K.KeyLoadError) as info:
        K.load_public_key(data, source="my-source")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith("my-source: ")
    assert fragment in message
    assert info.value.source == "my-source"
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    for line in body_lines(text):
        if len(line) > 16:
            assert line not in message


def test_bad_input_list_is_complete(keyfactory):
    """The parametrised list covers every case defined in _bad_inputs."""
    names = [name for name, dummy, dummy2 in _bad_inputs(keyfactory)]
    assert len(names) == len(set(names)) == 31


def test_non_text_input_is_rejected():
    """Only str and bytes are keys."""
    with pytest.raises(K.KeyLoadError, match="expected PEM text, got int"):
        K.load_public_key(42)


# ---------------------------------------------------------------- items: paths and inline PEM


def test_load_key_items_paths_and_inline(keyfactory, tmp_path, monkeypatch):
    """Items are file paths (with ~ expansion) or inline PEM; results keep their source."""
    (tmp_path / "a.pub").write_text(keyfactory.spki_pem("rsa2048"))
    (tmp_path / "b.key").write_bytes(keyfactory.traditional_pem("P-384").encode())
    monkeypatch.setenv("HOME", str(tmp_path))
    loaded = K.load_key_items([str(tmp_path / "a.pub"), "~/b.key", keyfactory.pkcs8_pem("P-521")])
    assert [k.source for k in loaded] == [str(tmp_path / "a.pub"), str(tmp_path / "b.key"), "keys[2] (inline PEM)"]
    assert [k.from_private for k in loaded] == [False, True, True]
    assert [k.kid for k in loaded] == [K.kid_for(keyfactory.public(kind)) for kind in ("rsa2048", "P-384", "P-521")]
    assert "PRIVATE" not in repr(loaded)


def test_load_key_items_reports_every_bad_item(keyfactory, tmp_path):
    """All items are checked; the error lists each bad one by position."""
    (tmp_path / "small.pem").write_text(keyfactory.traditional_pem("rsa1024"))
    items = [
        keyfactory.spki_pem("rsa2048"),
        str(tmp_path / "missing.pem"),
        str(tmp_path / "small.pem"),
        str(tmp_path),
        keyfactory.encrypted_pkcs8_pem("P-256"),
        "",
    ]
    with pytest.raises(K.KeyItemsError) as info:
        K.load_key_items(items, label="keys")
    errors = [str(e) for e in info.value.errors]
    assert len(errors) == 5
    assert errors[0] == "keys[1] (file %s): no such file (and not inline PEM text)" % (tmp_path / "missing.pem")
    assert errors[1].startswith("keys[2] (file %s): RSA key of 1024 bits" % (tmp_path / "small.pem"))
    assert "is a directory" in errors[2]
    assert errors[3].startswith("keys[4] (inline PEM): encrypted private keys are not supported")
    assert errors[4].startswith("keys[5]: empty")
    assert isinstance(info.value, K.KeyLoadError)
    assert all(e in str(info.value) for e in errors)


def test_load_key_items_rejects_no_keys_and_huge_files(tmp_path):
    """An empty list and a file too large to be a key are errors."""
    with pytest.raises(K.KeyLoadError, match="no keys given"):
        K.load_key_items([])
    big = tmp_path / "big"
    big.write_bytes(b"A" * (K.MAX_KEY_FILE_BYTES + 1))
    with pytest.raises(K.KeyItemsError, match="too large"):
        K.load_key_items([str(big)])


def test_is_inline_pem():
    """Text with a BEGIN line or a newline is inline; anything else is a path."""
    assert K.is_inline_pem("-----BEGIN PUBLIC KEY-----")
    assert K.is_inline_pem(b"-----BEGIN PUBLIC KEY-----")
    assert K.is_inline_pem("garbage\nmore")
    assert not K.is_inline_pem("/etc/key.pem")


# ---------------------------------------------------------------- JWK / JWKS


@pytest.mark.parametrize("kind", RSA_KINDS)
def test_rsa_jwk_members_and_encoding(keyfactory, kind):
    """go-jose order; n big-endian without leading zero; e minimal (AQAB)."""
    public = keyfactory.public(kind)
    jwk = K.jwk_for(public)
    assert list(jwk) == ["use", "kty", "kid", "alg", "n", "e"]
    assert jwk["use"] == "sig" and jwk["kty"] == "RSA" and jwk["alg"] == "RS256"
    n = b64url_decode(jwk["n"])
    assert n[0] != 0
    assert int.from_bytes(n, "big") == public.public_numbers().n
    assert jwk["e"] == "AQAB"
    assert "=" not in jwk["n"]


@pytest.mark.parametrize("kind,size", [("P-256", 32), ("P-384", 48), ("P-521", 66)])
def test_ec_jwk_members_and_encoding(keyfactory, kind, size):
    """go-jose order; coordinates padded to the curve size."""
    public = keyfactory.public(kind)
    jwk = K.jwk_for(public)
    assert list(jwk) == ["use", "kty", "kid", "crv", "alg", "x", "y"]
    assert jwk["crv"] == kind and jwk["alg"] == ALGS[kind] and jwk["kty"] == "EC"
    x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
    assert len(x) == len(y) == size
    numbers = public.public_numbers()
    assert int.from_bytes(x, "big") == numbers.x and int.from_bytes(y, "big") == numbers.y


def test_jwk_for_private_key_is_public_only(keyfactory):
    """Given a private key, the JWK holds only public members."""
    for kind in ("rsa2048", "P-256"):
        jwk = K.jwk_for(keyfactory.private(kind))
        assert not set(jwk) & {"d", "p", "q", "dp", "dq", "qi"}


def test_jwk_for_unsupported_key(keyfactory):
    """jwk_for and alg_for reject what load_public_key rejects."""
    with pytest.raises(K.KeyLoadError, match="too small"):
        K.jwk_for(keyfactory.public("rsa1024"))
    with pytest.raises(K.KeyLoadError, match="Ed25519"):
        K.alg_for(keyfactory.public("ed25519"))


def test_jwks_document_dedups_and_sorts(keyfactory):
    """Duplicates (same key as private and public) collapse; order is by kid whatever the input order."""
    keys = [keyfactory.public(kind) for kind in ("rsa2048", "P-256", "rsa2048#2", "P-384")]
    keys.append(keyfactory.private("rsa2048"))
    keys.append(K.load_public_key(keyfactory.installer_pub_pem("rsa2048")))
    doc = K.jwks_document(keys)
    kids = [jwk["kid"] for jwk in doc["keys"]]
    assert len(kids) == 4
    assert kids == sorted(kids)
    assert K.jwks_document(list(reversed(keys))) == doc
    assert list(doc) == ["keys"]


def test_jwks_document_accepts_loaded_keys(keyfactory):
    """LoadedKey objects are accepted as well as key objects."""
    loaded = K.load_key_items([keyfactory.spki_pem("P-256"), keyfactory.pkcs8_pem("P-256")])
    assert K.jwks_document(loaded) == K.jwks_document([keyfactory.public("P-256")])


# ---------------------------------------------------------------- JWT verification with independent libraries


def _sign(keyfactory, kind, issuer="https://issuer.example.com"):
    """A service-account-like token signed by the private key of ``kind``, with its kid in the header."""
    now = int(time.time())
    claims = {"iss": issuer, "sub": "system:serviceaccount:ns:sa", "aud": ["sts.amazonaws.com"], "iat": now, "exp": now + 600}
    kid = K.kid_for(keyfactory.public(kind))
    return jwt.encode(claims, keyfactory.private(kind), algorithm=ALGS[kind], headers={"kid": kid}), kid


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_jwt_verifies_with_pyjwt_against_jwks(keyfactory, kind):
    """pyjwt parses our JWKS and verifies a token signed with the private key."""
    jwks = K.jwks_document([keyfactory.public(k) for k in ALL_KINDS])
    token, kid = _sign(keyfactory, kind)
    keyset = jwt.PyJWKSet.from_dict(json.loads(K.render_json(jwks)))
    signing_key = keyset[kid]
    claims = jwt.decode(token, signing_key.key, algorithms=[ALGS[kind]], audience="sts.amazonaws.com")
    assert claims["sub"] == "system:serviceaccount:ns:sa"
    # a token signed by another key does not verify with this one
    other = "P-256" if kind != "P-256" else "rsa2048"
    other_token, dummy = _sign(keyfactory, other)
    with pytest.raises(jwt.exceptions.PyJWTError):
        jwt.decode(other_token, signing_key.key, algorithms=[ALGS[kind]], audience="sts.amazonaws.com")


class _JWKSHandler(http.server.BaseHTTPRequestHandler):
    """Serve the server's ``body`` at any path."""

    def do_GET(self):  # pylint: disable=invalid-name  # name required by BaseHTTPRequestHandler
        """Answer with the JWKS."""
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # pylint: disable=arguments-differ  # silence request logging
        """Do not log."""


@pytest.fixture
def jwks_server():
    """A loopback HTTP server serving ``server.body``; stopped after the test."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _JWKSHandler)
    server.body = b"{}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_jwt_verifies_with_pyjwkclient(keyfactory, kind, jwks_server):
    """pyjwt's PyJWKClient fetches keys.json (our exact bytes) and picks the key by the token's kid."""
    jwks_server.body = K.render_json(K.jwks_document([keyfactory.public(k) for k in ALL_KINDS])).encode()
    url = "http://127.0.0.1:%d/keys.json" % jwks_server.server_address[1]
    token, kid = _sign(keyfactory, kind)
    client = jwt.PyJWKClient(url, cache_keys=False)
    signing_key = client.get_signing_key_from_jwt(token)
    assert signing_key.key_id == kid
    claims = jwt.decode(token, signing_key.key, algorithms=[ALGS[kind]], audience="sts.amazonaws.com")
    assert claims["iss"] == "https://issuer.example.com"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_jwt_verifies_with_joserfc(keyfactory, kind):
    """A second, independent JOSE library (joserfc) verifies against the JWKS too."""
    joserfc_jwt = pytest.importorskip("joserfc.jwt")
    jwk_module = pytest.importorskip("joserfc.jwk")
    jwks = K.jwks_document([keyfactory.public(k) for k in ALL_KINDS])
    token, dummy = _sign(keyfactory, kind)
    keyset = jwk_module.KeySet.import_key_set(jwks)
    decoded = joserfc_jwt.decode(token, keyset, algorithms=[ALGS[kind]])
    assert decoded.claims["sub"] == "system:serviceaccount:ns:sa"


# ---------------------------------------------------------------- discovery document and byte format

ISSUER = "https://mycluster-oidc.s3.us-east-1.amazonaws.com"

# ccoctl's discovery document: tab before issuer/jwks_uri, 4 spaces elsewhere, no trailing newline.
CCOCTL_DISCOVERY = (
    '{\n'
    '\t"issuer": "https://mycluster-oidc.s3.us-east-1.amazonaws.com",\n'
    '\t"jwks_uri": "https://mycluster-oidc.s3.us-east-1.amazonaws.com/keys.json",\n'
    '    "response_types_supported": [\n'
    '        "id_token"\n'
    '    ],\n'
    '    "subject_types_supported": [\n'
    '        "public"\n'
    '    ],\n'
    '    "id_token_signing_alg_values_supported": [\n'
    '        "RS256"\n'
    '    ],\n'
    '    "claims_supported": [\n'
    '        "aud",\n'
    '        "exp",\n'
    '        "sub",\n'
    '        "iat",\n'
    '        "iss",\n'
    '        "sub"\n'
    '    ]\n'
    '}'
)


def test_discovery_document_shape():
    """Exactly ccoctl's fields, in its order."""
    doc = K.discovery_document(ISSUER)
    assert doc == {
        "issuer": ISSUER,
        "jwks_uri": ISSUER + "/keys.json",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["aud", "exp", "sub", "iat", "iss", "sub"],
    }
    assert list(doc) == ["issuer", "jwks_uri", "response_types_supported", "subject_types_supported",
                         "id_token_signing_alg_values_supported", "claims_supported"]
    assert "authorization_endpoint" not in doc


def test_discovery_document_algs():
    """Algs deduplicated, RS256 first, then EC by size; defaults to RS256."""
    assert K.discovery_document(ISSUER, ["ES512", "ES256", "RS256", "ES256"])["id_token_signing_alg_values_supported"] == \
        ["RS256", "ES256", "ES512"]
    assert K.discovery_document(ISSUER, [])["id_token_signing_alg_values_supported"] == ["RS256"]
    assert K.discovery_document(ISSUER, ["ES384"])["id_token_signing_alg_values_supported"] == ["ES384"]


def test_algs_for(keyfactory):
    """The algs of a JWKS, RS256 first."""
    jwks = K.jwks_document([keyfactory.public(k) for k in ("P-521", "rsa2048", "P-256")])
    assert K.algs_for(jwks) == ["RS256", "ES256", "ES512"]


def test_render_discovery_is_byte_identical_to_ccoctl():
    """Byte-for-byte the document ccoctl uploads."""
    assert K.render_discovery(K.discovery_document(ISSUER)) == CCOCTL_DISCOVERY
    assert json.loads(CCOCTL_DISCOVERY) == K.discovery_document(ISSUER)


def test_render_json_matches_go_marshal_indent():
    """Go json.MarshalIndent(v, "", "    "): 4 spaces, ': ' separator, no trailing newline."""
    doc = {"keys": [{"use": "sig", "kty": "RSA", "kid": "abc", "alg": "RS256", "n": "xyz", "e": "AQAB"}]}
    expected = (
        '{\n'
        '    "keys": [\n'
        '        {\n'
        '            "use": "sig",\n'
        '            "kty": "RSA",\n'
        '            "kid": "abc",\n'
        '            "alg": "RS256",\n'
        '            "n": "xyz",\n'
        '            "e": "AQAB"\n'
        '        }\n'
        '    ]\n'
        '}'
    )
    assert K.render_json(doc) == expected
    assert not K.render_json(doc).endswith("\n")


def test_render_json_escapes_like_go():
    """Go escapes <, > and & in strings and keeps other non-ASCII as UTF-8."""
    assert K.render_json({"a": "<&>"}) == '{\n    "a": "\\u003c\\u0026\\u003e"\n}'
    assert K.render_json({"a": u"\u00e9"}) == u'{\n    "a": "\u00e9"\n}'


def test_render_json_of_real_jwks_round_trips(keyfactory):
    """The rendered JWKS parses back to the same document, members in go-jose order."""
    jwks = K.jwks_document([keyfactory.public("rsa2048"), keyfactory.public("P-384")])
    text = K.render_json(jwks)
    assert json.loads(text) == jwks
    for jwk in json.loads(text)["keys"]:
        assert list(jwk)[:3] == ["use", "kty", "kid"]
