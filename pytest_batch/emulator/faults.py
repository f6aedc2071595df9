"""Fault injection, so consumers can test their retry logic against real failures.

A `Fault` says what to do to which requests: answer 429/500/503 (with `Retry-After`),
add latency, or drop the connection without an answer. Which requests: an operation id
(canonical or the version's own, `*` for all), and a schedule — skip the first `after`
matching requests, then hit every `every`-th one, at most `times` times. `FaultPlan`
counts matches per fault under a lock, so the schedule holds across threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

_MESSAGES = {
    429: ("TooManyRequests", "The server is busy; retry after the interval in Retry-After."),
    500: ("InternalServerError", "The server encountered an internal error. Please retry the request."),
    503: ("ServerBusy", "The server is currently unable to receive requests. Please retry your request."),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One rule. `status` None with `latency` only slows the request down; `drop` closes the
    connection without a response."""

    operation: str = "*"
    status: int | None = None
    retry_after: int | None = None
    latency: float = 0.0
    drop: bool = False
    after: int = 0
    every: int = 1
    times: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"Fault status must be an HTTP error status (4xx/5xx), got {self.status}")
        if self.every < 1 or self.after < 0 or (self.times is not None and self.times < 0) or self.latency < 0:
            raise ValueError("Fault schedule needs every >= 1, after >= 0, times >= 0, latency >= 0")

    def applies_to(self, operation_ids: tuple[str, ...]) -> bool:
        return self.operation == "*" or self.operation in operation_ids

    @property
    def error(self) -> tuple[str, str]:
        return _MESSAGES.get(self.status or 500, ("ServerError", "The request failed (injected fault)."))


@dataclass(frozen=True, slots=True)
class Injection:
    """What the server must do to one request: summed latency, then an error or a drop (or neither)."""

    latency: float = 0.0
    fault: Fault | None = None


class FaultPlan:
    """The active faults of one emulator; `add`/`clear` at any time, thread-safe."""

    def __init__(self, faults: tuple[Fault, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._seen: list[int] = []
        self._fired: list[int] = []
        for fault in faults:
            self.add(fault)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
            self._seen.append(0)
            self._fired.append(0)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._seen.clear()
            self._fired.clear()

    def fired(self, fault: Fault) -> int:
        """How many requests `fault` has hit so far."""
        with self._lock:
            return sum(n for f, n in zip(self._faults, self._fired) if f is fault)

    def pick(self, operation_ids: tuple[str, ...]) -> Injection:
        latency = 0.0
        chosen: Fault | None = None
        with self._lock:
            for i, fault in enumerate(self._faults):
                if not fault.applies_to(operation_ids):
                    continue
                self._seen[i] += 1
                n = self._seen[i] - fault.after
                if n <= 0 or (n - 1) % fault.every:
                    continue
                if fault.times is not None and self._fired[i] >= fault.times:
                    continue
                self._fired[i] += 1
                latency += fault.latency
                if chosen is None and (fault.status is not None or fault.drop):
                    chosen = fault
        return Injection(latency, chosen)
