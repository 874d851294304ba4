"""The OpenShift twin as a REST API server: auth, discovery, CRUD, patches, selectors."""

import json

import pytest
import requests
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from openshift_support import api_client

pytest_plugins = ["openshift_support"]

CCO = "openshift-cloud-credential-operator"


def _get(ocp_twin, path, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.get(ocp_twin.url + path, headers=headers, verify=ocp_twin.test_env["K8S_AUTH_SSL_CA_CERT"], timeout=10)


# ------------------------------------------------------------------ auth
def test_missing_and_wrong_token_get_401(ocp_twin):
    for token in (None, "sha256~not-a-real-token"):
        response = _get(ocp_twin, "/api/v1/namespaces", token)
        assert response.status_code == 401
        assert response.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                   "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_readonly_token_reads_but_cannot_write(ocp_twin):
    api = api_client(ocp_twin, ocp_twin.readonly_token)
    core = client.CoreV1Api(api)
    assert any(ns.metadata.name == CCO for ns in core.list_namespace().items)
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("default", {"metadata": {"name": "x"}, "data": {}})
    assert info.value.status == 403
    body = json.loads(info.value.body)
    assert body["reason"] == "Forbidden"
    assert 'User "lab-reader" cannot create resource "configmaps" in API group "" in the namespace "default"' in body["message"]
    with pytest.raises(ApiException) as info:
        core.create_namespaced_service_account_token("default", "default", {"spec": {}})
    assert info.value.status == 403
    assert 'resource "serviceaccounts/token"' in json.loads(info.value.body)["message"]


def test_custom_rules_token(ocp_twin):
    token = ocp_twin.add_token([("get", "", "secrets"), ("list", "config.openshift.io", "clusteroperators")], name="narrow")
    core = client.CoreV1Api(api_client(ocp_twin, token))
    core.read_namespaced_secret("next-bound-service-account-signing-key", "openshift-kube-apiserver-operator")
    with pytest.raises(ApiException) as info:
        core.list_namespaced_secret("default")
    assert info.value.status == 403
    custom = client.CustomObjectsApi(api_client(ocp_twin, token))
    assert custom.list_cluster_custom_object("config.openshift.io", "v1", "clusteroperators")["items"]
    with pytest.raises(ApiException) as info:
        custom.get_cluster_custom_object("config.openshift.io", "v1", "clusteroperators", "kube-apiserver")
    assert info.value.status == 403
    assert "at the cluster scope" in json.loads(info.value.body)["message"]
    ocp_twin.revoke_token(token)
    with pytest.raises(ApiException) as info:
        core.read_namespaced_secret("x", "default")
    assert info.value.status == 401


# ------------------------------------------------------------------ discovery
def test_discovery_documents(ocp_twin):
    token = ocp_twin.readonly_token
    version = _get(ocp_twin, "/version", token).json()
    assert version["major"] == "1" and version["gitVersion"].startswith("v1.")
    assert _get(ocp_twin, "/api", token).json()["versions"] == ["v1"]
    groups = {g["name"]: g for g in _get(ocp_twin, "/apis", token).json()["groups"]}
    for name in ("apps", "cloudcredential.openshift.io", "config.openshift.io", "operator.openshift.io"):
        assert groups[name]["preferredVersion"] == groups[name]["versions"][0]
    core = {r["name"]: r for r in _get(ocp_twin, "/api/v1", token).json()["resources"]}
    assert core["serviceaccounts/token"]["kind"] == "TokenRequest"
    assert core["pods"]["namespaced"] is True and "delete" in core["pods"]["verbs"] and core["pods"]["shortNames"] == ["po"]
    config = {r["name"]: r for r in _get(ocp_twin, "/apis/config.openshift.io/v1", token).json()["resources"]}
    assert config["authentications"]["namespaced"] is False
    assert config["clusteroperators"]["shortNames"] == ["co"]
    assert config["authentications/status"]["verbs"] == ["get", "patch", "update"]
    assert _get(ocp_twin, "/apis/nope.example.com/v1", token).status_code == 404
    assert _get(ocp_twin, "/openapi/v2", token).json()["swagger"] == "2.0"


def test_dynamic_client_discovers_every_kind(ocp_twin, ocp_kube, tmp_path):
    dynamic = DynamicClient(ocp_kube, cache_file=str(tmp_path / "discovery.json"))
    for api_version, kind, namespaced in (("v1", "Namespace", False), ("v1", "Secret", True), ("v1", "ConfigMap", True),
                                          ("v1", "ServiceAccount", True), ("v1", "Pod", True), ("apps/v1", "Deployment", True),
                                          ("cloudcredential.openshift.io/v1", "CredentialsRequest", True),
                                          ("config.openshift.io/v1", "Authentication", False),
                                          ("config.openshift.io/v1", "ClusterOperator", False),
                                          ("operator.openshift.io/v1", "KubeAPIServer", False)):
        resource = dynamic.resources.get(api_version=api_version, kind=kind)
        assert resource.namespaced is namespaced
    auth = dynamic.resources.get(api_version="config.openshift.io/v1", kind="Authentication").get(name="cluster")
    assert auth.spec.serviceAccountIssuer == ocp_twin.active_issuer


# ------------------------------------------------------------------ CRUD
def test_configmap_crud_and_errors(ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "cm1", "labels": {"a": "1"}}, "data": {"k": "v"}})
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("default", {"metadata": {"name": "cm1"}})
    assert info.value.status == 409 and json.loads(info.value.body)["reason"] == "AlreadyExists"
    assert json.loads(info.value.body)["message"] == 'configmaps "cm1" already exists'
    stale = created.metadata.resource_version
    replaced = core.replace_namespaced_config_map("cm1", "default", {"metadata": {"name": "cm1", "resourceVersion": stale},
                                                                     "data": {"k": "w"}})
    assert replaced.data == {"k": "w"} and replaced.metadata.resource_version != stale
    assert replaced.metadata.uid == created.metadata.uid
    with pytest.raises(ApiException) as info:
        core.replace_namespaced_config_map("cm1", "default", {"metadata": {"name": "cm1", "resourceVersion": stale}, "data": {}})
    assert info.value.status == 409 and json.loads(info.value.body)["reason"] == "Conflict"
    core.delete_namespaced_config_map("cm1", "default")
    with pytest.raises(ApiException) as info:
        core.read_namespaced_config_map("cm1", "default")
    assert info.value.status == 404
    assert json.loads(info.value.body)["details"] == {"name": "cm1", "kind": "configmaps"}
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map("no-such-ns", {"metadata": {"name": "x"}})
    assert info.value.status == 404 and json.loads(info.value.body)["message"] == 'namespaces "no-such-ns" not found'


