"""Unit tests of iam_role_trust's AWS work: creation, rewrite, check mode, naming against IAM, absent, restore.

An in-memory IAM (:mod:`iam_role_trust_fakes`) plays the account; botocore's Stubber checks the exact requests a
real boto3 client sends (raw policy text, byte-for-byte restore, no write call in check mode).
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _iam_trust_edit as E
from ansible_collections.openshift_sts.oidc.plugins.module_utils import iam_role_trust as T

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from iam_role_trust_fakes import ACCOUNT, FakeIam, FakeSts  # noqa: E402  # pylint: disable=wrong-import-position
from test_iam_trust_edit import ADMIN, DENY, OLD, OLD_HOST, ccoctl_text, statement  # noqa: E402  # pylint: disable=wrong-import-position

NEW_HOST = "d111111abcdef8.cloudfront.net"
ISSUER = "https://" + NEW_HOST
NEW = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, NEW_HOST)
PREFIX = "mycluster-x7k2p"
TAGS = {"openshift_sts.oidc/cluster": "mycluster"}
MAPI = {"namespace": "openshift-machine-api", "secret_name": "aws-cloud-credentials",
        "service_accounts": ["machine-api-controllers"],
        "policy_statements": [{"effect": "Allow", "action": ["ec2:DescribeInstances", "ec2:RunInstances"], "resource": "*",
                               "policy_condition": None}]}
REGISTRY = {"namespace": "openshift-image-registry", "secret_name": "installer-cloud-credentials",
            "service_accounts": ["cluster-image-registry-operator", "registry"],
            "policy_statements": [{"effect": "Allow", "action": ["s3:CreateBucket"], "resource": "*", "policy_condition": None}]}
MAPI_NAME = "mycluster-x7k2p-openshift-machine-api-aws-cloud-credentials"
MAPI_SUB = "system:serviceaccount:openshift-machine-api:machine-api-controllers"


def params(**overrides):
    """The module's parameters with its defaults."""
    base = {"issuer": ISSUER, "provider_arn": None, "name_prefix": PREFIX, "roles": None, "mode": "add",
            "create_missing": True, "tags": dict(TAGS), "permissions_boundary": None, "max_session_duration": None,
            "concurrency": 8, "state": "present", "restore": None}
    base.update(overrides)
    return base


@pytest.fixture
def iam():
    """A fake account with the new issuer's provider."""
    fake = FakeIam()
    fake.add_provider(NEW_HOST)
    return fake


def run(iam_client, check_mode=False, sts=None, warnings=None, **overrides):
    """manage_roles with the fakes; returns (result, failed)."""
    found = warnings if warnings is not None else []
    return T.manage_roles(iam_client, sts or FakeSts(), params(**overrides), check_mode, "us-east-1", found.append)


