"""``python -m lab up|status|down`` (issue 3 §5)."""

import os
import subprocess
import time

import boto3

from cli_support import process_gone, read_env_file, run_lab_cli


def test_up_status_down_leaves_no_process(tmp_path):
    state = str(tmp_path / "state")
    env_file = str(tmp_path / "lab.env")
    start = time.monotonic()
    up = run_lab_cli("up", "--state-dir", state, "--env-file", env_file)
    elapsed = time.monotonic() - start
    assert up.returncode == 0, up.stderr
    print(f"lab up took {elapsed:.2f}s (target < 3 s): {up.stdout.strip()}")
    pid = int(open(os.path.join(state, "lab.pid"), encoding="utf-8").read())
    try:
        values = read_env_file(env_file)
        for name in ("AWS_ENDPOINT_URL", "AWS_URL", "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                     "AWS_CA_BUNDLE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                     "AWS_DEFAULT_REGION", "LAB_CONTROL_URL"):
            assert values.get(name), name
        assert run_lab_cli("status", "--state-dir", state, "--env-file", env_file).returncode == 0
        shell = subprocess.run(["bash", "-c", f"set -a; . {env_file}; echo $AWS_ENDPOINT_URL"], capture_output=True,
                               text=True, check=True)
        assert shell.stdout.strip() == values["AWS_ENDPOINT_URL"]
        s3 = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1").client(
            "s3", endpoint_url=values["AWS_ENDPOINT_URL"])
        assert s3.list_buckets()["Buckets"] == []
    finally:
        down = run_lab_cli("down", "--state-dir", state)
    assert down.returncode == 0, down.stderr
    assert process_gone(pid)
    assert run_lab_cli("status", "--state-dir", state).returncode == 1
