"""Unit tests of the verdict rules (plugins/module_utils/verdict.py)."""

from __future__ import annotations

import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils import verdict as V
from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import finding

ISSUER = "https://mycluster-oidc.s3.us-east-2.amazonaws.com"
DISCOVERY_URL = ISSUER + "/.well-known/openid-configuration"
JWKS_URL = ISSUER + "/keys.json"
ARN = "arn:aws:iam::123456789012:role/mycluster-openshift-machine-api-aws-cloud-credentials"
ARN2 = "arn:aws:iam::123456789012:role/mycluster-openshift-image-registry-installer-cloud-credentia"


# ---------------------------------------------------------------- builders
def discovery_denied():
    return finding("DISCOVERY_ACCESS_DENIED", DISCOVERY_URL,
                   "An anonymous GET of the discovery document was denied (HTTP 403 Forbidden), as it will be for STS.",
                   expected="HTTP 200 for an anonymous GET",
                   actual="HTTP 403 Forbidden; S3 error AccessDenied: Access Denied; server: AmazonS3")


def bucket_private():
    return finding("ISSUER_BUCKET_PRIVATE", "s3://mycluster-oidc/",
                   "Anonymous reads of the issuer documents in bucket mycluster-oidc are blocked (account BPA), so STS cannot fetch the keys.",
                   expected="anonymous s3:GetObject allowed", actual="account BPA: RestrictPublicBuckets=true")


def sts_invalid(arn=ARN):
    return finding("STS_INVALID_IDENTITY_TOKEN", arn, "STS refused the token for %s: STS could not read the issuer's documents." % arn,
                   expected="AssumeRoleWithWebIdentity succeeds",
                   actual="InvalidIdentityToken: Couldn't retrieve verification key from your identity provider")


def sts_entry(arn=ARN, ok=False, code="InvalidIdentityToken", findings=None):
    return {"role_arn": arn, "ok": ok, "attempts": 1, "error_code": None if ok else code,
            "error_message": None if ok else "Couldn't retrieve verification key",
            "claims": {"iss": ISSUER, "aud": ["openshift"], "sub": "system:serviceaccount:ns:sa", "exp": 4102444800, "iat": 1},
            "findings": findings or []}


def aws_entry(arn=ARN, trust_ok=True):
    return {"role_arn": arn, "exists": True, "trust_ok": trust_ok, "federated": ["arn:aws:iam::123456789012:oidc-provider/x"],
            "subjects": [], "service_accounts": []}


def no_credentials():
    return finding("AWS_CREDENTIALS_MISSING", ISSUER, "No usable AWS credentials were found, so the AWS side was not inspected.",
                   expected="AWS credentials", actual=["the IAM OIDC provider"])


def simple(code, subject="subject", severity=None, **kwargs):
    return finding(code, subject, "%s happened." % code, expected=kwargs.get("expected", "x"), actual=kwargs.get("actual", "y"),
                   severity=severity)


CLUSTER = {"name": "c1", "source": "install_dir", "install_dir": "/inst/c1"}


def run(findings, roles=None, checks=None, probe=None, cluster=None, hints=None):
    return V.compute_verdict(findings, roles, checks, probe, ISSUER, cluster or CLUSTER, hints)


def links(result):
    return dict((entry["name"], entry) for entry in result["verdict"]["links"])


PROBE_403 = {"discovery": None, "jwks": None,
             "timings": [{"document": "discovery", "url": DISCOVERY_URL, "status": 403, "elapsed": 0.1}]}
PROBE_OK = {"discovery": {"issuer": ISSUER, "jwks_uri": JWKS_URL}, "jwks": {"keys": [{"kid": "k1", "kty": "RSA"}]},
            "timings": [{"document": "discovery", "url": DISCOVERY_URL, "status": 200, "elapsed": 0.1},
                        {"document": "jwks", "url": JWKS_URL, "status": 200, "elapsed": 0.1}]}


