#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_role_trust
version_added: 1.0.0
short_description: Put the trust of many IAM roles on an OIDC issuer's provider, create missing roles, restore or remove them
description:
  - Puts the trust policies of a cluster's operator roles (one per CredentialsRequest) on the IAM OIDC provider of a new
    issuer, for all roles in one call, with at most O(concurrency) roles handled at a time.
  - "For each existing role the whole trust policy is read, only the C(Allow) statements whose C(Principal.Federated) is
    an IAM OIDC provider are changed (per O(mode)), every other statement is kept in its place, and the result is
    compared B(semantically) with the current document (whitespace, key order, scalar or list values, subject order,
    C(StringLike) without wildcards): C(UpdateAssumeRolePolicy) is called only when the meaning changes."
  - "The statement for the new provider is ccoctl's: C(Effect: Allow), C(Principal.Federated) = the provider ARN,
    C(Action: sts:AssumeRoleWithWebIdentity), C(StringEquals) on C(<issuer host and path>:sub) listing
    C(system:serviceaccount:<namespace>:<service account>) for each service account. An existing statement for the
    provider that already admits exactly those subjects is left as written; one that does not is refreshed, keeping its
    C(Sid), its C(Action) and its conditions other than C(:sub) and other providers' keys."
  - "C(Deny) statements, AWS or service principals and other federations (SAML, Cognito, Google) are never changed."
  - Roles that do not exist are created (O(create_missing)) with ccoctl's trust policy, description, tags and the
    CredentialsRequest's permissions as an inline policy named like the role.
  - "O(state=absent) deletes roles this module created (tagged C(openshift_sts.oidc/created-by=iam_role_trust), and
    matching O(name_prefix) and O(tags)): their inline policies, managed policy attachments, then the role. A role
    without that tag is never deleted."
  - O(restore) writes trust policies back exactly as recorded (byte for byte), for rollback.
  - Trust policies are read as the exact text IAM stores (URL-decoded, not re-serialised), returned as
    RV(roles[].previous_trust_policy) for a state file.
  - One role's failure does not stop the others; the module fails at the end, returning every role's result (including
    what was already written).
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  issuer:
    description:
      - The new issuer URL, exactly as the cluster's C(Authentication.spec.serviceAccountIssuer), for example
        C(https://d111111abcdef8.cloudfront.net).
      - Required unless O(state=absent) or O(restore) is given.
      - The provider ARN is C(arn:<partition>:iam::<account>:oidc-provider/<issuer without https://>).
    type: str
  provider_arn:
    description:
      - The ARN of the issuer's IAM OIDC provider. Its URL part must be the issuer's.
      - When omitted, account and partition come from C(sts:GetCallerIdentity) (the partition of the caller's ARN).
    type: str
  name_prefix:
    description:
      - The cluster's name for its AWS resources (ccoctl's C(--name), usually the infrastructure name).
      - Needed for roles without O(roles[].name); also recorded in the tags of created roles and used to recognise this
        cluster's roles.
    type: str
  credentials_requests:
    description:
      - The CredentialsRequests as M(openshift_sts.oidc.cluster_trust_info) returns them, instead of O(roles).
      - Each becomes a role entry - the role its Secret names (C(role_arn)), or a derived name when it names none;
        C(namespace), C(secret_name), C(service_accounts) and C(policy_statements) (the C(statementEntries)) as they are.
    type: list
    elements: dict
  roles:
    description:
      - The roles, one per CredentialsRequest. Roles not listed are never touched.
      - "Without O(roles[].name) the name is derived as ccoctl does, C(<name_prefix>-<namespace>-<secret_name>) cut to 64
        characters, but collision-safe: when two roles of this call would get the same name, or a role of that name exists
        and does not belong to this cluster (no C(openshift.io/cloud-credential-operator/<name_prefix>=owned) nor
        C(openshift_sts.oidc/name-prefix=<name_prefix>) tag, nor all of O(tags)), the name is the full name cut to 55
        characters, C(-) and the first 8 hex digits of its SHA-256 (stable between runs). A role already under that hashed
        name that belongs to this cluster is used even when the plain name is free."
    type: list
    elements: dict
    suboptions:
      name:
        description: The role name. When omitted, derived (see O(roles)).
        type: str
      namespace:
        description: The CredentialsRequest's C(spec.secretRef.namespace) (also the namespace of its service accounts).
        type: str
      secret_name:
        description: The CredentialsRequest's C(spec.secretRef.name).
        type: str
      service_accounts:
        description:
          - The CredentialsRequest's C(spec.serviceAccountNames).
          - Required with O(state=present), except in O(mode=remove_other_providers), where they are only checked.
        type: list
        elements: str
      policy_statements:
        description:
          - The CredentialsRequest's C(spec.providerSpec.statementEntries), the permissions of a role this module creates,
            put as an inline policy named like the role.
          - Existing roles keep their permissions, except roles this module created, whose inline policy is put again when
            it differs (an interrupted creation converges).
        type: list
        elements: dict
        suboptions:
          effect:
            description: C(Allow) or C(Deny).
            type: str
            required: true
            choices: [Allow, Deny]
          action:
            description: The actions.
            type: list
            elements: str
            required: true
          resource:
            description: The resource.
            type: str
            default: "*"
          policy_condition:
            description: The statement's C(Condition) block.
            type: dict
            aliases: [policyCondition]
      description:
        description: The description of a created role. Default C(OpenShift role for <namespace>/<secret_name>) (ccoctl's).
        type: str
  mode:
    description:
      - How the trust policy of an existing role changes.
      - C(replace) (before install) makes the new provider's statement the only C(Allow) statement for an IAM OIDC
        provider; it takes the place of the first one removed.
      - C(add) (live migration) adds or refreshes the new provider's statement and keeps the other providers' statements,
        so tokens of the old and the new issuer both work.
      - C(remove_other_providers) (cleanup after the migration) removes the C(Allow) statements of other IAM OIDC providers
        and keeps everything else, including the new provider's statements as they are. It refuses a role whose new
        provider's statements would not admit every service account.
    type: str
    choices: [replace, add, remove_other_providers]
    default: add
  remove_providers:
    description:
      - With O(mode=remove_other_providers), only the IAM OIDC providers of these issuers leave the trust policies
        (issuer URLs, with or without C(https://)); statements of any other provider stay as they are, in their place.
      - Without it, every other provider's C(Allow) statement is removed.
    type: list
    elements: str
  create_missing:
    description: Create roles that do not exist (O(state=present)).
    type: bool
    default: true
  tags:
    description:
      - Tags of the roles this module creates, for example C(openshift_sts.oidc/cluster=<name>), besides
        C(openshift_sts.oidc/created-by=iam_role_trust) and, with O(name_prefix), ccoctl's
        C(openshift.io/cloud-credential-operator/<name_prefix>=owned), C(Name=<name_prefix>) and
        C(openshift_sts.oidc/name-prefix=<name_prefix>).
      - Also identify this cluster's roles (naming) and the roles O(state=absent) may delete (all must match).
      - Tags of existing roles are not changed.
    type: dict
    default: {}
  permissions_boundary:
    description: The ARN of a managed policy set as the permissions boundary of created roles (ccoctl's C(--permissions-boundary-arn)).
    type: str
  max_session_duration:
    description: The maximum session duration of created roles, 3600 to 43200 seconds (IAM's default 3600 when omitted).
    type: int
  concurrency:
    description: How many roles are handled at the same time (1 to 64). Throttling is retried with backoff.
    type: int
    default: 8
  state:
    description:
      - C(present) puts the roles' trust on the provider (creating missing roles); C(absent) deletes the listed roles this
        module created.
    type: str
    choices: [present, absent]
    default: present
  restore:
    description:
      - Trust policies to write back exactly, for rollback, typically the RV(roles[].previous_trust_policy) recorded before
        a change. C(UpdateAssumeRolePolicy) is called with exactly O(restore[].trust_policy) when the role's current text
        differs from it in any byte.
      - Mutually exclusive with O(roles).
    type: list
    elements: dict
    suboptions:
      name:
        description: The role name.
        type: str
        required: true
      trust_policy:
        description: The exact trust policy text.
        type: str
        required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Reads everything and reports what would be created, changed or deleted; no write call is made.
  diff_mode:
    support: full
    details: The trust policy (and inline policy) of each changed role, before and after, re-indented.
  platform:
    platforms: posix
notes:
  - "Permissions used: C(sts:GetCallerIdentity) (without O(provider_arn)), C(iam:GetOpenIDConnectProvider), C(iam:GetRole),
    C(iam:UpdateAssumeRolePolicy); to create roles C(iam:CreateRole), C(iam:TagRole), C(iam:PutRolePolicy),
    C(iam:GetRolePolicy) (and C(iam:PutRolePermissionsBoundary) with O(permissions_boundary)); for O(state=absent)
    C(iam:ListRolePolicies), C(iam:DeleteRolePolicy), C(iam:ListAttachedRolePolicies), C(iam:DetachRolePolicy),
    C(iam:DeleteRole)."
  - With O(state=present) the module refuses to write when the IAM OIDC provider does not exist (in check mode it warns).
  - Trust policies count against IAM's quota of 2048 characters per role by default (4096 at most), whitespace excluded;
    O(mode=add) roughly doubles a ccoctl document.
  - Written documents are compact JSON. Unchanged documents are never rewritten, so their text stays as it was.
  - Why not M(amazon.aws.iam_role) in a loop - it needs the whole trust document anyway (so the reading and editing
    would be done in Jinja), and hundreds of roles in an Ansible loop take one module run each.
seealso:
  - module: openshift_sts.oidc.aws_trust_check
  - module: openshift_sts.oidc.sts_assume_check
"""

EXAMPLES = r"""
- name: Before install - the roles of the CredentialsRequests trust only the new CloudFront issuer
  openshift_sts.oidc.iam_role_trust:
    issuer: https://d111111abcdef8.cloudfront.net
    name_prefix: mycluster-x7k2p
    mode: replace
    tags:
      openshift_sts.oidc/cluster: mycluster
    roles:
      - namespace: openshift-image-registry
        secret_name: installer-cloud-credentials
        service_accounts: [cluster-image-registry-operator, registry]
        policy_statements:
          - effect: Allow
            action: [s3:CreateBucket, s3:DeleteBucket, s3:PutBucketTagging]
            resource: "*"
  register: trust

- name: Live migration - add the new provider beside the old one; record the previous documents
  openshift_sts.oidc.iam_role_trust:
    issuer: https://d111111abcdef8.cloudfront.net
    mode: add
    create_missing: false
    roles:
      - name: mycluster-x7k2p-openshift-machine-api-aws-cloud-credentials
        namespace: openshift-machine-api
        service_accounts: [machine-api-controllers]
  register: migration

- name: After the migration - remove the old issuer's provider from the trust policies
  openshift_sts.oidc.iam_role_trust:
    issuer: https://d111111abcdef8.cloudfront.net
    mode: remove_other_providers
    remove_providers: [https://mycluster-oidc.s3.us-east-2.amazonaws.com]
    create_missing: false
    roles:
      - name: mycluster-x7k2p-openshift-machine-api-aws-cloud-credentials
        namespace: openshift-machine-api
        service_accounts: [machine-api-controllers]

- name: Rollback - the trust policies exactly as they were (rollback.restore was saved in a state file)
  openshift_sts.oidc.iam_role_trust:
    restore: "{{ migration.rollback.restore }}"

- name: Rollback - delete the roles this module created for the cluster (never an untagged role)
  openshift_sts.oidc.iam_role_trust:
    state: absent
    name_prefix: mycluster-x7k2p
    tags:
      openshift_sts.oidc/cluster: mycluster
    roles: "{{ trust.rollback.delete }}"
"""

RETURN = r"""
provider_arn:
  description: The ARN of the issuer's IAM OIDC provider the trust was put on; null for O(restore) and O(state=absent)
    without O(issuer).
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:oidc-provider/d111111abcdef8.cloudfront.net
rollback:
  description: What undoes this call, in the shapes of the options - C(restore) (O(restore) items with the previous text
    of every trust policy written) and C(delete) (O(roles) items naming every created role, for O(state=absent)).
    Computed in check mode too.
  returned: always
  type: dict
  sample: {"restore": [{"name": "mycluster-x7k2p-openshift-machine-api-aws-cloud-credentials",
           "trust_policy": "{ \"Version\": \"2012-10-17\", \"Statement\": [ ... ] }"}],
           "delete": [{"name": "mycluster-x7k2p-openshift-image-registry-installer-cloud-credentia"}]}
roles:
  description: One entry per role (per O(restore) item), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The role name (given, derived or hashed).
      type: str
    name_source:
      description: C(given), C(derived) (ccoctl's name) or C(derived-hashed) (the collision-safe name).
      type: str
      returned: with O(roles)
    arn:
      description: The role ARN (predicted in check mode).
      type: str
    exists:
      description: Whether the role existed before this call.
      type: bool
    created:
      description: Whether the role was (in check mode, would be) created.
      type: bool
    trust_changed:
      description: Whether the trust policy was (would be) written.
      type: bool
    policy_changed:
      description: Whether the inline policy was (would be) put.
      type: bool
    deleted:
      description: Whether the role was (would be) deleted (O(state=absent)).
      type: bool
    skipped:
      description: True when O(state=absent) left an existing role alone because this module did not create it.
      type: bool
      returned: when skipped
    changed:
      description: Whether anything was (would be) changed on this role.
      type: bool
    previous_trust_policy:
      description: The trust policy exactly as read (URL-decoded IAM text), null for a role that did not exist.
        Record it to restore it with O(restore).
      type: str
    trust_policy:
      description: The trust policy after this call (the text written, or the unchanged text); null after deletion.
      type: str
    failed:
      description: True when this role's work failed (the module then fails, after all roles were handled).
      type: bool
      returned: on failure
    msg:
      description: Why the role failed or was left alone.
      type: str
      returned: when failed, skipped or not created
  sample: [{"name": "mycluster-x7k2p-openshift-machine-api-aws-cloud-credentials", "name_source": "given",
            "arn": "arn:aws:iam::123456789012:role/mycluster-x7k2p-openshift-machine-api-aws-cloud-credentials",
            "exists": true, "created": false, "trust_changed": true, "policy_changed": false, "deleted": false, "changed": true,
            "previous_trust_policy": "{ \"Version\": \"2012-10-17\", \"Statement\": [ ... ] }",
            "trust_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[...]}"}]
"""

import traceback

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.openshift_sts.oidc.plugins.module_utils._iam_trust_edit import MODES, roles_from_credentials_requests
from ansible_collections.openshift_sts.oidc.plugins.module_utils.iam_role_trust import (
    DEFAULT_CONCURRENCY,
    RoleTrustError,
    manage_roles,
)


def _problems(params):
    """Option combinations the argument spec cannot express."""
    problems = []
    if not 1 <= params["concurrency"] <= 64:
        problems.append("concurrency must be between 1 and 64")
    duration = params["max_session_duration"]
    if duration is not None and not 3600 <= duration <= 43200:
        problems.append("max_session_duration must be between 3600 and 43200 seconds")
    if params["state"] == "present" and not params["restore"]:
        for index, role in enumerate(params["roles"] or []):
            if role.get("service_accounts") and not role.get("namespace"):
                problems.append("roles[%d] has service_accounts but no namespace" % index)
    return problems


def main():
    """Run the module."""
    module = AnsibleAWSModule(
        argument_spec=dict(
            issuer=dict(type="str"),
            provider_arn=dict(type="str"),
            name_prefix=dict(type="str"),
            roles=dict(type="list", elements="dict", options=dict(
                name=dict(type="str"),
                namespace=dict(type="str"),
                secret_name=dict(type="str"),
                service_accounts=dict(type="list", elements="str"),
                policy_statements=dict(type="list", elements="dict", options=dict(
                    effect=dict(type="str", required=True, choices=["Allow", "Deny"]),
                    action=dict(type="list", elements="str", required=True),
                    resource=dict(type="str", default="*"),
                    policy_condition=dict(type="dict", aliases=["policyCondition"]),
                )),
                description=dict(type="str"),
            )),
            credentials_requests=dict(type="list", elements="dict"),
            mode=dict(type="str", default="add", choices=list(MODES)),
            remove_providers=dict(type="list", elements="str"),
            create_missing=dict(type="bool", default=True),
            tags=dict(type="dict", default={}),
            permissions_boundary=dict(type="str"),
            max_session_duration=dict(type="int"),
            concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            restore=dict(type="list", elements="dict", options=dict(
                name=dict(type="str", required=True),
                trust_policy=dict(type="str", required=True),
            )),
        ),
        mutually_exclusive=[("roles", "restore", "credentials_requests")],
        supports_check_mode=True,
    )
    if module.params["credentials_requests"] is not None:
        module.params["roles"] = roles_from_credentials_requests(module.params.pop("credentials_requests"))
    else:
        module.params.pop("credentials_requests")
    problems = _problems(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    params = dict(module.params)
    params["tags"] = dict((str(key), str(value)) for key, value in (params["tags"] or {}).items())
    try:
        result, failed = manage_roles(
            module.client("iam"), module.client("sts"), params, module.check_mode, module.region, module.warn)
    except RoleTrustError as error:
        module.fail_json(msg=str(error), changed=False, roles=[])
    except Exception as error:  # pylint: disable=broad-except  # report a bug as a module failure, not a traceback
        module.fail_json(msg="iam_role_trust failed unexpectedly: %s" % type(error).__name__, exception=traceback.format_exc())
    diff = result.pop("diff")
    if module._diff:  # pylint: disable=protected-access  # AnsibleModule's diff flag has no public name
        result["diff"] = diff
    if failed:
        messages = ["%s: %s" % (role["name"], role["msg"]) for role in result["roles"] if role.get("failed")]
        module.fail_json(msg="%d of %d roles failed: %s" % (failed, len(result["roles"]), "; ".join(messages)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
