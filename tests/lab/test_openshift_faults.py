"""Faults, latency, the request log, reset() and env()/kubeconfig."""

import json
import time

import pytest
import requests
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from lab.openshift import ClusterTwin
from openshift_support import ISSUER, NEW_ISSUER

pytest_plugins = ["openshift_support"]


def test_fault_answers_n_requests_then_recovers(ocp_twin, ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    ocp_twin.add_fault(r"/namespaces/default/configmaps$", status=500, count=2, method="GET")
    for _attempt in range(2):
        with pytest.raises(ApiException) as info:
            core.list_namespaced_config_map("default")
        assert info.value.status == 500 and json.loads(info.value.body)["reason"] == "InternalError"
    core.list_namespaced_config_map("default")
    core.list_namespaced_secret("default")  # other paths never affected
    assert ocp_twin.request_count(method="GET", path=r"/configmaps$", status=500) == 2
    assert ocp_twin.request_count(path=r"/configmaps$", status=200) == 1


def test_latency_and_persistent_fault(ocp_twin, ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    ocp_twin.latency = 0.2
    started = time.monotonic()
    core.read_namespace("default")
    assert time.monotonic() - started >= 0.2
    ocp_twin.latency = 0.0
    ocp_twin.add_fault("/openid/v1/jwks", status=503, count=None)
    for _attempt in range(3):
        response = requests.get(ocp_twin.url + "/openid/v1/jwks", headers={"Authorization": "Bearer " + ocp_twin.readonly_token},
                                verify=ocp_twin.test_env["K8S_AUTH_SSL_CA_CERT"], timeout=10)
        assert response.status_code == 503 and response.json()["reason"] == "ServiceUnavailable"
    ocp_twin.clear_faults()
    assert ocp_twin.request_count(path="/openid/v1/jwks", status=503) == 3


def test_request_log_holds_no_tokens(ocp_twin, ocp_kube):
    client.CoreV1Api(ocp_kube).list_namespace()
    entries = ocp_twin.requests
    assert entries[-1].method == "GET" and entries[-1].path == "/api/v1/namespaces" and entries[-1].status == 200
    assert entries[-1].user == "kube:admin"
    assert ocp_twin.admin_token not in repr(entries)


def test_reset_restores_the_initial_world(ocp_twin, ocp_kube):
    ocp_twin.add_credentials_requests("default")
    ocp_twin.set_issuer(NEW_ISSUER)
    ocp_twin.add_fault("/api", count=None)
    ocp_twin.reset()
    assert ocp_twin.active_issuer == ISSUER and not ocp_twin.rollout_in_progress
    core = client.CoreV1Api(ocp_kube)
    assert not core.list_namespaced_pod("openshift-machine-api").items
    assert ocp_twin.request_count() == 1


def test_env_and_kubeconfig(ocp_twin):
    env = ocp_twin.test_env
    assert env["K8S_AUTH_HOST"] == ocp_twin.url and env["K8S_AUTH_API_KEY"] == ocp_twin.admin_token
    assert env["K8S_AUTH_VERIFY_SSL"] == "true"
    with open(env["K8S_AUTH_SSL_CA_CERT"], "rb") as handle:
        assert handle.read() == ocp_twin.ca.cert_pem
    with open(env["KUBECONFIG"], encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    assert document["clusters"][0]["cluster"]["server"] == ocp_twin.url
    api = config.new_client_from_config(config_file=env["KUBECONFIG"])
    assert client.VersionApi(api).get_code().git_version.startswith("v1.")
    api.close()


class _Decision:  # pylint: disable=too-few-public-methods
    def __init__(self, action=None, latency=0.0, error_status=500):
        self.action, self.latency, self.error_status = action, latency, error_status


class _Plan:
    """The contract the twin expects of a lab-wide fault plan (lab.faults.FaultPlan's take())."""

    def __init__(self, actions):
        self.actions = list(actions)
        self.targets = []

    def take(self, target):
        """Next decision for ``target``."""
        self.targets.append(target)
        return _Decision(self.actions.pop(0) if self.actions else None)


class _Log:  # pylint: disable=too-few-public-methods
    def __init__(self):
        self.records = []

    def add(self, **fields):
        """Record one request."""
        self.records.append(fields)


def test_shared_fault_plan_and_log(ocp_ca, ocp_keys, tmp_path):
    plan = _Plan(["throttle", "error", None])
    log = _Log()
    instance = ClusterTwin(ocp_ca, issuer=ISSUER, signing_keys=[ocp_keys[1]], shared_log=log, fault_plan=plan)
    with instance:
        env = instance.env(str(tmp_path))
        statuses = []
        for _attempt in range(3):
            response = requests.get(instance.url + "/version", headers={"Authorization": "Bearer " + instance.admin_token},
                                    verify=env["K8S_AUTH_SSL_CA_CERT"], timeout=10)
            statuses.append(response.status_code)
        assert statuses == [429, 500, 200]
    assert plan.targets == ["kube-apiserver"] * 3
    assert [r["status"] for r in log.records] == [429, 500, 200]
    assert log.records[-1]["kind"] == "kubernetes" and log.records[-1]["caller"] == "kube:admin"
