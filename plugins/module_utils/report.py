# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reports of a diagnosis: ``report.json`` (schema ``docs/report-schema.json``), ``report.md`` and ``report.html``.

:func:`build_report` turns the output of :func:`verdict.compute_verdict` into the ``report.json`` document;
:func:`render` renders it in one format; :func:`write_reports` writes the files atomically and only when their
content changed. Every string passes through :func:`findings.redact` once more before anything is rendered.

Idempotence: ``generated_at`` is the time the report's *content* was last produced. When the files already hold the
same diagnosis (equal once rendered with their own ``generated_at``, response times aside), they are kept, with their
timestamp and response times, and nothing
is reported as changed.
"""

from __future__ import absolute_import, division, print_function

import datetime
import json
import os
import re
import tempfile

from ansible_collections.openshift_sts.oidc.plugins.module_utils import _report_html
from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import CATALOGUE, redact
from ansible_collections.openshift_sts.oidc.plugins.module_utils.verdict import LABELS, compute_verdict, probe_given, summary_lines, text

__metaclass__ = type  # pylint: disable=invalid-name  # Ansible boilerplate

SCHEMA_VERSION = "1.0"
FORMATS = ("json", "md", "html")
FILENAMES = {"json": "report.json", "md": "report.md", "html": "report.html"}
GENERATOR = "openshift_sts.oidc.diagnosis_report"
MAX_PER_CODE = 5
"""Findings of one code detailed in report.md and report.html (report.json has them all)."""

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
_MD_STAMP = re.compile(r"^<!-- generated_at: (\S+) -->", re.MULTILINE)
_HTML_STAMP = re.compile(r'<meta name="generated-at" content="([^"]+)">')
_CLUSTER_KEYS = ("name", "source", "api_url", "install_dir")
_TIMING_KEYS = ("document", "url", "status", "elapsed", "bytes", "truncated", "error_kind", "proxy")


def timestamp(now=None):
    """``now`` (a UTC datetime, default the current time) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def deep_redact(value):
    """``value`` with every string, dict keys included, passed through :func:`redact`."""
    if isinstance(value, dict):
        return dict((redact(key) if isinstance(key, str) else key, deep_redact(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [deep_redact(item) for item in value]
    return redact(value)


def _timing(item):
    """One timing of the probe, with the documented keys and types."""
    result = {}
    for key in _TIMING_KEYS:
        value = item.get(key)
        if key in ("status", "bytes"):
            value = value if isinstance(value, int) and not isinstance(value, bool) else None
        elif key == "elapsed":
            value = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        elif key == "truncated":
            value = value if isinstance(value, bool) else None
        else:
            value = None if value is None else text(value)
        result[key] = value
    return result


def public_probe(probe):
    """Only the public part of ``issuer_probe``'s result: the discovery document, the JWKS kids, the timings."""
    if not probe_given(probe):
        return None
    jwks = probe.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, dict) and isinstance(jwks.get("keys"), list) else None
    timings = []
    for item in probe.get("timings") or []:
        if isinstance(item, dict):
            timings.append(_timing(item))
    discovery = probe.get("discovery")
    return {
        "discovery": discovery if isinstance(discovery, dict) else None,
        "jwks_kids": [key.get("kid") if isinstance(key, dict) and isinstance(key.get("kid"), str) else None for key in keys]
        if keys is not None else None,
        "jwks_key_count": len(keys) if keys is not None else None,
        "timings": timings,
    }


def build_report(result, cluster=None, issuer=None, probe=None, generated_at=None):
    """The ``report.json`` document (a dict) for ``result`` = :func:`verdict.compute_verdict`'s return value."""
    verdict = dict(result["verdict"])
    links = verdict.pop("links")
    cluster = dict(cluster or {})
    for key in _CLUSTER_KEYS:
        cluster[key] = None if cluster.get(key) in (None, "") else text(cluster[key])
    report = {
        "schema_version": SCHEMA_VERSION,
        "generator": GENERATOR,
        "generated_at": generated_at or timestamp(),
        "cluster": cluster,
        "issuer": None if issuer is None else text(issuer),
        "verdict": verdict,
        "summary": summary_lines(result["verdict"]),
        "links": links,
        "findings": result["findings"],
        "roles": result["roles"],
        "probe": public_probe(probe),
    }
    return deep_redact(report)


# ---------------------------------------------------------------- JSON
def render_json(report):
    """``report.json``: sorted keys, two-space indent, UTF-8, a final newline."""
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


# ---------------------------------------------------------------- Markdown
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|])")


