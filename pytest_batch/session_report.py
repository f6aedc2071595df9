"""The pytest session's reports: the terminal summary and the `--batch-report` files.

Glue over `pytest_batch.reports`: the per-test records (`contract.report_record`, plain JSON data that may
have come from pytest-xdist workers) are sorted by node id, turned into observations and folded into one
report document, which carries the records too (`tests`) so that a saved JSON report can be rendered again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .reports import check_report_paths as _check_paths


def check_report_paths(paths: Sequence[str]) -> str | None:
    """A one-line problem with the requested report paths, or None."""
    return _check_paths(paths, option="--batch-report")


def totals(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Tests, interactions, Batch interactions, skipped, and findings by severity (allowed ones apart)."""
    out = {"tests": len(records), "interactions": 0, "batch": 0, "skipped": 0, "error": 0, "warning": 0, "allowed": 0}
    for record in records:
        for interaction in record["interactions"]:
            out["interactions"] += 1
            if interaction["skipped"] is not None:
                out["skipped"] += 1
                continue
            out["batch"] += 1
            for violation in interaction["violations"]:
                key = "allowed" if violation["allowed"] else violation["severity"]
                out[key] = out.get(key, 0) + 1
    return out


def summary_line(records: Sequence[dict[str, Any]]) -> str:
    t = totals(records)
    allowed = f", {t['allowed']} allowed" if t["allowed"] else ""
    return (
        f"{_count(t['batch'], 'Batch interaction')} checked in {_count(t['tests'], 'test')} "
        f"({_count(t['skipped'], 'other call')} skipped): {_count(t['error'], 'error')}, "
        f"{_count(t['warning'], 'warning')}{allowed}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def session_document(records: Sequence[dict[str, Any]], *, library: Any = None) -> dict[str, Any]:
    """The session's report document (`pytest-batch-report/1`), records included, in node-id order
    (xdist delivers them in any order; reports must not vary)."""
    from .reports.aggregate import ReportBuilder
    from .reports.observations import from_record

    ordered = sorted(records, key=lambda r: r["nodeid"])
    builder = ReportBuilder(library=library, kind="pytest")
    builder.tests = len(ordered)
    for record in ordered:
        builder.add_all(from_record(record))
    return builder.document(tests=ordered)


def terminal_lines(records: Sequence[dict[str, Any]], document: dict[str, Any] | None = None) -> list[str]:
    """The lines under the `pytest-batch` rule at the end of a run: the summary line, then coverage per
    api-version, the worst operations and the top findings."""
    from .reports.text import terminal_lines as details

    if document is None:
        document = session_document(records)
    return [summary_line(records), *details(document)]


def write_reports(
    paths: Sequence[str], records: Sequence[dict[str, Any]], root: Path, document: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Write the session's reports (format from each extension); returns the document it built, if any."""
    if not paths:
        return document
    from .reports.write import write_reports as write

    if document is None:
        document = session_document(records)
    write(paths, document, root=root)
    return document
