"""remediate.yml before install, for every lab scenario where a pre-install remediation applies.

For each scenario: build the world and its install directory, run diagnose.yml on the install directory (the
scenario's ``expect.before_install`` root cause), run remediate.yml, run diagnose.yml again (healthy). Then the
install directory: the authentication manifest names the CloudFront issuer (exact text), the changed manifests
are backed up byte for byte under ``.openshift_sts-oidc-backup/<stamp>/manifests/``, and nothing else changed.
And the bucket: never public at any moment (the lab's request log and the bodies of every S3 call that could
expose it), never read anonymously with success on its S3 endpoints, and still private afterwards.

``broken-private-bucket`` (the reported case) also runs a second time: PLAY RECAP changed=0.

Scenarios the remediation does not apply to are listed in NOT_APPLICABLE with the reason.
"""

import re

import pytest

from lab.scenarios import load_scenario, scenario_names
from test_iam_policy import assert_calls_allowed
from remediate_harness import (
    AUTH_MANIFEST,
    BACKUP_DIR,
    DIAGNOSE,
    REMEDIATE,
    anonymous_bucket_reads,
    api_calls,
    authentication_manifest,
    bucket_policy,
    changed_tasks,
    describe,
    load_json,
    marked_distributions,
    oidc_providers,
    playbook_env,
    read_bytes,
    recap,
    remediate_vars,
    run_playbook,
    snapshot,
)

# scenario -> bucket the remediation serves the issuer from: "same" (ccoctl's issuer bucket, converted in place)
# or "new" (<cluster>-oidc-private, the vendor's "new private bucket").
APPLICABLE = {
    "broken-private-bucket": "same",
    "private-bucket-locked-later": "same",
    "cloudfront-global-origin": "same",
    "discovery-issuer-mismatch": "new",
    "no-oidc-provider": "same",  # ccoctl's public-read bucket made private in place
    "provider-url-trailing-slash": "new",
    "audience-missing": "new",
    "trust-policy-wrong-subject": "new",
    "trust-policy-old-provider": "new",
    "role-missing": "new",
}
NOT_APPLICABLE = {
    "rotated-key-missing-from-jwks": "no before_install expectation: the fault lives in a running cluster (it signs "
                                     "with a key the published JWKS lacks); before install the install dir's key is "
                                     "the one published",
    "healthy-public-s3": "healthy: nothing to fix",
    "healthy-cloudfront": "healthy: nothing to fix",
    "healthy-cloudfront-oai": "healthy: nothing to fix",
    "healthy-custom-host": "healthy: nothing to fix (self-hosted issuer, no AWS hosting to remediate)",
    "many-roles": "healthy: nothing to fix",
}
CLOUDFRONT_ISSUER = re.compile(r"^https://[a-z0-9]+\.cloudfront\.net$")


def test_every_scenario_is_classified():
    """A new scenario must be added to APPLICABLE or NOT_APPLICABLE (with a reason)."""
    names = set(scenario_names())
    assert names == set(APPLICABLE) | set(NOT_APPLICABLE), names ^ (set(APPLICABLE) | set(NOT_APPLICABLE))
    for name in APPLICABLE:
        before = (load_scenario(name).get("expect") or {}).get("before_install") or {}
        assert before.get("status") == "broken", "%s has no broken before_install expectation" % name


def diagnose(env, cwd, install_dir, report_root, log_name):
    """diagnose.yml on the install directory; returns (process, report.json)."""
    proc = run_playbook(DIAGNOSE, env, cwd, {"oidc_install_dir": str(install_dir), "oidc_report_root": str(report_root),
                                             "oidc_fail_on": "never"}, log_name=log_name)
    assert proc.returncode == 0, describe(proc)
    return proc, load_json(report_root / "localhost" / "report.json")


def assert_install_dir(install_dir, before, original, issuer):
    """The manifest names ``issuer`` (exact text); backups hold the original bytes; nothing else changed."""
    after = snapshot(install_dir)
    auth = (install_dir / AUTH_MANIFEST).read_text(encoding="utf-8")
    assert auth == authentication_manifest(issuer), auth
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    assert AUTH_MANIFEST in changed
    assert all(path.startswith("manifests/") for path in changed), changed
    backups = sorted((install_dir / BACKUP_DIR).glob("*/manifests"))
    assert backups, "no backup folder under %s" % (install_dir / BACKUP_DIR)
    assert all(re.match(r"^\d{8}T\d{6}Z$", path.parent.name) for path in backups), backups
    backed_up = {}
    for folder in backups:
        assert sorted(p.name for p in folder.parent.iterdir()) == ["manifests"], "only manifests/ in %s" % folder.parent
        for path in folder.iterdir():
            backed_up.setdefault("manifests/" + path.name, []).append(path.read_bytes())
    for path in changed:
        if path in original:
            assert path in backed_up, "%s changed but has no backup" % path
    for path, copies in backed_up.items():
        assert all(copy == original[path] for copy in copies), "backup of %s differs from the original bytes" % path
    # Files created by the remediation (a credentials secret with no manifest before) may exist only after.
    assert set(changed) - set(original) <= {path for path in after if path.startswith("manifests/")}
    return changed


