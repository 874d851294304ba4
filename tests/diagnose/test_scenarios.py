"""Every lab scenario diagnosed by playbooks/diagnose.yml gives the verdict its ``expect`` block names.

Modes (the keys of a scenario's ``expect``): ``live`` (the cluster twin, reached
with the K8S_AUTH_* variables AAP injects, and AWS credentials),
``live_without_aws`` (the same without any AWS credential), ``before_install``
(the install directory ``World.write_install_dir`` writes, no cluster) and
``before_install_without_aws`` (for the reported case; every scenario with DIAGNOSE_ALL_MODES=1). Every report.json is validated against
docs/report-schema.json, and the console summary must match it. The HTML
report of every live run is opened in headless Chromium and a screenshot is
kept in tests/output/screenshots/<scenario>.png.
"""

import os
import re

import pytest

from diagnose_harness import (
    LINK_STATE_TAGS,
    SCREENSHOT_DIR,
    console_summary,
    describe,
    load_report,
    run_playbook,
    screenshot,
    world_env,
)
from lab.scenarios import load_scenario, scenario_names

MODES = ("live", "live_without_aws", "before_install", "before_install_without_aws")
# before_install_without_aws repeats two paths the other modes cover (no AWS credentials; an install
# directory): it runs for the reported case only, unless DIAGNOSE_ALL_MODES=1 (keeps `make test` short).
ALL_MODES = os.environ.get("DIAGNOSE_ALL_MODES") == "1"
ALWAYS_ALL_MODES = ("broken-private-bucket",)


def _cases():
    cases = []
    for name in scenario_names():
        expect = load_scenario(name).get("expect") or {}
        if "live" not in expect:
            continue
        modes = [mode for mode in MODES if mode in expect]
        if not (ALL_MODES or name in ALWAYS_ALL_MODES):
            modes = [mode for mode in modes if mode != "before_install_without_aws"]
        cases.extend(pytest.param(name, mode, id="%s-%s" % (name, mode)) for mode in modes)
    return cases


def diagnose_world(make_world, diagnose_lab, tmp_path, scenario, mode, extra_vars=None, args=()):
    """Build ``scenario`` for ``mode``, run diagnose.yml, return ``(world, process, report dir)``."""
    before_install = mode.startswith("before_install")
    world = make_world(scenario, cluster=not before_install)
    env = world_env(diagnose_lab, world, tmp_path / "cluster", aws=not mode.endswith("without_aws"))
    variables = {"oidc_report_root": str(tmp_path / "reports"), "oidc_fail_on": "never"}
    if before_install:
        install_dir = tmp_path / "install"
        world.write_install_dir(str(install_dir))
        variables["oidc_install_dir"] = str(install_dir)
    variables.update(extra_vars or {})
    proc = run_playbook(env, tmp_path, variables, args, log_name="%s-%s" % (scenario, mode))
    return world, proc, tmp_path / "reports" / "localhost"


def assert_console_matches(proc, report):
    """One [OK]/[WARN]/[FAIL]/[INFO] line per link of the report, in order, then the verdict line."""
    links, verdicts = console_summary(proc.stdout)
    expected = [LINK_STATE_TAGS[link["state"]] for link in report["links"]]
    assert [tag for tag, _text in links] == expected, "console link lines %s, report links %s\n%s" % (
        links, expected, describe(proc))
    assert len(verdicts) == 1, describe(proc)
    status, rest = verdicts[0]
    assert status == report["verdict"]["status"]
    if report["verdict"]["root_cause"]:
        assert report["verdict"]["root_cause"] in rest


def check_private_bucket(world, report, mode, tmp_path):
    """The reported case: the explanation names the URL, the 403 and (with AWS) the blocking setting; the fix the playbook."""
    verdict = report["verdict"]
    explanation = verdict["explanation"]
    assert world.issuer + "/.well-known/openid-configuration" in explanation, explanation
    assert "403" in explanation, explanation
    if mode.endswith("without_aws"):
        return
    assert re.search(r"Block ?Public ?Access|\bBPA\b|BlockPublicPolicy|RestrictPublicBuckets", explanation), explanation
    fix = verdict["fix"]
    assert fix and fix["playbook"] == "openshift_sts.oidc.remediate", fix
    assert "openshift_sts.oidc.remediate" in fix["command"], fix
    assert fix["variables"].get("oidc_bucket_name") == world.bucket, fix
    if mode == "before_install":
        assert fix["mode"] == "install_dir" and fix["variables"].get("oidc_install_dir") == str(tmp_path / "install"), fix
    else:
        assert fix["mode"] == "live", fix


EXTRA_CHECKS = {"broken-private-bucket": check_private_bucket}


@pytest.mark.parametrize("scenario,mode", _cases())
def test_scenario_verdict(make_world, diagnose_lab, tmp_path, scenario, mode):
    """status and root_cause of report.json equal the scenario's expect.<mode>; the reports are complete."""
    world, proc, report_dir = diagnose_world(make_world, diagnose_lab, tmp_path, scenario, mode)
    assert proc.returncode == 0, describe(proc)
    report = load_report(report_dir)
    expected = world.expect[mode]
    verdict = report["verdict"]
    got = (verdict["status"], verdict["root_cause"])
    assert got == (expected["status"], expected["root_cause"]), "%s %s: got %s, expected %s / %s\n%s" % (
        scenario, mode, got, expected["status"], expected["root_cause"], verdict)
    assert report["issuer"] == world.issuer
    assert report["cluster"]["source"] == ("install_dir" if mode.startswith("before_install") else "live")
    for name in ("report.md", "report.html"):
        assert (report_dir / name).is_file(), name
    assert_console_matches(proc, report)
    if scenario in EXTRA_CHECKS:
        EXTRA_CHECKS[scenario](world, report, mode, tmp_path)
    if mode == "live":
        screenshot(report_dir / "report.html", SCREENSHOT_DIR / ("%s.png" % scenario), tmp_path / "chromium")
