"""A fleet: one inventory host per cluster, diagnosed in parallel by one run of diagnose.yml."""

import json
import re

import yaml

from diagnose_harness import ansible_env, aws_credentials_env, describe, kubernetes_vars, lab_network_env, load_report, run_playbook

# Three clusters in one lab and one AWS account. The private bucket is blocked at bucket level here:
# the scenario's account-level Block Public Access would also close the other clusters' public S3 issuer.
FLEET = (
    ("healthy-cloudfront", {}),
    ("broken-private-bucket", {"aws.hosting.block_public_access": "bucket"}),
    ("trust-policy-wrong-subject", {}),
)


def test_fleet_three_clusters(make_world, diagnose_lab, tmp_path):
    """-f 3: own verdict per host, fleet.json and one console line per cluster, nothing shared between hosts."""
    worlds = [make_world(name, params) for name, params in FLEET]
    hosts = {}
    for world in worlds:
        hosts[world.cluster_name] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "oidc_kubernetes": kubernetes_vars(world, tmp_path / world.cluster_name),
            "oidc_aws_region": world.region,
        }
    inventory = tmp_path / "clusters.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    env = ansible_env()
    env.update(lab_network_env(diagnose_lab, "us-east-1"))  # a default region no cluster uses: each host gives its own
    env.update(aws_credentials_env(diagnose_lab))
    root = tmp_path / "reports"
    scratch = tmp_path / "tmp"  # where each host's diagnosis keeps its tokens until it has read them
    scratch.mkdir()
    env["TMPDIR"] = str(scratch)
    proc = run_playbook(env, tmp_path, {"oidc_report_root": str(root), "oidc_fail_on": "never"},
                        ["-i", str(inventory), "-f", "3", "-v"], log_name="fleet")
    assert proc.returncode == 0, describe(proc)

    expected = {world.cluster_name: world for world in worlds}
    reports = {}
    for host, world in expected.items():
        report = load_report(root / host)
        reports[host] = report
        assert report["cluster"]["name"] == host
        assert report["issuer"] == world.issuer, (host, report["issuer"])
        verdict = report["verdict"]
        assert (verdict["status"], verdict["root_cause"]) == (world.expect["live"]["status"], world.expect["live"]["root_cause"]), host
        # Each host's roles are its own cluster's roles.
        assert {role["role_arn"] for role in report["roles"]} == set(world.role_arns.values()), host

    fleet = json.loads((root / "fleet.json").read_text())
    assert sorted((c["cluster"], c["status"], c["root_cause"]) for c in fleet["clusters"]) == sorted(
        (host, r["verdict"]["status"], r["verdict"]["root_cause"]) for host, r in reports.items())

    console = [line for line in proc.stdout.splitlines() if re.match(r'^\s*"[^"]+ \| (healthy|degraded|broken) \| ', line)]
    assert sorted(line.strip().split(" | ")[0].strip('"') for line in console) == sorted(expected), describe(proc)

    left = [path.name for path in scratch.iterdir() if path.name.startswith("oidc-diagnose-")]
    assert not left, "token folders left behind: %s" % left
    for world in worlds:
        assert kubernetes_vars(world, tmp_path / world.cluster_name)["api_key"] not in proc.stdout