# ---------------------------------------------------------------- creation
def test_creates_missing_roles_with_ccoctl_documents_tags_and_inline_policy(iam):
    """Trust + inline policy + tags + description + boundary + max session; a second run changes nothing."""
    result, failed = run(iam, roles=[MAPI, REGISTRY], permissions_boundary="arn:aws:iam::123456789012:policy/boundary",
                         max_session_duration=7200)
    assert not failed and result["changed"]
    assert result["provider_arn"] == NEW
    first = result["roles"][0]
    assert first["name"] == MAPI_NAME and first["name_source"] == "derived"
    assert first["created"] and first["trust_changed"] and first["policy_changed"] and first["changed"]
    assert first["arn"] == "arn:aws:iam::%s:role/%s" % (ACCOUNT, MAPI_NAME)
    assert first["previous_trust_policy"] is None
    role = iam.roles[MAPI_NAME]
    assert json.loads(role["AssumeRolePolicyDocument"]) == E.trust_document(NEW, [MAPI_SUB])
    assert first["trust_policy"] == role["AssumeRolePolicyDocument"]
    assert json.loads(role["inline"][MAPI_NAME]) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:DescribeInstances", "ec2:RunInstances"], "Resource": "*"}]}
    tags = dict((t["Key"], t["Value"]) for t in role["Tags"])
    assert tags == {"openshift.io/cloud-credential-operator/" + PREFIX: "owned", "Name": PREFIX,
                    E.NAME_PREFIX_TAG: PREFIX, E.CREATED_BY_TAG: "iam_role_trust", "openshift_sts.oidc/cluster": "mycluster"}
    assert role["Description"] == "OpenShift role for openshift-machine-api/aws-cloud-credentials"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == "arn:aws:iam::123456789012:policy/boundary"
    assert role["MaxSessionDuration"] == 7200
    assert result["rollback"] == {"restore": [], "delete": [{"name": MAPI_NAME},
                                                            {"name": E.ccoctl_role_name(PREFIX, REGISTRY["namespace"], REGISTRY["secret_name"])}]}
    assert [d["before"] for d in result["diff"]][:2] == ["", ""]

    iam.calls.clear()
    again, failed = run(iam, roles=[MAPI, REGISTRY])
    assert not failed and not again["changed"]
    assert iam.writes() == []
    assert [r["trust_policy"] == r["previous_trust_policy"] for r in again["roles"]] == [True, True]


def test_check_mode_makes_no_write_call_and_predicts_everything(iam):
    """Check mode reads, plans, diffs; not one write call."""
    iam.add_role("existing", ccoctl_text(OLD, [MAPI_SUB]))
    result, failed = run(iam, check_mode=True, mode="replace",
                         roles=[MAPI, dict(MAPI, name="existing", policy_statements=None)])
    assert not failed and result["changed"]
    assert iam.writes() == []
    assert MAPI_NAME not in iam.roles
    created, rewritten = result["roles"]
    assert created["created"] and created["arn"].endswith(":role/" + MAPI_NAME)
    assert rewritten["trust_changed"] and json.loads(rewritten["trust_policy"]) == E.trust_document(NEW, [MAPI_SUB])
    assert iam.trust("existing") == ccoctl_text(OLD, [MAPI_SUB])
    assert len(result["diff"]) == 3  # created trust, created inline policy, rewritten trust
    assert result["rollback"]["restore"] == [{"name": "existing", "trust_policy": ccoctl_text(OLD, [MAPI_SUB])}]


def test_create_missing_false_leaves_missing_roles_alone(iam):
    """No creation, no failure: the result says why."""
    result, failed = run(iam, roles=[MAPI], create_missing=False)
    assert not failed and not result["changed"]
    assert result["roles"][0]["msg"] == "the role does not exist and create_missing is false"
    assert iam.writes() == []


def test_interrupted_creation_converges(iam):
    """CreateRole done, PutRolePolicy failed: the role is reported created and failed; the next run puts the policy."""
    iam.fail[("PutRolePolicy", MAPI_NAME)] = "ServiceFailure"
    result, failed = run(iam, roles=[MAPI])
    assert failed == 1
    entry = result["roles"][0]
    assert entry["failed"] and entry["created"] and entry["changed"]
    assert "put the inline policy" in entry["msg"] and "ServiceFailure" in entry["msg"]
    assert result["rollback"]["delete"] == [{"name": MAPI_NAME}]
    again, failed = run(iam, roles=[MAPI])
    assert not failed
    assert again["roles"][0]["policy_changed"] and not again["roles"][0]["trust_changed"]
    assert MAPI_NAME in iam.roles[MAPI_NAME]["inline"]


