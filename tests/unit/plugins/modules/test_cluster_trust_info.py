"""Unit tests of the cluster_trust_info module: install directory end to end, check mode, option errors, no secrets out."""

from __future__ import annotations

import contextlib
import json
import os
from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.openshift_sts.oidc.plugins.modules import cluster_trust_info
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.module_utils.test_cluster_trust import ISSUER, install_dir

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose ``args`` to AnsibleModule the way older ansible-core unit tests do."""
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield


def run_module(capsys, check_mode=False, **args):
    """Run main() with ``args``; return (failed, result, raw stdout)."""
    with patch_module_args(dict(args, _ansible_check_mode=check_mode)):
        with pytest.raises(SystemExit):
            cluster_trust_info.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    return bool(result.get("failed")), result, out


@pytest.mark.parametrize("check_mode", [False, True])
def test_install_dir_in_check_mode_too(capsys, keyfactory, tmp_path, check_mode):
    key_pem = keyfactory.traditional_pem("rsa2048")
    root = install_dir(str(tmp_path / "install"), key_pem)
    tokens = str(tmp_path / "tokens")
    failed, result, out = run_module(capsys, check_mode=check_mode, install_dir=root, token_dir=tokens)
    assert not failed, result
    assert result["changed"] is False and result["source"] == "install_dir" and result["api_calls"] == 0
    assert result["issuer"] == ISSUER and result["findings"] == []
    assert len(result["sts_roles"]) == 3 and os.path.isfile(result["probe_token_file"])
    assert oct(os.stat(tokens).st_mode & 0o777) == "0o700"
    for entry in result["sts_roles"]:
        token = open(entry["token_file"]).read()
        assert token.split(".")[2] not in out and token.split(".")[1] not in out
    assert key_pem.splitlines()[1] not in out


@pytest.mark.parametrize("args,message", [
    ({"install_dir": "/no/such/dir"}, "install_dir /no/such/dir is not a directory"),
    ({"credentials_requests_dir": "/tmp"}, "missing parameter(s) required by 'credentials_requests_dir': install_dir"),
    ({"install_dir": "/tmp", "expiration": 60}, "expiration must be at least 600 seconds"),
    ({"kubernetes": {"host": "https://127.0.0.1:9", "api_key": "sha256~not-a-real-token", "validate_certs": False}},
     "Cannot connect to the Kubernetes API"),
])
def test_cannot_run(capsys, args, message):
    failed, result, out = run_module(capsys, **args)
    assert failed and message in result["msg"], result["msg"]
    assert "sha256~not-a-real-token" not in out
