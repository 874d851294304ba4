#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: diagnosis_report
version_added: 1.0.0
short_description: Turn the findings of an OIDC trust chain diagnosis into a verdict and write the reports
description:
  - Takes every finding of a diagnosis (from M(openshift_sts.oidc.issuer_probe), M(openshift_sts.oidc.aws_trust_check)
    and M(openshift_sts.oidc.sts_assume_check)), the per-role results and the public part of the probe, and computes
    the verdict - C(status) (C(healthy), C(degraded) or C(broken)), the C(root_cause) (the code of the most upstream
    failing link), an explanation naming the evidence, and the fix (which playbook to run, with which variables).
  - Writes C(report.json) (schema C(docs/report-schema.json), version 1.0), C(report.md) and C(report.html) (one
    self-contained page with the trust chain drawn as a picture, no script and no network needed) into O(report_dir).
  - "Status: C(broken) when a finding has severity C(error); C(degraded) when a finding has severity C(warning), or when
    the chain is unverified (a link of the chain was not inspected and no role was assumed through STS); else C(healthy).
    C(info) findings alone never make a diagnosis degraded."
  - "Root cause: chain order token, issuer, hosting, discovery, JWKS, IAM provider, role trust, STS. A hosting finding
    (C(ISSUER_BUCKET_PRIVATE), C(CLOUDFRONT_*)) explains a discovery or JWKS access failure and is the root cause when
    present; an STS failure explained by an upstream finding is a consequence, never the root cause. The full rules are in
    the collection's C(docs/report.md)."
  - Every string is redacted again (tokens, private keys, AWS credentials) before it is returned or written; the files
    are HTML- and Markdown-escaped, since findings may quote hostile text from an HTTP body.
  - Files are written atomically (temporary file and rename, mode 0600) and only when their content differs. C(generated_at)
    is the time the content was last produced; re-running with the same diagnosis keeps the files and their timestamp
    and reports no change.
author:
  - openshift_sts.oidc maintainers (@openshift-sts)
