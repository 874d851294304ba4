"""TokenRequest, the OIDC discovery endpoints, JWKS and key handling, checked independently with PyJWT."""

import base64
import hashlib
import json

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from openshift_support import ISSUER, api_client

pytest_plugins = ["openshift_support"]


def independent_kid(private_key):
    """kid as kube-apiserver computes it, done here without the lab's code."""
    der = private_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


def _get_json(ocp_twin, path, token):
    response = requests.get(ocp_twin.url + path, headers={"Authorization": "Bearer " + token},
                            verify=ocp_twin.test_env["K8S_AUTH_SSL_CA_CERT"], timeout=10)
    assert response.status_code == 200, response.text
    return response


def _token_request(ocp_kube, namespace, sa, **spec):
    core = client.CoreV1Api(ocp_kube)
    return core.create_namespaced_service_account_token(sa, namespace, {"spec": spec})


def _jwks_keys(ocp_twin):
    return {k["kid"]: jwt.PyJWK.from_dict(k) for k in _get_json(ocp_twin, "/openid/v1/jwks", ocp_twin.readonly_token).json()["keys"]}


def test_openid_configuration_as_kube_apiserver_serves_it(ocp_twin):
    response = _get_json(ocp_twin, "/.well-known/openid-configuration", ocp_twin.readonly_token)
    assert response.json() == {
        "issuer": ISSUER,
        "jwks_uri": ISSUER + "/openid/v1/jwks",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    jwks = _get_json(ocp_twin, "/openid/v1/jwks", ocp_twin.readonly_token)
    assert jwks.headers["Content-Type"] == "application/jwk-set+json"


def test_jwks_lists_current_and_previous_keys(ocp_twin, ocp_keys):
    keys = _get_json(ocp_twin, "/openid/v1/jwks", ocp_twin.readonly_token).json()["keys"]
    assert [k["kid"] for k in keys] == [independent_kid(ocp_keys[0]), independent_kid(ocp_keys[1])]
    for key in keys:
        assert list(key) == ["use", "kty", "kid", "alg", "n", "e"]
        assert key["use"] == "sig" and key["alg"] == "RS256" and key["e"] == "AQAB" and len(key["kid"]) == 43


def test_token_request_claims_and_signature(ocp_twin, ocp_kube, ocp_keys):
    ocp_twin.add_credentials_requests("default")
    response = _token_request(ocp_kube, "openshift-machine-api", "machine-api-controllers", audiences=["openshift"], expirationSeconds=1200)
    token = response.status.token
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": independent_kid(ocp_keys[1])}
    claims = jwt.decode(token, _jwks_keys(ocp_twin)[header["kid"]].key, algorithms=["RS256"], audience="openshift", issuer=ISSUER)
    assert claims["sub"] == "system:serviceaccount:openshift-machine-api:machine-api-controllers"
    assert claims["exp"] - claims["iat"] == 1200 and claims["nbf"] == claims["iat"]
    sa = client.CoreV1Api(ocp_kube).read_namespaced_service_account("machine-api-controllers", "openshift-machine-api")
    assert claims["kubernetes.io"] == {"namespace": "openshift-machine-api",
                                       "serviceaccount": {"name": "machine-api-controllers", "uid": sa.metadata.uid}}
    assert response.status.expiration_timestamp.timestamp() == claims["exp"]


def test_token_request_defaults_and_validation(ocp_twin, ocp_kube):
    token = _token_request(ocp_kube, "default", "default").status.token
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == [ISSUER] and claims["iss"] == ISSUER
    assert claims["exp"] - claims["iat"] == 3600
    with pytest.raises(ApiException) as info:
        _token_request(ocp_kube, "default", "default", expirationSeconds=599)
    assert info.value.status == 422 and "may not specify a duration less than 10 minutes" in json.loads(info.value.body)["message"]
    with pytest.raises(ApiException) as info:
        _token_request(ocp_kube, "default", "nobody")
    assert info.value.status == 404 and json.loads(info.value.body)["message"] == 'serviceaccounts "nobody" not found'


def test_pod_bound_token(ocp_twin, ocp_kube):
    ocp_twin.add_credentials_requests("default")
    pod = client.CoreV1Api(ocp_kube).list_namespaced_pod("openshift-ingress-operator").items[0]
    ref = {"kind": "Pod", "apiVersion": "v1", "name": pod.metadata.name, "uid": pod.metadata.uid}
    token = _token_request(ocp_kube, "openshift-ingress-operator", "ingress-operator", boundObjectRef=ref).status.token
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["kubernetes.io"]["pod"] == {"name": pod.metadata.name, "uid": pod.metadata.uid}
    assert claims["kubernetes.io"]["node"]["name"] == pod.spec.node_name
    with pytest.raises(ApiException) as info:
        _token_request(ocp_kube, "openshift-ingress-operator", "ingress-operator", boundObjectRef=dict(ref, uid="0000"))
    assert info.value.status == 409


def test_key_objects_in_the_cluster(ocp_twin, ocp_kube, ocp_keys):
    core = client.CoreV1Api(ocp_kube)
    secret = core.read_namespaced_secret("next-bound-service-account-signing-key", "openshift-kube-apiserver-operator")
    private = serialization.load_pem_private_key(base64.b64decode(secret.data["service-account.key"]), None)
    assert independent_kid(private) == independent_kid(ocp_keys[1])
    assert base64.b64decode(secret.data["service-account.pub"]).startswith(b"-----BEGIN PUBLIC KEY-----")
    certs = core.read_namespaced_config_map("bound-sa-token-signing-certs", "openshift-kube-apiserver").data
    assert sorted(certs) == ["service-account-001.pub", "service-account-002.pub"]
    loaded = serialization.load_pem_public_key(certs["service-account-002.pub"].encode())
    assert loaded.public_numbers() == ocp_keys[1].public_key().public_numbers()


def test_key_rotation_by_deleting_the_secret(ocp_twin, ocp_kube, ocp_keys):
    core = client.CoreV1Api(ocp_kube)
    core.delete_namespaced_secret("next-bound-service-account-signing-key", "openshift-kube-apiserver-operator")
    assert ocp_twin.rollout_in_progress
    assert ocp_twin.signing_key_id == independent_kid(ocp_keys[1])  # until the new revision is out
    assert ocp_twin.wait_for_rollout(5)
    secret = core.read_namespaced_secret("next-bound-service-account-signing-key", "openshift-kube-apiserver-operator")
    new_key = serialization.load_pem_private_key(base64.b64decode(secret.data["service-account.key"]), None)
    token = _token_request(ocp_kube, "default", "default").status.token
    assert jwt.get_unverified_header(token)["kid"] == independent_kid(new_key)
    assert len(_jwks_keys(ocp_twin)) == 3
    certs = core.read_namespaced_config_map("bound-sa-token-signing-certs", "openshift-kube-apiserver").data
    assert len(certs) == 3


def test_service_account_tokens_authenticate_and_token_review(ocp_twin, ocp_kube):
    token = _token_request(ocp_kube, "default", "default").status.token
    as_sa = client.CoreV1Api(api_client(ocp_twin, token))
    with pytest.raises(ApiException) as info:
        as_sa.list_namespaced_secret("default")
    assert info.value.status == 403
    assert 'User "system:serviceaccount:default:default"' in json.loads(info.value.body)["message"]
    review = client.AuthenticationV1Api(ocp_kube).create_token_review({"spec": {"token": token}})
    assert review.status.authenticated and review.status.user.username == "system:serviceaccount:default:default"
    wrong = client.AuthenticationV1Api(ocp_kube).create_token_review({"spec": {"token": token, "audiences": ["openshift"]}})
    assert not wrong.status.authenticated and "audiences" in wrong.status.error
    access = client.AuthorizationV1Api(api_client(ocp_twin, ocp_twin.readonly_token)).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "create", "resource": "serviceaccounts", "subresource": "token"}}})
    assert access.status.allowed is False
