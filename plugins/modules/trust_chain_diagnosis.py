#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: trust_chain_diagnosis
version_added: 1.0.0
short_description: Diagnose the whole OIDC trust chain of an OpenShift cluster on AWS in one step, and write the reports
description:
  - Runs, in one process, what M(openshift_sts.oidc.cluster_trust_info), M(openshift_sts.oidc.issuer_probe),
    M(openshift_sts.oidc.aws_trust_check), M(openshift_sts.oidc.sts_assume_check) and
    M(openshift_sts.oidc.diagnosis_report) do one after the other - the same checks, with the same findings, verdict
    and reports. The C(openshift_sts.oidc.diagnose) role uses it.
  - The cluster side is read first (the configured issuer, the CredentialsRequests and their role ARNs, the cluster's
    keys, the tokens). Then the anonymous probe of the issuer, the AWS-side inspection and the STS pass run at the same
    time, since none needs another's result. The diagnosis thus costs one module start and the slowest check, not
    five starts and the sum of the checks.
  - Tokens stay inside the module. A live cluster's tokens come from TokenRequest, one per service account, the probe
    reusing one of them; an install directory's test tokens are signed with its bound service-account signing key. They
    are held in a private temporary directory (mode 0700) only until they are read, and never returned or logged.
  - Read-only towards the cluster and AWS. The only files written are the reports in O(report_dir), atomically and only
    when their content changes.
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  install_dir:
    description:
      - An openshift-install directory after C(create manifests), with ccoctl's C(manifests/) and C(tls/) copied in.
        When given, the install directory is diagnosed instead of a live cluster and O(kubernetes) is ignored.
    type: path
  credentials_requests_dir:
    description: The extracted CredentialsRequests; defaults to C(<install_dir>/credrequests). Only with O(install_dir).
    type: path
  audience:
    description: The audience (C(aud)) of the tokens. OpenShift operators use C(openshift).
    type: str
    default: openshift
  inspect_aws:
    description:
      - Whether to inspect the AWS side (IAM OIDC provider, role trust policies, S3 or CloudFront hosting), as
        M(openshift_sts.oidc.aws_trust_check) does. Without AWS credentials the inspection reports
        C(AWS_CREDENTIALS_MISSING) and the diagnosis goes on.
    type: bool
    default: true
  probe_timeout:
    description: Seconds allowed for each anonymous fetch of the discovery document and JWKS (STS allows 5).
    type: float
    default: 5
  concurrency:
    description:
      - How many calls of one kind run at the same time - TokenRequests, IAM and S3 reads, and at first
        C(AssumeRoleWithWebIdentity) calls. The STS calls in flight then grow while STS answers without throttling,
        up to O(max_concurrency), and halve when it throttles (see M(openshift_sts.oidc.sts_assume_check)).
    type: int
    default: 50
  max_concurrency:
    description: The most C(AssumeRoleWithWebIdentity) calls in flight while STS does not throttle; at least O(concurrency).
    type: int
    default: 250
  cluster_name:
    description:
      - The cluster's name in the reports. Defaults to the cluster's own - live, from C(Infrastructure/cluster); from an
        install directory, from its install-config.
    type: str
extends_documentation_fragment:
  - openshift_sts.oidc.report_output
  - openshift_sts.oidc.kubernetes_connection
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Every check runs (they are read-only) and the verdict is returned; the reports are not written and
      C(changed) tells whether they would change. The C(diagnose) role runs it with C(check_mode=false), since the
      reports are local outputs of a read-only diagnosis.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The reports are written on the host the module runs on; run it on C(localhost) to get them on the controller.
  - Without O(region) (or C(AWS_REGION)), the AWS calls go to the cluster's own region, as C(Infrastructure/cluster) or
    the install-config names it.
  - The findings, the verdict rules and the report schema are those of the single-purpose modules; see the
    collection's C(docs/findings.md) and C(docs/report.md).
