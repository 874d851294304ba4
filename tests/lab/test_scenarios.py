"""Scenarios (issue 4 §3–§5): every shipped world is built and shows the fault it claims.

Only plain clients: requests through the lab's public internet (anonymous
GETs), boto3 (unsigned STS, IAM/S3/CloudFront reads), the kubernetes client
(TokenRequest, Secrets, Authentication) and cryptography for the install dir.
"""

# pylint: disable=redefined-outer-name  # pytest fixtures are injected by name

import base64
import configparser
import json
import os
import stat

import boto3
import botocore
import jwt
import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from kubernetes import client as k8s

from lab.pytest_plugin import lab_scenario  # noqa: F401  pylint: disable=unused-import  # fixture found by name
from lab.scenarios import ScenarioError, load_scenario, parse_set, scenario_names

from cli_support import process_gone, read_env_file, run_lab_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REQUIRED = ("broken-private-bucket", "healthy-cloudfront", "healthy-public-s3", "rotated-key-missing-from-jwks",
            "discovery-issuer-mismatch", "no-oidc-provider", "audience-missing", "trust-policy-wrong-subject",
            "cloudfront-global-origin", "many-roles")
SMALL = {"many-roles": {"count": 3}}
COULD_NOT_RETRIEVE = ("Couldn't retrieve verification key from your identity provider,  please reference "
                      "AssumeRoleWithWebIdentity documentation for requirements")


# ---------------------------------------------------------------- helpers
def kube(world, tmp_path):
    """A kubernetes ApiClient configured from the env the world writes (K8S_AUTH_*)."""
    env = world.component.twin.env(str(tmp_path / "k8s"))
    configuration = k8s.Configuration()
    configuration.host = env["K8S_AUTH_HOST"]
    configuration.ssl_ca_cert = env["K8S_AUTH_SSL_CA_CERT"]
    configuration.verify_ssl = env["K8S_AUTH_VERIFY_SSL"] == "true"
    configuration.api_key = {"authorization": "Bearer " + env["K8S_AUTH_API_KEY"]}
    return k8s.ApiClient(configuration)


def token_request(api, namespace, service_account, audience="openshift"):
    """A TokenRequest through the API, as an operator's kubelet or the diagnosis would do it."""
    body = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(audiences=[audience],
                                                                        expiration_seconds=3600))
    return k8s.CoreV1Api(api).create_namespaced_service_account_token(service_account, namespace, body).status.token


def unsigned_sts(aws_lab):
    """A bare STS client with no credentials, as a pod's SDK uses it."""
    return boto3.client("sts", endpoint_url=aws_lab.endpoint_url, region_name="us-east-1",
                        config=Config(signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1}))


def assume(sts, role_arn, token):
    """``"ok"`` or ``(code, message)`` of one AssumeRoleWithWebIdentity."""
    try:
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="lab-scenario-test", WebIdentityToken=token)
        return "ok"
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"]["Message"]


def unverified_header(token):
    """The JOSE header of a compact JWT."""
    return jwt.get_unverified_header(token)


# ---------------------------------------------------------------- the format
def test_required_scenarios_are_shipped_and_documented():
    names = scenario_names()
    for name in REQUIRED:
        assert name in names
    for name in names:
        path = os.path.join(ROOT, "lab", "scenarios", name + ".yaml")
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        assert text.startswith("# "), f"{name}: must start with a comment block"
        assert "What is wrong" in text and "must report" in text, name
        spec = load_scenario(name)
        assert spec["name"] == name and spec["description"].strip()
        live = spec["expect"]["live"]
        assert live["status"] in ("healthy", "degraded", "broken")
        assert (live["root_cause"] is None) == (live["status"] == "healthy")
        assert spec["expect"]["public"] and spec["expect"]["sts"]


def test_expected_root_causes_of_the_brief():
    expected = {"broken-private-bucket": "ISSUER_BUCKET_PRIVATE", "rotated-key-missing-from-jwks": "JWKS_KID_MISSING",
                "discovery-issuer-mismatch": "DISCOVERY_ISSUER_MISMATCH", "no-oidc-provider": "OIDC_PROVIDER_MISSING",
                "audience-missing": "OIDC_PROVIDER_AUDIENCE_MISSING",
                "trust-policy-wrong-subject": "ROLE_TRUST_SUBJECT_MISMATCH",
                "cloudfront-global-origin": "CLOUDFRONT_ORIGIN_GLOBAL_ENDPOINT"}
    for name, code in expected.items():
        assert load_scenario(name)["expect"]["live"]["root_cause"] == code
    bpa = load_scenario("broken-private-bucket")["expect"]
    assert bpa["live_without_aws"]["root_cause"] == "DISCOVERY_ACCESS_DENIED"
    for name in ("healthy-cloudfront", "healthy-public-s3", "many-roles"):
        assert load_scenario(name)["expect"]["live"] == {"status": "healthy", "root_cause": None}


