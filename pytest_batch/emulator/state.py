"""The emulated account: tables of resources, a clock and a queue of due transitions.

The emulator is a discrete-event simulation. A handler changes records and schedules
what the service would do later ("the job leaves `disabling` after `Timing.job_disable`
seconds"); before every request, `settle()` runs every event whose time has come, in
time order. With a `ManualClock`, states, dates and ETags are the same on every run.

All access goes through one re-entrant lock (`State.lock`): a request settles the clock,
checks conditions and mutates under it, so concurrent requests are serialised and a
conditional update is atomic (one of N concurrent `If-Match` writers wins).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from .clock import Clock, SystemClock
from .model import Call, Entity, ServiceError, conflict, not_found


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds of clock time each transitional state lasts (0 = settled on the next request)."""

    job_disable: float = 1.0  # disabling → disabled
    job_enable: float = 1.0  # enabling → active
    job_terminate: float = 1.0  # terminating → completed
    job_delete: float = 1.0  # deleting → gone
    schedule_delete: float = 1.0
    schedule_terminate: float = 1.0
    pool_resize: float = 5.0  # resizing → steady; new nodes appear as `starting`
    pool_delete: float = 5.0
    node_start: float = 5.0  # starting → idle (also start after deallocate)
    node_reboot: float = 5.0  # rebooting → idle
    node_reimage: float = 5.0  # reimaging → idle
    node_deallocate: float = 5.0  # deallocating → deallocated
    task_start: float = 1.0  # active → running, once a node can take it
    task_run: float = 2.0  # running → completed (or retried)
    task_delete: float = 0.0
    pool_stop_resize: float = 1.0  # stopping → steady
    certificate_delete: float = 1.0  # deleting → gone (or deletefailed while a pool uses it)


@dataclass(slots=True)
class Record:
    """One resource: its JSON document (2025-06-01 wire shape) and version stamp."""

    data: dict[str, Any]
    etag: str
    last_modified: datetime
    url: str
    extra: dict[str, Any]  # emulator-only facts (files, pending events, internal counters)

    def entity(self) -> Entity:
        return Entity(self.etag, self.last_modified, self.url)


class Table:
    """Resources of one kind, keyed case-insensitively (Batch ids are case-preserving but
    case-insensitive), in insertion order."""

    def __init__(self, kind: str, not_found_code: str, exists_code: str) -> None:
        self.kind = kind
        self.not_found_code = not_found_code
        self.exists_code = exists_code
        self._rows: dict[str, Record] = {}

    def find(self, ident: str) -> Record | None:
        return self._rows.get(ident.lower())

    def get(self, ident: str) -> Record:
        row = self._rows.get(ident.lower())
        if row is None:
            raise not_found(self.kind, self.not_found_code)
        return row

    def add(self, ident: str, record: Record) -> Record:
        key = ident.lower()
        if key in self._rows:
            raise conflict(self.exists_code, f"The specified {self.kind} already exists.")
        self._rows[key] = record
        return record

    def remove(self, ident: str) -> Record | None:
        return self._rows.pop(ident.lower(), None)

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self._rows.values()))

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, ident: object) -> bool:
        return isinstance(ident, str) and ident.lower() in self._rows