seealso:
  - module: openshift_sts.oidc.cluster_trust_info
  - module: openshift_sts.oidc.issuer_probe
  - module: openshift_sts.oidc.aws_trust_check
  - module: openshift_sts.oidc.sts_assume_check
  - module: openshift_sts.oidc.diagnosis_report
"""

EXAMPLES = r"""
- name: Diagnose a live cluster (K8S_AUTH_* and AWS credentials from the environment)
  openshift_sts.oidc.trust_chain_diagnosis:
    report_dir: "./oidc-report/{{ inventory_hostname }}"
    cluster_name: mycluster
    region: us-east-2
  check_mode: false
  register: diagnosis

- name: Print one line per link of the chain, then the verdict
  ansible.builtin.debug:
    msg: "{{ diagnosis.summary_lines }}"

- name: Diagnose an install directory before install, without looking at AWS
  openshift_sts.oidc.trust_chain_diagnosis:
    install_dir: /home/sre/install/mycluster
    inspect_aws: false
    report_dir: ./oidc-report/mycluster
    region: us-east-2
"""

RETURN = r"""
verdict:
  description: The verdict, as M(openshift_sts.oidc.diagnosis_report) returns it (C(status), C(root_cause), C(explanation),
    C(fix), C(links), C(counts)...).
  returned: always
  type: dict
  sample: {"status": "broken", "root_cause": "ISSUER_BUCKET_PRIVATE", "root_link": "hosting"}
summary_lines:
  description: The console summary, one C([OK])/C([WARN])/C([FAIL])/C([INFO]) line per link, then C(VERDICT:) and C(FIX:).
  returned: always
  type: list
  elements: str
reports:
  description: The path of each report, by format.
  returned: always
  type: dict
  sample: {"json": "oidc-report/c1/report.json", "html": "oidc-report/c1/report.html"}
written:
  description: The formats whose file was (or would be) written because its content changed.
  returned: always
  type: list
  elements: str
generated_at:
  description: The C(generated_at) of the reports.
  returned: always
  type: str
  sample: "2025-01-02T03:04:05Z"
stats:
  description: A compact summary for C(set_stats), as M(openshift_sts.oidc.diagnosis_report) returns it.
  returned: always
  type: dict
seconds:
  description: Wall time of each step - C(cluster), then C(probe), C(aws) and C(sts) (which overlap), then C(report).
  returned: always
  type: dict
  sample: {"cluster": 0.12, "probe": 0.05, "aws": 0.31, "sts": 0.42, "report": 0.03}
api_calls:
  description: The Kubernetes API requests, and the AWS API calls of the inspection by C(service.Operation)
    (C(AssumeRoleWithWebIdentity) calls are one per role and not counted here).
  returned: always
  type: dict
  sample: {"kubernetes": 6, "aws": {"iam.GetRole": 12, "iam.ListOpenIDConnectProviders": 1}}