def md(value):
    """Plain text for Markdown: one line, with the characters that Markdown or HTML would interpret escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text(value))


def md_code(value, table=False):
    """``value`` as a code span (safe for any content); ``table`` also escapes pipes for GFM tables."""
    value = text(value)
    if not value:
        return ""
    longest = max([len(run) for run in re.findall(r"`+", value)] + [0])
    fence = "`" * (longest + 1)
    if value.startswith("`") or value.endswith("`"):
        value = " %s " % value
    if table:
        value = value.replace("|", "\\|")
    return "%s%s%s" % (fence, value, fence)


def render_markdown(report):
    """``report.md``: the verdict first, then one line per link, the findings with evidence and fix, the roles."""
    verdict = report["verdict"]
    cluster = report["cluster"] or {}
    lines = ["<!-- generated_at: %s -->" % report["generated_at"], ""]
    lines.append("# OIDC trust chain diagnosis%s" % (": " + md(cluster.get("name")) if cluster.get("name") else ""))
    lines.append("")
    root = " \u2014 root cause %s" % md_code(verdict["root_cause"]) if verdict["root_cause"] else ""
    lines.append("**VERDICT: %s**%s" % (verdict["status"].upper(), root))
    lines.append("")
    lines.append(md(verdict["explanation"]))
    lines.append("")
    if verdict.get("fix"):
        lines.append("**Fix:** %s" % md(verdict["fix"]["text"]))
        lines.append("")
        if verdict["fix"].get("command"):
            command = text(verdict["fix"]["command"])
            fence = "`" * max(3, max([len(run) for run in re.findall(r"`+", command)] + [0]) + 1)
            lines.extend([fence + "sh", command, fence, ""])
    lines.extend(["| | |", "|---|---|"])
    rows = [("Cluster", md(cluster.get("name") or "-") + (" (%s)" % md(cluster["source"]) if cluster.get("source") else "")),
            ("API server", md_code(cluster.get("api_url"), table=True)),
            ("Install directory", md_code(cluster.get("install_dir"), table=True)),
            ("Issuer", md_code(report.get("issuer"), table=True)),
            ("Generated", report["generated_at"]),
            ("Report schema", report["schema_version"])]
    lines.extend("| %s | %s |" % (name, value) for name, value in rows if value)
    lines.extend(["", "## Trust chain", ""])
    for link in report["links"]:
        mark = " **(root cause)**" if link["root_cause"] else ""
        lines.append("- %s **%s**%s: %s" % (LABELS[link["state"]], md(link["title"]), mark, md(link["summary"])))
    lines.extend(["", "## Findings (%d)" % len(report["findings"]), ""])
    if not report["findings"]:
        lines.extend(["No finding.", ""])
    seen = {}
    number = 0
    for item in report["findings"]:
        seen[item["code"]] = seen.get(item["code"], 0) + 1
        if seen[item["code"]] > MAX_PER_CODE:
            if seen[item["code"]] == MAX_PER_CODE + 1:
                more = sum(1 for other in report["findings"] if other["code"] == item["code"]) - MAX_PER_CODE
                lines.extend(["%d more %s finding(s) are in report.json; the roles table lists the roles." % (more, md_code(item["code"])), ""])
            continue
        number += 1
        title = CATALOGUE.get(item["code"], {}).get("title", "")
        root_mark = " \u2014 **root cause**" if item["code"] == verdict["root_cause"] and item["subject"] == verdict["root_subject"] else ""
        lines.append("### %d. [%s] %s%s%s" % (number, item["severity"].upper(), md_code(item["code"]),
                                              " \u2014 " + md(title) if title else "", root_mark))
        lines.append("")
        lines.append("- **Link:** %s" % md(item["link"]))
        if item["subject"]:
            lines.append("- **Subject:** %s" % md_code(item["subject"]))
        lines.append("- **What:** %s" % md(item["message"]))
        if item["expected"] not in (None, "", []):
            lines.append("- **Expected:** %s" % md_code(item["expected"]))
        if item["actual"] not in (None, "", []):
            lines.append("- **Actual:** %s" % md_code(item["actual"]))
        if item["remediation"]:
            lines.append("- **Fix:** %s" % md(item["remediation"]))
        lines.append("")
    counts = verdict["counts"]["roles"]
    lines.append("## Roles (%d: %d ok, %d failed, %d not checked)" % (counts["total"], counts["ok"], counts["failed"], counts["unknown"]))
    lines.append("")
    if report["roles"]:
        lines.extend(["| Role | Result | STS error | Token sub | Trust policy | Findings |", "|---|---|---|---|---|---|"])
        for role in report["roles"]:
            result = {True: "OK", False: "FAIL", None: "not checked"}[role["ok"]]
            trust = role.get("trust") or {}
            trust_text = {True: "ok", False: "fails", None: "-"}[trust.get("trust_ok")] if trust else "-"
            sub = (role.get("claims") or {}).get("sub")
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                md_code(role["role_arn"], table=True), result, md_code(role.get("error_code"), table=True) or "-",
                md_code(sub, table=True) or "-", trust_text,
                ", ".join(md_code(code, table=True) for code in sorted(set(item["code"] for item in role["findings"]))) or "-"))
    else:
        lines.append("No role was checked.")
    lines.append("")
    return "\n".join(lines)


RENDERERS = {"json": render_json, "md": render_markdown, "html": _report_html.render_html}


def render(report, fmt):
    """``report`` rendered as ``fmt`` (json, md, html): a str."""
    return RENDERERS[fmt](report)


# ---------------------------------------------------------------- files
def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return None


def _stamp_of(fmt, content):
    """The ``generated_at`` recorded in a report file, or None."""
    if content is None:
        return None
    stamp = None
    if fmt == "json":
        try:
            stamp = json.loads(content).get("generated_at")
        except (ValueError, AttributeError):
            stamp = None
    else:
        match = (_MD_STAMP if fmt == "md" else _HTML_STAMP).search(content)
        stamp = match.group(1) if match else None
    return stamp if isinstance(stamp, str) and _TIMESTAMP.match(stamp) else None


def atomic_write(path, content):
    """Write ``content`` (str) to ``path`` through a temporary file in the same directory, then rename (mode 0600)."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def ensure_directory(path):
    """Create ``path`` (mode 0700) when missing; True when it was created. Raises ``OSError`` if it is not a directory."""
    if os.path.isdir(path):
        return False
    if os.path.exists(path):
        raise OSError("%s exists and is not a directory" % path)
    os.makedirs(path, 0o700)
    os.chmod(path, 0o700)
    return True


