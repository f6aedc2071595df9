"""The pytest session's reports: the terminal summary and the `--batch-report` files.

Glue over `pytest_batch.reports`: each test's record (`contract.report_record`, plain JSON data that may
have come from a pytest-xdist worker) is folded into a `ReportBuilder` as the test ends and then dropped;
the builder keeps counts, distinct findings, probe rows and a small summary per test. So memory does not
grow with the traffic, and the document is the same whatever order the tests finished in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .reports import check_report_paths as _check_paths


def check_report_paths(paths: Sequence[str]) -> str | None:
    """A one-line problem with the requested report paths, or None."""
    return _check_paths(paths, option="--batch-report")


def session_builder(library: Any = None) -> Any:
    """An empty fold for a session's records (`add_record(record)` as each test ends)."""
    from .reports.aggregate import ReportBuilder

    return ReportBuilder(library=library, kind="pytest")


def fold(source: Any, *, library: Any = None) -> Any:
    """`source` as a folded session: a builder is returned as it is, records are folded into a new one."""
    if hasattr(source, "add_record"):
        return source
    builder = session_builder(library)
    for record in source:
        builder.add_record(record)
    return builder


def totals(source: Any) -> dict[str, int]:
    """Tests, interactions, Batch interactions, skipped, and findings by severity (allowed ones apart), from
    the folded session (a `ReportBuilder`; records are folded first)."""
    builder = fold(source)
    return {
        "tests": builder.tests or 0,
        "interactions": builder.interactions,
        "batch": builder.batch,
        "skipped": sum(builder.skipped.values()),
        "error": builder.occurrences["error"],
        "warning": builder.occurrences["warning"],
        "allowed": builder.occurrences["allowed"],
    }


def summary_line(source: Any) -> str:
    t = totals(source)
    allowed = f", {t['allowed']} allowed" if t["allowed"] else ""
    return (
        f"{_count(t['batch'], 'Batch interaction')} checked in {_count(t['tests'], 'test')} "
        f"({_count(t['skipped'], 'other call')} skipped): {_count(t['error'], 'error')}, "
        f"{_count(t['warning'], 'warning')}{allowed}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def session_document(source: Any, *, library: Any = None) -> dict[str, Any]:
    """The session's report document (`pytest-batch-report/2`) from its fold, or from records."""
    return fold(source, library=library).document()


def terminal_lines(source: Any, document: dict[str, Any] | None = None) -> list[str]:
    """The lines under the `pytest-batch` rule at the end of a run: the summary line, then coverage per
    api-version, the worst operations, the top findings and the probe verdicts."""
    from .reports.text import terminal_lines as details

    builder = fold(source)
    if document is None:
        document = builder.document()
    return [summary_line(builder), *details(document)]


def write_reports(
    paths: Sequence[str], source: Any, root: Path, document: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Write the session's reports (format from each extension); returns the document it built, if any."""
    if not paths:
        return document
    from .reports.write import write_reports as write

    if document is None:
        document = session_document(source)
    write(paths, document, root=root)
    return document
