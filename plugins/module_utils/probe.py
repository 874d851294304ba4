# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probe an OIDC issuer the way STS uses it, and report findings.

:func:`probe_issuer` checks, in chain order: the issuer URL, the token (when
given), the discovery document at ``<issuer>/.well-known/openid-configuration``,
its ``jwks_uri``, the JWKS, the token's ``kid`` and signature, and the
expected keys of the cluster. It is pure: the HTTP client is injected
(``fetch(url, timeout) -> FetchResult``, whose ``elapsed`` gives the timings)
and so is the current time, so every classification is unit-testable without
a network or a sleep.
"""

import base64
import binascii
import hashlib
import json
import re
import time
import urllib.parse

from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding, sort_findings, has_errors
from ansible_collections.openshift_sts.oidc.plugins.module_utils.issuer import issuer_problems
from ansible_collections.openshift_sts.oidc.plugins.module_utils.token import (
    STS_ALGORITHMS, TokenError, parse_token, verify_signature,
)
from ansible_collections.openshift_sts.oidc.plugins.module_utils.anonymous_fetch import MAX_BODY
from ansible_collections.openshift_sts.oidc.plugins.module_utils.keys import KeyLoadError, jwk_for, kid_for, load_key_item

try:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
except ImportError:  # pragma: no cover - keys.py reports the missing library
    ec = rsa = None

DISCOVERY_PATH = "/.well-known/openid-configuration"
REQUIRED_DISCOVERY_LISTS = ("response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported")
REQUIRED_DISCOVERY_FIELDS = ("issuer", "jwks_uri") + REQUIRED_DISCOVERY_LISTS
MAX_JWKS_KEYS = 100
"""STS reads at most this many keys of a JWKS (observed)."""
SLOW_WARNING_RATIO = 0.8
"""ISSUER_SLOW is a warning above this fraction of the timeout, an error above the timeout."""
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
EC_CURVES = ("P-256", "P-384", "P-521")
_MAX_LISTED = 20
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_S3_FIELD = re.compile(r"<(Code|Message|Endpoint|Bucket|Region|Key)>([^<]{0,300})</\1>")
_HTML_TITLE = re.compile(r"<title[^>]*>([^<]{0,200})</title>", re.IGNORECASE)


# ---------------------------------------------------------------- helpers
def _seconds(value):
    """``value`` seconds as a short string."""
    return "%.2f s" % value


def s3_error(body):
    """``{"Code": ..., "Message": ..., "Endpoint": ...}`` from an S3 XML error body (empty dict if none)."""
    text = (body or b"")[:64 * 1024].decode("utf-8", "replace")
    if "<Error>" not in text:
        return {}
    return dict((name, value.strip()) for name, value in _S3_FIELD.findall(text))


def _server_evidence(result):
    """A short description of who answered: S3 error code/message, else Server and X-Cache headers."""
    error = s3_error(result.body)
    parts = []
    if error.get("Code"):
        parts.append("S3 error %s: %s" % (error["Code"], error.get("Message", "")))
    headers = result.headers
    if headers.get("server"):
        parts.append("server: %s" % headers["server"])
    if headers.get("x-cache"):
        parts.append("x-cache: %s" % headers["x-cache"])
    if headers.get("x-amz-bucket-region"):
        parts.append("bucket region: %s" % headers["x-amz-bucket-region"])
    return "; ".join(parts)


def _status_text(result):
    """``HTTP 403 Forbidden``."""
    return ("HTTP %s %s" % (result.status, result.reason or "")).strip()


def _b64url_int(value):
    """The integer of a base64url string (None when it is not one)."""
    if not isinstance(value, str) or not _B64URL.match(value):
        return None
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    return int.from_bytes(data, "big") if data else None


def key_material(jwk):
    """A comparable tuple of a JWK's public material, or None when it has none usable.

    RSA: ("RSA", n, e); EC: ("EC", crv, x, y) (integers, so leading zeros do not matter).
    """
    if not isinstance(jwk, dict):
        return None
    if jwk.get("kty") == "RSA":
        n, e = _b64url_int(jwk.get("n")), _b64url_int(jwk.get("e"))
        if n is None or e is None:
            return None
        return ("RSA", n, e)
    if jwk.get("kty") == "EC" and jwk.get("crv") in EC_CURVES:
        x, y = _b64url_int(jwk.get("x")), _b64url_int(jwk.get("y"))
        if x is None or y is None:
            return None
        return ("EC", jwk["crv"], x, y)
    return None


def _b64url_uint(value):
    """Unpadded base64url of a non-negative integer, minimal length."""
    data = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(material):
    """RFC 7638 SHA-256 JWK thumbprint (base64url) of :func:`key_material` output; None for None."""
    if material is None:
        return None
    if material[0] == "RSA":
        members = {"e": _b64url_uint(material[2]), "kty": "RSA", "n": _b64url_uint(material[1])}
    else:
        size = {"P-256": 32, "P-384": 48, "P-521": 66}[material[1]]
        members = {"crv": material[1], "kty": "EC",
                   "x": base64.urlsafe_b64encode(material[2].to_bytes(size, "big")).rstrip(b"=").decode("ascii"),
                   "y": base64.urlsafe_b64encode(material[3].to_bytes(size, "big")).rstrip(b"=").decode("ascii")}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode("ascii")


def public_jwks(document):
    """A copy of a JWKS document without private members in its keys (safe to return)."""
    if not isinstance(document, dict):
        return document
    result = dict(document)
    keys = document.get("keys")
    if isinstance(keys, list):
        result["keys"] = [dict((name, value) for name, value in key.items() if name not in PRIVATE_MEMBERS)
                          if isinstance(key, dict) else key for key in keys]
    return result


def _listed(items):
    """At most _MAX_LISTED items, with a note of how many more."""
    items = list(items)
    if len(items) <= _MAX_LISTED:
        return items
    return items[:_MAX_LISTED] + ["... and %d more" % (len(items) - _MAX_LISTED)]


def _bad_members(key):
    """Names of the missing or malformed public members of an RSA or EC JWK."""
    if key.get("kty") == "RSA":
        return [name for name in ("n", "e") if _b64url_int(key.get(name)) is None]
    bad = [] if key.get("crv") in EC_CURVES else ["crv"]
    return bad + [name for name in ("x", "y") if _b64url_int(key.get(name)) is None]


def _kid_label(kid):
    """A printable kid."""
    return kid if isinstance(kid, str) else "(no kid)"


class _Probe(object):  # pylint: disable=useless-object-inheritance,too-many-instance-attributes
    """State of one probe run."""

    def __init__(self, issuer, timeout, fetch):
        self.issuer = issuer
        self.timeout = float(timeout)
        self.fetch = fetch
        self.findings = []
        self.results = []

    def add(self, code, subject, message, **kwargs):
        """Record a finding."""
        self.findings.append(finding(code, subject, message, **kwargs))

    # ------------------------------------------------------------ HTTP
    def get(self, url, document):
        """Fetch ``url`` and record its timing under ``document``."""
        result = self.fetch(url, self.timeout)
        self.results.append((document, result))
        return result

    def check_answer(self, result, prefix, what):
        """Turn a non-200 answer into a finding; True when the answer is a 200 worth parsing."""
        url = result.url
        if result.error_kind:
            self.add(prefix + "_UNREACHABLE", url,
                     "The %s could not be fetched (%s): %s." % (what, result.error_kind, str(result.error_detail).rstrip(".")),
                     expected="HTTP 200 within %s" % _seconds(self.timeout),
                     actual=result.describe_failure())
            return False
        status = result.status
        evidence = _server_evidence(result)
        actual = _status_text(result) + ("; " + evidence if evidence else "")
        if status in (401, 403):
            self.add(prefix + "_ACCESS_DENIED", url,
                     "An anonymous GET of the %s was denied (%s), as it will be for STS." % (what, _status_text(result)),
                     expected="HTTP 200 for an anonymous GET", actual=actual)
            return False
        if status in (404, 410):
            self.add(prefix + "_NOT_FOUND", url, "The %s does not exist at this URL (%s)." % (what, _status_text(result)),
                     expected="HTTP 200", actual=actual)
            return False
        if 300 <= status < 400:
            target = result.location or s3_error(result.body).get("Endpoint")
            if result.location:
                where = "to %s" % result.location
                if result.location == url:
                    where += " (itself: a redirect loop)"
            elif target:
                where = "to endpoint %s" % target
            else:
                where = "without a Location"
            self.add(prefix + "_REDIRECT", url,
                     "The %s URL redirects (%s %s); STS does not follow redirects." % (what, _status_text(result), where),
                     expected="HTTP 200 without redirect", actual="%s; redirects %s" % (actual, where))
            return False
        if status != 200:
            self.add(prefix + "_UNREACHABLE", url,
                     "The server answered the %s request with %s." % (what, _status_text(result)),
                     expected="HTTP 200", actual="http: " + actual)
            return False
        return True

    def parse_json(self, result, prefix, what):
        """The JSON object of a 200 answer, or None after recording a *_INVALID finding."""
        url = result.url
        code = prefix + "_INVALID"
        if result.truncated:
            self.add(code, url, "The %s is larger than %d bytes (1 MiB); it is not read further." % (what, MAX_BODY),
                     expected="a JSON document under 1 MiB", actual="more than %d bytes" % MAX_BODY)
            return None
        body = result.body or b""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            self.add(code, url, "The %s is not UTF-8 text." % what, expected="a JSON object", actual="binary data (%d bytes)" % len(body))
            return None
        if text.startswith(u"\ufeff"):
            self.add(code, url, "The %s starts with a UTF-8 byte order mark, which strict JSON parsers reject." % what,
                     expected="JSON without byte order mark", actual="UTF-8 BOM before the JSON", severity="warning")
            text = text[1:]
        stripped = text.strip()
        if not stripped:
            self.add(code, url, "The %s is empty." % what, expected="a JSON object", actual="an empty body")
            return None
        if stripped.startswith("<"):
            title = _HTML_TITLE.search(stripped)
            error = s3_error(body)
            if error.get("Code"):
                actual = "an S3 XML error %s: %s" % (error["Code"], error.get("Message", ""))
            elif "<html" in stripped[:1024].lower() or title:
                actual = "an HTML page" + (" titled %r" % title.group(1).strip() if title else "")
            else:
                actual = "an XML document"
            if result.headers.get("content-type"):
                actual += " (content-type %s)" % result.headers["content-type"]
            self.add(code, url, "The %s is %s, not JSON." % (what, actual.split(":")[0].split(" (")[0]),
                     expected="a JSON object", actual=actual)
            return None
        try:
            document = json.loads(stripped)
        except (ValueError, RecursionError) as error:
            self.add(code, url, "The %s is not valid JSON." % what, expected="a JSON object",
                     actual="not JSON: %s" % (str(error)[:200] if isinstance(error, ValueError) else "nested too deeply"))
            return None
        if not isinstance(document, dict):
            self.add(code, url, "The %s is JSON but not an object." % what, expected="a JSON object",
                     actual="a JSON %s" % type(document).__name__)
            return None
        return document

    # ------------------------------------------------------------ discovery
    def check_discovery(self, url, document):
        """Required fields and issuer equality; return the jwks_uri to fetch (or None)."""
        missing, wrong = [], []
        for name in REQUIRED_DISCOVERY_FIELDS:
            value = document.get(name)
            if value is None:
                missing.append(name)
            elif name in REQUIRED_DISCOVERY_LISTS:
                if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                    wrong.append("%s is not a list of strings" % name)
            elif not isinstance(value, str) or not value:
                wrong.append("%s is not a non-empty string" % name)
        if missing or wrong:
            actual = (["missing: %s" % ", ".join(missing)] if missing else []) + wrong
            self.add("DISCOVERY_INVALID", url,
                     "The discovery document lacks required OpenID fields or has them with the wrong type.",
                     expected="the fields %s" % ", ".join(REQUIRED_DISCOVERY_FIELDS), actual="; ".join(actual))
        algs = document.get("id_token_signing_alg_values_supported")
        if isinstance(algs, list) and algs and not any(alg in STS_ALGORITHMS for alg in algs):
            self.add("DISCOVERY_INVALID", url,
                     "The discovery document announces no signing algorithm STS accepts.",
                     expected="one of %s in id_token_signing_alg_values_supported" % ", ".join(STS_ALGORITHMS),
                     actual=_listed(str(alg) for alg in algs), severity="warning")
        issuer = document.get("issuer")
        if isinstance(issuer, str) and issuer != self.issuer:
            self.add("DISCOVERY_ISSUER_MISMATCH", url,
                     "The discovery document names the issuer %r, not %r." % (issuer, self.issuer),
                     expected=self.issuer, actual=issuer)
        jwks_uri = document.get("jwks_uri")
        return jwks_uri if isinstance(jwks_uri, str) and jwks_uri else None

    def check_jwks_uri(self, jwks_uri):
        """JWKS_URI_INVALID checks; True when the URI can be fetched."""
        expected = self.issuer.rstrip("/") + "/keys.json"
        parts = urllib.parse.urlsplit(jwks_uri)
        issuer_host = urllib.parse.urlsplit(self.issuer).hostname
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.add("JWKS_URI_INVALID", jwks_uri, "The jwks_uri is not an absolute https URL.", expected=expected, actual=jwks_uri)
            return False
        if parts.scheme != "https":
            self.add("JWKS_URI_INVALID", jwks_uri, "The jwks_uri uses %s; STS fetches keys over HTTPS only." % parts.scheme,
                     expected=expected, actual=jwks_uri)
        elif parts.hostname != issuer_host:
            self.add("JWKS_URI_INVALID", jwks_uri,
                     "The jwks_uri is on host %s, not on the issuer host %s; ccoctl publishes <issuer>/keys.json." % (
                         parts.hostname, issuer_host),
                     expected=expected, actual=jwks_uri, severity="warning")
        return True

    # ------------------------------------------------------------ JWKS
    def check_jwks(self, url, document, needed_kids):
        """Validate the key set; return the list of ``(index, jwk, material)`` of usable keys (None if unusable)."""
        keys = document.get("keys")
        if not isinstance(keys, list):
            self.add("JWKS_INVALID", url, "The JWKS has no keys array.", expected="{\"keys\": [...]}",
                     actual="keys is %s" % ("missing" if keys is None else "a JSON %s" % type(keys).__name__))
            return None
        errors, warnings, exposed, usable = [], [], [], []
        for index, key in enumerate(keys):
            if not isinstance(key, dict):
                errors.append("key #%d is a JSON %s, not an object" % (index, type(key).__name__))
                continue
            kid = key.get("kid")
            label = "key #%d (kid %s)" % (index, _kid_label(kid)) if isinstance(kid, str) else "key #%d" % index
            private = [name for name in PRIVATE_MEMBERS if name in key]
            if private:
                exposed.append("%s has private members %s" % (label, ", ".join(private)))
            if kid is None:
                warnings.append("%s has no kid; STS picks the key by the token's kid" % label)
            elif not isinstance(kid, str):
                errors.append("key #%d has a kid that is not a string" % index)
            kty = key.get("kty")
            if not isinstance(kty, str):
                errors.append("%s has no kty" % label)
                continue
            if kty not in ("RSA", "EC"):
                if kty != "oct":
                    warnings.append("%s has kty %s, which STS cannot use (RSA or EC only)" % (label, kty[:16]))
                continue
            material = key_material(key)
            if material is None:
                errors.append("%s (%s) lacks valid %s" % (label, kty, ", ".join(_bad_members(key))))
                continue
            use = key.get("use")
            if use is not None and use != "sig":
                warnings.append("%s has use %r, not 'sig'" % (label, str(use)[:16]))
            alg = key.get("alg")
            if alg is not None and (alg not in STS_ALGORITHMS or alg[:2] != ("RS" if kty == "RSA" else "ES")):
                warnings.append("%s has alg %r, which does not fit an %s key STS can use" % (label, str(alg)[:16], kty))
            usable.append((index, key, material))
        if exposed:
            self.add("JWKS_PRIVATE_KEY_EXPOSED", url, "The public JWKS contains private key material.",
                     expected="public members only", actual=_listed(exposed))
        # duplicate kids
        by_kid = {}
        for index, key, material in usable:
            if isinstance(key.get("kid"), str):
                by_kid.setdefault(key["kid"], []).append((index, material))
        for kid, entries in by_kid.items():
            if len(entries) < 2:
                continue
            materials = set(material for _index, material in entries)
            positions = ", ".join("#%d" % index for index, _material in entries)
            if len(materials) > 1:
                errors.append("kid %s is published %d times (%s) with different keys; STS may pick the wrong one" % (
                    kid, len(entries), positions))
            else:
                warnings.append("kid %s is published %d times (%s) with the same key" % (kid, len(entries), positions))
        if not usable and not errors:
            errors.append("the JWKS has no RSA or EC key STS could use (%d keys)" % len(keys))
        elif not usable:
            errors.append("no key of the JWKS is usable")
        if errors:
            self.add("JWKS_INVALID", url, "The JWKS has keys STS cannot use: %s." % errors[0],
                     expected="RSA or EC public keys with kty, kid and valid members, unique kids", actual=_listed(errors))
        if warnings:
            self.add("JWKS_INVALID", url, "The JWKS has questionable keys: %s." % warnings[0],
                     expected="keys with kid, use 'sig' and an RSxxx/ESxxx alg, unique kids", actual=_listed(warnings),
                     severity="warning")
        if len(keys) > MAX_JWKS_KEYS:
            late = [kid for kid in needed_kids if kid in by_kid and min(index for index, _m in by_kid[kid]) >= MAX_JWKS_KEYS]
            actual = "%d keys" % len(keys)
            if late:
                actual += "; needed kid %s is past the first %d" % (", ".join(late), MAX_JWKS_KEYS)
            self.add("JWKS_TOO_MANY_KEYS", url, "The JWKS has %d keys; STS reads at most %d." % (len(keys), MAX_JWKS_KEYS),
                     expected="at most %d keys" % MAX_JWKS_KEYS, actual=actual, severity="error" if late else None)
        return usable

    def check_kids(self, url, usable, token_summary, expected_keys):
        """JWKS_KID_MISSING and JWKS_KEY_MISMATCH for the token's kid and the expected keys; return published kids."""
        published = {}
        for _index, key, material in usable:
            if isinstance(key.get("kid"), str):
                published.setdefault(key["kid"], []).append(material)
        published_kids = _listed(sorted(published))
        reported = set()
        for jwk in expected_keys or []:
            material = key_material(jwk)
            kid = jwk.get("kid") if isinstance(jwk.get("kid"), str) else None
            print_expected = "kid %s, thumbprint %s" % (_kid_label(kid), thumbprint(material))
            if kid is not None and kid in published:
                if material not in published[kid]:
                    others = ", ".join(sorted(set(str(thumbprint(item)) for item in published[kid])))
                    self.add("JWKS_KEY_MISMATCH", url,
                             "The JWKS publishes kid %s with other key material than the cluster's key." % kid,
                             expected=print_expected, actual="kid %s, thumbprint %s" % (kid, others))
                continue
            elsewhere = [other_kid for other_kid, materials in published.items() if material in materials]
            if elsewhere:
                self.add("JWKS_KEY_MISMATCH", url,
                         "The cluster's key is published under kid %s instead of %s; tokens name %s." % (
                             ", ".join(sorted(elsewhere)), _kid_label(kid), _kid_label(kid)),
                         expected=print_expected, actual="kid %s, thumbprint %s" % (", ".join(sorted(elsewhere)), thumbprint(material)))
            elif kid is not None:
                reported.add(kid)
                self.add("JWKS_KID_MISSING", url, "The cluster's key (kid %s) is not published in the JWKS." % kid,
                         expected=kid, actual=published_kids)
            else:
                self.add("JWKS_KEY_MISMATCH", url, "The cluster's key (thumbprint %s) is not published in the JWKS." % thumbprint(material),
                         expected=print_expected, actual=published_kids)
        token_kid = token_summary.get("kid") if token_summary else None
        if token_kid and token_kid not in published and token_kid not in reported:
            self.add("JWKS_KID_MISSING", url, "The token's signing key (kid %s) is not published in the JWKS." % token_kid,
                     expected=token_kid, actual=published_kids)
        return published

    def check_slow(self):
        """ISSUER_SLOW from the total time of the answered requests."""
        if any(result.error_kind == "timeout" for _document, result in self.results):
            return
        answered = [(document, result) for document, result in self.results if result.status is not None]
        if not answered:
            return
        total = sum(result.elapsed for _document, result in answered)
        warn_at = SLOW_WARNING_RATIO * self.timeout
        if total <= warn_at:
            return
        actual = " + ".join("%s %s" % (document, _seconds(result.elapsed)) for document, result in answered)
        if len(answered) > 1:
            actual += " = %s" % _seconds(total)
        severity = "error" if total > self.timeout else "warning"
        verb = "exceeds" if severity == "error" else "nears"
        self.add("ISSUER_SLOW", self.issuer,
                 "The issuer took %s to serve its documents, which %s the %s STS allows." % (_seconds(total), verb, _seconds(self.timeout)),
                 expected="below %s (%d %% of the %s timeout)" % (_seconds(warn_at), int(SLOW_WARNING_RATIO * 100), _seconds(self.timeout)),
                 actual=actual, severity=severity)


