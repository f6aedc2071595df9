"""Fold observations into the report document (`pytest-batch-report/2`, see `report.schema.json`).

`ReportBuilder.add` takes one `Observation` at a time and keeps counters and one entry per distinct
finding, never the observations, so memory stays flat however much traffic streams through. A pytest
session feeds it whole test records (`add_record`), one at a time as each test ends, and the builder keeps
a small summary per test; probe verdicts come in through `add_verdicts`; a saved report merges in through
`add_document`. `document()` then joins the counts with what the spec documents (operations, status codes,
constraint rules) into the numbers every renderer shows: per api-version and per operation, worst first.

Determinism: the document does not depend on the order things arrive in (pytest-xdist delivers tests in
any order). Counts are sums; each distinct finding shows its *first* occurrence, the smallest by (test node
id, file, index, instance pointer, message) rather than the earliest seen; rows are sorted on their content.
One exception: past `max_drift` distinct drift entries, which ones are dropped depends on arrival order.
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
from .observations import Finding, Observation, from_outcome, from_record
from .probes import ProbeDocument, ProbeFold, ProbeVerdict, UnusableProbe, parse_verdict
from .specfacts import VersionFacts, version_facts

DRIFT_CHECKS = (UNDOCUMENTED_PROPERTY, UNKNOWN_ENUM_VALUE)
_CHECK_RANK = {name: i for i, name in enumerate(CHECK_ORDER)}
NO_RESPONSE = "none"
_TEST_COUNTS = (
    "interactions", "batch", "skipped", "interactions_with_errors", "interactions_with_warnings",
    "errors", "warnings", "allowed",
)  # fmt: skip
# positions in a test's `counts`, in `_TEST_COUNTS` order
_INTERACTIONS, _BATCH, _SKIPPED, _WITH_ERRORS, _WITH_WARNINGS, _ERRORS, _WARNINGS, _ALLOWED = range(len(_TEST_COUNTS))


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
    """One distinct finding (or drift entry): its smallest occurrence so far and how often it occurred."""

    key: tuple
    first: Finding
    rank: tuple
    source: str | None
    test: str | None
    count: int = 0
    allowed: int = 0

    def offer(self, finding: Finding, rank: tuple, source: str | None, test: str | None) -> None:
        if rank < self.rank:
            self.first, self.rank, self.source, self.test = finding, rank, source, test


@dataclass(slots=True)
class _Test:
    """What the report keeps of one pytest test: counts, and the distinct findings it hit (by key)."""

    nodeid: str
    cassette: str | None
    mode: str | None
    counts: list[int] = field(default_factory=lambda: [0] * len(_TEST_COUNTS))
    findings: Counter | None = None
    probes: Counter | None = None


class ReportBuilder:
    """Accumulates observations, test records, probe verdicts, unusable inputs and input counts;
    `document()` builds the report."""

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
        self.probe_documents = 0
        self.interactions = 0
        self.batch = 0
        self.skipped: Counter = Counter()
        self.unusable: list[str] = []
        self.unusable_count = 0
        self.with_error = 0
        self.with_warning = 0
        self.occurrences = {ERROR: 0, WARNING: 0, "allowed": 0}
        self.probes = ProbeFold()
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
        self._tests: list[_Test] | None = [] if kind == "pytest" else None  # a session counts its tests

    @property
    def tests(self) -> int | None:
        """pytest tests folded in (None when the input had no test records)."""
        return None if self._tests is None else len(self._tests)

    # -- folding ---------------------------------------------------------------------------------------------------

    def add(self, observation: Observation | Outcome, test: _Test | None = None) -> None:
        """Fold one checked interaction in (an `Outcome` is converted on the way)."""
        if not isinstance(observation, Observation):
            observation = from_outcome(observation)
        self.interactions += 1
        counts = test.counts if test is not None else [0] * len(_TEST_COUNTS)  # or tallies nobody keeps
        counts[_INTERACTIONS] += 1
        if observation.skipped is not None:
            self.skipped[observation.skipped] += 1
            counts[_SKIPPED] += 1
            return
        self.batch += 1
        counts[_BATCH] += 1
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
        origin = _origin(observation.test, observation.source)
        has_error = has_warning = False
        for finding in observation.findings:
            entry = self._count(finding, observation, origin)
            if test is not None:
                if test.findings is None:
                    test.findings = Counter()
                test.findings[entry.key] += 1
            if finding.allowed:
                self.occurrences["allowed"] += 1
                op.allowed += 1
                counts[_ALLOWED] += 1
                continue
            op.checks[finding.check] += 1
            if finding.severity == ERROR:
                has_error = True
                self.occurrences[ERROR] += 1
                op.errors += 1
                version.errors += 1
                counts[_ERRORS] += 1
            else:
                has_warning = True
                self.occurrences[WARNING] += 1
                op.warnings += 1
                version.warnings += 1
                counts[_WARNINGS] += 1
        if has_error:
            self.with_error += 1
            op.with_error += 1
            version.with_error += 1
            counts[_WITH_ERRORS] += 1
        if has_warning:
            self.with_warning += 1
            op.with_warning += 1
            version.with_warning += 1
            counts[_WITH_WARNINGS] += 1

    def add_all(self, observations: Iterable[Observation]) -> ReportBuilder:
        for observation in observations:
            self.add(observation)
        return self

    def add_record(self, record: Mapping[str, Any]) -> None:
        """Fold one pytest test record (`contract.report_record`, maybe with `"probe"` verdicts) and keep
        only its summary: the record itself can be dropped as soon as this returns."""
        nodeid = record.get("nodeid")
        test = _Test(
            str(nodeid) if nodeid is not None else "?",
            _str_or_none(record.get("cassette")),
            _str_or_none(record.get("mode")),
        )
        if self._tests is None:
            self._tests = []
        self._tests.append(test)
        for observation in from_record(record):
            self.add(observation, test)
        probe = record.get("probe")
        if probe:
            if isinstance(probe, list):
                self.add_verdicts(probe, api_version=None, source=test.nodeid, test=test)
            else:
                self.add_unusable(f"{test.nodeid}: `probe` must be a list of verdicts, not {type(probe).__name__}")

    def add_verdicts(
        self,
        verdicts: Iterable[Mapping[str, Any] | ProbeVerdict],
        *,
        api_version: str | None,
        source: str | None = None,
        service: str | None = None,
        test: _Test | None = None,
    ) -> None:
        """Fold constraint-probe verdicts (the prober's dicts, or `ProbeVerdict`s) probed in `api_version`
        (a dict's own `api_version` wins); a malformed one is an unusable input, named with `source`."""
        for i, item in enumerate(verdicts):
            if isinstance(item, ProbeVerdict):
                verdict = item
            else:
                try:
                    verdict = parse_verdict(item, api_version)
                except UnusableProbe as exc:
                    self.add_unusable(f"{source or 'probe'}: verdict #{i}: {exc}")
                    continue
            self.probes.add(verdict, source=source, service=service)
            if test is not None:
                if test.probes is None:
                    test.probes = Counter()
                test.probes[verdict.verdict] += 1

    def add_probe_document(self, document: ProbeDocument) -> None:
        """Fold a `pytest-batch probe` output document (see `probes.read_probe_document`)."""
        self.probe_documents += 1
        self.probes.add_all(document.verdicts, source=document.path, service=document.service)

    def exit_code(self, fail_on: str) -> int:
        """As `pytest-batch check`: 2 when some input was unusable, else 1 when findings reach `fail_on` or a
        probe verdict is lenient, stricter or error, else 0."""
        if self.unusable_count:
            return 2
        failed = self.with_error or (fail_on == WARNING and self.with_warning) or self.probes.failing
        return 1 if failed else 0

    def add_unusable(self, message: str | Exception) -> None:
        self.unusable_count += 1
        if len(self.unusable) < self._max_messages:
            self.unusable.append(str(message))

    def _count(self, finding: Finding, observation: Observation, origin: tuple) -> _Distinct:
        key = finding.key
        rank = (*origin, finding.instance_pointer, finding.message)
        entry = self._findings.get(key)
        if entry is None:
            entry = self._findings[key] = _Distinct(key, finding, rank, observation.source, observation.test)
        else:
            entry.offer(finding, rank, observation.source, observation.test)
        if finding.allowed:
            entry.allowed += 1
        else:
            entry.count += 1
        if finding.check in DRIFT_CHECKS:
            drift_key = (*key, _text(finding.actual))
            drift = self._drift.get(drift_key)
            if drift is None:
                if len(self._drift) >= self._max_drift:
                    self._drift_dropped += 1
                    return entry
                drift = self._drift[drift_key] = _Distinct(
                    drift_key, finding, rank, observation.source, observation.test
                )
            else:
                drift.offer(finding, rank, observation.source, observation.test)
            drift.count += 1
        return entry

    # -- merging a saved report -------------------------------------------------------------------------------------

    def add_document(self, document: Mapping[str, Any]) -> None:
        """Merge a saved report (`pytest-batch-report/2`, or a `/1` one built from recordings), already
        checked against the schema: its sums are added, its distinct findings merged by key, its tests kept."""
        source_input = document["input"]
        self.files += source_input["files"]
        self.probe_documents += source_input.get("probe_documents", 0)
        totals = document["totals"]
        self.interactions += totals["interactions"]
        self.batch += totals["batch"]
        self.with_error += totals["interactions_with_errors"]
        self.with_warning += totals["interactions_with_warnings"]
        self.occurrences[ERROR] += totals["errors"]
        self.occurrences[WARNING] += totals["warnings"]
        self.occurrences["allowed"] += totals["allowed"]
        for row in document["skipped"]:
            self.skipped[row["reason"]] += row["count"]
        unusable = document["unusable"]
        self.unusable_count += unusable["count"]
        self.unusable.extend(unusable["messages"][: max(0, self._max_messages - len(self.unusable))])
        for row in document["api_versions"]:
            version = self._versions.setdefault(row["api_version"], _Version())
            version.interactions += row["interactions"]
            version.with_error += row["interactions_with_errors"]
            version.with_warning += row["interactions_with_warnings"]
            version.errors += row["errors"]
            version.warnings += row["warnings"]
        for row in document["operations"]:
            if not row["calls"]:
                continue
            op = self._operations.get((row["api_version"], row["operation_id"]))
            if op is None:
                op = self._operations[(row["api_version"], row["operation_id"])] = _Operation(
                    row["method"] or "?", row["path"] or ""
                )
            op.calls += row["calls"]
            op.statuses.update(row["status_codes"]["seen"])
            op.with_error += row["interactions_with_errors"]
            op.with_warning += row["interactions_with_warnings"]
            op.errors += row["errors"]
            op.warnings += row["warnings"]
            op.allowed += row["allowed"]
            op.checks.update(row["by_check"])
        keys = {}
        for row in document["findings"]:
            finding = _saved_finding(row, row["check"], row["actual"], row["expected"])
            keys[row["id"]] = self._merge_saved(self._findings, finding.key, finding, row, row["count"], row["allowed"])
        drift = document["drift"]
        for check, rows, name in (
            (UNDOCUMENTED_PROPERTY, drift["undocumented_properties"], "name"),
            (UNKNOWN_ENUM_VALUE, drift["unknown_enum_values"], "value"),
        ):
            for row in rows:
                finding = _saved_finding(row, check, row[name], row.get("expected"))
                drift_key = (*finding.key, row[name])
                if drift_key not in self._drift and len(self._drift) >= self._max_drift:
                    self._drift_dropped += 1
                    continue
                self._merge_saved(self._drift, drift_key, finding, row, row["count"], 0)
        self._drift_dropped += drift["dropped"]
        for row in (document.get("probes") or {}).get("rules", ()):
            self.probes.add_row(row)
        tests = document.get("tests")
        if tests is not None:
            if self._tests is None:
                self._tests = []
            for row in tests:
                test = _Test(row["nodeid"], row.get("cassette"), row.get("mode"), [row[k] for k in _TEST_COUNTS])
                found = Counter({keys[i]: n for i, n in row.get("findings", {}).items() if i in keys})
                test.findings = found or None
                test.probes = Counter(row.get("probes", {})) or None
                self._tests.append(test)

    @staticmethod
    def _merge_saved(
        entries: dict, key: tuple, finding: Finding, row: Mapping[str, Any], count: int, allowed: int
    ) -> tuple:
        source, test = row.get("first_source"), row.get("first_test")
        rank = (*_origin(test, source), finding.instance_pointer, finding.message)
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _Distinct(key, finding, rank, source, test)
        else:
            entry.offer(finding, rank, source, test)
        entry.count += count
        entry.allowed += allowed
        return entry.key

    # -- the document ----------------------------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The report (`pytest-batch-report/2`): plain JSON data, the same whatever order the input came in."""
        operations = self._operation_rows()
        findings, ids = self._finding_rows()
        document: dict[str, Any] = {
            "format": REPORT_FORMAT,
            "generator": f"pytest-batch {__version__}",
            "input": {
                "kind": self.kind,
                "files": self.files,
                "tests": self.tests,
                "probe_documents": self.probe_documents,
            },
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
            "probes": self.probes.section(),
        }
        if self._tests is not None:
            document["tests"] = self._test_rows(ids)
        return document

    def _test_rows(self, ids: Mapping[tuple, str]) -> list[dict[str, Any]]:
        rows = []
        for test in self._tests or ():
            found = test.findings or {}
            row: dict[str, Any] = {"nodeid": test.nodeid, "cassette": test.cassette, "mode": test.mode}
            row.update(zip(_TEST_COUNTS, test.counts))
            row["findings"] = dict(sorted(((ids[k], n) for k, n in found.items()), key=lambda kv: int(kv[0][1:])))
            row["probes"] = {v: n for v, n in sorted((test.probes or {}).items())}
            rows.append(row)
        rows.sort(
            key=lambda r: (
                r["nodeid"], r["cassette"] or "", r["mode"] or "", tuple(r[k] for k in _TEST_COUNTS),
                tuple(r["findings"].items()), tuple(r["probes"].items()),
            )
        )  # fmt: skip
        return rows

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

    def _finding_rows(self) -> tuple[list[dict[str, Any]], dict[tuple, str]]:
        ordered = sorted(self._findings.values(), key=_finding_order)
        ids = {e.key: f"F{i}" for i, e in enumerate(ordered, 1)}
        rows = [
            {
                "id": ids[e.key],
                "check": e.first.check,
                "severity": e.first.severity,
                "operation_id": e.first.operation_id,
                "api_version": e.first.api_version,
                "location": e.first.location,
                "instance_pointer": e.first.instance_pointer,
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
            for e in ordered
        ]
        return rows, ids

    def _drift_section(self) -> dict[str, Any]:
        properties, values = [], []
        for e in sorted(self._drift.values(), key=lambda e: (-e.count, _key_text(e.key))):
            row = {
                "api_version": e.first.api_version,
                "operation_id": e.first.operation_id,
                "location": e.first.location,
                "instance_pointer": e.first.instance_pointer,
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


def _origin(test: str | None, source: str | None) -> tuple[str, str, int]:
    """Where an occurrence comes from, as a sort key: (test node id, file, index); "first" is the smallest."""
    file, sep, index = (source or "").rpartition("#")
    if sep and index.isdigit():
        return (test or "", file, int(index))
    return (test or "", source or "", -1)


def _saved_finding(row: Mapping[str, Any], check: str, actual: Any, expected: Any) -> Finding:
    return Finding(
        check,
        row.get("severity") or (WARNING if check in DRIFT_CHECKS else ERROR),
        row["operation_id"],
        row["api_version"],
        row["location"],
        row["instance_pointer"],
        row["schema_pointer"],
        expected,
        actual,
        row.get("message") or "",
        row.get("rule"),
    )


def _key_text(key: tuple) -> tuple[str, ...]:
    return tuple("" if part is None else str(part) for part in key)


def _str_or_none(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


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
