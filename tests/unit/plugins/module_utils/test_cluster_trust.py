"""Unit tests of cluster_trust: ccoctl formats, CredentialsRequest filtering, stale pods, bounded live reads, install dirs."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import threading

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.openshift_sts.oidc.plugins.module_utils import cluster_trust as CT

ISSUER = "https://lab-oidc.s3.us-east-2.amazonaws.com"
NEW_ISSUER = "https://d111111abcdef8.cloudfront.net"
ACCOUNT = "123456789012"
TOKEN_FILE = "/var/run/secrets/openshift/serviceaccount/token"
T0 = 1767225600  # 2026-01-01T00:00:00Z
DAY = 86400


def ini(arn, regional=True):
    """The credentials value ccoctl writes (a |- block: no trailing newline)."""
    lines = ["[default]"] + (["sts_regional_endpoints = regional"] if regional else [])
    return "\n".join(lines + ["role_arn = %s" % arn, "web_identity_token_file = %s" % TOKEN_FILE])


def arn_for(name):
    return "arn:aws:iam::%s:role/mycluster-%s" % (ACCOUNT, name)


def cr(name, namespace, secret, accounts, provider="AWSProviderSpec", annotations=None):
    """A CredentialsRequest as the release ships it (in openshift-cloud-credential-operator)."""
    return {"apiVersion": "cloudcredential.openshift.io/v1", "kind": "CredentialsRequest",
            "metadata": {"name": name, "namespace": "openshift-cloud-credential-operator", "annotations": annotations or {}},
            "spec": {"providerSpec": {"apiVersion": "cloudcredential.openshift.io/v1", "kind": provider,
                                      "statementEntries": [{"effect": "Allow", "action": ["ec2:DescribeInstances"], "resource": "*"}]},
                     "secretRef": {"namespace": namespace, "name": secret}, "serviceAccountNames": list(accounts)}}


def secret(namespace, name, credentials=None, data=None):
    """A Secret as the API returns it (data base64)."""
    values = dict(data or {})
    if credentials is not None:
        values["credentials"] = base64.b64encode(credentials.encode()).decode()
    return {"metadata": {"namespace": namespace, "name": name}, "type": "Opaque", "data": values}


def stamp(epoch):
    return CT.format_time(epoch)


def pod(namespace, name, account, started, phase="Running", ttl=3600):
    """A running operator pod with the projected openshift token."""
    return {"metadata": {"namespace": namespace, "name": name},
            "spec": {"serviceAccountName": account,
                     "containers": [{"name": "operator", "volumeMounts": [{"name": "bound-sa-token",
                                                                           "mountPath": "/var/run/secrets/openshift/serviceaccount"}]}],
                     "volumes": [{"name": "bound-sa-token", "projected": {"sources": [
                         {"serviceAccountToken": {"audience": "openshift", "expirationSeconds": ttl, "path": "token"}}]}}]},
            "status": {"phase": phase, "startTime": stamp(started)}}


# ====================================================================== formats
@pytest.mark.parametrize("regional", [True, False])
def test_parse_ccoctl_credentials_with_and_without_regional_endpoints(regional):
    profile = CT.parse_credentials_ini(ini(arn_for("a"), regional))
    assert profile["role_arn"] == arn_for("a")
    assert profile["web_identity_token_file"] == TOKEN_FILE
    assert ("sts_regional_endpoints" in profile) is regional


def test_parse_credentials_without_header_other_profile_and_garbage():
    assert CT.parse_credentials_ini("role_arn = %s\n" % arn_for("a"))["role_arn"] == arn_for("a")
    assert CT.parse_credentials_ini("[other]\nrole_arn=%s" % arn_for("b"))["role_arn"] == arn_for("b")
    assert CT.parse_credentials_ini("") == {}
    with pytest.raises(ValueError):
        CT.parse_credentials_ini("[default]\n  = broken\n[")


def test_secret_credentials_from_string_data_and_data():
    assert CT.secret_credentials_text({"stringData": {"credentials": "x"}}) == "x"
    assert CT.secret_credentials_text(secret("ns", "s", credentials="y")) == "y"
    assert CT.secret_credentials_text({"data": {}}) is None
    with pytest.raises(ValueError):
        CT.secret_credentials_text({"data": {"credentials": "!!not base64!!"}})


def test_credentials_requests_filtering():
    objects = [
        cr("a", "ns-a", "creds", ["sa-a"]),
        cr("deleted", "ns-d", "creds", ["sa-d"], annotations={"release.openshift.io/delete": "true"}),
        cr("gcp", "ns-g", "creds", ["sa-g"], provider="GCPProviderSpec"),
        {"kind": "ConfigMap", "metadata": {"name": "x"}},
        cr("a", "ns-a", "creds", ["sa-a"]),  # the same request twice (two files): once
        cr("b", "ns-b", "creds", ["sa-b1", "sa-b2"], annotations={"release.openshift.io/delete": "false"}),
    ]
    summaries = CT.aws_credentials_requests(objects)
    assert [item["name"] for item in summaries] == ["a", "b"]
    assert summaries[1] == {"name": "b", "namespace": "ns-b", "secret_name": "creds", "service_accounts": ["sa-b1", "sa-b2"],
                            "policy_statements": [{"effect": "Allow", "action": ["ec2:DescribeInstances"], "resource": "*"}],
                            "role_arn": None, "web_identity_token_file": None, "secret_found": None}


def test_attach_secret_role_found_missing_secret_and_missing_role():
    summary = CT.credentials_request_summary(cr("a", "ns", "creds", ["sa"]))
    assert CT.attach_secret(summary, secret("ns", "creds", ini(arn_for("a"))), "the cluster") == []
    assert summary["role_arn"] == arn_for("a") and summary["secret_found"] is True
    assert summary["web_identity_token_file"] == TOKEN_FILE

    summary = CT.credentials_request_summary(cr("a", "ns", "creds", ["sa"]))
    [missing] = CT.attach_secret(summary, None, "the cluster")
    assert missing["code"] == "CREDENTIALS_SECRET_MISSING" and missing["severity"] == "error" and missing["link"] == "token"
    assert missing["subject"] == "secret ns/creds" and summary["secret_found"] is False

    # A mint-mode Secret: access keys, no role. Only key names are reported, never values.
    mint = secret("ns", "creds", data={"aws_access_key_id": base64.b64encode(b"AKIAEXAMPLE").decode(),
                                       "aws_secret_access_key": base64.b64encode(b"s3cr3tvalue").decode()})
    summary = CT.credentials_request_summary(cr("a", "ns", "creds", ["sa"]))
    [no_role] = CT.attach_secret(summary, mint, "the cluster")
    assert no_role["code"] == "CREDENTIALS_ROLE_ARN_MISSING"
    assert "aws_access_key_id" in no_role["actual"] and "s3cr3t" not in json.dumps(no_role)
    assert summary["role_arn"] is None and summary["secret_found"] is True

    placeholder = secret("ns", "creds", "[default]\nrole_arn = POPULATE ROLE ARN AND DELETE THIS LINE\n")
    [dry_run] = CT.attach_secret(CT.credentials_request_summary(cr("a", "ns", "creds", ["sa"])), placeholder, "x")
    assert dry_run["code"] == "CREDENTIALS_ROLE_ARN_MISSING" and "POPULATE" in dry_run["actual"]


def test_roles_for_sts_and_trust():
    first = dict(CT.credentials_request_summary(cr("reg", "openshift-image-registry", "c", ["op", "registry"])), role_arn=arn_for("reg"))
    second = dict(CT.credentials_request_summary(cr("reg2", "openshift-image-registry", "c2", ["registry"])), role_arn=arn_for("reg"))
    none = CT.credentials_request_summary(cr("x", "ns", "c", ["sa"]))
    sts_roles, trust_roles = CT.roles_for([first, second, none])
    assert sts_roles == [{"role_arn": arn_for("reg"), "service_account": {"namespace": "openshift-image-registry", "name": "op"}},
                         {"role_arn": arn_for("reg"), "service_account": {"namespace": "openshift-image-registry", "name": "registry"}}]
    assert trust_roles == [{"role_arn": arn_for("reg"), "service_accounts": [
        "system:serviceaccount:openshift-image-registry:op", "system:serviceaccount:openshift-image-registry:registry"]}]
    sts_roles, _trust = CT.roles_for([first], {("openshift-image-registry", "op"): "/t/op.jwt"})
    assert sts_roles == [{"role_arn": arn_for("reg"), "token_file": "/t/op.jwt"}]


# ====================================================================== issuer history and stale pods
def kas(*entries):
    return {"status": {"serviceAccountIssuers": [dict(name=name, **({"expirationTime": stamp(exp)} if exp else {}))
                                                 for name, exp in entries]}}


def test_time_parsing():
    assert CT.parse_time("2026-01-01T00:00:00Z") == T0
    assert CT.parse_time("2026-01-01T01:00:00.5+01:00") == T0 + 0.5
    assert CT.parse_time("yesterday") is None and CT.parse_time(None) is None


def test_issuer_history_and_last_change():
    change = T0 + 100
    history, last, active = CT.issuer_history(kas((NEW_ISSUER, None), (ISSUER, change + DAY), ("https://older", change - 50 + DAY)))
    assert history[0] == {"name": NEW_ISSUER, "expiration_time": None}
    assert history[1] == {"name": ISSUER, "expiration_time": "2026-01-02T00:01:40Z"}
    assert last == change and active == NEW_ISSUER
    assert CT.previous_issuer(history) == ISSUER
    assert CT.issuer_history(kas((ISSUER, None))) == ([{"name": ISSUER, "expiration_time": None}], None, ISSUER)
    assert CT.issuer_history(None) == ([], None, None)


def test_stale_pods_by_start_time_and_kubelet_refresh():
    change = T0 + 10 * 3600
    requests = [CT.credentials_request_summary(cr("m", "openshift-machine-api", "c", ["machine-api-controllers"])),
                CT.credentials_request_summary(cr("r", "openshift-image-registry", "c", ["registry"]))]
    pods = [
        pod("openshift-machine-api", "mapi-old-1", "machine-api-controllers", change - 600),     # stale
        pod("openshift-machine-api", "mapi-old-2", "machine-api-controllers", change - 60),      # stale
        pod("openshift-machine-api", "mapi-new", "machine-api-controllers", change + 5),         # fresh
        pod("openshift-machine-api", "done", "machine-api-controllers", change - 60, phase="Succeeded"),
        pod("openshift-machine-api", "other-sa", "default", change - 60),                        # not a CR's account
        pod("openshift-image-registry", "registry-old", "registry", change - 2800),              # renewed 80 s after
    ]
    now = change + 600
    findings = CT.stale_pod_findings(pods, requests, change, NEW_ISSUER, ISSUER, now)
    assert [item["subject"] for item in findings] == ["system:serviceaccount:openshift-machine-api:machine-api-controllers"]
    [item] = findings
    assert item["code"] == "TOKEN_ISSUER_MISMATCH" and item["severity"] == "error"
    assert item["expected"] == "tokens issued by %s (pods started after %s)" % (NEW_ISSUER, stamp(change))
    assert item["actual"] == ["mapi-old-1 (started %s)" % stamp(change - 600), "mapi-old-2 (started %s)" % stamp(change - 60)]
    assert "delete pod mapi-old-1 mapi-old-2" in item["remediation"] and ISSUER in item["message"]
    # 48 min (80 % of 3600 s) plus the kubelet's sync slack later, the kubelet has renewed the tokens.
    [later] = CT.stale_pod_findings(pods, requests, change, NEW_ISSUER, ISSUER, change - 600 + 2880 + 121)
    assert later["actual"] == ["mapi-old-2 (started %s)" % stamp(change - 60)]
    assert CT.stale_pod_findings(pods, requests, change, NEW_ISSUER, ISSUER, change + 3 * 3600) == []
    # A day-long token is renewed only after 80 % of a day.
    long_lived = [pod("openshift-machine-api", "mapi-long", "machine-api-controllers", change - 60, ttl=DAY)]
    assert len(CT.stale_pod_findings(long_lived, requests, change, NEW_ISSUER, ISSUER, change + 3 * 3600)) == 1
    assert CT.stale_pod_findings(pods, requests, None, NEW_ISSUER, ISSUER, now) == []


# ====================================================================== live, with a fake reader
class FakeReader:
    """Answers like the API server from dicts; counts calls; ``deny`` maps a method name to an HTTP status."""

    def __init__(self, requests, secrets, pods, auth_issuer=ISSUER, issuers=None, deny=None, jwks=None, configmap=None, infra=None):
        self._requests, self._secrets, self._pods = requests, secrets, pods
        self._infra = infra or {"status": {"apiServerURL": "https://api.mycluster.example.com:6443",
                                           "infrastructureName": "mycluster-x7k2p",
                                           "platformStatus": {"type": "AWS", "aws": {"region": "us-east-2"}}}}
        self._auth = {"spec": {"serviceAccountIssuer": auth_issuer}}
        self._kas = kas(*(issuers or [(auth_issuer or CT.DEFAULT_ISSUER, None)]))
        self._deny = deny or {}
        self._jwks, self._configmap = jwks, configmap
        self.log = []
        self._lock = threading.Lock()

    def _call(self, name, *args):
        with self._lock:
            self.log.append((name,) + args)
        if name in self._deny:
            raise CT.ReadError(name, self._deny[name], "Forbidden")

    def authentication(self):
        self._call("authentication")
        return self._auth

    def kube_apiserver(self):
        self._call("kube_apiserver")
        return self._kas

    def infrastructure(self):
        self._call("infrastructure")
        return self._infra

    def credentials_requests(self):
        self._call("credentials_requests")
        return self._requests

    def secrets(self, namespace=None, field_selector=None):
        self._call("secrets", namespace, field_selector)
        if "secrets:%s" % namespace in self._deny:
            raise CT.ReadError("secrets in %s" % namespace, self._deny["secrets:%s" % namespace], "Forbidden")
        items = [item for item in self._secrets if namespace in (None, item["metadata"]["namespace"])]
        if field_selector:
            items = [item for item in items if item["metadata"]["name"] == field_selector.split("=", 1)[1]]
        return items

    def pods(self, namespace=None, field_selector=None):
        self._call("pods", namespace, field_selector)
        items = [item for item in self._pods if namespace in (None, item["metadata"]["namespace"])]
        if field_selector:
            items = [item for item in items if item["spec"]["serviceAccountName"] == field_selector.split("=", 1)[1]]
        return items

    def jwks(self):
        self._call("jwks")
        return self._jwks

    def configmap(self, namespace, name):
        self._call("configmap", namespace, name)
        return self._configmap

    def secret(self, namespace, name):
        self._call("secret", namespace, name)
        raise CT.ReadError("secret", 404, "NotFound")


def world(count, change=None, now=T0 + DAY):
    """``count`` CredentialsRequests, each in its own namespace with a Secret and a pod started at T0."""
    requests, secrets, pods = [], [], []
    for index in range(count):
        namespace = "openshift-op-%03d" % index
        requests.append(cr("op-%03d" % index, namespace, "cloud-credentials", ["op-%03d-controller" % index]))
        secrets.append(secret(namespace, "cloud-credentials", ini(arn_for("op-%03d" % index))))
        pods.append(pod(namespace, "op-%03d-controller-abc" % index, "op-%03d-controller" % index, T0))
    issuers = [(NEW_ISSUER, None), (ISSUER, change + DAY)] if change else None
    return requests, secrets, pods, issuers, now


@pytest.fixture(scope="module")
def public_jwks(keyfactory):
    return {"keys": [dict(CT.jwks_document([keyfactory.public("rsa2048")])["keys"][0], d="private-member-must-go")]}


@pytest.mark.parametrize("count", [3, 12, 500])
def test_live_api_calls_are_bounded(count, public_jwks, tmp_path):
    requests, secrets, pods, issuers, now = world(count, change=T0 + 3600)
    reader = FakeReader(requests, secrets, pods, auth_issuer=NEW_ISSUER, issuers=issuers, jwks=public_jwks)
    minted = []

    def mint(namespace, name):
        minted.append((namespace, name))
        return "header.payload.signature-%s" % name

    result = CT.gather_live(reader, now=T0 + 3600 + 60, mint=mint, token_dir=str(tmp_path / "tokens"))
    namespaces = count if count <= CT.NAMESPACE_LIST_THRESHOLD else 1
    assert len(reader.log) == 5 + 2 * namespaces
    if count <= CT.NAMESPACE_LIST_THRESHOLD:
        assert ("secrets", "openshift-op-000", "metadata.name=cloud-credentials") in reader.log
        assert ("pods", "openshift-op-000", "spec.serviceAccountName=op-000-controller") in reader.log
    else:
        assert ("secrets", None, None) in reader.log and ("pods", None, None) in reader.log
    assert minted == [("openshift-op-000", "op-000-controller")]
    assert len(result["credentials_requests"]) == count and all(item["secret_found"] for item in result["credentials_requests"])
    assert len(result["sts_roles"]) == count and len(result["trust_roles"]) == count
    assert [item["code"] for item in result["findings"]] == ["TOKEN_ISSUER_MISMATCH"] * count
    assert result["last_issuer_change"] == stamp(T0 + 3600) and result["issuer"] == NEW_ISSUER
    assert result["cluster"] == {"name": "mycluster", "api_url": "https://api.mycluster.example.com:6443",
                                 "infrastructure_name": "mycluster-x7k2p", "aws_region": "us-east-2"}
    assert result["cluster_keys"]["keys"][0].get("d") is None and result["cluster_keys_source"] == "/openid/v1/jwks"
    path = result["probe_token_file"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and open(path).read() == "header.payload.signature-op-000-controller"
    assert "signature-op" not in json.dumps(result)
    assert "credentials" not in json.dumps(result["credentials_requests"]).replace("cloud-credentials", "")


def test_live_without_issuer_change_lists_no_pods_and_flags_empty_issuer(public_jwks):
    requests, secrets, pods, _issuers, now = world(2)
    reader = FakeReader(requests, secrets[:1], pods, auth_issuer="", jwks=public_jwks)
    result = CT.gather_live(reader, now=now)
    assert not [entry for entry in reader.log if entry[0] == "pods"]
    assert result["issuer"] is None and result["last_issuer_change"] is None
    codes = [item["code"] for item in result["findings"]]
    assert codes == ["ISSUER_NOT_CONFIGURED", "CREDENTIALS_SECRET_MISSING"]
    assert result["probe_token_file"] is None and len(result["sts_roles"]) == 1


def test_live_forbidden_reads_become_findings_and_key_fallback(keyfactory):
    requests, secrets, pods, _issuers, now = world(2)
    configmap = {"data": {"service-account-001.pub": keyfactory.spki_pem("rsa2048"), "service-account-002.pub": keyfactory.spki_pem("P-256")}}
    reader = FakeReader(requests, secrets, pods, deny={"jwks": 403, "secrets": 403}, configmap=configmap)
    result = CT.gather_live(reader, now=now)
    assert result["cluster_keys_source"] == "configmap openshift-kube-apiserver/bound-sa-token-signing-certs"
    assert len(result["cluster_keys"]["keys"]) == 2
    codes = [item["code"] for item in result["findings"]]
    assert codes == ["CLUSTER_INSPECTION_FAILED"] * 2  # the two namespaced secret lists; no false "secret missing"
    assert all(item["secret_found"] is None and item["role_arn"] is None for item in result["credentials_requests"])

    reader = FakeReader(requests, secrets, pods, deny={"jwks": 403, "configmap": 403})
    result = CT.gather_live(reader, now=now)
    assert result["cluster_keys"] is None and [item["code"] for item in result["findings"]] == ["CLUSTER_INSPECTION_FAILED"]


def test_live_one_namespace_unreadable_another_secret_missing(public_jwks):
    requests, secrets, pods, _issuers, now = world(3)
    reader = FakeReader(requests, secrets[:1], pods, deny={"secrets:openshift-op-001": 403}, jwks=public_jwks)
    result = CT.gather_live(reader, now=now)
    assert [(item["code"], item["subject"]) for item in result["findings"]] == [
        ("CREDENTIALS_SECRET_MISSING", "secret openshift-op-002/cloud-credentials"),
        ("CLUSTER_INSPECTION_FAILED", "secrets in openshift-op-001")]
    assert [item["secret_found"] for item in result["credentials_requests"]] == [True, None, False]


def test_live_fatal_errors_raise():
    reader = FakeReader([], [], [], deny={"authentication": 401})
    with pytest.raises(CT.ReadError) as error:
        CT.gather_live(reader, now=T0)
    assert error.value.fatal


def test_live_operator_not_applying_the_issuer(public_jwks):
    requests, secrets, pods, _issuers, now = world(1)
    reader = FakeReader(requests, secrets, pods, auth_issuer=NEW_ISSUER, issuers=[(ISSUER, None)], jwks=public_jwks)
    result = CT.gather_live(reader, now=now)
    [item] = result["findings"]
    assert item["code"] == "TOKEN_ISSUER_MISMATCH" and item["expected"] == NEW_ISSUER and item["actual"] == ISSUER


def test_live_token_request_failure_is_a_finding(public_jwks, tmp_path):
    requests, secrets, pods, _issuers, now = world(1)

    class Denied(Exception):
        status, reason = 403, "Forbidden"

    def mint(namespace, name):
        raise Denied()

    result = CT.gather_live(FakeReader(requests, secrets, pods, jwks=public_jwks), now=now, mint=mint, token_dir=str(tmp_path))
    assert [item["code"] for item in result["findings"]] == ["TOKEN_INVALID"] and result["probe_token_file"] is None


# ====================================================================== install directory
def write(path, text, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)


def install_dir(root, key_pem, issuer=ISSUER, skip_secret=None):
    """An install dir as ccoctl create-all + oc adm release extract leave it."""
    write(os.path.join(root, "manifests", "cluster-authentication-02-config.yaml"),
          "apiVersion: config.openshift.io/v1\nkind: Authentication\nmetadata:\n  name: cluster\nspec:\n"
          "  serviceAccountIssuer: %s" % issuer)
    write(os.path.join(root, "tls", "bound-service-account-signing-key.key"), key_pem)
    requests = [("openshift-machine-api-aws", "openshift-machine-api", "aws-cloud-credentials", ["machine-api-controllers"]),
                ("openshift-image-registry", "openshift-image-registry", "installer-cloud-credentials",
                 ["cluster-image-registry-operator", "registry"])]
    for name, namespace, secret_name, _accounts in requests:
        if name == skip_secret:
            continue
        write(os.path.join(root, "manifests", "%s-%s-credentials.yaml" % (namespace, secret_name)),
              "apiVersion: v1\nstringData:\n  credentials: |-\n    %s\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: Opaque\n"
              % (ini(arn_for(name)).replace("\n", "\n    "), secret_name, namespace))
    docs = []
    for name, namespace, secret_name, accounts in requests:
        docs.append("apiVersion: cloudcredential.openshift.io/v1\nkind: CredentialsRequest\nmetadata:\n  name: %s\n"
                    "  namespace: openshift-cloud-credential-operator\n  annotations:\n"
                    "    include.release.openshift.io/self-managed-high-availability: \"true\"\nspec:\n  providerSpec:\n"
                    "    apiVersion: cloudcredential.openshift.io/v1\n    kind: AWSProviderSpec\n    statementEntries:\n"
                    "    - action:\n      - ec2:DescribeInstances\n      effect: Allow\n      resource: '*'\n"
                    "  secretRef:\n    name: %s\n    namespace: %s\n  serviceAccountNames:\n%s"
                    % (name, secret_name, namespace, "".join("  - %s\n" % account for account in accounts)))
    write(os.path.join(root, "credrequests", "0000_30_machine-api-operator_00_credentials-request.yaml"), docs[0])
    write(os.path.join(root, "credrequests", "0000_50_multi.yml"), "---\n" + docs[1] + "---\n"
          + docs[0].replace("openshift-machine-api-aws", "old-one").replace(
              "annotations:\n", "annotations:\n    release.openshift.io/delete: \"true\"\n"))
    return root


def independent_kid(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def test_install_dir_tokens_verify_with_the_cluster_keys(keyfactory, tmp_path):
    key_pem = keyfactory.traditional_pem("rsa2048")
    root = install_dir(str(tmp_path / "install"), key_pem)
    tokens = str(tmp_path / "tokens")
    result = CT.gather_install_dir(root, token_dir=tokens, audience="openshift", expiration=900, now=T0)
    assert result["source"] == "install_dir" and result["issuer"] == ISSUER and result["findings"] == []
    assert result["issuer_source"].endswith("manifests/cluster-authentication-02-config.yaml")
    assert [(item["name"], item["role_arn"]) for item in result["credentials_requests"]] == [
        ("openshift-machine-api-aws", arn_for("openshift-machine-api-aws")), ("openshift-image-registry", arn_for("openshift-image-registry"))]
    assert [os.path.relpath(item["secret_manifest"], root) for item in result["credentials_requests"]] == [
        "manifests/openshift-machine-api-aws-cloud-credentials-credentials.yaml",
        "manifests/openshift-image-registry-installer-cloud-credentials-credentials.yaml"]
    assert all(item["policy_statements"] for item in result["credentials_requests"])
    kid = independent_kid(keyfactory.public("rsa2048"))
    [jwk] = result["cluster_keys"]["keys"]
    assert jwk["kid"] == kid and set(jwk) == {"use", "kty", "kid", "alg", "n", "e"}
    assert len(result["sts_roles"]) == 3 and sorted(os.listdir(tokens)) == [
        "openshift-image-registry__cluster-image-registry-operator.jwt", "openshift-image-registry__registry.jwt",
        "openshift-machine-api__machine-api-controllers.jwt", "probe.jwt"]
    public = jwt.PyJWK(jwk).key
    texts = []
    for entry in result["sts_roles"]:
        path = entry["token_file"]
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        text = open(path).read()
        texts.append(text)
        header = jwt.get_unverified_header(text)
        assert header == {"alg": "RS256", "kid": kid}
        claims = jwt.decode(text, public, algorithms=["RS256"], audience="openshift", issuer=ISSUER,
                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
        namespace, account = os.path.basename(path)[:-4].split("__")
        assert claims["sub"] == "system:serviceaccount:%s:%s" % (namespace, account)
        assert claims["exp"] - claims["iat"] == 900 and claims["iat"] == T0 and claims["nbf"] == T0
        assert claims["kubernetes.io"]["namespace"] == namespace and claims["kubernetes.io"]["serviceaccount"]["name"] == account
    assert open(result["probe_token_file"]).read() == texts[0]
    dumped = json.dumps(result)
    assert not any(text.split(".")[2] in dumped or text.split(".")[1] in dumped for text in texts)
    assert "PRIVATE" not in dumped and key_pem.splitlines()[1] not in dumped
    assert result["trust_roles"][1]["service_accounts"] == [
        "system:serviceaccount:openshift-image-registry:cluster-image-registry-operator",
        "system:serviceaccount:openshift-image-registry:registry"]


def test_install_dir_problems(keyfactory, tmp_path):
    root = install_dir(str(tmp_path / "a"), keyfactory.pkcs8_pem("rsa2048"), issuer="", skip_secret="openshift-image-registry")
    os.remove(os.path.join(root, "tls", "bound-service-account-signing-key.key"))
    result = CT.gather_install_dir(root, token_dir=str(tmp_path / "t"), now=T0)
    assert [item["code"] for item in result["findings"]] == ["ISSUER_NOT_CONFIGURED", "CREDENTIALS_SECRET_MISSING", "INSTALL_SIGNING_KEY_MISSING"]
    assert result["issuer"] is None and result["cluster_keys"] is None and result["sts_roles"] == []
    assert not os.path.exists(str(tmp_path / "t"))
    assert result["findings"][1]["subject"] == "secret openshift-image-registry/installer-cloud-credentials"

    os.remove(os.path.join(root, "manifests", "cluster-authentication-02-config.yaml"))
    result = CT.gather_install_dir(root, credentials_requests_dir=str(tmp_path / "none"), now=T0)
    assert [item["code"] for item in result["findings"]] == [
        "ISSUER_NOT_CONFIGURED", "CREDENTIALS_REQUESTS_MISSING", "INSTALL_SIGNING_KEY_MISSING"]
    assert "does not exist" in result["findings"][0]["actual"]


def test_install_dir_ec_key_and_without_token_dir(keyfactory, tmp_path):
    root = install_dir(str(tmp_path / "ec"), keyfactory.traditional_pem("P-256"))
    result = CT.gather_install_dir(root, now=T0)
    assert result["sts_roles"] == [] and result["probe_token_file"] is None and len(result["trust_roles"]) == 2
    assert result["cluster_keys"]["keys"][0]["kty"] == "EC"
    token = CT.mint_token(keyfactory.private("P-256"), ISSUER, "ns", "sa", "openshift", 600, T0)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": independent_kid(keyfactory.public("P-256"))}


def test_token_file_names_are_never_paths():
    assert CT.token_file_name("openshift-machine-api", "machine-api-controllers") == "openshift-machine-api__machine-api-controllers.jwt"
    assert CT.token_file_name("../etc", "x") is None and CT.token_file_name("ns", "a/b") is None and CT.token_file_name("", "x") is None


@pytest.mark.parametrize("infrastructure, expected", [
    ({"status": {"apiServerURL": "https://api.prod.corp.example:6443", "infrastructureName": "prod-abcde",
                 "platformStatus": {"aws": {"region": "eu-west-1"}}}},
     {"name": "prod", "api_url": "https://api.prod.corp.example:6443", "infrastructure_name": "prod-abcde", "aws_region": "eu-west-1"}),
    # An API URL that does not follow api.<name>.<domain>: the infrastructure name without its random suffix.
    ({"status": {"apiServerURL": "https://10.0.0.5:6443", "infrastructureName": "edge-cluster-q9z8x"}},
     {"name": "edge-cluster", "api_url": "https://10.0.0.5:6443", "infrastructure_name": "edge-cluster-q9z8x", "aws_region": None}),
    ({"status": {"apiServerURL": 42, "platformStatus": {"aws": {"region": ""}}}},
     {"name": None, "api_url": None, "infrastructure_name": None, "aws_region": None}),
    ({}, {"name": None, "api_url": None, "infrastructure_name": None, "aws_region": None}),
])
def test_cluster_identity_from_the_infrastructure(infrastructure, expected):
    assert CT.cluster_identity(infrastructure) == expected


def test_cluster_identity_from_an_install_config():
    config = {"metadata": {"name": "c1"}, "baseDomain": "example.org", "platform": {"aws": {"region": "ap-south-1"}}}
    assert CT.cluster_identity(install_config=config) == {
        "name": "c1", "api_url": "https://api.c1.example.org:6443", "infrastructure_name": None, "aws_region": "ap-south-1"}
    assert CT.cluster_identity(install_config={"metadata": {}, "baseDomain": "x"})["name"] is None


def test_live_infrastructure_unreadable_is_no_finding(public_jwks):
    requests, secrets, pods, issuers, now = world(2)
    reader = FakeReader(requests, secrets, pods, deny={"infrastructure": 403}, jwks=public_jwks)
    result = CT.gather_live(reader, now=now)
    assert result["cluster"] == {"name": None, "api_url": None, "infrastructure_name": None, "aws_region": None}
    assert result["findings"] == []


@pytest.mark.parametrize("where", ["install-config.yaml", "manifests/cluster-config.yaml", None])
def test_install_dir_names_the_cluster_from_its_install_config(keyfactory, tmp_path, where):
    root = install_dir(str(tmp_path / "install"), keyfactory.traditional_pem("rsa2048"))
    config = "apiVersion: v1\nbaseDomain: example.org\nmetadata:\n  name: c1\nplatform:\n  aws:\n    region: ap-south-1\n" \
             "pullSecret: '{\"auths\": {\"x\": {\"auth\": \"c2VjcmV0\"}}}'\n"
    if where == "install-config.yaml":
        write(os.path.join(root, where), config)
    elif where:
        write(os.path.join(root, where), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-config-v1\n"
              "  namespace: kube-system\ndata:\n  install-config: |\n" + "".join("    " + line + "\n" for line in config.splitlines()))
    result = CT.gather_install_dir(root)
    if where:
        assert result["cluster"] == {"name": "c1", "api_url": "https://api.c1.example.org:6443", "infrastructure_name": None,
                                     "aws_region": "ap-south-1"}
    else:
        assert result["cluster"]["name"] is None
    assert "c2VjcmV0" not in json.dumps(result)
