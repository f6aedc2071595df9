"""Job schedules: create, get, list, exists (HEAD), update (PATCH), replace (PUT), delete,
disable, enable, terminate.

States: `active` ⇄ `disabled`; `terminating` → `completed`; `deleting` → gone. When jobs are
created is `scheduler.plan_schedule`'s rule. A schedule being deleted answers changes with 409
`JobScheduleBeingDeleted`, one terminating with `JobScheduleBeingTerminated`, a completed one
with `JobScheduleCompleted`. `recurrenceInterval` and `startWindow` must be at least one minute.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from .. import scheduler
from ..model import Call, Reply, conflict, invalid_property
from ..odata import list_reply
from ..state import Record, State, check_conditions, iso
from .common import body_of, detached, entity_reply, expands, refuse_in, resource_url, selected

MIN_INTERVAL = 60.0  # seconds: the documented minimum of recurrenceInterval and startWindow


def _schedule(state: State, call: Call) -> Record:
    return state.job_schedules.get(call.path["jobScheduleId"])


_UNCHANGEABLE = MappingProxyType(
    {
        "deleting": ("JobScheduleBeingDeleted", "The specified job schedule has been marked for deletion."),
        "terminating": ("JobScheduleBeingTerminated", "The specified job schedule is being terminated."),
        "completed": ("JobScheduleCompleted", "The specified job schedule is already in completed state."),
    }
)


def _ensure_changeable(schedule: Record) -> None:
    refuse_in(schedule, _UNCHANGEABLE)


def _check_schedule(config: dict[str, Any] | None) -> None:
    for name in ("recurrenceInterval", "startWindow"):
        value = (config or {}).get(name)
        seconds = scheduler.seconds_of(value)
        if value is not None and (seconds is None or seconds < MIN_INTERVAL):
            raise invalid_property(f"schedule.{name}", value, "The minimum value is 1 minute.")


def _view(state: State, call: Call, schedule: Record) -> dict[str, Any]:
    data = schedule.data
    if expands(call, "stats"):
        data = {**data, "stats": scheduler.schedule_stats(state, schedule)}
    return selected(call, data)


def create_job_schedule(state: State, call: Call) -> Reply:
    body = body_of(call)
    schedule_id = body["id"]
    _check_schedule(body.get("schedule"))
    if schedule_id in state.jobs:
        raise conflict("JobWithSameIdExists", "A job with the specified job schedule id exists.")
    url = resource_url(call, "jobschedules", schedule_id)
    now = iso(state.now)
    data: dict[str, Any] = {"id": schedule_id}
    data.update(
        {name: body[name] for name in ("displayName", "schedule", "jobSpecification", "metadata") if name in body}
    )
    data.update(
        url=url, eTag="", lastModified=now, creationTime=now, state="active", stateTransitionTime=now, executionInfo={}
    )
    record = state.record(data, url, base_url=call.base_url, created=state.now, count=0)
    data["eTag"] = record.etag
    state.job_schedules.add(schedule_id, record)
    scheduler.plan_schedule(state, record)
    return entity_reply(record, 201)


def get_job_schedule(state: State, call: Call) -> Reply:
    record = _schedule(state, call)
    check_conditions(call, record, write=False)
    return entity_reply(record, 200, "jobschedules/@Element", _view(state, call, record))


def job_schedule_exists(state: State, call: Call) -> Reply:
    record = _schedule(state, call)
    check_conditions(call, record, write=False)
    return entity_reply(record, 200)


def list_job_schedules(state: State, call: Call) -> Reply:
    schedules = list(state.job_schedules)
    if expands(call, "stats"):
        documents = [{**s.data, "stats": scheduler.schedule_stats(state, s)} for s in schedules]
    else:
        documents = [s.data for s in schedules]
    return detached(list_reply(call, documents, "jobschedules"))


def update_job_schedule(state: State, call: Call) -> Reply:
    """PATCH: only what the request names changes; new jobs use it, jobs already made keep theirs."""
    record = _schedule(state, call)
    check_conditions(call, record, write=True)
    _ensure_changeable(record)
    _apply(state, record, body_of(call))
    return entity_reply(record, 200)


def replace_job_schedule(state: State, call: Call) -> Reply:
    """PUT: `schedule` and `metadata` left out are removed (a schedule without recurrence)."""
    record = _schedule(state, call)
    check_conditions(call, record, write=True)
    _ensure_changeable(record)
    _apply(state, record, {"schedule": {}, "metadata": None, **body_of(call)})
    return entity_reply(record, 200)


def _apply(state: State, record: Record, body: dict[str, Any]) -> None:
    data = record.data
    if "schedule" in body:
        _check_schedule(body["schedule"])
        data["schedule"] = body["schedule"]
    if "jobSpecification" in body:
        spec = dict(body["jobSpecification"])
        spec.setdefault("poolInfo", data.get("jobSpecification", {}).get("poolInfo", {}))
        data["jobSpecification"] = spec
    if "metadata" in body:
        if body["metadata"] is None:
            data.pop("metadata", None)
        else:
            data["metadata"] = body["metadata"]
    state.touch(record)
    if "schedule" in body and data.get("state") in ("active", "disabled"):
        scheduler.plan_schedule(state, record)


def delete_job_schedule(state: State, call: Call) -> Reply:
    record = _schedule(state, call)
    check_conditions(call, record, write=True)
    scheduler.delete_schedule(state, record)
    return Reply(202)


def disable_job_schedule(state: State, call: Call) -> Reply:
    record = _schedule(state, call)
    check_conditions(call, record, write=True)
    _ensure_changeable(record)
    scheduler.disable_schedule(state, record)
    return entity_reply(record, 204)


def enable_job_schedule(state: State, call: Call) -> Reply:
    record = _schedule(state, call)
    check_conditions(call, record, write=True)
    _ensure_changeable(record)
    scheduler.enable_schedule(state, record)
    return entity_reply(record, 204)


def terminate_job_schedule(state: State, call: Call) -> Reply:
    record = _schedule(state, call)
    check_conditions(call, record, write=True)
    if record.data.get("state") != "terminating":
        _ensure_changeable(record)
    scheduler.terminate_schedule(state, record)
    return entity_reply(record, 202)


HANDLERS = MappingProxyType(
    {
        "JobSchedules_CreateJobSchedule": create_job_schedule,
        "JobSchedules_GetJobSchedule": get_job_schedule,
        "JobSchedules_JobScheduleExists": job_schedule_exists,
        "JobSchedules_ListJobSchedules": list_job_schedules,
        "JobSchedules_UpdateJobSchedule": update_job_schedule,
        "JobSchedules_ReplaceJobSchedule": replace_job_schedule,
        "JobSchedules_DeleteJobSchedule": delete_job_schedule,
        "JobSchedules_DisableJobSchedule": disable_job_schedule,
        "JobSchedules_EnableJobSchedule": enable_job_schedule,
        "JobSchedules_TerminateJobSchedule": terminate_job_schedule,
    }
)
