"""Public JWKs and JWK Sets as jwks_generate key items (a running cluster's /openid/v1/jwks)."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.openshift_sts.oidc.plugins.module_utils.keys import (
    KeyItemsError,
    KeyLoadError,
    jwk_for,
    jwks_document,
    load_jwk,
    load_key_items,
)


@pytest.fixture(scope="module")
def rsa_key():
    """A 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    """A P-256 key."""
    return ec.generate_private_key(ec.SECP256R1())


def test_rsa_jwk_round_trip(rsa_key):
    """A public RSA JWK gives back the same key, hence the same kid and JWK."""
    jwk = jwk_for(rsa_key.public_key())
    assert jwk_for(load_jwk(jwk)) == jwk


def test_ec_jwk_round_trip(ec_key):
    """A public EC JWK gives back the same key."""
    jwk = jwk_for(ec_key.public_key())
    assert jwk_for(load_jwk(jwk)) == jwk


def test_jwks_dict_and_json_text(rsa_key, ec_key):
    """A JWKS (dict or JSON text) gives one key per entry; republishing it is byte-identical."""
    jwks = jwks_document([rsa_key.public_key(), ec_key.public_key()])
    for item in (jwks, json.dumps(jwks, indent=2)):
        loaded = load_key_items([item])
        assert len(loaded) == 2
        assert jwks_document(loaded) == jwks


def test_mixed_with_pem_and_dedup(rsa_key):
    """JWKs and PEM items mix; the same key twice is published once."""
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    loaded = load_key_items([pem, {"keys": [jwk_for(rsa_key.public_key())]}])
    assert len(jwks_document(loaded)["keys"]) == 1


def test_private_jwk_refused_without_echo(rsa_key):
    """A JWK with private members is refused, and the message does not carry them."""
    jwk = dict(jwk_for(rsa_key.public_key()), d="c2VjcmV0LXByaXZhdGUtbWVtYmVy")
    with pytest.raises(KeyItemsError) as info:
        load_key_items([jwk])
    assert "private" in str(info.value)
    assert "c2VjcmV0" not in str(info.value)


@pytest.mark.parametrize("jwk, words", [
    ({"kty": "oct", "k": "AAAA"}, "private"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "not supported"),
    ({"kty": "EC", "crv": "P-192", "x": "AA", "y": "AA"}, "not supported"),
    ({"kty": "RSA", "e": "AQAB"}, "'n' is missing"),
    ({"kty": "RSA", "n": "_" * 171 + "w", "e": "AQAB"}, "too small"),
    ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "invalid RSA JWK"),
    ({"kty": "EC", "crv": "P-256", "x": "AQ", "y": "AQ"}, "invalid EC JWK"),
    ({"keys": []}, "no keys"),
])
def test_bad_jwks(jwk, words):
    """Unusable JWKs fail with the item named."""
    with pytest.raises(KeyLoadError) as info:
        load_key_items([jwk])
    assert words in str(info.value)
    assert "keys[0]" in str(info.value)
