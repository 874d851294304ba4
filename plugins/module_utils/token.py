# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse a service account token (a JWT) without trusting it, and verify its signature.

:func:`parse_token` never verifies anything: it decodes the header and the
claims of a compact JWS defensively (any input may be hostile) and returns a
summary that is safe to show (``iss``, ``aud``, ``sub``, ``kid``, ``alg``,
``exp``, ``iat``...), never the token or its signature. Structural damage
raises :class:`TokenError`; claims STS would reject are listed in the
summary's ``problems``.

:func:`verify_signature` checks the signature against a JWKS with PyJWT,
for the algorithms STS accepts (RS256/384/512, ES256/384/512).
"""

import base64
import binascii
import json
import re
import traceback

try:
    import jwt
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm
    HAS_PYJWT = True
    PYJWT_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only without the library
    HAS_PYJWT = False
    PYJWT_IMPORT_ERROR = traceback.format_exc()

STS_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
"""Signature algorithms AssumeRoleWithWebIdentity accepts."""

STS_MAX_TOKEN_LENGTH = 20000
"""STS's documented maximum WebIdentityToken length (characters)."""

MAX_PARSE_LENGTH = 64 * 1024
"""Longer input is refused without decoding."""

_B64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_SUMMARY_KEYS = ("iss", "aud", "sub", "kid", "alg", "typ", "exp", "iat", "nbf")


def read_token_file(path):
    """The token held by the file ``path``, stripped; at most :data:`MAX_PARSE_LENGTH` + 1 characters are read.

    Raises :class:`TokenFileError` with a message naming the file and the reason, never its content.
    """
    try:
        with open(path, "r") as handle:
            return handle.read(MAX_PARSE_LENGTH + 1).strip()
    except (IOError, OSError, UnicodeDecodeError) as error:
        raise TokenFileError("Cannot read token_file %s: %s" % (path, getattr(error, "strerror", None) or type(error).__name__))


class TokenFileError(Exception):
    """A token file could not be read."""


class TokenError(ValueError):
    """The input is not a parseable JWT; ``str(error)`` is a user-facing reason without token content."""


def b64url_decode(segment, what="segment"):
    """Decode one base64url segment (padding optional); raise :class:`TokenError` when it is not base64url."""
    if not _B64URL.match(segment):
        raise TokenError("the %s is not base64url (it contains characters outside A-Z a-z 0-9 - _)" % what)
    stripped = segment.rstrip("=")
    if len(stripped) % 4 == 1:
        raise TokenError("the %s has an impossible base64url length" % what)
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("the %s is not valid base64url" % what)


def _json_object(segment, what):
    """Decode a base64url segment holding a JSON object."""
    raw = b64url_decode(segment, what)
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise TokenError("the %s is not UTF-8 text" % what)
    except (ValueError, RecursionError):
        raise TokenError("the %s is not JSON" % what)
    if not isinstance(value, dict):
        raise TokenError("the %s is JSON but not an object (it is a %s)" % (what, type(value).__name__))
    return value


def _is_int(value):
    """True for a JSON integer (bool excluded)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _short_string(value, limit=512):
    """``value`` when it is a string of reasonable length, else None."""
    if isinstance(value, str) and len(value) <= limit:
        return value
    return None


def split_token(token):
    """Return the three segments of a compact JWS (stripped of surrounding whitespace), or raise :class:`TokenError`."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise TokenError("the token is not ASCII text")
    if not isinstance(token, str):
        raise TokenError("the token is not a string")
    token = token.strip()
    if not token:
        raise TokenError("the token is empty")
    if len(token) > MAX_PARSE_LENGTH:
        raise TokenError("the token is %d characters long, far beyond STS's limit of %d" % (len(token), STS_MAX_TOKEN_LENGTH))
    parts = token.split(".")
    if len(parts) == 5:
        raise TokenError("the token is an encrypted JWT (JWE, 5 parts); STS needs a signed JWT (JWS, 3 parts)")
    if len(parts) != 3:
        raise TokenError("the token has %d part(s) separated by dots; a signed JWT has 3 (header.claims.signature)" % len(parts))
    return token, parts


