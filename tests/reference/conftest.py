"""The project's reference cassettes: the azure-batch 15.1.0 scenario in this folder, recorded from the emulator.

The scenario records into `<repo>/cassettes/<module stem>/<test>.yaml` (the plugin's naming) and the normal
suite, in record mode `none`, replays those cassettes offline with strict contract validation. Re-record them
after a change to the scenario or the emulator with:

    python3 -m pytest tests/reference --batch-record-mode=rewrite -p no:cacheprovider

and commit the changed files under `cassettes/`. Recording starts the emulator below: a `ManualClock` that
moves on a second each time it is read (about once per request), so the SDK's pollers see transitions complete without any waiting and the same
scenario yields the same states and timestamps on every recording. Replay never starts it. The headers that
change with every run or machine (wall-clock dates, client request ids, the platform in the User-Agent) are
pinned when recording, so a re-recording differs only where the traffic did; replay matching ignores them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.utils import format_datetime

import pytest

from pytest_batch.emulator import Emulator, ManualClock
from pytest_batch.emulator.clock import EPOCH
from pytest_batch.sanitize import Rule

_PINNED = {
    "ocp-date": format_datetime(EPOCH, usegmt=True),
    "date": format_datetime(EPOCH, usegmt=True),
    "client-request-id": "00000000-0000-0000-0000-000000000000",
}
_PLATFORM = re.compile(r"\s*\([^)]*\)")


def _pin_volatile(name: str, value: str) -> str:
    """Wall-clock and per-run header values as fixed ones (idempotent, as sanitize rules must be)."""
    if name in _PINNED:
        return _PINNED[name]
    return _PLATFORM.sub("", value) if name == "user-agent" else value


@pytest.fixture
def batch_sanitize_rules() -> tuple[Rule, ...]:
    """Appended to the default rules for these tests' cassettes: reproducible re-recordings."""
    return (Rule("volatile_headers", header=_pin_volatile),)


@pytest.fixture(scope="session")
def batch_emulator() -> Iterator[Emulator]:
    """The plugin's session emulator, on a clock that ticks a second per request (deterministic recordings)."""
    with Emulator(clock=ManualClock(tick=timedelta(seconds=1))) as emulator:
        yield emulator


@pytest.fixture
def settle(request: pytest.FixtureRequest, batch_endpoint) -> Callable[[float], None]:
    """`settle(seconds)`: let emulator time pass while recording; nothing in replay (the cassette has the result).

    The emulator is looked up only when this test records against it, so replay never starts one.
    """
    if batch_endpoint.kind != "emulator":
        return lambda seconds: None
    return request.getfixturevalue("batch_emulator").advance
