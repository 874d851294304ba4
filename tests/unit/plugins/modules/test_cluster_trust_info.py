"""Unit tests of the cluster_trust_info module: install directory end to end, check mode, option errors, no secrets out."""

from __future__ import annotations

import os

import pytest

from ansible_collections.openshift_sts.oidc.plugins.modules import cluster_trust_info
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.modules.module_runner import runner
from ansible_collections.openshift_sts.oidc.tests.unit.plugins.module_utils.test_cluster_trust import ISSUER, install_dir


run_module = runner(cluster_trust_info)


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
