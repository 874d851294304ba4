#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_trust_check
version_added: 1.0.0
short_description: Inspect the AWS side of an OIDC issuer's trust chain (IAM provider, role trust, S3/CloudFront hosting)
description:
  - Read-only inspection, with AWS APIs, of what AWS STS needs to accept a cluster's service account tokens in
    C(AssumeRoleWithWebIdentity), and reports every broken link as a finding with the evidence (expected and actual)
    and the fix.
  - "IAM OIDC provider: one must exist whose URL equals O(issuer) without C(https://), exactly (a provider that differs
    only by case or a trailing slash does not count and is named in the finding); its client IDs must contain O(audience).
    Thumbprints are returned as information."
  - "Roles: each role must exist; its trust policy must allow C(sts:AssumeRoleWithWebIdentity) to the provider ARN of
    this issuer, its C(<issuer host>:sub) condition must admit each service account (C(StringEquals), C(StringLike)
    wildcards, C(ForAnyValue:) variants, scalar or list values), no C(:aud) condition may exclude O(audience), and no
    C(Deny) may match. Policies are compared semantically, not as text."
  - "Hosting, from the issuer's host name: an S3 endpoint (virtual-hosted, global or path-style) is checked for anonymous
    reads: account and bucket Block Public Access, the bucket policy and its status, Object Ownership, ACLs, encryption.
    A C(*.cloudfront.net) host, or a custom domain among the distributions' aliases, is checked for Enabled and Deployed,
    the origin endpoint, origin access control or identity and the matching bucket-policy grant, and OAI with SSE-KMS.
    Other hosts are not inspected (an C(info) finding)."
  - Each distinct thing is fetched once (the provider list once, each role once, each bucket once), so the number of API
    calls is a constant plus one per role. Independent calls run concurrently, at most O(concurrency) at a time.
    Throttling is retried with backoff.
  - The module never changes anything and never fails because of what it finds. Without AWS credentials it returns a single
    C(AWS_CREDENTIALS_MISSING) C(info) finding; a denied call gives an C(AWS_PERMISSION_MISSING) finding naming the IAM
    action, and the other checks go on.
  - The finding codes are documented in the collection's C(docs/findings.md).
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  issuer:
    description:
      - The issuer URL, exactly as the cluster's C(Authentication.spec.serviceAccountIssuer), for example
        C(https://my-bucket.s3.us-east-2.amazonaws.com) or C(https://d111111abcdef8.cloudfront.net).
    type: str
    required: true
  roles:
    description:
      - The roles whose trust policies to check. The same role ARN given twice is inspected once, with the union of its
        service accounts.
    type: list
    elements: dict
    default: []
    suboptions:
      role_arn:
        description: The role ARN, as in the C(role_arn) of the credentials Secret.
        type: str
        required: true
      service_accounts:
        description:
          - The service accounts that must be able to assume the role, each C(system:serviceaccount:<namespace>:<name>)
            or a dict with C(namespace) and C(name).
          - When omitted, only the provider and the audience of the trust policy are checked.
        type: list
        elements: raw
  audience:
    description: The token audience (C(aud)) the IAM provider and the trust policies must accept.
    type: str
    default: openshift
  concurrency:
    description:
      - How many AWS calls may be in flight at the same time. Calls that do not depend on each other run concurrently
        (the C(GetRole) of every role, the settings of a bucket, and the IAM side beside the hosting side); the
        result is the same whatever the order they finish in.
      - All calls are read-only C(Get)/C(List) calls, one per role plus a constant, and throttling is retried with
        backoff, so the default stays well clear of the account's IAM and S3 request rates; lower it when other
        automation of the account uses IAM heavily, C(1) makes one call after the other.
    type: int
    default: 32
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - "Read-only permissions used: C(iam:ListOpenIDConnectProviders), C(iam:GetOpenIDConnectProvider), C(iam:GetRole),
    C(s3:GetBucketLocation), C(s3:GetBucketPublicAccessBlock), C(s3:GetAccountPublicAccessBlock), C(s3:GetBucketPolicyStatus),
    C(s3:GetBucketPolicy), C(s3:GetBucketOwnershipControls), C(s3:GetBucketAcl), C(s3:GetObjectAcl),
    C(s3:GetEncryptionConfiguration), C(cloudfront:ListDistributions), C(cloudfront:GetDistribution),
    C(cloudfront:GetCloudFrontOriginAccessIdentity)."
  - The expected provider ARN of a role is built from the role's own account and partition, since STS looks the provider
    up in the role's account.
  - Conditions on keys whose value cannot be known offline (for example C(aws:SourceIp)) are assumed to hold for C(Allow)
    and not to hold for C(Deny); only certain failures are reported.
  - This module does not fetch the issuer's documents; use M(openshift_sts.oidc.issuer_probe) for that.
seealso:
  - module: openshift_sts.oidc.issuer_probe
"""

EXAMPLES = r"""
- name: Inspect the AWS side of a cluster's issuer
  openshift_sts.oidc.aws_trust_check:
    issuer: https://mycluster-oidc.s3.us-east-2.amazonaws.com
    region: us-east-2
    roles:
      - role_arn: arn:aws:iam::123456789012:role/mycluster-openshift-image-registry-installer-cloud-credentia
        service_accounts:
          - system:serviceaccount:openshift-image-registry:cluster-image-registry-operator
          - namespace: openshift-image-registry
            name: registry
  register: aws_side

- name: Show what is broken
  ansible.builtin.debug:
    msg: "{{ aws_side.findings | selectattr('severity', 'equalto', 'error') | map(attribute='message') | list }}"
"""

RETURN = r"""
findings:
  description: The problems found, in trust-chain order, worst first (see C(docs/findings.md)).
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: The finding code, for example C(ROLE_TRUST_SUBJECT_MISMATCH).
      type: str
    severity:
      description: C(error), C(warning) or C(info).
      type: str
    link:
      description: The link of the trust chain, for example C(hosting), C(iam_provider), C(role_trust) or C(other).
      type: str
    subject:
      description: What was checked, for example the issuer URL, a role ARN, C(s3://<bucket>) or a distribution ARN.
      type: str
    message:
      description: One sentence explaining the problem.
      type: str
    expected:
      description: What a working setup shows.
      type: raw
    actual:
      description: What was observed.
      type: raw
    remediation:
      description: How to fix it.
      type: str
provider:
  description: The IAM OIDC provider of the issuer (C(Arn) null when missing); null without credentials.
  returned: always
  type: dict
  sample: {"Arn": "arn:aws:iam::123456789012:oidc-provider/mycluster-oidc.s3.us-east-2.amazonaws.com",
           "Url": "mycluster-oidc.s3.us-east-2.amazonaws.com", "ClientIDList": ["openshift", "sts.amazonaws.com"],
           "ThumbprintList": ["A9D53002E97E00E043244F3D170D6F4C414104FD"], "near_misses": []}
roles:
  description: One entry per distinct role.
  returned: always
  type: list
  elements: dict
  sample: [{"role_arn": "arn:aws:iam::123456789012:role/r", "exists": true, "trust_ok": true,
            "provider_arn": "arn:aws:iam::123456789012:oidc-provider/mycluster-oidc.s3.us-east-2.amazonaws.com",
            "federated": ["arn:aws:iam::123456789012:oidc-provider/mycluster-oidc.s3.us-east-2.amazonaws.com"],
            "subjects": [{"StringEquals": {"mycluster-oidc.s3.us-east-2.amazonaws.com:sub": ["system:serviceaccount:ns:sa"]}}],
            "service_accounts": [{"subject": "system:serviceaccount:ns:sa", "allowed": true, "reason": null}]}]
hosting:
  description: How the issuer is hosted (C(kind) is C(s3), C(cloudfront) or C(other)) and the settings inspected;
    null without credentials.
  returned: always
  type: dict
  sample: {"kind": "s3", "host": "mycluster-oidc.s3.us-east-2.amazonaws.com", "bucket": "mycluster-oidc", "region": "us-east-2",
           "prefix": "", "endpoint": "virtual", "settings": {"public_access_block": {"BlockPublicAcls": true,
           "IgnorePublicAcls": true, "BlockPublicPolicy": false, "RestrictPublicBuckets": false}, "policy_is_public": true}}
ok:
  description: True when the AWS side was inspected and no finding has severity C(error).
  returned: always
  type: bool
inspected:
  description: False when nothing could be inspected (no credentials, unusable issuer URL).
  returned: always
  type: bool
complete:
  description: False when some check was skipped (permission denied or a failed call).
  returned: always
  type: bool
api_calls:
  description: The AWS API calls made, by C(service.Operation).
  returned: always
  type: dict
  sample: {"iam.ListOpenIDConnectProviders": 1, "iam.GetRole": 2, "s3.GetBucketPolicy": 1}
"""

import traceback

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.openshift_sts.oidc.plugins.module_utils._aws_calls import DEFAULT_CONCURRENCY
from ansible_collections.openshift_sts.oidc.plugins.module_utils.aws_trust import (
    DEFAULT_AUDIENCE,
    Clients,
    aws_client_config,
    inspect_trust,
    normalize_roles,
)


def main():
    """Run the module."""
    module = AnsibleAWSModule(
        argument_spec=dict(
            issuer=dict(type="str", required=True),
            roles=dict(type="list", elements="dict", default=[], options=dict(
                role_arn=dict(type="str", required=True),
                service_accounts=dict(type="list", elements="raw"),
            )),
            audience=dict(type="str", default=DEFAULT_AUDIENCE),
            concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        ),
        supports_check_mode=True,
    )
    concurrency = module.params["concurrency"]
    if concurrency < 1:
        module.fail_json(msg="concurrency must be at least 1")
    try:
        roles = normalize_roles(module.params["roles"])
    except ValueError as error:
        module.fail_json(msg="bad roles: %s" % error)
    region = module.region
    config = aws_client_config(concurrency)
    clients = Clients(lambda service, client_region: module.client(service, region=client_region, config=config), region)
    try:
        result = inspect_trust(clients, module.params["issuer"], roles, module.params["audience"], region, concurrency)
    except Exception as error:  # pylint: disable=broad-except  # report a bug as a module failure, not a traceback
        module.fail_json(msg="aws_trust_check failed unexpectedly: %s" % type(error).__name__, exception=traceback.format_exc())
    module.exit_json(changed=False, api_calls=clients.counts, **result)


if __name__ == "__main__":
    main()
