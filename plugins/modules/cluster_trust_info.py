#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_trust_info
version_added: 1.0.0
short_description: Gather the cluster side of the OpenShift STS trust chain, from a live cluster or an install directory
description:
  - Reads what the cluster contributes to C(AssumeRoleWithWebIdentity), for the diagnosis - the configured service
    account issuer, its history, the AWS CredentialsRequests and the role ARNs of their Secrets, the cluster's
    public keys, and the workloads still holding tokens of the previous issuer. Problems are returned as
    RV(findings); the module fails only when it cannot run (bad options, a missing library, an API server that
    cannot be reached or refuses the credentials).
  - B(Live cluster) (without O(install_dir)), through kubernetes.core's connection options in O(kubernetes) and
    their C(K8S_AUTH_*) environment variables - C(Authentication/cluster), C(KubeAPIServer/cluster)
    C(status.serviceAccountIssuers), every C(CredentialsRequest) (all namespaces) with an C(AWSProviderSpec) and
    without C(release.openshift.io/delete=true), the Secret each names in C(spec.secretRef), C(/openid/v1/jwks) (or
    configmap C(openshift-kube-apiserver/bound-sa-token-signing-certs), or the C(service-account.pub) of secret
    C(openshift-kube-apiserver-operator/next-bound-service-account-signing-key)), and the pods of the
    CredentialsRequests' service accounts.
  - The number of Kubernetes API calls does not grow with the number of CredentialsRequests - they are listed once,
    Secrets and Pods once per namespace when there are at most 10 namespaces, else once cluster-wide. Independent
    reads run concurrently.
  - B(Install directory) (O(install_dir), before C(openshift-install create cluster)) -
    C(manifests/cluster-authentication-02-config.yaml), the Secret manifests C(manifests/*-credentials.yaml) that
    ccoctl writes, the extracted CredentialsRequests (O(credentials_requests_dir)) and the signing key
    C(tls/bound-service-account-signing-key.key), whose public half becomes RV(cluster_keys).
  - B(Tokens) for the later checks are written to files in O(token_dir), never returned - live, one TokenRequest
    for the first service account, written to C(probe.jwt); install directory, a test token per service account,
    signed with the bound signing key exactly as kube-apiserver would (same C(kid), the manifests' issuer), written to
    C(<namespace>__<service account>.jwt), plus C(probe.jwt).
  - A pod started before the last issuer change (the previous issuer's C(expirationTime) minus the operator's 24 h
    grace) holds a token with the old C(iss) until it is restarted or the kubelet renews the token (after 80 % of its
    lifetime, at most 24 h); such pods are reported as one C(TOKEN_ISSUER_MISMATCH) per service account.
  - Secret data is never returned; of a credentials Secret only the role ARN and the token file path are.
    The signing key and the tokens never leave the module.
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  install_dir:
    description:
      - An openshift-install directory after C(create manifests) with ccoctl's C(manifests/) and C(tls/) copied in.
      - When given, the install directory is read instead of a live cluster and O(kubernetes) is ignored.
    type: path
  credentials_requests_dir:
    description:
      - The directory of CredentialsRequests extracted with C(oc adm release extract --credentials-requests);
        C(*.yaml) and C(*.yml) files, several documents each allowed.
      - Defaults to C(<install_dir>/credrequests). Only with O(install_dir).
    type: path
  token_dir:
    description:
      - A private directory (created with mode 0700 if missing) where tokens are written, each file with mode 0600.
        Without it no token is minted and, from an install directory, RV(sts_roles) is empty.
      - The files are written also in check mode - they are scratch files the diagnosis needs, nothing on the
        cluster changes. Remove the directory when done.
    type: path
  audience:
    description: The audience (C(aud)) of the tokens. OpenShift operators use C(openshift).
    type: str
    default: openshift
  expiration:
    description: Lifetime of the tokens in seconds (at least 600, the minimum kube-apiserver grants).
    type: int
    default: 600
extends_documentation_fragment:
  - openshift_sts.oidc.kubernetes_connection
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; token files are written to O(token_dir) in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - kubernetes (live cluster)
  - PyJWT and cryptography (install directory)
notes:
  - Read rights needed on a live cluster - get C(authentications.config.openshift.io) and
    C(kubeapiservers.operator.openshift.io), list C(credentialsrequests.cloudcredential.openshift.io), list
    C(secrets) and C(pods) in the CredentialsRequests' namespaces, C(/openid/v1/jwks) (or get the configmap or secret
    named above), and create C(serviceaccounts/token) for the probe token. A read that is refused becomes a
    C(CLUSTER_INSPECTION_FAILED) finding; the rest still runs.
  - Finding codes are documented in the collection's C(docs/findings.md).
seealso:
  - module: openshift_sts.oidc.issuer_probe
  - module: openshift_sts.oidc.sts_assume_check
  - module: openshift_sts.oidc.aws_trust_check
"""

EXAMPLES = r"""
- name: Gather the cluster side of the chain (K8S_AUTH_* from the environment, as AAP injects them)
  openshift_sts.oidc.cluster_trust_info:
    token_dir: "{{ oidc_scratch.path }}"
  register: cluster

- name: Probe the issuer with the cluster's keys and a fresh token
  openshift_sts.oidc.issuer_probe:
    issuer: "{{ cluster.issuer }}"
    token_file: "{{ cluster.probe_token_file }}"
    expected_keys: ["{{ cluster.cluster_keys }}"]
  when: cluster.issuer and cluster.probe_token_file

- name: Check every operator role with STS
  openshift_sts.oidc.sts_assume_check:
    roles: "{{ cluster.sts_roles }}"

- name: Before install, from the install directory
  openshift_sts.oidc.cluster_trust_info:
    install_dir: ~/clusters/mycluster
    credentials_requests_dir: ~/clusters/credrequests
    token_dir: "{{ oidc_scratch.path }}"
  register: cluster
"""

RETURN = r"""
source:
  description: Where the data came from.
  returned: always
  type: str
  choices: [live, install_dir]
cluster:
  description:
    - What names the cluster, each null when unknown - live, from C(Infrastructure/cluster) (an identity that may
      not read it loses only this); from an install directory, from C(install-config.yaml) or the install-config in
      C(manifests/cluster-config.yaml).
  returned: always
  type: dict
  contains:
    name: {description: "The cluster's name (the C(<name>) of C(https://api.<name>.<base domain>:6443)).", type: str, sample: mycluster}
    api_url: {description: The API server URL., type: str, sample: "https://api.mycluster.example.com:6443"}
    infrastructure_name: {description: The infrastructure ID (live only)., type: str, sample: mycluster-x7k2p}
    aws_region: {description: The cluster's AWS region., type: str, sample: us-east-2}
issuer:
  description: The configured service account issuer, or null when none is configured (C(ISSUER_NOT_CONFIGURED)).
  returned: always
  type: str
  sample: https://mycluster-oidc.s3.us-east-2.amazonaws.com
issuer_source:
  description: Where the issuer was read (a resource and field, or a manifest path).
  returned: always
  type: str
  sample: authentication.config.openshift.io/cluster spec.serviceAccountIssuer
issuer_history:
  description:
    - The issuers kube-apiserver trusts (C(KubeAPIServer/cluster) C(status.serviceAccountIssuers)), active first.
    - From an install directory, the manifests' issuer alone.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: The issuer URL., type: str, returned: always}
    expiration_time: {description: 'When a previous issuer stops being trusted (RFC 3339), null for the active one.', type: str, returned: always}
  sample: [{"name": "https://d111111abcdef8.cloudfront.net", "expiration_time": null},
           {"name": "https://mycluster-oidc.s3.us-east-2.amazonaws.com", "expiration_time": "2026-05-02T10:00:00Z"}]
last_issuer_change:
  description: When the issuer last changed (RFC 3339, the previous issuer's expiration minus 24 h), or null.
  returned: always
  type: str
  sample: "2026-05-01T10:00:00Z"
cluster_keys:
  description: The cluster's public keys as a JWKS (never private members), or null when they could not be read.
  returned: always
  type: dict
  sample: {"keys": [{"use": "sig", "kty": "RSA", "kid": "3z5...", "alg": "RS256", "n": "xYz...", "e": "AQAB"}]}
cluster_keys_source:
  description: Where RV(cluster_keys) came from (C(/openid/v1/jwks), the configmap, the secret, or the key file).
  returned: always
  type: str
credentials_requests:
  description: The AWS CredentialsRequests, with what their Secrets say.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: metadata.name of the CredentialsRequest., type: str, returned: always}
    namespace: {description: spec.secretRef.namespace (the namespace of the Secret and of the service accounts)., type: str, returned: always}
    secret_name: {description: spec.secretRef.name., type: str, returned: always}
    service_accounts: {description: spec.serviceAccountNames., type: list, elements: str, returned: always}
    role_arn: {description: 'The role_arn of the Secret''s credentials file, or null.', type: str, returned: always}
    web_identity_token_file: {description: 'The web_identity_token_file of the credentials file, or null.', type: str, returned: always}
    secret_found: {description: 'Whether the Secret exists (null when it could not be read).', type: bool, returned: always}
    policy_statements:
      description: spec.providerSpec.statementEntries, the permissions the operator needs (effect, action, resource, policyCondition).
      type: list
      elements: dict
      returned: always
    secret_manifest:
      description: The manifest holding the Secret, or the path where ccoctl writes it (C(manifests/<namespace>-<secret>-credentials.yaml)).
      type: str
      returned: with O(install_dir)
sts_roles:
  description:
    - The O(openshift_sts.oidc.sts_assume_check#module:roles) option of sts_assume_check, one entry per role and
      service account.
    - "Live, C({role_arn, service_account: {namespace, name}}); install directory, C({role_arn, token_file}) (empty
      without O(token_dir))."
  returned: always
  type: list
  elements: dict
  sample: [{"role_arn": "arn:aws:iam::123456789012:role/mycluster-openshift-machine-api-aws-cloud-credentials",
            "service_account": {"namespace": "openshift-machine-api", "name": "machine-api-controllers"}}]
trust_roles:
  description: The C(roles) option of aws_trust_check, one entry per role with every subject it must trust.
  returned: always
  type: list
  elements: dict
  sample: [{"role_arn": "arn:aws:iam::123456789012:role/mycluster-openshift-image-registry-installer-cloud-credentia",
            "service_accounts": ["system:serviceaccount:openshift-image-registry:cluster-image-registry-operator",
                                 "system:serviceaccount:openshift-image-registry:registry"]}]
probe_token_file:
  description: The file holding a token for issuer_probe's O(openshift_sts.oidc.issuer_probe#module:token_file), or null.
  returned: always
  type: str
  sample: /tmp/oidc-diagnose-x1y2/probe.jwt
findings:
  description:
    - The problems found, each a dict with C(code), C(severity), C(link), C(subject), C(message), C(expected),
      C(actual) and C(remediation), in chain order. Codes used - C(ISSUER_NOT_CONFIGURED),
      C(CREDENTIALS_REQUESTS_MISSING), C(CREDENTIALS_SECRET_MISSING), C(CREDENTIALS_ROLE_ARN_MISSING),
      C(TOKEN_ISSUER_MISMATCH), C(TOKEN_INVALID) (the probe token could not be requested),
      C(INSTALL_SIGNING_KEY_MISSING), C(CLUSTER_INSPECTION_FAILED).
  returned: always
  type: list
  elements: dict
  sample:
    - code: TOKEN_ISSUER_MISMATCH
      severity: error
      link: token
      subject: system:serviceaccount:openshift-machine-api:machine-api-controllers
      message: 1 pod(s) of machine-api-controllers in openshift-machine-api started before the issuer changed ...
      expected: tokens issued by https://d111111abcdef8.cloudfront.net (pods started after 2026-05-01T10:00:00Z)
      actual: ["machine-api-controllers-6c9f7d8b9-x2x4q (started 2026-04-30T08:12:40Z)"]
      remediation: Restart them (oc -n openshift-machine-api delete pod machine-api-controllers-6c9f7d8b9-x2x4q), ...
api_calls:
  description: The number of Kubernetes API requests made (client set-up included; 0 for an install directory).
  returned: always
  type: int
  sample: 9
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.openshift_sts.oidc.plugins.module_utils.cluster_trust import read_cluster_side
from ansible_collections.openshift_sts.oidc.plugins.module_utils.service_account_tokens import (
    MIN_EXPIRATION_SECONDS,
    kubernetes_option_spec,
)


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec=dict(
            install_dir=dict(type="path"),
            credentials_requests_dir=dict(type="path"),
            token_dir=dict(type="path"),
            audience=dict(type="str", default="openshift"),
            expiration=dict(type="int", default=MIN_EXPIRATION_SECONDS),
            kubernetes=kubernetes_option_spec(),
        ),
        required_by={"credentials_requests_dir": "install_dir"},
        supports_check_mode=True,
    )
    result = read_cluster_side(module, module.params, module.params["token_dir"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
