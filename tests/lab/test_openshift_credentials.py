"""CredentialsRequests, ccoctl-shaped Secrets and the workloads that mount the projected token."""

import base64

from kubernetes import client

from lab.openshift import ClusterTwin, role_name

pytest_plugins = ["openshift_support"]

CCO = "openshift-cloud-credential-operator"
EXPECTED = {
    "cloud-credential-operator-iam-ro": ("openshift-cloud-credential-operator", "cloud-credential-operator-iam-ro-creds",
                                         ["cloud-credential-operator"]),
    "openshift-machine-api-aws": ("openshift-machine-api", "aws-cloud-credentials", ["machine-api-controllers"]),
    "openshift-image-registry": ("openshift-image-registry", "installer-cloud-credentials", ["cluster-image-registry-operator", "registry"]),
    "openshift-ingress": ("openshift-ingress-operator", "cloud-credentials", ["ingress-operator"]),
    "aws-ebs-csi-driver-operator": ("openshift-cluster-csi-drivers", "ebs-cloud-credentials",
                                    ["aws-ebs-csi-driver-operator", "aws-ebs-csi-driver-controller-sa"]),
    "openshift-cloud-network-config-controller-aws": ("openshift-cloud-network-config-controller", "cloud-credentials",
                                                      ["cloud-network-config-controller"]),
    "openshift-cluster-api-aws": ("openshift-cluster-api", "capa-manager-bootstrap-credentials", ["capa-controller-manager"]),
    "openshift-aws-cloud-controller-manager": ("openshift-cloud-controller-manager", "cloud-controller-manager-credentials",
                                               ["cloud-controller-manager"]),
}


def test_default_set_objects(ocp_twin, ocp_kube):
    summary = ocp_twin.add_credentials_requests("default", account_id="210987654321", infra_name="jdiaz-stsfull")
    custom = client.CustomObjectsApi(ocp_kube)
    core = client.CoreV1Api(ocp_kube)
    crs = custom.list_namespaced_custom_object("cloudcredential.openshift.io", "v1", CCO, "credentialsrequests")["items"]
    assert {cr["metadata"]["name"]: (cr["spec"]["secretRef"]["namespace"], cr["spec"]["secretRef"]["name"], cr["spec"]["serviceAccountNames"])
            for cr in crs} == EXPECTED
    for cr in crs:
        assert cr["spec"]["providerSpec"]["kind"] == "AWSProviderSpec"
        assert cr["spec"]["providerSpec"]["statementEntries"][0]["effect"] == "Allow"
        assert cr["metadata"]["annotations"]["include.release.openshift.io/self-managed-high-availability"] == "true"
    registry = next(s for s in summary if s["name"] == "openshift-image-registry")
    assert registry["role_name"] == "jdiaz-stsfull-openshift-image-registry-installer-cloud-credentia"  # field notes §6.7
    assert len(registry["role_name"]) == 64
    secret = core.read_namespaced_secret("installer-cloud-credentials", "openshift-image-registry")
    assert secret.type == "Opaque"
    assert base64.b64decode(secret.data["credentials"]).decode() == (
        "[default]\n"
        "sts_regional_endpoints = regional\n"
        "role_arn = arn:aws:iam::210987654321:role/jdiaz-stsfull-openshift-image-registry-installer-cloud-credentia\n"
        "web_identity_token_file = /var/run/secrets/openshift/serviceaccount/token")
    for namespace, _secret, service_accounts in EXPECTED.values():
        for sa in service_accounts:
            core.read_namespaced_service_account(sa, namespace)
            pods = core.list_namespaced_pod(namespace, label_selector="app=" + sa).items
            assert len(pods) == 1 and pods[0].spec.service_account_name == sa and pods[0].status.phase == "Running"
            projected = next(v for v in pods[0].spec.volumes if v.name == "bound-sa-token").projected.sources[0].service_account_token
            assert projected.audience == "openshift" and projected.expiration_seconds == 3600
            mount = next(m for m in pods[0].spec.containers[0].volume_mounts if m.name == "bound-sa-token")
            assert mount.mount_path == "/var/run/secrets/openshift/serviceaccount"
            held = ocp_twin.pod_token(namespace, pods[0].metadata.name)["claims"]
            assert held["aud"] == ["openshift"] and held["sub"] == "system:serviceaccount:%s:%s" % (namespace, sa)
            assert held["exp"] - held["iat"] == 3600


