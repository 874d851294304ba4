"""Live remediation at its edges, two worlds (broken-private-bucket), each reused for several checks.

1. CloudFront slower than oidc_deploy_timeout: the run fails naming the distribution, the cluster untouched; once
   deployed, a run without workload restart completes with a warning listing the pods still holding old tokens; with
   oidc_cleanup_old it refuses to remove the old provider while they do; with restarts it verifies green and removes
   the old provider (a third provider one role also trusts stays); rollback recreates that provider as it was and restores every trust policy byte for byte.
2. ``--check`` with oidc_confirm changes nothing; then one failure at each mutating step in turn (and a kill), each run
   stopping with a clear message; the last run converges without duplicates, and rollback returns to the start.
"""

import json

import diagnose_harness as harness
from remediate_harness import run_and_kill
from live_harness import (BUCKET, REMEDIATE, ROLLBACK, added, aws, aws_writes, base_vars, cluster_writes, get_role_texts, one_line,
                          pods, run, seed_odd_trust_texts, snapshot, state_path, stored_trust_texts)

THIRD_HOST = "oidc.eks.us-east-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
ISSUER_PATCH = r"/apis/config\.openshift\.io/v1/authentications/cluster"
POD_PATH = r"/api/v1/namespaces/[^/]+/pods/[^/]+$"


