"""Read back a JSON report saved by `pytest --batch-report x.json`, so `pytest-batch report x.json -o x.html`
can render it again, or merge several sessions' reports, from the test records it carries."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import RecordingError
from . import REPORT_FORMAT

_PEEK = 512


def read_saved_report(path: str | os.PathLike) -> list[dict[str, Any]] | RecordingError | None:
    """The test records of a saved report; None when `path` is not one (a recording, a folder); an error
    naming the file when it is one that cannot be used."""
    file = Path(path)
    if file.suffix.lower() != ".json" or not file.is_file():
        return None
    try:
        with file.open("rb") as handle:
            head = handle.read(_PEEK)
    except OSError:
        return None
    if REPORT_FORMAT.encode() not in head:
        return None
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return RecordingError(str(file), f"cannot read the saved report: {exc}", hint="write it again")
    tests = document.get("tests") if isinstance(document, dict) else None
    if tests is None:
        return RecordingError(
            str(file),
            "this report was built from recordings and holds no test records to read back",
            hint="run `pytest-batch report` on the recordings themselves",
        )
    if not isinstance(tests, list) or not all(
        isinstance(t, dict) and isinstance(t.get("nodeid"), str) and isinstance(t.get("interactions"), list)
        for t in tests
    ):
        return RecordingError(
            str(file), "the report's `tests` are not pytest-batch test records", hint="write it again"
        )
    return tests
