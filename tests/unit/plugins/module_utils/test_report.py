"""Unit tests of the reports (plugins/module_utils/report.py and _report_html.py)."""

from __future__ import annotations

import html.parser
import json
import os
import stat

import jsonschema
import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import report as R
from ansible_collections.openshift_sts.oidc.plugins.module_utils import verdict as V
from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "report-schema.json")
ISSUER = "https://mycluster-oidc.s3.us-east-2.amazonaws.com"
DISCOVERY_URL = ISSUER + "/.well-known/openid-configuration"
ARN = "arn:aws:iam::123456789012:role/mycluster-openshift-machine-api-aws-cloud-credentials"
CLUSTER = {"name": "c1", "source": "install_dir", "install_dir": "/inst/c1"}
STAMP = "2025-01-02T03:04:05Z"

HOSTILE = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "</style><script>alert(2)</script>",
    "<svg onload=alert(3)>",
    "<a href=\"javascript:alert(4)\">x</a>",
    "`|pipe|` **bold** [link](http://evil.example/x) <!-- c -->",
    "line1\nline2\r\n# heading",
]
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL3gifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6example"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAexample\n-----END RSA PRIVATE KEY-----"
SECRETS = [TOKEN, SECRET_KEY, SESSION, "AKIAIOSFODNN7EXAMPLE", "MIIEowIBAAKCAQEAexample", "hunter2pass"]


@pytest.fixture(scope="module")
def validator():
    """A validator of docs/report-schema.json."""
    with open(SCHEMA_PATH) as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def denied(actual="HTTP 403 Forbidden; S3 error AccessDenied: Access Denied; server: AmazonS3", subject=DISCOVERY_URL, message=None):
    return finding("DISCOVERY_ACCESS_DENIED", subject, message or "An anonymous GET of the discovery document was denied (HTTP 403).",
                   expected="HTTP 200 for an anonymous GET", actual=actual)


def private():
    return finding("ISSUER_BUCKET_PRIVATE", "s3://mycluster-oidc/", "Anonymous reads are blocked (account BPA).",
                   expected="anonymous s3:GetObject allowed", actual="account BPA: RestrictPublicBuckets=true")


def sts(arn=ARN):
    return finding("STS_INVALID_IDENTITY_TOKEN", arn, "STS refused the token for %s." % arn, expected="AssumeRoleWithWebIdentity succeeds",
                   actual="InvalidIdentityToken: Couldn't retrieve verification key from your identity provider")


def sts_role(arn=ARN, ok=False, findings=None):
    return {"role_arn": arn, "ok": ok, "attempts": 1, "error_code": None if ok else "InvalidIdentityToken",
            "error_message": None if ok else "Couldn't retrieve verification key", "findings": findings or [],
            "claims": {"iss": ISSUER, "aud": ["openshift"], "sub": "system:serviceaccount:ns:sa", "kid": "k1", "alg": "RS256",
                       "exp": 4102444800, "iat": 1}}


PROBE_OK = {"discovery": {"issuer": ISSUER, "jwks_uri": ISSUER + "/keys.json", "response_types_supported": ["id_token"]},
            "jwks": {"keys": [{"kid": "k1", "kty": "RSA", "n": "AQAB", "e": "AQAB"}, {"kty": "RSA"}]},
            "timings": [{"document": "discovery", "url": DISCOVERY_URL, "status": 200, "elapsed": 0.1, "bytes": 300, "truncated": False,
                         "error_kind": None, "proxy": None},
                        {"document": "jwks", "url": ISSUER + "/keys.json", "status": 200, "elapsed": 0.2, "bytes": 700}],
            "token_claims": None, "findings": [], "ok": True}


def make_report(findings, roles=None, probe=None, cluster=None, checks=None, issuer=ISSUER, stamp=STAMP):
    result = V.compute_verdict(findings, roles, checks, probe, issuer, cluster or CLUSTER, None)
    return R.build_report(result, cluster or CLUSTER, issuer, probe, generated_at=stamp)


