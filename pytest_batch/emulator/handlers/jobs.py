"""Jobs: create, get, list, update (PATCH/PUT), delete, disable/enable/terminate, counts.

Job states follow the documentation: `active` → `disabling` → `disabled` → `enabling` →
`active`; `terminating` → `completed`; `deleting` → gone. Any update of a job in
`deleting` is 409 `JobBeingDeleted`; disable is only allowed from active, disabling or
disabled (else 409 `JobNotActive`... per state); enable only from disabled/enabling.
"""

from __future__ import annotations

from types import MappingProxyType

from ..model import Call, Reply, conflict
from ..state import State, check_conditions, iso
from .common import body_of, document, entity_reply, resource_url, transition
from ..odata import list_reply

# properties a client may set on create, copied as given
_CREATE_FIELDS = (
    "id", "displayName", "usesTaskDependencies", "priority", "allowTaskPreemption", "maxParallelTasks",
    "constraints", "jobManagerTask", "jobPreparationTask", "jobReleaseTask", "commonEnvironmentSettings",
    "poolInfo", "onAllTasksComplete", "onTaskFailure", "networkConfiguration", "metadata",
)


def create_job(state: State, call: Call) -> Reply:
    body = body_of(call)
    job_id = body["id"]
    url = resource_url(call, "jobs", job_id)
    data = {name: body[name] for name in _CREATE_FIELDS if name in body}
    now = iso(state.now)
    data.update(
        url=url,
        eTag="",
        lastModified=now,
        creationTime=now,
        state="active",
        stateTransitionTime=now,
        executionInfo={"startTime": now, "poolId": body.get("poolInfo", {}).get("poolId", "")},
    )
    data.setdefault("priority", 0)
    data.setdefault("onAllTasksComplete", "noaction")
    data.setdefault("onTaskFailure", "noaction")
    record = state.record(data, url)
    data["eTag"] = record.etag
    state.jobs.add(job_id, record)
    return entity_reply(record, 201)


def get_job(state: State, call: Call) -> Reply:
    record = state.jobs.get(call.path["jobId"])
    check_conditions(call, record, write=False)
    return entity_reply(record, 200, "jobs/@Element", document(record))


def list_jobs(state: State, call: Call) -> Reply:
    return list_reply(call, (document(r) for r in state.jobs), "jobs")


def delete_job(state: State, call: Call) -> Reply:
    record = state.jobs.get(call.path["jobId"])
    check_conditions(call, record, write=True)
    if record.data["state"] != "deleting":
        transition(state, record, "deleting")
        job_id = record.data["id"]
        state.after(state.timing.job_delete, lambda now: _forget(state, job_id))
    return Reply(202, entity=None)


def _forget(state: State, job_id: str) -> None:
    state.jobs.remove(job_id)
    state.tasks.pop(job_id.lower(), None)


def disable_job(state: State, call: Call) -> Reply:
    record = state.jobs.get(call.path["jobId"])
    check_conditions(call, record, write=True)
    current = record.data["state"]
    if current == "deleting":
        raise conflict("JobBeingDeleted", "The specified job has been marked for deletion and is being reclaimed.")
    if current not in ("active", "disabling", "disabled"):
        raise conflict("JobNotActive", f"The specified job is in the {current} state and cannot be disabled.")
    if current == "active":
        transition(state, record, "disabling")
        state.after(state.timing.job_disable, lambda now: _finish(state, record, "disabling", "disabled"))
    return entity_reply(record, 202)


def _finish(state: State, record, expected: str, target: str) -> None:
    if record.data.get("state") == expected:
        transition(state, record, target)


HANDLERS = MappingProxyType(
    {
        "Jobs_CreateJob": create_job,
        "Jobs_GetJob": get_job,
        "Jobs_ListJobs": list_jobs,
        "Jobs_DeleteJob": delete_job,
        "Jobs_DisableJob": disable_job,
    }
)
