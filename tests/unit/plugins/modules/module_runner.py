"""Run a module's ``main()`` in-process the way Ansible does, and read back what it printed (exit_json or fail_json)."""

from __future__ import annotations

import contextlib
import json
from unittest import mock

import pytest

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose ``args`` to AnsibleModule the way older ansible-core unit tests do."""
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield


def run_main(capsys, module, check_mode=False, diff=False, **args):
    """Run ``module.main()`` with ``args`` (and Ansible's check and diff flags); return (failed, result, raw stdout).

    ``main()`` must end in exit_json or fail_json (SystemExit); the result is the JSON it printed.
    """
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    return bool(result.get("failed")), result, out


def runner(module):
    """``run_module(capsys, check_mode=False, diff=False, **args) -> (failed, result, raw stdout)`` for ``module``."""
    def run_module(capsys, check_mode=False, diff=False, **args):
        """Run main() with ``args``; return (failed, result, raw stdout)."""
        return run_main(capsys, module, check_mode=check_mode, diff=diff, **args)
    return run_module