# ---------------------------------------------------------------- existing roles
def test_rewrites_an_existing_ccoctl_role_keeping_other_statements(iam):
    """replace: the exact previous text is returned; other statements keep their order; permissions untouched."""
    previous = json.dumps({"Version": "2012-10-17", "Statement": [ADMIN, statement(OLD, [MAPI_SUB]), DENY]}, indent=3)
    iam.add_role(MAPI_NAME, previous, tags={"openshift.io/cloud-credential-operator/" + PREFIX: "owned"},
                 inline={MAPI_NAME: '{"Version":"2012-10-17","Statement":[]}'})
    result, failed = run(iam, mode="replace", roles=[MAPI])
    assert not failed
    entry = result["roles"][0]
    assert entry["exists"] and not entry["created"] and entry["trust_changed"] and not entry["policy_changed"]
    assert entry["previous_trust_policy"] == previous
    assert json.loads(iam.trust(MAPI_NAME))["Statement"] == [ADMIN, E.trust_statement(NEW, [MAPI_SUB]), DENY]
    assert iam.writes() == [("UpdateAssumeRolePolicy", MAPI_NAME)]
    assert iam.roles[MAPI_NAME]["inline"][MAPI_NAME] == '{"Version":"2012-10-17","Statement":[]}'
    assert result["rollback"]["restore"] == [{"name": MAPI_NAME, "trust_policy": previous}]
    assert result["diff"][0]["before"] == E.pretty(previous)


def test_a_role_that_already_means_the_right_thing_is_not_rewritten(iam):
    """ccoctl's text for the new provider is not written again, and its text stays as it was."""
    text = ccoctl_text(NEW, [MAPI_SUB])
    iam.add_role("r", text)
    result, failed = run(iam, mode="replace", roles=[dict(MAPI, name="r")])
    assert not failed and not result["changed"]
    assert iam.writes() == [] and iam.trust("r") == text
    assert result["roles"][0]["trust_policy"] == text == result["roles"][0]["previous_trust_policy"]


def test_add_then_remove_other_providers(iam):
    """Live migration then cleanup, on a ccoctl role; cleanup refuses a role without the new provider."""
    iam.add_role("r", ccoctl_text(OLD, [MAPI_SUB]))
    iam.add_role("untouched", ccoctl_text(OLD, [MAPI_SUB]))
    added, failed = run(iam, mode="add", roles=[dict(MAPI, name="r")])
    assert not failed
    assert [s["Principal"]["Federated"] for s in json.loads(iam.trust("r"))["Statement"]] == [OLD, NEW]
    cleaned, failed = run(iam, mode="remove_other_providers", roles=[dict(MAPI, name="r"), dict(MAPI, name="untouched")])
    assert failed == 1
    assert json.loads(iam.trust("r")) == E.trust_document(NEW, [MAPI_SUB])
    assert cleaned["roles"][0]["previous_trust_policy"] == added["roles"][0]["trust_policy"]
    assert cleaned["roles"][1]["failed"] and "no Allow statement trusts the new provider" in cleaned["roles"][1]["msg"]
    assert iam.trust("untouched") == ccoctl_text(OLD, [MAPI_SUB])
    assert "untouched" not in [call[1] for call in iam.writes()]


def test_a_role_with_unreadable_trust_fails_alone(iam):
    """One broken role, the others are done."""
    iam.add_role("broken", "not json")
    iam.add_role("fine", ccoctl_text(OLD, [MAPI_SUB]))
    result, failed = run(iam, roles=[dict(MAPI, name="broken"), dict(MAPI, name="fine")])
    assert failed == 1
    assert result["roles"][0]["failed"] and "cannot be read" in result["roles"][0]["msg"]
    assert result["roles"][1]["trust_changed"]


def test_a_denied_update_is_reported_with_its_aws_code(iam):
    """AccessDenied on one role: its result says so; the module does not stop."""
    iam.add_role("a", ccoctl_text(OLD, [MAPI_SUB]))
    iam.add_role("b", ccoctl_text(OLD, [MAPI_SUB]))
    iam.fail[("UpdateAssumeRolePolicy", "a")] = "AccessDenied"
    result, failed = run(iam, roles=[dict(MAPI, name="a"), dict(MAPI, name="b")])
    assert failed == 1
    assert result["roles"][0]["msg"].startswith("Failed to update the trust policy of role a: AccessDenied: ")
    assert not result["roles"][0]["changed"] and result["roles"][1]["changed"]


