"""Write test keys for the jwks_generate integration target and print their expected kids as JSON.

Usage: python genkeys.py DIR

The kids are computed here independently of the collection: SHA-256 over the DER
SubjectPublicKeyInfo, base64url without padding.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
NOENC = serialization.NoEncryption()


def kid(key):
    """base64url(SHA-256(DER SPKI)) without padding."""
    der = key.public_key().public_bytes(DER, SPKI)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def write(directory, name, data):
    """Write one file."""
    with open(os.path.join(directory, name), "wb") as handle:
        handle.write(data)


def certificate(key):
    """A self-signed certificate of ``key``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"jwks-generate-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))


def main(directory):
    """Write the keys into ``directory``; print the expected kids."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_521 = ec.generate_private_key(ec.SECP521R1())
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)

    spki_der = rsa_key.public_key().public_bytes(DER, SPKI)
    installer_pub = (b"-----BEGIN RSA PUBLIC KEY-----\n" + base64.encodebytes(spki_der) + b"-----END RSA PUBLIC KEY-----\n")

    good = {
        # ccoctl create-key-pair: PKCS#1 private, SPKI public
        "serviceaccount-signer.private": rsa_key.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, NOENC),
        "serviceaccount-signer.public": rsa_key.public_key().public_bytes(PEM, SPKI),
        # installer: 'RSA PUBLIC KEY' label over SPKI bytes
        "bound-service-account-signing-key.pub": installer_pub,
        "new.key": rsa_new.private_bytes(PEM, serialization.PrivateFormat.PKCS8, NOENC),
        "ec256.key": ec_key.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, NOENC),
        "ec521.pub": ec_521.public_key().public_bytes(PEM, SPKI),
    }
    bad = {
        "rsa1024.key": small.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, NOENC),
        "encrypted.key": rsa_new.private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.BestAvailableEncryption(b"passphrase")),
        "dsa.key": dsa.generate_private_key(key_size=2048).private_bytes(PEM, serialization.PrivateFormat.PKCS8, NOENC),
        "ed25519.key": ed25519.Ed25519PrivateKey.generate().private_bytes(PEM, serialization.PrivateFormat.PKCS8, NOENC),
        "certificate.pem": certificate(rsa_key).public_bytes(PEM),
        "garbage.txt": b"this is not a key\n",
    }
    for name, data in list(good.items()) + list(bad.items()):
        write(directory, name, data)
    print(json.dumps({
        "rsa": kid(rsa_key),
        "rsa_new": kid(rsa_new),
        "ec256": kid(ec_key),
        "ec521": kid(ec_521),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
