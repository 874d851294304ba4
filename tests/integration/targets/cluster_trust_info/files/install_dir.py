#!/usr/bin/env python
"""Test helper of the cluster_trust_info target: write an install directory as ccoctl leaves it, and verify tokens.

    install_dir.py make DIR ISSUER [--skip-secret CR_NAME] [--no-auth-manifest]
        DIR/tls/bound-service-account-signing-key.key (PKCS#1, 0600), DIR/manifests/cluster-authentication-02-config.yaml
        (no trailing newline), DIR/manifests/<ns>-<secret>-credentials.yaml (stringData INI, 0600) and
        DIR/credrequests/*.yaml (the OpenShift 4.x AWS CredentialsRequests, one of them in a multi-document file,
        plus one marked release.openshift.io/delete). Prints {"kid": ..., "roles": {cr name: arn}} as JSON.
    install_dir.py verify JWKS_JSON ISSUER AUDIENCE TOKEN_FILE...
        Verifies each token with PyJWT against the JWKS (kid, RS256, iss, aud, sub from the file name); prints JSON.

Uses cryptography and PyJWT only, never the collection's code.
"""

import base64
import hashlib
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ACCOUNT = "123456789012"
INFRA = "lab-install-x7k2p"
TOKEN_FILE = "/var/run/secrets/openshift/serviceaccount/token"
# (metadata.name, secret namespace, secret name, service accounts): field notes section 8
REQUESTS = (
    ("cloud-credential-operator-iam-ro", "openshift-cloud-credential-operator", "cloud-credential-operator-iam-ro-creds",
     ["cloud-credential-operator"]),
    ("openshift-machine-api-aws", "openshift-machine-api", "aws-cloud-credentials", ["machine-api-controllers"]),
    ("openshift-image-registry", "openshift-image-registry", "installer-cloud-credentials", ["cluster-image-registry-operator", "registry"]),
    ("openshift-ingress", "openshift-ingress-operator", "cloud-credentials", ["ingress-operator"]),
    ("aws-ebs-csi-driver-operator", "openshift-cluster-csi-drivers", "ebs-cloud-credentials",
     ["aws-ebs-csi-driver-operator", "aws-ebs-csi-driver-controller-sa"]),
    ("openshift-cloud-network-config-controller-aws", "openshift-cloud-network-config-controller", "cloud-credentials",
     ["cloud-network-config-controller"]),
    ("openshift-cluster-api-aws", "openshift-cluster-api", "capa-manager-bootstrap-credentials", ["capa-controller-manager"]),
    ("openshift-aws-cloud-controller-manager", "openshift-cloud-controller-manager", "cloud-controller-manager-credentials",
     ["cloud-controller-manager"]),
)


def write(path, text):
    """Write ``text`` to ``path`` with mode 0600."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def credentials_request(name, namespace, secret, accounts, annotations=""):
    """A CredentialsRequest manifest as `oc adm release extract --credentials-requests` writes it."""
    return ("apiVersion: cloudcredential.openshift.io/v1\nkind: CredentialsRequest\nmetadata:\n  annotations:\n"
            "    include.release.openshift.io/self-managed-high-availability: \"true\"\n%s  name: %s\n"
            "  namespace: openshift-cloud-credential-operator\nspec:\n  providerSpec:\n"
            "    apiVersion: cloudcredential.openshift.io/v1\n    kind: AWSProviderSpec\n    statementEntries:\n"
            "    - action:\n      - ec2:DescribeInstances\n      effect: Allow\n      resource: '*'\n"
            "  secretRef:\n    name: %s\n    namespace: %s\n  serviceAccountNames:\n%s"
            % (annotations, name, secret, namespace, "".join("  - %s\n" % account for account in accounts)))


def make(directory, issuer, skip_secret=None, auth_manifest=True):
    """Write the install directory; return the kid and the role ARNs."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write(os.path.join(directory, "tls", "bound-service-account-signing-key.key"),
          key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode())
    if auth_manifest:
        write(os.path.join(directory, "manifests", "cluster-authentication-02-config.yaml"),
              "apiVersion: config.openshift.io/v1\nkind: Authentication\nmetadata:\n  name: cluster\nspec:\n"
              "  serviceAccountIssuer: %s" % issuer)
    roles = {}
    for name, namespace, secret, _accounts in REQUESTS:
        arn = "arn:aws:iam::%s:role/%s" % (ACCOUNT, ("%s-%s-%s" % (INFRA, namespace, secret))[:64])
        roles[name] = arn
        if name == skip_secret:
            continue
        credentials = "[default]\nsts_regional_endpoints = regional\nrole_arn = %s\nweb_identity_token_file = %s" % (arn, TOKEN_FILE)
        write(os.path.join(directory, "manifests", "%s-%s-credentials.yaml" % (namespace, secret)),
              "apiVersion: v1\nstringData:\n  credentials: |-\n    %s\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n"
              "type: Opaque\n" % (credentials.replace("\n", "\n    "), secret, namespace))
    docs = [credentials_request(*request) for request in REQUESTS]
    for index, doc in enumerate(docs[:6]):
        write(os.path.join(directory, "credrequests", "0000_50_%02d_credentials-request.yaml" % index), doc)
    retired = credentials_request("retired-operator", "openshift-retired", "cloud-credentials", ["retired"],
                                  "    release.openshift.io/delete: \"true\"\n")
    write(os.path.join(directory, "credrequests", "0000_60_multi.yaml"), "---\n".join([docs[6], retired, docs[7]]))
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"kid": base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode(), "roles": roles}


def verify(jwks_path, issuer, audience, paths):
    """Verify every token file; return a summary (never the tokens)."""
    with open(jwks_path) as handle:
        keys = dict((jwk["kid"], jwt.PyJWK(jwk).key) for jwk in json.load(handle)["keys"])
    checked = []
    for path in paths:
        with open(path) as handle:
            token = handle.read()
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, keys[header["kid"]], algorithms=["RS256"], audience=audience, issuer=issuer)
        if os.path.basename(path) != "probe.jwt":
            namespace, account = os.path.basename(path)[:-len(".jwt")].split("__")
            assert claims["sub"] == "system:serviceaccount:%s:%s" % (namespace, account), claims["sub"]
        assert oct(os.stat(path).st_mode & 0o777) == "0o600", path
        checked.append({"file": os.path.basename(path), "kid": header["kid"], "sub": claims["sub"]})
    return {"verified": checked}


def main(argv):
    """Command line."""
    if argv[0] == "make":
        options = argv[3:]
        skip = options[options.index("--skip-secret") + 1] if "--skip-secret" in options else None
        print(json.dumps(make(argv[1], argv[2], skip, "--no-auth-manifest" not in options)))
    elif argv[0] == "verify":
        print(json.dumps(verify(argv[1], argv[2], argv[3], argv[4:])))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