def test_secret_string_data_and_namespace_cascade(ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    core.create_namespace({"metadata": {"name": "scratch"}})
    assert core.read_namespaced_service_account("default", "scratch").metadata.name == "default"
    secret = core.create_namespaced_secret("scratch", {"metadata": {"name": "s"}, "stringData": {"credentials": "[default]"}})
    assert secret.data == {"credentials": "W2RlZmF1bHRd"} and secret.type == "Opaque"
    core.delete_namespace("scratch")
    with pytest.raises(ApiException) as info:
        core.read_namespaced_secret("s", "scratch")
    assert info.value.status == 404


def test_custom_resource_crud_generation_and_status_subresource(ocp_kube):
    custom = client.CustomObjectsApi(ocp_kube)
    body = {"apiVersion": "cloudcredential.openshift.io/v1", "kind": "CredentialsRequest",
            "metadata": {"name": "cr1", "namespace": CCO}, "status": {"provisioned": True},
            "spec": {"secretRef": {"name": "s", "namespace": "default"}, "serviceAccountNames": ["sa"],
                     "providerSpec": {"apiVersion": "cloudcredential.openshift.io/v1", "kind": "AWSProviderSpec", "statementEntries": []}}}
    created = custom.create_namespaced_custom_object("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests", body)
    assert created["metadata"]["generation"] == 1 and "status" not in created
    patched = custom.patch_namespaced_custom_object("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests", "cr1",
                                                    {"metadata": {"labels": {"x": "y"}}})
    assert patched["metadata"]["generation"] == 1
    patched = custom.patch_namespaced_custom_object("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests", "cr1",
                                                    {"spec": {"serviceAccountNames": ["sa", "sb"]}, "status": {"provisioned": True}})
    assert patched["metadata"]["generation"] == 2 and "status" not in patched
    status = custom.patch_namespaced_custom_object_status("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests", "cr1",
                                                          {"status": {"provisioned": True}})
    assert status["status"] == {"provisioned": True} and status["metadata"]["generation"] == 2
    listed = custom.list_namespaced_custom_object("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests", label_selector="x=y")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["cr1"]
    assert listed["items"][0]["kind"] == "CredentialsRequest"
    custom.delete_namespaced_custom_object("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests", "cr1")
    with pytest.raises(ApiException) as info:
        custom.get_namespaced_custom_object("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests", "cr1")
    assert json.loads(info.value.body)["message"] == 'credentialsrequests.cloudcredential.openshift.io "cr1" not found'


# ------------------------------------------------------------------ patches
def _patch(ocp_twin, path, body, content_type, query=""):
    return requests.patch(ocp_twin.url + path + query, data=body if isinstance(body, str) else json.dumps(body),
                          headers={"Authorization": "Bearer " + ocp_twin.admin_token, "Content-Type": content_type},
                          verify=ocp_twin.test_env["K8S_AUTH_SSL_CA_CERT"], timeout=10)


def test_patch_types(ocp_twin, ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    core.create_namespaced_config_map("default", {"metadata": {"name": "p"}, "data": {"a": "1", "b": "2"}})
    path = "/api/v1/namespaces/default/configmaps/p"
    merged = _patch(ocp_twin, path, {"data": {"a": None, "c": "3"}}, "application/merge-patch+json").json()
    assert merged["data"] == {"b": "2", "c": "3"}
    strategic = _patch(ocp_twin, path, {"data": {"d": "4"}}, "application/strategic-merge-patch+json").json()
    assert strategic["data"] == {"b": "2", "c": "3", "d": "4"}
    operations = [{"op": "replace", "path": "/data/b", "value": "20"}, {"op": "remove", "path": "/data/c"},
                  {"op": "add", "path": "/metadata/labels", "value": {"l": "v"}}]
    jsonpatch = _patch(ocp_twin, path, operations, "application/json-patch+json").json()
    assert jsonpatch["data"] == {"b": "20", "d": "4"} and jsonpatch["metadata"]["labels"] == {"l": "v"}
    failed = _patch(ocp_twin, path, [{"op": "test", "path": "/data/b", "value": "nope"}], "application/json-patch+json")
    assert failed.status_code == 422
    apply_body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p\n  namespace: default\ndata:\n  e: '5'\n"
    assert _patch(ocp_twin, path, apply_body, "application/apply-patch+yaml").status_code == 400  # fieldManager required
    applied = _patch(ocp_twin, path, apply_body, "application/apply-patch+yaml", "?fieldManager=lab").json()
    assert applied["data"]["e"] == "5" and applied["metadata"]["managedFields"][0]["manager"] == "lab"
    created = _patch(ocp_twin, "/api/v1/namespaces/default/configmaps/q", apply_body.replace("name: p", "name: q"),
                     "application/apply-patch+yaml", "?fieldManager=lab")
    assert created.status_code == 201
    assert _patch(ocp_twin, path, {"data": {}}, "text/plain").status_code == 415


def test_strategic_merge_on_custom_resource_is_415_like_openshift(ocp_twin):
    response = _patch(ocp_twin, "/apis/config.openshift.io/v1/authentications/cluster", {"spec": {"serviceAccountIssuer": "x"}},
                      "application/strategic-merge-patch+json")
    assert response.status_code == 415
    assert response.json()["reason"] == "UnsupportedMediaType"
    assert "application/merge-patch+json" in response.json()["message"]


def test_noop_patch_keeps_resource_version(ocp_twin, ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "n"}, "data": {"a": "1"}})
    again = _patch(ocp_twin, "/api/v1/namespaces/default/configmaps/n", {"data": {"a": "1"}}, "application/merge-patch+json").json()
    assert again["metadata"]["resourceVersion"] == created.metadata.resource_version


