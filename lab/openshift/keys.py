"""Service-account signing keys and JWTs, as kube-apiserver handles them.

* ``kid`` is computed like kubernetes ``pkg/serviceaccount/jwt.go``
  ``keyIDFromPublicKey``: SHA-256 over the DER SubjectPublicKeyInfo, base64url
  without padding (43 characters).
* JWKs carry the go-jose field order ``use, kty, kid, alg, n, e``.
* Tokens are RS256 JWS with the header ``{"alg": "RS256", "kid": ...}``.

Only ``cryptography`` is used: the lab signs its own tokens and tests verify
them with an independent library (PyJWT).
"""

import base64
import hashlib
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

DEFAULT_KEY_SIZE = 2048


def b64url(data):
    """base64url without ``=`` padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    """Decode base64url with or without padding."""
    if isinstance(text, str):
        text = text.encode("ascii")
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))


def _int_bytes(value):
    """Minimal big-endian bytes of a positive integer (no leading zero byte)."""
    return value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")


def generate_key(key_size=DEFAULT_KEY_SIZE):
    """A new RSA private key (ccoctl uses 4096 bits; the lab defaults to 2048 for speed)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def load_private_key(pem):
    """Load a PEM private key (PKCS#1 or PKCS#8); ``pem`` is str or bytes."""
    if isinstance(pem, str):
        pem = pem.encode("ascii")
    return serialization.load_pem_private_key(pem, password=None)


def as_private_key(value):
    """Accept a key object or PEM text/bytes and return the key object."""
    if isinstance(value, (str, bytes)):
        return load_private_key(value)
    return value


def private_pem(key):
    """PKCS#1 PEM (``RSA PRIVATE KEY``), the format ccoctl and the operator write."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_pem(public_key):
    """SubjectPublicKeyInfo PEM (``PUBLIC KEY``)."""
    if hasattr(public_key, "public_key"):
        public_key = public_key.public_key()
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(public_key):
    """The ``kid`` kube-apiserver puts in tokens for this key."""
    if hasattr(public_key, "public_key"):
        public_key = public_key.public_key()
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b64url(hashlib.sha256(der).digest())


def jwk(public_key):
    """The JWK of an RSA public key, fields in go-jose order."""
    if hasattr(public_key, "public_key"):
        public_key = public_key.public_key()
    numbers = public_key.public_numbers()
    return {
        "use": "sig",
        "kty": "RSA",
        "kid": key_id(public_key),
        "alg": "RS256",
        "n": b64url(_int_bytes(numbers.n)),
        "e": b64url(_int_bytes(numbers.e)),
    }


def sign_jwt(private_key, claims):
    """An RS256 compact JWS of ``claims`` with the kube-apiserver header."""
    header = {"alg": "RS256", "kid": key_id(private_key)}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = private_key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def decode_unverified(token):
    """``(header, claims)`` of a compact JWS, without verifying anything."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    return json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1]))


def verify_signature(token, public_keys):
    """Return the header and claims if one of ``public_keys`` signed ``token``.

    ``public_keys`` maps kid to public key. Raises ``ValueError`` otherwise.
    """
    header, claims = decode_unverified(token)
    if header.get("alg") != "RS256":
        raise ValueError("unsupported alg")
    candidates = [public_keys[header["kid"]]] if header.get("kid") in public_keys else list(public_keys.values())
    signing_input, _dot, signature = token.rpartition(".")
    for public_key in candidates:
        try:
            public_key.verify(b64url_decode(signature), signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
            return header, claims
        except Exception:  # pylint: disable=broad-except  # InvalidSignature or a key-type mismatch: try the next key
            continue
    raise ValueError("invalid signature")
