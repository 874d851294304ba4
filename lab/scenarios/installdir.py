"""An install directory as a user holds it before ``openshift-install create cluster``.

After ``openshift-install create manifests``, ``oc adm release extract
--credentials-requests`` and ``ccoctl aws create-all``, with ccoctl's
``manifests/`` and ``tls/`` copied in (field notes §6.5, §6.7, §6.8, §8):

* ``install-config.yaml`` with ``credentialsMode: Manual`` (the installer
  consumes it during ``create manifests``; users keep a copy, and so does
  the lab);
* ``manifests/cluster-authentication-02-config.yaml`` (0600, no trailing newline);
* ``manifests/<ns>-<secret>-credentials.yaml`` per CredentialsRequest (0600,
  no trailing newline);
* ``tls/bound-service-account-signing-key.key`` (PKCS#1, 0600) and ``.pub``
  (labelled ``RSA PUBLIC KEY`` but holding SPKI bytes, as the installer writes it);
* ``credrequests/`` with the extracted CredentialsRequests, named as the
  release payload names them.
"""

import base64
import os

import yaml
from cryptography.hazmat.primitives import serialization

from lab.openshift import keys as keymod

# metadata.name -> the file name `oc adm release extract --credentials-requests` writes (field notes §8).
RELEASE_FILE_NAMES = {
    "cloud-credential-operator-iam-ro": "0000_50_cloud-credential-operator_05-iam-ro-credentialsrequest.yaml",
    "openshift-machine-api-aws": "0000_30_machine-api-operator_00_credentials-request.yaml",
    "openshift-image-registry": "0000_50_cluster-image-registry-operator_01-registry-credentials-request.yaml",
    "openshift-ingress": "0000_50_cluster-ingress-operator_00-ingress-credentials-request.yaml",
    "aws-ebs-csi-driver-operator": "0000_50_cluster-storage-operator_03_credentials_request_aws.yaml",
    "openshift-cloud-network-config-controller-aws": "0000_50_cluster-network-operator_02-cncc-credentials.yaml",
    "openshift-cluster-api-aws": "0000_30_cluster-api_01_credentials-request.yaml",
    "openshift-aws-cloud-controller-manager":
        "0000_26_cloud-controller-manager-operator_19_credentialsrequest-aws.yaml",
}
FILE_ANNOTATION = "lab.openshift.io/file"
PULL_SECRET = '{"auths":{"lab.invalid":{"auth":"bGFiOmxhYg==","email":"lab@example.com"}}}'
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILabLabLabLabLabLabLabLabLabLabLabLabLabLabLab lab@example.com"


def authentication_manifest(issuer):
    """``cluster-authentication-02-config.yaml`` exactly as ccoctl writes it (no trailing newline)."""
    return ("apiVersion: config.openshift.io/v1\nkind: Authentication\nmetadata:\n  name: cluster\nspec:\n"
            f"  serviceAccountIssuer: {issuer}")


def secret_manifest(namespace, name, role_arn, regional=True):
    """``<ns>-<secret>-credentials.yaml`` exactly as ccoctl writes it (no trailing newline)."""
    regional_line = "    sts_regional_endpoints = regional\n" if regional else ""
    return ("apiVersion: v1\nstringData:\n  credentials: |-\n    [default]\n" + regional_line
            + f"    role_arn = {role_arn}\n"
            + "    web_identity_token_file = /var/run/secrets/openshift/serviceaccount/token\n"
            + f"kind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\ntype: Opaque")


def installer_public_pem(private_key):
    """The installer's ``.pub``: SPKI DER under an ``RSA PUBLIC KEY`` label (field notes §6.5)."""
    der = private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN RSA PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END RSA PUBLIC KEY-----\n"


def credentials_request_file_name(credentials_request):
    """The release-payload file name of a CredentialsRequest."""
    name = credentials_request["metadata"]["name"]
    annotations = credentials_request["metadata"].get("annotations") or {}
    return annotations.get(FILE_ANNOTATION) or RELEASE_FILE_NAMES.get(name) or f"0000_50_{name}_00-credentials-request.yaml"


def install_config(world):
    """``install-config.yaml`` for a Manual-mode AWS cluster."""
    cluster = world.spec["cluster"]
    machine = {"architecture": "amd64", "hyperthreading": "Enabled", "platform": {}, "replicas": 3}
    config = {
        "additionalTrustBundlePolicy": "Proxyonly",
        "apiVersion": "v1",
        "baseDomain": cluster["base_domain"],
        "compute": [dict(machine, name="worker")],
        "controlPlane": dict(machine, name="master"),
        "credentialsMode": "Manual",
        "metadata": {"creationTimestamp": None, "name": cluster["name"]},
        "networking": {
            "clusterNetwork": [{"cidr": "10.128.0.0/14", "hostPrefix": 23}],
            "machineNetwork": [{"cidr": "10.0.0.0/16"}],
            "networkType": "OVNKubernetes",
            "serviceNetwork": ["172.30.0.0/16"],
        },
        "platform": {"aws": {"region": world.region}},
        "publish": "External",
        "pullSecret": PULL_SECRET,
        "sshKey": SSH_KEY + "\n",
    }
    return yaml.safe_dump(config, default_flow_style=False, sort_keys=False)


def _write(path, text, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)
    return path


def write_install_dir(world, directory):
    """Write the install directory of ``world`` into ``directory``; returns ``{relative path: absolute path}``."""
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    written = {}

    def put(relative, text, mode):
        written[relative] = _write(os.path.join(directory, relative), text, mode)

    put("install-config.yaml", install_config(world), 0o640)
    put("manifests/cluster-authentication-02-config.yaml", authentication_manifest(world.issuer), 0o600)
    for role in world.roles:
        put(f"manifests/{role['secret_namespace']}-{role['secret_name']}-credentials.yaml",
            secret_manifest(role["secret_namespace"], role["secret_name"], role["role_arn"]), 0o600)
    put("tls/bound-service-account-signing-key.key", keymod.private_pem(world.signing_key), 0o600)
    put("tls/bound-service-account-signing-key.pub", installer_public_pem(world.signing_key), 0o640)
    for request in world.credentials_requests:
        obj = {key: request[key] for key in ("apiVersion", "kind", "metadata", "spec")}
        annotations = {k: v for k, v in (obj["metadata"].get("annotations") or {}).items() if k != FILE_ANNOTATION}
        obj["metadata"] = dict(obj["metadata"], annotations=annotations)
        put(f"credrequests/{credentials_request_file_name(request)}",
            yaml.safe_dump(obj, default_flow_style=False, sort_keys=False), 0o644)
    return written