class State:
    """Everything one emulated Batch account holds."""

    def __init__(self, *, account: str, clock: Clock | None = None, timing: Timing | None = None) -> None:
        self.account = account
        self.clock = clock if clock is not None else SystemClock()
        self.timing = timing if timing is not None else Timing()
        self.lock = threading.RLock()
        self._etags = itertools.count(1)
        self._events: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._sequence = itertools.count()
        self.jobs = Table("job", "JobNotFound", "JobExists")
        self.job_schedules = Table("job schedule", "JobScheduleNotFound", "JobScheduleExists")
        self.pools = Table("pool", "PoolNotFound", "PoolExists")
        self.certificates = Table("certificate", "CertificateNotFound", "CertificateExists")
        self.applications = Table("application", "ApplicationNotFound", "ApplicationExists")
        self.tasks: dict[str, Table] = {}  # job id (lower) → its tasks
        self.nodes: dict[str, Table] = {}  # pool id (lower) → its compute nodes
        self.now: datetime = self.clock.now()
        # called with the state after every settled event (the service sets the task scheduler here)
        self.after_event: Callable[[State], None] | None = None

    # -- time -------------------------------------------------------------------

    def settle(self, now: datetime) -> None:
        """Run every scheduled transition due at `now`, oldest first (events may schedule more).

        Each event runs at its own due time, so chained transitions (start → finish) all happen
        within one long `advance` and the dates they write do not depend on when clients polled.
        """
        while self._events and self._events[0][0] <= now:
            due, _, action = heapq.heappop(self._events)
            self.now = max(self.now, due)
            action(self.now)
            if self.after_event is not None:
                self.after_event(self)  # e.g. start tasks on a node that just became idle, at that time
        self.now = max(self.now, now)

    def after(self, seconds: float, action: Callable[[datetime], None], *, start: datetime | None = None) -> datetime:
        """Schedule `action(now)` `seconds` after `start` (default: the current time)."""
        due = (start or self.now) + timedelta(seconds=seconds)
        heapq.heappush(self._events, (due, next(self._sequence), action))
        return due

    # -- version stamps ---------------------------------------------------------

    def next_etag(self) -> str:
        return f"0x8DD{next(self._etags):013X}"

    def record(self, data: dict[str, Any], url: str, **extra: Any) -> Record:
        return Record(data, self.next_etag(), self.now, url, dict(extra))

    def touch(self, record: Record) -> None:
        """A change: new ETag, `lastModified` now (also in the document where it has one)."""
        record.etag = self.next_etag()
        record.last_modified = self.now
        if "eTag" in record.data:
            record.data["eTag"] = record.etag
        if "lastModified" in record.data:
            record.data["lastModified"] = iso(self.now)

    def tasks_of(self, job_id: str) -> Table:
        return self.tasks.setdefault(job_id.lower(), Table("task", "TaskNotFound", "TaskExists"))

    def nodes_of(self, pool_id: str) -> Table:
        return self.nodes.setdefault(pool_id.lower(), Table("node", "NodeNotFound", "NodeExists"))


# -- helpers shared by handlers ------------------------------------------------------


def iso(moment: datetime) -> str:
    """Body dates as the service writes them: ISO 8601 UTC with a `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}" + "Z"


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _parse_http_date(text: str, header: str) -> datetime:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ServiceError(
            400,
            "InvalidHeaderValue",
            "The value provided for one of the HTTP headers was not in the correct format.",
            (("HeaderName", header), ("HeaderValue", text)),
        )
    return moment


def check_conditions(call: Call, record: Record, *, write: bool) -> None:
    """Apply If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since to `record`.

    A failed condition is 412 `ConditionNotMet` for a write; for a read, a resource that did
    not change (If-None-Match hit, If-Modified-Since not passed) is 304, as the service does.
    """
    failed_status = 412 if write else 304

    def fail(status: int = 412) -> ServiceError:
        return ServiceError(status, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.")

    if_match = call.header("If-Match")
    if if_match is not None and if_match.strip() != "*" and record.etag not in _etags(if_match):
        raise fail()
    if_none_match = call.header("If-None-Match")
    if if_none_match is not None and (if_none_match.strip() == "*" or record.etag in _etags(if_none_match)):
        raise fail(failed_status)
    # HTTP dates have whole seconds: compare at that resolution
    modified = record.last_modified.replace(microsecond=0)
    since = call.header("If-Modified-Since")
    if since is not None and modified <= _parse_http_date(since, "If-Modified-Since"):
        raise fail(failed_status)
    unmodified = call.header("If-Unmodified-Since")
    if unmodified is not None and modified > _parse_http_date(unmodified, "If-Unmodified-Since"):
        raise fail()


def _etags(header: str) -> set[str]:
    """The entity tags a conditional header lists, quotes removed (ours are sent unquoted)."""
    return {part.strip().strip('"') for part in header.split(",")}
