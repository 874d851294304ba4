"""The one-step diagnosis: the checks after the cluster side run at the same time, and their results go together."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.openshift_sts.oidc.plugins.module_utils.diagnosis import (
    CHECKS_WITHOUT_AWS,
    CheckFailed,
    applicable_steps,
    diagnosis_of,
    run_checks,
)

CLUSTER = {"source": "live", "issuer": "https://d111.cloudfront.net", "sts_roles": [{"role_arn": "arn:aws:iam::1:role/r"}],
           "findings": [{"code": "TOKEN_ISSUER_MISMATCH"}], "cluster": {"name": "c1", "api_url": "https://api.c1.example.com:6443"}}


def test_the_three_checks_run_at_the_same_time():
    barrier = threading.Barrier(3, timeout=5)

    def check(name):
        def run(cluster):
            assert cluster is CLUSTER
            barrier.wait()  # returns only when the three checks are running together
            return {"findings": [{"code": name}]}
        return run
    results, seconds = run_checks(CLUSTER, check("probe"), check("aws"), check("sts"))
    assert not barrier.broken
    assert sorted(results) == ["aws", "probe", "sts"] and sorted(seconds) == ["aws", "probe", "sts"]
    assert results["sts"] == {"findings": [{"code": "sts"}]}


def test_checks_that_do_not_apply_are_not_run():
    no_issuer = dict(CLUSTER, issuer=None)
    assert [step for step, _check in applicable_steps(no_issuer, len, len, len)] == ["sts"]
    assert [step for step, _check in applicable_steps(dict(CLUSTER, sts_roles=[]), len, None, len)] == ["probe"]
    assert run_checks(dict(CLUSTER, issuer="", sts_roles=[]), len, len, len) == ({}, {})


def test_a_check_that_raises_fails_after_the_others_ended_and_the_most_upstream_wins():
    ended = []

    def failing(step):
        def run(_cluster):
            ended.append(step)
            raise RuntimeError("bug in " + step)
        return run

    def slow_ok(_cluster):
        threading.Event().wait(0.05)
        ended.append("aws")
        return {}
    with pytest.raises(CheckFailed) as raised:
        run_checks(CLUSTER, failing("probe"), slow_ok, failing("sts"))
    assert raised.value.step == "probe"
    assert isinstance(raised.value.error, RuntimeError) and raised.value.exc_info[0] is RuntimeError
    assert sorted(ended) == ["aws", "probe", "sts"]


def test_one_check_runs_in_the_caller_thread_with_its_time():
    ticks = iter([10.0, 10.25])
    caller = threading.current_thread()
    seen = []
    results, seconds = run_checks(dict(CLUSTER, issuer=None), assume=lambda c: seen.append(threading.current_thread()) or {},
                                  clock=lambda: next(ticks))
    assert seen == [caller] and results == {"sts": {}} and seconds == {"sts": 0.25}


def test_the_diagnosis_gathers_every_finding_and_role_in_chain_order():
    results = {
        "probe": {"findings": [{"code": "DISCOVERY_ACCESS_DENIED"}], "discovery": {"issuer": "x"}, "jwks": None,
                  "timings": [{"url": "u"}], "token_claims": {"iss": "x"}},
        "aws": {"findings": [{"code": "ISSUER_BUCKET_PRIVATE"}], "roles": [{"role_arn": "r", "exists": True}]},
        "sts": {"findings": [{"code": "STS_INVALID_IDENTITY_TOKEN"}], "roles": [{"role_arn": "r", "ok": False}]},
    }
    diagnosis = diagnosis_of(CLUSTER, results, "c1", True, None)
    assert [item["code"] for item in diagnosis["findings"]] == [
        "TOKEN_ISSUER_MISMATCH", "DISCOVERY_ACCESS_DENIED", "ISSUER_BUCKET_PRIVATE", "STS_INVALID_IDENTITY_TOKEN"]
    assert diagnosis["roles"] == [{"role_arn": "r", "ok": False}, {"role_arn": "r", "exists": True}]
    assert diagnosis["probe"] == {"discovery": {"issuer": "x"}, "jwks": None, "timings": [{"url": "u"}]}  # no token claims
    assert diagnosis["checks"] is None and diagnosis["remediation_hints"] == {}
    assert diagnosis["cluster"] == {"name": "c1", "source": "live", "api_url": "https://api.c1.example.com:6443"}
    assert diagnosis["issuer"] == CLUSTER["issuer"]


def test_without_the_aws_side_or_from_an_install_directory():
    diagnosis = diagnosis_of(dict(CLUSTER, source="install_dir", issuer=None), {}, None, False, "/inst")
    assert diagnosis["checks"] == list(CHECKS_WITHOUT_AWS)
    assert diagnosis["cluster"] == {"name": None, "source": "install_dir", "install_dir": "/inst"}
    assert diagnosis["remediation_hints"] == {"install_dir": "/inst"}
    assert diagnosis["issuer"] == "" and diagnosis["roles"] == []
    assert diagnosis["probe"] == {"discovery": None, "jwks": None, "timings": None}
