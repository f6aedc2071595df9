"""Task scheduling: assign active tasks to compute nodes that can take them.

`dispatch(state)` runs after every request and every settled event (being written);
`release_node` is called by the node handlers when a node stops being able to run its
tasks (reboot, reimage, deallocate, removal) with the option the client chose.
"""

from __future__ import annotations

from .state import State


def dispatch(state: State) -> None:
    return None


def release_node(state: State, pool_id: str, node_id: str, option: str | None) -> None:
    """Requeue or terminate the tasks running on the node (`option`: requeue, terminate,
    taskcompletion, retaineddata; None means the documented default, requeue)."""
    return None
