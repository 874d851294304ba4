"""remediate.yml's safety properties (issue 7, section 5), on the reported case (broken-private-bucket).

* check mode (``--check --diff``) prints the plan and changes nothing (no write call in the lab's request log, the
  install directory byte for byte the same);
* interrupted (SIGKILL/SIGTERM of the whole ansible-playbook process group) at several points, and run again, it
  converges: healthy, exactly one distribution, one origin access control, one provider for the new issuer;
* in GovCloud it stops before any AWS call, with a clear message;
* a deployment slower than oidc_deploy_timeout fails clearly; running again with a longer timeout converges.
"""

import signal

from lab.control import LabControl
from remediate_harness import (
    AUTH_MANIFEST,
    BACKUP_DIR,
    DIAGNOSE,
    REMEDIATE,
    authentication_manifest,
    describe,
    load_json,
    marked_distributions,
    oidc_providers,
    origin_access_controls,
    playbook_env,
    read_bytes,
    recap,
    remediate_vars,
    run_and_kill,
    run_playbook,
    snapshot,
    write_calls,
)

SCENARIO = "broken-private-bucket"


def _setup(make_world, lab, tmp_path):
    world = make_world(SCENARIO)
    install_dir = tmp_path / "install"
    world.write_install_dir(str(install_dir))
    return world, install_dir, playbook_env(lab, world.region)


def _assert_converged(lab, world, env, install_dir, tmp_path, original):
    """Healthy by diagnose.yml; one distribution, OAC and provider; every backup holds the original bytes."""
    proc = run_playbook(DIAGNOSE, env, tmp_path, {"oidc_install_dir": str(install_dir), "oidc_fail_on": "never",
                                                  "oidc_report_root": str(tmp_path / "final")}, log_name="safety-final")
    assert proc.returncode == 0, describe(proc)
    report = load_json(tmp_path / "final" / "localhost" / "report.json")
    assert report["verdict"]["status"] == "healthy", report["verdict"]
    issuer = report["issuer"]
    marked = marked_distributions(lab, world.bucket)
    assert len(marked) == 1, marked
    assert "https://" + marked[0]["DomainName"] == issuer
    oacs = [oac for oac in origin_access_controls(lab) if oac["Name"] == "oidc-%s" % world.bucket]
    assert len(oacs) == 1, origin_access_controls(lab)
    providers = oidc_providers(lab)
    assert len(providers.get(issuer[len("https://"):], [])) == 1, providers
    assert len(providers) == 2, sorted(providers)  # ccoctl's (left alone) and the new issuer's
    assert (install_dir / AUTH_MANIFEST).read_text(encoding="utf-8") == authentication_manifest(issuer)
    for path in (install_dir / BACKUP_DIR).glob("*/manifests/*"):
        assert path.read_bytes() == original["manifests/" + path.name], path


def test_check_mode_changes_nothing_and_prints_the_plan(make_world, remediate_lab, tmp_path):
    """--check --diff: reads only, the install directory untouched, the plan printed."""
    lab = remediate_lab
    world, install_dir, env = _setup(make_world, lab, tmp_path)
    before = read_bytes(install_dir)
    start = lab.log.last_seq()
    proc = run_playbook(REMEDIATE, env, tmp_path, remediate_vars(world, install_dir, tmp_path / "reports"),
                        args=["--check", "--diff"], log_name="check-mode")
    assert proc.returncode == 0, describe(proc)
    assert write_calls(lab, start) == []
    assert read_bytes(install_dir) == before
    assert not (tmp_path / "reports").exists()
    out = proc.stdout
    assert "would bring to the desired state bucket %s in %s" % (world.bucket, world.region) in out
    assert '"name": "oidc-%s"' % world.bucket in out  # the origin access control
    assert '"domain_name": "%s.s3.%s.amazonaws.com"' % (world.bucket, world.region) in out  # the distribution's origin
    assert "would set the policy of bucket %s" % world.bucket in out
    assert "oidc-provider/new-distribution.cloudfront.net" in out  # the provider to create
    assert '"client_ids": [' in out and '"openshift"' in out
    assert out.count("trust policy of role lab-bpa-") >= 8 * 2  # before/after headers of every role
    assert "-  serviceAccountIssuer: https://%s.s3.%s.amazonaws.com" % (world.bucket, world.region) in out
    assert "+  serviceAccountIssuer: https://new-distribution.cloudfront.net" in out
    assert "would back up %s" % (install_dir / AUTH_MANIFEST) in out
    assert "Check mode: nothing was changed" in out
    assert recap(out)["failed"] == 0