# ---------------------------------------------------------------- the reported case
def test_private_bucket_with_aws_inspection_is_issuer_bucket_private():
    roles = [sts_entry(ARN), aws_entry(ARN), sts_entry(ARN2), aws_entry(ARN2)]
    result = run([discovery_denied(), sts_invalid(ARN), sts_invalid(ARN2), bucket_private()], roles, probe=PROBE_403)
    verdict = result["verdict"]
    assert verdict["status"] == "broken"
    assert verdict["root_cause"] == "ISSUER_BUCKET_PRIVATE" and verdict["root_link"] == "hosting"
    assert verdict["root_subject"] == "s3://mycluster-oidc/"
    assert verdict["consequences"] == ["DISCOVERY_ACCESS_DENIED", "STS_INVALID_IDENTITY_TOKEN"]
    assert verdict["also_failing"] == []
    explanation = verdict["explanation"]
    assert "RestrictPublicBuckets=true" in explanation and DISCOVERY_URL in explanation and "HTTP 403" in explanation
    assert "2 of 2 roles" in explanation
    assert 2 <= explanation.count(". ") + 1 <= 4
    state = links(result)
    assert state["hosting"]["state"] == "fail" and state["hosting"]["root_cause"] is True
    assert state["discovery"]["consequence_of"] == "ISSUER_BUCKET_PRIVATE" and state["sts"]["consequence_of"] == "ISSUER_BUCKET_PRIVATE"
    assert state["jwks"]["state"] == "unknown" and "not reached" in state["jwks"]["summary"]
    assert state["iam_provider"]["state"] == "ok" and state["role_trust"]["state"] == "ok"
    assert state["sts"]["fix"] == "This follows from ISSUER_BUCKET_PRIVATE (Issuer hosting (S3, CloudFront)): fix that first, then check again."
    assert state["hosting"]["fix"] == bucket_private()["remediation"]
    fix = verdict["fix"]
    assert fix["command"] == ("ansible-playbook openshift_sts.oidc.remediate -e oidc_install_dir=/inst/c1 "
                              "-e oidc_bucket_name=mycluster-oidc -e oidc_aws_region=us-east-2")
    assert fix["mode"] == "install_dir" and fix["playbook"] == "openshift_sts.oidc.remediate"
    assert "CloudFront" in fix["text"]


def test_private_bucket_without_aws_inspection_is_discovery_access_denied():
    roles = [sts_entry(ARN)]
    result = run([discovery_denied(), sts_invalid(ARN), no_credentials()], roles, probe=PROBE_403)
    verdict = result["verdict"]
    assert verdict["status"] == "broken"
    assert verdict["root_cause"] == "DISCOVERY_ACCESS_DENIED"
    assert verdict["consequences"] == ["STS_INVALID_IDENTITY_TOKEN"]
    state = links(result)
    for name in ("hosting", "iam_provider", "role_trust"):
        assert state[name]["state"] == "unknown" and state[name]["inspected"] is False
        assert "no AWS credentials" in state[name]["summary"]
    assert "not inspected (no AWS credentials)" in verdict["explanation"]
    assert "other" not in state  # an info finding alone adds no line
    assert verdict["fix"]["variables"]["oidc_bucket_name"] == "mycluster-oidc"


def test_private_bucket_derived_without_checks_and_without_probe():
    result = run([sts_invalid(), discovery_denied(), bucket_private()])
    assert result["verdict"]["root_cause"] == "ISSUER_BUCKET_PRIVATE"
    assert links(result)["jwks"]["state"] == "unknown"


