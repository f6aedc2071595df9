"""One self-contained HTML page: overview, a sortable per-operation table, every finding in detail, and the
constraint-probe verdicts (counts per api-version, one row per probed rule, worst first).

No external asset of any kind (CSS and the sorting script are inline), so the file can be attached to a CI
run or mailed and still work. Every piece of data is HTML-escaped — messages carry user data — and the
page's Content-Security-Policy allows only its own style and script (by hash) and nothing from the
network, so even a missed escape could not run a script or load anything.

The operations table sorts by clicking a header; `#sort=<column>:<asc|desc>` in the URL picks the initial
order (a link can point at "most errors first").
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from .common import UNMATCHED, fraction, input_source, one_line, operation_label, percent, status_summary, where
from .probes import FAILING, VERDICTS

MESSAGE_EXCERPT = 400
SUMMARY_EXCERPT = 100
VALUE_EXCERPT = 1000

_STYLE = """
:root{--bad:#b3261e;--warn:#8a6100;--ok:#1b6e35;--mute:#6b6b6b;--line:#d9d9d9;font-family:system-ui,sans-serif}
body{margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#1d1d1d;line-height:1.4}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid var(--line)}
.sub{color:var(--mute);margin:0}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:.8rem 0}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem;min-width:9rem}
.card b{display:block;font-size:1.4rem}.card.bad b{color:var(--bad)}.card.warn b{color:var(--warn)}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
#operations th{cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
tr.bad td:first-child{border-left:4px solid var(--bad)}tr.warn td:first-child{border-left:4px solid var(--warn)}
tr.idle{color:var(--mute)}
code{font-family:ui-monospace,monospace;font-size:.85em;overflow-wrap:break-word}
details.finding{border:1px solid var(--line);border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
details.finding summary{cursor:pointer}details.error summary .sev{color:var(--bad)}
details.warning summary .sev{color:var(--warn)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:.5rem 0}dt{color:var(--mute)}dd{margin:0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:.85em}
meter{width:6rem;vertical-align:middle}
#versions-table code,#operations-table td:nth-child(2) code{white-space:nowrap}
.excerpt{color:var(--mute)}
"""

_SCRIPT = """
(function () {
  var table = document.getElementById("operations-table");
  if (!table) { return; }
  var heads = table.tHead.rows[0].cells;
  function sortBy(key, dir) {
    var index = -1, numeric = false;
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute("data-key") === key) { index = i; numeric = heads[i].classList.contains("n"); }
      heads[i].removeAttribute("aria-sort");
    }
    if (index < 0) { return false; }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, i) { row.setAttribute("data-order", row.getAttribute("data-order") || i); });
    rows.sort(function (a, b) {
      var x = a.cells[index].getAttribute("data-value"), y = b.cells[index].getAttribute("data-value");
      var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      if (c === 0) { c = Number(a.getAttribute("data-order")) - Number(b.getAttribute("data-order")); return c; }
      return dir === "desc" ? -c : c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    heads[index].setAttribute("aria-sort", dir === "desc" ? "descending" : "ascending");
    table.setAttribute("data-sorted", key + ":" + dir);
    return true;
  }
  for (var i = 0; i < heads.length; i++) {
    heads[i].addEventListener("click", function (event) {
      var th = event.currentTarget;
      var dir = th.getAttribute("aria-sort") === "ascending" ? "desc" : "asc";
      sortBy(th.getAttribute("data-key"), dir);
    });
  }
  var wanted = /[#&]sort=([a-z_]+)(?::(asc|desc))?/.exec(window.location.hash);
  if (wanted) { sortBy(wanted[1], wanted[2] || "asc"); }
  document.documentElement.setAttribute("data-ready", "1");
})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _e(value: Any) -> str:
    return escape(value if isinstance(value, str) else str(value), quote=True)


def _code(value: Any, limit: int | None = 300) -> str:
    return f"<code>{_e(one_line(value, limit))}</code>"


def _cell(content: str, value: Any, numeric: bool = False) -> str:
    css = ' class="n"' if numeric else ""
    return f'<td{css} data-value="{_e(value)}">{content}</td>'


