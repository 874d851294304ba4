"""Offline stand-in for the get-pip bootstrap script ansible-test downloads.

ansible-test's --venv/--requirements bootstrap fetches get-pip-<version>.py
from a host this machine cannot reach (ansible/ansible#77304). This script is
placed at ansible-test's cache path instead (scripts/ansible-test-offline): it
bootstraps pip with ensurepip, then runs `pip install --upgrade` with the
arguments ansible-test passed, so packages still come from the configured
package index.
"""

import os
import subprocess
import sys


def main():
    # ensurepip points PIP_CONFIG_FILE at /dev/null, which would hide the
    # system pip configuration (package index, CA bundle).
    env = dict(os.environ)
    env.pop("PIP_CONFIG_FILE", None)
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--upgrade"] + args, env=env, check=False)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
