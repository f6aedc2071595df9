"""OData query options on list operations: `$filter`, `$select`, `maxresults` and paging.

A list answer holds at most `maxresults` items (default 1000) and, when more remain, an
`odata.nextLink` that repeats the query with a `$skiptoken`. The token is the offset into
the filtered list; lists are in creation order, so pages are stable while nothing is added.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote

from .filters import compile_filter
from .model import Call, Reply, ServiceError

DEFAULT_PAGE = 1000


def _bad_query(name: str, value: str, reason: str) -> ServiceError:
    return ServiceError(
        400,
        "InvalidQueryParameterValue",
        "Value for one of the query parameters specified in the request URI is invalid.",
        (("QueryParameterName", name), ("QueryParameterValue", value), ("Reason", reason)),
    )


def select(document: Mapping[str, Any], fields: str | None) -> dict[str, Any]:
    """Keep only the top-level properties named in a `$select` clause (all when absent)."""
    if not fields:
        return dict(document)
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    return {name: document[name] for name in wanted if name in document}


def matching(call: Call, documents: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The documents that pass the request's `$filter` (all when there is none)."""
    text = call.query.get("$filter")
    if not text:
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
    """One page of `documents` (already in creation order) as a Batch list response."""
    items = matching(call, documents)
    size = DEFAULT_PAGE
    if "maxresults" in call.query:
        size = int(call.query["maxresults"])  # range checked by the contract (1..1000)
    token = call.query.get("$skiptoken", "0")
    if not token.isdigit():
        raise _bad_query("$skiptoken", token, "not a token this service issued")
    start = int(token)
    page = items[start : start + size]
    fields = call.query.get("$select")
    value = [select(transform(doc) if transform else doc, fields) for doc in page]
    body: dict[str, Any] = {"value": value}
    if start + size < len(items):
        body["odata.nextLink"] = _next_link(call, start + size)
    return Reply(200, body, odata_type=odata_type)


def _next_link(call: Call, offset: int) -> str:
    from urllib.parse import urlencode

    kept = {k: v for k, v in call.query.items() if k not in ("$skiptoken", "timeout")}
    kept["$skiptoken"] = str(offset)
    return f"{call.base_url}{call_path(call)}?{urlencode(kept, quote_via=quote, safe='$')}"


def call_path(call: Call) -> str:
    """The request path rebuilt from the operation's canonical template (for nextLink)."""
    template = _TEMPLATES[call.operation_id]
    for name, value in call.path.items():
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return template


_TEMPLATES = {
    "Applications_ListApplications": "/applications",
    "Jobs_ListJobs": "/jobs",
    "Jobs_ListJobsFromSchedule": "/jobschedules/{jobScheduleId}/jobs",
    "Jobs_ListJobPreparationAndReleaseTaskStatus": "/jobs/{jobId}/jobpreparationandreleasetaskstatus",
    "Tasks_ListTasks": "/jobs/{jobId}/tasks",
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
}
