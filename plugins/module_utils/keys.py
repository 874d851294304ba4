# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Service-account signing keys: loading, ``kid``, JWK/JWKS and the OIDC discovery document.

Everything here reproduces what ``ccoctl`` (openshift/cloud-credential-operator) and
kube-apiserver publish:

* ``kid`` is base64url without padding of SHA-256 over the DER SubjectPublicKeyInfo, the
  value kube-apiserver puts in every service-account token header;
* JWK members come in go-jose order (``use, kty, kid, alg, n, e`` for RSA and
  ``use, kty, kid, crv, alg, x, y`` for EC);
* ``render_json`` produces the bytes of Go's ``json.MarshalIndent(v, "", "    ")`` (``keys.json``),
  ``render_discovery`` the bytes of ccoctl's discovery document template. Neither ends with a newline.

Private keys are accepted only to derive their public key. Nothing in this module returns,
logs or puts into an exception message any private key material or the text of a key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import traceback

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
except ImportError:  # pragma: no cover - exercised only without cryptography
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None


MIN_RSA_BITS = 2048
MAX_KEY_FILE_BYTES = 1024 * 1024

# cryptography curve name -> (JWK crv, JWS alg, coordinate length in bytes)
EC_CURVES = {
    "secp256r1": ("P-256", "ES256", 32),
    "secp384r1": ("P-384", "ES384", 48),
    "secp521r1": ("P-521", "ES512", 66),
}

# Order of id_token_signing_alg_values_supported: RS256 first (ccoctl writes only RS256).
ALG_ORDER = ("RS256", "ES256", "ES384", "ES512")

DISCOVERY_RESPONSE_TYPES = ["id_token"]
DISCOVERY_SUBJECT_TYPES = ["public"]
# ccoctl lists "sub" twice; kept byte-for-byte.
DISCOVERY_CLAIMS = ["aud", "exp", "sub", "iat", "iss", "sub"]
KEYS_URI = "keys.json"
DISCOVERY_URI = ".well-known/openid-configuration"

_PEM_BLOCK_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----",
    re.DOTALL,
)
_PEM_BEGIN_RE = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")

_CERTIFICATE_LABELS = ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")
_PUBLIC_LABELS = ("PUBLIC KEY", "RSA PUBLIC KEY")
_PRIVATE_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")
_ENCRYPTED_HINT = "encrypted private keys are not supported; decrypt it first (openssl pkey -in KEY -out PLAIN)"
_UNSUPPORTED_TYPE_HINT = "Kubernetes service-account signing keys must be RSA (2048 bits or more) or EC (P-256, P-384, P-521)"


def _ignored(label):
    """Blocks that may accompany a key and carry no key of their own (``openssl ecparam -genkey``)."""
    return label.endswith(" PARAMETERS")


class KeyLoadError(ValueError):
    """A key cannot be used: unreadable, malformed, encrypted or of an unsupported type.

    ``source`` names where the key came from (a file path or a label such as ``keys[1]``);
    ``reason`` is the explanation without the source. ``str()`` gives ``"<source>: <reason>"``.
    """

    def __init__(self, reason, source=None):
        self.reason = reason
        self.source = source
        super(KeyLoadError, self).__init__("%s: %s" % (source, reason) if source else reason)


