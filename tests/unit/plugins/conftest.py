"""Shared fixtures for the plugin unit tests: keys generated in the test session, in every PEM format."""

from __future__ import annotations

import base64
import datetime
import os

import pytest
import trustme

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PKCS1_PUB = serialization.PublicFormat.PKCS1
PKCS1_PRIV = serialization.PrivateFormat.TraditionalOpenSSL
PKCS8 = serialization.PrivateFormat.PKCS8
NOENC = serialization.NoEncryption()

CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}


class KeyFactory:
    """Generate keys once per session and render them in the PEM formats the collection accepts."""

    def __init__(self):
        self._cache = {}

    def private(self, kind):
        """A private key: ``rsa2048``, ``rsa3072``, ``rsa1024``, ``P-256``/``P-384``/``P-521``,
        ``secp256k1``, ``secp224r1``, ``dsa``, ``ed25519``; suffix ``#2`` etc. for another key of the kind."""
        if kind not in self._cache:
            base = kind.split("#", 1)[0]
            if base.startswith("rsa"):
                key = rsa.generate_private_key(public_exponent=65537, key_size=int(base[3:]))
            elif base in CURVES:
                key = ec.generate_private_key(CURVES[base]())
            elif base == "secp256k1":
                key = ec.generate_private_key(ec.SECP256K1())
            elif base == "secp224r1":
                key = ec.generate_private_key(ec.SECP224R1())
            elif base == "dsa":
                key = dsa.generate_private_key(key_size=2048)
            elif base == "ed25519":
                key = ed25519.Ed25519PrivateKey.generate()
            else:
                raise ValueError(kind)
            self._cache[kind] = key
        return self._cache[kind]

    def public(self, kind):
        """The public key of ``kind``."""
        return self.private(kind).public_key()

    def spki_pem(self, kind):
        """``PUBLIC KEY`` (SPKI) PEM text."""
        return self.public(kind).public_bytes(PEM, SPKI).decode()

    def pkcs1_public_pem(self, kind):
        """``RSA PUBLIC KEY`` (PKCS#1) PEM text."""
        return self.public(kind).public_bytes(PEM, PKCS1_PUB).decode()

    def installer_pub_pem(self, kind):
        """What the OpenShift installer writes: label ``RSA PUBLIC KEY`` over SPKI DER bytes."""
        der = self.public(kind).public_bytes(DER, SPKI)
        body = base64.encodebytes(der).decode()
        return "-----BEGIN RSA PUBLIC KEY-----\n%s-----END RSA PUBLIC KEY-----\n" % body

    def traditional_pem(self, kind):
        """PKCS#1 ``RSA PRIVATE KEY`` or SEC1 ``EC PRIVATE KEY`` (or ``DSA PRIVATE KEY``)."""
        return self.private(kind).private_bytes(PEM, PKCS1_PRIV, NOENC).decode()

    def pkcs8_pem(self, kind):
        """PKCS#8 ``PRIVATE KEY``."""
        return self.private(kind).private_bytes(PEM, PKCS8, NOENC).decode()

    def encrypted_pkcs8_pem(self, kind):
        """PKCS#8 ``ENCRYPTED PRIVATE KEY``."""
        return self.private(kind).private_bytes(PEM, PKCS8, serialization.BestAvailableEncryption(b"secret")).decode()

    def encrypted_traditional_pem(self, kind):
        """Legacy encrypted PEM (``Proc-Type: 4,ENCRYPTED`` headers)."""
        return self.private(kind).private_bytes(PEM, PKCS1_PRIV, serialization.BestAvailableEncryption(b"secret")).decode()

    def certificate_pem(self, kind):
        """A self-signed certificate of the key."""
        key = self.private(kind)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"test")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        return cert.public_bytes(PEM).decode()

    def csr_pem(self, kind):
        """A certificate signing request of the key."""
        key = self.private(kind)
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"test")]))
            .sign(key, hashes.SHA256())
        )
        return csr.public_bytes(PEM).decode()


@pytest.fixture(scope="session")
def keyfactory():
    """Session-wide :class:`KeyFactory`."""
    return KeyFactory()


@pytest.fixture
def clean_proxy_env(monkeypatch):
    """No proxy or CA variable from the outside environment leaks into a test (``pytest.mark.usefixtures``)."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def ca():
    """A private CA of the test module (as a TLS-intercepting corporate proxy would have)."""
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):  # pylint: disable=redefined-outer-name  # pytest fixture injection
    """The private CA as a PEM bundle file."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)
