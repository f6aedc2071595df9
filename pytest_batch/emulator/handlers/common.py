"""Small helpers every handler module uses: building replies and reading bodies."""

from __future__ import annotations

import copy
from typing import Any, Mapping

from ..model import Call, Reply
from ..state import Record, State, iso


def entity_reply(record: Record, status: int = 200, odata_type: str | None = None, body: Any = None) -> Reply:
    """A reply about one resource: its ETag/Last-Modified/DataServiceId headers, and `body` if given."""
    return Reply(status, body, record.entity(), odata_type=odata_type)


def document(record: Record) -> dict[str, Any]:
    """A copy of the resource's document, safe to hand to the response pipeline."""
    return copy.deepcopy(record.data)


def body_of(call: Call) -> dict[str, Any]:
    """The request body as a dict (the contract check already required one where it is documented)."""
    return dict(call.body) if isinstance(call.body, Mapping) else {}


def transition(state: State, record: Record, new_state: str, *, field: str = "state") -> None:
    """Move `record` to `new_state`, keeping `previousState` and the transition times as Batch does."""
    data = record.data
    old = data.get(field)
    if old == new_state:
        return
    prefix = "" if field == "state" else field[: -len("State")]
    if old is not None and field == "state":
        data["previousState"] = old
        data["previousStateTransitionTime"] = data.get("stateTransitionTime", iso(state.now))
    data[f"{prefix}stateTransitionTime" if prefix else "stateTransitionTime"] = iso(state.now)
    data[field] = new_state
    state.touch(record)


def resource_url(call: Call, *segments: str) -> str:
    from urllib.parse import quote

    return call.base_url + "".join("/" + quote(s, safe="") for s in segments)