# ---------------------------------------------------------------- hosting precedence
@pytest.mark.parametrize("hosting, access, severity", [
    ("CLOUDFRONT_ORIGIN_ACCESS_MISSING", "JWKS_ACCESS_DENIED", "error"),
    ("CLOUDFRONT_DISABLED", "DISCOVERY_UNREACHABLE", "error"),
    ("CLOUDFRONT_ORIGIN_GLOBAL_ENDPOINT", "DISCOVERY_REDIRECT", "error"),
    ("CLOUDFRONT_OAI_WITH_KMS", "DISCOVERY_ACCESS_DENIED", "error"),
    ("ISSUER_BUCKET_NOT_FOUND", "DISCOVERY_NOT_FOUND", "error"),
    ("CLOUDFRONT_NOT_DEPLOYED", "DISCOVERY_UNREACHABLE", "warning"),
])
def test_hosting_finding_is_the_cause_of_an_access_failure(hosting, access, severity):
    result = run([simple(access, DISCOVERY_URL), sts_invalid(), simple(hosting, "arn:aws:cloudfront::1:distribution/E1")],
                 [sts_entry()])
    verdict = result["verdict"]
    assert verdict["status"] == "broken"
    assert verdict["root_cause"] == hosting
    assert access in verdict["consequences"] and "STS_INVALID_IDENTITY_TOKEN" in verdict["consequences"]
    assert links(result)["hosting"]["state"] == ("fail" if severity == "error" else "warn")


def test_hosting_warning_does_not_take_over_when_a_hosting_error_explains():
    result = run([simple("DISCOVERY_ACCESS_DENIED", DISCOVERY_URL), simple("CLOUDFRONT_NOT_DEPLOYED"),
                  simple("CLOUDFRONT_ORIGIN_ACCESS_MISSING")])
    assert result["verdict"]["root_cause"] == "CLOUDFRONT_ORIGIN_ACCESS_MISSING"
    assert result["verdict"]["also_failing"] == ["CLOUDFRONT_NOT_DEPLOYED"]


def test_hosting_error_ranks_before_iam_even_without_access_failure():
    result = run([simple("OIDC_PROVIDER_MISSING", ISSUER), simple("ISSUER_BUCKET_PRIVATE")])
    assert result["verdict"]["root_cause"] == "ISSUER_BUCKET_PRIVATE"
    assert result["verdict"]["also_failing"] == ["OIDC_PROVIDER_MISSING"]


def test_content_failure_of_discovery_is_not_explained_by_hosting_warning():
    result = run([simple("DISCOVERY_ISSUER_MISMATCH", DISCOVERY_URL), simple("CLOUDFRONT_NOT_DEPLOYED")])
    assert result["verdict"]["root_cause"] == "DISCOVERY_ISSUER_MISMATCH"


# ---------------------------------------------------------------- chain order
@pytest.mark.parametrize("upstream, downstream", [
    ("ISSUER_NOT_CONFIGURED", "ISSUER_URL_INVALID"),
    ("TOKEN_ISSUER_MISMATCH", "DISCOVERY_ACCESS_DENIED"),
    ("TOKEN_ISSUER_MISMATCH", "ISSUER_BUCKET_PRIVATE"),
    ("ISSUER_URL_INVALID", "ISSUER_BUCKET_PRIVATE"),
    ("ISSUER_URL_INVALID", "DISCOVERY_NOT_FOUND"),
    ("DISCOVERY_INVALID", "JWKS_KID_MISSING"),
    ("JWKS_KID_MISSING", "OIDC_PROVIDER_MISSING"),
    ("JWKS_KID_MISSING", "TOKEN_SIGNATURE_INVALID"),
    ("OIDC_PROVIDER_MISSING", "ROLE_TRUST_SUBJECT_MISMATCH"),
    ("OIDC_PROVIDER_AUDIENCE_MISSING", "ROLE_NOT_FOUND"),
    ("ROLE_TRUST_SUBJECT_MISMATCH", "STS_ERROR"),
    ("DISCOVERY_ACCESS_DENIED", "STS_ERROR"),
])
@pytest.mark.parametrize("reverse", [False, True])
def test_the_most_upstream_failing_link_is_the_root_cause(upstream, downstream, reverse):
    items = [simple(downstream, ARN), simple(upstream, ARN)]
    if reverse:
        items.reverse()
    assert run(items)["verdict"]["root_cause"] == upstream


def test_chain_and_root_orders():
    assert V.CHAIN == ("token", "issuer", "discovery", "jwks", "iam_provider", "role_trust", "sts")
    assert V.ROOT_ORDER.index("hosting") == V.ROOT_ORDER.index("discovery") - 1
    result = run([])
    assert [entry["name"] for entry in result["verdict"]["links"]] == list(V.DISPLAY_LINKS)
    assert links(result)["hosting"]["attached_to"] == ["discovery", "jwks"]


