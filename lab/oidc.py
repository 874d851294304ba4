"""Service-account signing keys and tokens, as OpenShift and ccoctl make them.

Used by the lab's scenarios and tests to play the cluster side: a key pair,
its ``kid`` (base64url, unpadded, of SHA-256 over the DER SubjectPublicKeyInfo),
the JWKS and discovery documents ccoctl publishes, and projected tokens.
"""

import base64
import hashlib
import json
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value):
    return _b64(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


class SigningKey:
    """A service-account signing key (RSA by default; ``ES256`` for an EC P-256 key)."""

    def __init__(self, algorithm="RS256", bits=2048):
        self.algorithm = algorithm
        if algorithm.startswith("ES"):
            curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[algorithm]
            self.private_key = ec.generate_private_key(curve)
        else:
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        self.public_key = self.private_key.public_key()
        der = self.public_key.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = _b64(hashlib.sha256(der).digest())

    def jwk(self):
        """The public JWK (go-jose field order for RSA, as ccoctl writes it)."""
        numbers = self.public_key.public_numbers()
        if self.algorithm.startswith("ES"):
            size = (self.public_key.curve.key_size + 7) // 8
            return {"use": "sig", "kty": "EC", "kid": self.kid, "alg": self.algorithm,
                    "crv": {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[self.algorithm],
                    "x": _b64(numbers.x.to_bytes(size, "big")), "y": _b64(numbers.y.to_bytes(size, "big"))}
        return {"use": "sig", "kty": "RSA", "kid": self.kid, "alg": self.algorithm,
                "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}

    def jwks(self, *others):
        """``keys.json`` with this key (and ``others``)."""
        return json.dumps({"keys": [self.jwk()] + [o.jwk() for o in others]}, indent=4)

    def token(self, issuer, sub="system:serviceaccount:openshift-machine-api:machine-api-controllers",
              aud="openshift", lifetime=3600, now=None, headers=None, **claims):
        """A signed projected service-account token; ``aud=None`` omits the claim."""
        now = int(now if now is not None else time.time())
        payload = {"iss": issuer, "sub": sub, "iat": now, "nbf": now, "exp": now + lifetime}
        if aud is not None:
            payload["aud"] = aud if isinstance(aud, list) else [aud]
        payload.update(claims)
        header = {"kid": self.kid}
        header.update(headers or {})
        pem = self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
        return jwt.encode(payload, pem, algorithm=self.algorithm, headers=header)


def discovery_document(issuer, algorithms=("RS256",)):
    """The ``.well-known/openid-configuration`` ccoctl publishes."""
    return json.dumps({
        "issuer": issuer,
        "jwks_uri": f"{issuer}/keys.json",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(algorithms),
        "claims_supported": ["aud", "exp", "sub", "iat", "iss", "sub"],
    }, indent=4)


def trust_policy(provider_arn, issuer_host, subjects, operator="StringEquals", audience=None):
    """A ccoctl-style role trust policy (``audience`` adds an ``:aud`` condition)."""
    condition = {operator: {f"{issuer_host}:sub": subjects}}
    if audience is not None:
        condition[operator][f"{issuer_host}:aud"] = audience
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]})
