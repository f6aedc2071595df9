"""Fold observations into the report document (`pytest-batch-report/1`, see `report.schema.json`).

`ReportBuilder.add` takes one `Observation` at a time and keeps counters and one entry per distinct
finding, never the observations, so memory stays flat however much traffic streams through. `document()`
then joins the counts with what the spec documents (operations, status codes, constraint rules) into the
numbers every renderer shows: per api-version and per operation, worst offenders first.

Determinism: the document depends only on the sequence of observations (no clock, no hash order), so the
same traffic gives byte-identical reports; a pytest session sorts its records by node id first, which makes
pytest-xdist runs equal to serial ones.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..errors import BatchContractError
from ..spec import SpecLibrary, version_sort_key
from ..validation import (
    CHECK_ORDER,
    DOCUMENTED_CONSTRAINTS,
    ERROR,
    UNDOCUMENTED_PROPERTY,
    UNKNOWN_ENUM_VALUE,
    WARNING,
    Outcome,
)
from . import REPORT_FORMAT
from .observations import Finding, Observation, from_outcome
from .specfacts import VersionFacts, version_facts

DRIFT_CHECKS = (UNDOCUMENTED_PROPERTY, UNKNOWN_ENUM_VALUE)
_CHECK_RANK = {name: i for i, name in enumerate(CHECK_ORDER)}
NO_RESPONSE = "none"


@dataclass
class _Operation:
    method: str
    path: str
    calls: int = 0
    statuses: Counter = field(default_factory=Counter)
    with_error: int = 0
    with_warning: int = 0
    errors: int = 0
    warnings: int = 0
    allowed: int = 0
    checks: Counter = field(default_factory=Counter)


@dataclass
class _Version:
    interactions: int = 0
    with_error: int = 0
    with_warning: int = 0
    errors: int = 0
    warnings: int = 0


@dataclass
class _Distinct:
    first: Finding
    seq: int
    source: str | None
    test: str | None
    instance_pointer: str
    count: int = 0
    allowed: int = 0


class ReportBuilder:
    """Accumulates observations, unusable inputs and input counts; `document()` builds the report."""

    def __init__(
        self,
        *,
        library: SpecLibrary | None = None,
        overlay: Any = None,
        kind: str = "files",
        max_messages: int = 200,
        max_drift: int = 5000,
    ) -> None:
        self.kind = kind
        self.files = 0
        self.tests: int | None = None
        self.interactions = 0
        self.batch = 0
        self.skipped: Counter = Counter()
        self.unusable: list[str] = []
        self.unusable_count = 0
        self.with_error = 0
        self.with_warning = 0
        self.occurrences = {ERROR: 0, WARNING: 0, "allowed": 0}
        self._library = library
        self._overlay = overlay
        self._max_messages = max_messages
        self._max_drift = max_drift
        self._versions: dict[str, _Version] = {}
        self._operations: dict[tuple[str, str | None], _Operation] = {}
        self._findings: dict[tuple, _Distinct] = {}
        self._drift: dict[tuple, _Distinct] = {}
        self._drift_dropped = 0
        self._facts: dict[str, VersionFacts | None] = {}

    # -- folding ---------------------------------------------------------------------------------------------------

    def add(self, observation: Observation | Outcome) -> None:
        """Fold one checked interaction in (an `Outcome` is converted on the way)."""
        if not isinstance(observation, Observation):
            observation = from_outcome(observation)
        self.interactions += 1
        if observation.skipped is not None:
            self.skipped[observation.skipped] += 1
            return
        self.batch += 1
        version_name = observation.api_version or "?"
        version = self._versions.get(version_name)
        if version is None:
            version = self._versions[version_name] = _Version()
        version.interactions += 1
        key = (version_name, observation.operation_id)
        op = self._operations.get(key)
        if op is None:
            op = self._operations[key] = _Operation(observation.method, observation.path)
        op.calls += 1
        op.statuses[NO_RESPONSE if observation.status is None else str(observation.status)] += 1
        if not observation.findings:
            return
        has_error = has_warning = False
        for finding in observation.findings:
            self._count(finding, observation)
            if finding.allowed:
                self.occurrences["allowed"] += 1
                op.allowed += 1
                continue
            op.checks[finding.check] += 1
            if finding.severity == ERROR:
                has_error = True
                self.occurrences[ERROR] += 1
                op.errors += 1
                version.errors += 1
            else:
                has_warning = True
                self.occurrences[WARNING] += 1
                op.warnings += 1
                version.warnings += 1
        if has_error:
            self.with_error += 1
            op.with_error += 1
            version.with_error += 1
        if has_warning:
            self.with_warning += 1
            op.with_warning += 1
            version.with_warning += 1

    def add_all(self, observations: Iterable[Observation]) -> ReportBuilder:
        for observation in observations:
            self.add(observation)
        return self

    def exit_code(self, fail_on: str) -> int:
        """As `pytest-batch check`: 2 when some input was unusable, else 1 when findings reach `fail_on`, else 0."""
        if self.unusable_count:
            return 2
        return 1 if self.with_error or (fail_on == WARNING and self.with_warning) else 0

    def add_unusable(self, message: str | Exception) -> None:
        self.unusable_count += 1
        if len(self.unusable) < self._max_messages:
            self.unusable.append(str(message))

    def _count(self, finding: Finding, observation: Observation) -> None:
        key = finding.key
        entry = self._findings.get(key)
        if entry is None:
            entry = self._findings[key] = _Distinct(
                finding, len(self._findings), observation.source, observation.test, finding.instance_pointer
            )
        if finding.allowed:
            entry.allowed += 1
        else:
            entry.count += 1
        if finding.check in DRIFT_CHECKS:
            name = _text(finding.actual)
            drift_key = (*key, name)
            drift = self._drift.get(drift_key)
            if drift is None:
                if len(self._drift) >= self._max_drift:
                    self._drift_dropped += 1
                    return
                drift = self._drift[drift_key] = _Distinct(
                    finding, len(self._drift), observation.source, observation.test, finding.instance_pointer
                )
            drift.count += 1

    # -- the document ----------------------------------------------------------------------------------------------

    def document(self, *, tests: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The report (`pytest-batch-report/1`): plain JSON data, deterministic for the same input."""
        operations = self._operation_rows()
        findings = self._finding_rows()
        document: dict[str, Any] = {
            "format": REPORT_FORMAT,
            "generator": f"pytest-batch {__version__}",
            "input": {"kind": self.kind, "files": self.files, "tests": self.tests},
            "totals": {
                "interactions": self.interactions,
                "batch": self.batch,
                "skipped": sum(self.skipped.values()),
                "unusable": self.unusable_count,
                "interactions_with_errors": self.with_error,
                "interactions_with_warnings": self.with_warning,
                "errors": self.occurrences[ERROR],
                "warnings": self.occurrences[WARNING],
                "allowed": self.occurrences["allowed"],
                "distinct_findings": len(findings),
                "api_versions": len(self._versions),
                "operations_exercised": sum(1 for row in operations if row["calls"] and row["operation_id"]),
            },
            "skipped": [
                {"reason": reason, "count": n}
                for reason, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "unusable": {"count": self.unusable_count, "messages": list(self.unusable)},
            "api_versions": self._version_rows(operations, findings),
            "operations": operations,
            "by_check": _by_check(findings),
            "by_spec_pointer": _by_pointer(findings),
            "findings": findings,
            "drift": self._drift_section(),
        }
        if tests is not None:
            document["tests"] = tests
        return document

    def facts(self, api_version: str) -> VersionFacts | None:
        """The spec facts of a version, or None when no bundle is known for it (coverage is then unknown)."""
        if api_version in self._facts:
            return self._facts[api_version]
        facts = None
        try:
            library = self._library if self._library is not None else SpecLibrary()
            self._library = library
            if api_version in library.versions:
                facts = version_facts(library.get(api_version), self._load_overlay())
        except BatchContractError:
            facts = None
        self._facts[api_version] = facts
        return facts

    def _load_overlay(self) -> Any:
        if self._overlay is None:
            from ..constraints import load_overlay

            try:
                self._overlay = load_overlay()
            except BatchContractError:
                self._overlay = False
        return self._overlay or None

    def _operation_rows(self) -> list[dict[str, Any]]:
        rows = []
        keys = set(self._operations)
        for version in self._versions:
            facts = self.facts(version)
            if facts is not None:
                keys.update((version, op_id) for op_id in facts.operations)
        for version, op_id in keys:
            facts = self.facts(version)
            known = facts.operations.get(op_id) if facts is not None and op_id is not None else None
            stats = self._operations.get((version, op_id))
            if stats is None:
                stats = _Operation(known.method if known else "?", known.path if known else "")
            documented = list(known.statuses) if known else []
            seen = {code: stats.statuses[code] for code in sorted(stats.statuses, key=_status_order)}
            covered = [code for code in documented if code in stats.statuses]
            rows.append(
                {
                    "api_version": version,
                    "operation_id": op_id,
                    "method": known.method if known else (stats.method if op_id is not None else None),
                    "path": known.path if known else None,
                    "calls": stats.calls,
                    "status_codes": {
                        "seen": seen,
                        "documented": documented,
                        "undocumented_seen": [code for code in seen if code not in documented],
                        "coverage": _ratio(len(covered), len(documented)) if known else None,
                    },
                    "interactions_with_errors": stats.with_error,
                    "interactions_with_warnings": stats.with_warning,
                    "errors": stats.errors,
                    "warnings": stats.warnings,
                    "allowed": stats.allowed,
                    "by_check": dict(sorted(stats.checks.items(), key=lambda kv: (-kv[1], kv[0]))),
                    "constraints_in_reach": len(known.constraints)
                    if known is not None and known.constraints is not None
                    else None,
                }
            )
        rows.sort(key=_worst_first)
        return rows

    def _version_rows(self, operations: list[dict[str, Any]], findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for name in sorted(self._versions, key=version_sort_key):
            stats = self._versions[name]
            facts = self.facts(name)
            mine = [row for row in operations if row["api_version"] == name]
            exercised = [row for row in mine if row["calls"] and row["operation_id"]]
            constraints = None
            if facts is not None and facts.constraint_rules is not None:
                reach: set[str] = set()
                for row in exercised:
                    op = facts.operations.get(row["operation_id"])
                    if op is not None and op.constraints:
                        reach.update(op.constraints)
                broken = {
                    f["rule"] or f["schema_pointer"]
                    for f in findings
                    if f["api_version"] == name and f["check"] == DOCUMENTED_CONSTRAINTS and f["count"]
                }
                constraints = {
                    "rules": facts.constraint_rules,
                    "in_reach": len(reach),
                    "coverage": _ratio(len(reach), facts.constraint_rules),
                    "broken": len(broken),
                }
            documented_statuses = sum(len(row["status_codes"]["documented"]) for row in mine)
            seen_statuses = sum(
                sum(1 for code in row["status_codes"]["documented"] if code in row["status_codes"]["seen"])
                for row in mine
            )
            rows.append(
                {
                    "api_version": name,
                    "known": facts is not None,
                    "interactions": stats.interactions,
                    "interactions_with_errors": stats.with_error,
                    "interactions_with_warnings": stats.with_warning,
                    "errors": stats.errors,
                    "warnings": stats.warnings,
                    "unmatched_interactions": sum(row["calls"] for row in mine if row["operation_id"] is None),
                    "operations": {
                        "documented": len(facts.operations) if facts else None,
                        "exercised": len(exercised),
                        "coverage": _ratio(len(exercised), len(facts.operations)) if facts else None,
                    },
                    "status_codes": {
                        "documented": documented_statuses if facts else None,
                        "seen": seen_statuses,
                        "coverage": _ratio(seen_statuses, documented_statuses) if facts else None,
                    },
                    "constraints": constraints,
                }
            )
        return rows

    def _finding_rows(self) -> list[dict[str, Any]]:
        ordered = sorted(self._findings.values(), key=_finding_order)
        return [
            {
                "id": f"F{i}",
                "check": e.first.check,
                "severity": e.first.severity,
                "operation_id": e.first.operation_id,
                "api_version": e.first.api_version,
                "location": e.first.location,
                "instance_pointer": e.instance_pointer,
                "schema_pointer": e.first.schema_pointer,
                "rule": e.first.rule,
                "expected": _plain(e.first.expected),
                "actual": _plain(e.first.actual),
                "message": e.first.message,
                "count": e.count,
                "allowed": e.allowed,
                "first_source": e.source,
                "first_test": e.test,
            }
            for i, e in enumerate(ordered, 1)
        ]

    def _drift_section(self) -> dict[str, Any]:
        properties, values = [], []
        for e in sorted(self._drift.values(), key=lambda e: (-e.count, e.seq)):
            row = {
                "api_version": e.first.api_version,
                "operation_id": e.first.operation_id,
                "location": e.first.location,
                "instance_pointer": e.instance_pointer,
                "schema_pointer": e.first.schema_pointer,
                "count": e.count,
                "first_source": e.source,
            }
            if e.first.check == UNDOCUMENTED_PROPERTY:
                properties.append({"name": _text(e.first.actual), **row})
            else:
                values.append({"value": _text(e.first.actual), "expected": _plain(e.first.expected), **row})
        return {"undocumented_properties": properties, "unknown_enum_values": values, "dropped": self._drift_dropped}


def _by_check(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for f in findings:
        row = grouped.setdefault(
            (f["check"], f["severity"]),
            {"check": f["check"], "severity": f["severity"], "count": 0, "distinct": 0, "allowed": 0},
        )
        row["count"] += f["count"]
        row["allowed"] += f["allowed"]
        row["distinct"] += 1
    return sorted(
        grouped.values(),
        key=lambda r: (r["severity"] != ERROR, -r["count"], _CHECK_RANK.get(r["check"], 99), r["check"]),
    )


def _by_pointer(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple, dict[str, Any]] = {}
    for f in findings:  # findings come ordered; the first of a group is not necessarily the first seen
        key = (f["api_version"], f["schema_pointer"])
        row = grouped.get(key)
        if row is None:
            row = grouped[key] = {
                "api_version": f["api_version"],
                "schema_pointer": f["schema_pointer"],
                "count": 0,
                "distinct": 0,
                "checks": [],
                "operations": [],
                "first_source": None,
                "_seq": None,
            }
        row["count"] += f["count"]
        row["distinct"] += 1
        if f["check"] not in row["checks"]:
            row["checks"].append(f["check"])
        if f["operation_id"] and f["operation_id"] not in row["operations"]:
            row["operations"].append(f["operation_id"])
        seq = int(f["id"][1:])
        if row["_seq"] is None or seq < row["_seq"]:
            row["_seq"], row["first_source"] = seq, f["first_source"]
    rows = sorted(grouped.values(), key=lambda r: (-r["count"], r["api_version"] or "", r["schema_pointer"]))
    for row in rows:
        del row["_seq"]
        row["checks"].sort()
        row["operations"].sort()
    return rows


def _worst_first(row: Mapping[str, Any]) -> tuple:
    return (
        -row["interactions_with_errors"],
        -row["interactions_with_warnings"],
        -row["errors"],
        -row["warnings"],
        -row["calls"],
        version_sort_key(row["api_version"]),
        row["operation_id"] or "",
    )


def _finding_order(e: _Distinct) -> tuple:
    f = e.first
    return (
        f.severity != ERROR,
        e.count == 0,
        -e.count,
        _CHECK_RANK.get(f.check, 99),
        f.api_version or "",
        f.operation_id or "",
        f.location,
        f.schema_pointer,
    )


def _status_order(code: str) -> tuple[int, str]:
    return (0, code.zfill(3)) if code.isdigit() else (1, code)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _text(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value) if not isinstance(value, (int, float)) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(value: Any) -> Any:
    """A JSON-ready copy: containers recursed, anything JSON lacks turned into its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return repr(value)