def test_parameters_and_overrides():
    assert parse_set(["count=500", "aws.region=eu-west-1", "cluster.signing_keys.rotated=true"]) == {
        "count": 500, "aws.region": "eu-west-1", "cluster.signing_keys.rotated": True}
    spec = load_scenario("many-roles", {"count": 7, "aws.region": "eu-west-1"})
    assert spec["cluster"]["credentials_requests"] == {"count": 7}
    assert spec["aws"]["region"] == "eu-west-1"
    assert load_scenario("many-roles")["cluster"]["credentials_requests"] == {"count": 12}
    with pytest.raises(ScenarioError, match="unknown parameter"):
        load_scenario("many-roles", {"cont": 3})
    with pytest.raises(ScenarioError, match="hosting.type"):
        load_scenario("healthy-public-s3", {"aws.hosting.type": "ftp"})
    with pytest.raises(ScenarioError, match="partition"):
        load_scenario("healthy-public-s3", {"aws.region": "us-gov-west-1"})
    with pytest.raises(ScenarioError, match="no scenario"):
        load_scenario("no-such-world")
    with pytest.raises(ScenarioError, match="root_cause is null exactly when"):
        load_scenario({"description": "x", "expect": {"live": {"status": "broken", "root_cause": None}}})


# ---------------------------------------------------------------- every scenario shows its fault
@pytest.mark.parametrize("name", scenario_names())
def test_scenario_shows_its_fault(name, aws_lab, lab_scenario, tmp_path):  # noqa: F811
    world = lab_scenario(name, SMALL.get(name))
    expect = world.expect
    # 1. the public internet: anonymous GETs through the proxy
    public = expect["public"]
    discovery = aws_lab.get(world.hosting_issuer + "/.well-known/openid-configuration")
    keys = aws_lab.get(world.hosting_issuer + "/keys.json")
    assert discovery.status_code == public["discovery"], discovery.text
    assert keys.status_code == public["jwks"], keys.text
    if "bucket_direct" in public:
        direct = aws_lab.get(f"https://{world.bucket}.s3.{world.region}.amazonaws.com/keys.json")
        assert direct.status_code == public["bucket_direct"]
    # 2. the cluster, with the plain kubernetes client: issuer and ccoctl-shaped Secrets
    api = kube(world, tmp_path)
    try:
        auth = k8s.CustomObjectsApi(api).get_cluster_custom_object("config.openshift.io", "v1", "authentications",
                                                                   "cluster")
        assert auth["spec"]["serviceAccountIssuer"] == world.issuer
        secrets = {}
        for role in world.roles:
            secret = k8s.CoreV1Api(api).read_namespaced_secret(role["secret_name"], role["secret_namespace"])
            ini = configparser.ConfigParser()
            ini.read_string(base64.b64decode(secret.data["credentials"]).decode())
            assert ini["default"]["role_arn"] == role["role_arn"]
            assert ini["default"]["web_identity_token_file"] == "/var/run/secrets/openshift/serviceaccount/token"
            secrets[role["credentials_request"]] = ini["default"]["role_arn"]
        # 3. STS: every service account, with a TokenRequest token, through plain unsigned boto3
        sts = unsigned_sts(aws_lab)
        expected_sts = expect["sts"]
        for namespace, service_account, _role_arn, cr_name, _trust in world.service_accounts():
            token = token_request(api, namespace, service_account)
            claims = jwt.decode(token, options={"verify_signature": False})
            assert claims["iss"] == world.issuer and claims["aud"] == ["openshift"]
            outcome = assume(sts, secrets[cr_name], token)
            wanted = (expected_sts.get("roles") or {}).get(cr_name, expected_sts["default"])
            if wanted == "ok":
                assert outcome == "ok", (cr_name, outcome)
            else:
                assert outcome != "ok", cr_name
                assert outcome[0] == wanted["code"] and wanted["message"] in outcome[1], (cr_name, outcome)
    finally:
        api.close()


