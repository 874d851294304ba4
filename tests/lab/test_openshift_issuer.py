"""Issuer change: kube-apiserver rollout, serviceAccountIssuers, tokens in running pods, pod restarts."""

import json

import jwt
import pytest
import requests
from kubernetes import client

from lab.openshift import ClusterTwin, FakeClock
from openshift_support import ISSUER, NEW_ISSUER, api_client

pytest_plugins = ["openshift_support"]

MAPI = "openshift-machine-api"


@pytest.fixture()
def ocp_clocked(ocp_ca, ocp_keys, tmp_path):
    """A twin on a fake clock with a 60 s (fake) rollout and the default CredentialsRequests."""
    clock = FakeClock(1_800_000_000)
    instance = ClusterTwin(ocp_ca, issuer=ISSUER, signing_keys=[ocp_keys[1]], rollout_seconds=60, clock=clock)
    instance.start()
    instance.test_env = instance.env(str(tmp_path / "env"))
    instance.add_credentials_requests("default")
    instance.fake_clock = clock
    yield instance
    instance.stop()


def _co(custom):
    status = custom.get_cluster_custom_object("config.openshift.io", "v1", "clusteroperators", "kube-apiserver")["status"]
    return {c["type"]: c for c in status["conditions"]}


def _issuers(custom):
    return custom.get_cluster_custom_object("operator.openshift.io", "v1", "kubeapiservers", "cluster")["status"]["serviceAccountIssuers"]


def _patch_issuer(custom, issuer):
    custom.patch_cluster_custom_object("config.openshift.io", "v1", "authentications", "cluster",
                                       {"spec": {"serviceAccountIssuer": issuer}})


def _iss(token):
    return jwt.decode(token, options={"verify_signature": False})["iss"]


def _new_token(ocp_kube):
    return client.CoreV1Api(ocp_kube).create_namespaced_service_account_token("default", "default", {"spec": {}}).status.token


def test_issuer_change_rollout_and_status(ocp_clocked):
    ocp_kube = api_client(ocp_clocked)
    custom = client.CustomObjectsApi(ocp_kube)
    assert _issuers(custom) == [{"name": ISSUER}]
    assert _co(custom)["Progressing"]["status"] == "False"
    _patch_issuer(custom, NEW_ISSUER)
    expiration = "2027-01-16T08:00:00Z"  # 1_800_000_000 + 24 h
    assert _issuers(custom) == [{"name": NEW_ISSUER}, {"name": ISSUER, "expirationTime": expiration}]
    conditions = _co(custom)
    assert conditions["Progressing"]["status"] == "True" and conditions["Progressing"]["reason"] == "NodeInstaller"
    assert conditions["Available"]["status"] == "True" and conditions["Degraded"]["status"] == "False"
    assert _iss(_new_token(ocp_kube)) == ISSUER  # the old revision still serves
    ocp_clocked.fake_clock.advance(59)
    assert _co(custom)["Progressing"]["status"] == "True"
    ocp_clocked.fake_clock.advance(1)
    conditions = _co(custom)
    assert conditions["Progressing"]["status"] == "False" and conditions["Available"]["status"] == "True"
    token = _new_token(ocp_kube)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == NEW_ISSUER and claims["aud"] == [NEW_ISSUER, ISSUER]
    discovery = requests.get(ocp_clocked.url + "/.well-known/openid-configuration", headers={"Authorization": "Bearer " + ocp_clocked.admin_token},
                             verify=ocp_clocked.test_env["K8S_AUTH_SSL_CA_CERT"], timeout=10).json()
    assert discovery["issuer"] == NEW_ISSUER and discovery["jwks_uri"] == NEW_ISSUER + "/openid/v1/jwks"
    events = client.CoreV1Api(ocp_kube).list_namespaced_event("openshift-kube-apiserver-operator").items
    assert any(e.reason == "ServiceAccountIssuer" and "is now active issuer" in e.message for e in events)
    # the old issuer stays trusted for 24 h, then is pruned
    old_token = ocp_clocked.pod_token(MAPI, client.CoreV1Api(ocp_kube).list_namespaced_pod(MAPI).items[0].metadata.name)["token"]
    assert client.AuthenticationV1Api(ocp_kube).create_token_review({"spec": {"token": old_token, "audiences": ["openshift"]}}).status.authenticated
    ocp_clocked.fake_clock.advance(24 * 3600 + 1)
    assert _issuers(custom) == [{"name": NEW_ISSUER}]
    ocp_clocked.fake_clock.advance(60)
    assert ocp_clocked.trusted_issuers == [NEW_ISSUER]


def test_running_pods_keep_old_iss_until_restarted(ocp_clocked):
    ocp_kube = api_client(ocp_clocked)
    core = client.CoreV1Api(ocp_kube)
    before = core.list_namespaced_pod(MAPI).items[0]
    held = ocp_clocked.pod_token(MAPI, before.metadata.name)
    assert held["claims"]["iss"] == ISSUER and held["claims"]["aud"] == ["openshift"]
    assert held["path"] == "/var/run/secrets/openshift/serviceaccount/token"
    ocp_clocked.set_issuer(NEW_ISSUER)
    ocp_clocked.fake_clock.advance(120)
    assert not ocp_clocked.rollout_in_progress
    assert ocp_clocked.pod_token(MAPI, before.metadata.name)["claims"]["iss"] == ISSUER
    core.delete_namespaced_pod(before.metadata.name, MAPI)
    after = core.list_namespaced_pod(MAPI).items
    assert len(after) == 1 and after[0].metadata.name != before.metadata.name
    assert after[0].status.start_time > before.status.start_time
    assert after[0].metadata.owner_references[0].name == before.metadata.owner_references[0].name
    renewed = ocp_clocked.pod_token(MAPI, after[0].metadata.name)
    assert renewed["claims"]["iss"] == NEW_ISSUER and renewed["claims"]["kubernetes.io"]["pod"]["name"] == after[0].metadata.name


