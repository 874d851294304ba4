"""Unit tests of the finding catalogue, the builder, sorting and redaction, and of docs/findings.md."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import string

import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import findings as FD

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))

# The codes issue 5 requires, with exactly these names.
ISSUE_CODES = """
ISSUER_NOT_CONFIGURED TOKEN_ISSUER_MISMATCH TOKEN_INVALID
ISSUER_URL_INVALID
DISCOVERY_UNREACHABLE DISCOVERY_ACCESS_DENIED DISCOVERY_NOT_FOUND DISCOVERY_REDIRECT DISCOVERY_INVALID
DISCOVERY_ISSUER_MISMATCH ISSUER_SLOW
JWKS_URI_INVALID JWKS_UNREACHABLE JWKS_ACCESS_DENIED JWKS_NOT_FOUND JWKS_REDIRECT JWKS_INVALID JWKS_TOO_MANY_KEYS
JWKS_KID_MISSING JWKS_KEY_MISMATCH
ISSUER_BUCKET_PRIVATE CLOUDFRONT_NOT_DEPLOYED CLOUDFRONT_DISABLED CLOUDFRONT_ORIGIN_GLOBAL_ENDPOINT
CLOUDFRONT_ORIGIN_ACCESS_MISSING CLOUDFRONT_OAI_WITH_KMS
OIDC_PROVIDER_MISSING OIDC_PROVIDER_AUDIENCE_MISSING ROLE_NOT_FOUND ROLE_TRUST_PROVIDER_MISMATCH ROLE_TRUST_SUBJECT_MISMATCH
STS_INVALID_IDENTITY_TOKEN STS_ACCESS_DENIED STS_EXPIRED_TOKEN STS_IDP_COMMUNICATION_ERROR STS_IDP_REJECTED_CLAIM STS_ERROR
AWS_CREDENTIALS_MISSING
""".split()

JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJpc3MiOiJodHRwczovL2V4YW1wbGUuY29tIiwic3ViIjoic3lzdGVtOnNhIn0."
       "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl")
PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
       "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----")
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDcZ5"


def test_catalogue_has_every_issue_code():
    missing = [code for code in ISSUE_CODES if code not in FD.CATALOGUE]
    assert not missing


@pytest.mark.parametrize("code", sorted(FD.CATALOGUE))
def test_catalogue_entries_are_complete(code):
    entry = FD.CATALOGUE[code]
    assert re.match(r"^[A-Z][A-Z0-9_]+$", code)
    assert entry["severity"] in FD.SEVERITIES
    assert entry["link"] in FD.LINKS
    for field in ("title", "cause", "expected", "actual", "remediation"):
        assert isinstance(entry[field], str) and len(entry[field]) > 5, field


def test_catalogue_groups_follow_the_chain():
    links = dict((code, entry["link"]) for code, entry in FD.CATALOGUE.items())
    assert links["TOKEN_INVALID"] == "token" and links["ISSUER_NOT_CONFIGURED"] == "token"
    assert links["ISSUER_URL_INVALID"] == "issuer"
    assert all(links[code] == "discovery" for code in ISSUE_CODES if code.startswith("DISCOVERY_"))
    assert links["ISSUER_SLOW"] == "discovery"
    assert all(links[code] == "jwks" for code in ISSUE_CODES if code.startswith("JWKS_"))
    assert all(links[code] == "hosting" for code in ISSUE_CODES if code.startswith("CLOUDFRONT_"))
    assert links["ISSUER_BUCKET_PRIVATE"] == "hosting"
    assert links["OIDC_PROVIDER_MISSING"] == "iam_provider" and links["ROLE_TRUST_SUBJECT_MISMATCH"] == "role_trust"
    assert all(links[code] == "sts" for code in ISSUE_CODES if code.startswith("STS_"))
    assert FD.CATALOGUE["AWS_CREDENTIALS_MISSING"]["severity"] == "info"
    assert FD.LINKS.index("token") < FD.LINKS.index("issuer") < FD.LINKS.index("discovery") < FD.LINKS.index("jwks") \
        < FD.LINKS.index("iam_provider") < FD.LINKS.index("role_trust") < FD.LINKS.index("sts")


def test_finding_builder_defaults_and_overrides():
    item = FD.finding("DISCOVERY_ACCESS_DENIED", "https://x/.well-known/openid-configuration", "Denied.",
                      expected="HTTP 200", actual="HTTP 403")
    assert set(item) == {"code", "severity", "link", "subject", "message", "expected", "actual", "remediation"}
    assert item["severity"] == "error" and item["link"] == "discovery"
    assert item["remediation"] == FD.CATALOGUE["DISCOVERY_ACCESS_DENIED"]["remediation"]
    item = FD.finding("JWKS_URI_INVALID", "u", "m", severity="warning", remediation="do this")
    assert item["severity"] == "warning" and item["remediation"] == "do this"
    assert item["expected"] is None and item["actual"] is None
    json.dumps(item)


def test_finding_builder_rejects_unknown_code_and_severity():
    with pytest.raises(KeyError):
        FD.finding("NO_SUCH_CODE", "s", "m")
    with pytest.raises(ValueError):
        FD.finding("TOKEN_INVALID", "s", "m", severity="fatal")


def test_finding_builder_redacts_every_field():
    item = FD.finding("TOKEN_INVALID", "token " + JWT, "bad token " + JWT, expected=[JWT, {"k": PEM}],
                      actual={"detail": "key " + SECRET_KEY}, remediation="not " + SESSION_TOKEN)
    text = json.dumps(item)
    for secret in (JWT, JWT.split(".")[2], "MIIEowIBAAKCAQEA", SECRET_KEY, SESSION_TOKEN):
        assert secret not in text


@pytest.mark.parametrize("text,secret", [
    ("token is %s here" % JWT, JWT),
    ("signature %s" % JWT, JWT.split(".")[2]),
    ("a JWE eyJhbGciOiJSU0EtT0FFUCJ9.AAAA.BBBB.CCCC.DDDD end", "AAAA.BBBB"),
    ("key:\n%s\ntrailing" % PEM, "MIIEowIBAAKCAQEA"),
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n(truncated", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
    ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----", "MHcCAQEEIBkg"),
    ("creds AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("secret %s." % SECRET_KEY, SECRET_KEY),
    ("aws_secret_access_key = abcdef", "abcdef"),
    ('{"SecretAccessKey": "zzzsecretzzz"}', "zzzsecretzzz"),
    ("SessionToken=%s" % SESSION_TOKEN, SESSION_TOKEN),
    ("bare %s" % SESSION_TOKEN, SESSION_TOKEN),
    ("Authorization: Bearer abc.def", "abc.def"),
    ("X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLE", "FQoGZXIvYXdzEXAMPLE"),
    ("proxy http://user:hunter2@proxy:3128", "hunter2"),
    ("password=hunter2&x=1", "hunter2"),
    ("token=abcdefghijklmnop", "abcdefghijklmnop"),
    ('{"token": "opaque-bearer-value-123"}', "opaque-bearer-value-123"),
    ("client_secret: s3cr3t", "s3cr3t"),
])
def test_redact_removes_secrets(text, secret):
    assert secret not in FD.redact(text)


@pytest.mark.parametrize("text", [
    "https://mycluster-oidc.s3.us-east-1.amazonaws.com/.well-known/openid-configuration",
    "https://d111111abcdef8.cloudfront.net/keys.json",
    "kid 3z5aW0xYWI4ZjdkMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY",
    "thumbprint 9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
    "arn:aws:iam::123456789012:oidc-provider/mycluster-oidc.s3.us-east-1.amazonaws.com",
    "system:serviceaccount:openshift-image-registry:registry",
    "HTTP 403 Forbidden; S3 error AccessDenied: Access Denied",
    "the token's kid is not published",
    "STS would reject the token: the token is unsigned (alg none)",
    "The token is not a JWT: the token has 2 part(s) separated by dots",
    "secret: none given",
])
def test_redact_keeps_ordinary_evidence(text):
    assert FD.redact(text) == text


def test_redact_never_touches_kids_and_thumbprints():
    """Random kids (43 base64url characters) and SHA-1/SHA-256 hex thumbprints survive redaction."""
    rng = random.Random(5)
    alphabet = string.ascii_letters + string.digits + "-_"
    for _index in range(3000):
        kid = "".join(rng.choice(alphabet) for _char in range(43))
        text = "kid %s is not published; published: [%s]" % (kid, kid)
        assert FD.redact(text) == text
        hexprint = "%040x" % rng.getrandbits(160)
        assert FD.redact(hexprint) == hexprint and FD.redact(hexprint.upper()) == hexprint.upper()


def test_redact_structures_and_other_types():
    assert FD.redact({"a": [JWT, 3, None, True]}) == {"a": ["<redacted token>", 3, None, True]}
    assert FD.redact(b"x " + JWT.encode()) == "x <redacted token>"
    assert FD.redact(None) is None and FD.redact(4.5) == 4.5


def test_worst_severity_and_has_errors():
    assert FD.worst_severity([]) is None
    info = FD.finding("AWS_CREDENTIALS_MISSING", "aws", "m")
    warn = FD.finding("ISSUER_SLOW", "i", "m")
    err = FD.finding("TOKEN_INVALID", "t", "m")
    assert FD.worst_severity([info]) == "info"
    assert FD.worst_severity([info, warn]) == "warning"
    assert FD.worst_severity([warn, err, info]) == "error"
    assert not FD.has_errors([info, warn]) and FD.has_errors([err])


def test_sort_findings_chain_then_severity_stable():
    items = [
        FD.finding("STS_ERROR", "r", "1"),
        FD.finding("ISSUER_SLOW", "i", "2"),
        FD.finding("JWKS_INVALID", "j", "3", severity="warning"),
        FD.finding("ISSUER_BUCKET_PRIVATE", "b", "4"),
        FD.finding("JWKS_INVALID", "j", "5"),
        FD.finding("DISCOVERY_ACCESS_DENIED", "d", "6"),
        FD.finding("TOKEN_INVALID", "t", "7"),
        FD.finding("JWKS_KID_MISSING", "j", "8"),
        FD.finding("AWS_CREDENTIALS_MISSING", "a", "9"),
        FD.finding("OIDC_PROVIDER_MISSING", "p", "10"),
    ]
    order = [item["message"] for item in FD.sort_findings(items)]
    assert order == ["7", "6", "2", "5", "8", "3", "4", "10", "1", "9"]
    assert [item["message"] for item in items][0] == "1"  # input untouched


def _load_doc_script():
    path = os.path.join(ROOT, "scripts", "findings_doc.py")
    spec = importlib.util.spec_from_file_location("findings_doc", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_list_every_code_and_are_up_to_date():
    with open(os.path.join(ROOT, "docs", "findings.md"), encoding="utf-8") as handle:
        doc = handle.read()
    for code in FD.CATALOGUE:
        assert "\n### %s\n" % code in doc, code
    script = _load_doc_script()
    assert doc == script.render(FD), "docs/findings.md is stale: run python scripts/findings_doc.py"