# ------------------------------------------------------------------ selectors, pagination, collections
def test_label_and_field_selectors(ocp_twin, ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    for name, labels in (("s1", {"tier": "a", "env": "prod"}), ("s2", {"tier": "b", "env": "prod"}), ("s3", {"tier": "c"})):
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": labels}})

    def names(**kwargs):
        return sorted(i.metadata.name for i in core.list_namespaced_config_map("default", **kwargs).items
                      if i.metadata.name.startswith("s"))

    assert names(label_selector="env=prod") == ["s1", "s2"]
    assert names(label_selector="env==prod,tier!=a") == ["s2"]
    assert names(label_selector="tier in (a, c)") == ["s1", "s3"]
    assert names(label_selector="tier notin (a),env") == ["s2"]
    assert names(label_selector="!env") == ["s3"]
    assert names(field_selector="metadata.name=s2") == ["s2"]
    assert names(field_selector="metadata.name!=s2", label_selector="tier") == ["s1", "s3"]
    with pytest.raises(ApiException) as info:
        core.list_namespaced_config_map("default", field_selector="spec.bogus=1")
    assert info.value.status == 400 and "field label not supported" in info.value.body
    all_ns = core.list_config_map_for_all_namespaces(field_selector="metadata.namespace=default")
    assert {i.metadata.namespace for i in all_ns.items} == {"default"}
    page = core.list_namespaced_config_map("default", limit=2)
    assert len(page.items) == 2 and page.metadata._continue
    rest = core.list_namespaced_config_map("default", limit=100, _continue=page.metadata._continue)
    assert len(page.items) + len(rest.items) == len(core.list_namespaced_config_map("default").items)
    assert _get(ocp_twin, "/api/v1/namespaces/default/configmaps?watch=true", ocp_twin.admin_token).status_code == 400


def test_delete_collection(ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    for name in ("d1", "d2", "keep"):
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": {"del": "yes" if name != "keep" else "no"}}})
    core.delete_collection_namespaced_config_map("default", label_selector="del=yes")
    left = {i.metadata.name for i in core.list_namespaced_config_map("default").items}
    assert "keep" in left and not {"d1", "d2"} & left


def test_deployment_creates_running_pod_with_owner_chain(ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    apps = client.AppsV1Api(ocp_kube)
    apps.create_namespaced_deployment("default", {
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "img"}]}}}})
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert len(pods) == 2 and all(p.status.phase == "Running" and p.status.start_time for p in pods)
    owner = pods[0].metadata.owner_references[0]
    assert owner.kind == "ReplicaSet" and owner.controller
    replica_set = apps.read_namespaced_replica_set(owner.name, "default")
    assert replica_set.metadata.owner_references[0].kind == "Deployment"
    assert apps.read_namespaced_deployment("web", "default").status.available_replicas == 2
    invalid = {"metadata": {"name": "bad"}, "spec": {"selector": {"matchLabels": {"app": "x"}},
                                                     "template": {"metadata": {"labels": {"app": "y"}}, "spec": {"containers": []}}}}
    with pytest.raises(ApiException) as info:
        apps.create_namespaced_deployment("default", invalid)
    assert info.value.status == 422 and json.loads(info.value.body)["reason"] == "Invalid"
    apps.delete_namespaced_deployment("web", "default")
    assert not core.list_namespaced_pod("default", label_selector="app=web").items


def test_pod_needs_its_service_account(ocp_kube):
    core = client.CoreV1Api(ocp_kube)
    with pytest.raises(ApiException) as info:
        core.create_namespaced_pod("default", {"metadata": {"name": "p"}, "spec": {"serviceAccountName": "ghost",
                                                                                   "containers": [{"name": "c", "image": "i"}]}})
    assert info.value.status == 403 and 'serviceaccount "ghost" not found' in json.loads(info.value.body)["message"]
