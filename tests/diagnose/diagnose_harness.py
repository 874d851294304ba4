"""Helpers of the diagnose.yml tests: environments as users and AAP give them, running the playbook, reading reports.

The tests drive ``playbooks/diagnose.yml`` from the checkout exactly as a user
does (``ansible-playbook`` with the repo's ansible.cfg and collections path),
against worlds built in an in-process lab (lab/scenarios). Nothing here
imports the collection's code: the reports are read as files and validated
against ``docs/report-schema.json``.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "diagnose.yml"
SCHEMA_PATH = ROOT / "docs" / "report-schema.json"
OUTPUT_DIR = ROOT / "tests" / "output"
SCREENSHOT_DIR = OUTPUT_DIR / "screenshots"
LOG_DIR = OUTPUT_DIR / "diagnose"
BIN_DIR = os.path.dirname(sys.executable)
ANSIBLE_PLAYBOOK = os.path.join(BIN_DIR, "ansible-playbook")

# Variables of the test process that must not reach the playbook: the diagnosis
# gets its credentials from the world only (as AAP injects them).
_SCRUBBED_PREFIXES = ("AWS_", "K8S_AUTH_", "ANSIBLE_", "LAB_")
_SCRUBBED = {"KUBECONFIG", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
             "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"}

# What AAP's "OpenShift or Kubernetes API Bearer Token" credential injects.
K8S_AAP_VARIABLES = ("K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_VERIFY_SSL")

LINK_STATE_TAGS = {"ok": "OK", "warn": "WARN", "fail": "FAIL", "unknown": "INFO"}
SUMMARY_LINE = re.compile(r'^\s*"\[(OK|WARN|FAIL|INFO)\] (.*?)",?$')
VERDICT_LINE = re.compile(r'^\s*"VERDICT: (healthy|degraded|broken)\b(.*?)",?$')

_SCHEMA = None


def ansible_env():
    """The test process's environment without credentials or proxies, plus the checkout's Ansible settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(_SCRUBBED_PREFIXES) and key not in _SCRUBBED}
    env.update({
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "PATH": BIN_DIR + os.pathsep + os.environ.get("PATH", ""),
    })
    return env


def lab_network_env(lab, region):
    """What reaches the lab (endpoints, proxy, CA) and the region; no credential of any kind."""
    env = {key: value for key, value in lab.env().items()
           if not key.startswith("K8S_AUTH_") and key not in ("KUBECONFIG", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def aws_credentials_env(lab):
    """What AAP's Amazon Web Services credential injects (the lab's dummy key pair)."""
    env = lab.env()
    return {"AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"]}


def no_aws_credentials_env():
    """No AWS credentials anywhere: empty keys, no shared files, no instance metadata."""
    return {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true"}


def cluster_env(world, directory):
    """What AAP's OpenShift credential injects for ``world``'s cluster twin (K8S_AUTH_*; no kubeconfig)."""
    full = world.cluster.env(str(directory))
    return {key: full[key] for key in K8S_AAP_VARIABLES}


def kubernetes_vars(world, directory):
    """The role's ``oidc_kubernetes`` for ``world``'s cluster (per-host connection options of a fleet)."""
    env = cluster_env(world, directory)
    return {"host": env["K8S_AUTH_HOST"], "api_key": env["K8S_AUTH_API_KEY"], "ca_cert": env["K8S_AUTH_SSL_CA_CERT"],
            "validate_certs": True}


def world_env(lab, world, directory, aws=True):
    """The full environment of one diagnosis of ``world``: Ansible settings, lab network, AWS and cluster credentials."""
    env = ansible_env()
    env.update(lab_network_env(lab, world.region))
    env.update(aws_credentials_env(lab) if aws else no_aws_credentials_env())
    if world.cluster is not None:
        env.update(cluster_env(world, directory))
    return env


def run_playbook(env, cwd, extra_vars=None, args=(), log_name=None, timeout=600):
    """Run ``ansible-playbook playbooks/diagnose.yml`` with ``extra_vars`` (a dict, passed as JSON) and ``args``.

    Returns the CompletedProcess; stdout and stderr are also kept in tests/output/diagnose/<log_name>.log.
    """
    cmd = [ANSIBLE_PLAYBOOK, str(PLAYBOOK)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    cmd += list(args)
    proc = subprocess.run(cmd, env=env, cwd=str(cwd), capture_output=True, text=True, timeout=timeout, check=False)
    if log_name:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        (LOG_DIR / (log_name + ".log")).write_text(
            "$ %s\n\n%s\n--- stderr ---\n%s" % (" ".join(cmd), proc.stdout, proc.stderr), encoding="utf-8")
    return proc


def describe(proc):
    """The tail of a run's output, for assertion messages."""
    return "rc=%s\n%s\n--- stderr ---\n%s" % (proc.returncode, proc.stdout[-8000:], proc.stderr[-3000:])


def schema():
    """docs/report-schema.json, parsed once."""
    global _SCHEMA  # pylint: disable=global-statement  # a module-level cache
    if _SCHEMA is None:
        _SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(_SCHEMA)
    return _SCHEMA


def load_report(report_dir):
    """``report.json`` of ``report_dir``, validated against the schema."""
    path = pathlib.Path(report_dir) / "report.json"
    assert path.is_file(), "no report.json in %s" % report_dir
    report = json.loads(path.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(report), key=lambda e: list(e.absolute_path))
    assert not errors, "%s does not match docs/report-schema.json:\n%s" % (
        path, "\n".join("%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message) for e in errors[:10]))
    return report


def console_summary(stdout):
    """The ``[OK]``/``[WARN]``/``[FAIL]``/``[INFO]`` lines and the VERDICT lines printed by the playbook.

    Returns ``(link lines as (tag, text) tuples, verdict lines as (status, rest) tuples)``.
    """
    links, verdicts = [], []
    for line in stdout.splitlines():
        match = SUMMARY_LINE.match(line)
        if match:
            links.append((match.group(1), match.group(2)))
            continue
        match = VERDICT_LINE.match(line)
        if match:
            verdicts.append((match.group(1), match.group(2)))
    return links, verdicts


def chromium():
    """The headless Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html_path, png_path, profile_dir, size=(1280, 2000)):
    """Open ``html_path`` in headless Chromium (no network) and save a screenshot to ``png_path``."""
    browser = chromium()
    assert browser, "headless Chromium is required for the HTML report test: apt-get install -y chromium"
    png_path = pathlib.Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    if png_path.exists():
        png_path.unlink()
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
           "--hide-scrollbars", "--user-data-dir=%s" % profile_dir, "--window-size=%d,%d" % size,
           "--screenshot=%s" % png_path, pathlib.Path(html_path).resolve().as_uri()]
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert png_path.is_file() and png_path.stat().st_size > 1000, "chromium made no screenshot (rc=%s):\n%s" % (
        proc.returncode, proc.stderr[-3000:])
    return png_path