class KeyItemsError(KeyLoadError):
    """Several key items failed; ``errors`` holds one :class:`KeyLoadError` per bad item."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(KeyItemsError, self).__init__("; ".join(str(e) for e in self.errors))


class LoadedKey(object):
    """A public key with the place it came from.

    ``source`` is a file path or ``<label>[i] (inline PEM)``; ``from_private`` tells whether the
    public key was derived from a private key (the private key itself is not kept).
    """

    __slots__ = ("public_key", "source", "from_private", "kid")

    def __init__(self, public_key, source, from_private=False):
        self.public_key = public_key
        self.source = source
        self.from_private = from_private
        self.kid = kid_for(public_key)

    def __repr__(self):
        return "LoadedKey(kid=%r, source=%r, from_private=%r)" % (self.kid, self.source, self.from_private)


def _require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise KeyLoadError("the Python library 'cryptography' is required to read keys")


def _to_text(pem_or_bytes, source):
    if isinstance(pem_or_bytes, bytes):
        if b"\x00" in pem_or_bytes:
            raise KeyLoadError("not PEM text (binary data); give a PEM-encoded key", source)
        try:
            return pem_or_bytes.decode("ascii")
        except UnicodeDecodeError:
            raise KeyLoadError("not PEM text (non-ASCII bytes); give a PEM-encoded key", source)
    if isinstance(pem_or_bytes, str):
        return pem_or_bytes
    raise KeyLoadError("expected PEM text, got %s" % type(pem_or_bytes).__name__, source)


def _pem_blocks(text):
    """Return ``[(label, block_text, body)]`` for every complete PEM block in ``text``."""
    blocks = []
    for match in _PEM_BLOCK_RE.finditer(text):
        blocks.append((match.group(1), match.group(0), match.group(2)))
    return blocks


def _describe_non_pem(text):
    stripped = text.strip()
    if not stripped:
        return "empty: no PEM key found"
    first = stripped.split(None, 1)[0]
    if first.startswith(("ssh-", "ecdsa-sha2-")):
        return "this is an OpenSSH public key, not a PEM key; convert it with 'ssh-keygen -e -m PKCS8 -f <file>'"
    if stripped.startswith("{"):
        return "this looks like JSON (a JWK?), not a PEM key"
    if _PEM_BEGIN_RE.search(text):
        return "incomplete PEM block (no matching END line)"
    return "not a PEM key (no '-----BEGIN ...-----' line found)"


def _der_from_body(body, label, source):
    lines = [line.strip() for line in body.strip().splitlines()]
    if any(":" in line for line in lines):
        # RFC 1421 headers (Proc-Type/DEK-Info) only appear in encrypted legacy keys.
        raise KeyLoadError(_ENCRYPTED_HINT, source)
    try:
        return base64.b64decode("".join(lines), validate=True)
    except (ValueError, TypeError):
        raise KeyLoadError("the %s PEM block is not valid base64" % label, source)


def _check_supported(public_key, source):
    """Raise :class:`KeyLoadError` unless ``public_key`` is RSA >= 2048 bits or EC on P-256/384/521."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise KeyLoadError(
                "RSA key of %d bits is too small; at least %d bits are required" % (public_key.key_size, MIN_RSA_BITS), source)
        return public_key
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in EC_CURVES:
            raise KeyLoadError(
                "EC curve %s is not supported; use P-256, P-384 or P-521" % public_key.curve.name, source)
        return public_key
    if isinstance(public_key, dsa.DSAPublicKey):
        raise KeyLoadError("DSA keys are not supported; %s" % _UNSUPPORTED_TYPE_HINT, source)
    name = type(public_key).__name__.replace("PublicKey", "").replace("_", "")
    raise KeyLoadError("%s keys are not supported; %s" % (name or "this type of", _UNSUPPORTED_TYPE_HINT), source)


def _load_public_block(der, source):
    try:
        return serialization.load_der_public_key(der)
    except UnsupportedAlgorithm:
        raise KeyLoadError("unsupported public key algorithm; %s" % _UNSUPPORTED_TYPE_HINT, source)
    except ValueError:
        raise KeyLoadError("the public key block is not a valid SubjectPublicKeyInfo or PKCS#1 RSA public key", source)


def _load_private_block(block_text, source):
    try:
        private_key = serialization.load_pem_private_key(block_text.encode("ascii"), password=None)
    except TypeError:
        # cryptography raises TypeError when a password is needed.
        raise KeyLoadError(_ENCRYPTED_HINT, source)
    except UnsupportedAlgorithm:
        raise KeyLoadError("unsupported private key algorithm; %s" % _UNSUPPORTED_TYPE_HINT, source)
    except ValueError:
        raise KeyLoadError("the private key block cannot be parsed (corrupt, or an unsupported key type)", source)
    if isinstance(private_key, dsa.DSAPrivateKey):
        raise KeyLoadError("DSA keys are not supported; %s" % _UNSUPPORTED_TYPE_HINT, source)
    return private_key.public_key()