# ---------------------------------------------------------------- naming against IAM
def test_derived_name_taken_by_a_foreign_role_switches_to_the_hashed_name(iam):
    """An untagged role under ccoctl's name is not rewritten; the role is created under the hashed name, stably."""
    foreign_text = ccoctl_text(OLD, ["system:serviceaccount:someone:else"])
    iam.add_role(MAPI_NAME, foreign_text, tags={"owner": "someone-else"})
    hashed = E.hashed_role_name(PREFIX, MAPI["namespace"], MAPI["secret_name"])
    result, failed = run(iam, roles=[MAPI])
    assert not failed
    assert result["roles"][0]["name"] == hashed and result["roles"][0]["name_source"] == "derived-hashed"
    assert result["roles"][0]["created"]
    assert iam.trust(MAPI_NAME) == foreign_text
    iam.calls.clear()
    again, failed = run(iam, roles=[MAPI])
    assert again["roles"][0]["name"] == hashed and not again["changed"] and iam.writes() == []


def test_derived_name_of_a_ccoctl_role_of_this_cluster_is_used(iam):
    """ccoctl's own tag marks the cluster's role: it is rewritten under its ccoctl name."""
    iam.add_role(MAPI_NAME, ccoctl_text(OLD, [MAPI_SUB]), tags={"openshift.io/cloud-credential-operator/" + PREFIX: "owned",
                                                                "Name": PREFIX})
    result, failed = run(iam, mode="replace", roles=[MAPI])
    assert not failed and result["roles"][0]["name"] == MAPI_NAME and result["roles"][0]["trust_changed"]


def test_both_names_taken_fails_that_role(iam):
    """No safe name: that role fails, nothing is written."""
    hashed = E.hashed_role_name(PREFIX, MAPI["namespace"], MAPI["secret_name"])
    iam.add_role(MAPI_NAME, "{}")
    iam.add_role(hashed, "{}")
    result, failed = run(iam, roles=[MAPI])
    assert failed == 1 and "do not belong to this cluster" in result["roles"][0]["msg"]
    assert iam.writes() == []


# ---------------------------------------------------------------- provider
def test_missing_provider_stops_before_any_write_but_not_check_mode(iam):
    """The provider must exist; check mode only warns."""
    iam.providers.clear()
    with pytest.raises(T.RoleTrustError, match="does not exist; create it"):
        run(iam, roles=[MAPI])
    assert iam.writes() == []
    warnings = []
    result, failed = run(iam, check_mode=True, warnings=warnings, roles=[MAPI])
    assert not failed and result["roles"][0]["created"]
    assert "(check mode goes on)" in warnings[0]


def test_provider_arn_option_and_partition_from_the_caller():
    """provider_arn must name the issuer; without it the caller's partition and account are used."""
    with pytest.raises(T.RoleTrustError, match="not of the issuer"):
        T.resolve_provider(ISSUER, "arn:aws:iam::123456789012:oidc-provider/other.example.com", None, "us-east-1")
    with pytest.raises(T.RoleTrustError, match="not an IAM OIDC provider ARN"):
        T.resolve_provider(ISSUER, "arn:aws:iam::1234:oidc-provider/" + NEW_HOST, None, "us-east-1")
    with pytest.raises(T.RoleTrustError, match="must not end with '/'"):
        T.resolve_provider(ISSUER + "/", None, FakeSts(), "us-east-1")
    gov = "arn:aws-us-gov:iam::123456789012:oidc-provider/" + NEW_HOST
    assert T.resolve_provider(ISSUER, gov, None, "us-east-1") == (gov, "aws-us-gov", "123456789012")
    sts = FakeSts(account="210987654321", partition="aws-cn")
    assert T.resolve_provider(ISSUER, None, sts, "cn-north-1") == (
        "arn:aws-cn:iam::210987654321:oidc-provider/" + NEW_HOST, "aws-cn", "210987654321")


