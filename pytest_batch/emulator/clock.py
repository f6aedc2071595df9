"""Time for the emulator, injectable so that recordings are reproducible.

Every state transition of the emulator is a function of `clock.now()`: a test that
drives a `ManualClock` sees the same states, dates and ETags on every run.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol

EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class SystemClock:
    """Wall-clock time (the default for the `pytest-batch emulator` command)."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to (`advance`, `set`), safe to share between threads.

    `tick` (optional) moves the clock forward by that much on every `now()` call, so that
    successive requests get distinct, ordered timestamps without any test code.
    """

    def __init__(self, start: datetime = EPOCH, *, tick: timedelta = timedelta(0)) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time (use timezone.utc)")
        self._now = start.astimezone(timezone.utc)
        self._tick = tick
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            current = self._now
            self._now = current + self._tick
            return current

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by `delta` (a timedelta or seconds); returns the new time."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("a clock cannot go backwards; use set() to jump to an earlier time")
        with self._lock:
            self._now += step
            return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware time")
        with self._lock:
            self._now = moment.astimezone(timezone.utc)