def render_html(document: Mapping[str, Any]) -> str:
    t = document["totals"]
    source = input_source(document)
    body = [
        "<header><h1>Batch API conformance</h1>",
        (
            f'<p class="sub">{_e(document["generator"])} · {_e(source)} · report format {_e(document["format"])}</p>'
            "</header>"
        ),
        '<section id="overview"><h2>Overview</h2><div class="cards">',
        _card("Batch interactions", t["batch"]),
        _card("with errors", t["interactions_with_errors"], "bad" if t["interactions_with_errors"] else ""),
        _card("with warnings", t["interactions_with_warnings"], "warn" if t["interactions_with_warnings"] else ""),
        _card("distinct findings", t["distinct_findings"]),
        _card("operations exercised", t["operations_exercised"]),
        _card("other calls skipped", t["skipped"]),
        _card("unusable inputs", t["unusable"], "bad" if t["unusable"] else ""),
        "</div>",
        *_versions(document["api_versions"]),
        "</section>",
        *_operations(document["operations"]),
        *_findings(document),
        *_drift(document["drift"]),
        *_probes(document["probes"]),
        *_inputs(document),
    ]
    csp = f"default-src 'none'; style-src {_hash(_STYLE)}; script-src {_hash(_SCRIPT)}; img-src data:"
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>pytest-batch report: {t['interactions_with_errors']} with errors, {t['batch']} Batch interactions"
        f"</title>\n<style>{_STYLE}</style></head>\n<body>\n"
    )
    return head + "\n".join(body) + f"\n<script>{_SCRIPT}</script>\n</body></html>\n"


def _card(label: str, value: int, css: str = "") -> str:
    return f'<div class="card {css}"><b>{value}</b>{_e(label)}</div>'


def _meter(ratio: float | None) -> str:
    return "" if ratio is None else f' <meter min="0" max="1" value="{ratio}"></meter>'


def _versions(versions: Iterable[Mapping[str, Any]]) -> list[str]:
    rows = []
    for v in versions:
        ops, statuses, constraints = v["operations"], v["status_codes"], v["constraints"]
        rows.append(
            "<tr>"
            f'<td>{_code(v["api_version"])}</td><td class="n">{v["interactions"]}</td>'
            f'<td class="n">{_e(fraction(ops["exercised"], ops["documented"], ops["coverage"]))}'
            f"{_meter(ops['coverage'])}</td>"
            f'<td class="n">{_e(fraction(statuses["seen"], statuses["documented"], statuses["coverage"]))}'
            f"{_meter(statuses['coverage'])}</td>"
            + (
                f'<td class="n">{_e(fraction(constraints["in_reach"], constraints["rules"], constraints["coverage"]))}'
                f'{_meter(constraints["coverage"])}</td><td class="n">{constraints["broken"]}</td>'
                if constraints
                else '<td class="n">n/a</td><td class="n">n/a</td>'
            )
            + f'<td class="n">{v["interactions_with_errors"]}</td><td class="n">{v["interactions_with_warnings"]}</td>'
            "</tr>"
        )
    if not rows:
        return ["<p>No Batch interactions.</p>"]
    return [
        (
            '<table id="versions-table"><thead><tr><th>api-version</th><th class="n">interactions</th>'
            '<th class="n">operations</th><th class="n">status codes</th><th class="n">constraint rules in reach</th>'
            '<th class="n">rules broken</th><th class="n">with errors</th><th class="n">with warnings</th></tr></thead>'
            "<tbody>"
        ),
        *rows,
        "</tbody></table>",
    ]


_COLUMNS = (
    ("operation", "operation", False),
    ("api_version", "api-version", False),
    ("method", "method", False),
    ("calls", "calls", True),
    ("status", "status codes seen", False),
    ("status_coverage", "status coverage", True),
    ("errors", "with errors", True),
    ("warnings", "with warnings", True),
    ("findings", "occurrences", True),
    ("constraints", "rules in reach", True),
)


