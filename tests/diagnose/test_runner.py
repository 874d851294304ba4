"""The diagnosis through ansible-runner, AAP's engine, with credentials only as environment variables.

AAP runs a job template with ansible-runner: the credentials' injectors put
K8S_AUTH_* and AWS_* in the environment, the survey gives extra vars, and the
``set_stats`` data of the run comes back in the ``artifact_data`` of the
``playbook_on_stats`` event, which a workflow passes to the next nodes.
"""

import json
import re

import ansible_runner
import pytest

from diagnose_harness import BIN_DIR, PLAYBOOK, ROOT, aws_credentials_env, cluster_env, lab_network_env

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
def test_runner_env_credentials_and_set_stats(make_world, diagnose_lab, tmp_path):
    """Verbosity 3: the verdict is in artifact_data; no token, AWS secret key or API key in stdout or job events."""
    world = make_world("broken-private-bucket")
    private = tmp_path / "runner"
    (private / "inventory").mkdir(parents=True)
    (private / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    envvars = dict(lab_network_env(diagnose_lab, world.region))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):  # AAP's AWS credential injects no region: it comes from the survey
        envvars.pop(name)
    envvars.update(aws_credentials_env(diagnose_lab))
    envvars.update(cluster_env(world, tmp_path / "cluster"))
    envvars.update({"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                    "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
                    "PATH": BIN_DIR + ":/usr/bin:/bin"})
    report_root = private / "artifacts" / "oidc-report"
    result = ansible_runner.run(
        private_data_dir=str(private), playbook=str(PLAYBOOK), envvars=envvars, verbosity=3, quiet=True,
        extravars={"oidc_aws_region": world.region, "oidc_report_root": str(report_root), "oidc_fail_on": "never"})
    stdout = result.stdout.read()
    assert result.rc == 0 and result.status == "successful", stdout[-6000:]

    stats = [event for event in result.events if event.get("event") == "playbook_on_stats"]
    assert len(stats) == 1
    diagnosis = stats[0]["event_data"]["artifact_data"]["oidc_diagnosis"]
    assert set(diagnosis) == {"localhost"}, diagnosis
    assert diagnosis["localhost"]["status"] == "broken"
    assert diagnosis["localhost"]["root_cause"] == "ISSUER_BUCKET_PRIVATE"
    report = json.loads((report_root / "localhost" / "report.json").read_text())
    assert report["verdict"]["root_cause"] == "ISSUER_BUCKET_PRIVATE"

    # The secrets: the API bearer token, the AWS secret key, any JWT (the probe and STS tokens), private keys.
    secrets = [envvars["K8S_AUTH_API_KEY"], envvars["AWS_SECRET_ACCESS_KEY"]]
    artifacts = private / "artifacts" / result.config.ident
    checked = 0
    # Everything the job leaves: the runner's stdout, job events and fact cache, and the reports.
    for path in sorted((private / "artifacts").rglob("*")):
        # ``command`` is ansible-runner's record of its own input (command line and full environment, mode
        # 0600), as AAP keeps a job's environment; it is not output of the playbook.
        if not path.is_file() or path.name == "command":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        checked += 1
        relative = path.relative_to(private)
        for secret in secrets:
            assert secret not in text, "a credential appears in %s" % relative
        assert not JWT.search(text), "a token appears in %s: %s" % (relative, JWT.search(text).group(0)[:40])
        assert "PRIVATE KEY-----" not in text, "a private key appears in %s" % relative
    assert checked > 20 and (artifacts / "stdout").is_file() and any((artifacts / "job_events").iterdir())
    # Verbosity 3 really was on (connection details are shown): the scan covered the most talkative output.
    assert "ESTABLISH LOCAL CONNECTION" in stdout, stdout[:3000]
