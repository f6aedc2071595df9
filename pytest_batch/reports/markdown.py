"""GitHub-flavoured Markdown that fits a step summary (`>> $GITHUB_STEP_SUMMARY`): totals, coverage per
api-version, the worst operations, findings by check and the top findings, drift in a collapsed block,
constraint-probe verdicts (counts per api-version and the rules not enforced).

All data is escaped: HTML-escaped inside the `<details>` summaries (raw HTML to Markdown); prose with backslashes before every Markdown-active character (so a message holding
`<script>` or `|` stays text and never breaks a table), identifiers and pointers in code spans. Lists are
cut (`limit`) so a large run stays well under GitHub's 1 MiB summary limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from .common import UNMATCHED, fraction, input_source, not_enforced, one_line, operation_label, status_summary, where
from .probes import VERDICTS

_ACTIVE = re.compile(r"([\\`*_\[\]<>|~&])")
_TICKS = re.compile(r"`+")


def text(value: Any, limit: int | None = 300) -> str:
    """Prose: one line, every Markdown-active character escaped."""
    return _ACTIVE.sub(r"\\\1", one_line(value, limit))


def code(value: Any, limit: int | None = 200) -> str:
    """A code span that holds any text, `|` escaped for tables (GFM reads `\\|` in a span as `|`)."""
    body = one_line(value, limit).replace("|", "\\|")
    if not body:
        return ""
    fence = "`" * (max((len(m) for m in _TICKS.findall(body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _table(header: Sequence[str], align: str, rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return lines


def render_markdown(document: Mapping[str, Any], *, limit: int = 20) -> str:
    t = document["totals"]
    source = input_source(document)
    out = [
        "## pytest-batch: Batch API conformance",
        "",
        (
            f"**{t['batch']}** Batch interactions from {source} ({t['skipped']} other calls skipped, "
            f"{t['unusable']} unusable inputs): **{t['interactions_with_errors']}** with errors, "
            f"**{t['interactions_with_warnings']}** with warnings ({t['errors']} errors, {t['warnings']} warnings, "
            f"{t['allowed']} allowed; {t['distinct_findings']} distinct findings)."
        ),
        "",
    ]
    if document["api_versions"]:
        out += _table(
            ("api-version", "interactions", "operations", "status codes", "constraint rules in reach",
             "with errors", "with warnings"),
            "lrrrrrr",
            (
                (
                    code(v["api_version"]),
                    v["interactions"],
                    fraction(v["operations"]["exercised"], v["operations"]["documented"], v["operations"]["coverage"]),
                    fraction(v["status_codes"]["seen"], v["status_codes"]["documented"], v["status_codes"]["coverage"]),
                    fraction(v["constraints"]["in_reach"], v["constraints"]["rules"], v["constraints"]["coverage"])
                    if v["constraints"]
                    else "n/a",
                    v["interactions_with_errors"],
                    v["interactions_with_warnings"],
                )
                for v in document["api_versions"]
            ),
        )  # fmt: skip
        out.append("")
    worst = [r for r in document["operations"] if r["interactions_with_errors"] or r["interactions_with_warnings"]]
    if worst:
        out += [f"### Worst operations ({min(limit, len(worst))} of {len(worst)} with findings)", ""]
        out += _table(
            ("operation", "api-version", "calls", "status codes seen", "with errors", "with warnings"),
            "llrlrr",
            (
                (code(operation_label(r)), code(r["api_version"]), r["calls"], code(status_summary(r)),
                 r["interactions_with_errors"], r["interactions_with_warnings"])
                for r in worst[:limit]
            ),
        )  # fmt: skip
        out.append("")
    if document["by_check"]:
        out += ["### Findings by check", ""]
        out += _table(
            ("severity", "check", "occurrences", "distinct", "allowed"),
            "llrrr",
            ((r["severity"], code(r["check"]), r["count"], r["distinct"], r["allowed"]) for r in document["by_check"]),
        )
        out.append("")
        findings = document["findings"]
        out += [f"### Findings ({min(limit, len(findings))} of {len(findings)}, errors first)", ""]
        out += _table(
            ("id", "count", "severity", "check", "operation", "where", "message", "spec", "first seen"),
            "lrlllllll",
            (
                (f["id"], f["count"], f["severity"], code(f["check"]),
                 code(f["operation_id"] or UNMATCHED) + " " + code(f["api_version"]), code(where(f)),
                 text(f["message"]), code(f["schema_pointer"] or "-"), code(f["first_source"] or "-"))
                for f in findings[:limit]
            ),
        )  # fmt: skip
        out.append("")
    out += _drift(document["drift"], limit)
    out += _probes(document, limit)
    out += _not_exercised(document)
    if document["unusable"]["count"]:
        out += [f"<details><summary>{document['unusable']['count']} unusable inputs</summary>", ""]
        out += [f"- {text(m)}" for m in document["unusable"]["messages"][:limit]]
        out += ["", "</details>", ""]
    return "\n".join(out) + "\n"


def _drift(drift: Mapping[str, Any], limit: int) -> list[str]:
    props, values = drift["undocumented_properties"], drift["unknown_enum_values"]
    if not props and not values:
        return []
    out = [
        (f"<details><summary>Drift: {len(props)} undocumented properties, {len(values)} unknown enum values</summary>"),
        "",
    ]
    rows = [("property", code(r["name"]), r) for r in props[:limit]]
    rows += [("enum value", code(r["value"]), r) for r in values[:limit]]
    out += _table(
        ("kind", "name or value", "operation", "where", "count", "first seen"),
        "llllrl",
        (
            (kind, name, code(operation_label(r)) + " " + code(r["api_version"]),
             code(f"{r['location']}{r['instance_pointer']}"), r["count"], code(r["first_source"] or "-"))
            for kind, name, r in rows
        ),
    )  # fmt: skip
    return [*out, "", "</details>", ""]


def _not_exercised(document: Mapping[str, Any]) -> list[str]:
    out = []
    for version in document["api_versions"]:
        idle = [
            r["operation_id"]
            for r in document["operations"]
            if r["api_version"] == version["api_version"] and not r["calls"] and r["operation_id"]
        ]
        if idle:
            out += [
                (
                    f"<details><summary>{len(idle)} operations of {escape(version['api_version'])} not exercised"
                    "</summary>"
                ),
                "",
                ", ".join(code(name) for name in sorted(idle)),
                "",
                "</details>",
                "",
            ]
    return out


def _probes(document: Mapping[str, Any], limit: int) -> list[str]:
    probes = document["probes"]
    if not probes["api_versions"]:
        return []
    out = ["### Constraint probes", ""]
    out += _table(
        ("api-version", "rules probed", *VERDICTS),
        "lr" + "r" * len(VERDICTS),
        ((code(v["api_version"]), v["rules"], *(v["by_verdict"][name] for name in VERDICTS))
         for v in probes["api_versions"]),
    )  # fmt: skip
    out.append("")
    others = not_enforced(document)
    if others:
        out += [f"#### Rules not enforced ({min(limit, len(others))} of {len(others)}, worst first)", ""]
        out += _table(
            ("verdict", "rule", "operation", "target", "detail", "spec"),
            "llllll",
            ((r["verdict"], code(r["rule"]), code(r["operation_id"] or "-") + " " + code(r["api_version"]),
              code(r["target"] or "-"), text(r["detail"] or "-"), code(r["source_pointer"] or "-"))
             for r in others[:limit]),
        )  # fmt: skip
        out.append("")
    return out