def test_generated_requests_overrides_and_partition(ocp_twin, ocp_kube):
    summary = ocp_twin.add_credentials_requests(3, partition="aws-us-gov", account_id="111122223333",
                                                role_arns={"lab-operator-002": "arn:aws-us-gov:iam::111122223333:role/custom"},
                                                regional=False)
    assert [s["name"] for s in summary] == ["lab-operator-001", "lab-operator-002", "lab-operator-003"]
    assert summary[0]["role_arn"].startswith("arn:aws-us-gov:iam::111122223333:role/")
    assert summary[1]["role_arn"] == "arn:aws-us-gov:iam::111122223333:role/custom"
    core = client.CoreV1Api(ocp_kube)
    text = base64.b64decode(core.read_namespaced_secret("cloud-credentials", "openshift-lab-operator-002").data["credentials"]).decode()
    assert text == ("[default]\nrole_arn = arn:aws-us-gov:iam::111122223333:role/custom\n"
                    "web_identity_token_file = /var/run/secrets/openshift/serviceaccount/token")
    assert len(core.list_namespaced_pod("openshift-lab-operator-003").items) == 1


def test_role_name_helper_cuts_at_64():
    request = {"spec": {"secretRef": {"namespace": "n" * 40, "name": "s" * 40}}}
    assert role_name("infra", request) == ("infra-" + "n" * 40 + "-" + "s" * 40)[:64]


def test_explicit_list_without_workloads(ocp_twin):
    request = {"apiVersion": "cloudcredential.openshift.io/v1", "kind": "CredentialsRequest",
               "metadata": {"name": "custom"},
               "spec": {"secretRef": {"name": "my-creds", "namespace": "my-app"}, "serviceAccountNames": ["my-sa"],
                        "providerSpec": {"apiVersion": "cloudcredential.openshift.io/v1", "kind": "AWSProviderSpec",
                                         "statementEntries": []}}}
    ocp_twin.add_credentials_requests([request], workloads=False)
    assert ocp_twin.get("CredentialsRequest", "custom", "openshift-cloud-credential-operator")["metadata"]["uid"]
    assert ocp_twin.get("ServiceAccount", "my-sa", "my-app") is not None
    assert ocp_twin.list("Pod", "my-app") == []


def test_workload_token_shape_and_instant_rollout(ocp_ca, ocp_keys):
    instance = ClusterTwin(ocp_ca, issuer="https://old.example.com", signing_keys=[ocp_keys[2]], rollout_seconds=0)
    summary = instance.add_credentials_requests(1, token_audience="sts.amazonaws.com", token_expiration_seconds=7200)
    namespace, sa = summary[0]["secret_namespace"], summary[0]["service_accounts"][0]
    pod = instance.list("Pod", namespace)[0]
    held = instance.pod_token(namespace, pod["metadata"]["name"])["claims"]
    assert held["aud"] == ["sts.amazonaws.com"] and held["exp"] - held["iat"] == 7200
    assert held["sub"] == "system:serviceaccount:%s:%s" % (namespace, sa)
    instance.set_issuer("https://new.example.com")
    assert not instance.rollout_in_progress and instance.active_issuer == "https://new.example.com"
    assert instance.pod_token(namespace, pod["metadata"]["name"])["claims"]["iss"] == "https://old.example.com"
    assert instance.signing_key.public_key().public_numbers() == ocp_keys[2].public_key().public_numbers()
