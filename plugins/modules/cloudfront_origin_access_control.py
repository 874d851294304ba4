#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_origin_access_control
version_added: 1.0.0
short_description: Manage a CloudFront origin access control
description:
  - Creates, updates or deletes a CloudFront origin access control (OAC), the successor of the legacy origin access
    identity, which lets a distribution read a private S3 bucket with signed requests.
  - The OAC is identified by O(name), unique per account in CloudFront.
  - Updates read the OAC for its C(ETag) (C(GetOriginAccessControl)) and write the whole configuration with
    C(IfMatch) (C(UpdateOriginAccessControl)); deletes also send C(IfMatch). When another writer changed the OAC
    in between (C(PreconditionFailed)), the OAC is read again and the write retried.
  - The difference is computed before any write call, so check mode and diff mode show the plan exactly and make
    no change.
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  state:
    description: Whether the OAC named O(name) should exist.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: The OAC's name (at most 64 characters), its key in this module.
    type: str
    required: true
  description:
    description:
      - The OAC's description.
      - On create, an empty description when omitted; on update, left alone when omitted.
    type: str
  origin_type:
    description: The kind of origin the OAC signs requests for.
    type: str
    choices: [s3, mediastore, mediapackagev2, lambda]
    default: s3
  signing_behavior:
    description:
      - V(always) signs every origin request (what a private S3 issuer bucket needs); V(never) signs none;
        V(no-override) signs unless the viewer request carries an C(Authorization) header.
    type: str
    choices: [always, never, no-override]
    default: always
  signing_protocol:
    description: How requests are signed. CloudFront supports only V(sigv4).
    type: str
    choices: [sigv4]
    default: sigv4
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
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
  - CloudFront origin access controls cannot be tagged.
  - An OAC still used by a distribution origin cannot be deleted; the module fails with a message saying so.
  - CloudFront does not exist in the C(aws-us-gov) partition; the module fails there before any call.
  - The bucket policy that lets the OAC read the bucket (principal C(cloudfront.amazonaws.com), condition
    C(AWS:SourceArn) on the distribution's ARN) is not managed by this module.
seealso:
  - name: Restricting access to an Amazon S3 origin
    description: CloudFront origin access control for S3.
    link: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html
"""

EXAMPLES = r"""
- name: An origin access control for a private S3 issuer bucket
  openshift_sts.oidc.cloudfront_origin_access_control:
    name: mycluster-oidc
    description: OIDC issuer of mycluster
  register: oac

- name: Use its ID in a distribution origin (with an empty origin access identity)
  ansible.builtin.debug:
    msg: "{{ oac.origin_access_control.id }}"

- name: Delete it once no distribution uses it
  openshift_sts.oidc.cloudfront_origin_access_control:
    name: mycluster-oidc
    state: absent
"""

RETURN = r"""
origin_access_control:
  description: The OAC after the change (in check mode, as the change would leave it); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: The OAC's ID (null in check mode before creation).
      type: str
      returned: when the OAC exists
      sample: E2QWRUHAPOMQZL
    name:
      description: The OAC's name.
      type: str
      returned: when the OAC exists
    etag:
      description: The current C(ETag) of the OAC (null in check mode before creation).
      type: str
      returned: when the OAC exists
      sample: E1PA6795UKMFR9
    config:
      description: The OAC's configuration.
      type: dict
      returned: when the OAC exists
      contains:
        name:
          description: The name.
          type: str
        description:
          description: The description.
          type: str
        signing_protocol:
          description: The signing protocol.
          type: str
          sample: sigv4
        signing_behavior:
          description: The signing behaviour.
          type: str
          sample: always
        origin_type:
          description: The origin type.
          type: str
          sample: s3
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.openshift_sts.oidc.plugins.module_utils._cloudfront_oac import (
    ORIGIN_TYPES,
    SIGNING_BEHAVIORS,
    SIGNING_PROTOCOLS,
    ensure_origin_access_control_absent,
    ensure_origin_access_control_present,
    find_origin_access_control,
    normalize_origin_access_control,
)


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        name=dict(type="str", required=True),
        description=dict(type="str"),
        origin_type=dict(type="str", choices=list(ORIGIN_TYPES), default="s3"),
        signing_behavior=dict(type="str", choices=list(SIGNING_BEHAVIORS), default="always"),
        signing_protocol=dict(type="str", choices=list(SIGNING_PROTOCOLS), default="sigv4"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not 1 <= len(params["name"]) <= 64:
        module.fail_json(msg="name must have 1 to 64 characters, not %d" % len(params["name"]))
    if (module.region or "").startswith("us-gov-"):
        module.fail_json(msg="CloudFront does not exist in the aws-us-gov partition (region %s)" % module.region)

    client = module.client("cloudfront")
    try:
        found = find_origin_access_control(client, params["name"])
        before = normalize_origin_access_control(*found) if found else {}
        if params["state"] == "absent":
            changed = ensure_origin_access_control_absent(client, module.check_mode, found)
            after = {}
        else:
            changed, after = ensure_origin_access_control_present(
                client, module.check_mode, found, params["name"], params["description"], params["origin_type"],
                params["signing_behavior"], params["signing_protocol"])
    except AnsibleAWSError as exc:
        module.fail_json_aws_error(exc)

    result = dict(changed=changed, origin_access_control=after)
    if module._diff:  # pylint: disable=protected-access  # Ansible's documented way to read diff mode
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
