"""Operation handlers, one module per resource family; `HANDLERS` maps the canonical
(2025-06-01) operation id, or an older version's own id for operations 2025-06-01 dropped,
to a function `(State, Call) -> Reply`."""

from __future__ import annotations

from types import MappingProxyType

from . import account, jobs, nodes, pools, schedules, tasks

HANDLERS = MappingProxyType(
    {**jobs.HANDLERS, **tasks.HANDLERS, **schedules.HANDLERS, **pools.HANDLERS, **nodes.HANDLERS, **account.HANDLERS}
)