# ---------------------------------------------------------------- STS consequences
def test_sts_failure_alone_is_the_root_cause():
    result = run([sts_invalid()], [sts_entry()])
    assert result["verdict"]["root_cause"] == "STS_INVALID_IDENTITY_TOKEN"
    assert result["verdict"]["consequences"] == []
    assert result["verdict"]["fix"]["command"]


def test_sts_failure_after_a_slow_issuer_is_a_consequence_of_the_warning():
    slow = simple("ISSUER_SLOW", ISSUER, severity="warning", actual="discovery 4.5 s")
    sts = simple("STS_IDP_COMMUNICATION_ERROR", ARN)
    result = run([sts, slow], [sts_entry(code="IDPCommunicationError")])
    verdict = result["verdict"]
    assert verdict["status"] == "broken"  # an error remains an error
    assert verdict["root_cause"] == "ISSUER_SLOW"
    assert verdict["consequences"] == ["STS_IDP_COMMUNICATION_ERROR"]


def test_expired_token_warning_explains_sts_expired_token():
    result = run([simple("STS_EXPIRED_TOKEN", ARN), simple("TOKEN_EXPIRED", "token")])
    assert result["verdict"]["root_cause"] == "TOKEN_EXPIRED"


def test_unrelated_sts_error_is_not_explained_by_a_warning():
    result = run([simple("STS_ERROR", ARN), simple("ISSUER_SLOW", ISSUER, severity="warning")])
    assert result["verdict"]["root_cause"] == "STS_ERROR"
    assert result["verdict"]["also_failing"] == ["ISSUER_SLOW"]


def test_role_trust_explains_only_the_sts_failure_of_the_same_role():
    result = run([simple("STS_ACCESS_DENIED", ARN), simple("ROLE_TRUST_SUBJECT_MISMATCH", ARN2)])
    verdict = result["verdict"]
    assert verdict["root_cause"] == "ROLE_TRUST_SUBJECT_MISMATCH"
    assert verdict["consequences"] == [] and verdict["also_failing"] == ["STS_ACCESS_DENIED"]
    result = run([simple("STS_ACCESS_DENIED", ARN2), simple("ROLE_TRUST_SUBJECT_MISMATCH", ARN2)])
    assert result["verdict"]["consequences"] == ["STS_ACCESS_DENIED"]


def test_iam_provider_explains_sts_access_denied_of_any_role():
    result = run([simple("STS_ACCESS_DENIED", ARN), simple("OIDC_PROVIDER_AUDIENCE_MISSING", ISSUER)])
    assert result["verdict"]["consequences"] == ["STS_ACCESS_DENIED"]


# ---------------------------------------------------------------- status
def test_empty_findings_are_healthy():
    result = run([], checks=list(V.DISPLAY_LINKS))
    verdict = result["verdict"]
    assert verdict["status"] == "healthy" and verdict["root_cause"] is None and verdict["fix"] is None
    assert all(entry["state"] == "ok" for entry in verdict["links"])
    assert verdict["counts"] == {"roles": {"total": 0, "ok": 0, "failed": 0, "unknown": 0},
                                 "findings": {"error": 0, "warning": 0, "info": 0, "total": 0}}
    assert V.summary_lines(verdict)[-1] == "VERDICT: healthy \u2014 every inspected link of the trust chain works"


def test_empty_findings_of_a_full_diagnosis_are_healthy():
    result = run([], [sts_entry(ok=True), aws_entry()], probe=PROBE_OK)
    assert result["verdict"]["status"] == "healthy"
    assert all(entry["state"] == "ok" for entry in result["verdict"]["links"])


def test_empty_findings_without_any_trace_of_aws_or_sts_are_unverified():
    result = run([], probe=PROBE_OK)
    state = links(result)
    assert [name for name, entry in state.items() if entry["state"] == "unknown"] == ["hosting", "iam_provider", "role_trust", "sts"]
    assert state["iam_provider"]["summary"] == "not inspected: no AWS-side result"
    assert state["sts"]["summary"] == "not checked: no role was assumed"
    assert result["verdict"]["status"] == "degraded" and result["verdict"]["root_cause"] is None


