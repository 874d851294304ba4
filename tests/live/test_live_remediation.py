"""remediate.yml on a running cluster (broken-private-bucket), then rollback.yml, in the in-process lab.

Plan only without oidc_confirm; with it, healthy, pods restarted, tokens of the new issuer, both providers trusted;
a second run and check mode change nothing; rollback puts issuer and trust policies back byte for byte and removes
only what was created. Faults: API server 500s on the issuer patch, AWS throttling, a killed run.
"""

import json
import signal
import subprocess

import boto3
from botocore.config import Config

import diagnose_harness as harness

REMEDIATE = harness.ROOT / "playbooks" / "remediate.yml"
ROLLBACK = harness.ROOT / "playbooks" / "rollback.yml"
BUCKET = "lab-bpa-oidc-private"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def run(playbook, env, cwd, extra=None, args=(), log_name=None):
    """Run a playbook of the checkout with JSON extra vars."""
    cmd = [harness.ANSIBLE_PLAYBOOK, str(playbook), "-e", json.dumps(extra or {})] + list(args)
    proc = subprocess.run(cmd, env=env, cwd=str(cwd), capture_output=True, text=True, timeout=600, check=False)
    if log_name:
        harness.LOG_DIR.mkdir(parents=True, exist_ok=True)
        (harness.LOG_DIR / ("live-" + log_name + ".log")).write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr, encoding="utf-8")
    return proc


def base_vars(tmp_path, **extra):
    """The variables of every run."""
    values = {"oidc_bucket_name": BUCKET, "oidc_report_root": str(tmp_path / "report"), "oidc_rollout_poll": 1,
              "oidc_deploy_poll": 1, "oidc_cluster_name": "lab-bpa"}
    values.update(extra)
    return values


def recap_changed(stdout):
    """The changed= count of the play recap."""
    line = [ln for ln in stdout.splitlines() if ln.startswith("localhost") and "changed=" in ln][-1]
    return int(line.split("changed=")[1].split()[0])


def aws(lab, service, region="us-east-2"):
    """A plain boto3 client of the lab's AWS twin (its dummy credentials, no retries hiding faults)."""
    env = lab.env()
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                    region_name=region)
    return session.client(service, endpoint_url=lab.aws.url, config=Config(retries={"total_max_attempts": 3}))


def snapshot(lab, world):
    """What the remediation may touch: the issuer, every role's trust text, buckets, distributions, providers, roles."""
    iam = aws(lab, "iam")
    roles = {}
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            doc = iam.get_role(RoleName=role["RoleName"])["Role"]["AssumeRolePolicyDocument"]
            roles[role["RoleName"]] = doc if isinstance(doc, str) else json.dumps(doc, sort_keys=True)
    auth = world.cluster.get("Authentication", "cluster")
    return {
        "issuer": (auth.get("spec") or {}).get("serviceAccountIssuer"),
        "roles": roles,
        "buckets": sorted(b["Name"] for b in aws(lab, "s3").list_buckets()["Buckets"]),
        "distributions": sorted(d["Id"] for d in (aws(lab, "cloudfront").list_distributions()["DistributionList"].get("Items") or [])),
        "providers": sorted(p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]),
    }


def pods(world):
    """(namespace, name, start time) of every pod of the CredentialsRequests' namespaces."""
    namespaces = {role["secret_namespace"] for role in world.spec_roles} if hasattr(world, "spec_roles") else None
    return sorted((p["metadata"]["namespace"], p["metadata"]["name"], (p.get("status") or {}).get("startTime"))
                  for p in world.cluster.list("Pod") if namespaces is None or p["metadata"]["namespace"] in namespaces)