def _load(pem_or_bytes, source):
    """Load one key; return ``(public_key, from_private)``."""
    _require_cryptography()
    text = _to_text(pem_or_bytes, source)
    blocks = _pem_blocks(text)
    if not blocks:
        raise KeyLoadError(_describe_non_pem(text), source)
    certificates = [block for block in blocks if block[0] in _CERTIFICATE_LABELS]
    keys = [block for block in blocks if not _ignored(block[0]) and block[0] not in _CERTIFICATE_LABELS]
    if certificates and not keys:
        raise KeyLoadError("this is a certificate, not a key; give the public key (openssl x509 -pubkey -noout -in CERT)", source)
    if certificates:
        raise KeyLoadError("holds a certificate as well as a key; give the key alone", source)
    if not keys:
        raise KeyLoadError("no key found in PEM (only %s)" % ", ".join(sorted(set(label for label, dummy, dummy2 in blocks))), source)
    if len(keys) > 1:
        raise KeyLoadError("holds %d PEM keys; give one key per item" % len(keys), source)

    label, block_text, body = keys[0]
    if label == "ENCRYPTED PRIVATE KEY":
        raise KeyLoadError(_ENCRYPTED_HINT, source)
    if label == "DSA PRIVATE KEY":
        raise KeyLoadError("DSA keys are not supported; %s" % _UNSUPPORTED_TYPE_HINT, source)
    if label == "OPENSSH PRIVATE KEY":
        raise KeyLoadError("OpenSSH private key format is not supported; give a PEM key (PKCS#1, PKCS#8 or SEC1)", source)
    if label in ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"):
        raise KeyLoadError("this is a certificate signing request, not a key", source)
    if label in _PUBLIC_LABELS:
        # "RSA PUBLIC KEY" is PKCS#1, but the OpenShift installer writes SPKI under that
        # label (bound-service-account-signing-key.pub): accept both whatever the label.
        public_key = _load_public_block(_der_from_body(body, label, source), source)
        return _check_supported(public_key, source), False
    if label in _PRIVATE_LABELS:
        public_key = _load_private_block(block_text, source)
        return _check_supported(public_key, source), True
    raise KeyLoadError("unsupported PEM block '%s'; give a public or private key" % label, source)


def load_public_key(pem_or_bytes, source="key"):
    """Load the public key from PEM text or bytes holding one key.

    Accepted: SPKI ``PUBLIC KEY``; PKCS#1 ``RSA PUBLIC KEY`` (and the installer's SPKI bytes under that
    label); PKCS#1 ``RSA PRIVATE KEY``, PKCS#8 ``PRIVATE KEY`` and SEC1 ``EC PRIVATE KEY``, whose public
    key is derived. The key must be RSA >= 2048 bits or EC on P-256, P-384 or P-521.

    Raises :class:`KeyLoadError` (a ``ValueError``) with ``source`` in its message otherwise.
    """
    return _load(pem_or_bytes, source)[0]


def is_inline_pem(item):
    """Tell whether a ``keys`` item is inline PEM text rather than a file path."""
    if isinstance(item, bytes):
        return b"-----BEGIN" in item or b"\n" in item
    return "-----BEGIN" in item or "\n" in item


def load_key_item(item, label="key"):
    """Load one item that is a file path or inline PEM text; return a :class:`LoadedKey`.

    ``label`` names the item in messages (e.g. ``keys[2]``). A file path is expanded (``~``) and
    named in messages; inline text never is.
    """
    if not isinstance(item, (str, bytes)):
        raise KeyLoadError("expected a file path or PEM text, got %s" % type(item).__name__, label)
    if is_inline_pem(item):
        source = "%s (inline PEM)" % label
        public_key, from_private = _load(item, source)
        return LoadedKey(public_key, source, from_private)

    path = os.path.expanduser(item.decode("utf-8", "replace") if isinstance(item, bytes) else item)
    source = "%s (file %s)" % (label, path)
    if not path.strip():
        raise KeyLoadError("empty: give a file path or PEM text", label)
    if not os.path.exists(path):
        raise KeyLoadError("no such file (and not inline PEM text)", source)
    if os.path.isdir(path):
        raise KeyLoadError("is a directory, not a key file", source)
    try:
        size = os.path.getsize(path)
        if size > MAX_KEY_FILE_BYTES:
            raise KeyLoadError("file is %d bytes; too large to be a key" % size, source)
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise KeyLoadError("cannot read file: %s" % (exc.strerror or exc), source)
    public_key, from_private = _load(data, source)
    return LoadedKey(public_key, path, from_private)


def _b64url_int(value, member, source):
    """The unsigned integer of a base64url JWK member."""
    if not isinstance(value, str) or not value:
        raise KeyLoadError("JWK member %r is missing or not a string" % member, source)
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        raise KeyLoadError("JWK member %r is not valid base64url" % member, source)
    return int.from_bytes(data, "big")