SCENARIOS = {
    "broken_with_aws": lambda: make_report([denied(), sts(), private()], [sts_role(), {"role_arn": ARN, "exists": True, "trust_ok": True}],
                                           {"discovery": None, "jwks": None, "timings": [{"document": "discovery", "url": DISCOVERY_URL,
                                                                                          "status": 403, "elapsed": 0.1}]}),
    "broken_without_aws": lambda: make_report([denied(), sts(), finding("AWS_CREDENTIALS_MISSING", ISSUER, "No credentials.")],
                                              [sts_role()]),
    "healthy": lambda: make_report([], [sts_role(ok=True)], PROBE_OK),
    "degraded": lambda: make_report([finding("ISSUER_SLOW", ISSUER, "Slow.", actual="discovery 4.5 s", severity="warning")], [], PROBE_OK),
    "unverified": lambda: make_report([], [], None, checks=["issuer", "discovery", "jwks"]),
    "other_link": lambda: make_report([finding("AWS_PERMISSION_MISSING", ARN, "Denied.", actual="AccessDenied")], [sts_role(ok=True)]),
    "live_no_cluster_info": lambda: make_report([private()], None, None, cluster={"name": 7, "source": "live", "extra": {"a": 1}},
                                                issuer=None),
    "weird_inputs": lambda: make_report([{"code": "x-y", "severity": "nope", "actual": {"a": [1, 2]}, "expected": 3}],
                                        [{"role_arn": ARN, "ok": True, "claims": {"exp": "soon", "aud": "openshift"}},
                                         {"role_arn": ARN, "exists": True, "trust_ok": "yes", "federated": "arn:x"}],
                                        {"jwks": {"keys": "nope"}, "timings": [{"document": "discovery", "status": "200", "elapsed": "1"}]}),
}


# ---------------------------------------------------------------- schema
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_report_json_validates_against_the_schema(name, validator):
    report = SCENARIOS[name]()
    document = json.loads(R.render_json(report))
    validator.validate(document)
    assert document["schema_version"] == "1.0" and document["generated_at"] == STAMP


def test_report_json_content(validator):
    document = json.loads(R.render_json(SCENARIOS["broken_with_aws"]()))
    assert document["verdict"]["status"] == "broken" and document["verdict"]["root_cause"] == "ISSUER_BUCKET_PRIVATE"
    assert "links" not in document["verdict"] and [link["name"] for link in document["links"]] == list(V.DISPLAY_LINKS)
    assert document["roles"][0]["trust"] == {"exists": True, "trust_ok": True}
    assert document["summary"][-2].startswith("VERDICT: broken")
    assert document["cluster"] == {"name": "c1", "source": "install_dir", "install_dir": "/inst/c1", "api_url": None}


def test_probe_keeps_only_public_data():
    report = SCENARIOS["healthy"]()
    assert report["probe"] == {
        "discovery": PROBE_OK["discovery"], "jwks_kids": ["k1", None], "jwks_key_count": 2,
        "timings": [dict(PROBE_OK["timings"][0]),
                    {"document": "jwks", "url": ISSUER + "/keys.json", "status": 200, "elapsed": 0.2, "bytes": 700, "truncated": None,
                     "error_kind": None, "proxy": None}]}
    assert "AQAB" not in R.render_json(report)


def test_schema_rejects_a_token_field_in_claims(validator):
    document = json.loads(R.render_json(SCENARIOS["healthy"]()))
    document["roles"][0]["claims"]["token"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)


