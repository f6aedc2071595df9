"""Spec-conformance reports: one aggregation over checked interactions, rendered as text, JSON, JUnit XML,
Markdown or a self-contained HTML page.

The flow: `observations` turns a `Validator` outcome or a pytest session record into an `Observation`;
`aggregate.ReportBuilder` folds observations (and test records, and `probes` verdicts) one at a time
(memory stays flat) and builds the report document, a plain JSON object whose shape `report.schema.json`
defines (`pytest-batch-report/2`); every renderer reads only that document, so the formats always show the
same numbers, and a saved JSON report can be rendered again, or merged with others, later (`saved`).

This module stays import-light: the pytest plugin imports it at start-up to check `--batch-report` paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

REPORT_FORMAT = "pytest-batch-report/2"
SCHEMA_FILE = "report.schema.json"

# format name -> file extensions that choose it (the first is the one shown in messages)
FORMATS: dict[str, tuple[str, ...]] = {
    "json": (".json",),
    "junit": (".xml",),
    "markdown": (".md", ".markdown"),
    "html": (".html", ".htm"),
    "text": (".txt",),
}
_BY_SUFFIX = {suffix: name for name, suffixes in FORMATS.items() for suffix in suffixes}


def format_for(path: str, explicit: str | None = None) -> str | None:
    """The report format for `path`: `explicit` if given, else from the extension; None when unknown."""
    if explicit:
        return explicit if explicit in FORMATS else None
    return _BY_SUFFIX.get(Path(path).suffix.lower())


def known_extensions() -> str:
    return ", ".join(f"{suffixes[0]} ({name})" for name, suffixes in FORMATS.items())


def check_report_paths(
    paths: Sequence[str], *, option: str = "--batch-report", explicit: str | None = None
) -> str | None:
    """A one-line problem with the requested report paths (unknown extension), or None."""
    for path in paths:
        if path == "-" or format_for(path, explicit) is not None:
            continue
        suffix = Path(path).suffix.lower()
        return f"{option} {path}: unknown report format {suffix or '(no extension)'}; use {known_extensions()}"
    return None


def report_schema() -> dict:
    """The JSON Schema of the report document (`report.schema.json`, shipped in the package)."""
    import json
    from importlib.resources import files

    return json.loads(files(__name__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))
