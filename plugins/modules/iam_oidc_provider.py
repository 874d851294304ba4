#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_oidc_provider
version_added: 1.0.0
short_description: Manage an IAM OpenID Connect identity provider
description:
  - Creates, updates or deletes the IAM OpenID Connect (OIDC) identity provider of one issuer URL, the provider
    AWS STS C(AssumeRoleWithWebIdentity) looks up for a token's C(iss).
  - The provider is found by listing the account's providers and comparing their URL with O(url) exactly, as STS
    does. A provider of any other URL (another path, the same URL with a trailing slash) is never reused or changed.
  - Client IDs are added and removed one by one (C(AddClientIDToOpenIDConnectProvider),
    C(RemoveClientIDFromOpenIDConnectProvider)); thumbprints are replaced only when O(thumbprints) is given and
    differs; tags follow amazon.aws semantics.
  - Everything that must change is computed before any write call, so check mode and diff mode show the plan
    exactly and make no change.
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  state:
    description: Whether the provider of O(url) should exist.
    type: str
    choices: [present, absent]
    default: present
  url:
    description:
      - The issuer URL, with or without C(https://) (IAM stores it without the scheme).
      - It must use C(https), and must not contain a port, user information, a query or a fragment; at most
        255 characters with the scheme.
      - The comparison is exact and case-sensitive, as in IAM and STS; C(https://example.com/) and
        C(https://example.com) are two different providers.
    type: str
    required: true
    aliases: [issuer]
  client_ids:
    description:
      - The client IDs (audiences) of the provider. OpenShift's service-account tokens use C(openshift); some
        tools use C(sts.amazonaws.com).
      - Missing IDs are added; with O(purge_client_ids=true), IDs not listed are removed.
    type: list
    elements: str
    default: [openshift, sts.amazonaws.com]
  purge_client_ids:
    description: Remove the provider's client IDs that are not in O(client_ids).
    type: bool
    default: true
  thumbprints:
    description:
      - SHA-1 fingerprints of the issuer's certificate chain, 40 hexadecimal characters each, without colons
        (at most 5). Case is ignored when comparing.
      - When omitted on create, IAM computes the thumbprint itself; when omitted on update, the thumbprints are
        left alone.
      - AWS STS no longer uses thumbprints for issuers served by a publicly trusted CA (S3, CloudFront), but IAM
        still keeps them.
    type: list
    elements: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - IAM is global; O(region) only selects the endpoint and partition of the calls.
  - Deleting a provider leaves the roles that trust it untouched; assuming them with web identity then fails.
  - When O(state=present) creates the provider in check mode, RV(provider.arn) is the ARN it would get, from the
    partition and account of the caller identity (C(sts:GetCallerIdentity), read-only), or null if that is not known.
seealso:
  - name: IAM OIDC identity providers
    description: Creating OpenID Connect (OIDC) identity providers in IAM.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
"""

EXAMPLES = r"""
- name: Create the IAM OIDC provider of a cluster's CloudFront issuer
  openshift_sts.oidc.iam_oidc_provider:
    url: https://d111111abcdef8.cloudfront.net
    tags:
      openshift_sts.oidc/cluster: mycluster
  register: provider

- name: Use its ARN in a role's trust policy
  ansible.builtin.debug:
    msg: "{{ provider.provider.arn }} {{ provider.provider.url }}:sub"

- name: Only make sure the audience openshift is there, keeping other client IDs and tags
  openshift_sts.oidc.iam_oidc_provider:
    url: d111111abcdef8.cloudfront.net
    client_ids: [openshift]
    purge_client_ids: false

- name: Pin a thumbprint
  openshift_sts.oidc.iam_oidc_provider:
    url: https://oidc.example.com/cluster
    thumbprints: [9E99A48A9960B14926BB7F3B02E22DA2B0AB7280]

- name: Delete the provider of the old issuer
  openshift_sts.oidc.iam_oidc_provider:
    url: https://mycluster-oidc.s3.us-east-1.amazonaws.com
    state: absent
"""

RETURN = r"""
provider:
  description: The provider after the change (in check mode, as the change would leave it); empty when absent.
  returned: always
  type: dict
  contains:
    arn:
      description: The provider's ARN, with the partition IAM returned.
      type: str
      returned: when the provider exists
      sample: arn:aws:iam::123456789012:oidc-provider/d111111abcdef8.cloudfront.net
    url:
      description: The URL as IAM stores it, without the scheme; also the prefix of the condition keys C(<url>:sub) and C(<url>:aud).
      type: str
      returned: when the provider exists
      sample: d111111abcdef8.cloudfront.net
    issuer:
      description: The issuer, C(https://) followed by RV(provider.url).
      type: str
      returned: when the provider exists
      sample: https://d111111abcdef8.cloudfront.net
    client_ids:
      description: The client IDs (audiences).
      type: list
      elements: str
      returned: when the provider exists
      sample: [openshift, sts.amazonaws.com]
    thumbprints:
      description: The thumbprints (empty in check mode when IAM would compute them).
      type: list
      elements: str
      returned: when the provider exists
    tags:
      description: The provider's tags.
      type: dict
      returned: when the provider exists
    create_date:
      description: When the provider was created (ISO 8601); null in check mode before creation.
      type: str
      returned: when the provider exists
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.openshift_sts.oidc.plugins.module_utils._iam_oidc import (
    DEFAULT_CLIENT_IDS,
    ensure_provider_absent,
    ensure_provider_present,
    find_oidc_provider,
    normalize_provider_url,
    validate_client_ids,
    validate_thumbprints,
)


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        url=dict(type="str", required=True, aliases=["issuer"]),
        client_ids=dict(type="list", elements="str", default=list(DEFAULT_CLIENT_IDS)),
        purge_client_ids=dict(type="bool", default=True),
        thumbprints=dict(type="list", elements="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        iam_url = normalize_provider_url(params["url"])
        client_ids = validate_client_ids(params["client_ids"])
        thumbprints = validate_thumbprints(params["thumbprints"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    client = module.client("iam")
    try:
        current = find_oidc_provider(client, iam_url)
        if params["state"] == "absent":
            changed = ensure_provider_absent(client, module.check_mode, current)
            after = {}
        else:
            sts_client = module.client("sts") if module.check_mode and current is None else None
            changed, after = ensure_provider_present(
                client, module.check_mode, iam_url, current, client_ids, params["purge_client_ids"], thumbprints,
                params["tags"], params["purge_tags"], sts_client=sts_client)
    except AnsibleAWSError as exc:
        module.fail_json_aws_error(exc)

    result = dict(changed=changed, provider=after)
    if module._diff:  # pylint: disable=protected-access  # Ansible's documented way to read diff mode
        result["diff"] = dict(before=current or {}, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