def test_interrupted_runs_converge(make_world, remediate_lab, tmp_path):
    """Killed at five points in a row (one run each), then run to the end: converged, nothing duplicated."""
    lab = remediate_lab
    world, install_dir, env = _setup(make_world, lab, tmp_path)
    original = read_bytes(install_dir)
    variables = remediate_vars(world, install_dir, tmp_path / "reports")
    control = LabControl(lab.control_url)
    control.set_deploy_seconds(30)  # on the lab clock: InProgress until the clock is advanced

    points = [
        # (what has been done when the banner shows, trigger, signal)
        ("OAC created, no distribution yet", r"^TASK \[.*: Create the distribution in front", signal.SIGKILL),
        ("distribution created, no bucket policy yet", r"^TASK \[.*: Grant the distribution, and only it", signal.SIGKILL),
        ("waiting for Deployed", r"^FAILED - RETRYING: .*Wait until CloudFront has deployed", signal.SIGTERM),
        ("IAM provider created, roles not yet", r"^TASK \[.*: Point every operator role's trust policy", signal.SIGKILL),
        ("backup made, manifest not yet written", r"^TASK \[.*: Set the issuer in the authentication manifest",
         signal.SIGKILL),
    ]
    for index, (what, trigger, sig) in enumerate(points):
        if what == "IAM provider created, roles not yet":
            lab.clock.advance(60)  # the distribution is Deployed now
        run = run_and_kill(REMEDIATE, env, tmp_path, trigger, variables, sig=sig, log_name="interrupt-%d" % index)
        assert run.killed, "the run ended before %s:\n%s" % (what, run.stdout[-4000:])
        assert run.returncode != 0
        if what == "distribution created, no bucket policy yet":
            assert len(marked_distributions(lab, world.bucket)) == 1
        assert (install_dir / AUTH_MANIFEST).read_bytes() == original[AUTH_MANIFEST], what
    proc = run_playbook(REMEDIATE, env, tmp_path, variables, log_name="interrupt-final")
    assert proc.returncode == 0, describe(proc)
    _assert_converged(lab, world, env, install_dir, tmp_path, original)


def test_govcloud_stops_before_any_aws_call(make_world, remediate_lab, tmp_path):
    """us-gov-west-1: no CloudFront; the play stops with a clear message and no AWS call."""
    lab = remediate_lab
    world, install_dir, env = _setup(make_world, lab, tmp_path)
    before = read_bytes(install_dir)
    start = lab.log.last_seq()
    variables = remediate_vars(world, install_dir, tmp_path / "reports", oidc_aws_region="us-gov-west-1")
    proc = run_playbook(REMEDIATE, env, tmp_path, variables, log_name="govcloud")
    assert proc.returncode != 0
    assert "CloudFront is not available in AWS GovCloud (US)" in proc.stdout, describe(proc)
    assert "Nothing was changed" in proc.stdout
    assert lab.log.entries(since=start, kind="api") == []
    assert read_bytes(install_dir) == before


def test_slow_deployment_fails_clearly_then_converges(make_world, remediate_lab, tmp_path):
    """Deployed later than oidc_deploy_timeout: a clear failure, manifests untouched; a re-run converges."""
    lab = remediate_lab
    world, install_dir, env = _setup(make_world, lab, tmp_path)
    original = read_bytes(install_dir)
    before = snapshot(install_dir)
    LabControl(lab.control_url).set_deploy_seconds(25)  # the lab clock runs in real time here
    proc = run_playbook(REMEDIATE, env, tmp_path, remediate_vars(world, install_dir, tmp_path / "reports",
                                                                 oidc_deploy_timeout=2),
                        log_name="slow-deploy-timeout")
    assert proc.returncode != 0
    assert "is still InProgress after 2 s (oidc_deploy_timeout)" in proc.stdout, describe(proc)
    assert "run the playbook again" in proc.stdout
    assert snapshot(install_dir) == before
    assert len(marked_distributions(lab, world.bucket)) == 1

    # Still InProgress when the re-run starts (unless the machine is very slow): it waits, then goes on.
    proc = run_playbook(REMEDIATE, env, tmp_path, remediate_vars(world, install_dir, tmp_path / "reports",
                                                                 oidc_deploy_timeout=60),
                        log_name="slow-deploy-rerun")
    assert proc.returncode == 0, describe(proc)
    _assert_converged(lab, world, env, install_dir, tmp_path, original)