_JWK_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def load_jwk(jwk, source="jwk"):
    """Load the public key of one public JWK (a dict): RSA (``n``, ``e``) or EC (``crv``, ``x``, ``y``).

    JWKs holding private members are refused (only public keys are published). The key must be RSA >= 2048
    bits or EC on P-256, P-384 or P-521. Raises :class:`KeyLoadError` otherwise.
    """
    _require_cryptography()
    if not isinstance(jwk, dict):
        raise KeyLoadError("expected a JWK object, got %s" % type(jwk).__name__, source)
    if any(member in jwk for member in _JWK_PRIVATE_MEMBERS):
        raise KeyLoadError("this JWK holds private key members; give the public JWK only", source)
    kty = jwk.get("kty")
    if kty == "RSA":
        try:
            public_key = rsa.RSAPublicNumbers(_b64url_int(jwk.get("e"), "e", source), _b64url_int(jwk.get("n"), "n", source)).public_key()
        except ValueError as exc:
            raise KeyLoadError("invalid RSA JWK: %s" % exc, source)
    elif kty == "EC":
        curves = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
        if jwk.get("crv") not in curves:
            raise KeyLoadError("EC curve %r is not supported; use P-256, P-384 or P-521" % jwk.get("crv"), source)
        try:
            public_key = ec.EllipticCurvePublicNumbers(
                _b64url_int(jwk.get("x"), "x", source), _b64url_int(jwk.get("y"), "y", source), curves[jwk["crv"]]()).public_key()
        except ValueError as exc:
            raise KeyLoadError("invalid EC JWK: %s" % exc, source)
    else:
        raise KeyLoadError("JWK key type %r is not supported; %s" % (kty, _UNSUPPORTED_TYPE_HINT), source)
    return _check_supported(public_key, source)


def _json_item(item):
    """The parsed JWK or JWKS of an item given as a dict or as JSON text, or None for a PEM text or file path."""
    if isinstance(item, dict):
        return item
    if isinstance(item, bytes):
        item = item.decode("utf-8", "replace")
    if isinstance(item, str) and item.lstrip().startswith("{"):
        try:
            return json.loads(item)
        except ValueError:
            return None
    return None


def load_jwk_item(document, label="key"):
    """Load every key of a JWK or a JWKS (``{"keys": [...]}``) given as a dict; return a list of :class:`LoadedKey`."""
    if "keys" in document and "kty" not in document:
        jwks = document["keys"]
        if not isinstance(jwks, list) or not jwks:
            raise KeyLoadError("the JWKS has no keys", label)
        return [LoadedKey(load_jwk(jwk, "%s (JWKS keys[%d])" % (label, index)), "%s (JWKS keys[%d])" % (label, index))
                for index, jwk in enumerate(jwks)]
    return [LoadedKey(load_jwk(document, "%s (JWK)" % label), "%s (JWK)" % label)]


def load_key_items(items, label="keys"):
    """Load every item and return a list of :class:`LoadedKey`.

    An item is a file path, inline PEM text, or a public JWK or JWKS (a dict, or its JSON text), such as a
    cluster's ``/openid/v1/jwks``; a JWKS gives one key per entry.
    All items are checked before anything is returned. If any is bad, raise
    :class:`KeyItemsError` listing every bad item (``.errors``), each named ``<label>[i]``.
    """
    if isinstance(items, (str, bytes, dict)):
        items = [items]
    if not items:
        raise KeyLoadError("no keys given; give at least one key file or PEM text", label)
    loaded, errors = [], []
    for index, item in enumerate(items):
        try:
            document = _json_item(item)
            if document is not None:
                loaded.extend(load_jwk_item(document, "%s[%d]" % (label, index)))
            else:
                loaded.append(load_key_item(item, "%s[%d]" % (label, index)))
        except KeyLoadError as exc:
            errors.append(exc)
    if errors:
        raise KeyItemsError(errors)
    return loaded


