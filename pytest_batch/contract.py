"""What the contract check of one test found, and how it is told: a failure message, a warning, a report record.

`TestContract` is the `batch_contract` fixture: the outcomes of every interaction the test made (recorded or
replayed), with the test's `allow` list applied. `report_record` turns it into plain JSON data, which is what
travels from pytest-xdist workers to the controller and into the session's reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from .errors import BatchContractError
from .validation import ERROR, WARNING, Outcome, Violation, best_violation

REPORT_RECORD_FORMAT = "pytest-batch-test/1"


class ContractViolation(BatchContractError, AssertionError):
    """Interactions broke the Batch spec (raised in `strict` mode and by `assert_conforms()`)."""


class BatchContractWarning(UserWarning):
    """Interactions broke the Batch spec (`warn` mode), or left warning-level findings."""


@dataclass(frozen=True, slots=True)
class Allowance:
    """Findings a test accepts: check names (`unknown_enum_value`), documented-constraints rule ids
    (`job-id-length`), schema pointers or `check:pointer`, each maybe with `*` wildcards
    (`/definitions/CloudJob/*`)."""

    patterns: tuple[str, ...] = ()

    def allows(self, violation: Violation) -> bool:
        names = (violation.check, violation.schema_pointer, f"{violation.check}:{violation.schema_pointer}")
        if violation.rule is not None:  # a documented-constraints rule id (`job-id-length`)
            names += (violation.rule,)
        return any(fnmatchcase(name, pattern) for pattern in self.patterns for name in names)


@dataclass
class TestContract:
    """The `batch_contract` fixture: findings collected while the test runs (filled at each phase's end)."""

    __test__ = False  # not a pytest test class, whatever its name says

    mode: str = "strict"
    allowance: Allowance = field(default_factory=Allowance)
    checked: list[Outcome] = field(default_factory=list)
    # Set by the plugin: validates what the test sent since the last call and `add`s it, so reading
    # `outcomes` (or `assert_conforms()`) in the test body sees every interaction made so far.
    refresh: Callable[[], object] | None = field(default=None, repr=False, compare=False)
    judged: int = field(default=0, repr=False, compare=False)  # how many outcomes a phase has judged

    @property
    def outcomes(self) -> list[Outcome]:
        """Every interaction the test has made so far, checked (pending ones are validated now)."""
        if self.refresh is not None:
            self.refresh()
        return self.checked

    def add(self, outcomes: Iterable[Outcome]) -> None:
        self.checked.extend(outcomes)

    def unjudged(self) -> list[Outcome]:
        """The outcomes no phase has judged yet (each failure or warning is raised once)."""
        fresh = self.outcomes[self.judged :]
        self.judged = len(self.checked)
        return fresh

    def findings(self, severity: str | None = None) -> list[Violation]:
        """Violations not allowed by the test's marker, optionally of one severity."""
        return [
            v
            for outcome in self.outcomes
            for v in outcome.violations
            if not self.allowance.allows(v) and (severity is None or v.severity == severity)
        ]

    @property
    def errors(self) -> list[Violation]:
        return self.findings(ERROR)

    @property
    def warnings(self) -> list[Violation]:
        return self.findings(WARNING)

    def assert_conforms(self, *, warnings: bool = False) -> None:
        """Raise `ContractViolation` if any interaction so far broke the spec (warnings too if asked)."""
        severities = (ERROR, WARNING) if warnings else (ERROR,)
        message = self.message(severities)
        if message:
            raise ContractViolation(message)

    def message(self, severities: Sequence[str] = (ERROR,), outcomes: Sequence[Outcome] | None = None) -> str:
        """A readable account of the findings of `severities`: counts, then per failing interaction its
        file and index, request, status and best finding. Empty when there is nothing to tell."""
        outcomes = self.outcomes if outcomes is None else outcomes
        rows = []
        counts = dict.fromkeys(severities, 0)
        for outcome in outcomes:
            kept = [v for v in outcome.violations if v.severity in severities and not self.allowance.allows(v)]
            if not kept:
                continue
            for violation in kept:
                counts[violation.severity] += 1
            rows.append(_row(outcome, kept))
        if not rows:
            return ""
        checked = sum(1 for o in outcomes if o.skipped is None)
        tally = ", ".join(f"{n} {s}{'' if n == 1 else 's'}" for s, n in counts.items() if n)
        head = f"{len(rows)} of {checked} Batch interactions break the spec ({tally})"
        return "\n".join([head, *rows])


def _row(outcome: Outcome, kept: list[Violation]) -> str:
    interaction = outcome.interaction
    best = best_violation(kept)
    assert best is not None
    where = f"{interaction.source}" if interaction.source else "(live)"
    path = urlsplit(interaction.url).path
    more = f" (+{len(kept) - 1} more)" if len(kept) > 1 else ""
    pointer = best.instance_pointer or ""
    return (
        f"  {where} {interaction.method} {path} -> {interaction.status}: {best.severity} {best.check} "
        f"{best.operation_id or '?'} ({best.api_version}) at {best.location}{pointer}: {best.message}"
        f" [spec {best.schema_pointer or '-'}]{more}"
    )


# -- report records (plain JSON data: they cross process boundaries) -------------------------------------------


def report_record(nodeid: str, cassette: str | None, contract: TestContract) -> dict[str, Any]:
    """Everything the reports need about one test's interactions, as JSON-ready data."""
    return {
        "format": REPORT_RECORD_FORMAT,
        "nodeid": nodeid,
        "cassette": cassette,
        "mode": contract.mode,
        "interactions": [_outcome_record(o, contract.allowance) for o in contract.outcomes],
    }


def _outcome_record(outcome: Outcome, allowance: Allowance) -> dict[str, Any]:
    interaction = outcome.interaction
    source = interaction.source
    return {
        "file": source.file if source else None,
        "index": source.index if source else None,
        "method": interaction.method,
        "path": urlsplit(interaction.url).path,
        "status": interaction.status,
        "operation_id": outcome.operation_id,
        "api_version": outcome.api_version,
        "skipped": outcome.skipped,
        "violations": [
            {
                "check": v.check,
                "severity": v.severity,
                "location": v.location,
                "instance_pointer": v.instance_pointer,
                "schema_pointer": v.schema_pointer,
                "expected": _plain(v.expected),
                "actual": _plain(v.actual),
                "message": v.message,
                "rule": v.rule,
                "allowed": allowance.allows(v),
            }
            for v in outcome.violations
        ],
    }


def _plain(value: Any) -> Any:
    """A JSON-ready copy: containers recursed, anything else that JSON lacks turned into its text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return repr(value)
