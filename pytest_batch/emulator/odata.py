"""OData query options on list operations: `$filter`, `$select`, `maxresults` and paging.

A list answer holds at most `maxresults` items (1..1000, default 1000) and, when more remain,
an `odata.nextLink` that repeats the query with a `$skiptoken`, as the service's own links do.

The token names where the previous page ended twice over: the offset into the filtered list
and the identity (`id`, else `name`, else `url`) of that page's last item. The next page starts
after that item wherever it now sits, so deleting resources while paging (the usual clean-up
loop) neither skips nor repeats any; the offset is the fallback for lists without identities
or when that very item has gone. Lists are in creation order, so new items come last.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlencode

from .filters import compile_filter
from .model import Call, Reply, ServiceError

DEFAULT_PAGE = 1000
MAX_PAGE = 1000
IDENTITY_FIELDS = ("id", "name", "url")
_NOT_CARRIED = ("$skiptoken", "timeout")  # the link sets its own token; timeout is per request


def _bad_query(name: str, value: str, reason: str, code: str = "InvalidQueryParameterValue") -> ServiceError:
    return ServiceError(
        400,
        code,
        "Value for one of the query parameters specified in the request URI is invalid.",
        (("QueryParameterName", name), ("QueryParameterValue", value), ("Reason", reason)),
    )


def select(document: Mapping[str, Any], fields: str | None) -> dict[str, Any]:
    """Keep only the top-level properties named in a `$select` clause (all when absent).

    Names the resource does not have are ignored, as the service ignores them.
    """
    if not fields or not fields.strip():
        return dict(document)
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    return {name: document[name] for name in wanted if name in document}


def matching(call: Call, documents: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The documents that pass the request's `$filter` (all when there is none)."""
    text = call.query.get("$filter")
    if text is None or not text.strip():
        return list(documents)
    try:
        predicate = compile_filter(text)
    except ValueError as exc:
        raise _bad_query("$filter", text, str(exc)) from None
    return [doc for doc in documents if predicate(doc)]


def list_reply(
    call: Call,
    documents: Iterable[Mapping[str, Any]],
    odata_type: str,
    *,
    transform: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> Reply:
    """One page of `documents` (already in creation order) as a Batch list response.

    `transform` turns a stored document into what the client sees; `$filter` tests that view,
    so a filter can only name properties the client could read.
    """
    size = _page_size(call)
    views = [transform(doc) for doc in documents] if transform else list(documents)
    items = matching(call, views)
    start = _page_start(call, items)
    page = items[start : start + size]
    fields = call.query.get("$select")
    body: dict[str, Any] = {"value": [select(doc, fields) for doc in page]}
    end = start + len(page)
    if end < len(items):
        body["odata.nextLink"] = _next_link(call, _token(end, page[-1]))
    return Reply(200, body, odata_type=odata_type)


def _page_size(call: Call) -> int:
    """`maxresults`, checked here too: the contract check may be off, and 0 would loop a client forever."""
    raw = call.query.get("maxresults")
    if raw is None:
        return DEFAULT_PAGE
    if not (raw.isascii() and raw.isdigit()):
        raise _bad_query("maxresults", raw, "The value is not an integer.")
    size = int(raw)
    if not 1 <= size <= MAX_PAGE:
        raise _bad_query(
            "maxresults", raw, f"The value must be between 1 and {MAX_PAGE}.", "OutOfRangeQueryParameterValue"
        )
    return size


def _identity(document: Mapping[str, Any]) -> str | None:
    for name in IDENTITY_FIELDS:
        value = document.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _token(offset: int, last: Mapping[str, Any]) -> str:
    """`<offset>` or `<offset>.<base64url identity of the page's last item>`: URL-safe, opaque to clients."""
    key = _identity(last)
    if key is None:
        return str(offset)
    return f"{offset}.{base64.urlsafe_b64encode(key.encode('utf-8')).decode('ascii').rstrip('=')}"


def _page_start(call: Call, items: list[Mapping[str, Any]]) -> int:
    token = call.query.get("$skiptoken")
    if token is None:
        return 0
    offset_text, _, encoded = token.partition(".")
    if not (offset_text.isascii() and offset_text.isdigit()):
        raise _bad_query("$skiptoken", token, "The token was not issued by this service.")
    key = None
    if encoded:
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            key = base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _bad_query("$skiptoken", token, "The token was not issued by this service.") from None
    if key is not None:
        for index, doc in enumerate(items):
            if _identity(doc) == key:
                return index + 1
    return min(int(offset_text), len(items))


def _next_link(call: Call, token: str) -> str:
    kept = {k: v for k, v in call.query.items() if k not in _NOT_CARRIED}
    kept["$skiptoken"] = token
    return f"{call.base_url}{call_path(call)}?{urlencode(kept, quote_via=quote, safe='$')}"


def call_path(call: Call) -> str:
    """The request path rebuilt from the operation's canonical template (for nextLink)."""
    template = _TEMPLATES.get(call.operation_id)
    if template is None:
        raise KeyError(f"no list path is known for {call.operation_id}; add it to odata._TEMPLATES")
    for name, value in call.path.items():
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return template


# every pageable operation, by the id handlers are registered under (2025-06-01 names; the
# operations that exist only in older versions keep their own id, see routing)
_TEMPLATES = MappingProxyType(
    {
        "Applications_ListApplications": "/applications",
        "Jobs_ListJobs": "/jobs",
        "Jobs_ListJobsFromSchedule": "/jobschedules/{jobScheduleId}/jobs",
        "Jobs_ListJobPreparationAndReleaseTaskStatus": "/jobs/{jobId}/jobpreparationandreleasetaskstatus",
        "Tasks_ListTasks": "/jobs/{jobId}/tasks",
        "Tasks_ListSubTasks": "/jobs/{jobId}/tasks/{taskId}/subtasksinfo",
        "Tasks_ListTaskFiles": "/jobs/{jobId}/tasks/{taskId}/files",
        "JobSchedules_ListJobSchedules": "/jobschedules",
        "Pools_ListPoolNodeCounts": "/nodecounts",
        "Pools_ListPools": "/pools",
        "Pools_ListPoolUsageMetrics": "/poolusagemetrics",
        "Pools_ListSupportedImages": "/supportedimages",
        "Nodes_ListNodes": "/pools/{poolId}/nodes",
        "Nodes_ListNodeExtensions": "/pools/{poolId}/nodes/{nodeId}/extensions",
        "Nodes_ListNodeFiles": "/pools/{poolId}/nodes/{nodeId}/files",
        "Certificate_List": "/certificates",
        "Account_ListNodeAgentSkus": "/nodeagentskus",
    }
)