def _operations(rows: list[Mapping[str, Any]]) -> list[str]:
    numeric_css = ' class="n"'
    head = "".join(
        f'<th data-key="{key}"{numeric_css if numeric else ""} title="sort">{_e(label)}</th>'
        for key, label, numeric in _COLUMNS
    )
    out = [
        '<section id="operations"><h2>Operations</h2>',
        f"<p>{sum(1 for r in rows if r['calls'])} exercised of {len(rows)}; worst first. Click a column to sort.</p>",
        f'<table id="operations-table"><thead><tr>{head}</tr></thead><tbody>',
    ]
    for r in rows:
        css = "bad" if r["interactions_with_errors"] else "warn" if r["interactions_with_warnings"] else ""
        css = css or ("" if r["calls"] else "idle")
        label = operation_label(r)
        coverage = r["status_codes"]["coverage"]
        path = f"<br><code>{_e(r['path'])}</code>" if r["path"] else ""
        out.append(
            f'<tr class="{css}">'
            + _cell(f"{_code(label)}{path}", label)
            + _cell(_code(r["api_version"]), r["api_version"])
            + _cell(_e(r["method"] or "-"), r["method"] or "")
            + _cell(str(r["calls"]), r["calls"], True)
            + _cell(_e(status_summary(r)), status_summary(r))
            + _cell(_e(percent(coverage)), -1 if coverage is None else coverage, True)
            + _cell(str(r["interactions_with_errors"]), r["interactions_with_errors"], True)
            + _cell(str(r["interactions_with_warnings"]), r["interactions_with_warnings"], True)
            + _cell(str(r["errors"] + r["warnings"]), r["errors"] + r["warnings"], True)
            + _cell(
                "n/a" if r["constraints_in_reach"] is None else str(r["constraints_in_reach"]),
                -1 if r["constraints_in_reach"] is None else r["constraints_in_reach"],
                True,
            )
            + "</tr>"
        )
    out += ["</tbody></table></section>"]
    return out


def _findings(document: Mapping[str, Any]) -> list[str]:
    out = ['<section id="findings"><h2>Findings</h2>']
    if not document["findings"]:
        return [*out, "<p>None: every Batch interaction conforms.</p></section>"]
    out.append('<table id="checks-table"><thead><tr><th>severity</th><th>check</th><th class="n">occurrences</th>'
               '<th class="n">distinct</th><th class="n">allowed</th></tr></thead><tbody>')  # fmt: skip
    for row in document["by_check"]:
        out.append(
            f'<tr><td>{_e(row["severity"])}</td><td>{_code(row["check"])}</td><td class="n">{row["count"]}</td>'
            f'<td class="n">{row["distinct"]}</td><td class="n">{row["allowed"]}</td></tr>'
        )
    out.append("</tbody></table>")
    for f in document["findings"]:
        allowed = f" (+{f['allowed']} allowed)" if f["allowed"] else ""
        rule = f"<dt>rule</dt><dd>{_code(f['rule'])}</dd>" if f["rule"] else ""
        test = f"<dt>first test</dt><dd>{_code(f['first_test'])}</dd>" if f["first_test"] else ""
        out.append(
            f'<details class="finding {_e(f["severity"])}" id="{_e(f["id"])}"><summary>'
            f'{_e(f["id"])} · {f["count"]}×{_e(allowed)} <span class="sev">{_e(f["severity"])}</span> '
            f"{_code(f['check'])} · {_code(f['operation_id'] or UNMATCHED)} ({_e(f['api_version'])}) · "
            f'{_code(where(f))} <span class="excerpt">{_e(one_line(f["message"], SUMMARY_EXCERPT))}</span></summary><dl>'
            f'<dt>message</dt><dd class="message">{_e(one_line(f["message"], MESSAGE_EXCERPT))}</dd>'
            f"<dt>spec pointer</dt><dd>{_code(f['schema_pointer'] or '-')}</dd>{rule}"
            f"<dt>expected</dt><dd><pre>{_e(_value(f['expected']))}</pre></dd>"
            f"<dt>actual</dt><dd><pre>{_e(_value(f['actual']))}</pre></dd>"
            f"<dt>first seen</dt><dd>{_code(f['first_source'] or '-')}</dd>{test}"
            "</dl></details>"
        )
    out.append("</section>")
    return out


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_EXCERPT else text[: VALUE_EXCERPT - 1] + "…"