options:
  cluster:
    description:
      - What was diagnosed; free-form, these keys are shown in the reports.
      - C(name) (the cluster's name), C(source) (C(live) or C(install_dir)), C(api_url) (the API server URL of a live
        cluster), C(install_dir) (the installation directory, before install).
      - C(source) chooses the fix's mode; without it, C(install_dir) when an install directory is known, else C(live).
    type: dict
    default: {}
  issuer:
    description: The issuer URL diagnosed.
    type: str
  findings:
    description:
      - Every finding of every diagnostic module, each a dict with C(code), C(severity), C(link), C(subject), C(message),
        C(expected), C(actual) and C(remediation) (see C(docs/findings.md)). Duplicates reported by two modules are merged.
    type: list
    elements: dict
    required: true
  roles:
    description:
      - Per-role results, merged by C(role_arn) - the C(roles) entries of M(openshift_sts.oidc.sts_assume_check) (C(ok),
        C(error_code), C(claims), C(findings)) and of M(openshift_sts.oidc.aws_trust_check) (C(exists), C(trust_ok),
        C(federated)...). Findings found only in these entries are added to O(findings).
    type: list
    elements: dict
    default: []
  probe:
    description:
      - The result of M(openshift_sts.oidc.issuer_probe). Only its public part is kept - the discovery document, the
        C(kid) of each JWKS key and the timings.
    type: dict
  checks:
    description:
      - The links the diagnosis inspected, among C(token), C(issuer), C(discovery), C(jwks), C(hosting), C(iam_provider),
        C(role_trust), C(sts). Links not listed are shown as not inspected (grey, C([INFO])).
      - When omitted, it is derived - token, issuer, discovery and JWKS count as inspected (discovery and JWKS not when
        O(probe) shows they were never fetched); the AWS links (hosting, IAM provider, role trust) only with a trace of
        M(openshift_sts.oidc.aws_trust_check) (a finding on them, or its role entries) and never after an
        C(AWS_CREDENTIALS_MISSING) finding; STS only when a role was assumed. A link with a finding always counts as
        inspected. Pass O(checks) to be exact.
    type: list
    elements: str
  remediation_hints:
    description:
      - How to call the fix playbook in the verdict's fix. Keys, all optional - C(playbook_prefix) (default
        C(ansible-playbook openshift_sts.oidc.remediate)), C(install_dir), C(bucket_name), C(region) and C(extra_vars)
        (a dict of more C(-e) variables).
      - "The fix names the remediate playbook's variables: C(oidc_install_dir) (before install), C(oidc_bucket_name)
        (the private bucket behind CloudFront; default the issuer's S3 bucket), C(oidc_aws_region), and C(oidc_confirm=true)
        on a live cluster (without it the playbook only prints its plan)."
    type: dict
    default: {}
extends_documentation_fragment:
  - openshift_sts.oidc.report_output
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the verdict is computed and returned, and nothing is created or written; C(changed) tells
      whether the reports would change. The C(diagnose) role runs this task with C(check_mode=false), since the reports
      are local outputs of a read-only diagnosis.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The reports are written on the host the module runs on; run it on C(localhost) (or delegate it) to get them on the
    controller.
seealso:
  - module: openshift_sts.oidc.issuer_probe
  - module: openshift_sts.oidc.aws_trust_check
  - module: openshift_sts.oidc.sts_assume_check
"""

EXAMPLES = r"""
- name: Write the verdict and the reports
  openshift_sts.oidc.diagnosis_report:
    report_dir: "./oidc-report/{{ inventory_hostname }}"
    cluster: {name: mycluster, source: install_dir, install_dir: /home/sre/install/mycluster}
    issuer: "{{ issuer }}"
    findings: "{{ probe.findings + aws_side.findings + sts.findings }}"
    roles: "{{ sts.roles + aws_side.roles }}"
    probe: "{{ probe }}"
  check_mode: false
  delegate_to: localhost
  register: report

- name: Print the summary
  ansible.builtin.debug:
    msg: "{{ report.summary_lines }}"

- name: Publish the verdict for an AAP workflow
  ansible.builtin.set_stats:
    data:
      oidc_diagnosis: "{{ {inventory_hostname: report.stats} }}"
    per_host: false
"""

RETURN = r"""
verdict:
  description: The verdict (the C(verdict) object of C(report.json), plus C(links)).
  returned: always
  type: dict
  contains:
    status: {description: "C(healthy), C(degraded) or C(broken).", type: str, sample: broken}
    root_cause: {description: "The root cause's finding code, or null when healthy.", type: str, sample: ISSUER_BUCKET_PRIVATE}
    root_link: {description: The link of the root cause., type: str, sample: hosting}
    root_subject: {description: The subject of the root finding., type: str, sample: "s3://mycluster-oidc/"}
    headline: {description: One line, type: str, sample: "broken - root cause ISSUER_BUCKET_PRIVATE: Anonymous reads ... are blocked"}
    explanation: {description: Two to four sentences naming the evidence., type: str}
    fix:
      description: C(text), C(command) (null when no playbook applies), C(playbook), C(mode) (C(install_dir) or C(live))
        and C(variables); null when healthy.
      type: dict
      sample: {"command": "ansible-playbook openshift_sts.oidc.remediate -e oidc_install_dir=/inst -e oidc_bucket_name=b",
               "mode": "install_dir", "playbook": "openshift_sts.oidc.remediate",
               "variables": {"oidc_install_dir": "/inst", "oidc_bucket_name": "b"}, "text": "Before installing, run ..."}
    consequences: {description: Codes of the findings the root cause explains., type: list, elements: str}
    also_failing: {description: Codes of other errors and warnings that do not follow from the root cause., type: list, elements: str}
    links:
      description: One entry per link (token, issuer, discovery, jwks, hosting, iam_provider, role_trust, sts, and other when
        it has problems) with C(state) (ok, warn, fail, unknown), C(summary), C(evidence), C(findings), C(fix).
      type: list
      elements: dict
    counts: {description: "C(roles) (total, ok, failed, unknown) and C(findings) (error, warning, info, total).", type: dict}
summary_lines:
  description: The console summary, one C([OK])/C([WARN])/C([FAIL])/C([INFO]) line per link, then C(VERDICT:) and C(FIX:).
  returned: always
  type: list
  elements: str
  sample: ["[OK] Issuer URL: https://mycluster-oidc.s3.us-east-2.amazonaws.com",
           "VERDICT: broken - root cause ISSUER_BUCKET_PRIVATE: Anonymous reads of the issuer documents ... are blocked"]
reports:
  description: The path of each report, by format (written, or that would be written in check mode).
  returned: always
  type: dict
  sample: {"json": "oidc-report/c1/report.json", "md": "oidc-report/c1/report.md", "html": "oidc-report/c1/report.html"}
written:
  description: The formats whose file was (or would be) written because its content changed.
  returned: always
  type: list
  elements: str
generated_at:
  description: The C(generated_at) of the reports (kept from the existing files when the content did not change).
  returned: always
  type: str
  sample: "2025-01-02T03:04:05Z"
stats:
  description: A compact summary for C(set_stats).
  returned: always
  type: dict
  sample: {"status": "broken", "root_cause": "ISSUER_BUCKET_PRIVATE", "cluster": "c1", "issuer": "https://...",
           "report": "oidc-report/c1/report.json", "fix": "ansible-playbook ...",
           "counts": {"roles_total": 12, "roles_ok": 0, "roles_failed": 12, "errors": 13, "warnings": 0, "infos": 0}}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.openshift_sts.oidc.plugins.module_utils.report import FORMATS, conclude
from ansible_collections.openshift_sts.oidc.plugins.module_utils.verdict import DISPLAY_LINKS


def main():
    """Run the module."""
    module = AnsibleModule(
        argument_spec=dict(
            report_dir=dict(type="path", required=True),
            cluster=dict(type="dict", default={}),
            issuer=dict(type="str"),
            findings=dict(type="list", elements="dict", required=True),
            roles=dict(type="list", elements="dict", default=[]),
            probe=dict(type="dict"),
            checks=dict(type="list", elements="str"),
            formats=dict(type="list", elements="str", choices=list(FORMATS), default=list(FORMATS)),
            remediation_hints=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    params = module.params
    unknown = sorted(set(params["checks"] or []) - set(DISPLAY_LINKS))
    if unknown:
        module.fail_json(msg="checks: unknown link(s) %s; use %s" % (", ".join(unknown), ", ".join(DISPLAY_LINKS)))
    try:
        result = conclude(params, params["report_dir"], params["formats"], check_mode=module.check_mode)
    except (IOError, OSError) as error:
        module.fail_json(msg="cannot write the reports in %s: %s" % (params["report_dir"], getattr(error, "strerror", None) or error))
    except Exception as error:  # pylint: disable=broad-except  # report a bug as a module failure, not a traceback
        module.fail_json(msg="diagnosis_report failed unexpectedly: %s" % type(error).__name__, exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
