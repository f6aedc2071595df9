"""Small helpers every handler module uses: building replies and reading bodies."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import orjson

from ..model import Call, Reply, ServiceError, conflict
from ..odata import select
from ..state import Record, State, iso


def entity_reply(record: Record, status: int = 200, odata_type: str | None = None, body: Any = None) -> Reply:
    """A reply about one resource: its ETag/Last-Modified/DataServiceId headers, and `body` if given."""
    return Reply(status, body, record.entity(), odata_type=odata_type)


def json_copy(data: Any) -> Any:
    """A deep copy of plain JSON data: an orjson round trip is several times faster than deepcopy,
    which was a third of a get-job's cost (bench/README.md); anything else falls back to deepcopy."""
    try:
        return orjson.loads(orjson.dumps(data))
    except TypeError:
        return copy.deepcopy(data)


def document(record: Record) -> dict[str, Any]:
    """A copy of the resource's document, safe to hand to the response pipeline."""
    return json_copy(record.data)


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
    data[f"{prefix}StateTransitionTime" if prefix else "stateTransitionTime"] = iso(state.now)
    data[field] = new_state
    state.touch(record)


def resource_url(call: Call, *segments: str) -> str:
    from urllib.parse import quote

    return call.base_url + "".join("/" + quote(s, safe="") for s in segments)


# -- jobs and tasks ------------------------------------------------------------------------


def expands(call: Call, name: str) -> bool:
    """Whether the request's `$expand` clause names `name` (`stats`)."""
    clause = call.query.get("$expand") or ""
    return name.lower() in {part.strip().lower() for part in clause.split(",")}


def selected(call: Call, data: Mapping[str, Any]) -> dict[str, Any]:
    """A detached copy of `data` cut down to the request's `$select` clause (all of it when absent)."""
    return json_copy(select(data, call.query.get("$select")))


def detached(reply: Reply) -> Reply:
    """The list page with its items copied: the body is serialised after the state lock is released,
    so it must not share dicts that later requests change (lists are built from the live documents
    to avoid copying every item of every page)."""
    if isinstance(reply.body, dict) and isinstance(reply.body.get("value"), list):
        reply.body["value"] = json_copy(reply.body["value"])
    return reply


# -- pools and nodes


def set_state(state: State, record: Record, value: str, *, field: str = "state", touch: bool = True) -> bool:
    """Set `field` and its `<field>TransitionTime` (pools and nodes document no previous state).

    Returns whether anything changed; `touch` gives the record a new ETag when it did.
    """
    if record.data.get(field) == value:
        return False
    record.data[field] = value
    record.data[f"{field}TransitionTime"] = iso(state.now)
    if touch:
        state.touch(record)
    return True


def pool_being_deleted() -> Any:
    """409 `PoolBeingDeleted` (a `ServiceError`): what any change to a pool in `deleting` gets."""
    from ..model import conflict

    return conflict("PoolBeingDeleted", "The specified pool has been marked for deletion and is being reclaimed.")


def live_pool(state: State, pool_id: str) -> Record:
    """The pool, for an operation that changes it or its nodes: 404 if absent, 409 while it is being deleted."""
    pool = state.pools.get(pool_id)
    if pool.data.get("state") == "deleting":
        raise pool_being_deleted()
    return pool


def bump(record: Record, key: str) -> int:
    """A new generation number for one kind of pending work on `record` (resize, autoscale, a node
    action). Scheduled events remember the number they were made under and do nothing once it
    has moved on, which is how a stop, a delete or a newer request cancels them."""
    record.extra[key] = record.extra.get(key, 0) + 1
    return record.extra[key]


def file_reply(call: Call, stored: Any, url: str, *, content: bool, linux: bool = True) -> Reply:
    """A node file's bytes (GET, `ocp-range` applied) or only its headers (HEAD), with the
    `ocp-batch-file-*` headers the file operations document; conditions apply to the file's
    own ETag and modification time. `stored` is a `StoredFile`; the mode is sent for Linux only."""
    import hashlib

    from ..state import check_conditions, http_date

    etag = "0x8DD" + hashlib.sha256(stored.content + iso(stored.modified).encode()).hexdigest()[:13].upper()
    check_conditions(call, Record({}, etag, stored.modified, "", {}), write=False)
    data = byte_range(call, stored.content) if content else stored.content
    headers = [
        ("ocp-creation-time", http_date(stored.created)),
        ("ocp-batch-file-isdirectory", "false"),
        ("ocp-batch-file-url", url),
        ("Content-Length", str(len(data))),
    ]
    if linux:
        headers.append(("ocp-batch-file-mode", stored.mode))
    if not content:
        headers.append(("Content-Type", "application/octet-stream"))
    from ..model import Entity

    body = data if content else None
    return Reply(200, body, Entity(etag, stored.modified), tuple(headers), "application/octet-stream")


def byte_range(call: Call, content: bytes) -> bytes:
    """`ocp-range: bytes=start-end` (end inclusive, optional; `bytes=-N` is the last N bytes)."""
    from ..model import ServiceError

    text = call.header("ocp-range")
    if not text:
        return content
    unit, _, span = text.strip().partition("=")
    first, _, last = (part.strip() for part in span.partition("-"))
    try:
        if unit.strip().lower() != "bytes" or not (first or last):
            raise ValueError
        if not first:
            start, end = max(0, len(content) - int(last)), len(content) - 1
        else:
            start, end = int(first), (int(last) if last else len(content) - 1)
    except ValueError:
        raise ServiceError(
            400,
            "InvalidHeaderValue",
            "The value for one of the HTTP headers is not in the correct format.",
            (("HeaderName", "ocp-range"), ("HeaderValue", text)),
        ) from None
    if start > end or start >= max(len(content), 1):
        raise ServiceError(416, "InvalidRange", "The range specified is invalid for the current size of the resource.")
    return content[start : end + 1]


def delete_file(files: dict, path: str, *, recursive: bool) -> Reply:
    """Delete a file, or a directory's files when `recursive` (a node's and a task's files alike).

    A non-empty directory without `recursive` is 409; a path that names nothing is 404.
    """
    if path in files:
        del files[path]
        return Reply(200)
    inside = [p for p in files if p.startswith(path + "/")]
    if not path or not inside:
        raise ServiceError(404, "FileNotFound", "The specified file does not exist.")
    if not recursive:
        raise conflict("OperationInvalidForCurrentState", "The directory is not empty; delete it with recursive=true.")
    for name in inside:
        del files[name]
    return Reply(200)


def refuse_in(record: Record, refusals: Mapping[str, tuple[str, str]]) -> None:
    """409 with the (code, message) `refusals` gives for the record's current state, if any:
    jobs and job schedules refuse changes while deleting, terminating or completed."""
    refusal = refusals.get(record.data.get("state"))
    if refusal is not None:
        raise conflict(*refusal)
