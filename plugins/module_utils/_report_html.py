# -*- coding: utf-8 -*-
# Copyright: openshift_sts.oidc contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``report.html``: one self-contained page (inline CSS and SVG, no script, no external resource).

The trust chain is drawn as boxes with arrows (token, issuer, discovery, JWKS, IAM provider, roles, STS), the
hosting box hanging under discovery and JWKS, each coloured by its state; below come one card per link with its
evidence and fix, the findings, the roles and the public part of the probe. Every value is HTML-escaped (findings may
carry text from a hostile HTTP body) and a Content-Security-Policy forbids scripts and remote loads.
"""

from __future__ import absolute_import, division, print_function

import html
import json

from ansible_collections.openshift_sts.oidc.plugins.module_utils.findings import CATALOGUE
from ansible_collections.openshift_sts.oidc.plugins.module_utils.verdict import CHAIN, text

__metaclass__ = type  # pylint: disable=invalid-name  # Ansible boilerplate

MAX_PER_CODE = 5
"""Findings of one code shown in the findings table (the others are counted; all are in report.json)."""
STATE_WORDS = {"ok": "OK", "warn": "WARNING", "fail": "FAILED", "unknown": "NOT INSPECTED"}
STATUS_WORDS = {"healthy": "HEALTHY", "degraded": "DEGRADED", "broken": "BROKEN"}

CSS = """
:root{--ok:#1a7f37;--ok-bg:#dafbe1;--warn:#9a6700;--warn-bg:#fff8c5;--fail:#cf222e;--fail-bg:#ffebe9;
--unknown:#6e7781;--unknown-bg:#f6f8fa;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--page:#f3f4f6}
*{box-sizing:border-box}
body{margin:0;background:var(--page);color:var(--ink);font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",
Helvetica,Arial,sans-serif}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
header{background:#24292f;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:20px;font-weight:600}
header .meta{margin-top:6px;color:#d0d7de;font-size:13px;display:flex;flex-wrap:wrap;gap:6px 22px}
header .meta b{color:#fff;font-weight:600}
main{max-width:1320px;margin:0 auto;padding:24px 32px 40px}
section{margin-top:26px}
h2{font-size:17px;margin:0 0 12px;font-weight:600}
.card{background:#fff;border:1px solid var(--line);border-radius:8px}
.verdict{display:flex;gap:22px;padding:20px 24px;border-left:8px solid var(--unknown)}
.verdict.broken{border-left-color:var(--fail)}.verdict.degraded{border-left-color:var(--warn)}.verdict.healthy{border-left-color:var(--ok)}
.badge{display:inline-block;padding:6px 14px;border-radius:6px;color:#fff;font-weight:700;letter-spacing:.06em;font-size:15px;
white-space:nowrap;align-self:flex-start}
.badge.broken{background:var(--fail)}.badge.degraded{background:var(--warn)}.badge.healthy{background:var(--ok)}
.verdict .headline{font-size:16px;font-weight:600;margin:2px 0 8px}
.verdict p{margin:0 0 10px;max-width:1050px}
.fix{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:10px 14px;margin-top:6px}
.fix b{display:block;margin-bottom:4px}
pre.command{background:#24292f;color:#f6f8fa;padding:10px 14px;border-radius:6px;margin:8px 0 2px;white-space:pre-wrap;
word-break:break-all}
.chain{padding:14px 16px 8px}
.chain svg{width:100%;height:auto;display:block}
.legend{display:flex;gap:18px;color:var(--muted);font-size:12.5px;padding:4px 6px 6px;flex-wrap:wrap}
.legend span::before{content:"";display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:6px;
vertical-align:-1px;border:1.5px solid var(--c);background:var(--b)}
.links{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:14px;align-items:start}
.link{border-top:5px solid var(--unknown);padding:12px 16px 14px;display:flex;flex-direction:column;gap:6px}
.link.ok{border-top-color:var(--ok)}.link.warn{border-top-color:var(--warn)}.link.fail{border-top-color:var(--fail)}
.link h3{margin:0;font-size:14.5px;display:flex;justify-content:space-between;gap:8px;align-items:baseline}
.link .summary{margin:0;color:var(--ink);overflow-wrap:anywhere}
.link ul{margin:0;padding-left:18px;color:var(--muted)}
.link li{overflow-wrap:anywhere}
.link .fixline{font-size:13px;color:var(--ink);background:#f6f8fa;border-radius:5px;padding:6px 9px;overflow-wrap:anywhere}
.pill{display:inline-block;font-size:11px;font-weight:700;letter-spacing:.05em;padding:2px 8px;border-radius:999px;
white-space:nowrap;color:var(--unknown);background:var(--unknown-bg);border:1px solid currentColor}
.pill.ok{color:var(--ok);background:var(--ok-bg)}.pill.warn,.pill.warning{color:var(--warn);background:var(--warn-bg)}
.pill.fail,.pill.error{color:var(--fail);background:var(--fail-bg)}.pill.info{color:#0969da;background:#ddf4ff}
.pill.root{color:#fff;background:var(--fail);border-color:var(--fail)}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;vertical-align:top;padding:8px 10px;border-bottom:1px solid var(--line)}
th{background:#f6f8fa;font-size:12.5px;color:var(--muted);font-weight:600}
td{overflow-wrap:anywhere}
.tablewrap{border:1px solid var(--line);border-radius:8px;overflow:hidden}
dl.ev{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:6px 0 0}
dl.ev dt{color:var(--muted);font-size:12.5px}dl.ev dd{margin:0;overflow-wrap:anywhere}
.muted{color:var(--muted)}
tr.rootrow td{background:#fff5f5}
details{padding:10px 14px}details pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:8px 0 0}
footer{color:var(--muted);font-size:12.5px;margin-top:30px}
@media print{body{background:#fff}header{background:#fff;color:#000;border-bottom:2px solid #000}header .meta,header .meta b{color:#000}
.card,.tablewrap{break-inside:avoid}}
"""

_COLORS = {
    "ok": ("#1a7f37", "#dafbe1", "#116329"),
    "warn": ("#bf8700", "#fff8c5", "#7d4e00"),
    "fail": ("#cf222e", "#ffebe9", "#a40e26"),
    "unknown": ("#8c959f", "#f6f8fa", "#59636e"),
}


def esc(value):
    """One-line text of ``value``, HTML-escaped (quotes too)."""
    return html.escape(text(value), quote=True)


def _clip(value, limit):
    value = text(value)
    return value if len(value) <= limit else value[:limit - 1] + u"\u2026"


# ---------------------------------------------------------------- the picture
BOX_W, BOX_H, GAP, X0, Y0 = 156, 104, 26, 12, 34
HOST_Y, HOST_H = 190, 80


def _wrap_code(code, limit):
    """A finding code on at most two lines of ``limit`` characters, cut at underscores."""
    code = text(code)
    if len(code) <= limit:
        return [code]
    cut = code.rfind("_", 0, limit)
    if cut <= 0:
        return [_clip(code, limit)]
    return [code[:cut + 1], _clip(code[cut + 1:], limit)]


def _box(x, y, width, height, link, title, note=None, tag_right=False):  # pylint: disable=too-many-arguments
    """One link of the chain as an SVG group."""
    stroke, fill, ink = _COLORS[link["state"]]
    codes = link["findings"]
    problem_codes = [code for code in codes if CATALOGUE.get(code, {}).get("severity", "error") != "info"] or codes
    parts = ['<g><title>%s: %s</title>' % (esc(link["title"]), esc(link["summary"]))]
    parts.append('<rect x="%d" y="%d" width="%d" height="%d" rx="10" fill="%s" stroke="%s" stroke-width="%s"/>' % (
        x, y, width, height, fill, stroke, "3.5" if link["root_cause"] else "2"))
    center = x + width // 2
    # (text, height of the line, attributes), laid out centred vertically in the box.
    rows = [(title, 18, 'font-size="14.5" font-weight="600" fill="#1f2328"')]
    if note:
        rows.append((note, 15, 'font-size="11" fill="#59636e"'))
    rows.append((STATE_WORDS[link["state"]], 24, 'font-size="11.5" font-weight="700" letter-spacing="0.6" fill="%s"' % ink))
    if link["state"] in ("fail", "warn") and problem_codes:
        lines = _wrap_code(problem_codes[0], 22 if width < 200 else 46)
        if len(problem_codes) > 1:
            lines.append("+%d more" % (len(problem_codes) - 1))
        rows.extend((line, 13, 'font-size="10.5" font-family="ui-monospace,Menlo,Consolas,monospace" fill="%s"' % ink) for line in lines)
    baseline = y + (height - sum(row[1] for row in rows)) // 2 - 3
    for label, line_height, attributes in rows:
        baseline += line_height
        parts.append('<text x="%d" y="%d" text-anchor="middle" %s>%s</text>' % (center, baseline, attributes, esc(label)))
    if link["root_cause"]:
        if tag_right:
            tag_x, tag_y = x + width + 14, y + height // 2 - 10
        else:
            tag_x, tag_y = center - 46, y - 26
        parts.append('<rect x="%d" y="%d" width="92" height="20" rx="10" fill="%s"/>' % (tag_x, tag_y, stroke))
        parts.append('<text x="%d" y="%d" text-anchor="middle" font-size="10.5" font-weight="700" letter-spacing="0.8" '
                     'fill="#ffffff">ROOT CAUSE</text>' % (tag_x + 46, tag_y + 14))
    parts.append("</g>")
    return "".join(parts)


NOTES = {"token": "service account", "issuer": "serviceAccountIssuer", "discovery": "openid-configuration",
         "jwks": "keys.json", "iam_provider": "OIDC provider", "role_trust": "trust policies",
         "sts": "AssumeRoleWithWebIdentity"}
TITLES = {"token": "Token", "issuer": "Issuer URL", "discovery": "Discovery", "jwks": "JWKS", "iam_provider": "IAM provider",
          "role_trust": "IAM roles", "sts": "STS", "hosting": "S3 / CloudFront hosting"}


def chain_svg(links):
    """The trust chain as an inline SVG picture."""
    by_name = dict((link["name"], link) for link in links)
    width = X0 * 2 + len(CHAIN) * BOX_W + (len(CHAIN) - 1) * GAP
    height = HOST_Y + HOST_H + 12
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="Trust chain" '
             'font-family="-apple-system,BlinkMacSystemFont,Segoe UI,Helvetica,Arial,sans-serif">' % (width, height)]
    parts.append('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
                 '<path d="M0,0 L10,5 L0,10 z" fill="#59636e"/></marker></defs>')
    positions = {}
    for index, name in enumerate(CHAIN):
        positions[name] = X0 + index * (BOX_W + GAP)
    for index, name in enumerate(CHAIN[:-1]):
        start = positions[name] + BOX_W
        parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#59636e" stroke-width="2" marker-end="url(#arrow)"/>' % (
            start + 3, Y0 + BOX_H // 2, start + GAP - 3, Y0 + BOX_H // 2))
    hosting = by_name.get("hosting")
    if hosting is not None:
        left = positions["discovery"]
        right = positions["jwks"] + BOX_W
        for name in ("discovery", "jwks"):
            center = positions[name] + BOX_W // 2
            parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#8c959f" stroke-width="2" stroke-dasharray="5 4"/>' % (
                center, HOST_Y, center, Y0 + BOX_H + 4))
        parts.append('<text x="%d" y="%d" font-size="11" fill="#59636e" text-anchor="middle">served by</text>' % (
            (left + right) // 2, (Y0 + BOX_H + HOST_Y) // 2 + 4))
        parts.append(_box(left, HOST_Y, right - left, HOST_H, hosting, TITLES["hosting"], "bucket, CloudFront", tag_right=True))
    for name in CHAIN:
        if name in by_name:
            parts.append(_box(positions[name], Y0, BOX_W, BOX_H, by_name[name], TITLES[name], NOTES[name]))
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- sections
def _verdict_section(report):
    verdict = report["verdict"]
    status = verdict["status"]
    parts = ['<section class="card verdict %s" id="verdict">' % status]
    parts.append('<span class="badge %s">%s</span><div>' % (status, STATUS_WORDS.get(status, esc(status))))
    if verdict["root_cause"]:
        title = CATALOGUE.get(verdict["root_cause"], {}).get("title", "")
        suffix = " \u2014 " + esc(title) if title else ""
        parts.append('<div class="headline">Root cause <code>%s</code>%s</div>' % (esc(verdict["root_cause"]), suffix))
    else:
        parts.append('<div class="headline">%s</div>' % ("No problem found" if status == "healthy" else "Not verified end to end"))
    parts.append("<p>%s</p>" % esc(verdict["explanation"]))
    fix = verdict.get("fix")
    if fix:
        parts.append('<div class="fix"><b>Fix</b>%s' % esc(fix["text"]))
        if fix.get("command"):
            parts.append('<pre class="command">%s</pre>' % esc(fix["command"]))
        parts.append("</div>")
    parts.append("</div></section>")
    return "".join(parts)


def _chain_section(report):
    legend = "".join('<span style="--c:%s;--b:%s">%s</span>' % (_COLORS[state][0], _COLORS[state][1], word)
                     for state, word in (("ok", "works"), ("warn", "warning"), ("fail", "broken"), ("unknown", "not inspected")))
    return ('<section><h2>Trust chain</h2><div class="card chain">%s<div class="legend">%s<span class="muted" '
            'style="--c:transparent;--b:transparent">STS walks the chain from left to right; the first broken link is the '
            'one to fix.</span></div></div></section>' % (chain_svg(report["links"]), legend))


def _links_section(report):
    cards = []
    for link in report["links"]:
        parts = ['<div class="card link %s"><h3><span>%s</span><span class="pill %s">%s</span></h3>' % (
            link["state"], esc(link["title"]), link["state"], STATE_WORDS[link["state"]])]
        if link["root_cause"]:
            parts.append('<div><span class="pill root">ROOT CAUSE</span></div>')
        parts.append('<p class="summary">%s</p>' % esc(link["summary"]))
        if link["evidence"] and link["state"] != "unknown":
            parts.append("<ul>%s</ul>" % "".join("<li><span class=\"mono\">%s</span></li>" % esc(line) for line in link["evidence"]))
        if link["fix"] and link["state"] in ("fail", "warn"):
            parts.append('<div class="fixline"><b>Fix:</b> %s</div>' % esc(link["fix"]))
        parts.append("</div>")
        cards.append("".join(parts))
    return '<section><h2>Links</h2><div class="links">%s</div></section>' % "".join(cards)


def _value(value):
    if value in (None, "", []):
        return '<span class="muted">-</span>'
    return '<span class="mono">%s</span>' % esc(value)


def _findings_section(report):
    verdict = report["verdict"]
    findings = report["findings"]
    if not findings:
        return '<section><h2>Findings</h2><div class="card" style="padding:14px 16px">No finding.</div></section>'
    rows = []
    seen = {}
    totals = {}
    for item in findings:
        totals[item["code"]] = totals.get(item["code"], 0) + 1
    for item in findings:
        seen[item["code"]] = seen.get(item["code"], 0) + 1
        if seen[item["code"]] > MAX_PER_CODE:
            if seen[item["code"]] == MAX_PER_CODE + 1:
                rows.append('<tr><td></td><td colspan="3" class="muted">\u2026 and %d more <code>%s</code> finding(s): every one is in '
                            'report.json, and the roles table lists the roles.</td></tr>' % (
                                totals[item["code"]] - MAX_PER_CODE, esc(item["code"])))
            continue
        is_root = item["code"] == verdict["root_cause"] and item["subject"] == verdict["root_subject"]
        title = CATALOGUE.get(item["code"], {}).get("title", "")
        rows.append(
            '<tr%s><td><span class="pill %s">%s</span>%s</td><td><code>%s</code><div class="muted">%s</div><div class="muted">link: %s'
            '</div></td><td>%s<dl class="ev"><dt>subject</dt><dd>%s</dd><dt>expected</dt><dd>%s</dd><dt>actual</dt><dd>%s</dd></dl></td>'
            '<td>%s</td></tr>' % (
                ' class="rootrow"' if is_root else "", esc(item["severity"]), esc(item["severity"]).upper(),
                '<div style="margin-top:6px"><span class="pill root">ROOT</span></div>' if is_root else "",
                esc(item["code"]), esc(title), esc(item["link"]), esc(item["message"]), _value(item["subject"]),
                _value(item["expected"]), _value(item["actual"]), esc(item["remediation"])))
    counts = verdict["counts"]["findings"]
    return ('<section><h2>Findings <span class="muted">(%d error, %d warning, %d info)</span></h2><div class="tablewrap"><table>'
            '<colgroup><col style="width:9%%"><col style="width:19%%"><col style="width:44%%"><col style="width:28%%"></colgroup>'
            '<thead><tr><th>Severity</th><th>Code</th><th>What was found</th><th>Fix</th></tr></thead><tbody>%s</tbody></table></div>'
            '</section>' % (counts["error"], counts["warning"], counts["info"], "".join(rows)))


def _roles_section(report):
    roles = report["roles"]
    counts = report["verdict"]["counts"]["roles"]
    head = '<section><h2>Roles <span class="muted">(%d: %d ok, %d failed, %d not checked)</span></h2>' % (
        counts["total"], counts["ok"], counts["failed"], counts["unknown"])
    if not roles:
        return head + '<div class="card" style="padding:14px 16px">No role was checked.</div></section>'
    rows = []
    for role in roles:
        state = {True: ("ok", "OK"), False: ("fail", "FAILED"), None: ("unknown", "NOT CHECKED")}[role["ok"]]
        claims = role.get("claims") or {}
        trust = role.get("trust") or {}
        trust_text = {True: "allows", False: "does not allow", None: "-"}[trust.get("trust_ok")] if trust else "-"
        if trust and trust.get("exists") is False:
            trust_text = "role missing"
        codes = sorted(set(item["code"] for item in role["findings"]))
        rows.append('<tr><td><span class="mono">%s</span></td><td><span class="pill %s">%s</span></td><td>%s</td><td>%s</td>'
                    '<td>%s</td><td>%s</td></tr>' % (
                        esc(role["role_arn"]), state[0], state[1],
                        _value(role.get("error_code")) + ('<div class="muted">%s</div>' % esc(_clip(role.get("error_message"), 200))
                                                          if role.get("error_message") else ""),
                        _value(claims.get("sub")), esc(trust_text),
                        " ".join("<code>%s</code>" % esc(code) for code in codes) or '<span class="muted">-</span>'))
    return head + ('<div class="tablewrap"><table><colgroup><col style="width:34%%"><col style="width:9%%"><col style="width:20%%">'
                   '<col style="width:18%%"><col style="width:8%%"><col style="width:11%%"></colgroup><thead><tr><th>Role</th>'
                   '<th>Result</th><th>STS error</th><th>Token sub</th><th>Trust policy</th><th>Findings</th></tr></thead>'
                   '<tbody>%s</tbody></table></div></section>' % "".join(rows))


def _probe_section(report):
    probe = report.get("probe")
    if not probe:
        return ""
    rows = "".join(
        '<tr><td>%s</td><td><span class="mono">%s</span></td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            esc(item.get("document")), esc(item.get("url")),
            esc(item.get("status")) if item.get("status") is not None else esc(item.get("error_kind") or "no answer"),
            "%.3f s" % float(item.get("elapsed") or 0), esc(item.get("bytes")) if item.get("bytes") is not None else "-")
        for item in probe.get("timings") or [])
    parts = ['<section><h2>Issuer documents <span class="muted">(public data, as fetched anonymously)</span></h2>']
    if rows:
        parts.append('<div class="tablewrap"><table><thead><tr><th>Document</th><th>URL</th><th>HTTP status</th><th>Time</th>'
                     '<th>Bytes</th></tr></thead><tbody>%s</tbody></table></div>' % rows)
    if probe.get("jwks_kids") is not None:
        kids = ", ".join("<code>%s</code>" % esc(kid) for kid in probe["jwks_kids"] if kid) or '<span class="muted">none</span>'
        parts.append('<p>Published key ids (%d key%s): %s</p>' % (
            probe.get("jwks_key_count") or 0, "" if probe.get("jwks_key_count") == 1 else "s", kids))
    if probe.get("discovery") is not None:
        body = json.dumps(probe["discovery"], indent=2, sort_keys=True, ensure_ascii=False, default=str)
        parts.append('<div class="card"><details><summary>Discovery document</summary><pre>%s</pre></details></div>' % html.escape(body))
    parts.append("</section>")
    return "".join(parts)


def render_html(report):
    """The whole page (a str)."""
    cluster = report.get("cluster") or {}
    verdict = report["verdict"]
    meta = []
    for label, value in (("Cluster", cluster.get("name")), ("Source", cluster.get("source")), ("API", cluster.get("api_url")),
                         ("Install dir", cluster.get("install_dir")), ("Issuer", report.get("issuer")),
                         ("Generated", report["generated_at"])):
        if value:
            meta.append("<span>%s <b>%s</b></span>" % (label, esc(value)))
    title = "OIDC trust chain diagnosis" + (" \u2014 %s" % text(cluster.get("name")) if cluster.get("name") else "")
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generated-at" content="%s">' % esc(report["generated_at"]),
        "<title>%s: %s</title>" % (esc(STATUS_WORDS.get(verdict["status"], verdict["status"])), esc(title)),
        "<style>%s</style></head><body>" % CSS,
        "<header><h1>%s</h1><div class=\"meta\">%s</div></header><main>" % (esc(title), "".join(meta)),
        _verdict_section(report), _chain_section(report), _links_section(report), _findings_section(report),
        _roles_section(report), _probe_section(report),
        '<footer>Generated by %s at %s \u00b7 report schema %s \u00b7 this page is self-contained: no script, no network.</footer>' % (
            esc(report.get("generator")), esc(report["generated_at"]), esc(report["schema_version"])),
        "</main></body></html>\n",
    ])
