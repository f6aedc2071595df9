"""The probe's output document (`pytest-batch-probe/1`) and its text rendering.

`pytest-batch report` reads this document too, so the key names are a contract: `format`, `api_version`,
`target` (`emulator`, a URL with no secrets, or `replay:<dir>`), `verdicts` (sorted by rule, operation,
target), each with `rule`, `kind`, `operation_id`, `target`, `verdict`, `detail`, `valid`, `invalid`
and `source_pointer`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .verdict import VERDICTS, Verdict

FORMAT = "pytest-batch-probe/1"


def build_document(verdicts: Iterable[Verdict], *, api_version: str, target: str) -> dict[str, Any]:
    ordered = sorted(verdicts, key=lambda v: v.key)
    return {"format": FORMAT, "api_version": api_version, "target": target, "verdicts": [v.record() for v in ordered]}


def verdicts_of(document: Mapping[str, Any]) -> list[Verdict]:
    return [Verdict.from_record(record) for record in document.get("verdicts") or ()]


def public_url(url: str) -> str:
    """`url` without user info, query or fragment: what a document may show of a target."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def write_document(path: Path, document: Mapping[str, Any]) -> None:
    from ..cassettes import atomic_write

    atomic_write(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def counts(document: Mapping[str, Any]) -> dict[str, int]:
    found = Counter(record["verdict"] for record in document.get("verdicts") or ())
    return {name: found.get(name, 0) for name in VERDICTS}


def text_lines(document: Mapping[str, Any]) -> list[str]:
    """A summary line, then one line per verdict that is not `enforced`."""
    total = counts(document)
    records = document.get("verdicts") or []
    summary = ", ".join(f"{n} {name}" for name, n in total.items() if n)
    head = f"pytest-batch probe: {len(records)} verdict(s) for api-version {document.get('api_version')}"
    lines = [f"{head} against {document.get('target')}: {summary or 'nothing probed'}"]
    for record in records:
        if record["verdict"] != "enforced":
            where = f"{record['operation_id']} {record['target']}"
            lines.append(f"  {record['verdict']:<8} {record['rule']} ({where}): {record['detail']}")
    return lines


def exit_code(verdicts: Iterable[Verdict]) -> int:
    """0 when every verdict is enforced or skipped, 1 otherwise."""
    return 0 if all(v.passed for v in verdicts) else 1