# ---------------------------------------------------------------- HTML
class TagCollector(html.parser.HTMLParser):
    """Every start tag and its attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "div", "span", "b", "main", "section",
                "p", "pre", "code", "svg", "defs", "marker", "path", "line", "g", "rect", "text", "ul", "li", "table", "colgroup",
                "col", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "details", "summary", "footer"}


def hostile_report():
    text = " ".join(HOSTILE)
    findings = [denied(actual=text, subject=DISCOVERY_URL + "?" + HOSTILE[1], message=text), private(),
                {"code": "STS_ERROR", "severity": "error", "subject": HOSTILE[0], "message": text, "expected": HOSTILE,
                 "actual": {"k": text}, "remediation": text}]
    roles = [dict(sts_role(arn=HOSTILE[1]), error_message=text, claims={"sub": HOSTILE[0], "iss": text})]
    probe = {"discovery": {HOSTILE[0]: HOSTILE[1], "issuer": text}, "jwks": {"keys": [{"kid": HOSTILE[3]}]},
             "timings": [{"document": HOSTILE[0], "url": HOSTILE[1], "status": 403, "elapsed": 0.1}]}
    cluster = {"name": HOSTILE[2], "source": "live", "api_url": HOSTILE[4], "install_dir": HOSTILE[5]}
    result = V.compute_verdict(findings, roles, None, probe, HOSTILE[1], cluster, {"bucket_name": HOSTILE[0]})
    return R.build_report(result, cluster, HOSTILE[1], probe, generated_at=STAMP)


def test_html_escapes_hostile_text():
    page = R.render(hostile_report(), "html")
    collector = TagCollector()
    collector.feed(page)
    tags = set(tag for tag, _attrs in collector.tags)
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    for tag, attrs in collector.tags:
        for name, value in attrs.items():
            assert not name.startswith("on") and name not in ("src", "href", "srcset", "action", "formaction"), (tag, name)
            assert "javascript:" not in (value or "").lower() or tag == "title"
            if name != "xmlns":
                assert "http" not in (value or "") or tag == "meta" and attrs.get("name") == "generated-at", (tag, name, value)
    assert page.count("<script") == 0 and page.count("<img") == 0 and page.count("</style>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_html_is_self_contained():
    page = R.render(SCENARIOS["broken_with_aws"](), "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in page  # the Content-Security-Policy blocks scripts and remote loads
    for needle in ("<script", "<link", "<img", "<iframe", "@import", "src=", "href="):
        assert needle not in page
    assert "url(" not in page.replace("url(#arrow)", "")
    assert "<svg" in page and page.count("<rect") >= 8  # the chain, drawn
    assert "ROOT CAUSE" in page and "ISSUER_BUCKET_PRIVATE" in page
    assert '<meta name="generated-at" content="%s">' % STAMP in page


def test_html_chain_colours_follow_the_link_states():
    report = SCENARIOS["broken_without_aws"]()
    page = R.render(report, "html")
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert svg.count('stroke="#cf222e"') >= 2  # discovery and STS in red
    assert svg.count('stroke="#8c959f" stroke-width') >= 4  # jwks, hosting, IAM provider, roles in grey
    assert svg.count('stroke="#1a7f37"') == 2  # token and issuer in green


def test_html_lists_a_bounded_number_of_findings_per_code():
    arns = ["arn:aws:iam::123456789012:role/r%03d" % index for index in range(40)]
    report = make_report([denied()] + [sts(arn) for arn in arns], [sts_role(arn) for arn in arns])
    page = R.render(report, "html")
    assert page.count('<code>STS_INVALID_IDENTITY_TOKEN</code><div class="muted">') == R.MAX_PER_CODE
    assert "and 35 more <code>STS_INVALID_IDENTITY_TOKEN</code>" in page
    assert page.count(arns[-1]) >= 1  # still in the roles table
    markdown = R.render(report, "md")
    assert "35 more `STS_INVALID_IDENTITY_TOKEN` finding(s)" in markdown


# ---------------------------------------------------------------- Markdown
def test_markdown_layout():
    markdown = R.render(SCENARIOS["broken_with_aws"](), "md")
    lines = markdown.splitlines()
    assert lines[0] == "<!-- generated_at: %s -->" % STAMP
    assert lines[2] == "# OIDC trust chain diagnosis: c1"
    assert lines[4] == "**VERDICT: BROKEN** \u2014 root cause `ISSUER_BUCKET_PRIVATE`"
    assert lines[6].startswith("The issuer's S3 bucket blocks anonymous reads (ISSUER_BUCKET_PRIVATE)")
    assert lines[8].startswith("**Fix:** Before installing")
    assert "```sh" in lines and any(line.startswith("ansible-playbook openshift_sts.oidc.remediate -e oidc_install_dir=/inst/c1")
                                    for line in lines)
    chain = [line for line in lines if line.startswith("- [")]
    expected = ["- [OK]", "- [OK]", "- [FAIL]", "- [INFO]", "- [FAIL]", "- [OK]", "- [OK]", "- [FAIL]"]
    assert [line.split("]")[0] + "]" for line in chain] == expected
    assert "- [FAIL] **Issuer hosting (S3, CloudFront)** **(root cause)**: ISSUER_BUCKET_PRIVATE" in markdown
    assert "- **Expected:** `HTTP 200 for an anonymous GET`" in markdown
    assert "- **Actual:** `account BPA: RestrictPublicBuckets=true`" in markdown
    assert "- **Fix:** Serve the issuer through CloudFront" in markdown
    assert markdown.index("## Trust chain") < markdown.index("## Findings (3)") < markdown.index("## Roles (1: 0 ok, 1 failed, 0 not checked)")
    assert "| `%s` | FAIL | `InvalidIdentityToken` | `system:serviceaccount:ns:sa` | ok | `STS_INVALID_IDENTITY_TOKEN` |" % ARN in markdown


def test_markdown_escapes_hostile_text():
    markdown_it = pytest.importorskip("markdown_it")
    markdown = R.render(hostile_report(), "md")
    # Rendered by a CommonMark renderer that passes raw HTML through, as many viewers do: no hostile tag or link survives.
    rendered = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    collector = TagCollector()
    collector.feed(rendered)
    tags = set(tag for tag, _attrs in collector.tags)
    assert tags <= {"h1", "h2", "h3", "p", "strong", "code", "pre", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "em"}, tags
    assert "\\<script\\>" in markdown
    assert "\\[link\\](http://evil.example/x)" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| `")]
    assert rows and all(line.count(" | ") == 5 for line in rows if "FAIL" in line)  # escaped pipes keep the 6 columns
    assert "\nline2" not in markdown and "\n# heading" not in markdown


def test_markdown_code_spans_survive_backticks():
    assert R.md_code("a`b") == "``a`b``"
    assert R.md_code("`x`") == "`` `x` ``"
    assert R.md_code("a|b", table=True) == "`a\\|b`"
    assert R.md_code(None) == ""


# ---------------------------------------------------------------- files
def test_writes_every_format_with_safe_modes(tmp_path):
    target = tmp_path / "reports" / "c1"
    outcome = R.write_reports(str(target), SCENARIOS["broken_with_aws"]())
    assert outcome["changed"] is True and outcome["written"] == ["json", "md", "html"]
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o700
    for fmt, name in R.FILENAMES.items():
        path = target / name
        assert outcome["paths"][fmt] == str(path)
        assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert sorted(os.listdir(str(target))) == ["report.html", "report.json", "report.md"]


def test_same_diagnosis_later_changes_nothing(tmp_path):
    first = R.write_reports(str(tmp_path), SCENARIOS["broken_with_aws"]())
    before = dict((name, os.stat(str(tmp_path / name))) for name in R.FILENAMES.values())
    probe = {"discovery": None, "jwks": None, "timings": [{"document": "discovery", "url": DISCOVERY_URL, "status": 403, "elapsed": 0.1}]}
    later = make_report([denied(), sts(), private()], [sts_role(), {"role_arn": ARN, "exists": True, "trust_ok": True}], probe,
                        stamp="2030-01-01T00:00:00Z")
    second = R.write_reports(str(tmp_path), later)
    assert first["generated_at"] == second["generated_at"] == STAMP
    assert second["changed"] is False and second["written"] == []
    for name, info in before.items():
        after = os.stat(str(tmp_path / name))
        assert (after.st_ino, after.st_mtime_ns) == (info.st_ino, info.st_mtime_ns)


def test_changed_diagnosis_rewrites_with_a_new_timestamp(tmp_path):
    R.write_reports(str(tmp_path), SCENARIOS["broken_with_aws"]())
    outcome = R.write_reports(str(tmp_path), make_report([], [sts_role(ok=True)], PROBE_OK, stamp="2030-01-01T00:00:00Z"))
    assert outcome["changed"] is True and outcome["written"] == ["json", "md", "html"]
    assert json.loads((tmp_path / "report.json").read_text())["generated_at"] == "2030-01-01T00:00:00Z"
    assert "**VERDICT: HEALTHY**" in (tmp_path / "report.md").read_text()


def test_a_missing_file_is_rewritten_with_the_kept_timestamp(tmp_path):
    R.write_reports(str(tmp_path), SCENARIOS["healthy"]())
    (tmp_path / "report.html").unlink()
    outcome = R.write_reports(str(tmp_path), SCENARIOS["healthy"]().__class__(SCENARIOS["healthy"](), generated_at="2030-01-01T00:00:00Z"))
    assert outcome["written"] == ["html"] and outcome["changed"] is True
    assert '<meta name="generated-at" content="%s">' % STAMP in (tmp_path / "report.html").read_text()


def test_a_tampered_timestamp_is_not_trusted(tmp_path):
    R.write_reports(str(tmp_path), SCENARIOS["healthy"](), formats=["md"])
    path = tmp_path / "report.md"
    path.write_text(path.read_text().replace(STAMP, "<script>"))
    outcome = R.write_reports(str(tmp_path), SCENARIOS["healthy"](), formats=["md"])
    assert outcome["written"] == ["md"] and "<script>" not in path.read_text()


def test_only_the_requested_formats(tmp_path):
    outcome = R.write_reports(str(tmp_path), SCENARIOS["healthy"](), formats=["html", "json"])
    assert outcome["written"] == ["json", "html"] and sorted(os.listdir(str(tmp_path))) == ["report.html", "report.json"]


def test_check_mode_writes_nothing(tmp_path):
    target = tmp_path / "new"
    outcome = R.write_reports(str(target), SCENARIOS["healthy"](), check_mode=True)
    assert outcome["changed"] is True and outcome["written"] == ["json", "md", "html"]
    assert not target.exists()
    R.write_reports(str(target), SCENARIOS["healthy"]())
    assert R.write_reports(str(target), SCENARIOS["healthy"](), check_mode=True)["changed"] is False


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    R.write_reports(str(tmp_path), SCENARIOS["healthy"]())
    old = (tmp_path / "report.json").read_text()

    def broken_replace(source, target):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(R.os, "replace", broken_replace)
    with pytest.raises(OSError):
        R.write_reports(str(tmp_path), SCENARIOS["broken_with_aws"]())
    assert (tmp_path / "report.json").read_text() == old
    assert sorted(os.listdir(str(tmp_path))) == ["report.html", "report.json", "report.md"]


def test_report_dir_that_is_a_file_is_an_error(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(OSError):
        R.write_reports(str(target), SCENARIOS["healthy"]())


# ---------------------------------------------------------------- secrets
def test_no_secret_reaches_any_file(tmp_path):
    leak = "token=%s aws_secret_access_key=%s raw %s session %s id AKIAIOSFODNN7EXAMPLE %s https://u:hunter2pass@proxy" % (
        TOKEN, SECRET_KEY, SECRET_KEY, SESSION, PEM)
    findings = [denied(actual=leak), {"code": "STS_ERROR", "severity": "error", "subject": TOKEN, "message": leak, "expected": [leak],
                                      "actual": {"body": leak}, "remediation": leak}]
    roles = [dict(sts_role(), error_message=leak, claims={"sub": leak, "token": TOKEN})]
    probe = {"discovery": {"issuer": leak, TOKEN: SECRET_KEY}, "jwks": {"keys": [{"kid": TOKEN, "d": "Zm9vYmFyX3ByaXZhdGVfbWVtYmVy"}]},
             "timings": [{"document": "discovery", "url": "https://u:hunter2pass@x/" + TOKEN, "proxy": "http://u:hunter2pass@proxy"}]}
    cluster = {"name": leak, "source": "live", "api_url": "https://u:hunter2pass@api:6443", "install_dir": leak}
    result = V.compute_verdict(findings, roles, None, probe, ISSUER, cluster, {"extra_vars": {"oidc_note": leak}})
    report = R.build_report(result, cluster, ISSUER, probe)
    R.write_reports(str(tmp_path), report)
    for name in R.FILENAMES.values():
        content = (tmp_path / name).read_text()
        for secret in SECRETS + ["Zm9vYmFyX3ByaXZhdGVfbWVtYmVy"]:
            assert secret not in content, (name, secret)
        assert "<redacted" in content or "&lt;redacted" in content


def test_only_response_times_differ_changes_nothing(tmp_path):
    def probe(elapsed):
        return {"discovery": None, "jwks": None,
                "timings": [{"document": "discovery", "url": DISCOVERY_URL, "status": 403, "elapsed": elapsed}]}

    def report(elapsed, stamp):
        return make_report([denied(), sts(), private()], [sts_role(), {"role_arn": ARN, "exists": True, "trust_ok": True}],
                           probe(elapsed), stamp=stamp)

    first = R.write_reports(str(tmp_path), report(0.12, STAMP))
    again = R.write_reports(str(tmp_path), report(1.87, "2030-01-01T00:00:00Z"))
    assert first["changed"] is True and again["changed"] is False and again["generated_at"] == STAMP
    assert json.loads((tmp_path / "report.json").read_text())["probe"]["timings"][0]["elapsed"] == 0.12
    worse = R.write_reports(str(tmp_path), make_report([denied(), sts()], [sts_role()], probe(1.87), stamp="2030-01-01T00:00:00Z"))
    assert worse["changed"] is True
