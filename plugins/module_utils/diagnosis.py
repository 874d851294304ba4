# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole diagnosis of the trust chain in one process (the module trust_chain_diagnosis).

The chain's checks depend on one another only through the cluster side: once the issuer, the roles, the cluster's
keys and the tokens are known, the anonymous probe of the issuer, the AWS-side inspection and the STS pass need
nothing from each other. :func:`run_checks` runs them at the same time, so a diagnosis costs the slowest check
rather than the sum of the three; :func:`diagnosis_of` puts their results together for
:func:`report.conclude`.

Each check is the same code the single-purpose modules run (issuer_probe, aws_trust_check, sts_assume_check):
only the plumbing between them lives here.
"""

from __future__ import absolute_import, division, print_function

import sys
import time
from concurrent.futures import ThreadPoolExecutor

__metaclass__ = type  # pylint: disable=invalid-name  # Ansible boilerplate

STEPS = ("probe", "aws", "sts")
"""The checks after the cluster side, in the order of the chain."""

CHECKS_WITHOUT_AWS = ("token", "issuer", "discovery", "jwks", "sts")
"""The links inspected when the AWS side is not (``inspect_aws: false``)."""


class CheckFailed(Exception):
    """A check raised unexpectedly (a bug, not a finding): ``step`` names it, ``error`` is what it raised."""

    def __init__(self, step, error, exc_info):
        super(CheckFailed, self).__init__("%s: %s" % (step, type(error).__name__))
        self.step = step
        self.error = error
        self.exc_info = exc_info


def applicable_steps(cluster, probe=None, inspect=None, assume=None):
    """``[(step, callable)]`` of the checks that apply: the probe and the AWS side need an issuer, STS needs roles."""
    steps = []
    if cluster.get("issuer"):
        if probe is not None:
            steps.append(("probe", probe))
        if inspect is not None:
            steps.append(("aws", inspect))
    if cluster.get("sts_roles") and assume is not None:
        steps.append(("sts", assume))
    return steps


def run_checks(cluster, probe=None, inspect=None, assume=None, clock=time.monotonic):
    """Run the checks that apply to ``cluster`` (see :func:`applicable_steps`) at the same time.

    Each callable takes ``cluster`` and returns its module's result dict. Returns ``(results, seconds)``, both keyed
    by step. Raises :class:`CheckFailed` for the first step (in chain order) that raised, after every step ended.
    """
    steps = applicable_steps(cluster, probe, inspect, assume)
    results, seconds, failures = {}, {}, {}

    def timed(step, check):
        start = clock()
        try:
            results[step] = check(cluster)
        except Exception as error:  # pylint: disable=broad-except  # re-raised in the caller's thread
            failures[step] = CheckFailed(step, error, sys.exc_info())
        finally:
            seconds[step] = round(clock() - start, 3)

    if len(steps) == 1:
        timed(*steps[0])
    elif steps:
        with ThreadPoolExecutor(max_workers=len(steps)) as pool:
            for step, check in steps:
                pool.submit(timed, step, check)
    for step in STEPS:
        if step in failures:
            raise failures[step]
    return results, seconds


def diagnosis_of(cluster, results, cluster_name=None, inspect_aws=True, install_dir=None):
    """The diagnosis for :func:`report.conclude`: every finding, the per-role results, the probe's public part."""
    probe = results.get("probe") or {}
    aws = results.get("aws") or {}
    sts = results.get("sts") or {}
    described = {"name": cluster_name, "source": cluster.get("source")}
    api_url = (cluster.get("cluster") or {}).get("api_url")
    if api_url and cluster.get("source") == "live":
        described["api_url"] = api_url
    if install_dir:
        described["install_dir"] = install_dir
    return {
        "issuer": cluster.get("issuer") or "",
        "cluster": described,
        "findings": list(cluster.get("findings") or []) + list(probe.get("findings") or [])
        + list(aws.get("findings") or []) + list(sts.get("findings") or []),
        "roles": list(sts.get("roles") or []) + list(aws.get("roles") or []),
        "probe": {"discovery": probe.get("discovery"), "jwks": probe.get("jwks"), "timings": probe.get("timings")},
        "checks": None if inspect_aws else list(CHECKS_WITHOUT_AWS),
        "remediation_hints": {"install_dir": install_dir} if install_dir else {},
    }