"""

import shutil
import tempfile
import time
import traceback

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.openshift_sts.oidc.plugins.module_utils.anonymous_fetch import fetch
from ansible_collections.openshift_sts.oidc.plugins.module_utils.aws_trust import Clients, aws_client_config, inspect_trust, normalize_roles
from ansible_collections.openshift_sts.oidc.plugins.module_utils.cluster_trust import read_cluster_side
from ansible_collections.openshift_sts.oidc.plugins.module_utils.diagnosis import CheckFailed, diagnosis_of, run_checks
from ansible_collections.openshift_sts.oidc.plugins.module_utils.probe import normalize_expected_keys, probe_issuer
from ansible_collections.openshift_sts.oidc.plugins.module_utils.report import FORMATS, conclude
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
from ansible_collections.openshift_sts.oidc.plugins.module_utils.token import TokenFileError, read_token_file

TOKEN_LIFETIME = 600  # the shortest kube-apiserver grants; the diagnosis needs the tokens for seconds


def main():
    """Run the module."""
    module = AnsibleAWSModule(
        argument_spec=dict(
            install_dir=dict(type="path"),
            credentials_requests_dir=dict(type="path"),
            audience=dict(type="str", default="openshift"),
            inspect_aws=dict(type="bool", default=True),
            probe_timeout=dict(type="float", default=5.0),
            concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
            max_concurrency=dict(type="int", default=DEFAULT_MAX_CONCURRENCY),
            report_dir=dict(type="path", required=True),
            formats=dict(type="list", elements="str", choices=list(FORMATS), default=list(FORMATS)),
            cluster_name=dict(type="str"),
            kubernetes=kubernetes_option_spec(),
        ),
        required_by={"credentials_requests_dir": "install_dir"},
        supports_check_mode=True,
    )
    params = module.params
    width = params["concurrency"]
    if width < 1:
        module.fail_json(msg="concurrency must be at least 1, not %d" % width)
    ceiling = max(width, params["max_concurrency"])
    if params["probe_timeout"] <= 0:
        module.fail_json(msg="probe_timeout must be greater than 0, not %s" % params["probe_timeout"])
    seconds = {}
    start = time.monotonic()
    minter = None if params["install_dir"] else TokenMinter(params["kubernetes"], params["audience"], TOKEN_LIFETIME, width)
    scratch = tempfile.mkdtemp(prefix="oidc-diagnose-")
    try:
        cluster = read_cluster_side(module, dict(params, expiration=TOKEN_LIFETIME), scratch, minter, width)
        probe_token = read_token_file(cluster["probe_token_file"]) if cluster.get("probe_token_file") else None
        entries = role_entries(cluster["sts_roles"], minter.token if minter else None)
    except TokenFileError as error:
        module.fail_json(msg=str(error))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # the tokens are in memory from here on
    if probe_token:
        module.no_log_values.add(probe_token)
    seconds["cluster"] = round(time.monotonic() - start, 3)

    def probe(found):
        keys = normalize_expected_keys([found["cluster_keys"]]) if (found.get("cluster_keys") or {}).get("keys") else None
        return probe_issuer(found["issuer"], fetch, token=probe_token, expected_keys=keys,
                            timeout=params["probe_timeout"])

    region = module.region or cluster["cluster"]["aws_region"]
    clients = Clients(lambda service, where: module.client(service, region=where, config=aws_client_config(width)), region)

    try:
        trust_roles = normalize_roles(cluster["trust_roles"])
    except ValueError as error:
        module.fail_json(msg="The cluster's CredentialsRequests name roles that cannot be inspected: %s" % error)

    def inspect(found):
        return inspect_trust(clients, found["issuer"], trust_roles, params["audience"], region, width)

    assume_role = module.client("sts", region=region, config=client_config(ceiling)).assume_role_with_web_identity

    def assume(_found):
        results = check_roles(assume_role, entries, 900, width, describe_token=describe_token, ceiling=ceiling)
        return {"roles": results, "findings": assume_findings(results)}

    try:
        results, check_seconds = run_checks(cluster, probe, inspect if params["inspect_aws"] else None, assume)
    except CheckFailed as error:
        module.fail_json(msg="trust_chain_diagnosis failed unexpectedly in the %s check: %s" % (error.step, type(error.error).__name__),
                         exception="".join(traceback.format_exception(*error.exc_info)))
    if minter is not None:
        module.no_log_values.update(minter.minted())
    seconds.update(check_seconds)
    start = time.monotonic()
    diagnosis = diagnosis_of(cluster, results, params["cluster_name"] or cluster["cluster"]["name"], params["inspect_aws"],
                             params["install_dir"])
    try:
        result = conclude(diagnosis, params["report_dir"], params["formats"], check_mode=module.check_mode)
    except (IOError, OSError) as error:
        module.fail_json(msg="cannot write the reports in %s: %s" % (params["report_dir"], getattr(error, "strerror", None) or error))
    seconds["report"] = round(time.monotonic() - start, 3)
    module.exit_json(seconds=seconds, api_calls={"kubernetes": minter.rest().calls if minter else 0, "aws": clients.counts}, **result)


if __name__ == "__main__":
    main()
