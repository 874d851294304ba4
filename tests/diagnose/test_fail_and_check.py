"""oidc_fail_on, check mode and read-only behaviour of playbooks/diagnose.yml."""

import shutil

import pytest

from diagnose_harness import console_summary, describe, load_report, run_playbook, world_env

# The only requests a diagnosis may make: reads, token requests and the STS check itself.
AWS_READ_PREFIXES = ("Get", "List", "Describe", "Head")
AWS_ALLOWED = {"AssumeRoleWithWebIdentity"}


def run(diagnose_lab, world, tmp_path, name, extra_vars=None, args=(), install_dir=None):
    """Run diagnose.yml on ``world`` with reports in ``tmp_path/name``; returns (process, report dir)."""
    env = world_env(diagnose_lab, world, tmp_path / "cluster")
    variables = {"oidc_report_root": str(tmp_path / name)}
    if install_dir:
        variables["oidc_install_dir"] = str(install_dir)
    variables.update(extra_vars or {})
    proc = run_playbook(env, tmp_path, variables, args, log_name="%s-%s" % (world.name, name))
    return proc, tmp_path / name / "localhost"


def assert_read_only(diagnose_lab, world, since):
    """Since log sequence ``since``: AWS calls were reads (or STS's check), Kubernetes calls GETs or TokenRequests."""
    for record in diagnose_lab.log.entries(since=since, kind="api"):
        operation = record.get("operation") or ""
        assert operation.startswith(AWS_READ_PREFIXES) or operation in AWS_ALLOWED, record
    if world.cluster is not None:
        for request in world.cluster.requests:
            assert request.method == "GET" or (request.method == "POST" and request.path.endswith("/token")), request


@pytest.fixture
def degraded_install_dir(make_world, tmp_path):
    """A healthy world's install directory without its extracted CredentialsRequests: nothing to check, degraded."""
    world = make_world("healthy-public-s3", cluster=False)
    install_dir = tmp_path / "install"
    world.write_install_dir(str(install_dir))
    shutil.rmtree(install_dir / "credrequests")
    return world, install_dir


def test_fail_on_warning_and_error_on_degraded(diagnose_lab, degraded_install_dir, tmp_path):
    """warning fails a degraded verdict, error does not; the console shows a [WARN] line."""
    world, install_dir = degraded_install_dir
    proc, report_dir = run(diagnose_lab, world, tmp_path, "warning", {"oidc_fail_on": "warning"}, install_dir=install_dir)
    assert proc.returncode != 0, describe(proc)
    assert load_report(report_dir)["verdict"]["status"] == "degraded"
    links, verdicts = console_summary(proc.stdout)
    assert "WARN" in [tag for tag, _text in links] and verdicts[0][0] == "degraded", describe(proc)
    proc, report_dir = run(diagnose_lab, world, tmp_path, "error", {"oidc_fail_on": "error"}, install_dir=install_dir)
    assert proc.returncode == 0, describe(proc)
    assert load_report(report_dir)["verdict"]["status"] == "degraded"


def test_fail_on_bad_value(make_world, diagnose_lab, tmp_path):
    """An unknown policy is refused by the role's argument spec (never itself is used by every scenario test)."""
    world = make_world("healthy-public-s3", cluster=False)
    proc, _report_dir = run(diagnose_lab, world, tmp_path, "bad", {"oidc_fail_on": "sometimes"})
    assert proc.returncode != 0 and "oidc_fail_on" in proc.stdout, describe(proc)


def test_fail_on_error_and_check_mode(make_world, diagnose_lab, tmp_path):
    """Default oidc_fail_on (error) fails a broken chain after the reports; --check gives the same verdict; read-only.

    Both runs use the default policy: the play fails (rc != 0) after report.json is written, in check mode too.
    """
    world = make_world("broken-private-bucket")
    since = diagnose_lab.log.last_seq()
    normal, normal_dir = run(diagnose_lab, world, tmp_path, "normal")
    checked, checked_dir = run(diagnose_lab, world, tmp_path, "check", args=["--check"])
    for proc in (normal, checked):
        assert proc.returncode != 0, describe(proc)
        assert "Fail on the verdict" in proc.stdout and "ISSUER_BUCKET_PRIVATE" in proc.stdout, describe(proc)
        assert "failed=1" in proc.stdout, describe(proc)
    first, second = load_report(normal_dir), load_report(checked_dir)
    assert first["verdict"]["status"] == "broken"
    keys = ("status", "root_cause", "root_link", "root_subject", "consequences", "also_failing", "counts")
    assert {k: first["verdict"][k] for k in keys} == {k: second["verdict"][k] for k in keys}
    assert [(link["name"], link["state"]) for link in first["links"]] == [(link["name"], link["state"]) for link in second["links"]]
    assert [role.get("role_arn") for role in first["roles"]] == [role.get("role_arn") for role in second["roles"]]
    # Check mode must not skip a check: the STS pass ran (every role has a result) in both runs.
    assert second["verdict"]["counts"]["roles"]["unknown"] == 0, second["verdict"]["counts"]
    assert_read_only(diagnose_lab, world, since)
