#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the openshift_sts.oidc project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudfront_issuer_distribution
version_added: 1.0.0
short_description: Serve a private OIDC issuer bucket through a CloudFront distribution with origin access control
description:
  - Creates, updates or deletes the one CloudFront distribution that serves an OpenShift OIDC issuer from a private S3
    bucket, as the vendor's private-bucket procedure wants it, with an origin access control (OAC) instead of the legacy
    origin access identity.
  - "The distribution has a single S3 origin on the bucket's B(regional) REST endpoint C(<bucket>.s3.<region>.amazonaws.com)
    (never the global or website endpoint) with C(OriginAccessControlId) = O(origin_access_control_id) and an empty
    C(S3OriginConfig.OriginAccessIdentity); the default cache behaviour is HTTPS only, C(GET)/C(HEAD), with the managed
    C(CachingDisabled) cache policy (C(4135ea2d-6df8-44a3-9df3-4b5a84be39ad)); the viewer certificate is CloudFront's
    default C(*.cloudfront.net) one, or an ACM certificate for O(aliases)."
  - "The distribution is identified by the tag C(openshift_sts.oidc/issuer-bucket) = O(bucket), which the module sets on
    creation. A distribution without that tag is never changed or deleted, even when it serves the same bucket (a warning
    names it). Distributions serving the bucket are examined first; only when none of them carries the tag are the tags of
    the other distributions read, so a marked distribution whose origin was changed by hand is found and repaired."
  - "Only the fields listed above, O(comment), O(price_class), O(enabled) and the tags are compared and managed. An update
    reads the whole configuration (C(GetDistributionConfig)), changes only those fields, and writes it back with
    C(UpdateDistribution) and C(IfMatch) = its ETag, and only when they differ; settings made by others (logging, WAF,
    error pages, other cache behaviours) are kept. Legacy cache settings (C(ForwardedValues), TTLs) of the default cache
    behaviour are dropped, since CloudFront refuses them next to a cache policy."
  - "B(Waiting.) A new or changed distribution is C(InProgress) for minutes until it is C(Deployed) on every edge. With
    O(wait=false) (the default) the module returns at once with RV(distribution.status). With O(wait=true) it polls
    C(GetDistribution) every O(wait_sleep) seconds until C(Deployed); after O(wait_timeout) seconds it fails with
    C(still InProgress after N s; re-run to keep waiting - nothing is lost) and returns the distribution. A module cannot
    stream output, so to B(show progress) converge with O(wait=false) and then repeat the same task with an C(until:)
    loop on RV(distribution.status) (read-only once converged; each retry is printed by Ansible), as in the examples."
  - "O(state=absent) disables the distribution (C(UpdateDistribution) with C(Enabled=false) and C(IfMatch)), always waits
    for C(Deployed) (CloudFront deletes only disabled, deployed distributions) up to O(wait_timeout), then deletes it with
    the ETag of the last read. On timeout it fails and a re-run continues (the distribution stays disabled). Absent is a
    no-op when no marked distribution exists."
  - Check mode computes the plan (create, the changed fields, tags, delete) with read calls only; diff mode shows the
    managed fields before and after.
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  state:
    description: Whether the distribution should exist.
    type: str
    choices: [present, absent]
    default: present
  bucket:
    description:
      - The name of the private S3 bucket holding the issuer documents. It names the distribution's marker tag too.
    type: str
    required: true
  bucket_region:
    description:
      - The region of O(bucket); the origin is the bucket's regional endpoint in this region.
      - Regions of the C(aws-us-gov) partition are refused before any call (CloudFront does not exist there).
    type: str
    required: true
  origin_access_control_id:
    description:
      - The ID of the origin access control (S3, sigv4, always sign) the origin uses.
      - Required with O(state=present).
    type: str
  comment:
    description:
      - The distribution's comment (128 characters at most).
      - Defaults to C(OIDC issuer s3://<bucket> (openshift_sts.oidc)).
    type: str
  aliases:
    description:
      - Custom domain names (CNAMEs) of the issuer, for example C(oidc.example.com). Requires O(acm_certificate_arn).
      - An empty list (the default) means no alias; existing aliases are removed.
    type: list
    elements: str
    default: []
  acm_certificate_arn:
    description:
      - The ARN of an ACM certificate in C(us-east-1) covering O(aliases); served with SNI and C(TLSv1.2_2021).
      - Without it the default C(*.cloudfront.net) certificate is used.
    type: str
  price_class:
    description: Which edge locations serve the issuer.
    type: str
    choices: [PriceClass_100, PriceClass_200, PriceClass_All]
    default: PriceClass_100
  enabled:
    description: Whether the distribution serves requests.
    type: bool
    default: true
  tags:
    description:
      - Tags of the distribution. The marker tag C(openshift_sts.oidc/issuer-bucket) = O(bucket) is always added and cannot
        be given another value; a C(openshift_sts.oidc/cluster) tag names the cluster and goes into the default
        O(caller_reference).
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not given in O(tags) (the marker tag is always kept).
    type: bool
    default: true
  caller_reference:
    description:
      - The caller reference used when creating the distribution (immutable afterwards; ignored for an existing one).
      - Defaults to C(openshift_sts.oidc/<cluster tag>/<bucket>), or C(openshift_sts.oidc/<bucket>) without a cluster tag.
    type: str
  wait:
    description:
      - With O(state=present), wait until the distribution is C(Deployed). O(state=absent) always waits.
    type: bool
    default: false
  wait_timeout:
    description: How long to wait for C(Deployed), in seconds.
    type: int
    default: 1800
  wait_sleep:
    description: Seconds between two C(GetDistribution) calls while waiting.
    type: int
    default: 30
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - "Permissions: C(cloudfront:ListDistributions), C(cloudfront:ListTagsForResource), C(cloudfront:GetDistribution),
    C(cloudfront:GetDistributionConfig), C(cloudfront:CreateDistribution), C(cloudfront:CreateDistributionWithTags),
    C(cloudfront:UpdateDistribution), C(cloudfront:DeleteDistribution), C(cloudfront:TagResource),
    C(cloudfront:UntagResource)."
  - The bucket policy that lets CloudFront read the bucket needs this distribution's ARN (RV(distribution.arn)); write it
    after this module, with M(amazon.aws.s3_bucket).
  - Delete the distribution before the bucket, since an orphaned distribution would serve whoever re-creates the bucket name.
  - C(community.aws.cloudfront_distribution) was evaluated for this job and does not fit (no check mode, not idempotent
    with an OAC origin and a cache policy); see the collection's C(docs/design.md).
seealso:
  - module: community.aws.cloudfront_distribution_info
"""

EXAMPLES = r"""
- name: Serve the issuer bucket through CloudFront (returns at once)
  openshift_sts.oidc.cloudfront_issuer_distribution:
    bucket: mycluster-oidc
    bucket_region: us-east-2
    origin_access_control_id: E2QWRUHAPOMQZL
    tags:
      openshift_sts.oidc/cluster: mycluster
  register: issuer_distribution

- name: Wait for Deployed, showing progress (each retry is printed; re-running the play resumes the wait)
  openshift_sts.oidc.cloudfront_issuer_distribution:
    bucket: mycluster-oidc
    bucket_region: us-east-2
    origin_access_control_id: E2QWRUHAPOMQZL
    tags:
      openshift_sts.oidc/cluster: mycluster
  register: issuer_distribution_status
  until: issuer_distribution_status.distribution.status == 'Deployed'
  retries: 60
  delay: 30
  when: not ansible_check_mode

- name: Or block until Deployed, failing after 20 minutes
  openshift_sts.oidc.cloudfront_issuer_distribution:
    bucket: mycluster-oidc
    bucket_region: us-east-2
    origin_access_control_id: E2QWRUHAPOMQZL
    aliases: [oidc.example.com]
    acm_certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0b5a3c1e-1111-2222-3333-444455556666
    wait: true
    wait_timeout: 1200

- name: Remove it (disable, wait for Deployed, delete)
  openshift_sts.oidc.cloudfront_issuer_distribution:
    state: absent
    bucket: mycluster-oidc
    bucket_region: us-east-2
"""

RETURN = r"""
distribution:
  description:
    - The issuer distribution after the run (in check mode, as it would be); null when absent.
    - With O(state=absent) and a deletion, the last state seen before deleting, with RV(distribution.status) C(Deleted).
  returned: always
  type: dict
  contains:
    id:
      description: The distribution ID (null when it would be created in check mode).
      type: str
      sample: E1ABCDEF2GHIJK
    arn:
      description:
        - The distribution ARN, C(arn:<partition>:cloudfront::<account>:distribution/<id>), with the partition and account
          of the ARN CloudFront returned (the region field is empty). Use it as C(AWS:SourceArn) in the bucket policy.
      type: str
      sample: arn:aws:cloudfront::123456789012:distribution/E1ABCDEF2GHIJK
    domain_name:
      description: The C(*.cloudfront.net) host name; the issuer URL is C(https://) plus this name (or an alias).
      type: str
      sample: d111111abcdef8.cloudfront.net
    status:
      description: C(InProgress) or C(Deployed) (C(Deleted) after a deletion).
      type: str
      sample: Deployed
    enabled:
      description: Whether the distribution serves requests.
      type: bool
    etag:
      description: The ETag of the configuration last read or written.
      type: str
    caller_reference:
      description: The distribution's caller reference.
      type: str
    origin_domain:
      description: The origin host name, the bucket's regional endpoint.
      type: str
      sample: mycluster-oidc.s3.us-east-2.amazonaws.com
    oac_id:
      description: The origin access control of the origin.
      type: str
    origin_access_identity:
      description: The origin access identity of the origin (empty with an origin access control).
      type: str
      sample: ""
    aliases:
      description: The custom domain names.
      type: list
      elements: str
    price_class:
      description: The price class.
      type: str
    comment:
      description: The comment.
      type: str
    tags:
      description: The tags, marker tag included.
      type: dict
changes:
  description:
    - What was (or in check mode would be) done, C(create), C(delete), C(disable), C(tags), or the managed fields that
      differed, for example C(origins), C(viewer_protocol_policy), C(cache_policy_id), C(enabled).
  returned: always
  type: list
  elements: str
  sample: [origins, tags]
foreign_distributions:
  description:
    - IDs of distributions that serve O(bucket) but do not carry the marker tag; they were not changed (a warning names
      them too).
  returned: always
  type: list
  elements: str
  sample: []
waited:
  description: Seconds spent waiting for C(Deployed) in this run (0 when not waiting).
  returned: always
  type: float
"""

try:
    import botocore  # noqa: F401  # pylint: disable=unused-import
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.openshift_sts.oidc.plugins.module_utils._cloudfront_distribution import (
    DEPLOYED,
    CloudFrontDistributionError,
    IssuerDistributions,
    WaitTimeout,
    desired_view,
)


def _exit(module, result, foreign, waited=0.0):
    """Return the result, with the diff when asked."""
    output = {"changed": result["changed"], "distribution": result["distribution"], "changes": result["changes"],
              "waited": round(waited, 1), "foreign_distributions": foreign}
    if module._diff:  # pylint: disable=protected-access
        output["diff"] = {"before": result["before"], "after": result["after"]}
    module.exit_json(**output)


def _fail_timeout(module, error, result, foreign):
    """Fail after a wait timeout, keeping what was done and the distribution."""
    output = {"msg": str(error), "changed": result["changed"] if result else False,
              "distribution": result["distribution"] if result else None,
              "changes": result["changes"] if result else [], "waited": round(error.waited, 1),
              "foreign_distributions": foreign}
    if output["distribution"]:
        output["distribution"] = dict(output["distribution"], status=error.status)
    module.fail_json(**output)


def main():
    """Run the module."""
    module = AnsibleAWSModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            bucket=dict(type="str", required=True),
            bucket_region=dict(type="str", required=True),
            origin_access_control_id=dict(type="str"),
            comment=dict(type="str"),
            aliases=dict(type="list", elements="str", default=[]),
            acm_certificate_arn=dict(type="str"),
            price_class=dict(type="str", choices=["PriceClass_100", "PriceClass_200", "PriceClass_All"], default="PriceClass_100"),
            enabled=dict(type="bool", default=True),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            caller_reference=dict(type="str"),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=1800),
            wait_sleep=dict(type="int", default=30),
        ),
        required_if=[("state", "present", ["origin_access_control_id"])],
        supports_check_mode=True,
    )
    params = module.params
    if params["aliases"] and not params["acm_certificate_arn"]:
        module.fail_json(msg="aliases need acm_certificate_arn: the default *.cloudfront.net certificate does not cover them")
    if params["comment"] is not None and len(params["comment"]) > 128:
        module.fail_json(msg="comment is longer than the 128 characters CloudFront allows")
    if params["wait_timeout"] < 0 or params["wait_sleep"] < 1:
        module.fail_json(msg="wait_timeout must be >= 0 and wait_sleep >= 1")

    try:
        view = None
        if params["state"] == "present":
            view = desired_view(params["bucket"], params["bucket_region"], params["origin_access_control_id"],
                                comment=params["comment"], aliases=params["aliases"],
                                acm_certificate_arn=params["acm_certificate_arn"], price_class=params["price_class"],
                                enabled=params["enabled"])
        client = module.client("cloudfront", retry_decorator=AWSRetry.jittered_backoff())
        # amazon.aws 11.4's AnsibleAWSModule.warn re-injects warnings into exit_json, which ansible-core 2.21 deprecates;
        # warn through ansible-core directly (the same text is returned in foreign_distributions).
        manager = IssuerDistributions(client, params["bucket"], params["bucket_region"], check_mode=module.check_mode,
                                      warn=module._module.warn)  # pylint: disable=protected-access
    except ValueError as error:
        module.fail_json(msg=str(error))

    result = None
    try:
        if params["state"] == "absent":
            result = manager.absent(params["wait_timeout"], params["wait_sleep"])
            _exit(module, result, manager.foreign)
        result = manager.present(view, params["tags"], purge_tags=params["purge_tags"],
                                 caller_reference=params["caller_reference"])
        waited = 0.0
        distribution = result["distribution"]
        if params["wait"] and not module.check_mode and distribution["id"] and distribution["status"] != DEPLOYED:
            answer, etag, waited, dummy = manager.wait_deployed(distribution["id"], params["wait_timeout"], params["wait_sleep"])
            result["distribution"] = dict(distribution, status=answer.get("Status"), etag=etag)
        _exit(module, result, manager.foreign, waited)
    except WaitTimeout as error:
        _fail_timeout(module, error, error.result or result, manager.foreign)
    except ValueError as error:
        module.fail_json(msg=str(error))
    except CloudFrontDistributionError as error:
        module.fail_json_aws_error(error)


if __name__ == "__main__":
    main()