def test_a_probe_that_did_not_run_is_ignored():
    probe = {"discovery": None, "jwks": None, "timings": None}
    assert V.probe_given(probe) is False
    result = run([], checks=list(V.DISPLAY_LINKS), probe=probe)
    assert links(result)["discovery"]["state"] == "ok" and result["verdict"]["status"] == "healthy"


def test_healthy_with_roles_names_them():
    result = run([], [sts_entry(ok=True), aws_entry()], probe=PROBE_OK)
    verdict = result["verdict"]
    assert verdict["status"] == "healthy"
    assert "1 role" in verdict["explanation"]
    state = links(result)
    assert state["sts"]["summary"] == "STS accepted the tokens of 1 of 1 role"
    assert state["jwks"]["summary"] == JWKS_URL + " answered HTTP 200 in 0.10 s, 1 key"
    assert verdict["counts"]["roles"] == {"total": 1, "ok": 1, "failed": 0, "unknown": 0}


@pytest.mark.parametrize("code, link", [("ISSUER_SLOW", "discovery"), ("JWKS_TOO_MANY_KEYS", "jwks"),
                                        ("AWS_PERMISSION_MISSING", "other"), ("CLOUDFRONT_NOT_DEPLOYED", "hosting")])
def test_warnings_only_are_degraded(code, link):
    result = run([simple(code, severity="warning")], [sts_entry(ok=True)])
    verdict = result["verdict"]
    assert verdict["status"] == "degraded" and verdict["root_cause"] == code
    assert links(result)[link]["state"] == "warn"


def test_info_only_with_sts_proof_is_healthy():
    result = run([no_credentials()], [sts_entry(ok=True)], probe=PROBE_OK)
    verdict = result["verdict"]
    assert verdict["status"] == "healthy"
    assert links(result)["iam_provider"]["state"] == "unknown"
    assert links(result)["iam_provider"]["summary"].endswith("STS accepted the tokens, so it works")


def test_info_only_without_sts_proof_is_degraded_unverified():
    result = run([no_credentials()], probe=PROBE_OK)
    verdict = result["verdict"]
    assert verdict["status"] == "degraded" and verdict["root_cause"] is None and verdict["fix"] is None
    assert "could not be verified end to end" in verdict["explanation"]
    assert "IAM OIDC identity provider" in verdict["explanation"]


def test_hosting_not_inspected_does_not_matter_when_discovery_and_jwks_work():
    info = finding("HOSTING_NOT_INSPECTED", ISSUER, "The issuer host is not an S3 endpoint.", actual="issuer.example.com")
    result = run([info], probe=PROBE_OK)
    assert result["verdict"]["status"] == "healthy"
    assert links(result)["hosting"]["state"] == "unknown"
    assert "issuer.example.com" in links(result)["hosting"]["summary"]


def test_any_error_is_broken_even_with_warnings():
    result = run([simple("ISSUER_SLOW", severity="warning"), simple("ROLE_NOT_FOUND", ARN)])
    assert result["verdict"]["status"] == "broken" and result["verdict"]["root_cause"] == "ROLE_NOT_FOUND"


# ---------------------------------------------------------------- unknown links
def test_checks_mark_the_other_links_unknown():
    result = run([], checks=["issuer", "discovery", "jwks"], probe=PROBE_OK)
    state = links(result)
    assert [name for name, entry in state.items() if entry["state"] == "unknown"] == [
        "token", "hosting", "iam_provider", "role_trust", "sts"]
    assert state["token"]["summary"] == "not part of this diagnosis"
    assert result["verdict"]["status"] == "degraded"
    assert V.summary_lines(result["verdict"])[0] == "[INFO] Cluster and service account token: not part of this diagnosis"


def test_a_finding_proves_its_link_was_inspected():
    result = run([simple("OIDC_PROVIDER_MISSING", ISSUER)], checks=["discovery"])
    assert links(result)["iam_provider"]["state"] == "fail"


