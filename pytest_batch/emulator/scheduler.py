"""Task scheduling: assign active tasks to compute nodes that can take them.

`dispatch(state)` runs after every request and every settled event (being written).
"""

from __future__ import annotations

from .state import State


def dispatch(state: State) -> None:
    return None
