"""The embedded Batch emulator: a real HTTP Batch service on loopback (see `server.Emulator`)."""

from .clock import ManualClock, SystemClock
from .faults import Fault
from .model import Call, Reply, ServiceError
from .server import Emulator, default_key
from .state import Timing

__all__ = ["Call", "Emulator", "Fault", "ManualClock", "Reply", "ServiceError", "SystemClock", "Timing", "default_key"]