def test_jwks_not_reached_after_a_discovery_failure():
    probe = {"discovery": None, "jwks": None, "timings": [{"document": "discovery", "url": DISCOVERY_URL, "status": 404}]}
    result = run([simple("DISCOVERY_NOT_FOUND", DISCOVERY_URL)], checks=list(V.DISPLAY_LINKS), probe=probe)
    assert links(result)["jwks"]["state"] == "unknown"
    assert links(result)["jwks"]["summary"] == "not reached: the discovery document could not be read"


def test_roles_not_assumed_leave_sts_unknown():
    result = run([], [aws_entry()], probe=PROBE_OK)
    assert links(result)["sts"]["state"] == "unknown"
    assert links(result)["role_trust"]["summary"] == "1 role trusts the issuer's provider"
    assert result["verdict"]["status"] == "healthy"  # every link that matters was inspected


def test_unreadable_roles_leave_role_trust_unknown():
    entry = dict(aws_entry(), exists=None, trust_ok=None)
    result = run([simple("AWS_PERMISSION_MISSING", ARN, severity="warning")], [entry])
    assert links(result)["role_trust"]["state"] == "unknown"
    assert links(result)["other"]["state"] == "warn"


# ---------------------------------------------------------------- findings and roles
def test_duplicates_from_two_modules_are_merged():
    first = finding("ISSUER_URL_INVALID", "http://x/", "The issuer URL is not usable by AWS: it is http.", actual=["http"],
                    expected="https://<host>")
    second = finding("ISSUER_URL_INVALID", "http://x/", "The issuer URL is not one AWS accepts as it is: it is http.", actual=["http"],
                     expected="https://<host>")
    result = run([first, second])
    assert [item["code"] for item in result["findings"]] == ["ISSUER_URL_INVALID"]


def test_roles_are_merged_by_arn_and_carry_their_findings():
    failing = sts_invalid(ARN)
    roles = [sts_entry(ARN, findings=[failing]), aws_entry(ARN), aws_entry(ARN2, trust_ok=False), sts_entry(ARN2, ok=True)]
    roles[0]["claims"]["token"] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    result = run([], roles)  # the STS finding only comes with the role entry
    assert [item["code"] for item in result["findings"]] == ["STS_INVALID_IDENTITY_TOKEN"]
    merged = result["roles"]
    assert [role["role_arn"] for role in merged] == [ARN, ARN2]
    assert merged[0]["ok"] is False and merged[0]["sts_ok"] is False and merged[0]["trust"]["trust_ok"] is True
    assert set(merged[0]["claims"]) == {"iss", "aud", "sub", "exp", "iat"}
    assert [item["code"] for item in merged[0]["findings"]] == ["STS_INVALID_IDENTITY_TOKEN"]
    assert merged[1]["ok"] is False and merged[1]["sts_ok"] is True  # the trust policy does not allow
    assert result["verdict"]["counts"]["roles"] == {"total": 2, "ok": 0, "failed": 2, "unknown": 0}


def test_unknown_code_and_link_are_normalized():
    result = run([{"code": "weird<b>code", "severity": "bogus", "link": "nowhere", "subject": None, "message": "m"}])
    item = result["findings"][0]
    assert item["code"] == "WEIRD_B_CODE" and item["severity"] == "error" and item["link"] == "other"
    assert result["verdict"]["root_cause"] == "WEIRD_B_CODE" and result["verdict"]["fix"]["command"] is None


def test_counts_by_severity():
    result = run([simple("ISSUER_SLOW", severity="warning"), simple("ROLE_NOT_FOUND", ARN), no_credentials()])
    assert result["verdict"]["counts"]["findings"] == {"error": 1, "warning": 1, "info": 1, "total": 3}