def test_issuer_is_required_for_present():
    """Nothing to put the trust on."""
    with pytest.raises(T.RoleTrustError, match="issuer is required"):
        run(FakeIam(), issuer=None, roles=[MAPI])


# ---------------------------------------------------------------- concurrency
def test_many_roles_in_one_call_with_bounded_concurrency(iam):
    """60 roles, at most 4 at a time (and more than one), all results in input order."""
    roles = []
    for index in range(60):
        name = "role-%02d" % index
        iam.add_role(name, ccoctl_text(OLD, [MAPI_SUB]))
        roles.append(dict(MAPI, name=name, policy_statements=None))
    iam.delay = 0.01
    result, failed = run(iam, roles=roles, concurrency=4)
    assert not failed
    assert [r["name"] for r in result["roles"]] == ["role-%02d" % i for i in range(60)]
    assert all(r["trust_changed"] for r in result["roles"])
    assert 1 < iam.max_active <= 4


# ---------------------------------------------------------------- absent
def test_absent_deletes_only_roles_this_module_created(iam):
    """Inline policies and attachments first, then the role; an untagged or foreign-cluster role is left alone."""
    created, dummy = run(iam, roles=[MAPI])
    iam.roles[MAPI_NAME]["attached"].append("arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.add_role("ccoctl-role", ccoctl_text(OLD, [MAPI_SUB]), tags={"openshift.io/cloud-credential-operator/" + PREFIX: "owned"})
    iam.add_role("other-cluster", "{}", tags=E.creation_tags(PREFIX, {"openshift_sts.oidc/cluster": "other"}))
    iam.calls.clear()
    checked, failed = run(iam, check_mode=True, state="absent", issuer=None, roles=[MAPI])
    assert not failed and checked["roles"][0]["deleted"] and iam.writes() == []
    result, failed = run(iam, state="absent", issuer=None,
                         roles=created["rollback"]["delete"] + [{"name": "ccoctl-role"}, {"name": "other-cluster"}, {"name": "gone"}])
    assert not failed
    deleted, ccoctl_role, other, gone = result["roles"]
    assert deleted["deleted"] and deleted["changed"] and deleted["previous_trust_policy"]
    assert iam.writes() == [("DeleteRolePolicy", MAPI_NAME), ("DetachRolePolicy", MAPI_NAME), ("DeleteRole", MAPI_NAME)]
    assert ccoctl_role["skipped"] and not ccoctl_role["deleted"] and "left alone" in ccoctl_role["msg"]
    assert other["skipped"] and "other-cluster" in iam.roles
    assert not gone["exists"] and not gone["changed"]
    again, failed = run(iam, state="absent", issuer=None, roles=[MAPI])
    assert not again["changed"]


# ---------------------------------------------------------------- restore
def test_restore_writes_back_exactly_and_only_when_the_text_differs(iam):
    """Any byte of difference (even whitespace) is restored; identical text is left alone; a missing role fails."""
    original = '{ "Version": "2012-10-17", "Statement": [ {"Effect":"Allow","Principal":{"Federated":"%s"},' \
               '"Action":"sts:AssumeRoleWithWebIdentity"} ] }\n' % OLD
    iam.add_role("a", original)
    iam.add_role("b", original)
    changed, dummy = run(iam, mode="replace", roles=[dict(MAPI, name="a")])
    iam.roles["b"]["AssumeRolePolicyDocument"] = original.rstrip("\n")  # same meaning, one byte less
    restore = changed["rollback"]["restore"] + [{"name": "b", "trust_policy": original}]
    iam.calls.clear()
    checked, failed = run(iam, check_mode=True, restore=restore)
    assert not failed and checked["changed"] and iam.writes() == []
    result, failed = run(iam, restore=restore)
    assert not failed
    assert iam.trust("a") == original and iam.trust("b") == original
    assert [r["trust_changed"] for r in result["roles"]] == [True, True]
    again, failed = run(iam, restore=restore)
    assert not again["changed"]
    broken, failed = run(iam, restore=[{"name": "missing", "trust_policy": original}, {"name": "a", "trust_policy": "nope"}])
    assert failed == 2
    assert "does not exist" in broken["roles"][0]["msg"] and "not a policy document" in broken["roles"][1]["msg"]
    with pytest.raises(T.RoleTrustError, match="more than once"):
        run(iam, restore=[{"name": "a", "trust_policy": original}] * 2)
    empty, failed = run(iam, restore=[])
    assert empty["roles"] == [] and not empty["changed"]


# ---------------------------------------------------------------- a real boto3 client (Stubber)
def _role_response(name, text):
    return {"Role": {"Path": "/", "RoleName": name, "RoleId": "AROAEXAMPLEEXAMPLE01",
                     "Arn": "arn:aws:iam::%s:role/%s" % (ACCOUNT, name), "CreateDate": "2024-01-01T00:00:00Z",
                     "AssumeRolePolicyDocument": quote(text, safe="")}}


@pytest.fixture
def stubbed():
    """A real boto3 IAM client behind a Stubber."""
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_stubbed_restore_sends_the_exact_text(stubbed):
    """The previous text comes back from IAM URL-encoded and goes out unchanged (not re-serialised by botocore)."""
    client, stubber = stubbed
    original = '{\n  "Version" : "2012-10-17",\t"Statement":[{"Effect":"Allow","Principal":{"Federated":"%s"},' \
               '"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"%s:sub":"%s"}}}]}' % (OLD, OLD_HOST, MAPI_SUB)
    current = E.dump(E.trust_document(NEW, [MAPI_SUB]))
    stubber.add_response("get_role", _role_response("r", current), {"RoleName": "r"})
    stubber.add_response("update_assume_role_policy", {}, {"RoleName": "r", "PolicyDocument": original})
    result, failed = run(client, restore=[{"name": "r", "trust_policy": original}])
    assert not failed and result["roles"][0]["previous_trust_policy"] == current


def test_stubbed_rewrite_reads_the_exact_text_and_check_mode_writes_nothing(stubbed):
    """Check mode: only GetRole (a write call would find no stubbed response and fail)."""
    client, stubber = stubbed
    text = ccoctl_text(OLD, [MAPI_SUB])
    stubber.add_response("get_open_id_connect_provider", {"Url": NEW_HOST, "ClientIDList": ["openshift"], "ThumbprintList": []},
                         {"OpenIDConnectProviderArn": NEW})
    stubber.add_response("get_role", _role_response("r", text), {"RoleName": "r"})
    result, failed = run(client, check_mode=True, provider_arn=NEW, mode="replace", roles=[dict(MAPI, name="r")],
                         sts=object())
    assert not failed
    assert result["roles"][0]["previous_trust_policy"] == text
    assert result["roles"][0]["trust_changed"]


def test_stubbed_semantic_no_op_makes_no_write_call(stubbed):
    """ccoctl's text for the new provider: GetRole only, even outside check mode."""
    client, stubber = stubbed
    stubber.add_response("get_open_id_connect_provider", {"Url": NEW_HOST, "ClientIDList": ["openshift"], "ThumbprintList": []},
                         {"OpenIDConnectProviderArn": NEW})
    stubber.add_response("get_role", _role_response("r", ccoctl_text(NEW, [MAPI_SUB])), {"RoleName": "r"})
    result, failed = run(client, provider_arn=NEW, mode="replace", roles=[dict(MAPI, name="r")], sts=object())
    assert not failed and not result["changed"]
