"""Constraint-probe verdicts in the reports: read them, fold them, and give the document its `probes` section.

Verdicts come from two places: `pytest-batch probe -o x.json` documents (`pytest-batch-probe/1`, given to
`pytest-batch report` among its paths) and the `batch_probe` fixture, which puts the same verdict dicts in
its test's record under `"probe"`. One rule is probed per (api-version, rule, operation, target) in each
source; the report keeps one row per such key: the worst verdict any source gave (error, stricter,
lenient, enforced, skipped), with that verdict's detail, counts by verdict and the services probed. The
row's representative is the smallest (verdict rank, source, detail), so the fold does not depend on the
order verdicts arrive in (pytest-xdist delivers tests in any order).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import RecordingError
from ..spec import version_sort_key
from .common import read_marked_json

PROBE_FORMAT = "pytest-batch-probe/1"
VERDICTS = ("error", "stricter", "lenient", "enforced", "skipped")  # worst first
FAILING = frozenset(("error", "stricter", "lenient"))
UNKNOWN_VERSION = "?"
_RANK = {name: i for i, name in enumerate(VERDICTS)}
MARK = b'"pytest-batch-probe/'


class UnusableProbe(ValueError):
    """A probe document or verdict that cannot be read; the message is one line saying what is wrong."""


@dataclass(frozen=True, slots=True)
class ProbeVerdict:
    """One verdict on one documented rule, as the prober writes it (plus the api-version it was probed in)."""

    api_version: str
    rule: str
    verdict: str
    kind: str | None = None
    operation_id: str | None = None
    target: str | None = None
    detail: str = ""
    valid: Any = None  # {"status": int|None, "code": str|None} or None
    invalid: tuple[Any, ...] = ()  # ({"label", "status", "code"}, ...)
    source_pointer: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.api_version, self.rule, self.operation_id or "", self.target or "")


@dataclass(frozen=True, slots=True)
class ProbeDocument:
    """A `pytest-batch probe` output file, read and checked."""

    path: str
    api_version: str
    service: str
    verdicts: tuple[ProbeVerdict, ...]


def parse_verdict(item: Any, api_version: str | None) -> ProbeVerdict:
    """A verdict dict as a `ProbeVerdict`; `UnusableProbe` with a one-line reason when it is not one.
    The dict's own `api_version` wins over the one given (session records may carry it per verdict)."""
    if not isinstance(item, Mapping):
        raise UnusableProbe(f"a verdict must be an object, not {type(item).__name__}")
    rule, verdict = item.get("rule"), item.get("verdict")
    if not isinstance(rule, str) or not rule:
        raise UnusableProbe("a verdict needs its `rule` id (a non-empty string)")
    if verdict not in _RANK:
        raise UnusableProbe(f"rule {rule!r}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    for name in ("kind", "operation_id", "target", "source_pointer", "api_version"):
        if item.get(name) is not None and not isinstance(item[name], str):
            raise UnusableProbe(f"rule {rule!r}: `{name}` must be a string or null")
    detail = item.get("detail")
    if detail is not None and not isinstance(detail, str):
        raise UnusableProbe(f"rule {rule!r}: `detail` must be a string")
    valid = item.get("valid")
    if valid is not None and not _exchange(valid):
        raise UnusableProbe(f"rule {rule!r}: `valid` must be {{status, code}} (status an integer or null)")
    invalid = item.get("invalid") or []
    if not isinstance(invalid, list) or not all(_exchange(x) for x in invalid):
        raise UnusableProbe(f"rule {rule!r}: `invalid` must be a list of {{label, status, code}}")
    version = item.get("api_version") or api_version or UNKNOWN_VERSION
    return ProbeVerdict(
        version,
        rule,
        verdict,
        item.get("kind"),
        item.get("operation_id"),
        item.get("target"),
        detail or "",
        _exchange_copy(valid) if valid is not None else None,
        tuple(_exchange_copy(x) for x in invalid),
        item.get("source_pointer"),
    )


def _exchange(value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    status, code, label = value.get("status"), value.get("code"), value.get("label")
    return (
        (status is None or (isinstance(status, int) and not isinstance(status, bool)))
        and (code is None or isinstance(code, str))
        and (label is None or isinstance(label, str))
    )


def _exchange_copy(value: Mapping[str, Any]) -> dict[str, Any]:
    out = {"status": value.get("status"), "code": value.get("code")}
    if "label" in value:
        out = {"label": value.get("label"), **out}
    return out


def parse_document(data: Any, path: str) -> ProbeDocument:
    """A probe document's content as a `ProbeDocument`; `UnusableProbe` naming what is wrong."""
    if not isinstance(data, Mapping):
        raise UnusableProbe("not a JSON object")
    if data.get("format") != PROBE_FORMAT:
        raise UnusableProbe(f"format {data.get('format')!r} is not {PROBE_FORMAT!r} (written by another pytest-batch?)")
    version, service, verdicts = data.get("api_version"), data.get("target"), data.get("verdicts")
    if not isinstance(version, str) or not version:
        raise UnusableProbe("`api_version` must be a non-empty string")
    if not isinstance(service, str):
        raise UnusableProbe("`target` must be a string (emulator, the URL, or replay:<dir>)")
    if not isinstance(verdicts, list):
        raise UnusableProbe("`verdicts` must be a list")
    parsed = []
    for i, item in enumerate(verdicts):
        try:
            parsed.append(parse_verdict(item, version))
        except UnusableProbe as exc:
            raise UnusableProbe(f"verdict #{i}: {exc}") from None
    return ProbeDocument(path, version, service, tuple(parsed))


def read_probe_document(path: str | os.PathLike) -> ProbeDocument | RecordingError | None:
    """The probe document at `path`; None when `path` is not one (a recording, a saved report, a folder);
    an error naming the file when it says it is one but cannot be used."""
    data = read_marked_json(path, MARK, "probe document", "run `pytest-batch probe` again")
    if data is None or isinstance(data, RecordingError):
        return data
    try:
        return parse_document(data, str(path))
    except UnusableProbe as exc:
        return RecordingError(
            str(path), f"not a usable probe document: {exc}", hint="write it again with `pytest-batch probe -o`"
        )


@dataclass
class _Row:
    best: ProbeVerdict
    rank: tuple
    source: str | None
    by_verdict: Counter = field(default_factory=Counter)
    services: set = field(default_factory=set)


class ProbeFold:
    """Folds verdicts into one row per (api-version, rule, operation, target); memory grows with rules only."""

    def __init__(self) -> None:
        self._rows: dict[tuple, _Row] = {}
        self.count = 0

    def add(self, verdict: ProbeVerdict, *, source: str | None = None, service: str | None = None) -> None:
        self._merge(verdict, source, Counter({verdict.verdict: 1}), {service} if service else set())

    def add_all(self, verdicts: Iterable[ProbeVerdict], *, source: str | None = None, service: str | None = None):
        for verdict in verdicts:
            self.add(verdict, source=source, service=service)
        return self

    def add_row(self, row: Mapping[str, Any]) -> None:
        """Merge a row of a saved report's `probes.rules` (already validated against the schema)."""
        verdict = parse_verdict(row, row.get("api_version"))
        counts = Counter({k: v for k, v in (row.get("by_verdict") or {}).items() if k in _RANK and v})
        self._merge(verdict, row.get("first_source"), counts or Counter({verdict.verdict: 1}), set(row["services"]))

    def _merge(self, verdict: ProbeVerdict, source: str | None, counts: Counter, services: set) -> None:
        rank = (_RANK[verdict.verdict], source or "", verdict.detail, repr(verdict.valid), repr(verdict.invalid))
        row = self._rows.get(verdict.key)
        if row is None:
            row = self._rows[verdict.key] = _Row(verdict, rank, source)
        elif rank < row.rank:
            row.best, row.rank, row.source = verdict, rank, source
        row.by_verdict.update(counts)
        row.services.update(services)
        self.count += sum(counts.values())

    @property
    def failing(self) -> int:
        """Rows whose worst verdict says the service and the docs disagree (or the probe could not tell)."""
        return sum(1 for row in self._rows.values() if row.best.verdict in FAILING)

    def section(self) -> dict[str, Any]:
        """The document's `probes` member: counts per api-version, then one row per probed rule, worst first."""
        versions: dict[str, Counter] = {}
        for row in self._rows.values():
            versions.setdefault(row.best.api_version, Counter())[row.best.verdict] += 1
        rows = sorted(self._rows.values(), key=lambda r: (r.rank[0], version_sort_key(r.best.api_version), r.best.key))
        return {
            "verdicts": self.count,
            "api_versions": [
                {"api_version": name, "rules": sum(counts.values()), "by_verdict": {v: counts[v] for v in VERDICTS}}
                for name, counts in sorted(versions.items(), key=lambda kv: version_sort_key(kv[0]))
            ],
            "rules": [
                {
                    "api_version": r.best.api_version,
                    "rule": r.best.rule,
                    "kind": r.best.kind,
                    "operation_id": r.best.operation_id,
                    "target": r.best.target,
                    "verdict": r.best.verdict,
                    "detail": r.best.detail,
                    "valid": r.best.valid,
                    "invalid": list(r.best.invalid),
                    "source_pointer": r.best.source_pointer,
                    "probes": sum(r.by_verdict.values()),
                    "by_verdict": {v: r.by_verdict[v] for v in VERDICTS if r.by_verdict[v]},
                    "services": sorted(r.services),
                    "first_source": r.source,
                }
                for r in rows
            ],
        }


def empty_section() -> dict[str, Any]:
    return ProbeFold().section()
