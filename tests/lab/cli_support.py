"""Helpers of the tests of the lab's command line (``python -m lab up|status|down|install-dir``).

They run the CLI in a child process, read the env file it writes, and tell whether the lab's process has ended.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_lab_cli(*args, timeout=120):
    """``python -m lab *args`` from the checkout, without the caller's HTTPS proxy; returns the CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    for name in ("HTTPS_PROXY", "https_proxy"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "lab", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def process_gone(pid):
    """True if ``pid`` no longer runs (a zombie awaiting this container's init counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def read_env_file(path):
    """The variables of an env file of ``export NAME='value'`` lines."""
    values = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            key, value = line.strip()[len("export "):].partition("=")[::2]
            values[key] = value.strip("'")
    return values