def test_plan_remediate_verify_rerun_rollback(make_world, tmp_path):
    """The whole life: plan only, remediate, healthy, re-run and check mode idle, rollback byte for byte."""
    world = make_world("broken-private-bucket")
    lab = world.lab
    env = harness.world_env(lab, world, tmp_path)
    before = snapshot(lab, world)
    pods_before = pods(world)
    old_issuer = before["issuer"]

    world.cluster.clear_log()
    plan = run(REMEDIATE, env, tmp_path, base_vars(tmp_path), log_name="plan")
    assert plan.returncode == 0, harness.describe(plan)
    assert "Plan (nothing was changed" in plan.stdout and "8. Authentication/cluster spec.serviceAccountIssuer" in plan.stdout
    assert recap_changed(plan.stdout) == 0
    assert not [r for r in world.cluster.requests if r.method in ("PUT", "PATCH", "DELETE")]
    assert snapshot(lab, world) == before
    assert not (tmp_path / "report" / "localhost" / "remediation-state.json").exists()

    applied = run(REMEDIATE, env, tmp_path, base_vars(tmp_path, oidc_confirm=True), log_name="apply")
    assert applied.returncode == 0, harness.describe(applied)
    assert "VERDICT: healthy" in applied.stdout
    after = snapshot(lab, world)
    new_issuer = after["issuer"]
    assert new_issuer.endswith(".cloudfront.net") and new_issuer != old_issuer
    host = new_issuer[len("https://"):]
    for name, text in after["roles"].items():
        if name in before["roles"] and old_issuer[len("https://"):] in before["roles"][name]:
            assert host in text and old_issuer[len("https://"):] in text, name
    pods_after = pods(world)
    assert not set(p[1] for p in pods_before if "openshift-" in p[0]) & set(p[1] for p in pods_after if "openshift-" in p[0]) or \
        pods_after != pods_before
    restarted = [p for p in pods_after if p not in pods_before]
    assert restarted
    for namespace, name, dummy in restarted:
        assert world.cluster.pod_token(namespace, name)["claims"]["iss"] == new_issuer
    state = json.loads((tmp_path / "report" / "localhost" / "remediation-state.json").read_text())
    assert state["issuer"]["previous"] == old_issuer
    assert oct((tmp_path / "report" / "localhost" / "remediation-state.json").stat().st_mode & 0o777) == "0o600"
    assert all(json.dumps(json.loads(state["trust_policies"][n]), sort_keys=True) == before["roles"][n] for n in state["trust_policies"])

    again = run(REMEDIATE, env, tmp_path, base_vars(tmp_path, oidc_confirm=True), log_name="again")
    assert again.returncode == 0, harness.describe(again)
    assert recap_changed(again.stdout) == 0, harness.describe(again)
    assert snapshot(lab, world) == after
    assert json.loads((tmp_path / "report" / "localhost" / "remediation-state.json").read_text()) == state

    checked = run(ROLLBACK, env, tmp_path, base_vars(tmp_path), args=["--check"], log_name="rollback-check")
    assert checked.returncode == 0, harness.describe(checked)
    assert snapshot(lab, world) == after

    rolled = run(ROLLBACK, env, tmp_path, base_vars(tmp_path), log_name="rollback")
    assert rolled.returncode == 0, harness.describe(rolled)
    assert snapshot(lab, world) == before
    assert world.cluster.active_issuer == old_issuer


def test_faults_and_kill_converge(make_world, tmp_path):
    """API server 500s on the issuer patch, AWS throttling, a run killed mid-way: re-running converges, no duplicates."""
    world = make_world("broken-private-bucket")
    lab = world.lab
    env = harness.world_env(lab, world, tmp_path)
    before = snapshot(lab, world)
    extra = base_vars(tmp_path, oidc_confirm=True)

    cmd = [harness.ANSIBLE_PLAYBOOK, str(REMEDIATE), "-e", json.dumps(extra)]
    with subprocess.Popen(cmd, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            if "TASK [openshift_sts.oidc.iam_trust : Create the IAM OIDC provider" in line:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)

    world.cluster.add_fault(r"/apis/config\.openshift\.io/v1/authentications/cluster", status=500, count=1, method="PATCH")
    lab.faults.inject("iam", "throttle", count=2)
    failed = run(REMEDIATE, env, tmp_path, extra, log_name="fault-500")
    assert failed.returncode != 0
    lab.faults.clear()
    world.cluster.clear_faults()

    converged = run(REMEDIATE, env, tmp_path, extra, log_name="fault-converged")
    assert converged.returncode == 0, harness.describe(converged)
    assert "VERDICT: healthy" in converged.stdout
    after = snapshot(lab, world)
    assert len(after["distributions"]) == len(before["distributions"]) + 1
    assert len(after["providers"]) == len(before["providers"]) + 1
    assert after["buckets"] == sorted(before["buckets"] + [BUCKET])

    rolled = run(ROLLBACK, env, tmp_path, base_vars(tmp_path), log_name="fault-rollback")
    assert rolled.returncode == 0, harness.describe(rolled)
    assert snapshot(lab, world) == before
