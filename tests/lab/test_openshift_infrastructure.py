"""Infrastructure/cluster: the cluster's name, API URL, infrastructure name and AWS region, as the installer writes them."""

from kubernetes import client

from lab.openshift import ClusterTwin

pytest_plugins = ["openshift_support"]


def test_infrastructure_names_the_cluster_its_api_and_region(ocp_ca, ocp_keys, tmp_path):
    twin = ClusterTwin(ocp_ca, issuer="https://x.example", signing_keys=[ocp_keys[1]], cluster_name="prod-east",
                       base_domain="corp.example.net", infra_name="prod-east-7xk2p", region="eu-west-3")
    twin.start()
    try:
        env = twin.env(str(tmp_path / "env"))
        configuration = client.Configuration()
        configuration.host = env["K8S_AUTH_HOST"]
        configuration.ssl_ca_cert = env["K8S_AUTH_SSL_CA_CERT"]
        configuration.api_key = {"authorization": "Bearer " + env["K8S_AUTH_API_KEY"]}
        custom = client.CustomObjectsApi(client.ApiClient(configuration))
        infra = custom.get_cluster_custom_object("config.openshift.io", "v1", "infrastructures", "cluster")
        assert infra["kind"] == "Infrastructure" and infra["apiVersion"] == "config.openshift.io/v1"
        status = infra["status"]
        assert status["apiServerURL"] == "https://api.prod-east.corp.example.net:6443"
        assert status["apiServerInternalURI"] == "https://api-int.prod-east.corp.example.net:6443"
        assert status["infrastructureName"] == "prod-east-7xk2p"
        assert status["platformStatus"] == {"type": "AWS", "aws": {"region": "eu-west-3"}}
        listed = custom.list_cluster_custom_object("config.openshift.io", "v1", "infrastructures")["items"]
        assert [item["metadata"]["name"] for item in listed] == ["cluster"]
    finally:
        twin.stop()