def test_slow_cloudfront_no_restart_cleanup_and_rollback(make_world, tmp_path):
    """Deploy timeout, no restart (warning), cleanup refused then done, rollback recreates the old provider."""
    world = make_world("broken-private-bucket")
    lab = world.lab
    env = harness.world_env(lab, world, tmp_path)
    # One role also trusts a provider of another cluster (an EKS cluster sharing it): the cleanup must leave it.
    iam = aws(lab, "iam")
    third = iam.create_open_id_connect_provider(Url="https://" + THIRD_HOST, ClientIDList=["sts.amazonaws.com"])["OpenIDConnectProviderArn"]
    shared_role = sorted(world.role_arns.values())[0].rsplit("/", 1)[1]  # a role of the cluster: the cleanup edits it
    shared = json.loads(stored_trust_texts(lab)[shared_role])
    shared["Statement"].append({"Effect": "Allow", "Principal": {"Federated": third}, "Action": "sts:AssumeRoleWithWebIdentity",
                                "Condition": {"StringEquals": {THIRD_HOST + ":sub": "system:serviceaccount:apps:uploader"}}})
    iam.update_assume_role_policy(RoleName=shared_role, PolicyDocument=json.dumps(shared))
    seeded = seed_odd_trust_texts(lab)
    before = snapshot(lab, world)
    old_issuer = before["issuer"]
    old_host = old_issuer[len("https://"):]
    (old_arn, old_provider), = [(arn, p) for arn, p in before["providers"].items() if p["url"] == old_host]
    assert old_provider["client_ids"] and old_provider["thumbprints"] and old_provider["tags"]  # all to be recreated

    # 1. CloudFront still deploying after oidc_deploy_timeout: a clear failure, nothing done to IAM or the cluster
    lab.aws.cloudfront.deploy_seconds = 3600.0
    world.cluster.clear_log()
    slow = run(REMEDIATE, env, tmp_path, base_vars(tmp_path, oidc_confirm=True, oidc_deploy_timeout=2), log_name="slow-cloudfront")
    assert slow.returncode != 0, harness.describe(slow)
    during = snapshot(lab, world)
    (distribution,) = added(before, during)["distributions"]
    message = one_line(slow.stdout)
    assert ("CloudFront distribution %s (" % distribution) in message and "is still InProgress after 2 s (oidc_deploy_timeout)" in message
    assert "The cluster was not changed: Authentication/cluster still points at %s, and no IAM provider or trust policy was changed" \
        % old_issuer in message
    assert "aws cloudfront wait distribution-deployed --id %s" % distribution in message and "run the same command again" in message
    assert not cluster_writes(world)
    assert (during["issuer"], during["roles"], during["providers"]) == (before["issuer"], before["roles"], before["providers"])
    assert json.loads(state_path(tmp_path).read_text())["created"]["distribution"]["id"] == distribution

    # 2. deployed; no workload restart: migrated and verified for every role, the stale pods listed in a warning
    lab.aws.cloudfront.deploy_seconds = 0.0
    lab.aws.cloudfront.finish_deployments()
    pods_before = pods(world)
    kept = run(REMEDIATE, env, tmp_path, base_vars(tmp_path, oidc_confirm=True, oidc_restart_workloads=False), log_name="no-restart")
    assert kept.returncode == 0, harness.describe(kept)
    migrated = snapshot(lab, world)
    new_issuer = migrated["issuer"]
    assert new_issuer != old_issuer and added(before, migrated) == {
        "buckets": [BUCKET], "distributions": [distribution], "origin_access_controls": ["oidc-" + BUCKET],
        "providers": [arn for arn, p in migrated["providers"].items() if "https://" + p["url"] == new_issuer]}
    message = one_line(kept.stdout)
    assert "TOKEN_ISSUER_MISMATCH" in message and "VERDICT: healthy" not in message  # the diagnosis says it as it is
    assert "WARNING: STS accepts every role with tokens of %s, but" % new_issuer in message
    assert "oidc_restart_workloads=false" in message and "oc -n openshift-machine-api delete pod machine-api-controllers-" in message
    assert pods(world) == pods_before
    assert not [w for w in cluster_writes(world) if w[0] == "DELETE"]

    # 3. cleanup asked while pods hold old tokens: refused, nothing removed
    refused = run(REMEDIATE, env, tmp_path, base_vars(tmp_path, oidc_confirm=True, oidc_restart_workloads=False, oidc_cleanup_old=True),
                  log_name="cleanup-refused")
    assert refused.returncode != 0, harness.describe(refused)
    message = one_line(refused.stdout)
    assert "The old issuer's provider was not removed (oidc_cleanup_old=true)" in message and "still hold tokens of %s" % old_issuer in message
    assert "openshift-machine-api/machine-api-controllers-" in message
    assert snapshot(lab, world) == migrated and pods(world) == pods_before
    assert "deleted" not in json.loads(state_path(tmp_path).read_text())

    # 4. with restarts: verified green, then the old provider leaves every trust policy and is deleted
    cleaned = run(REMEDIATE, env, tmp_path, base_vars(tmp_path, oidc_confirm=True, oidc_cleanup_old=True), log_name="cleanup")
    assert cleaned.returncode == 0, harness.describe(cleaned)
    assert "VERDICT: healthy" in cleaned.stdout and "WARNING: STS accepts" not in cleaned.stdout
    after = snapshot(lab, world)
    assert old_arn not in after["providers"]
    assert not [name for name, text in after["roles"].items() if old_host in text]
    kept = [st["Principal"] for st in json.loads(after["roles"][shared_role])["Statement"] if third in json.dumps(st)]
    assert third in after["providers"] and kept == [{"Federated": third}]
    state = json.loads(state_path(tmp_path).read_text())
    assert state["deleted"]["provider"] == {"url": old_issuer, "arn": old_arn, "client_ids": old_provider["client_ids"],
                                            "thumbprints": old_provider["thumbprints"], "tags": dict(old_provider["tags"])}
    assert state["trust_policies"] == {name: seeded[name] for name in state["trust_policies"]}

    # 5. rollback: the old provider as it was, every trust policy byte for byte, the issuer, nothing created left
    rolled = run(ROLLBACK, env, tmp_path, base_vars(tmp_path), log_name="cleanup-rollback")
    assert rolled.returncode == 0, harness.describe(rolled)
    restored = snapshot(lab, world)
    assert restored["providers"][old_arn] == old_provider
    assert restored == before
    assert get_role_texts(lab, seeded) == seeded
    assert world.cluster.active_issuer == old_issuer


# Each mutating step in plan order: (label, how to break it, the task the run must name). AWS faults are by IAM action;
# S3 and CloudFront writes are refused (AccessDenied: amazon.aws retries their 5xx for minutes), IAM writes answer
# HTTP 500 ServiceFailure, the Kubernetes API HTTP 500. (tests/remediate/test_remediate_safety.py interrupts the
# private_issuer role before the distribution, before the bucket policy and while waiting for Deployed; a bucket policy
# failure is left to it, to keep the run count down.)
STEPS = (
    ("bucket", ("aws", "s3:CreateBucket", "deny"), "Create the bucket, private from the first call"),
    ("origin access control", ("aws", "cloudfront:CreateOriginAccessControl", "deny"), "Create the origin access control"),
    ("distribution", ("aws", "cloudfront:CreateDistribution", "deny"), "Create the distribution in front of the bucket"),
    ("documents", ("aws", "s3:PutObject", "deny"), "Upload the discovery document and the JWKS where they differ"),
    ("kill", ("kill", r"^TASK \[.*: Create the IAM OIDC provider", None), None),
    ("provider", ("aws", "iam:CreateOpenIDConnectProvider", "error"), "Create the IAM OIDC provider of the new issuer"),
    ("trust policies", ("aws", "iam:UpdateAssumeRolePolicy", "error"), "Point every operator role's trust policy at the new provider"),
    ("issuer patch", ("cluster", ISSUER_PATCH, "PATCH"), "Point the cluster at the new issuer"),
    ("pod restart", ("cluster", POD_PATH, "DELETE"), "Restart them"),
)


