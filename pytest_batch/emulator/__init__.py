"""The embedded Batch emulator: a real HTTP Batch service on loopback (see `server.Emulator`).

The names below are imported on first use (PEP 562), so `pytest_batch.emulator.auth` (SharedKey signing,
used by replay-only tests through `BatchEndpoint.signed_headers`) does not pull in the server, the service
and the scheduler.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import ManualClock, SystemClock
    from .faults import Fault
    from .model import Call, Reply, ServiceError
    from .server import Emulator, default_key
    from .state import Timing

_HOMES = {
    "Call": "model",
    "Emulator": "server",
    "Fault": "faults",
    "ManualClock": "clock",
    "Reply": "model",
    "ServiceError": "model",
    "SystemClock": "clock",
    "Timing": "state",
    "default_key": "server",
}

__all__ = ["Call", "Emulator", "Fault", "ManualClock", "Reply", "ServiceError", "SystemClock", "Timing", "default_key"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # the next lookup is a plain global
    return value
