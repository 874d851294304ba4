#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: issuer_probe
version_added: 1.0.0
short_description: Check that AWS STS can read an OIDC issuer's discovery document and keys
description:
  - Fetches the OpenID Connect discovery document C(<issuer>/.well-known/openid-configuration) and then its
    C(jwks_uri) anonymously, the way AWS STS does during C(AssumeRoleWithWebIdentity), and reports every broken
    link as a finding with the evidence (expected and actual) and the fix.
  - No C(Authorization) header, no cookies and no C(.netrc) credentials are sent; redirects are not followed but
    reported; bodies are read up to 1 MiB; each request has O(timeout) per network operation.
  - Honours the C(HTTPS_PROXY) (or C(https_proxy)) and C(NO_PROXY) (or C(no_proxy)) environment variables of the
    managed node, and C(HTTP_PROXY) for plain http URLs; HTTPS is tunnelled through the proxy with C(CONNECT), so the
    issuer's certificate is still verified end to end. Set them with the C(environment) task keyword.
  - When O(token) is given, its C(iss) is compared with O(issuer), its C(kid) is looked up in the published keys and
    its signature is verified with them.
  - When O(expected_keys) is given, each key must be published under its C(kid) with the same key material.
  - The module is read-only and never fails because of the issuer; it fails only when it cannot run
    (bad options, a missing Python library). Problems are returned in RV(findings).
  - The finding codes are documented in the collection's C(docs/findings.md).
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  issuer:
    description:
      - The issuer URL, exactly as the cluster's C(Authentication.spec.serviceAccountIssuer), for example
        C(https://my-bucket.s3.us-east-2.amazonaws.com) or C(https://d111111abcdef8.cloudfront.net).
      - An issuer AWS would refuse (not https, port, query, fragment, trailing slash, S3 bucket name with dots) is
        reported as C(ISSUER_URL_INVALID); its documents are still fetched when the URL is absolute http(s).
    type: str
    required: true
  token:
    description:
      - A service account token (JWT) of the cluster, for example the content of
        C(/var/run/secrets/openshift/serviceaccount/token).
      - Its claims are decoded without trusting them; the token itself is never returned or logged.
      - Mutually exclusive with O(token_file).
    type: str
  token_file:
    description:
      - A file on the managed node holding the token, for example the C(probe.jwt) that
        M(openshift_sts.oidc.cluster_trust_info) writes, or a pod's C(web_identity_token_file).
      - The token is checked exactly like O(token); it never passes through Ansible variables.
      - Mutually exclusive with O(token).
    type: path
  expected_keys:
    description:
      - The cluster's own public keys, to catch a published key that differs from the cluster's.
      - Each item is a JWKS (a dict with C(keys), for example the cluster's C(/openid/v1/jwks)), a JWK dict, a JSON
        string of either, PEM text of a public key, or the path of a PEM file (public or private key; only its public
        half is used) on the managed node.
      - A key without C(kid) gets the C(kid) kube-apiserver computes (SHA-256 of the DER SubjectPublicKeyInfo).
      - Give public keys or file paths. Inline private key text is accepted but masked in the result and warned
        about, since module arguments may be logged on the managed node.
    type: list
    elements: raw
  timeout:
    description:
      - Seconds allowed for each network operation (connect, TLS handshake, each read); a whole request is given
        at most twice as long.
      - The default is STS's own limit. C(ISSUER_SLOW) is a warning when the discovery and JWKS requests together
        take more than 80 % of O(timeout), an error when they take more than O(timeout).
    type: float
    default: 5
  validate_certs:
    description:
      - Whether to verify the TLS certificates of the issuer. STS always does; turn it off only to look past
        a certificate problem that is already reported.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file (or a directory of hashed certificates) of the CA certificates to trust instead of the system's,
        for example the CA of a TLS-intercepting proxy.
      - Without it, the system trust store is used, which honours the C(SSL_CERT_FILE) and C(SSL_CERT_DIR)
        environment variables.
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - PyJWT >= 2.6.0 and cryptography (only to verify a O(token) signature or to read PEM O(expected_keys))
notes:
  - The documents are fetched from the managed node; to see what AWS sees, run it where the public internet is
    reachable the way AWS reaches it (usually C(localhost)).
  - A private S3 bucket without C(s3:ListBucket) answers 403 for a missing object, so C(DISCOVERY_ACCESS_DENIED) can
    also mean that the document was never uploaded.
seealso:
  - name: AWS STS AssumeRoleWithWebIdentity
    description: The call whose identity provider requirements this module checks.
    link: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
"""

EXAMPLES = r"""
- name: Probe the issuer as STS would
  openshift_sts.oidc.issuer_probe:
    issuer: https://my-cluster-oidc.s3.us-east-2.amazonaws.com
  register: probe

- name: Show the broken links
  ansible.builtin.debug:
    msg: "[{{ item.severity | upper }}] {{ item.code }}: {{ item.message }} (expected {{ item.expected }}, got {{ item.actual }})"
  loop: "{{ probe.findings }}"

- name: Check a token and the cluster's keys, through a corporate proxy with its own CA
  openshift_sts.oidc.issuer_probe:
    issuer: https://d111111abcdef8.cloudfront.net
    token: "{{ lookup('ansible.builtin.file', 'sa-token') }}"
    expected_keys:
      - "{{ lookup('ansible.builtin.file', 'bound-service-account-signing-key.pub') }}"
    ca_path: /etc/pki/proxy-ca.pem
  environment:
    HTTPS_PROXY: http://proxy.example.com:3128
    NO_PROXY: .internal.example.com
  register: probe

- name: Fail the play on any error finding
  ansible.builtin.assert:
    that: probe.ok
    fail_msg: "{{ probe.findings | selectattr('severity', 'equalto', 'error') | map(attribute='code') | join(', ') }}"
"""

RETURN = r"""
ok:
  description: True when no finding has severity C(error).
  returned: always
  type: bool
  sample: false
findings:
  description:
    - The problems found, in chain order (token, issuer, discovery, jwks), worst first within a link.
    - Empty when the issuer is healthy.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: The finding code, see C(docs/findings.md).
      type: str
      sample: DISCOVERY_ACCESS_DENIED
    severity:
      description: C(error), C(warning) or C(info).
      type: str
      sample: error
    link:
      description: The link of the trust chain (token, issuer, discovery, jwks, hosting, iam_provider, role_trust, sts, other).
      type: str
      sample: discovery
    subject:
      description: What was checked (a URL, or C(token)).
      type: str
      sample: https://my-cluster-oidc.s3.us-east-2.amazonaws.com/.well-known/openid-configuration
    message:
      description: One sentence explaining the problem.
      type: str
      sample: An anonymous GET of the discovery document was denied (HTTP 403 Forbidden), as it will be for STS.
    expected:
      description: What a working issuer shows (a string or a list).
      type: raw
      sample: HTTP 200 for an anonymous GET
    actual:
      description: What was observed (a string or a list); for C(*_UNREACHABLE) it starts with the failure kind
        (C(dns), C(connection), C(tls), C(timeout), C(proxy), C(http)).
      type: raw
      sample: "HTTP 403 Forbidden; S3 error AccessDenied: Access Denied; server: AmazonS3"
    remediation:
      description: How to fix it.
      type: str
      sample: Make the object anonymously readable.
discovery:
  description: The parsed discovery document, or null when it could not be read.
  returned: always
  type: dict
  sample: {"issuer": "https://my-cluster-oidc.s3.us-east-2.amazonaws.com", "jwks_uri": "https://my-cluster-oidc.s3.us-east-2.amazonaws.com/keys.json"}
jwks:
  description: The parsed JWKS (private members removed from its keys), or null when it could not be read.
  returned: always
  type: dict
  sample: {"keys": [{"use": "sig", "kty": "RSA", "kid": "3z5...", "alg": "RS256", "n": "xYz...", "e": "AQAB"}]}
timings:
  description: One entry per request made, in order.
  returned: always
  type: list
  elements: dict
  contains:
    document:
      description: C(discovery) or C(jwks).
      type: str
    url:
      description: The URL fetched.
      type: str
    status:
      description: The HTTP status, null when no answer came.
      type: int
    elapsed:
      description: Seconds the request took.
      type: float
    bytes:
      description: Bytes of body read (at most 1 MiB).
      type: int
    truncated:
      description: Whether the body was larger than 1 MiB.
      type: bool
    error_kind:
      description: C(dns), C(connection), C(tls), C(timeout), C(proxy) or C(invalid_url) when no answer came.
      type: str
    proxy:
      description: The proxy used (without credentials), or null.
      type: str
token_claims:
  description: The claims of O(token) or O(token_file) (never the token itself), or null without a parseable token.
  returned: when O(token) or O(token_file) is given
  type: dict
  sample: {"iss": "https://my-cluster-oidc.s3.us-east-2.amazonaws.com", "aud": ["openshift"], "sub": "system:serviceaccount:ns:sa",
           "kid": "3z5...", "alg": "RS256", "exp": 1767225600, "iat": 1767222000}
"""

import functools
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.openshift_sts.oidc.plugins.module_utils.anonymous_fetch import fetch
from ansible_collections.openshift_sts.oidc.plugins.module_utils.keys import HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_IMPORT_ERROR, KeyLoadError
from ansible_collections.openshift_sts.oidc.plugins.module_utils.probe import normalize_expected_keys, probe_issuer
from ansible_collections.openshift_sts.oidc.plugins.module_utils.token import HAS_PYJWT, PYJWT_IMPORT_ERROR, TokenFileError, read_token_file


def _inline_private_keys(items):
    """The inline private key texts among ``expected_keys`` (to mask them and warn)."""
    return [item for item in items or [] if isinstance(item, str) and "PRIVATE KEY-----" in item]


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec=dict(
            issuer=dict(type="str", required=True),
            token=dict(type="str", no_log=True),
            token_file=dict(type="path"),
            expected_keys=dict(type="list", elements="raw", no_log=False),
            timeout=dict(type="float", default=5.0),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
        ),
        mutually_exclusive=[("token", "token_file")],
        supports_check_mode=True,
    )
    params = module.params
    if params["token_file"] is not None:
        try:
            params["token"] = read_token_file(params["token_file"])
        except TokenFileError as error:
            module.fail_json(msg=str(error))
        if params["token"]:
            module.no_log_values.add(params["token"])
    private = _inline_private_keys(params["expected_keys"])
    for item in private:
        module.no_log_values.add(item)
    if private:
        module.warn("expected_keys holds %d inline private key(s); only the public half is used. Give the public key "
                    "or a file path instead: module arguments may be logged on the managed node." % len(private))
    if params["timeout"] <= 0:
        module.fail_json(msg="timeout must be greater than 0, got %s" % params["timeout"])
    if params["token"] is not None and not HAS_PYJWT:
        module.fail_json(msg=missing_required_lib("PyJWT", reason="to verify the token signature"), exception=PYJWT_IMPORT_ERROR)
    if params["token"] is not None and not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography", reason="to verify the token signature"),
                         exception=CRYPTOGRAPHY_IMPORT_ERROR)

    try:
        expected = normalize_expected_keys(params["expected_keys"])
    except KeyLoadError as error:
        if not HAS_CRYPTOGRAPHY:
            module.fail_json(msg=missing_required_lib("cryptography", reason="to read PEM expected_keys"),
                             exception=CRYPTOGRAPHY_IMPORT_ERROR)
        module.fail_json(msg="bad expected_keys: %s" % error)
    except ValueError as error:
        module.fail_json(msg="bad expected_keys: %s" % error)

    fetcher = functools.partial(fetch, validate_certs=params["validate_certs"], ca_path=params["ca_path"])
    try:
        result = probe_issuer(params["issuer"], lambda url, timeout: fetcher(url, timeout=timeout), token=params["token"],
                              expected_keys=expected, timeout=params["timeout"])
    except Exception as error:  # pylint: disable=broad-except  # report a bug as a module failure, not a traceback
        module.fail_json(msg="issuer_probe failed unexpectedly: %s" % type(error).__name__, exception=traceback.format_exc())
    if params["token"] is None:
        result.pop("token_claims", None)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