# ---------------------------------------------------------------- scenario-specific evidence
def test_broken_private_bucket_evidence(aws_lab, lab_scenario, tmp_path):  # noqa: F811
    world = lab_scenario("broken-private-bucket")
    assert world.issuer == "https://lab-bpa-oidc.s3.us-east-2.amazonaws.com"
    response = aws_lab.get(world.issuer + "/.well-known/openid-configuration")
    assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text
    # ccoctl's public policy was refused, and the log proves it
    refused = aws_lab.log.entries(kind="api", operation="PutBucketPolicy", bucket=world.bucket)
    assert [(e["status"], e["error"]) for e in refused] == [(403, "AccessDenied")]
    s3 = aws_lab.client("s3", region=world.region)
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=world.bucket)
    account_bpa = aws_lab.client("s3control").get_public_access_block(AccountId=world.account_id)
    assert all(account_bpa["PublicAccessBlockConfiguration"].values())
    # everything else is right: provider and roles exist
    iam = aws_lab.client("iam")
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=world.provider_arn)
    assert provider["Url"] == "lab-bpa-oidc.s3.us-east-2.amazonaws.com"
    assert sorted(provider["ClientIDList"]) == ["openshift", "sts.amazonaws.com"]
    assert len(world.roles) == 8
    # STS, with the token the machine-api pod holds
    api = kube(world, tmp_path)
    try:
        token = token_request(api, "openshift-machine-api", "machine-api-controllers")
    finally:
        api.close()
    outcome = assume(unsigned_sts(aws_lab), world.role_arns["openshift-machine-api-aws"], token)
    assert outcome == ("InvalidIdentityToken", COULD_NOT_RETRIEVE)
    fetches = aws_lab.log.entries(kind="fetch", caller="sts")
    assert fetches and fetches[0]["status"] == 403


def test_healthy_cloudfront_layout(aws_lab, lab_scenario):  # noqa: F811
    world = lab_scenario("healthy-cloudfront")
    assert world.issuer == f"https://{world.distribution_domain}"
    config = aws_lab.client("cloudfront").get_distribution_config(Id=world.distribution_id)["DistributionConfig"]
    origin = config["Origins"]["Items"][0]
    assert origin["DomainName"] == f"{world.bucket}.s3.us-east-2.amazonaws.com"
    assert origin["OriginAccessControlId"] == world.oac_id
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "https-only"
    bpa = aws_lab.client("s3", region=world.region).get_public_access_block(Bucket=world.bucket)
    assert all(bpa["PublicAccessBlockConfiguration"].values())
    discovery = aws_lab.get(world.issuer + "/.well-known/openid-configuration").json()
    assert discovery["issuer"] == world.issuer and discovery["jwks_uri"] == world.issuer + "/keys.json"


def test_rotated_key_missing_from_jwks(aws_lab, lab_scenario, tmp_path):  # noqa: F811
    world = lab_scenario("rotated-key-missing-from-jwks")
    published = [key["kid"] for key in aws_lab.get(world.issuer + "/keys.json").json()["keys"]]
    in_cluster = [key["kid"] for key in world.cluster.jwks()["keys"]]
    api = kube(world, tmp_path)
    try:
        token = token_request(api, "openshift-ingress-operator", "ingress-operator")
    finally:
        api.close()
    kid = unverified_header(token)["kid"]
    assert len(in_cluster) == 2 and kid in in_cluster
    assert kid not in published and published == [k for k in in_cluster if k != kid]


def test_discovery_issuer_mismatch(aws_lab, lab_scenario):  # noqa: F811
    world = lab_scenario("discovery-issuer-mismatch")
    discovery = aws_lab.get(world.issuer + "/.well-known/openid-configuration").json()
    assert discovery["issuer"] == "https://lab-mismatch-oidc.s3.amazonaws.com" != world.issuer
    assert discovery["jwks_uri"] == world.issuer + "/keys.json"


def test_audience_missing_and_no_provider(aws_lab, lab_scenario):  # noqa: F811
    world = lab_scenario("audience-missing")
    iam = aws_lab.client("iam")
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=world.provider_arn)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    world.close()
    aws_lab.lab.reset()
    world = lab_scenario("no-oidc-provider")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    trust = iam.get_role(RoleName=world.roles[0]["role_name"])["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"]["Federated"] == world.provider_arn


