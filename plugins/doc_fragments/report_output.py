# -*- coding: utf-8 -*-
# Copyright: contributors to the openshift_sts.oidc collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the options that say where a diagnosis writes its reports."""


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods,useless-object-inheritance
    """``report_dir`` and ``formats``, shared by diagnosis_report and trust_chain_diagnosis."""

    DOCUMENTATION = r"""
options:
  report_dir:
    description:
      - Directory for the reports, created (mode 0700) when missing. An existing directory keeps its mode.
      - C(report.json) (schema C(docs/report-schema.json)), C(report.md) and C(report.html) are written atomically
        (temporary file and rename, mode 0600) and only when their content differs.
    type: path
    required: true
  formats:
    description: The reports to write.
    type: list
    elements: str
    choices: [json, md, html]
    default: [json, md, html]
"""