def test_check_mode_then_a_failure_at_each_step_converges(make_world, tmp_path):
    """--check with oidc_confirm changes nothing; a failure at each step stops clearly; re-running converges; rollback."""
    world = make_world("broken-private-bucket")
    lab = world.lab
    env = harness.world_env(lab, world, tmp_path)
    before = snapshot(lab, world)
    old_issuer = before["issuer"]
    extra = base_vars(tmp_path, oidc_confirm=True)

    # check mode with oidc_confirm: the plan and what each step would do, nothing changed, no state file
    lab.log.clear()
    world.cluster.clear_log()
    checked = run(REMEDIATE, env, tmp_path, extra, args=["--check", "--diff"], log_name="check-confirm")
    assert checked.returncode == 0, harness.describe(checked)
    message = one_line(checked.stdout)
    assert "Plan (check mode: nothing is changed" in message
    assert "would create bucket %s" % BUCKET in message and "would set the policy of bucket %s" % BUCKET in message
    assert "would upload .well-known/openid-configuration and keys.json" in message
    assert "serviceAccountIssuer" in message and "new-distribution.cloudfront.net" in message  # the diff of the issuer patch
    assert aws_writes(lab) == [] and cluster_writes(world) == []
    assert snapshot(lab, world) == before
    assert not state_path(tmp_path).parent.exists()

    # one failure at each mutating step, in order; each run gets one step further
    fast = dict(env, AWS_MAX_ATTEMPTS="1")  # no botocore retry of the injected 500s
    for label, (kind, target, how), task in STEPS:
        if kind == "kill":
            killed = run_and_kill(REMEDIATE, env, tmp_path, target, extra, log_name="live-step-kill")
            assert killed.killed, killed.stdout[-4000:]
            continue
        if kind == "aws":
            lab.faults.inject(target, how, count=50)
        else:
            world.cluster.add_fault(target, status=500, count=1, method=how)
        failed = run(REMEDIATE, fast, tmp_path, extra, log_name="step-" + label.replace(" ", "-"))
        lab.faults.clear()
        world.cluster.clear_faults()
        message = one_line(failed.stdout)
        assert failed.returncode != 0, label + "\n" + harness.describe(failed)
        assert "The remediation of lab-bpa stopped at task '%s" % task in message, label + "\n" + harness.describe(failed)
        expected = {"deny": "AccessDenied", "error": "ServiceFailure"}.get(how, "Internal error occurred: lab fault injected")
        assert expected in message.split("stopped at task", 1)[1], label + "\n" + harness.describe(failed)
        assert "run the same command again" in message and "playbooks/rollback.yml" in message, label
        patched = label == "pod restart"
        assert ("Authentication/cluster points at the new issuer" in message) == patched, label
        assert ("The cluster was not changed: Authentication/cluster still points at %s" % old_issuer in message) != patched, label
        assert json.loads(state_path(tmp_path).read_text())["issuer"]["previous"] == old_issuer, label

    # the last run: transient faults (IAM throttling, one S3 500) are retried; it converges, nothing twice, nothing lost
    lab.faults.inject("iam", "throttle", count=2)
    lab.faults.inject("s3:GetObject", "error", count=1)
    converged = run(REMEDIATE, env, tmp_path, extra, log_name="steps-converged")
    assert converged.returncode == 0, harness.describe(converged)
    assert "VERDICT: healthy" in converged.stdout
    after = snapshot(lab, world)
    new_host = after["issuer"][len("https://"):]
    created = added(before, after)
    assert len(created.pop("distributions")) == 1
    assert created == {"buckets": [BUCKET], "origin_access_controls": ["oidc-" + BUCKET],
                       "providers": ["arn:aws:iam::123456789012:oidc-provider/" + new_host]}
    for name, text in after["roles"].items():
        assert text.count('"%s:sub"' % new_host) <= 1, name  # the new provider's statement once, never twice
    state = json.loads(state_path(tmp_path).read_text())
    assert state["trust_policies"] == {name: before["roles"][name] for name in state["trust_policies"]}

    rolled = run(ROLLBACK, env, tmp_path, base_vars(tmp_path), log_name="steps-rollback")
    assert rolled.returncode == 0, harness.describe(rolled)
    assert snapshot(lab, world) == before
    assert world.cluster.active_issuer == old_issuer