def parse_token(token):
    """Parse ``token`` without verifying it and return a safe summary dict.

    Keys: ``iss``, ``aud`` (always a list), ``sub``, ``kid``, ``alg``, ``typ``,
    ``exp``, ``iat``, ``nbf`` (None when absent or of the wrong type),
    ``length`` and ``problems`` (list of user-facing sentences for what STS
    would reject). Raises :class:`TokenError` when the input is not a JWT.
    """
    token, parts = split_token(token)
    header = _json_object(parts[0], "header")
    claims = _json_object(parts[1], "claims segment")
    problems = []
    signature = b64url_decode(parts[2], "signature")

    alg = header.get("alg")
    if not isinstance(alg, str):
        problems.append("the header has no alg")
        alg = None
    elif alg.lower() == "none":
        problems.append("the token is unsigned (alg none); STS accepts only %s" % ", ".join(STS_ALGORITHMS))
    elif alg not in STS_ALGORITHMS:
        shown = _short_string(alg, 32) or "an unknown algorithm"
        problems.append("the token is signed with %s; STS accepts only %s" % (shown, ", ".join(STS_ALGORITHMS)))
    if not signature and alg and alg.lower() != "none":
        problems.append("the signature is empty")
    kid = header.get("kid")
    if kid is not None and _short_string(kid) is None:
        problems.append("the header's kid is not a short string")
        kid = None

    summary = {
        "alg": _short_string(alg, 32),
        "typ": _short_string(header.get("typ"), 64),
        "kid": kid,
        "iss": None, "sub": None, "aud": [], "exp": None, "iat": None, "nbf": None,
        "length": len(token),
    }
    for name in ("iss", "sub"):
        value = claims.get(name)
        if value is None:
            problems.append("the claim %s is missing" % name)
        elif _short_string(value, 2048) is None:
            problems.append("the claim %s is not a string" % name)
        else:
            summary[name] = value
    aud = claims.get("aud")
    if aud is None:
        problems.append("the claim aud is missing (STS: Missing a required claim: aud)")
    elif isinstance(aud, str):
        summary["aud"] = [aud]
    elif isinstance(aud, list) and aud and all(isinstance(item, str) for item in aud):
        summary["aud"] = [item[:512] for item in aud[:100]]
    else:
        problems.append("the claim aud is neither a string nor a list of strings")
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if value is None:
            if name == "exp":
                problems.append("the claim exp is missing")
        elif _is_int(value):
            summary[name] = value
        elif isinstance(value, float) and value.is_integer():
            summary[name] = int(value)
            problems.append("the claim %s is a decimal number; STS needs integer timestamps" % name)
        else:
            problems.append("the claim %s is not an integer timestamp" % name)
    if len(token) > STS_MAX_TOKEN_LENGTH:
        problems.append("the token is %d characters long; STS accepts at most %d" % (len(token), STS_MAX_TOKEN_LENGTH))
    summary["problems"] = problems
    return summary


def _jwk_to_key(jwk_dict, alg):
    """A cryptography public key from ``jwk_dict`` for ``alg``, or raise ValueError with a reason."""
    kty = jwk_dict.get("kty")
    if alg.startswith("RS"):
        if kty != "RSA":
            raise ValueError("the key has kty %s, the token needs an RSA key" % (_short_string(kty, 16) or "?"))
        algorithm = RSAAlgorithm
    else:
        if kty != "EC":
            raise ValueError("the key has kty %s, the token needs an EC key" % (_short_string(kty, 16) or "?"))
        if jwk_dict.get("crv") != _EC_CURVES[alg]:
            raise ValueError("the key's curve is %s, %s needs %s" % (_short_string(jwk_dict.get("crv"), 16), alg, _EC_CURVES[alg]))
        algorithm = ECAlgorithm
    public = dict((name, value) for name, value in jwk_dict.items() if name not in ("d", "p", "q", "dp", "dq", "qi", "oth", "k"))
    try:
        return algorithm.from_jwk(json.dumps(public))
    except Exception as error:  # pylint: disable=broad-except  # PyJWT raises several types for bad JWKs
        raise ValueError("the key cannot be loaded (%s)" % type(error).__name__)


def verify_signature(token, jwks_dict):
    """Verify the signature of ``token`` with the keys of ``jwks_dict``.

    Only the header's kid is used to pick keys (every key when the token has no
    kid). Expiry, audience and issuer are not checked. Returns ``(ok, reason)``;
    ``reason`` is a user-facing sentence without token content (the kid of the
    key that verified on success). Raises RuntimeError when PyJWT is missing.
    """
    if not HAS_PYJWT:
        raise RuntimeError("PyJWT is required to verify token signatures")
    try:
        token, parts = split_token(token)
        header = _json_object(parts[0], "header")
    except TokenError as error:
        return False, "the token cannot be parsed: %s" % error
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in STS_ALGORITHMS:
        return False, "the token's algorithm %s is not one STS accepts (%s)" % (
            _short_string(alg, 32) if isinstance(alg, str) else "(none)", ", ".join(STS_ALGORITHMS))
    keys = jwks_dict.get("keys") if isinstance(jwks_dict, dict) else None
    if not isinstance(keys, list):
        return False, "the JWKS has no keys array"
    keys = [key for key in keys if isinstance(key, dict)]
    kid = header.get("kid")
    if isinstance(kid, str):
        candidates = [key for key in keys if key.get("kid") == kid]
        if not candidates:
            return False, "no published key has the token's kid %s" % kid
    else:
        candidates = keys
        if not candidates:
            return False, "the JWKS has no keys"
    reasons = []
    for key_dict in candidates:
        label = key_dict.get("kid") if isinstance(key_dict.get("kid"), str) else "(no kid)"
        try:
            key = _jwk_to_key(key_dict, alg)
        except ValueError as error:
            reasons.append("key %s: %s" % (label, error))
            continue
        try:
            jwt.decode(token, key=key, algorithms=[alg],
                       options={"verify_signature": True, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                "verify_aud": False, "verify_iss": False, "require": []})
        except jwt.InvalidSignatureError:
            reasons.append("key %s: the signature does not match" % label)
            continue
        except jwt.PyJWTError as error:
            reasons.append("key %s: %s" % (label, type(error).__name__))
            continue
        except Exception as error:  # pylint: disable=broad-except  # hostile input must never crash the probe
            reasons.append("key %s: verification failed (%s)" % (label, type(error).__name__))
            continue
        return True, "verified with key %s" % label
    return False, "; ".join(reasons)
