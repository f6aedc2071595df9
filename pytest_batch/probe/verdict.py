"""Verdicts: what the service did with a rule's valid and invalid requests, classified.

Pure: the answers (status + `BatchError` code of each exchange) and the refusals that fit the rule
(`constraints.refusals`) in, one `Verdict` out. The order of the tests is the order of what matters most:

1. `error`: no answer (transport failure) or a 5xx;
2. `stricter`: the valid request was refused as bad input (400/413): the service forbids what the docs allow;
3. `lenient`: an invalid request was accepted (2xx): the service allows what the docs forbid;
4. `error`: the valid request got another non-2xx, or an invalid one was refused with a status or code that
   does not fit the rule (the detail says which);
5. `enforced`: the valid request accepted and every invalid one refused with a fitting refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..constraints import Refusal

ENFORCED, LENIENT, STRICTER, ERROR, SKIPPED = "enforced", "lenient", "stricter", "error", "skipped"
VERDICTS = (ENFORCED, LENIENT, STRICTER, ERROR, SKIPPED)
INPUT_REFUSALS = frozenset({400, 413})


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request's answer: the status (None when none came) and the `BatchError` code (None without one)."""

    label: str
    status: int | None
    code: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verdict on one (rule, operation, target), with the exchanges it rests on."""

    rule: str
    kind: str
    operation_id: str
    target: str
    verdict: str
    detail: str
    valid: Exchange | None = None
    invalid: tuple[Exchange, ...] = ()
    source_pointer: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.operation_id, self.target)

    @property
    def passed(self) -> bool:
        return self.verdict in (ENFORCED, SKIPPED)

    def record(self) -> dict[str, Any]:
        """The verdict as the output document holds it (`pytest-batch-probe/1`)."""
        return {
            "rule": self.rule,
            "kind": self.kind,
            "operation_id": self.operation_id,
            "target": self.target,
            "verdict": self.verdict,
            "detail": self.detail,
            "valid": None if self.valid is None else {"status": self.valid.status, "code": self.valid.code},
            "invalid": [{"label": e.label, "status": e.status, "code": e.code} for e in self.invalid],
            "source_pointer": self.source_pointer,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Verdict:
        valid = record.get("valid")
        return cls(
            rule=record["rule"],
            kind=record["kind"],
            operation_id=record["operation_id"],
            target=record["target"],
            verdict=record["verdict"],
            detail=record["detail"],
            valid=None if valid is None else Exchange("valid", valid["status"], valid["code"]),
            invalid=tuple(Exchange(e["label"], e["status"], e["code"]) for e in record.get("invalid") or ()),
            source_pointer=record.get("source_pointer", ""),
        )


def classify(valid: Exchange, invalid: Iterable[Exchange], fitting: Iterable[Refusal]) -> tuple[str, str]:
    """(verdict, detail) for the answers to one case; see the module docstring for the order."""
    invalid = tuple(invalid)
    fitting = tuple(fitting)
    for exchange in (valid, *invalid):
        if exchange.status is None:
            return ERROR, f"transport failure: no answer to the {_what(exchange)}"
        if exchange.status >= 500:
            return ERROR, f"server error {_answer(exchange)} to the {_what(exchange)}"
    if valid.status in INPUT_REFUSALS:
        return STRICTER, f"the valid request was refused with {_answer(valid)}"
    accepted = [e for e in invalid if e.accepted]
    if accepted:
        return LENIENT, f"the {_what(accepted[0])} was accepted with {accepted[0].status}"
    if not valid.accepted:
        return ERROR, f"unexpected status: the valid request got {_answer(valid)}"
    fits = {(r.status, r.code) for r in fitting}
    for exchange in invalid:
        if (exchange.status, exchange.code) not in fits:
            expected = ", ".join(f"{r.status} {r.code}" for r in fitting) or "none"
            if exchange.status in INPUT_REFUSALS:
                problem = f"refused with an unfitting code {_answer(exchange)}"
            else:
                problem = f"unexpected status {_answer(exchange)}"
            return ERROR, f"the {_what(exchange)} was {problem} (fitting: {expected})"
    if not invalid:
        return ERROR, "no invalid request was sent"
    refused = ", ".join(sorted({_answer(e) for e in invalid}))
    return ENFORCED, f"valid accepted with {valid.status}; invalid refused with {refused}"


def _answer(exchange: Exchange) -> str:
    return f"{exchange.status} {exchange.code}" if exchange.code else str(exchange.status)


def _what(exchange: Exchange) -> str:
    return "valid request" if exchange.label == "valid" else f"invalid request ({exchange.label})"
