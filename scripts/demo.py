"""make demo: the collection's main job, end to end, on the lab's embedded default world.

1. The lab builds the reported case, `broken-private-bucket`: a ccoctl-style S3
   issuer in an AWS account whose Block Public Access forbids public buckets,
   and the install directory a user holds before `openshift-install create
   cluster` (AWS twin and its public internet on loopback).
2. diagnose.yml on the install directory: broken, root cause ISSUER_BUCKET_PRIVATE.
3. remediate.yml: private bucket behind CloudFront with origin access control,
   IAM trust, manifests; it verifies with STS before it succeeds.
4. diagnose.yml again: healthy.
The reports of both diagnoses stay in build/demo/.
"""

import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEMO = ROOT / "build" / "demo"
LAB_STATE = DEMO / "lab"
INSTALL_DIR = DEMO / "install"
BIN = pathlib.Path(sys.executable).parent


def lab(*args):
    """Run ``python -m lab ...`` from the checkout."""
    return subprocess.run([sys.executable, "-m", "lab"] + list(args), cwd=str(ROOT), check=True)


def lab_env():
    """The environment the lab's env file describes (what a user's shell or AAP would hold)."""
    env = {}
    for line in (LAB_STATE / "env").read_text().splitlines():
        if line.startswith("export "):
            key, value = line[len("export "):].split("=", 1)
            env[key] = shlex.split(value)[0] if value else ""
    return env


def playbook(name, env, *extra):
    """ansible-playbook playbooks/<name>.yml with the lab's environment; returns the exit code."""
    cmd = [str(BIN / "ansible-playbook"), str(ROOT / "playbooks" / ("%s.yml" % name))] + list(extra)
    print("\n$ " + " ".join(shlex.quote(part) for part in cmd[0:1] + ["playbooks/%s.yml" % name] + list(extra)), flush=True)
    return subprocess.run(cmd, env=env, cwd=str(DEMO), check=False).returncode


def verdict(report_root):
    """The verdict of the one cluster diagnosed into ``report_root``."""
    report = json.loads((report_root / "localhost" / "report.json").read_text())
    return report["verdict"]


def main():
    lab("down", "--state-dir", str(LAB_STATE))
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir(parents=True)
    lab("install-dir", "--state-dir", str(LAB_STATE), "--scenario", "broken-private-bucket", str(INSTALL_DIR))
    try:
        world = json.loads((LAB_STATE / "world.json").read_text())
        env = dict(os.environ, **lab_env())
        env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build" / "collections"),
                   ANSIBLE_FORCE_COLOR=os.environ.get("ANSIBLE_FORCE_COLOR", "0"))
        region = env["AWS_REGION"]
        common = ["-e", "oidc_install_dir=%s" % INSTALL_DIR, "-e", "oidc_aws_region=%s" % region]

        print("\n=== 1. Diagnose the install directory (before install) ===")
        before = DEMO / "report-before"
        playbook("diagnose", env, *common, "-e", "oidc_report_root=%s" % before, "-e", "oidc_fail_on=never")
        first = verdict(before)
        print("\nVERDICT: %s, root cause %s" % (first["status"], first["root_cause"]))

        print("\n=== 2. Remediate: private bucket behind CloudFront, IAM trust, manifests, verified ===")
        bucket = (first.get("fix") or {}).get("variables", {}).get("oidc_bucket_name") or world.get("bucket")
        rc = playbook("remediate", env, *common, "-e", "oidc_bucket_name=%s" % bucket, "-e", "oidc_deploy_poll=1",
                      "-e", "oidc_report_root=%s" % (DEMO / "report-remediation"))
        if rc != 0:
            print("remediate.yml failed (exit %d)" % rc)
            return rc

        print("\n=== 3. Diagnose again ===")
        after = DEMO / "report-after"
        rc = playbook("diagnose", env, *common, "-e", "oidc_report_root=%s" % after)
        second = verdict(after)
        print("\nBefore: %s (%s)   After: %s" % (first["status"], first["root_cause"], second["status"]))
        print("Reports:\n  %s\n  %s" % (before / "localhost" / "report.html", after / "localhost" / "report.html"))
        print("Install directory (manifests now name the CloudFront issuer): %s" % INSTALL_DIR)
        return rc
    finally:
        lab("down", "--state-dir", str(LAB_STATE))


if __name__ == "__main__":
    sys.exit(main())
