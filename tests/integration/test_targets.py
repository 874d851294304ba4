"""Run every integration target through ansible-playbook, as users run the collection.

Each folder under tests/integration/targets/ is an ansible-test style target
(tasks/main.yml + aliases). This driver gives each one a playbook on
localhost with the controller's Python, the collection on the collections
path, and, for targets whose aliases name ``lab``, the environment of a
running lab (local twins of AWS and OpenShift), exactly as a user's shell or
AAP would provide it. A target passes when ansible-playbook exits 0: the
targets assert their own expectations.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGETS_DIR = ROOT / "tests" / "integration" / "targets"
TARGETS = sorted(p.name for p in TARGETS_DIR.iterdir() if (p / "tasks" / "main.yml").is_file()) if TARGETS_DIR.is_dir() else []


def aliases(target):
    """The aliases of a target, one per line, comments dropped."""
    path = TARGETS_DIR / target / "aliases"
    if not path.is_file():
        return set()
    return {line.split("#", 1)[0].strip() for line in path.read_text().splitlines()} - {""}


def base_env():
    """The environment every target gets: collection paths, the repo's ansible.cfg."""
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / "build" / "collections")
    env["ANSIBLE_ROLES_PATH"] = str(TARGETS_DIR)
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


@pytest.mark.parametrize("target", TARGETS)
def test_target(target, tmp_path, request):
    """The target's tasks run to the end on localhost: every assertion in it holds."""
    env = base_env()
    if "lab" in aliases(target):
        env.update(request.getfixturevalue("lab_env"))
    if "needs/openshift" in aliases(target):
        env.update(request.getfixturevalue("openshift_env"))
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- name: Integration target %s\n  hosts: localhost\n  gather_facts: false\n  roles:\n    - %s\n" % (target, target)
    )
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        "-i", "localhost,", "-c", "local",
        "-e", "ansible_python_interpreter=%s" % sys.executable,
        "-e", "output_dir=%s" % tmp_path,
        str(playbook),
    ]
    proc = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=900, check=False)
    (tmp_path / "ansible.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, "target %s failed:\n%s\n%s" % (target, proc.stdout[-6000:], proc.stderr[-3000:])