def check_token(issuer, token, now):
    """Findings about ``token`` alone (TOKEN_INVALID, TOKEN_ISSUER_MISMATCH, TOKEN_EXPIRED) and its summary (None if unparseable)."""
    findings = []
    subject = "token"
    try:
        summary = parse_token(token)
    except TokenError as error:
        findings.append(finding("TOKEN_INVALID", subject, "The token is not a JWT: %s." % error,
                                expected="a signed JWT (header.claims.signature)", actual=str(error)))
        return findings, None
    if summary["problems"]:
        findings.append(finding("TOKEN_INVALID", subject, "STS would reject the token: %s." % summary["problems"][0],
                                expected="a JWT signed with %s, with iss, sub, aud and integer exp" % "/".join(STS_ALGORITHMS),
                                actual=summary["problems"]))
    if summary["iss"] is not None and summary["iss"] != issuer:
        findings.append(finding("TOKEN_ISSUER_MISMATCH", subject,
                                "The token was issued by %r, not by the issuer %r." % (summary["iss"], issuer),
                                expected=issuer, actual=summary["iss"]))
    exp = summary.get("exp")
    if isinstance(exp, int) and exp <= now:
        findings.append(finding("TOKEN_EXPIRED", subject, "The token expired %d seconds ago." % (now - exp),
                                expected="exp after %d" % now, actual="exp %d, now %d" % (exp, now)))
    return findings, summary


