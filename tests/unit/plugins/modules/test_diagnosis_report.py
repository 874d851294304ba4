"""Unit tests of the diagnosis_report module."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding
from ansible_collections.openshift_sts.oidc.plugins.modules import diagnosis_report
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.modules.module_runner import runner

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "report-schema.json")
ISSUER = "https://mycluster-oidc.s3.us-east-2.amazonaws.com"
DISCOVERY_URL = ISSUER + "/.well-known/openid-configuration"
ARN = "arn:aws:iam::123456789012:role/mycluster-openshift-machine-api-aws-cloud-credentials"
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL3gifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"


run_module = runner(diagnosis_report)


def broken_case(with_aws=True):
    """The reported case: an S3 issuer behind Block Public Access, as the three modules report it."""
    probe = {"ok": False, "token_claims": None, "discovery": None, "jwks": None,
             "findings": [finding("DISCOVERY_ACCESS_DENIED", DISCOVERY_URL,
                                  "An anonymous GET of the discovery document was denied (HTTP 403 Forbidden), as it will be for STS.",
                                  expected="HTTP 200 for an anonymous GET",
                                  actual="HTTP 403 Forbidden; S3 error AccessDenied: Access Denied; server: AmazonS3")],
             "timings": [{"document": "discovery", "url": DISCOVERY_URL, "status": 403, "elapsed": 0.12, "bytes": 243,
                          "truncated": False, "error_kind": None, "proxy": None}]}
    sts_finding = finding("STS_INVALID_IDENTITY_TOKEN", ARN, "STS refused the token for %s: STS could not read the documents." % ARN,
                          expected="AssumeRoleWithWebIdentity succeeds",
                          actual="InvalidIdentityToken: Couldn't retrieve verification key from your identity provider")
    sts_roles = [{"role_arn": ARN, "ok": False, "attempts": 1, "error_code": "InvalidIdentityToken",
                  "error_message": "Couldn't retrieve verification key from your identity provider", "findings": [sts_finding],
                  "claims": {"iss": ISSUER, "aud": ["openshift"], "sub": "system:serviceaccount:openshift-machine-api:mapi",
                             "kid": "k1", "alg": "RS256", "exp": 4102444800, "iat": 1},
                  "assumed_role_arn": None, "provider": None, "audience": None, "subject_from_token": None}]
    if with_aws:
        aws = {"findings": [finding("ISSUER_BUCKET_PRIVATE", "s3://mycluster-oidc/", "Anonymous reads are blocked (account BPA).",
                                    expected="anonymous s3:GetObject allowed", actual="account BPA: RestrictPublicBuckets=true")],
               "roles": [{"role_arn": ARN, "exists": True, "trust_ok": True, "federated": [], "subjects": [], "service_accounts": []}]}
    else:
        aws = {"findings": [finding("AWS_CREDENTIALS_MISSING", ISSUER, "No usable AWS credentials were found.")],
               "roles": [{"role_arn": ARN, "exists": None, "trust_ok": None, "federated": [], "subjects": [], "service_accounts": []}]}
    return dict(findings=probe["findings"] + aws["findings"] + [sts_finding], roles=sts_roles + aws["roles"], probe=probe,
                issuer=ISSUER, cluster={"name": "c1", "source": "install_dir", "install_dir": "/inst/c1"})


@pytest.mark.parametrize("with_aws, root", [(True, "ISSUER_BUCKET_PRIVATE"), (False, "DISCOVERY_ACCESS_DENIED")])
def test_reported_case_writes_reports_and_returns_the_verdict(capsys, tmp_path, with_aws, root):
    report_dir = str(tmp_path / "oidc-report" / "c1")
    failed, result, _out = run_module(capsys, report_dir=report_dir, **broken_case(with_aws))
    assert not failed, result
    assert result["changed"] is True and result["written"] == ["json", "md", "html"]
    verdict = result["verdict"]
    assert verdict["status"] == "broken" and verdict["root_cause"] == root
    assert [link["name"] for link in verdict["links"]][:3] == ["token", "issuer", "discovery"]
    assert result["summary_lines"][-2].startswith("VERDICT: broken \u2014 root cause %s: " % root)
    assert result["summary_lines"][-1] == ("FIX: ansible-playbook openshift_sts.oidc.remediate -e oidc_install_dir=/inst/c1 "
                                           "-e oidc_bucket_name=mycluster-oidc -e oidc_aws_region=us-east-2")
    assert result["reports"] == dict((fmt, os.path.join(report_dir, "report." + fmt)) for fmt in ("json", "md", "html"))
    assert result["stats"] == {
        "status": "broken", "root_cause": root, "cluster": "c1", "issuer": ISSUER, "report": os.path.join(report_dir, "report.json"),
        "fix": verdict["fix"]["command"],
        "counts": {"roles_total": 1, "roles_ok": 0, "roles_failed": 1, "errors": 3 if with_aws else 2, "warnings": 0,
                   "infos": 0 if with_aws else 1}}
    with open(SCHEMA_PATH) as handle:
        schema = json.load(handle)
    with open(result["reports"]["json"]) as handle:
        document = json.load(handle)
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["verdict"]["root_cause"] == root and document["generated_at"] == result["generated_at"]
    assert oct(os.stat(report_dir).st_mode & 0o777) == "0o700"


def test_second_run_changes_nothing(capsys, tmp_path):
    args = dict(report_dir=str(tmp_path), **broken_case())
    _failed, first, _out = run_module(capsys, **args)
    failed, second, _out = run_module(capsys, **args)
    assert not failed and second["changed"] is False and second["written"] == []
    assert second["generated_at"] == first["generated_at"]
    assert second["verdict"] == first["verdict"]


def test_check_mode_returns_the_verdict_and_writes_nothing(capsys, tmp_path):
    report_dir = tmp_path / "reports"
    failed, result, _out = run_module(capsys, check_mode=True, report_dir=str(report_dir), **broken_case())
    assert not failed
    assert result["changed"] is True and result["verdict"]["root_cause"] == "ISSUER_BUCKET_PRIVATE"
    assert not report_dir.exists()


def test_healthy_and_formats(capsys, tmp_path):
    failed, result, _out = run_module(capsys, report_dir=str(tmp_path), findings=[], formats=["md"], cluster={"name": "c2"},
                                      roles=[{"role_arn": ARN, "ok": True, "attempts": 1, "error_code": None, "findings": []}])
    assert not failed
    assert result["verdict"]["status"] == "healthy" and result["stats"]["root_cause"] is None and result["stats"]["fix"] is None
    assert result["summary_lines"][-1] == "VERDICT: healthy \u2014 every inspected link of the trust chain works"
    assert sorted(os.listdir(str(tmp_path))) == ["report.md"]
    assert result["stats"]["report"] == os.path.join(str(tmp_path), "report.md")


def test_checks_and_live_fix(capsys, tmp_path):
    case = broken_case()
    case["cluster"] = {"name": "c1", "source": "live", "api_url": "https://api.c1.example.com:6443"}
    failed, result, _out = run_module(capsys, report_dir=str(tmp_path), checks=["issuer", "discovery", "hosting", "sts"],
                                      remediation_hints={"bucket_name": "c1-oidc-private"}, **case)
    assert not failed
    assert result["verdict"]["fix"]["command"] == ("ansible-playbook openshift_sts.oidc.remediate -e oidc_bucket_name=c1-oidc-private "
                                                   "-e oidc_aws_region=us-east-2 -e oidc_confirm=true")
    states = dict((link["name"], link["state"]) for link in result["verdict"]["links"])
    assert states["token"] == "unknown" and states["iam_provider"] == "unknown" and states["role_trust"] == "unknown"


def test_bad_checks_fail(capsys, tmp_path):
    failed, result, _out = run_module(capsys, report_dir=str(tmp_path), findings=[], checks=["issuer", "dns"])
    assert failed and "unknown link(s) dns" in result["msg"]


def test_unwritable_report_dir_fails_cleanly(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    failed, result, _out = run_module(capsys, report_dir=str(blocker / "sub"), findings=[])
    assert failed and result["msg"].startswith("cannot write the reports in ")


def test_secrets_never_in_output_or_files(capsys, tmp_path):
    case = broken_case()
    case["findings"][0]["actual"] = "body: " + TOKEN + " aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    case["roles"][0]["claims"]["token"] = TOKEN
    failed, result, out = run_module(capsys, report_dir=str(tmp_path), **case)
    assert not failed
    for name in os.listdir(str(tmp_path)):
        content = (tmp_path / name).read_text()
        assert TOKEN not in content and "wJalrXUtnFEMI" not in content
    assert "invocation" not in result
    assert TOKEN not in out and TOKEN.split(".")[2] not in out and "wJalrXUtnFEMI" not in out
