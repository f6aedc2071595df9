"""Running conformance summary for `pytest-batch check`: counts in, text or JSON out.

It keeps counters and one entry per distinct finding (the de-duplication key
of `Violation`), never the interactions themselves, so memory stays flat no
matter how many interactions stream through.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .errors import RecordingError
from .validation import ERROR, WARNING, Outcome, Violation

SUMMARY_FORMAT = "pytest-batch-check/1"


@dataclass
class _Finding:
    first: Violation
    count: int = 0
    best_count: int = 0  # how often it was the best finding of its interaction


@dataclass
class CheckSummary:
    """Accumulates outcomes and unreadable inputs; renders a summary."""

    files: int = 0
    interactions: int = 0
    batch: int = 0
    skipped: Counter = field(default_factory=Counter)
    unusable: list[str] = field(default_factory=list)
    unusable_count: int = 0
    by_version: Counter = field(default_factory=Counter)
    operations: dict[str, set[str]] = field(default_factory=dict)
    by_check: Counter = field(default_factory=Counter)
    failing: dict[str, int] = field(default_factory=lambda: {ERROR: 0, WARNING: 0})
    findings: dict[tuple, _Finding] = field(default_factory=dict)
    max_unusable_lines: int = 200

    def add(self, outcome: Outcome) -> None:
        self.interactions += 1
        if outcome.skipped is not None:
            self.skipped[outcome.skipped] += 1
            return
        self.batch += 1
        version = outcome.api_version or "?"
        self.by_version[version] += 1
        if outcome.operation_id:
            seen = self.operations.get(version)
            if seen is None:
                seen = self.operations[version] = set()
            seen.add(outcome.operation_id)
        if not outcome.violations:
            return
        severities = {v.severity for v in outcome.violations}
        for severity in severities:
            self.failing[severity] = self.failing.get(severity, 0) + 1
        best = outcome.best
        for violation in outcome.violations:
            self.by_check[(violation.check, violation.severity)] += 1
            key = violation.key
            finding = self.findings.get(key)
            if finding is None:
                finding = self.findings[key] = _Finding(violation)
            finding.count += 1
            if violation is best:
                finding.best_count += 1

    def add_unusable(self, error: RecordingError | Exception) -> None:
        self.unusable_count += 1
        if len(self.unusable) < self.max_unusable_lines:
            self.unusable.append(str(error))

    def exit_code(self, fail_on: str) -> int:
        """2 when some input was unusable, else 1 when findings reach `fail_on`, else 0."""
        if self.unusable_count:
            return 2
        if self.failing.get(ERROR) or (fail_on == WARNING and self.failing.get(WARNING)):
            return 1
        return 0

    # -- renderers -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SUMMARY_FORMAT,
            "files": self.files,
            "interactions": self.interactions,
            "batch_interactions": self.batch,
            "skipped": dict(sorted(self.skipped.items())),
            "unusable": {"count": self.unusable_count, "messages": self.unusable},
            "api_versions": {
                v: {"interactions": n, "operations": len(self.operations.get(v, ()))}
                for v, n in sorted(self.by_version.items())
            },
            "interactions_with": dict(self.failing),
            "by_check": [
                {"check": check, "severity": severity, "count": n}
                for (check, severity), n in sorted(self.by_check.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "findings": [
                {
                    "check": f.first.check,
                    "severity": f.first.severity,
                    "operation_id": f.first.operation_id,
                    "api_version": f.first.api_version,
                    "location": f.first.location,
                    "instance_pointer": f.first.instance_pointer,
                    "schema_pointer": f.first.schema_pointer,
                    "expected": _jsonable(f.first.expected),
                    "actual": _jsonable(f.first.actual),
                    "message": f.first.message,
                    "count": f.count,
                    "first_source": str(f.first.source) if f.first.source else None,
                }
                for f in self._ordered_findings()
            ],
        }

    def render_json(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, default=str) + "\n"

    def render_text(self, *, limit: int = 20) -> str:
        lines = [
            (
                f"pytest-batch check: {self.files} file(s), {self.interactions} interaction(s): "
                f"{self.batch} Batch, {sum(self.skipped.values())} skipped, {self.unusable_count} unusable"
            )
        ]
        for reason, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  skipped {n:>6}  {reason}")
        for message in self.unusable:
            lines.append(f"  unusable: {message}")
        if self.unusable_count > len(self.unusable):
            lines.append(f"  … and {self.unusable_count - len(self.unusable)} more unusable inputs")
        if self.by_version:
            lines.append("api-version          interactions  operations")
            for version, n in sorted(self.by_version.items()):
                lines.append(f"  {version:<18} {n:>12}  {len(self.operations.get(version, ())):>10}")
        if self.by_check:
            lines.append("findings by check:")
            for (check, severity), n in sorted(self.by_check.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"  {severity:<7} {check:<30} {n:>7}")
            ordered = self._ordered_findings()
            lines.append(f"distinct findings: {len(ordered)} (showing {min(limit, len(ordered))}, errors first)")
            for finding in ordered[:limit]:
                lines.append(f"  {finding.count:>6}x {finding.first.describe()}")
        errors, warnings = self.failing.get(ERROR, 0), self.failing.get(WARNING, 0)
        verdict = (
            "conformant"
            if not errors and not warnings
            else f"{errors} interaction(s) with errors, {warnings} with warnings"
        )
        lines.append(f"result: {verdict}")
        return "\n".join(lines) + "\n"

    def _ordered_findings(self) -> list[_Finding]:
        return sorted(self.findings.values(), key=lambda f: (f.first.severity != ERROR, -f.count, f.first.rank()))


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
