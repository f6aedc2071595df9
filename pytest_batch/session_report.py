"""The session collection's outputs: the terminal summary line and `--batch-report` files.

Input is the list of per-test report records (`contract.report_record`), plain JSON data that may have
come from pytest-xdist workers. Only JSON is written for now; the rendered reports build on this file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .cassettes import atomic_write

SESSION_FORMAT = "pytest-batch-session/1"
REPORT_FORMATS = (".json",)


def check_report_paths(paths: Sequence[str]) -> str | None:
    """A one-line problem with the requested report paths, or None."""
    for path in paths:
        suffix = Path(path).suffix.lower()
        if suffix not in REPORT_FORMATS:
            return f"--batch-report {path}: unknown report format {suffix or '(no extension)'}; use {', '.join(REPORT_FORMATS)}"
    return None


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


def session_document(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(records, key=lambda r: r["nodeid"])  # xdist delivers in any order; reports must not vary
    return {"format": SESSION_FORMAT, "totals": totals(ordered), "tests": ordered}


def write_reports(paths: Sequence[str], records: Sequence[dict[str, Any]], root: Path) -> None:
    if not paths:
        return
    text = json.dumps(session_document(records), indent=1, sort_keys=True) + "\n"
    for path in paths:
        target = Path(path)
        atomic_write(target if target.is_absolute() else root / target, text)