def _public(key):
    """Return the public half of ``key`` (a public or private cryptography key object)."""
    if hasattr(key, "public_key") and not hasattr(key, "public_bytes"):
        return key.public_key()
    return key


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value, length=None):
    if length is None:
        length = max(1, (value.bit_length() + 7) // 8)
    return _b64url(value.to_bytes(length, "big"))


def spki_der(public_key):
    """DER SubjectPublicKeyInfo of a key (public or private)."""
    _require_cryptography()
    return _public(public_key).public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def kid_for(public_key):
    """The ``kid`` kube-apiserver and ccoctl use: base64url (unpadded) SHA-256 of the DER SPKI (43 characters)."""
    return _b64url(hashlib.sha256(spki_der(public_key)).digest())


def alg_for(public_key):
    """JWS algorithm for a supported key: ``RS256``, or ``ES256``/``ES384``/``ES512`` by curve."""
    key = _check_supported(_public(public_key), None)
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    return EC_CURVES[key.curve.name][1]


def jwk_for(public_key):
    """The public JWK of a supported key, members in go-jose (ccoctl) order.

    RSA: ``use, kty, kid, alg, n, e``; EC: ``use, kty, kid, crv, alg, x, y`` (coordinates padded
    to the curve size). Raises :class:`KeyLoadError` for unsupported keys.
    """
    key = _check_supported(_public(public_key), None)
    kid = kid_for(key)
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {
            "use": "sig",
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }
    crv, alg, size = EC_CURVES[key.curve.name]
    numbers = key.public_numbers()
    return {
        "use": "sig",
        "kty": "EC",
        "kid": kid,
        "crv": crv,
        "alg": alg,
        "x": _b64url_uint(numbers.x, size),
        "y": _b64url_uint(numbers.y, size),
    }


def jwks_document(public_keys):
    """``{"keys": [...]}`` for the given keys (key objects or :class:`LoadedKey`), deduplicated by ``kid``, sorted by ``kid``."""
    by_kid = {}
    for key in public_keys:
        if isinstance(key, LoadedKey):
            key = key.public_key
        jwk = jwk_for(key)
        by_kid.setdefault(jwk["kid"], jwk)
    return {"keys": [by_kid[kid] for kid in sorted(by_kid)]}


def algs_for(jwks):
    """``id_token_signing_alg_values_supported`` for a JWKS document: its algs, deduplicated, RS256 first."""
    present = set(jwk.get("alg") for jwk in jwks.get("keys", []))
    ordered = [alg for alg in ALG_ORDER if alg in present]
    ordered.extend(sorted(alg for alg in present if alg and alg not in ALG_ORDER))
    return ordered


def discovery_document(issuer, algs=None):
    """The OIDC discovery document ccoctl publishes for ``issuer`` (key order as ccoctl's template).

    ``algs`` are the signing algorithms of the published keys (deduplicated, RS256 first);
    the default, like ccoctl, is ``["RS256"]``.
    """
    wanted = list(algs) if algs else ["RS256"]
    ordered = [alg for alg in ALG_ORDER if alg in wanted]
    for alg in wanted:
        if alg not in ordered:
            ordered.append(alg)
    return {
        "issuer": issuer,
        "jwks_uri": "%s/%s" % (issuer, KEYS_URI),
        "response_types_supported": list(DISCOVERY_RESPONSE_TYPES),
        "subject_types_supported": list(DISCOVERY_SUBJECT_TYPES),
        "id_token_signing_alg_values_supported": ordered,
        "claims_supported": list(DISCOVERY_CLAIMS),
    }


def render_json(doc):
    """Serialise like Go's ``json.MarshalIndent(doc, "", "    ")``: 4-space indent, no trailing newline.

    Like Go, ``<``, ``>``, ``&``, U+2028 and U+2029 are escaped and other non-ASCII text is kept as UTF-8.
    """
    text = json.dumps(doc, indent=4, separators=(",", ": "), ensure_ascii=False)
    # These characters can only occur inside JSON strings, so a plain replace is safe.
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), (u"\u2028", "\\u2028"), (u"\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def render_discovery(doc):
    """Serialise a discovery document byte-for-byte like ccoctl's template.

    ccoctl's template indents the ``issuer`` and ``jwks_uri`` lines with a tab and everything else
    with four spaces, and has no trailing newline; this reproduces that, so a document published by
    ccoctl compares equal. Other keys are rendered like :func:`render_json`.
    """
    lines = render_json(doc).split("\n")
    for index, line in enumerate(lines):
        if line.startswith('    "issuer": ') or line.startswith('    "jwks_uri": '):
            lines[index] = "\t" + line[4:]
    return "\n".join(lines)