_DURATION = re.compile(r"\b\d+(?:\.\d+)? s\b")


# What varies between two runs of the same diagnosis: response times, and the
# times of the tokens minted for it.
_VOLATILE_KEYS = frozenset(("elapsed", "iat", "exp", "nbf"))


def _without_timings(document):
    """``document`` with what varies between two runs of the same diagnosis masked (:data:`_VOLATILE_KEYS`, durations)."""
    if isinstance(document, dict):
        return dict((key, None if key in _VOLATILE_KEYS else _without_timings(value)) for key, value in document.items())
    if isinstance(document, list):
        return [_without_timings(item) for item in document]
    if isinstance(document, str):
        return _DURATION.sub("<t> s", document)
    return document


def _same_diagnosis(existing_json, report):
    """True when ``existing_json`` (report.json text) holds the same diagnosis as ``report``, times aside."""
    try:
        previous = json.loads(existing_json)
    except (TypeError, ValueError):
        return False
    candidate = json.loads(render_json(dict(report, generated_at=previous.get("generated_at"))))
    return _without_timings(previous) == _without_timings(candidate)


def write_reports(report_dir, report, formats=FORMATS, check_mode=False):
    """Write ``report`` in ``formats`` into ``report_dir``.

    When the existing files hold the same content (rendered with their own ``generated_at``), that timestamp is kept,
    so an unchanged diagnosis leaves the files untouched. Only files whose content differs are (re)written,
    atomically. In ``check_mode`` nothing is created or written; ``changed`` says what would happen.

    Returns ``{"changed", "written": [formats], "paths": {format: path}, "generated_at"}``.
    """
    formats = [fmt for fmt in FORMATS if fmt in formats]
    paths = dict((fmt, os.path.join(report_dir, FILENAMES[fmt])) for fmt in formats)
    existing = dict((fmt, _read(path)) for fmt, path in paths.items())
    if "json" in formats and all(existing[fmt] is not None for fmt in formats) and _same_diagnosis(existing["json"], report):
        # The same diagnosis again: the files stay as they are (response times of the earlier run included).
        previous = json.loads(existing["json"])
        return {"changed": False, "written": [], "paths": paths, "generated_at": previous.get("generated_at")}
    contents = None
    for fmt in formats:
        stamp = _stamp_of(fmt, existing[fmt])
        if stamp is None:
            continue
        candidate = dict(report, generated_at=stamp)
        if render(candidate, fmt) == existing[fmt]:
            report = candidate
            contents = dict((name, render(candidate, name)) for name in formats)
            break
    if contents is None:
        contents = dict((fmt, render(report, fmt)) for fmt in formats)
    written = [fmt for fmt in formats if contents[fmt] != existing[fmt]]
    created = False
    if not check_mode:
        created = ensure_directory(report_dir)
        for fmt in written:
            atomic_write(paths[fmt], contents[fmt])
    return {"changed": bool(written) or created, "written": written, "paths": paths, "generated_at": report["generated_at"]}


