"""Benchmark of sts_assume_check (issue 5): 100 roles, 200 ms injected STS latency, through ansible-playbook.

Prints a table (not a timed test): for the default (50 calls in flight at
first, one more per answer up to 250) and for fixed pools (``max_concurrency``
equal to ``concurrency``), the time of the module task, the span of the STS
calls in the lab's request log, and the whole ansible-playbook run, against
the 200 ms critical path (one STS call) and the one-by-one loop. Asserts only sanity: every
role is accepted, with one STS call each. Run it with ``make bench`` or::

    .venv/bin/pytest -q -s tests/bench/bench_sts_assume_check.py
"""

import json
import os
import pathlib
import subprocess
import sys
import time

import boto3

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sts_waves import sts_waves  # noqa: E402  pylint: disable=wrong-import-position
from lab.oidc import SigningKey, discovery_document, trust_policy  # noqa: E402  pylint: disable=wrong-import-position
from lab.world import Lab  # noqa: E402  pylint: disable=wrong-import-position

ROLES = 100
LATENCY = 0.2
SUB = "system:serviceaccount:openshift-machine-api:machine-api-controllers"
# (concurrency, max_concurrency, label): the module's default, then fixed pools.
RUNS = ((50, 250, "default (50, growing to 250)"), (16, 16, "fixed pool of 16"), (ROLES, ROLES, "fixed pool of 100"),
        (1, 1, "one by one"))

PLAYBOOK = """
- name: Benchmark sts_assume_check
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start the clock
      ansible.builtin.set_fact:
        bench_started: "{{ now().timestamp() }}"

    - name: Assume every role
      openshift_sts.oidc.sts_assume_check:
        roles: "{{ bench_roles }}"
        concurrency: "{{ bench_concurrency }}"
        max_concurrency: "{{ bench_max_concurrency }}"
      register: bench_result

    - name: Save the result and the task time
      ansible.builtin.copy:
        content: "{{ {'seconds': now().timestamp() - (bench_started | float), 'result': bench_result} | to_json }}"
        dest: "{{ bench_out }}"
        mode: "0600"
"""


def _world(lab, workdir):
    """A public S3 issuer, its IAM provider, ROLES roles trusting the token's subject; the token file."""
    env = lab.env()
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                    region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
    iam = session.client("iam", endpoint_url=env["AWS_ENDPOINT_URL"])
    bucket = "bench-sts-oidc"
    issuer = "https://%s.s3.us-east-1.amazonaws.com" % bucket
    key = SigningKey()
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}]}))
    s3.put_object(Bucket=bucket, Key=".well-known/openid-configuration", Body=discovery_document(issuer).encode())
    s3.put_object(Bucket=bucket, Key="keys.json", Body=key.jwks().encode())
    provider = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["openshift"],
                                                   ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
    policy = trust_policy(provider, issuer[len("https://"):], [SUB])
    arns = [iam.create_role(RoleName="bench-role-%03d" % index, AssumeRolePolicyDocument=policy)["Role"]["Arn"]
            for index in range(ROLES)]
    token_file = workdir / "token"
    token_file.write_text(key.token(issuer, sub=SUB))
    token_file.chmod(0o600)
    return [{"role_arn": arn, "token_file": str(token_file)} for arn in arns]


def _env(lab):
    """The environment of a user's shell with the lab, the collection and the repo's ansible.cfg."""
    env = dict(os.environ)
    env.update(lab.env())
    env.update({"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
                "ANSIBLE_NOCOLOR": "1"})
    return env


def _run(lab, workdir, roles, concurrency, ceiling):
    """One ansible-playbook run; returns (wall seconds, task seconds, STS span seconds, result)."""
    out = workdir / ("result-%d-%d.json" % (concurrency, ceiling))
    variables = workdir / "vars.json"
    variables.write_text(json.dumps({"bench_roles": roles, "bench_concurrency": concurrency, "bench_max_concurrency": ceiling,
                                     "bench_out": str(out),
                                     "ansible_python_interpreter": sys.executable}))
    playbook = workdir / "bench.yml"
    playbook.write_text(PLAYBOOK)
    since = lab.log.last_seq()
    started = time.perf_counter()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "@%s" % variables, str(playbook)],
                          env=_env(lab), cwd=str(workdir), capture_output=True, text=True, timeout=300, check=False)
    wall = time.perf_counter() - started
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    saved = json.loads(out.read_text())
    calls = lab.log.entries(since=since, kind="api", operation="AssumeRoleWithWebIdentity")
    # each record is written when its answer leaves, LATENCY after the call arrived
    span = (calls[-1]["time"] - calls[0]["time"] + LATENCY) if calls else 0.0
    return wall, saved["seconds"], span, saved["result"], calls


def test_sts_assume_check_100_roles(tmp_path):
    """Print the figures; assert that every run accepted all 100 roles with one STS call each."""
    rows = []
    with Lab(state_dir=str(tmp_path / "lab")) as lab:
        lab.reset()  # moto's state is per process: start from an empty world
        roles = _world(lab, tmp_path)
        lab.faults.set_latency("sts", LATENCY)
        for concurrency, ceiling, label in RUNS:
            wall, task, span, result, calls = _run(lab, tmp_path, roles, concurrency, ceiling)
            assert result["ok"] and len(result["roles"]) == ROLES
            assert all(item["ok"] and item["attempts"] == 1 for item in result["roles"])
            assert len(calls) == ROLES and all(call["status"] == 200 for call in calls)
            rows.append((label, concurrency, ceiling, span, task, wall))
    sequential = rows[-1][3]
    assert sequential >= ROLES * LATENCY  # the latency really was injected on every call
    print("\nsts_assume_check: %d roles, %d ms injected STS latency, %d CPUs" % (ROLES, LATENCY * 1000, os.cpu_count() or 0))
    print("  critical path (one STS call): %.2f s; one-by-one floor: %.2f s" % (LATENCY, ROLES * LATENCY))
    print("  %-32s %9s %9s %11s %8s %11s %11s" % ("run", "in flight", "floor s", "STS span s", "task s", "playbook s", "x critical"))
    for label, concurrency, ceiling, span, task, wall in rows:
        floor = sts_waves(ROLES, concurrency, ceiling) * LATENCY
        in_flight = "%d-%d" % (concurrency, ceiling) if ceiling != concurrency else str(concurrency)
        print("  %-32s %9s %9.2f %11.2f %8.2f %11.2f %11.1f" % (label, in_flight, floor, span, task, wall, span / LATENCY))
    print("  floor = round trips of the calls in flight (one more per answer, up to the ceiling) x %.1f s; task = the module"
          " task as ansible-playbook timed it; playbook = the whole ansible-playbook process" % LATENCY)
    print("  speed-up of the default over one by one (STS span): %.1fx" % (sequential / rows[0][3]))