def test_trust_policy_wrong_subject(aws_lab, lab_scenario):  # noqa: F811
    world = lab_scenario("trust-policy-wrong-subject")
    iam = aws_lab.client("iam")
    by_cr = {role["credentials_request"]: role for role in world.roles}
    wrong = iam.get_role(RoleName=by_cr["openshift-machine-api-aws"]["role_name"])["Role"]
    condition = wrong["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {f"{world.issuer_host}:sub": [
        "system:serviceaccount:openshift-cloud-credential-operator:machine-api-controllers"]}
    right = iam.get_role(RoleName=by_cr["openshift-ingress"]["role_name"])["Role"]
    assert right["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"] == {
        f"{world.issuer_host}:sub": ["system:serviceaccount:openshift-ingress-operator:ingress-operator"]}
    assert right["Description"] == "OpenShift role for openshift-ingress-operator/cloud-credentials"


def test_cloudfront_global_origin(aws_lab, lab_scenario):  # noqa: F811
    world = lab_scenario("cloudfront-global-origin")
    config = aws_lab.client("cloudfront").get_distribution_config(Id=world.distribution_id)["DistributionConfig"]
    assert config["Origins"]["Items"][0]["DomainName"] == "lab-global-oidc.s3.amazonaws.com"
    response = aws_lab.get(world.issuer + "/.well-known/openid-configuration", allow_redirects=False)
    assert response.status_code == 301 and "<Code>PermanentRedirect</Code>" in response.text


def test_many_roles_count_is_a_parameter(aws_lab, lab_scenario, tmp_path):  # noqa: F811
    world = lab_scenario("many-roles", {"count": 5})
    assert len(world.roles) == 5
    api = kube(world, tmp_path)
    try:
        listed = k8s.CustomObjectsApi(api).list_namespaced_custom_object(
            "cloudcredential.openshift.io", "v1", "openshift-cloud-credential-operator", "credentialsrequests")
        assert sorted(item["metadata"]["name"] for item in listed["items"]) == [
            f"lab-operator-00{i}" for i in range(1, 6)]
        pods = k8s.CoreV1Api(api).list_namespaced_pod("openshift-lab-operator-005").items
        assert pods and pods[0].status.phase == "Running"
    finally:
        api.close()
    roles = aws_lab.client("iam").list_roles()["Roles"]
    assert len(roles) == 5


def test_faults_pass_through(aws_lab, lab_scenario, tmp_path):  # noqa: F811
    spec = load_scenario("healthy-public-s3")
    spec["faults"] = [{"target": "issuer", "errors": 1, "error_status": 503},
                      {"twin": "openshift", "pattern": "^/version", "status": 500, "count": 1}]
    world = lab_scenario(spec)
    assert aws_lab.get(world.issuer + "/keys.json").status_code == 503
    assert aws_lab.get(world.issuer + "/keys.json").status_code == 200
    api = kube(world, tmp_path)
    try:
        with pytest.raises(k8s.ApiException) as failure:
            k8s.VersionApi(api).get_code()
        assert failure.value.status == 500
        assert k8s.VersionApi(api).get_code().git_version
    finally:
        api.close()


def test_deny_and_idp_rejected_claim_faults(aws_lab, lab_scenario):  # noqa: F811
    """Scenarios may deny one AWS call by its IAM action and make STS answer IDPRejectedClaim."""
    raw = {key: value for key, value in load_scenario("healthy-public-s3").items() if key != "source"}
    raw["faults"] = [{"target": "s3:GetBucketPolicyStatus", "deny": 1}, {"target": "sts", "idp_rejected_claim": 1}]
    spec = load_scenario(raw)  # validates the knobs
    world = lab_scenario(spec)
    queues = {target: fault["queue"] for target, fault in aws_lab.faults.snapshot().items()}
    assert queues == {"s3:GetBucketPolicyStatus": ["deny"], "sts": ["idp_rejected_claim"]}
    s3 = aws_lab.client("s3")
    with pytest.raises(ClientError) as denied:
        s3.get_bucket_policy_status(Bucket=world.bucket)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert s3.get_bucket_policy_status(Bucket=world.bucket)["PolicyStatus"]["IsPublic"] is True
    with pytest.raises(ScenarioError, match="unknown fault fields"):
        load_scenario(dict(raw, faults=[{"target": "s3", "forbid": 1}]))


def test_cluster_joins_the_lab_env(aws_lab, lab_scenario):  # noqa: F811
    world = lab_scenario("healthy-public-s3")
    env = aws_lab.lab.env()
    for name in ("K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_VERIFY_SSL", "KUBECONFIG",
                 "K8S_AUTH_KUBECONFIG", "AWS_ENDPOINT_URL", "HTTPS_PROXY", "LAB_SCENARIO"):
        assert env.get(name), name
    assert env["K8S_AUTH_HOST"] == world.cluster.url and env["LAB_SCENARIO"] == "healthy-public-s3"
    with open(env["KUBECONFIG"], encoding="utf-8") as handle:
        kubeconfig = yaml.safe_load(handle)
    assert kubeconfig["clusters"][0]["cluster"]["server"] == world.cluster.url
    world.close()
    assert "K8S_AUTH_HOST" not in aws_lab.lab.env()