def probe_issuer(issuer, fetch, token=None, expected_keys=None, timeout=5.0, now=None):
    """Probe ``issuer`` and return ``{"findings", "discovery", "jwks", "timings", "token_claims", "ok"}``.

    ``fetch(url, timeout)`` returns an :class:`anonymous_fetch.FetchResult`.
    ``expected_keys`` is a list of public JWK dicts (with ``kid`` when known).
    ``now`` is the current epoch time for token expiry (default ``time.time()``).
    ``token_claims`` (iss, aud, sub, kid, alg, exp, iat) never includes the token itself.
    """
    now = int(time.time() if now is None else now)
    probe = _Probe(issuer, timeout, fetch)
    discovery = jwks = None
    token_summary = None

    problems = issuer_problems(issuer)
    if problems:
        probe.add("ISSUER_URL_INVALID", issuer, "The issuer URL is not usable by AWS: %s." % problems[0],
                  expected="https://<host>[/<path>] without port, query, fragment or trailing slash", actual=problems)
    if token is not None:
        token_findings, token_summary = check_token(issuer, token, now)
        probe.findings.extend(token_findings)

    parts = urllib.parse.urlsplit(issuer if isinstance(issuer, str) else "")
    if parts.scheme in ("http", "https") and parts.hostname:
        netloc = parts.netloc.rsplit("@", 1)[-1]  # never send user info anywhere (ISSUER_URL_INVALID reports it)
        base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        discovery_url = base + DISCOVERY_PATH
        result = probe.get(discovery_url, "discovery")
        if probe.check_answer(result, "DISCOVERY", "discovery document"):
            discovery = probe.parse_json(result, "DISCOVERY", "discovery document")
        jwks_uri = probe.check_discovery(discovery_url, discovery) if discovery is not None else None
        if jwks_uri and probe.check_jwks_uri(jwks_uri):
            result = probe.get(jwks_uri, "jwks")
            if probe.check_answer(result, "JWKS", "JWKS"):
                jwks = probe.parse_json(result, "JWKS", "JWKS")
            if jwks is not None:
                needed = [jwk.get("kid") for jwk in expected_keys or [] if isinstance(jwk.get("kid"), str)]
                if token_summary and token_summary.get("kid"):
                    needed.append(token_summary["kid"])
                usable = probe.check_jwks(jwks_uri, jwks, needed)
                if usable:
                    published = probe.check_kids(jwks_uri, usable, token_summary, expected_keys)
                    _check_signature(probe, jwks_uri, token, token_summary, published, usable)
                jwks = public_jwks(jwks)
        probe.check_slow()

    findings = sort_findings(probe.findings)
    return {
        "findings": findings,
        "discovery": discovery,
        "jwks": jwks,
        "timings": [dict(result.timing(), document=document) for document, result in probe.results],
        "token_claims": _public_summary(token_summary),
        "ok": not has_errors(findings),
    }