# ---------------------------------------------------------------- fix
def test_live_fix_needs_confirmation():
    result = run([bucket_private()], cluster={"name": "c1", "source": "live", "api_url": "https://api.c1:6443"})
    fix = result["verdict"]["fix"]
    assert fix["mode"] == "live"
    assert fix["command"] == ("ansible-playbook openshift_sts.oidc.remediate -e oidc_bucket_name=mycluster-oidc "
                              "-e oidc_aws_region=us-east-2 -e oidc_confirm=true")
    assert "without oidc_confirm" in fix["text"]


def test_fix_hints_are_used_and_quoted():
    hints = {"playbook_prefix": "ansible-playbook -i inv.yml openshift_sts.oidc.remediate", "bucket_name": "new bucket's",
             "region": "eu-west-1", "install_dir": "/inst dir", "extra_vars": {"oidc_tags": "team=sre", "oidc_dry": True}}
    result = run([discovery_denied()], cluster={"name": "c1"}, hints=hints)
    fix = result["verdict"]["fix"]
    assert fix["mode"] == "install_dir"
    assert fix["command"] == ("ansible-playbook -i inv.yml openshift_sts.oidc.remediate -e 'oidc_install_dir=/inst dir' "
                              "-e 'oidc_bucket_name=new bucket'\"'\"'s' -e oidc_aws_region=eu-west-1 -e oidc_dry=true -e oidc_tags=team=sre")
    assert fix["playbook"] == "openshift_sts.oidc.remediate"


def test_no_playbook_for_a_root_cause_it_does_not_fix():
    result = run([simple("TOKEN_EXPIRED", "token", severity="warning")])
    fix = result["verdict"]["fix"]
    assert fix["command"] is None and fix["text"].startswith("Use a fresh token")
    assert "FIX: Use a fresh token" in V.summary_lines(result["verdict"])[-1]


def test_placeholder_bucket_for_a_cloudfront_issuer():
    result = V.compute_verdict([simple("CLOUDFRONT_DISABLED", "arn:aws:cloudfront::1:distribution/E1")], None, None, None,
                               "https://d111.cloudfront.net", {"source": "live"}, None)
    assert result["verdict"]["fix"]["variables"]["oidc_bucket_name"] == "<bucket-name>"
    assert "-e 'oidc_bucket_name=<bucket-name>'" in result["verdict"]["fix"]["command"]


# ---------------------------------------------------------------- summary lines and secrets
def test_summary_lines():
    result = run([discovery_denied(), bucket_private(), sts_invalid()], [sts_entry(), aws_entry()], probe=PROBE_403)
    lines = V.summary_lines(result["verdict"])
    assert len(lines) == len(V.DISPLAY_LINKS) + 2
    assert lines[0] == "[OK] Cluster and service account token: tokens carry iss %s" % ISSUER
    assert lines[1] == "[OK] Issuer URL: %s" % ISSUER
    assert lines[2].startswith("[FAIL] Discovery document: DISCOVERY_ACCESS_DENIED (consequence of ISSUER_BUCKET_PRIVATE): ")
    assert lines[3] == "[INFO] JSON Web Key Set: not reached: the discovery document could not be read"
    assert lines[4].startswith("[FAIL] Issuer hosting (S3, CloudFront): ISSUER_BUCKET_PRIVATE: ")
    assert lines[-2] == ("VERDICT: broken \u2014 root cause ISSUER_BUCKET_PRIVATE: Anonymous reads of the issuer documents in "
                         "bucket mycluster-oidc are blocked (account BPA), so STS cannot fetch the keys")
    assert lines[-1].startswith("FIX: ansible-playbook openshift_sts.oidc.remediate -e oidc_install_dir=")


def test_secrets_in_findings_never_reach_the_verdict():
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    leaky = {"code": "DISCOVERY_ACCESS_DENIED", "severity": "error", "link": "discovery", "subject": DISCOVERY_URL,
             "message": "denied; aws_secret_access_key=%s" % secret, "expected": "200", "actual": "body: %s AKIAIOSFODNN7EXAMPLE" % token,
             "remediation": "x"}
    result = run([leaky])
    dumped = repr(result)
    assert secret not in dumped and token not in dumped and "AKIAIOSFODNN7EXAMPLE" not in dumped
    assert "<redacted" in result["verdict"]["explanation"]