# ---------------------------------------------------------------- install dir
def test_install_dir_exact_formats(aws_lab, lab_scenario, tmp_path):  # noqa: F811
    world = lab_scenario("broken-private-bucket", cluster=False)
    assert world.cluster is None
    directory = tmp_path / "install"
    written = world.write_install_dir(str(directory))

    def mode(relative):
        return stat.S_IMODE(os.stat(directory / relative).st_mode)

    auth = (directory / "manifests/cluster-authentication-02-config.yaml").read_text()
    assert auth == ("apiVersion: config.openshift.io/v1\nkind: Authentication\nmetadata:\n  name: cluster\nspec:\n"
                    "  serviceAccountIssuer: https://lab-bpa-oidc.s3.us-east-2.amazonaws.com")
    assert mode("manifests/cluster-authentication-02-config.yaml") == 0o600
    secret_path = "manifests/openshift-machine-api-aws-cloud-credentials-credentials.yaml"
    assert (directory / secret_path).read_text() == (
        "apiVersion: v1\nstringData:\n  credentials: |-\n    [default]\n    sts_regional_endpoints = regional\n"
        "    role_arn = arn:aws:iam::123456789012:role/lab-bpa-openshift-machine-api-aws-cloud-credentials\n"
        "    web_identity_token_file = /var/run/secrets/openshift/serviceaccount/token\n"
        "kind: Secret\nmetadata:\n  name: aws-cloud-credentials\n  namespace: openshift-machine-api\ntype: Opaque")
    assert mode(secret_path) == 0o600
    secrets = sorted(p.name for p in (directory / "manifests").iterdir() if p.name.endswith("-credentials.yaml"))
    assert len(secrets) == 8
    assert "openshift-image-registry-installer-cloud-credentials-credentials.yaml" in secrets
    install_config = yaml.safe_load((directory / "install-config.yaml").read_text())
    assert install_config["credentialsMode"] == "Manual"
    assert install_config["platform"]["aws"]["region"] == "us-east-2"
    assert install_config["metadata"]["name"] == "lab-bpa"
    key_text = (directory / "tls/bound-service-account-signing-key.key").read_text()
    assert key_text.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert mode("tls/bound-service-account-signing-key.key") == 0o600
    private_key = serialization.load_pem_private_key(key_text.encode(), password=None)
    pub_text = (directory / "tls/bound-service-account-signing-key.pub").read_text()
    assert pub_text.startswith("-----BEGIN RSA PUBLIC KEY-----\n") and pub_text.endswith("-----END RSA PUBLIC KEY-----\n")
    der = base64.b64decode("".join(pub_text.strip().splitlines()[1:-1]))
    # SPKI bytes (with the rsaEncryption AlgorithmIdentifier) under the PKCS#1 label, as the installer writes it
    assert der == private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    assert bytes.fromhex("06092a864886f70d010101") in der[:32]
    names = sorted(p.name for p in (directory / "credrequests").iterdir())
    assert "0000_50_cluster-ingress-operator_00-ingress-credentials-request.yaml" in names
    assert "0000_30_machine-api-operator_00_credentials-request.yaml" in names and len(names) == 8
    ingress = yaml.safe_load((directory / "credrequests" / names[names.index(
        "0000_50_cluster-ingress-operator_00-ingress-credentials-request.yaml")]).read_text())
    assert ingress["kind"] == "CredentialsRequest" and ingress["spec"]["secretRef"] == {
        "name": "cloud-credentials", "namespace": "openshift-ingress-operator"}
    assert ingress["spec"]["providerSpec"]["kind"] == "AWSProviderSpec"
    assert set(written) >= {"install-config.yaml", "tls/bound-service-account-signing-key.pub"}
    # the AWS side exists in the twin: a token minted locally with the install dir's key, as the
    # diagnosis does before install, is refused by STS the way the live cluster's would be
    now = int(aws_lab.clock.now())
    token = jwt.encode({"iss": world.issuer, "sub": "system:serviceaccount:openshift-machine-api:machine-api-controllers",
                        "aud": ["openshift"], "iat": now, "nbf": now, "exp": now + 3600}, key_text, algorithm="RS256",
                       headers={"kid": world.summary()["signing_key_id"]})
    role_arn = world.role_arns["openshift-machine-api-aws"]
    assert assume(unsigned_sts(aws_lab), role_arn, token) == ("InvalidIdentityToken", COULD_NOT_RETRIEVE)


