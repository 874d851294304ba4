#!/usr/bin/env python
"""Test material for integration targets: service account signing keys, JWKS and tokens.

Plays the cluster side with plain cryptography and PyJWT, in ccoctl's format
(kid = unpadded base64url of SHA-256 over the DER SubjectPublicKeyInfo).
Private keys stay in the scratch directory given on the command line; tokens
are written to files (mode 0600), never printed, so they do not end up in a
registered command result.

Usage::

    oidc_material.py keys DIR NAME [NAME ...] [--ec NAME ...]   -> {"NAME": {"kid", "jwk", "public_pem"}}
    oidc_material.py jwks DIR NAME [NAME ...] [--pad N]          -> {"keys": [...]} (N extra EC keys first)
    oidc_material.py tokens DIR < [{"key", "out", "iss", "aud"?, "sub"?, "lifetime"?, "kid"?, "parts"?}, ...]
                                                                 -> [{"out", "kid", "claims"}] (tokens go to the files)
    oidc_material.py files ROOT < {"relative/path": "content", ...} -> {"written": N} (a document tree to upload)
    oidc_material.py leaky-jwks DIR NAME OUT                   -> {"out", "kid", "private_members"}
                                                                 (a JWKS leaking NAME's private key, written to OUT, 0600)
"""

import argparse
import base64
import hashlib
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

SUB = "system:serviceaccount:openshift-machine-api:machine-api-controllers"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value):
    return _b64(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def kid_of(public_key):
    """kube-apiserver's kid: base64url(SHA-256(DER SubjectPublicKeyInfo)), unpadded."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _b64(hashlib.sha256(der).digest())


def jwk_of(public_key):
    """The public JWK of a key, in go-jose's field order as ccoctl writes it."""
    kid = kid_of(public_key)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        numbers = public_key.public_numbers()
        return {"use": "sig", "kty": "EC", "kid": kid, "alg": "ES256", "crv": "P-256",
                "x": _b64(numbers.x.to_bytes(32, "big")), "y": _b64(numbers.y.to_bytes(32, "big"))}
    numbers = public_key.public_numbers()
    return {"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256", "n": _uint(numbers.n), "e": _uint(numbers.e)}


def _path(directory, name):
    return os.path.join(directory, name + ".pem")


def load(directory, name):
    """The private key ``name`` of ``directory``."""
    with open(_path(directory, name), "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def _write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def cmd_keys(args):
    """Create (or reuse) the named keys and print their kids, JWKs and public PEMs."""
    result = {}
    for name in args.names + args.ec:
        path = _path(args.dir, name)
        if os.path.exists(path):
            key = load(args.dir, name)
        else:
            key = ec.generate_private_key(ec.SECP256R1()) if name in args.ec else rsa.generate_private_key(65537, 2048)
            _write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        public = key.public_key()
        result[name] = {
            "kid": kid_of(public),
            "jwk": jwk_of(public),
            "public_pem": public.public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii"),
        }
    return result


def cmd_jwks(args):
    """A JWKS of the named keys, after ``--pad`` throwaway EC keys."""
    keys = [jwk_of(ec.generate_private_key(ec.SECP256R1()).public_key()) for _index in range(args.pad)]
    keys.extend(jwk_of(load(args.dir, name).public_key()) for name in args.names)
    return {"keys": keys}


def mint(directory, spec):
    """Write one signed projected service account token as ``spec`` describes; return its claims (never the token)."""
    key = load(directory, spec["key"])
    lifetime = int(spec.get("lifetime", 3600))
    now = int(time.time())
    issued = now + min(0, lifetime) - 60
    claims = {"iss": spec["iss"], "sub": spec.get("sub", SUB), "aud": [spec.get("aud", "openshift")],
              "iat": issued, "nbf": issued, "exp": now + lifetime}
    kid = spec.get("kid") or kid_of(key.public_key())
    algorithm = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    token = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})
    parts = int(spec.get("parts", 3))
    if parts != 3:
        token = ".".join(token.split(".")[:parts])
    _write_private(spec["out"], token.encode("ascii"))
    return {"out": spec["out"], "kid": kid, "claims": claims}


def private_jwk_of(private_key):
    """The RSA JWK of a private key with every private member (d, p, q, dp, dq, qi), as a careless export writes it."""
    numbers = private_key.private_numbers()
    jwk = jwk_of(private_key.public_key())
    jwk.update({"d": _uint(numbers.d), "p": _uint(numbers.p), "q": _uint(numbers.q), "dp": _uint(numbers.dmp1),
                "dq": _uint(numbers.dmq1), "qi": _uint(numbers.iqmp)})
    return jwk


def cmd_leaky_jwks(args):
    """Write a JWKS publishing the private key ``args.name`` to ``args.out`` (never printed)."""
    jwk = private_jwk_of(load(args.dir, args.name))
    _write_private(args.out, json.dumps({"keys": [jwk]}, indent=4).encode("ascii"))
    return {"out": args.out, "kid": jwk["kid"], "private_members": ["d", "p", "q", "dp", "dq", "qi"]}


def cmd_tokens(args):
    """Mint every token of the JSON list on stdin."""
    return [mint(args.dir, spec) for spec in json.load(sys.stdin)]


def cmd_files(args):
    """Write the ``{relative path: content}`` JSON object on stdin under ``args.root``."""
    documents = json.load(sys.stdin)
    root = os.path.realpath(args.root)
    for relative, content in documents.items():
        path = os.path.realpath(os.path.join(root, relative))
        if not path.startswith(root + os.sep):
            raise SystemExit("refusing to write outside %s: %s" % (root, relative))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)
    return {"written": len(documents)}


def main(argv=None):
    """Parse the command line and print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    keys = sub.add_parser("keys")
    keys.add_argument("dir")
    keys.add_argument("names", nargs="*")
    keys.add_argument("--ec", nargs="*", default=[])
    jwks = sub.add_parser("jwks")
    jwks.add_argument("dir")
    jwks.add_argument("names", nargs="*")
    jwks.add_argument("--pad", type=int, default=0)
    sub.add_parser("tokens").add_argument("dir")
    sub.add_parser("files").add_argument("root")
    leaky = sub.add_parser("leaky-jwks")
    leaky.add_argument("dir")
    leaky.add_argument("name")
    leaky.add_argument("out")
    args = parser.parse_args(argv)
    result = {"keys": cmd_keys, "jwks": cmd_jwks, "tokens": cmd_tokens, "files": cmd_files,
              "leaky-jwks": cmd_leaky_jwks}[args.command](args)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
