"""remediate.yml on a running cluster (broken-private-bucket), then rollback.yml, in the in-process lab.

Plan only without oidc_confirm; with it, healthy, pods restarted, tokens of the new issuer, both providers trusted;
a second run and check mode change nothing; rollback puts the issuer back and every trust policy back to its text
byte for byte (seeded in an odd formatting no serializer produces), and removes only what was created.
"""

import json

import diagnose_harness as harness
from live_harness import (BUCKET, REMEDIATE, ROLLBACK, added, aws, base_vars, cluster_writes, get_role_texts, pods, recap_changed, run,
                          seed_odd_trust_texts, snapshot, state_path)

KMS_SID = "AllowCloudFrontOriginAccessControlDecrypt"


def test_plan_remediate_verify_rerun_rollback(make_world, tmp_path):
    """The whole life: plan only, remediate, healthy, re-run and check mode idle, rollback byte for byte."""
    world = make_world("broken-private-bucket")
    lab = world.lab
    env = harness.world_env(lab, world, tmp_path)
    seeded = seed_odd_trust_texts(lab)
    before = snapshot(lab, world)
    pods_before = pods(world)
    old_issuer = before["issuer"]
    old_host = old_issuer[len("https://"):]

    world.cluster.clear_log()
    plan = run(REMEDIATE, env, tmp_path, base_vars(tmp_path), log_name="plan")
    assert plan.returncode == 0, harness.describe(plan)
    assert "Plan (nothing was changed" in plan.stdout and "8. Authentication/cluster spec.serviceAccountIssuer" in plan.stdout
    assert recap_changed(plan.stdout) == 0
    assert not [r for r in world.cluster.requests if r.method in ("PUT", "PATCH", "DELETE")]
    assert snapshot(lab, world) == before
    assert not state_path(tmp_path).exists()

    applied = run(REMEDIATE, env, tmp_path, base_vars(tmp_path, oidc_confirm=True), log_name="apply")
    assert applied.returncode == 0, harness.describe(applied)
    assert "VERDICT: healthy" in applied.stdout and "WARNING: STS accepts" not in applied.stdout
    after = snapshot(lab, world)
    new_issuer = after["issuer"]
    assert new_issuer.endswith(".cloudfront.net") and new_issuer != old_issuer
    host = new_issuer[len("https://"):]
    assert [p["url"] for p in (after["providers"][arn] for arn in added(before, after)["providers"])] == [host]
    assert added(before, after)["buckets"] == [BUCKET]
    for name, text in after["roles"].items():
        if old_host in before["roles"][name]:
            assert host in text and old_host in text, name
    pods_after = pods(world)
    restarted = [p for p in pods_after if p not in pods_before]
    assert restarted
    for namespace, name, dummy in restarted:
        assert world.cluster.pod_token(namespace, name)["claims"]["iss"] == new_issuer
    state = json.loads(state_path(tmp_path).read_text())
    assert state["issuer"]["previous"] == old_issuer
    assert oct(state_path(tmp_path).stat().st_mode & 0o777) == "0o600"
    assert state["trust_policies"] == {name: seeded[name] for name in state["trust_policies"]}
    assert set(state["trust_policies"]) == {name for name, text in before["roles"].items() if old_host in text}

    again = run(REMEDIATE, env, tmp_path, base_vars(tmp_path, oidc_confirm=True), log_name="again")
    assert again.returncode == 0, harness.describe(again)
    assert recap_changed(again.stdout) == 0, harness.describe(again)
    assert snapshot(lab, world) == after
    assert json.loads(state_path(tmp_path).read_text()) == state

    world.cluster.clear_log()
    checked = run(ROLLBACK, env, tmp_path, base_vars(tmp_path), args=["--check"], log_name="rollback-check")
    assert checked.returncode == 0, harness.describe(checked)
    assert snapshot(lab, world) == after
    assert not cluster_writes(world)

    rolled = run(ROLLBACK, env, tmp_path, base_vars(tmp_path), log_name="rollback")
    assert rolled.returncode == 0, harness.describe(rolled)
    restored = snapshot(lab, world)
    assert restored == before
    assert restored["roles"] == dict(before["roles"], **seeded)
    assert get_role_texts(lab, seeded) == seeded  # what GetRole answers, URL-decoded, is the seeded text byte for byte
    assert world.cluster.active_issuer == old_issuer
    assert not state_path(tmp_path).exists()


def test_kms_key_grant_added_then_taken_back(make_world, tmp_path):
    """With oidc_kms_key_arn on a key another cluster shares: the grant gains this distribution, rollback takes it out."""
    world = make_world("broken-private-bucket")
    lab = world.lab
    env = harness.world_env(lab, world, tmp_path)
    kms = aws(lab, "kms", world.region)
    key = kms.create_key(Description="OIDC documents of two clusters")["KeyMetadata"]["Arn"]
    other = "arn:aws:cloudfront::%s:distribution/EOTHERCLUSTER1" % key.split(":")[4]
    shared = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    shared["Statement"].append({"Sid": KMS_SID, "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
                                "Condition": {"StringEquals": {"AWS:SourceArn": other}}})
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(shared))
    before = snapshot(lab, world)

    applied = run(REMEDIATE, env, tmp_path, base_vars(tmp_path, oidc_confirm=True, oidc_kms_key_arn=key), log_name="kms-apply")
    assert applied.returncode == 0, harness.describe(applied)
    assert "VERDICT: healthy" in applied.stdout
    (distribution,) = added(before, snapshot(lab, world))["distributions"]
    grant = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])["Statement"][-1]
    assert grant["Condition"]["StringEquals"]["AWS:SourceArn"] == [other, "arn:aws:cloudfront::%s:distribution/%s"
                                                                   % (key.split(":")[4], distribution)]
    assert json.loads(state_path(tmp_path).read_text())["kms_key"] == key

    rolled = run(ROLLBACK, env, tmp_path, base_vars(tmp_path), log_name="kms-rollback")
    assert rolled.returncode == 0, harness.describe(rolled)
    assert json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]) == shared
    assert snapshot(lab, world) == before