def assert_never_public(lab, exposure, world, bucket, since):
    """No call after ``since`` made anything public, no anonymous direct read succeeded; the bucket is private now."""
    assert exposure.exposures(since) == []
    reads = anonymous_bucket_reads(lab, bucket, world.region, since)
    assert [entry for entry in reads if entry.get("status") == 200] == [], reads
    policy = bucket_policy(lab, bucket, world.region)
    assert policy is not None
    assert [s["Principal"] for s in policy["Statement"]] == [{"Service": "cloudfront.amazonaws.com"}], policy
    for key in ("keys.json", ".well-known/openid-configuration"):
        for url in ("https://%s.s3.%s.amazonaws.com/%s" % (bucket, world.region, key),
                    "https://s3.%s.amazonaws.com/%s/%s" % (world.region, bucket, key)):
            assert lab.internet.fetch(url, caller="anonymous").status == 403, url


@pytest.mark.parametrize("scenario", sorted(APPLICABLE))
def test_remediation_fixes(scenario, make_world, remediate_lab, exposure, tmp_path):
    """Diagnose (expected root cause) -> remediate -> diagnose (healthy), safely."""
    lab = remediate_lab
    world = make_world(scenario)
    install_dir = tmp_path / "install"
    world.write_install_dir(str(install_dir))
    env = playbook_env(lab, world.region)
    expected = world.expect["before_install"]

    _proc, report = diagnose(env, tmp_path, install_dir, tmp_path / "before", scenario + "-before")
    assert report["verdict"]["status"] == expected["status"]
    assert report["verdict"]["root_cause"] == expected["root_cause"]

    before, original = snapshot(install_dir), read_bytes(install_dir)
    providers_before = oidc_providers(lab)
    bucket = world.bucket if APPLICABLE[scenario] == "same" else "%s-oidc-private" % world.cluster_name
    start = lab.log.last_seq()
    variables = remediate_vars(world, install_dir, tmp_path / "reports", oidc_bucket_name=bucket)
    proc = run_playbook(REMEDIATE, env, tmp_path, variables, args=["--diff"], log_name=scenario + "-remediate")
    assert proc.returncode == 0, describe(proc)
    remediation_end = lab.log.last_seq()

    _proc, report = diagnose(env, tmp_path, install_dir, tmp_path / "after", scenario + "-after")
    assert report["verdict"]["status"] == "healthy", report["verdict"]
    assert report["verdict"]["root_cause"] is None
    issuer = report["issuer"]
    assert CLOUDFRONT_ISSUER.match(issuer or ""), issuer

    # The remediation's own verification (after-remediation report) agrees.
    verified = load_json(tmp_path / "reports" / "localhost" / "after-remediation" / "report.json")
    assert verified["verdict"]["status"] == "healthy"

    assert_install_dir(install_dir, before, original, issuer)
    assert_never_public(lab, exposure, world, bucket, start)

    # Exactly one distribution and one provider for the new issuer; no provider of another URL was touched.
    marked = marked_distributions(lab, bucket)
    assert len(marked) == 1 and "https://" + marked[0]["DomainName"] == issuer, marked
    providers = oidc_providers(lab)
    host = issuer[len("https://"):]
    assert len(providers.get(host, [])) == 1
    assert sorted(providers[host][0]["ClientIDList"]) == ["openshift", "sts.amazonaws.com"]
    for url, entries in providers_before.items():
        assert [p["ClientIDList"] for p in providers.get(url, [])] == [p["ClientIDList"] for p in entries], url

    # Every API call of the remediation is allowed by docs/iam-policy.json.
    assert_calls_allowed(api_calls(lab, start))
    assert remediation_end > start

    if scenario == "broken-private-bucket":
        after_first = snapshot(install_dir)
        second = run_playbook(REMEDIATE, env, tmp_path, variables, log_name=scenario + "-second-run")
        assert second.returncode == 0, describe(second)
        assert recap(second.stdout)["changed"] == 0, changed_tasks(second.stdout)
        assert snapshot(install_dir) == after_first
        assert len(marked_distributions(lab, bucket)) == 1
