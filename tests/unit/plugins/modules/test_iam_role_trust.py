"""Unit tests of the iam_role_trust module: options, diff, check mode and failure reporting (IAM faked)."""

from __future__ import annotations

import json
import os
import sys
from unittest import mock

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.openshift_sts.oidc.plugins.modules import iam_role_trust
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.modules.module_runner import run_main

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))

from iam_role_trust_fakes import FakeIam, FakeSts  # noqa: E402  # pylint: disable=wrong-import-position

HOST = "d111111abcdef8.cloudfront.net"
ISSUER = "https://" + HOST
OLD = "arn:aws:iam::123456789012:oidc-provider/old.example.com"
ROLE = {"name": "r", "namespace": "ns", "service_accounts": ["sa"]}


def trust_text(provider, host):
    """A ccoctl-style trust policy."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {host + ":sub": ["system:serviceaccount:ns:sa"]}}}]})


@pytest.fixture
def iam():
    """A fake account with the provider and one role on the old issuer."""
    fake = FakeIam()
    fake.add_provider(HOST)
    fake.add_role("r", trust_text(OLD, "old.example.com"))
    return fake


def run_module(capsys, iam_client, check_mode=False, diff=False, **args):
    """Run main() with fake clients; return the result."""
    clients = {"iam": iam_client, "sts": FakeSts()}
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=lambda service, **kwargs: clients[service]):
        return run_main(capsys, iam_role_trust, check_mode=check_mode, diff=diff, **dict(args, region="us-east-1"))[1]


def test_diff_only_in_diff_mode_and_check_mode_changes_nothing(capsys, iam):
    """--check --diff: before/after per changed role; the role keeps its text."""
    before = iam.trust("r")
    result = run_module(capsys, iam, check_mode=True, diff=True, issuer=ISSUER, mode="replace", roles=[ROLE])
    assert result["changed"] and not result.get("failed")
    assert iam.trust("r") == before
    assert result["diff"][0]["before_header"] == "trust policy of role r (before)"
    assert "old.example.com" in result["diff"][0]["before"] and HOST in result["diff"][0]["after"]
    plain = run_module(capsys, iam, check_mode=True, issuer=ISSUER, mode="replace", roles=[ROLE])
    assert "diff" not in plain
    assert plain["rollback"]["restore"] == [{"name": "r", "trust_policy": before}]


def test_a_failed_role_fails_the_module_with_every_result(capsys, iam):
    """The module fails after all roles, returning what was done."""
    iam.add_role("s", trust_text(OLD, "old.example.com"))
    iam.fail[("UpdateAssumeRolePolicy", "r")] = "AccessDenied"
    result = run_module(capsys, iam, issuer=ISSUER, roles=[ROLE, dict(ROLE, name="s")])
    assert result["failed"] and result["changed"]
    assert result["msg"].startswith("1 of 2 roles failed: r: Failed to update the trust policy of role r: AccessDenied")
    assert [role["name"] for role in result["roles"]] == ["r", "s"]
    assert result["roles"][1]["trust_changed"]


@pytest.mark.parametrize("args, message", [
    ({"issuer": ISSUER, "roles": [ROLE], "concurrency": 0}, "concurrency must be between 1 and 64"),
    ({"issuer": ISSUER, "roles": [ROLE], "max_session_duration": 60}, "max_session_duration must be between"),
    ({"issuer": ISSUER, "roles": [{"name": "r", "service_accounts": ["sa"]}]}, "roles[0] has service_accounts but no namespace"),
    ({"roles": [ROLE]}, "issuer is required"),
    ({"issuer": ISSUER, "roles": [ROLE], "restore": [{"name": "r", "trust_policy": "{}"}]}, "mutually exclusive"),
    ({"issuer": ISSUER, "roles": [{"namespace": "ns", "secret_name": "s", "service_accounts": ["sa"]}]}, "needs name_prefix"),
])
def test_bad_options_fail_before_any_call(capsys, iam, args, message):
    """Option problems are reported and nothing is called."""
    result = run_module(capsys, iam, **args)
    assert result["failed"] and message in result["msg"]
    assert iam.calls == []