def _public_summary(summary):
    """The token summary without internal fields."""
    if summary is None:
        return None
    return dict((name, summary[name]) for name in ("iss", "aud", "sub", "kid", "alg", "exp", "iat"))


def _check_signature(probe, url, token, summary, published, usable):  # pylint: disable=too-many-arguments
    """TOKEN_SIGNATURE_INVALID when no published key verifies the token."""
    if not summary or summary.get("alg") not in STS_ALGORITHMS:
        return
    kid = summary.get("kid")
    if kid and kid not in published:
        return  # JWKS_KID_MISSING already says it
    ok, reason = verify_signature(token, {"keys": [key for _index, key, _material in usable]})
    if not ok:
        probe.add("TOKEN_SIGNATURE_INVALID", url,
                  "No published key verifies the token's signature (kid %s)." % _kid_label(kid),
                  expected="a published key that verifies the token", actual=reason)


# ---------------------------------------------------------------- expected keys
_CURVES = {"P-256": "SECP256R1", "P-384": "SECP384R1", "P-521": "SECP521R1"}


def _public_key(material):
    """A cryptography public key object from :func:`key_material` output."""
    if rsa is None:
        raise KeyLoadError("the Python library 'cryptography' is required to read keys")
    if material[0] == "RSA":
        return rsa.RSAPublicNumbers(material[2], material[1]).public_key()
    curve = getattr(ec, _CURVES[material[1]])()
    return ec.EllipticCurvePublicNumbers(material[2], material[3], curve).public_key()