def test_install_dir_of_a_healthy_world_verifies_with_sts(aws_lab, lab_scenario, tmp_path):  # noqa: F811
    world = lab_scenario("healthy-cloudfront", cluster=False)
    world.write_install_dir(str(tmp_path / "install"))
    key_text = (tmp_path / "install/tls/bound-service-account-signing-key.key").read_text()
    issuer = (tmp_path / "install/manifests/cluster-authentication-02-config.yaml").read_text().rsplit(" ", 1)[1]
    now = int(aws_lab.clock.now())
    kid = world.summary()["signing_key_id"]
    token = jwt.encode({"iss": issuer, "sub": "system:serviceaccount:openshift-ingress-operator:ingress-operator",
                        "aud": ["openshift"], "iat": now, "nbf": now, "exp": now + 3600}, key_text, algorithm="RS256",
                       headers={"kid": kid})
    assert assume(unsigned_sts(aws_lab), world.role_arns["openshift-ingress"], token) == "ok"


# ---------------------------------------------------------------- CLI
def test_cli_up_scenario_and_install_dir_leave_no_process(tmp_path):
    state = str(tmp_path / "state")
    up = run_lab_cli("up", "--state-dir", state, "--scenario", "many-roles", "--set", "count=2")
    assert up.returncode == 0, up.stderr + up.stdout
    pid = int(open(os.path.join(state, "lab.pid"), encoding="utf-8").read())
    try:
        values = read_env_file(os.path.join(state, "env"))
        for name in ("AWS_ENDPOINT_URL", "HTTPS_PROXY", "AWS_CA_BUNDLE", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY",
                     "K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_VERIFY_SSL", "KUBECONFIG", "K8S_AUTH_KUBECONFIG"):
            assert values.get(name), name
        assert values["AWS_REGION"] == "us-east-2" and values["LAB_SCENARIO"] == "many-roles"
        with open(values["LAB_WORLD_FILE"], encoding="utf-8") as handle:
            summary = json.load(handle)
        assert len(summary["roles"]) == 2 and summary["expect"]["live"]["status"] == "healthy"
        api = k8s.ApiClient(_kube_config(values))
        try:
            names = [n.metadata.name for n in k8s.CoreV1Api(api).list_namespace().items]
        finally:
            api.close()
        assert "openshift-lab-operator-002" in names
        again = run_lab_cli("up", "--state-dir", state, "--scenario", "healthy-public-s3")
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        down = run_lab_cli("down", "--state-dir", state)
    assert down.returncode == 0, down.stderr
    assert process_gone(pid)

    install = str(tmp_path / "install")
    made = run_lab_cli("install-dir", "--state-dir", state, "--scenario", "broken-private-bucket", install)
    assert made.returncode == 0, made.stderr + made.stdout
    pid = int(open(os.path.join(state, "lab.pid"), encoding="utf-8").read())
    try:
        assert os.path.isfile(os.path.join(install, "manifests", "cluster-authentication-02-config.yaml"))
        values = read_env_file(os.path.join(state, "env"))
        assert "K8S_AUTH_HOST" not in values  # before install: no cluster
        response = _anonymous_get(values, "https://lab-bpa-oidc.s3.us-east-2.amazonaws.com/keys.json")
        assert response.status_code == 403
    finally:
        down = run_lab_cli("down", "--state-dir", state)
    assert down.returncode == 0 and process_gone(pid)
    bad = run_lab_cli("up", "--state-dir", state, "--scenario", "no-such-world")
    assert bad.returncode == 1 and "no scenario" in bad.stderr


def _kube_config(values):
    configuration = k8s.Configuration()
    configuration.host = values["K8S_AUTH_HOST"]
    configuration.ssl_ca_cert = values["K8S_AUTH_SSL_CA_CERT"]
    configuration.api_key = {"authorization": "Bearer " + values["K8S_AUTH_API_KEY"]}
    return configuration


def _anonymous_get(values, url):
    import requests  # pylint: disable=import-outside-toplevel

    with requests.Session() as session:
        session.trust_env = False
        session.proxies = {"https": values["HTTPS_PROXY"]}
        session.verify = values["AWS_CA_BUNDLE"]
        return session.get(url, timeout=10)