def stats_of(report, paths):
    """The compact dict published with ``set_stats``."""
    verdict = report["verdict"]
    counts = verdict["counts"]
    return {
        "status": verdict["status"],
        "root_cause": verdict["root_cause"],
        "cluster": (report["cluster"] or {}).get("name"),
        "issuer": report["issuer"],
        "report": paths.get("json") or paths.get("html") or paths.get("md"),
        "fix": (verdict["fix"] or {}).get("command"),
        "counts": {"roles_total": counts["roles"]["total"], "roles_ok": counts["roles"]["ok"],
                   "roles_failed": counts["roles"]["failed"], "errors": counts["findings"]["error"],
                   "warnings": counts["findings"]["warning"], "infos": counts["findings"]["info"]},
    }


def conclude(diagnosis, report_dir, formats=FORMATS, check_mode=False):
    """Decide the verdict of ``diagnosis`` and write its reports: the result of diagnosis_report.

    ``diagnosis`` has the keys of diagnosis_report's options ``findings``, ``roles``, ``checks``, ``probe``,
    ``issuer``, ``cluster`` and ``remediation_hints``. Raises ``IOError``/``OSError`` when the reports cannot be
    written.
    """
    verdict_result = compute_verdict(diagnosis["findings"], diagnosis.get("roles") or [], diagnosis.get("checks"),
                                     diagnosis.get("probe"), diagnosis.get("issuer"), diagnosis.get("cluster") or {},
                                     diagnosis.get("remediation_hints") or {})
    report = build_report(verdict_result, diagnosis.get("cluster") or {}, diagnosis.get("issuer"), diagnosis.get("probe"))
    written = write_reports(report_dir, report, formats, check_mode=check_mode)
    report["generated_at"] = written["generated_at"]
    paths = dict((fmt, os.path.normpath(path)) for fmt, path in written["paths"].items())
    return dict(changed=written["changed"], verdict=dict(report["verdict"], links=report["links"]),
                summary_lines=report["summary"], reports=paths, written=written["written"],
                generated_at=written["generated_at"], stats=stats_of(report, paths))
