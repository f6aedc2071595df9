"""Plain-text renderings: the few lines at the end of a pytest run, and the full text report.

Both read CI logs: one fact per line, no colour, no line wider than its content needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import (
    finding_line,
    fraction,
    input_source,
    not_enforced,
    operation_label,
    probe_line,
    status_summary,
    verdict_counts,
)
from .probes import FAILING

TERMINAL_VERSIONS = 4
TERMINAL_MESSAGE = 160


def coverage_line(version: Mapping[str, Any]) -> str:
    ops, statuses, constraints = version["operations"], version["status_codes"], version["constraints"]
    parts = [
        f"{fraction(ops['exercised'], ops['documented'], ops['coverage'])} operations",
        f"{fraction(statuses['seen'], statuses['documented'], statuses['coverage'])} documented status codes",
    ]
    if constraints is not None:
        parts.append(
            f"{fraction(constraints['in_reach'], constraints['rules'], constraints['coverage'])} constraint rules in reach"
        )
    known = "" if version["known"] else " (no schema bundle: coverage unknown)"
    return f"{version['api_version']}: {version['interactions']} interactions, {', '.join(parts)}{known}"


def _offender(row: Mapping[str, Any]) -> str:
    return (
        f"{operation_label(row)} ({row['api_version']}): {row['interactions_with_errors']} of {row['calls']} calls "
        f"with errors, {row['interactions_with_warnings']} with warnings"
    )


def terminal_lines(document: Mapping[str, Any], *, limit: int = 3) -> list[str]:
    """A short summary for the end of a pytest run: coverage per api-version, worst operations, top findings."""
    lines = []
    versions = sorted(document["api_versions"], key=lambda v: -v["interactions"])
    lines.extend(coverage_line(v) for v in versions[:TERMINAL_VERSIONS])
    if len(versions) > TERMINAL_VERSIONS:
        lines.append(f"… and {len(versions) - TERMINAL_VERSIONS} more api-versions (see the report)")
    worst = [
        row for row in document["operations"] if row["interactions_with_errors"] or row["interactions_with_warnings"]
    ]
    if worst:
        lines.append(f"worst operations ({len(worst)} with findings):")
        lines.extend(f"  {_offender(row)}" for row in worst[:limit])
    shown = [f for f in document["findings"] if f["count"]][:limit]
    if shown:
        lines.append(f"top findings ({len(document['findings'])} distinct):")
        lines.extend(finding_line(f, message_limit=TERMINAL_MESSAGE) for f in shown)
    lines.extend(probe_lines(document, limit=limit, detail_limit=TERMINAL_MESSAGE))
    return lines


def probe_lines(document: Mapping[str, Any], *, limit: int, detail_limit: int | None = None) -> list[str]:
    """Probe verdicts: counts per api-version, then the rules not enforced, worst first."""
    probes = document["probes"]
    lines = [f"probed {v['api_version']}: {v['rules']} rules: {verdict_counts(v)}" for v in probes["api_versions"]]
    others = not_enforced(document)
    if others:
        lines.append(f"probed rules not enforced ({len(others)}, worst first):")
        lines.extend(f"  {probe_line(row, detail_limit=detail_limit)}" for row in others[:limit])
        if len(others) > limit:
            lines.append(f"  … and {len(others) - limit} more")
    return lines


def render_text(document: Mapping[str, Any], *, limit: int = 20) -> str:
    """The full text report: totals, versions, worst operations, findings by check and the top findings."""
    t = document["totals"]
    source = input_source(document)
    lines = [
        (
            f"pytest-batch report: {t['interactions']} interactions from {source}: {t['batch']} Batch, "
            f"{t['skipped']} skipped, {t['unusable']} unusable"
        ),
        (
            f"{t['interactions_with_errors']} interactions with errors, {t['interactions_with_warnings']} with warnings "
            f"({t['errors']} errors, {t['warnings']} warnings, {t['allowed']} allowed; {t['distinct_findings']} distinct)"
        ),
    ]
    for skipped in document["skipped"]:
        lines.append(f"  skipped {skipped['count']:>6}  {skipped['reason']}")
    for message in document["unusable"]["messages"]:
        lines.append(f"  unusable: {message}")
    if document["api_versions"]:
        lines.append("coverage:")
        lines.extend(f"  {coverage_line(v)}" for v in document["api_versions"])
    worst = [row for row in document["operations"] if row["calls"]]
    if worst:
        lines.append(f"operations (worst first, {len(worst)} exercised):")
        for row in worst[:limit]:
            lines.append(
                f"  {operation_label(row):<40} {row['api_version']:<16} calls {row['calls']:>6}  "
                f"errors {row['interactions_with_errors']:>5}  warnings {row['interactions_with_warnings']:>5}  "
                f"status {status_summary(row)}"
            )
        if len(worst) > limit:
            lines.append(f"  … and {len(worst) - limit} more")
    if document["by_check"]:
        lines.append("findings by check:")
        for row in document["by_check"]:
            lines.append(f"  {row['severity']:<7} {row['check']:<30} {row['count']:>7}  ({row['distinct']} distinct)")
        findings = document["findings"]
        lines.append(f"distinct findings: {len(findings)} (showing {min(limit, len(findings))}, errors first)")
        lines.extend(f"  {finding_line(f)}" for f in findings[:limit])
    drift = document["drift"]
    if drift["undocumented_properties"] or drift["unknown_enum_values"]:
        lines.append(
            f"drift: {len(drift['undocumented_properties'])} undocumented properties, "
            f"{len(drift['unknown_enum_values'])} unknown enum values"
        )
        for row in drift["undocumented_properties"][:limit]:
            lines.append(
                f"  property {row['name']!r} {operation_label(row)} ({row['api_version']}) at "
                f"{row['location']}{row['instance_pointer']} ({row['count']}x)"
            )
        for row in drift["unknown_enum_values"][:limit]:
            lines.append(
                f"  enum value {row['value']!r} {operation_label(row)} ({row['api_version']}) at "
                f"{row['location']}{row['instance_pointer']} ({row['count']}x)"
            )
    lines.extend(probe_lines(document, limit=limit))
    errors, warnings = t["interactions_with_errors"], t["interactions_with_warnings"]
    verdict = (
        "conformant" if not errors and not warnings else f"{errors} interactions with errors, {warnings} with warnings"
    )
    failing = sum(v["by_verdict"][name] for v in document["probes"]["api_versions"] for name in FAILING)
    if failing:
        verdict += f"; {failing} probed rules lenient, stricter or error"
    lines.append(f"result: {verdict}")
    return "\n".join(lines) + "\n"
