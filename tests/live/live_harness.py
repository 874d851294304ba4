"""Helpers of the live remediation tests: running the playbooks, reading the lab's AWS and cluster as they are.

Nothing here imports the collection's code. Trust policies are read as IAM stores them, byte for byte: from the lab
(``GET /_lab/trust_policies``) and, as any client sees them, from ``GetRole`` with botocore's policy decoding off.
"""

import json
import subprocess
import urllib.parse

import boto3
from botocore.config import Config
from botocore.handlers import json_decode_policies

import diagnose_harness as harness
from lab.control import LabControl

REMEDIATE = harness.ROOT / "playbooks" / "remediate.yml"
ROLLBACK = harness.ROOT / "playbooks" / "rollback.yml"
BUCKET = "lab-bpa-oidc-private"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# AWS operations that change something (by name); a read-only run makes none of them.
MUTATING_PREFIXES = ("Create", "Put", "Update", "Delete", "Tag", "Untag", "Add", "Remove", "Associate", "Upload", "Copy")


def run(playbook, env, cwd, extra=None, args=(), log_name=None):
    """Run a playbook of the checkout with JSON extra vars (log in tests/output/diagnose/live-<log_name>.log)."""
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


def state_path(tmp_path):
    """The state file of the runs of ``base_vars``."""
    return tmp_path / "report" / "localhost" / "remediation-state.json"


def recap_changed(stdout):
    """The changed= count of the play recap."""
    line = [ln for ln in stdout.splitlines() if ln.startswith("localhost") and "changed=" in ln][-1]
    return int(line.split("changed=")[1].split()[0])


def one_line(stdout):
    """The output with its JSON-escaped line breaks and runs of blanks folded, for matching messages."""
    return " ".join(stdout.replace("\\n", " ").split())


def aws(lab, service, region="us-east-2"):
    """A plain boto3 client of the lab's AWS twin (its dummy credentials, no retries hiding faults)."""
    env = lab.env()
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                    region_name=region)
    return session.client(service, endpoint_url=lab.aws.url, config=Config(retries={"total_max_attempts": 3}))


def raw_iam(lab):
    """An IAM client that returns policy documents as IAM sends them (URL-encoded text), not as dicts."""
    client = aws(lab, "iam")
    client.meta.events.unregister("after-call.iam", json_decode_policies)
    return client


def stored_trust_texts(lab):
    """``{role: trust policy text}`` as the lab's IAM stores them, through its control API."""
    return LabControl(lab.control_url).trust_policies()


def get_role_texts(lab, names):
    """``{role: trust policy text}`` as ``GetRole`` returns them (URL-decoded, nothing else)."""
    iam = raw_iam(lab)
    return {name: urllib.parse.unquote(iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]) for name in names}


def _reordered(value):
    """``value`` with the keys of every object in reverse order."""
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


def seed_odd_trust_texts(lab):
    """Rewrite every role's trust policy with the same meaning in a text no serializer would produce (keys in reverse
    order, tabs, spaces before separators, a trailing blank line); returns ``{role: text}``."""
    iam = aws(lab, "iam")
    seeded = {}
    for name, text in stored_trust_texts(lab).items():
        odd = "  " + json.dumps(_reordered(json.loads(text)), indent="\t", separators=(" ,", " :  ")) + "\n\n"
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=odd)
        seeded[name] = odd
    assert stored_trust_texts(lab) == seeded
    return seeded


def providers(lab):
    """``{arn: {url, client_ids, thumbprints, tags}}`` of every IAM OIDC provider."""
    iam = aws(lab, "iam")
    found = {}
    for item in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=item["Arn"])
        found[item["Arn"]] = {"url": provider["Url"], "client_ids": provider.get("ClientIDList", []),
                              "thumbprints": provider.get("ThumbprintList", []),
                              "tags": sorted((tag["Key"], tag["Value"]) for tag in provider.get("Tags", []))}
    return found


def snapshot(lab, world):
    """What the remediation may touch: the issuer, every role's trust text as stored, buckets, distributions, origin
    access controls, providers with their details."""
    auth = world.cluster.get("Authentication", "cluster")
    cloudfront = aws(lab, "cloudfront")
    controls = cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items") or []
    return {
        "issuer": (auth.get("spec") or {}).get("serviceAccountIssuer"),
        "roles": stored_trust_texts(lab),
        "buckets": sorted(b["Name"] for b in aws(lab, "s3").list_buckets()["Buckets"]),
        "distributions": sorted(d["Id"] for d in (cloudfront.list_distributions()["DistributionList"].get("Items") or [])),
        "origin_access_controls": sorted(o["Name"] for o in controls),
        "providers": providers(lab),
    }


def added(before, after):
    """What ``after`` has that ``before`` had not, per kind of resource (lists)."""
    return {kind: sorted(set(after[kind]) - set(before[kind])) for kind in ("buckets", "distributions", "origin_access_controls", "providers")}


def pods(world):
    """(namespace, name, start time) of every pod."""
    return sorted((p["metadata"]["namespace"], p["metadata"]["name"], (p.get("status") or {}).get("startTime"))
                  for p in world.cluster.list("Pod"))


def cluster_writes(world):
    """(method, path) of the requests that change the cluster: server-side dry runs and TokenRequests (which store
    nothing) are left out."""
    return [(r.method, r.path) for r in world.cluster.requests
            if r.method in WRITE_METHODS and not r.dry_run and not r.path.rstrip("/").endswith("/token")]


def aws_writes(lab):
    """``service:Operation`` of every AWS API call that changes something, from the lab's request log."""
    return sorted({"%s:%s" % (e.get("service"), e.get("operation")) for e in lab.log.entries(kind="api")
                   if str(e.get("operation") or "").startswith(MUTATING_PREFIXES)})