def test_kubelet_refreshes_tokens_after_80_percent_of_ttl(ocp_clocked):
    core = client.CoreV1Api(api_client(ocp_clocked))
    name = core.list_namespaced_pod(MAPI).items[0].metadata.name
    first = ocp_clocked.pod_token(MAPI, name)
    ocp_clocked.set_issuer(NEW_ISSUER)
    ocp_clocked.fake_clock.advance(0.8 * 3600 - 1)
    assert ocp_clocked.pod_token(MAPI, name)["claims"]["iss"] == ISSUER
    ocp_clocked.fake_clock.advance(2)
    refreshed = ocp_clocked.pod_token(MAPI, name)
    assert refreshed["claims"]["iss"] == NEW_ISSUER and refreshed["claims"]["iat"] > first["claims"]["iat"]


def test_deployment_restart_via_template_annotation(ocp_clocked):
    ocp_kube = api_client(ocp_clocked)
    apps = client.AppsV1Api(ocp_kube)
    core = client.CoreV1Api(ocp_kube)
    ocp_clocked.set_issuer(NEW_ISSUER)
    ocp_clocked.fake_clock.advance(61)
    before = {p.metadata.name for p in core.list_namespaced_pod(MAPI).items}
    apps.patch_namespaced_deployment("machine-api-controllers", MAPI,
                                     {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}})
    pods = core.list_namespaced_pod(MAPI).items
    assert len(pods) == 1 and pods[0].metadata.name not in before
    assert ocp_clocked.pod_token(MAPI, pods[0].metadata.name)["claims"]["iss"] == NEW_ISSUER


def test_ten_issuer_cap(ocp_clocked):
    custom = client.CustomObjectsApi(api_client(ocp_clocked))
    for index in range(9):
        _patch_issuer(custom, "https://issuer-%d.example.com" % index)
    issuers = _issuers(custom)
    assert len(issuers) == 10 and issuers[0] == {"name": "https://issuer-8.example.com"}
    assert all("expirationTime" in entry for entry in issuers[1:])
    _patch_issuer(custom, "https://one-too-many.example.com")
    assert _issuers(custom) == issuers  # the operator refuses
    assert ocp_clocked.operator_errors == [
        "unable to configure more than 10 trusted service account issuers at the time, please wait until old issuers expire"]
    _patch_issuer(custom, "https://issuer-3.example.com")  # a trusted one comes back to the front
    issuers = _issuers(custom)
    assert issuers[0] == {"name": "https://issuer-3.example.com"} and len(issuers) == 10


def test_empty_issuer_means_default(ocp_clocked):
    custom = client.CustomObjectsApi(api_client(ocp_clocked))
    _patch_issuer(custom, "")
    assert _issuers(custom) == [{"name": "https://kubernetes.default.svc"}]
    ocp_clocked.fake_clock.advance(61)
    config = ocp_clocked.openid_configuration()
    assert config["issuer"] == "https://kubernetes.default.svc"
    assert config["jwks_uri"] == "https://api-int.lab.example.com:6443/openid/v1/jwks"


def test_real_clock_rollout(ocp_twin, ocp_kube):
    custom = client.CustomObjectsApi(ocp_kube)
    _patch_issuer(custom, NEW_ISSUER)
    assert _co(custom)["Progressing"]["status"] == "True"
    assert ocp_twin.wait_for_rollout(5)
    assert _co(custom)["Progressing"]["status"] == "False"
    assert _iss(_new_token(ocp_kube)) == NEW_ISSUER


def test_lab_control_api_for_pod_tokens(ocp_clocked):
    core = client.CoreV1Api(api_client(ocp_clocked))
    name = core.list_namespaced_pod(MAPI).items[0].metadata.name
    url = ocp_clocked.url + "/_lab/pods/%s/%s/token" % (MAPI, name)
    verify = ocp_clocked.test_env["K8S_AUTH_SSL_CA_CERT"]
    assert requests.get(url, headers={"Authorization": "Bearer " + ocp_clocked.admin_token}, verify=verify, timeout=10).status_code == 401
    body = requests.get(url, headers={"Authorization": "Bearer " + ocp_clocked.lab_token}, verify=verify, timeout=10).json()
    assert body["claims"]["iss"] == ISSUER and body["path"] == "/var/run/secrets/openshift/serviceaccount/token"
    assert jwt.decode(body["token"], options={"verify_signature": False}) == body["claims"]
    every = requests.get(url + "s", headers={"Authorization": "Bearer " + ocp_clocked.lab_token}, verify=verify, timeout=10).json()
    assert {t["path"] for t in every["tokens"]} == {"/var/run/secrets/openshift/serviceaccount/token",
                                                    "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    state = requests.get(ocp_clocked.url + "/_lab/state", headers={"Authorization": "Bearer " + ocp_clocked.lab_token}, verify=verify,
                         timeout=10).json()
    assert state["activeIssuer"] == ISSUER
    assert json.dumps(state)  # JSON-friendly
