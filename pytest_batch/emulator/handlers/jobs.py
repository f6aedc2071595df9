"""Jobs: create, get, list, update (PATCH) and replace (PUT), delete, disable, enable, terminate,
task counts, preparation/release task status, and the jobs of a schedule.

Job states follow the documentation: `active` → `disabling` → `disabled` → `enabling` → `active`;
`terminating` → `completed`; `deleting` → gone (the timed parts are in `scheduler`). Any change to
a job in `deleting` is 409 `JobBeingDeleted`; a `completed` job is 409 `JobCompleted` and a
`terminating` one 409 `JobBeingTerminated`. Disable is allowed from active, disabling or
disabled; enable from disabled or enabling.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from .. import scheduler
from ..model import Call, Reply, ServiceError, conflict, invalid_property
from ..odata import list_reply
from ..state import Record, State, check_conditions
from .common import body_of, detached, entity_reply, expands, refuse_in, resource_url, selected

# what PUT resets when the request leaves it out (the documented defaults)
_REPLACE_DEFAULTS = MappingProxyType(
    {"priority": 0, "allowTaskPreemption": False, "maxParallelTasks": -1, "onAllTasksComplete": "noaction"}
)


def _job(state: State, call: Call) -> Record:
    return state.jobs.get(call.path["jobId"])


_UNCHANGEABLE = MappingProxyType(
    {
        "deleting": ("JobBeingDeleted", "The specified job has been marked for deletion and is being reclaimed."),
        "terminating": ("JobBeingTerminated", "The specified job is being terminated."),
        "completed": ("JobCompleted", "The specified job is already in a completed state."),
    }
)


def ensure_changeable(job: Record) -> None:
    """409 for a job that no longer takes changes (being deleted, terminating or completed)."""
    refuse_in(job, _UNCHANGEABLE)


def _check_settings(body: dict[str, Any]) -> None:
    """Rules the schema does not state: priority -1000..1000, maxParallelTasks -1 or > 0."""
    priority = body.get("priority")
    if priority is not None and not -1000 <= priority <= 1000:
        raise invalid_property("priority", priority, "The priority must be between -1000 and 1000.")
    parallel = body.get("maxParallelTasks")
    if parallel is not None and parallel != -1 and parallel < 1:
        raise invalid_property("maxParallelTasks", parallel, "The value must be -1 or greater than 0.")


def _view(state: State, call: Call, job: Record) -> dict[str, Any]:
    data = job.data
    if expands(call, "stats"):
        data = {**data, "stats": scheduler.job_stats(state, job)}
    return selected(call, data)


def create_job(state: State, call: Call) -> Reply:
    body = body_of(call)
    job_id = body["id"]
    _check_settings(body)
    if body.get("jobReleaseTask") and not body.get("jobPreparationTask"):
        raise invalid_property(
            "jobReleaseTask", "(set)", "A job release task needs a job preparation task in the same job."
        )
    if job_id in state.job_schedules:
        raise conflict("JobScheduleWithSameIdExists", "A job schedule with the specified job id exists.")
    record = scheduler.new_job(state, job_id, body, resource_url(call, "jobs", job_id), call.base_url)
    return entity_reply(record, 201)


def get_job(state: State, call: Call) -> Reply:
    record = _job(state, call)
    check_conditions(call, record, write=False)
    return entity_reply(record, 200, "jobs/@Element", _view(state, call, record))


def list_jobs(state: State, call: Call) -> Reply:
    return _list(state, call, list(state.jobs))


def list_jobs_from_schedule(state: State, call: Call) -> Reply:
    schedule = state.job_schedules.get(call.path["jobScheduleId"])
    key = schedule.data["id"].lower()
    return _list(state, call, [job for job in state.jobs if job.extra.get("schedule") == key])


def _list(state: State, call: Call, jobs: list[Record]) -> Reply:
    if expands(call, "stats"):
        documents = [{**job.data, "stats": scheduler.job_stats(state, job)} for job in jobs]
    else:
        documents = [job.data for job in jobs]
    return detached(list_reply(call, documents, "jobs"))


def update_job(state: State, call: Call) -> Reply:
    """PATCH: only the properties the request names change."""
    record = _job(state, call)
    check_conditions(call, record, write=True)
    ensure_changeable(record)
    body = body_of(call)
    _apply(state, record, body, replace=False)
    return entity_reply(record, 200)


def replace_job(state: State, call: Call) -> Reply:
    """PUT: every updatable property is set; one the request leaves out returns to its default."""
    record = _job(state, call)
    check_conditions(call, record, write=True)
    ensure_changeable(record)
    body = body_of(call)
    full = {**_REPLACE_DEFAULTS, "constraints": None, "metadata": None, "commonEnvironmentSettings": None, **body}
    _apply(state, record, full, replace=True)
    return entity_reply(record, 200)


def _apply(state: State, record: Record, body: dict[str, Any], *, replace: bool) -> None:
    _check_settings(body)
    data = record.data
    if data.get("onAllTasksComplete") == "terminatejob" and body.get("onAllTasksComplete") == "noaction":
        raise invalid_property(
            "onAllTasksComplete", "noaction", "Automatic termination, once engaged, cannot be turned off."
        )
    pool_info = body.get("poolInfo")
    if pool_info is not None and pool_info != data.get("poolInfo") and data.get("state") != "disabled":
        raise ServiceError(
            409, "OperationInvalidForCurrentState", "The pool of a job can only be changed while the job is disabled."
        )
    for name in ("priority", "allowTaskPreemption", "maxParallelTasks", "onAllTasksComplete", "networkConfiguration"):
        if name in body:
            data[name] = body[name]
    for name in ("metadata", "commonEnvironmentSettings"):  # PATCH cannot name the second: PUT sets or removes it
        if name in body and body[name] is None:
            data.pop(name, None)
        elif name in body:
            data[name] = body[name]
    if "constraints" in body:
        current = {} if replace else data.get("constraints")
        data["constraints"] = scheduler.job_constraints({**(current or {}), **(body["constraints"] or {})})
        scheduler.arm_wall_clock(state, record)
    if pool_info is not None and pool_info != data.get("poolInfo"):
        data["poolInfo"] = pool_info
        if data["poolInfo"].get("poolId"):
            data.setdefault("executionInfo", {})["poolId"] = data["poolInfo"]["poolId"]
    state.touch(record)
    scheduler.check_all_complete(state, record)


def delete_job(state: State, call: Call) -> Reply:
    record = _job(state, call)
    check_conditions(call, record, write=True)
    scheduler.delete_job(state, record)
    return Reply(202)


def disable_job(state: State, call: Call) -> Reply:
    record = _job(state, call)
    check_conditions(call, record, write=True)
    current = record.data["state"]
    if current == "deleting":
        raise conflict("JobBeingDeleted", "The specified job has been marked for deletion and is being reclaimed.")
    if current not in ("active", "disabling", "disabled"):
        raise conflict("JobNotActive", f"The specified job is in the {current} state and cannot be disabled.")
    scheduler.disable_job(state, record, body_of(call).get("disableTasks", "requeue"))
    return entity_reply(record, 202)


def enable_job(state: State, call: Call) -> Reply:
    record = _job(state, call)
    check_conditions(call, record, write=True)
    current = record.data["state"]
    if current not in ("disabled", "enabling"):
        ensure_changeable(record)
        raise conflict(
            "OperationInvalidForCurrentState", f"The specified job is {current}; only a disabled job can be enabled."
        )
    scheduler.enable_job(state, record)
    return entity_reply(record, 202)


def terminate_job(state: State, call: Call) -> Reply:
    record = _job(state, call)
    check_conditions(call, record, write=True)
    ensure_changeable(record)
    reason = body_of(call).get("terminateReason") or "UserTerminate"
    scheduler.terminate_job(state, record, reason)
    return entity_reply(record, 202)


def get_task_counts(state: State, call: Call) -> Reply:
    record = _job(state, call)
    return Reply(200, scheduler.task_counts(state, record), odata_type="taskcounts/@Element")


def list_preparation_and_release_status(state: State, call: Call) -> Reply:
    record = _job(state, call)
    if not record.data.get("jobPreparationTask") and not record.data.get("jobReleaseTask"):
        raise conflict("JobPreparationTaskNotSpecified", "The specified job does not have a job preparation task.")
    return list_reply(call, scheduler.preparation_status(record), "jobpreparationandreleasetaskstatuslist")


HANDLERS = MappingProxyType(
    {
        "Jobs_CreateJob": create_job,
        "Jobs_GetJob": get_job,
        "Jobs_ListJobs": list_jobs,
        "Jobs_ListJobsFromSchedule": list_jobs_from_schedule,
        "Jobs_UpdateJob": update_job,
        "Jobs_ReplaceJob": replace_job,
        "Jobs_DeleteJob": delete_job,
        "Jobs_DisableJob": disable_job,
        "Jobs_EnableJob": enable_job,
        "Jobs_TerminateJob": terminate_job,
        "Jobs_GetJobTaskCounts": get_task_counts,
        "Jobs_ListJobPreparationAndReleaseTaskStatus": list_preparation_and_release_status,
    }
)