def _expected_jwk(jwk, label):
    """A public JWK dict with a kid from a user-supplied JWK dict; raise ValueError otherwise."""
    material = key_material(jwk)
    if material is None:
        raise ValueError("%s is not an RSA or EC public JWK (kty, n/e or crv/x/y missing or malformed)" % label)
    public = dict((name, value) for name, value in jwk.items() if name not in PRIVATE_MEMBERS)
    if not isinstance(public.get("kid"), str):
        try:
            public["kid"] = kid_for(_public_key(material))
        except (ValueError, TypeError) as error:
            raise ValueError("%s: the key cannot be loaded (%s)" % (label, error.__class__.__name__))
    return public


def normalize_expected_keys(items):
    """Turn the ``expected_keys`` option into a list of public JWK dicts, each with a kid.

    Each item is a JWKS dict (``{"keys": [...]}``), a JWK dict, a JSON string of
    either, or PEM text (public key, or private key whose public half is used)
    or a path to a PEM file. Raises ValueError (KeyLoadError for PEM) with a
    message that names the item but never its content.
    """
    result = []
    for index, item in enumerate(items or []):
        label = "expected_keys[%d]" % index
        if isinstance(item, (str, bytes)) and (item.lstrip()[:1] in ("{", b"{")):
            try:
                item = json.loads(item)
            except (ValueError, RecursionError):
                raise ValueError("%s looks like JSON but cannot be parsed" % label)
        if isinstance(item, dict):
            if "keys" in item:
                keys = item["keys"]
                if not isinstance(keys, list):
                    raise ValueError("%s is a JWKS whose keys is not a list" % label)
                for position, jwk in enumerate(keys):
                    if not isinstance(jwk, dict):
                        raise ValueError("%s.keys[%d] is not a JWK object" % (label, position))
                    result.append(_expected_jwk(jwk, "%s.keys[%d]" % (label, position)))
            else:
                result.append(_expected_jwk(item, label))
        elif isinstance(item, (str, bytes)):
            loaded = load_key_item(item, label)
            result.append(jwk_for(loaded.public_key))
        else:
            raise ValueError("%s must be a JWKS, a JWK or PEM text, not %s" % (label, type(item).__name__))
    return result
