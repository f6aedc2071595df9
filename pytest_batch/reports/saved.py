"""Read back a JSON report saved by `pytest --batch-report x.json` (or `pytest-batch report -o x.json`), so
`pytest-batch report x.json -o x.html` can render it again, or merge several reports into one.

A `pytest-batch-report/2` document is itself the aggregate (sums, distinct findings, per-test summaries,
probe rows), checked against the schema and merged into the builder (`ReportBuilder.add_document`). A
`/1` session report still carries every test's full record: those records are folded again; a `/1`
report built from recordings is merged like a `/2` one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RecordingError
from . import REPORT_FORMAT, report_schema
from .common import read_marked_json

LEGACY_FORMAT = "pytest-batch-report/1"
MARK = b'"pytest-batch-report/'


@dataclass(frozen=True)
class SavedReport:
    path: str
    document: dict[str, Any] | None = None  # an aggregate to merge
    records: list[dict[str, Any]] | None = None  # a `/1` session's test records, to fold again

    def merge_into(self, builder: Any) -> None:
        if self.records is not None:
            for record in sorted(self.records, key=lambda r: r["nodeid"]):
                builder.add_record(record)
        else:
            builder.add_document(self.document)

    @property
    def has_tests(self) -> bool:
        return self.records is not None or (self.document is not None and "tests" in self.document)


def read_saved_report(path: str | os.PathLike) -> SavedReport | RecordingError | None:
    """The saved report at `path`; None when `path` is not one (a recording, a probe document, a folder);
    an error naming the file when it is one that cannot be used."""
    document = read_marked_json(path, MARK, "saved report", "write it again")
    if document is None or isinstance(document, RecordingError):
        return document
    file = Path(path)
    fmt = document.get("format") if isinstance(document, dict) else None
    if fmt == LEGACY_FORMAT:
        return _legacy(file, document)
    if fmt != REPORT_FORMAT:
        return RecordingError(
            str(file), f"report format {fmt!r} is not {REPORT_FORMAT!r}", hint="write it again with this pytest-batch"
        )
    problem = schema_problem(document)
    if problem:
        return RecordingError(str(file), f"not a valid {REPORT_FORMAT} report: {problem}", hint="write it again")
    return SavedReport(str(file), document=document)


def schema_problem(document: Any) -> str | None:
    """The first place where `document` breaks `report.schema.json`, on one line; None when it conforms."""
    import jsonschema_rs

    validator = jsonschema_rs.validator_for(report_schema())
    for error in validator.iter_errors(document):
        where = "/" + "/".join(str(p) for p in error.instance_path)
        message = " ".join(error.message.split())
        return f"at {where}: {message[:200]}"
    return None


def _legacy(file: Path, document: dict[str, Any]) -> SavedReport | RecordingError:
    tests = document.get("tests")
    if tests is not None:
        if not isinstance(tests, list) or not all(
            isinstance(t, dict) and isinstance(t.get("nodeid"), str) and isinstance(t.get("interactions"), list)
            for t in tests
        ):
            return RecordingError(
                str(file), "the report's `tests` are not pytest-batch test records", hint="write it again"
            )
        return SavedReport(str(file), records=tests)
    upgraded = {**document, "format": REPORT_FORMAT, "probes": {"verdicts": 0, "api_versions": [], "rules": []}}
    if isinstance(document.get("input"), dict):
        upgraded["input"] = {**document["input"], "probe_documents": 0}
    problem = schema_problem(upgraded)
    if problem:
        return RecordingError(str(file), f"not a valid {LEGACY_FORMAT} report: {problem}", hint="write it again")
    return SavedReport(str(file), document=upgraded)