def _drift(drift: Mapping[str, Any]) -> list[str]:
    props, values = drift["undocumented_properties"], drift["unknown_enum_values"]
    if not props and not values:
        return []
    out = [
        '<section id="drift"><h2>Drift</h2>',
        f"<p>{len(props)} undocumented properties, {len(values)} unknown enum values.</p>",
        (
            '<table id="drift-table"><thead><tr><th>kind</th><th>name or value</th><th>operation</th><th>where</th>'
            '<th class="n">count</th><th>first seen</th></tr></thead><tbody>'
        ),
    ]
    rows = [("property", r["name"], r) for r in props] + [("enum value", r["value"], r) for r in values]
    for kind, name, r in rows:
        out.append(
            f"<tr><td>{kind}</td><td>{_code(name)}</td><td>{_code(operation_label(r))} ({_e(r['api_version'])})</td>"
            f'<td>{_code(r["location"] + r["instance_pointer"])}</td><td class="n">{r["count"]}</td>'
            f"<td>{_code(r['first_source'] or '-')}</td></tr>"
        )
    return [*out, "</tbody></table></section>"]


def _probes(probes: Mapping[str, Any]) -> list[str]:
    if not probes["api_versions"]:
        return []
    heads = "".join(f'<th class="n">{_e(name)}</th>' for name in VERDICTS)
    out = [
        '<section id="probes"><h2>Constraint probes</h2>',
        f"<p>{probes['verdicts']} verdicts on {len(probes['rules'])} rules; worst first.</p>",
        (
            f'<table id="probe-versions"><thead><tr><th>api-version</th><th class="n">rules probed</th>{heads}</tr>'
            "</thead><tbody>"
        ),
    ]
    for v in probes["api_versions"]:
        cells = "".join(f'<td class="n" data-verdict="{name}">{v["by_verdict"][name]}</td>' for name in VERDICTS)
        out.append(f'<tr><td>{_code(v["api_version"])}</td><td class="n">{v["rules"]}</td>{cells}</tr>')
    out += [
        "</tbody></table>",
        (
            '<table id="probe-rules"><thead><tr><th>verdict</th><th>rule</th><th>operation</th><th>target</th>'
            '<th>detail</th><th>spec pointer</th><th class="n">probes</th></tr></thead><tbody>'
        ),
    ]
    for r in probes["rules"]:
        css = "bad" if r["verdict"] in FAILING else "idle" if r["verdict"] == "skipped" else ""
        out.append(
            f'<tr class="{css}" data-verdict="{_e(r["verdict"])}"><td>{_e(r["verdict"])}</td>'
            f"<td>{_code(r['rule'])}</td><td>{_code(r['operation_id'] or '-')} ({_e(r['api_version'])})</td>"
            f"<td>{_code(r['target'] or '-')}</td><td>{_e(one_line(r['detail'] or '-', MESSAGE_EXCERPT))}</td>"
            f'<td>{_code(r["source_pointer"] or "-")}</td><td class="n">{r["probes"]}</td></tr>'
        )
    return [*out, "</tbody></table></section>"]


def _inputs(document: Mapping[str, Any]) -> list[str]:
    skipped, unusable = document["skipped"], document["unusable"]
    if not skipped and not unusable["count"]:
        return []
    out = ['<section id="inputs"><h2>Other calls and unusable inputs</h2><ul>']
    out += [f"<li>{s['count']} skipped: {_e(s['reason'])}</li>" for s in skipped]
    out += [f"<li>unusable: {_e(one_line(m, MESSAGE_EXCERPT))}</li>" for m in unusable["messages"]]
    if unusable["count"] > len(unusable["messages"]):
        out.append(f"<li>… and {unusable['count'] - len(unusable['messages'])} more unusable inputs</li>")
    return [*out, "</ul></section>"]
