"""What the reports need of one checked interaction, whichever way it was checked.

`pytest-batch check`/`report` have `Outcome`s from `Validator.check`; a pytest session has per-test
records (`contract.report_record`), plain JSON that may have crossed a pytest-xdist process boundary.
Both become the same `Observation`, which keeps no bodies, so folding 100k of them costs no memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..validation import UNKNOWN_API_VERSION, UNKNOWN_OPERATION, Outcome, Violation


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding of one interaction; `allowed` when the test's allow list accepts it."""

    check: str
    severity: str
    operation_id: str | None
    api_version: str | None
    location: str
    instance_pointer: str
    schema_pointer: str
    expected: Any
    actual: Any
    message: str
    rule: str | None = None
    allowed: bool = False

    @property
    def key(self) -> tuple[str, str | None, str | None, str, str]:
        """De-duplication key, the same as `Violation.key`: one rule broken at one place of one operation."""
        return (self.check, self.operation_id, self.api_version, self.location, self.schema_pointer)


@dataclass(frozen=True, slots=True)
class Observation:
    """One interaction as the reports see it: where it came from, what it called, what broke."""

    method: str
    path: str
    status: int | None
    api_version: str | None = None
    operation_id: str | None = None
    skipped: str | None = None
    findings: tuple[Finding, ...] = ()
    source: str | None = None  # `file#index`
    test: str | None = None  # the pytest node id, in a session


def from_violation(violation: Violation, *, allowed: bool = False) -> Finding:
    return Finding(
        violation.check,
        violation.severity,
        violation.operation_id,
        violation.api_version,
        violation.location,
        violation.instance_pointer,
        violation.schema_pointer,
        violation.expected,
        violation.actual,
        violation.message,
        getattr(violation, "rule", None),
        allowed,
    )


def from_outcome(outcome: Outcome, *, allows: Callable[[Violation], bool] | None = None) -> Observation:
    """An `Observation` of a `Validator.check` outcome; `allows` marks findings a test accepts."""
    interaction = outcome.interaction
    source = interaction.source
    return Observation(
        method=interaction.method,
        path=path_of(interaction.url),
        status=interaction.status,
        api_version=outcome.api_version,
        operation_id=outcome.operation_id,
        skipped=outcome.skipped,
        findings=tuple(from_violation(v, allowed=bool(allows and allows(v))) for v in outcome.violations),
        source=str(source) if source is not None else None,
    )


def from_record(record: Mapping[str, Any]) -> Iterator[Observation]:
    """The observations of one pytest test record (`pytest-batch-test/1`), in the order the test made them."""
    test = record.get("nodeid")
    for item in record.get("interactions") or ():
        if not isinstance(item, Mapping):
            continue
        file, index = item.get("file"), item.get("index")
        operation_id, api_version = item.get("operation_id"), item.get("api_version")
        findings = tuple(
            Finding(
                str(v.get("check") or "?"),
                str(v.get("severity") or "error"),
                v["operation_id"] if "operation_id" in v else _operation_of(v.get("check"), operation_id),
                v.get("api_version", api_version),
                str(v.get("location") or "?"),
                v.get("instance_pointer") or "",
                v.get("schema_pointer") or "",
                v.get("expected"),
                v.get("actual"),
                str(v.get("message") or ""),
                v.get("rule"),
                bool(v.get("allowed")),
            )
            for v in item.get("violations") or ()
            if isinstance(v, Mapping)
        )
        yield Observation(
            method=item.get("method") or "?",
            path=item.get("path") or "",
            status=item.get("status"),
            api_version=api_version,
            operation_id=operation_id,
            skipped=item.get("skipped"),
            findings=findings,
            source=f"{file}#{index}" if file is not None else None,
            test=test,
        )


def _operation_of(check: str | None, operation_id: str | None) -> str | None:
    """A record's violations do not repeat the operation; the validator leaves it out of these two."""
    return None if check in (UNKNOWN_OPERATION, UNKNOWN_API_VERSION) else operation_id


def path_of(url: str) -> str:
    """The path of an absolute or path-only URL, without the query."""
    rest = url.split("#", 1)[0]
    scheme = rest.find("://")
    if scheme != -1:
        rest = rest[scheme + 3 :]
        slash = rest.find("/")
        rest = rest[slash:] if slash != -1 else "/"
    return rest.split("?", 1)[0] or "/"
