#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the openshift_sts.oidc collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: sts_assume_check
version_added: 1.0.0
short_description: Check that AWS STS accepts service-account tokens for IAM roles, as operator pods use them
description:
  - Calls AWS STS C(AssumeRoleWithWebIdentity) for each role with a web identity token, exactly as an OpenShift
    operator pod does with its projected service-account token, and reports per role whether STS accepts it.
  - The call is unsigned, as in AWS, so it works with no AWS credentials at all.
  - All roles are checked concurrently in a bounded pool. Only what AWS marks transient (C(IDPCommunicationError),
    throttling, 5xx) is retried, with exponential backoff.
  - A token comes from O(roles[].token), from O(roles[].token_file), or is minted by the module for
    O(roles[].service_account) with the Kubernetes TokenRequest API, using kubernetes.core's connection options.
  - Read-only. Credentials returned by STS are discarded at once, and tokens are never returned or logged;
    only their claims are.
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  roles:
    description: The roles to assume, each with one source of token.
    type: list
    elements: dict
    required: true
    suboptions:
      role_arn:
        description: ARN of the IAM role.
        type: str
        required: true
      token:
        description: The web identity token (a JWT).
        type: str
      token_file:
        description: A file on the managed node holding the token, like a pod's C(web_identity_token_file).
        type: path
      service_account:
        description: A service account for which the module requests a token with the TokenRequest API.
        type: dict
        suboptions:
          namespace:
            description: Namespace of the service account.
            type: str
            required: true
          name:
            description: Name of the service account.
            type: str
            required: true
  audience:
    description: The audience of tokens minted for O(roles[].service_account). OpenShift operators use C(openshift).
    type: str
    default: openshift
  duration_seconds:
    description: C(DurationSeconds) of each call (900 to 43200).
    type: int
    default: 900
  concurrency:
    description:
      - How many C(AssumeRoleWithWebIdentity) calls are in flight at first, and how many TokenRequests at most (when
        the module mints the tokens).
      - STS limits request rates per account and Region (a token bucket, refilled every second). The first burst is
        at most this many calls; then, as long as STS answers without throttling, one more call may be in flight
        after each answer, up to O(max_concurrency) (as TCP's slow start). A throttling answer halves the number of
        calls in flight for the rest of the check, and the throttled call is retried with backoff.
      - With the defaults, 500 roles take about four round trips instead of ten at a fixed 50.
    type: int
    default: 50
  max_concurrency:
    description:
      - The most C(AssumeRoleWithWebIdentity) calls in flight while STS does not throttle; at least O(concurrency).
        Set it to O(concurrency) to keep a fixed number of calls in flight.
    type: int
    default: 250
extends_documentation_fragment:
  - openshift_sts.oidc.kubernetes_connection
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - AWS logs nothing in CloudTrail for the C(Couldn't retrieve verification key) failure; this module reproduces
    the call so the failure can be seen.
  - Finding codes are documented in the collection's C(docs/findings.md).
"""

EXAMPLES = r"""
- name: Check every operator role with tokens minted for its service accounts
  openshift_sts.oidc.sts_assume_check:
    region: eu-west-1
    roles:
      - role_arn: arn:aws:iam::123456789012:role/mycluster-openshift-machine-api-aws-cloud-credentials
        service_account: {namespace: openshift-machine-api, name: machine-api-controllers}
      - role_arn: arn:aws:iam::123456789012:role/mycluster-openshift-image-registry-installer-cloud-credentia
        service_account: {namespace: openshift-image-registry, name: cluster-image-registry-operator}
  register: sts

- name: Check one role with a token read from a file
  openshift_sts.oidc.sts_assume_check:
    roles:
      - role_arn: "{{ role_arn }}"
        token_file: /var/run/secrets/openshift/serviceaccount/token
"""

RETURN = r"""
ok:
  description: Whether STS accepted the token for every role.
  returned: always
  type: bool
roles:
  description: One result per entry of O(roles), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    role_arn: {description: The role., type: str, returned: always}
    ok: {description: Whether STS accepted the token., type: bool, returned: always}
    attempts: {description: How many calls were made (transient errors are retried)., type: int, returned: always}
    error_code: {description: 'The STS error code, or null.', type: str, returned: always, sample: InvalidIdentityToken}
    error_message: {description: 'The STS error message, or null.', type: str, returned: always}
    claims:
      description: The token's claims (never the token) - iss, aud, sub, kid, alg, exp, iat.
      type: dict
      returned: when a token could be had
    assumed_role_arn: {description: The assumed-role ARN on success., type: str, returned: always}
    provider: {description: The provider STS matched (on success)., type: str, returned: always}
    audience: {description: The audience STS matched (on success)., type: str, returned: always}
    subject_from_token: {description: The token's sub as STS read it (on success)., type: str, returned: always}
    findings: {description: The findings for this role., type: list, elements: dict, returned: always}
findings:
  description:
    - Every finding, each a dict with C(code), C(severity), C(link), C(subject), C(message), C(expected), C(actual)
      and C(remediation).
  returned: always
  type: list
  elements: dict
  sample:
    - code: STS_INVALID_IDENTITY_TOKEN
      severity: error
      link: sts
      subject: arn:aws:iam::123456789012:role/mycluster-openshift-machine-api-aws-cloud-credentials
      message: "STS refused the token for arn:aws:iam::...: STS could not read the issuer's discovery document..."
      expected: AssumeRoleWithWebIdentity succeeds
      actual: "InvalidIdentityToken: Couldn't retrieve verification key from your identity provider, ..."
      remediation: Make <issuer>/.well-known/openid-configuration and its jwks_uri publicly readable...
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.openshift_sts.oidc.plugins.module_utils.service_account_tokens import TokenMinter, kubernetes_option_spec
from ansible_collections.openshift_sts.oidc.plugins.module_utils.sts import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_CONCURRENCY,
    assume_findings,
    check_roles,
    client_config,
    describe_token,
    role_entries,
)
from ansible_collections.openshift_sts.oidc.plugins.module_utils.token import TokenFileError


def main():
    argument_spec = dict(
        roles=dict(type="list", elements="dict", required=True, options=dict(
            role_arn=dict(type="str", required=True),
            token=dict(type="str", no_log=True),
            token_file=dict(type="path"),
            service_account=dict(type="dict", options=dict(namespace=dict(type="str", required=True),
                                                           name=dict(type="str", required=True))),
        ), mutually_exclusive=[("token", "token_file", "service_account")],
            required_one_of=[("token", "token_file", "service_account")]),
        audience=dict(type="str", default="openshift"),
        duration_seconds=dict(type="int", default=900),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        max_concurrency=dict(type="int", default=DEFAULT_MAX_CONCURRENCY),
        kubernetes=kubernetes_option_spec(),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not 900 <= params["duration_seconds"] <= 43200:
        module.fail_json(msg="duration_seconds must be between 900 and 43200, not %d" % params["duration_seconds"])
    if params["concurrency"] < 1:
        module.fail_json(msg="concurrency must be at least 1")
    ceiling = max(params["concurrency"], params["max_concurrency"])

    minter = TokenMinter(params["kubernetes"], params["audience"], pool_size=params["concurrency"])
    try:
        entries = role_entries(params["roles"], minter.token)
    except TokenFileError as error:
        module.fail_json(msg=str(error))
    client = module.client("sts", config=client_config(ceiling))
    results = check_roles(client.assume_role_with_web_identity, entries, params["duration_seconds"],
                          params["concurrency"], describe_token=describe_token, ceiling=ceiling)
    module.exit_json(changed=False, ok=all(result["ok"] for result in results) and bool(results),
                     roles=results, findings=assume_findings(results))


if __name__ == "__main__":
    main()
