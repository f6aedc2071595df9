"""Small text helpers every renderer shares, so a number or a finding reads the same in each format."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import RecordingError

_PEEK = 512  # a document's `format` comes first: its head tells a saved report or a probe document apart

UNMATCHED = "(no documented operation)"


def input_source(document: Mapping[str, Any]) -> str:
    """What the report was built from: `12 tests` for a pytest session, else `3 files`."""
    tests = document["input"]["tests"]
    return f"{tests} tests" if tests is not None else f"{document['input']['files']} files"


def percent(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio * 100:.1f}%"


def fraction(part: int | None, whole: int | None, ratio: float | None) -> str:
    """`3/72 (4.2%)`, or the part alone when the whole is unknown."""
    if whole is None:
        return f"{part}" if part is not None else "n/a"
    return f"{part}/{whole} ({percent(ratio)})"


def operation_label(row: Mapping[str, Any]) -> str:
    return row.get("operation_id") or UNMATCHED


def where(finding: Mapping[str, Any]) -> str:
    """`response.body/priority`: the part of the message and the pointer inside it."""
    return f"{finding['location']}{finding['instance_pointer'] or ''}"


def finding_line(finding: Mapping[str, Any], *, message_limit: int | None = None) -> str:
    """One line: count, severity, check, operation, place, message, rule, first source."""
    op = finding["operation_id"] or UNMATCHED
    allowed = f" (+{finding['allowed']} allowed)" if finding["allowed"] else ""
    first = f" first {finding['first_source']}" if finding["first_source"] else ""
    return (
        f"{finding['count']:>6}x{allowed} {finding['severity']} {finding['check']} {op} ({finding['api_version']}) "
        f"at {where(finding)}: {one_line(finding['message'], message_limit)} [spec {finding['schema_pointer'] or '-'}]{first}"
    )


def one_line(text: Any, limit: int | None = None) -> str:
    """Text on one line (control characters as spaces), cut to `limit` characters with an ellipsis."""
    value = text if isinstance(text, str) else str(text)
    value = "".join(" " if ch < " " or ch == "\x7f" else ch for ch in value)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return value


def status_summary(row: Mapping[str, Any]) -> str:
    """`200×3, 404×1` for the status codes seen."""
    return ", ".join(f"{code}×{n}" for code, n in row["status_codes"]["seen"].items()) or "-"


def verdict_counts(row: Mapping[str, Any]) -> str:
    """`12 enforced, 1 lenient`: a version's probe rows by verdict, worst first, zeros left out."""
    counts = row["by_verdict"]
    return ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n) or "none"


def probe_line(row: Mapping[str, Any], *, detail_limit: int | None = None) -> str:
    """One probed rule on one line: verdict, rule, operation and target, detail, spec pointer."""
    target = f" {row['target']}" if row["target"] else ""
    times = (
        f" ({row['probes']} probes: {verdict_counts({'by_verdict': row['by_verdict']})})" if row["probes"] > 1 else ""
    )
    return (
        f"{row['verdict']} {row['rule']} {row['operation_id'] or '-'}{target} ({row['api_version']}): "
        f"{one_line(row['detail'] or '-', detail_limit)} [spec {row['source_pointer'] or '-'}]{times}"
    )


def not_enforced(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The probe rows worth a look (every verdict but enforced), worst first as the document orders them."""
    return [row for row in document["probes"]["rules"] if row["verdict"] != "enforced"]


def marked_format(path: str | os.PathLike, marks: tuple[bytes, ...]) -> bytes | None:
    """The one of `marks` (a format's quoted name prefix) the head of the `.json` file at `path` holds; None
    for anything else (a recording, a folder, an unreadable file). One small read per file."""
    file = Path(path)
    if file.suffix.lower() != ".json" or not file.is_file():
        return None
    try:
        with file.open("rb") as handle:
            head = handle.read(_PEEK)
    except OSError:
        return None
    return next((mark for mark in marks if mark in head), None)


def read_marked_json(path: str | os.PathLike, mark: bytes, what: str, hint: str) -> Any:
    """The JSON document at `path` when its head holds `mark` (its format's name); None when `path` is not
    such a `.json` file (a recording, another document, a folder); a `RecordingError` naming the file when it
    is one but cannot be read."""
    if marked_format(path, (mark,)) is None:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return RecordingError(str(path), f"cannot read the {what}: {exc}", hint=hint)
