"""What the emulated service does on its own: run tasks on nodes, end jobs, fire job schedules.

Handlers apply what a client asked for; everything that happens *later* lives here, as
`State.after` events driven by the clock. `dispatch(state)` runs after every request and every
`advance` and starts whatever can start. With a `ManualClock` every run is the same.

The task rule
-------------
* A task waits in its job's queue (creation order; a retried, requeued or reactivated task
  rejoins at the end). It can start when its job is `active`, the job's pool
  (`executionInfo.poolId`, else `poolInfo.poolId`) exists and is not being deleted, the job holds
  fewer than `maxParallelTasks` tasks (when that is positive) and, if the job `usesTaskDependencies`,
  every task named in `dependsOn.taskIds` or in a `taskIdRanges` range has completed with
  `result: success` (or its exit options say `dependencyAction: satisfy`). Jobs are served by
  `priority`, highest first, then in creation order.
* A node can take it when its `state` is `idle` or `running`, its `schedulingState` is not
  `disabled` and it has at least `requiredSlots` free slots (pool `taskSlotsPerNode`, default 1,
  minus the slots of the tasks it holds; a job manager task with `runExclusive` needs the whole
  node). Nodes are tried in id order; with `taskSchedulingPolicy.nodeFillType: spread` the node
  with the most free slots wins (ties in id order). A multi-instance task needs
  `numberOfInstances` distinct nodes, one slot on each, and waits until it has them all.
* The slots are held from that moment; the task turns `running` `Timing.task_start` seconds later.
  If the job has a job preparation task (with `waitForSuccess`) that has not yet succeeded on the
  node, the task is `preparing` until it has; the preparation task follows the run rules below,
  and once it has failed for good the node takes no more tasks of that job.
* It runs `Timing.task_run` seconds, or the sum of every `sleep N` in its command line. Its exit
  code is N from the first `exit N` in the command line, else 0; a multi-instance task also fails
  when its `coordinationCommandLine` exits non-zero.
* A `constraints.maxWallClockTime` shorter than the run ends the task when it runs out: exit
  code 137 (killed), `result: failure`, `failureInfo.code: TaskEnded`, no retry.
* A non-zero exit is retried — the task goes back to `active` with `retryCount` + 1 — while
  `retryCount < constraints.maxTaskRetryCount` (-1: without limit; the task's constraints default
  to the job's); after that it completes with `result: failure` and `failureInfo.code:
  FailureExitCode`. Exit code 0 completes it with `result: success`.
* The run leaves `stdout.txt` (the command line and a newline) and `stderr.txt` (empty, or
  `exit code N` and a newline) in `workitems/<job>/job-1/<task>/` among the node's files.
* Nodes show it: `runningTasksCount`, `runningTaskSlotsCount` and `recentTasks` while held,
  `totalTasksRun`/`totalTasksSucceeded` when a run ends, `state` `running` while the node holds a
  task and `idle` again afterwards.

Jobs and job schedules follow the rules in the docstrings of `terminate_job`, `disable_job`,
`check_all_complete` and `plan_schedule`.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from .model import ServiceError, StoredFile, invalid_property
from .state import Record, State, iso

FOREVER = "P10675199DT2H48M5.4775807S"  # how the service writes "no limit" (.NET TimeSpan.MaxValue)
KILLED = 137  # exit code of a process the node had to kill (128 + SIGKILL)
RECENT_TASKS = 10  # tasks a node document lists in `recentTasks`
MAX_DEPENDENCY_CHARS = 64000
HOLDING = ("preparing", "running")  # task states in which the task holds node slots
JOB_LIVE = ("active", "disabling", "disabled", "enabling", "terminating")

_SLEEP = re.compile(r"\bsleep\s+(\d+(?:\.\d+)?)\b")
_EXIT = re.compile(r"\bexit\s+(-?\d+)\b")
_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION = re.compile(
    rf"(-)?P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?"
)
_UNIT_SECONDS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)  # years and months approximated
_TIME = re.compile(r"(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:?\d\d)?")

# the properties a job takes from a create request or a schedule's jobSpecification
JOB_FIELDS = (
    "displayName", "usesTaskDependencies", "priority", "allowTaskPreemption", "maxParallelTasks",
    "constraints", "jobManagerTask", "jobPreparationTask", "jobReleaseTask", "commonEnvironmentSettings",
    "poolInfo", "onAllTasksComplete", "onTaskFailure", "networkConfiguration", "metadata",
)  # fmt: skip
# the properties a task takes from a create request (all of BatchTaskCreateOptions)
TASK_FIELDS = (
    "id", "displayName", "exitConditions", "commandLine", "containerSettings", "resourceFiles", "outputFiles",
    "environmentSettings", "affinityInfo", "constraints", "requiredSlots", "userIdentity", "multiInstanceSettings",
    "dependsOn", "applicationPackageReferences", "authenticationTokenSettings",
)  # fmt: skip
_SPECIAL_TASKS = (
    ("jobPreparationTask", "TaskIdSameAsJobPreparationTask"),
    ("jobReleaseTask", "TaskIdSameAsJobReleaseTask"),
)
# the job manager's properties that a task document has too
_MANAGER_AS_TASK = (
    "id", "displayName", "commandLine", "containerSettings", "resourceFiles", "outputFiles", "environmentSettings",
    "constraints", "requiredSlots", "userIdentity", "applicationPackageReferences", "authenticationTokenSettings",
)  # fmt: skip


# -- pure rules --------------------------------------------------------------------------------


def run_seconds(command_line: str, default: float) -> float:
    """How long a command line runs: the sum of its `sleep N`s, else `default`."""
    sleeps = [float(n) for n in _SLEEP.findall(command_line or "")]
    return sum(sleeps) if sleeps else default


def exit_code(command_line: str) -> int:
    """The exit code a command line ends with: N from its first `exit N`, else 0 (clamped to int32)."""
    found = _EXIT.search(command_line or "")
    return 0 if found is None else max(-(2**31), min(2**31 - 1, int(found.group(1))))


def seconds_of(duration: Any) -> float | None:
    """An ISO 8601 duration in seconds (a year is 365 days, a month 30); None when absent or unreadable."""
    if not isinstance(duration, str):
        return None
    found = _DURATION.fullmatch(duration.strip())
    if found is None or duration.strip() in ("P", "-P"):
        return None
    total = sum(float(part) * unit for part, unit in zip(found.groups()[1:], _UNIT_SECONDS) if part)
    return -total if found.group(1) else total


def duration_text(seconds: float) -> str:
    """Seconds as an ISO 8601 duration, the way the service writes them (`PT0S`, `PT1M30S`, `P1DT2H`)."""
    seconds = max(0.0, seconds)
    whole = int(seconds)
    fraction = round(seconds - whole, 7)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if fraction:
        clock += f"{secs + fraction:.7f}".rstrip("0") + "S"
    elif secs or not (days or clock):
        clock += f"{secs}S"
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")


def parse_time(text: Any) -> datetime | None:
    """A body date (ISO 8601) as an aware datetime; None when absent or unreadable."""
    if not isinstance(text, str):
        return None
    found = _TIME.fullmatch(text.strip())
    if found is None:
        return None
    day, clock, fraction, zone = found.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}.{(fraction or '0')[:6].ljust(6, '0')}")
    except ValueError:
        return None
    offset = timedelta(0)
    if zone and zone not in "Zz":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment.replace(tzinfo=timezone.utc) - offset


def dependency_ids(depends_on: Mapping[str, Any] | None) -> Iterator[str]:
    """Every task id a `dependsOn` names: its `taskIds`, then each range's ids (inclusive) as text."""
    if not depends_on:
        return
    yield from depends_on.get("taskIds") or ()
    for span in depends_on.get("taskIdRanges") or ():
        for number in range(int(span["start"]), int(span["end"]) + 1):
            yield str(number)


def exit_options(task: Mapping[str, Any], code: int | None) -> dict[str, Any]:
    """The `exitConditions` entry that applies to exit code `code` ({} when none does)."""
    conditions = task.get("exitConditions") or {}
    if code is not None:
        for mapping in conditions.get("exitCodes") or ():
            if mapping.get("code") == code:
                return dict(mapping.get("exitOptions") or {})
        for span in conditions.get("exitCodeRanges") or ():
            if span.get("start", 0) <= code <= span.get("end", -1):
                return dict(span.get("exitOptions") or {})
    if code == 0:
        return {}
    return dict(conditions.get("default") or {})


def _failure(code: str, message: str) -> dict[str, Any]:
    return {"category": "usererror", "code": code, "message": message}


# -- small accessors -----------------------------------------------------------------------------


def _key(record: Record) -> str:
    return record.data["id"].lower()


def job_extra(job: Record) -> dict[str, Any]:
    """The emulator's own facts about a job (queue, open tasks, held tasks, preparation runs)."""
    extra = job.extra
    extra.setdefault("queue", {})  # lower task id → None, in the order tasks may start
    extra.setdefault("open", set())  # lower ids of the tasks not completed
    extra.setdefault("holding", set())  # lower ids of the tasks holding node slots
    extra.setdefault("prep", {})  # node key → {"poolId", "nodeId", "nodeUrl", "info"}
    extra.setdefault("release", {})  # node key → the same for the job release task
    return extra


def _tasks(state: State, job: Record) -> Any:
    return state.tasks_of(job.data["id"])


def _live(state: State, job: Record, task: Record | None = None) -> bool:
    """Whether `job` (and `task`) are still the records the tables hold (not deleted, not re-created)."""
    if state.jobs.find(job.data["id"]) is not job:
        return False
    if task is None:
        return True
    table = state.tasks.get(_key(job))
    return table is not None and table.find(task.data["id"]) is task


def _enter(state: State, record: Record, new_state: str) -> None:
    from .handlers.common import transition  # the handler package imports this module: bind late

    transition(state, record, new_state)


def _pool_of(state: State, job: Record) -> Record | None:
    data = job.data
    pool_id = (data.get("executionInfo") or {}).get("poolId") or (data.get("poolInfo") or {}).get("poolId")
    pool = state.pools.find(pool_id) if pool_id else None
    if pool is None or pool.data.get("state") == "deleting":
        return None
    return pool


def _slots_per_node(pool: Record) -> int:
    return max(1, int(pool.data.get("taskSlotsPerNode") or 1))


def _held(node: Record) -> dict[tuple[str, str], int]:
    """(lower job id, lower task id) → slots, for the tasks holding `node`."""
    return node.extra.setdefault("tasks", {})


def _free_slots(node: Record, per_node: int) -> int:
    return per_node - sum(_held(node).values())


def _usable(node: Record) -> bool:
    data = node.data
    return data.get("state") in ("idle", "running") and data.get("schedulingState", "enabled") != "disabled"


def _node_key(pool_id: str, node_id: str) -> str:
    return f"{pool_id.lower()}/{node_id.lower()}"


def _node_url(job: Record, pool_id: str, node_id: str, node: Record | None) -> str:
    url = node.data.get("url") if node is not None else None
    return url or f"{job.extra.get('base_url', '')}/pools/{quote(pool_id, safe='')}/nodes/{quote(node_id, safe='')}"


def _find_node(state: State, pool_id: str, node_id: str) -> Record | None:
    table = state.nodes.get(pool_id.lower())
    return table.find(node_id) if table is not None else None


def task_root(job_id: str, task_id: str) -> str:
    """A task's directory on its node, relative to the node's root (node file paths)."""
    return f"workitems/{job_id}/job-1/{task_id}"


def _refresh_node(state: State, node: Record) -> None:
    """Write the held tasks into the node document; `running` while it holds any, else `idle`."""
    held = _held(node)
    data = node.data
    data["runningTasksCount"] = len(held)
    data["runningTaskSlotsCount"] = sum(held.values())
    target = "running" if held else "idle"
    if data.get("state") in ("idle", "running") and data["state"] != target:
        data["state"] = target
        data["stateTransitionTime"] = iso(state.now)
        state.touch(node)


def _recent(node: Record, job: Record, task: Record, subtask_id: int | None, info: Mapping[str, Any], task_state: str):
    """Add or update the node's `recentTasks` entry for this task (the newest last, at most RECENT_TASKS)."""
    entries: dict = node.extra.setdefault("recent", {})
    key = (_key(job), _key(task), subtask_id)
    entry = entries.pop(key, None) or {
        "taskUrl": task.data["url"],
        "jobId": job.data["id"],
        "taskId": task.data["id"],
    }
    if subtask_id is not None:
        entry["subtaskId"] = subtask_id
    entry["taskState"] = task_state
    entry["executionInfo"] = copy.deepcopy(dict(info))
    entries[key] = entry
    while len(entries) > RECENT_TASKS:
        entries.pop(next(iter(entries)))
    node.data["recentTasks"] = list(entries.values())


def _count_run(node: Record, succeeded: bool) -> None:
    data = node.data
    data["totalTasksRun"] = int(data.get("totalTasksRun") or 0) + 1
    data["totalTasksSucceeded"] = int(data.get("totalTasksSucceeded") or 0) + (1 if succeeded else 0)


# -- creating jobs and tasks ---------------------------------------------------------------------


def new_job(
    state: State, job_id: str, spec: Mapping[str, Any], url: str, base_url: str, *, schedule_id: str | None = None
) -> Record:
    """Create and store a job from a create request or a schedule's `jobSpecification`, with the
    defaults the service fills in, its job manager task and its wall-clock limit."""
    now = iso(state.now)
    data: dict[str, Any] = {"id": job_id}
    data.update({name: copy.deepcopy(spec[name]) for name in JOB_FIELDS if name in spec})
    data.setdefault("priority", 0)
    data.setdefault("usesTaskDependencies", False)
    data.setdefault("allowTaskPreemption", False)
    data.setdefault("maxParallelTasks", -1)
    data.setdefault("onAllTasksComplete", "noaction")
    data.setdefault("onTaskFailure", "noaction")
    data["constraints"] = job_constraints(data.get("constraints"))
    if "jobManagerTask" in data:
        data["jobManagerTask"] = {"killJobOnCompletion": True, "runExclusive": True, **data["jobManagerTask"]}
    if "jobPreparationTask" in data:
        prep = {"id": "jobpreparation", "waitForSuccess": True, "rerunOnNodeRebootAfterSuccess": True}
        data["jobPreparationTask"] = {**prep, **data["jobPreparationTask"]}
    if "jobReleaseTask" in data:
        release = {"id": "jobrelease", "maxWallClockTime": "PT15M", "retentionTime": "P7D"}
        data["jobReleaseTask"] = {**release, **data["jobReleaseTask"]}
    execution: dict[str, Any] = {"startTime": now}
    pool_id = (data.get("poolInfo") or {}).get("poolId")
    if pool_id:
        execution["poolId"] = pool_id
    data.update(
        url=url, eTag="", lastModified=now, creationTime=now, state="active", stateTransitionTime=now,
        executionInfo=execution,
    )  # fmt: skip
    record = state.record(data, url, base_url=base_url, created=state.now, schedule=schedule_id)
    data["eTag"] = record.etag
    state.jobs.add(job_id, record)
    job_extra(record)
    manager = data.get("jobManagerTask")
    if manager:
        body = {name: copy.deepcopy(manager[name]) for name in _MANAGER_AS_TASK if name in manager}
        add_task(state, record, body, job_manager=True)
    arm_wall_clock(state, record)
    return record


def job_constraints(given: Mapping[str, Any] | None) -> dict[str, Any]:
    """A job's constraints with the service's defaults (no time limit, no retries)."""
    return {"maxWallClockTime": FOREVER, "maxTaskRetryCount": 0, **(given or {})}


def task_constraints(job: Record, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """A task's constraints with the defaults: no time limit, 7 days' retention, the job's retries."""
    retries = (job.data.get("constraints") or {}).get("maxTaskRetryCount", 0)
    return {"maxWallClockTime": FOREVER, "retentionTime": "P7D", "maxTaskRetryCount": retries, **(given or {})}


def check_new_task(job: Record, body: Mapping[str, Any]) -> None:
    """The documented rules a new task must meet beyond its schema (raises the service's error)."""
    task_id = str(body.get("id", "")).lower()
    data = job.data
    for kind, code in _SPECIAL_TASKS:
        special = data.get(kind)
        if special and str(special.get("id", "")).lower() == task_id:
            raise ServiceError(409, code, f"The specified task id is the id of the job's {kind}.")
    depends_on = body.get("dependsOn")
    if depends_on and not data.get("usesTaskDependencies"):
        raise ServiceError(
            400,
            "TaskDependenciesNotSpecifiedOnJob",
            "The task depends on other tasks, but the job does not set usesTaskDependencies.",
        )
    if depends_on and sum(len(str(i)) for i in depends_on.get("taskIds") or ()) > MAX_DEPENDENCY_CHARS:
        raise ServiceError(
            400,
            "TaskDependencyListTooLong",
            f"The task ids the task depends on exceed {MAX_DEPENDENCY_CHARS} characters; use taskIdRanges.",
        )
    slots = body.get("requiredSlots")
    if slots is not None and slots < 1:
        raise invalid_property("requiredSlots", slots, "The value must be at least 1.")
    multi = body.get("multiInstanceSettings")
    if multi is not None:
        if slots not in (None, 1):
            raise invalid_property("requiredSlots", slots, "A multi-instance task requires exactly 1 slot.")
        if multi.get("numberOfInstances", 1) < 1:
            raise invalid_property(
                "multiInstanceSettings.numberOfInstances", multi["numberOfInstances"], "Must be >= 1."
            )
    if data.get("onTaskFailure", "noaction") == "noaction" and _names_job_action(body.get("exitConditions")):
        raise invalid_property(
            "exitConditions.jobAction",
            "set",
            "A jobAction needs the job's onTaskFailure to be performexitoptionsjobaction.",
        )


def _names_job_action(conditions: Mapping[str, Any] | None) -> bool:
    if not conditions:
        return False
    options = [m.get("exitOptions") or {} for m in (conditions.get("exitCodes") or ())]
    options += [m.get("exitOptions") or {} for m in (conditions.get("exitCodeRanges") or ())]
    options += [conditions.get(name) or {} for name in ("default", "preProcessingError", "fileUploadError")]
    return any("jobAction" in o for o in options)


def add_task(state: State, job: Record, body: Mapping[str, Any], *, job_manager: bool = False) -> Record:
    """Store a new task (defaults filled in) and queue it; raises TaskExists for a taken id."""
    task_id = body["id"]
    url = f"{job.data['url']}/tasks/{quote(task_id, safe='')}"
    now = iso(state.now)
    data: dict[str, Any] = {name: copy.deepcopy(body[name]) for name in TASK_FIELDS if name in body}
    data.update(url=url, eTag="", creationTime=now, lastModified=now, state="active", stateTransitionTime=now)
    data["constraints"] = task_constraints(job, data.get("constraints"))
    data.setdefault("requiredSlots", 1)
    if "multiInstanceSettings" in data:
        data["multiInstanceSettings"].setdefault("numberOfInstances", 1)
    data["executionInfo"] = {"retryCount": 0, "requeueCount": 0}
    record = state.record(data, url, token=None, job_manager=job_manager, created=state.now)
    data["eTag"] = record.etag
    _tasks(state, job).add(task_id, record)
    extra = job_extra(job)
    extra["queue"][task_id.lower()] = None
    extra["open"].add(task_id.lower())
    return record


# -- dispatch ------------------------------------------------------------------------------------


def dispatch(state: State) -> None:
    """Start every queued task that can start now (the rule is in the module docstring)."""
    jobs = [job for job in state.jobs if job.data.get("state") == "active" and job.extra.get("queue")]
    for job in sorted(jobs, key=lambda j: -int(j.data.get("priority") or 0)):
        pool = _pool_of(state, job)
        if pool is not None:
            _dispatch_job(state, job, pool)


def _dispatch_job(state: State, job: Record, pool: Record) -> None:
    per_node = _slots_per_node(pool)
    nodes = sorted((n for n in state.nodes_of(pool.data["id"]) if _usable(n)), key=lambda n: n.data.get("id", ""))
    extra = job_extra(job)
    blocked = {key for key, entry in extra["prep"].items() if entry.get("blocked")}
    nodes = [n for n in nodes if _node_key(pool.data["id"], n.data["id"]) not in blocked]
    spread = (pool.data.get("taskSchedulingPolicy") or {}).get("nodeFillType") == "spread"
    limit = int(job.data.get("maxParallelTasks") or -1)
    table = _tasks(state, job)
    for key in list(extra["queue"]):
        if not any(_free_slots(n, per_node) > 0 for n in nodes):
            return
        if 0 < limit <= len(extra["holding"]):
            return
        task = table.find(key)
        if task is None or task.data.get("state") != "active":
            extra["queue"].pop(key, None)
            continue
        if not _dependencies_met(job, task, table):
            continue
        multi = task.data.get("multiInstanceSettings")
        instances = int(multi.get("numberOfInstances", 1)) if multi else 1
        need = 1 if multi else int(task.data.get("requiredSlots") or 1)
        manager = job.data.get("jobManagerTask") if task.extra.get("job_manager") else None
        if manager and manager.get("runExclusive", True):
            need = per_node
        fits = [n for n in nodes if _free_slots(n, per_node) >= need]
        if len(fits) < instances:
            continue
        if spread:
            fits.sort(key=lambda n: -_free_slots(n, per_node))
        _assign(state, job, task, pool, fits[:instances], need)


def _dependencies_met(job: Record, task: Record, table: Any) -> bool:
    if not job.data.get("usesTaskDependencies"):
        return True
    for dependency_id in dependency_ids(task.data.get("dependsOn")):
        dependency = table.find(dependency_id)
        if dependency is None or dependency.data.get("state") != "completed" or not _satisfies(dependency.data):
            return False
    return True


def _satisfies(task: Mapping[str, Any]) -> bool:
    """Whether a completed task lets its dependants run (success, or `dependencyAction: satisfy`)."""
    info = task.get("executionInfo") or {}
    code = info.get("exitCode")
    action = exit_options(task, code).get("dependencyAction")
    if action is not None:
        return action == "satisfy"
    return info.get("result") == "success"


def _assign(state: State, job: Record, task: Record, pool: Record, nodes: list[Record], slots: int) -> None:
    extra = job_extra(job)
    key = _key(task)
    extra["queue"].pop(key, None)
    extra["holding"].add(key)
    token = task.extra["token"] = object()
    pool_id = pool.data["id"]
    task.extra["nodes"] = [(pool_id, node.data["id"]) for node in nodes]
    for node in nodes:
        _held(node)[(_key(job), key)] = slots
        _refresh_node(state, node)
    prep = job.data.get("jobPreparationTask")
    waiting = set()
    if prep:
        for node in nodes:
            status = _run_preparation(state, job, pool_id, node)
            if status != "success" and prep.get("waitForSuccess", True):
                waiting.add(_node_key(pool_id, node.data["id"]))
    if waiting:
        task.extra["waiting"] = waiting
        _enter(state, task, "preparing")
        return
    state.after(state.timing.task_start, lambda now: _start(state, job, task, token))


# -- job preparation and release -------------------------------------------------------------------


def _run_preparation(state: State, job: Record, pool_id: str, node: Record) -> str:
    """Start the job preparation task on `node` unless it ran there; returns running|success|failure."""
    extra = job_extra(job)
    node_key = _node_key(pool_id, node.data["id"])
    entry = extra["prep"].get(node_key)
    if entry is not None:
        return entry["status"]
    node_url = _node_url(job, pool_id, node.data["id"], node)
    entry = extra["prep"][node_key] = {"poolId": pool_id, "nodeId": node.data["id"], "nodeUrl": node_url}
    entry["info"] = {"retryCount": 0}
    _start_preparation(state, job, entry)
    return entry["status"]


def _start_preparation(state: State, job: Record, entry: dict[str, Any]) -> None:
    prep = job.data["jobPreparationTask"]
    root = task_root(job.data["id"], prep["id"])
    info = entry["info"]
    for name in ("endTime", "exitCode", "result", "failureInfo"):
        info.pop(name, None)
    info.update(startTime=iso(state.now), state="running", taskRootDirectory=root)
    info["taskRootDirectoryUrl"] = f"{entry['nodeUrl']}/files/{root}"
    if info["retryCount"]:
        info["lastRetryTime"] = info["startTime"]
    entry["status"] = "running"
    token = entry["token"] = object()
    run = run_seconds(prep["commandLine"], state.timing.task_run)
    wall = seconds_of((prep.get("constraints") or {}).get("maxWallClockTime"))
    timed_out = wall is not None and wall < run
    delay = wall if timed_out else run
    state.after(delay, lambda now: _preparation_done(state, job, entry, token, timed_out))


def _preparation_done(state: State, job: Record, entry: dict[str, Any], token: object, timed_out: bool) -> None:
    if entry.get("token") is not token or not _live(state, job) or job.data.get("state") == "deleting":
        return
    prep = job.data["jobPreparationTask"]
    info = entry["info"]
    code = KILLED if timed_out else exit_code(prep["commandLine"])
    limit = int((prep.get("constraints") or {}).get("maxTaskRetryCount", 0))
    if code != 0 and not timed_out and (limit == -1 or info["retryCount"] < limit):
        info["retryCount"] += 1
        _start_preparation(state, job, entry)
        return
    info.update(endTime=iso(state.now), state="completed", exitCode=code, result="success" if code == 0 else "failure")
    if code != 0:
        reason = "TaskEnded" if timed_out else "FailureExitCode"
        info["failureInfo"] = _failure(reason, "The job preparation task did not succeed on this node.")
    entry["status"] = "success" if code == 0 else "failure"
    entry["blocked"] = code != 0 and prep.get("waitForSuccess", True)
    node_key = _node_key(entry["poolId"], entry["nodeId"])
    for task in list(_tasks(state, job)):
        waiting = task.extra.get("waiting")
        if task.data.get("state") != "preparing" or not waiting or node_key not in waiting:
            continue
        if entry["blocked"]:
            _requeue(state, job, task, counted=False)
            continue
        waiting.discard(node_key)
        if not waiting:
            task.extra.pop("waiting", None)
            start_token = task.extra["token"] = object()
            state.after(state.timing.task_start, lambda now, t=task, s=start_token: _start(state, job, t, s))
    dispatch(state)


def _start_release(state: State, job: Record) -> None:
    """The job release task starts on every node where the job preparation task ran."""
    release = job.data.get("jobReleaseTask")
    if not release:
        return
    extra = job_extra(job)
    root = task_root(job.data["id"], release["id"])
    for node_key, prep in extra["prep"].items():
        info = {"startTime": iso(state.now), "state": "running", "taskRootDirectory": root}
        info["taskRootDirectoryUrl"] = f"{prep['nodeUrl']}/files/{root}"
        extra["release"][node_key] = {"poolId": prep["poolId"], "nodeId": prep["nodeId"], "nodeUrl": prep["nodeUrl"]}
        extra["release"][node_key]["info"] = info


def _finish_release(state: State, job: Record) -> None:
    release = job.data.get("jobReleaseTask")
    if not release:
        return
    code = exit_code(release["commandLine"])
    for entry in job_extra(job)["release"].values():
        info = entry["info"]
        if info["state"] == "running":
            info.update(state="completed", endTime=iso(state.now), exitCode=code)
            info["result"] = "success" if code == 0 else "failure"
            if code:
                info["failureInfo"] = _failure("FailureExitCode", "The job release task exited with a non-zero code.")


def preparation_status(job: Record) -> list[dict[str, Any]]:
    """One BatchJobPreparationAndReleaseTaskStatus per node that ran the job's preparation or release task."""
    extra = job_extra(job)
    out = []
    for node_key in dict.fromkeys([*extra["prep"], *extra["release"]]):
        prep, release = extra["prep"].get(node_key), extra["release"].get(node_key)
        base = prep or release
        item: dict[str, Any] = {"poolId": base["poolId"], "nodeId": base["nodeId"], "nodeUrl": base["nodeUrl"]}
        if prep is not None:
            item["jobPreparationTaskExecutionInfo"] = copy.deepcopy(prep["info"])
        if release is not None:
            item["jobReleaseTaskExecutionInfo"] = copy.deepcopy(release["info"])
        out.append(item)
    return out


# -- running a task ------------------------------------------------------------------------------


def _start(state: State, job: Record, task: Record, token: object) -> None:
    if task.extra.get("token") is not token or not _live(state, job, task) or not task.extra.get("nodes"):
        return
    data, extra = task.data, task.extra
    info = data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
    for name in ("endTime", "exitCode", "result", "failureInfo"):
        info.pop(name, None)
    info["startTime"] = iso(state.now)
    if info.get("retryCount"):
        info["lastRetryTime"] = info["startTime"]
    job_id, task_id = job.data["id"], data["id"]
    root = task_root(job_id, task_id)
    placements = []
    for pool_id, node_id in extra["nodes"]:
        node = _find_node(state, pool_id, node_id)
        placements.append((pool_id, node_id, node, _node_url(job, pool_id, node_id, node)))
    pool_id, node_id, node, node_url = placements[0]
    data["nodeInfo"] = _node_info(pool_id, node_id, node, node_url, root)
    _enter(state, task, "running")
    extra["ran_on"] = (pool_id, node_id)
    if node is not None:
        _write_files(state, node, root, "", "")
        _recent(node, job, task, None, info, "running")
    if data.get("multiInstanceSettings"):
        extra["subtasks"] = [
            {
                "id": number,
                "nodeInfo": _node_info(p, n, nd, url, f"{root}/subtasks/{number}"),
                "startTime": info["startTime"],
                "state": "running",
                "stateTransitionTime": info["startTime"],
            }
            for number, (p, n, nd, url) in enumerate(placements[1:], start=1)
        ]
        for subtask, (_, _, sub_node, _) in zip(extra["subtasks"], placements[1:]):
            if sub_node is not None:
                _recent(sub_node, job, task, subtask["id"], info, "running")
    run = run_seconds(data.get("commandLine", ""), state.timing.task_run)
    wall = seconds_of((data.get("constraints") or {}).get("maxWallClockTime"))
    timed_out = wall is not None and wall < run
    state.after(wall if timed_out else run, lambda now: _finish(state, job, task, token, timed_out))


def _node_info(pool_id: str, node_id: str, node: Record | None, node_url: str, root: str) -> dict[str, Any]:
    info = {"nodeUrl": node_url, "poolId": pool_id, "nodeId": node_id}
    if node is not None and node.data.get("affinityId"):
        info["affinityId"] = node.data["affinityId"]
    info.update(taskRootDirectory=root, taskRootDirectoryUrl=f"{node_url}/files/{root}")
    return info


def _write_files(state: State, node: Record, root: str, stdout: str, stderr: str) -> None:
    files = node.extra.setdefault("files", {})
    for name, text in (("stdout.txt", stdout), ("stderr.txt", stderr)):
        path = f"{root}/{name}"
        previous = files.get(path)
        created = previous.created if previous is not None else state.now
        files[path] = StoredFile(text.encode("utf-8"), created, state.now)


def _finish(state: State, job: Record, task: Record, token: object, timed_out: bool) -> None:
    if task.extra.get("token") is not token or not _live(state, job, task):
        return
    data, extra = task.data, task.extra
    info = data["executionInfo"]
    code = KILLED if timed_out else exit_code(data.get("commandLine", ""))
    sub_code = code
    multi = data.get("multiInstanceSettings")
    if multi:
        sub_code = KILLED if timed_out else exit_code(multi.get("coordinationCommandLine", ""))
        code = code or sub_code
    _end_run(state, job, task, code, sub_code)
    limit = int((data.get("constraints") or {}).get("maxTaskRetryCount", 0))
    if code != 0 and not timed_out and (limit == -1 or info["retryCount"] < limit):
        info["retryCount"] += 1
        info.pop("startTime", None)
        extra["token"] = object()
        _enter(state, task, "active")
        job_extra(job)["queue"][_key(task)] = None
    else:
        if code == 0:
            failure = None
        elif timed_out:
            failure = _failure("TaskEnded", "The task ran longer than its maxWallClockTime and was ended.")
        else:
            failure = _failure("FailureExitCode", "The task process exited with an unexpected exit code.")
        _complete(state, job, task, code, failure)
        if failure is not None and not timed_out:
            _job_action(state, job, task, code)
    after_task_change(state, job)
    dispatch(state)


def _end_run(state: State, job: Record, task: Record, code: int, sub_code: int) -> None:
    """A run is over: files written, subtasks completed, node counters and slots released."""
    data, extra = task.data, task.extra
    info = data["executionInfo"]
    now = iso(state.now)
    stderr = f"exit code {code}\n" if code else ""
    for number, subtask in enumerate(extra.get("subtasks") or (), start=1):
        subtask["previousState"] = subtask["state"]
        subtask["previousStateTransitionTime"] = subtask["stateTransitionTime"]
        subtask.update(state="completed", stateTransitionTime=now, endTime=now, exitCode=sub_code)
        subtask["result"] = "success" if sub_code == 0 else "failure"
        if sub_code:
            subtask["failureInfo"] = _failure("FailureExitCode", "The subtask exited with a non-zero exit code.")
    finished = dict(info, endTime=now, exitCode=code, result="success" if code == 0 else "failure")
    for index, (pool_id, node_id) in enumerate(extra.get("nodes") or ()):
        node = _find_node(state, pool_id, node_id)
        if node is None:
            continue
        node_code = code if index == 0 else sub_code
        if index == 0:
            _write_files(state, node, task_root(job.data["id"], data["id"]), f"{data.get('commandLine', '')}\n", stderr)
        _count_run(node, node_code == 0)
        _recent(node, job, task, index or None, finished, "completed")
    _release_hold(state, job, task)


def _release_hold(state: State, job: Record, task: Record) -> None:
    """Give back the node slots `task` holds (nodes that are gone are skipped)."""
    extra = task.extra
    for pool_id, node_id in extra.pop("nodes", None) or ():
        node = _find_node(state, pool_id, node_id)
        if node is not None:
            _held(node).pop((_key(job), _key(task)), None)
            _refresh_node(state, node)
    extra.pop("waiting", None)
    job_extra(job)["holding"].discard(_key(task))


def _complete(state: State, job: Record, task: Record, code: int | None, failure: dict[str, Any] | None) -> None:
    info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
    info["endTime"] = iso(state.now)
    if code is not None:
        info["exitCode"] = code
    else:
        info.pop("exitCode", None)
    info["result"] = "failure" if failure else "success"
    if failure:
        info["failureInfo"] = failure
    task.extra["token"] = object()
    _enter(state, task, "completed")
    extra = job_extra(job)
    extra["open"].discard(_key(task))
    extra["queue"].pop(_key(task), None)
    manager = job.data.get("jobManagerTask")
    if task.extra.get("job_manager") and manager and manager.get("killJobOnCompletion", True):
        terminate_job(state, job, "JMComplete")


def _job_action(state: State, job: Record, task: Record, code: int) -> None:
    """`onTaskFailure: performexitoptionsjobaction`: apply the failed task's `jobAction` (default terminate)."""
    if job.data.get("onTaskFailure") != "performexitoptionsjobaction":
        return
    action = exit_options(task.data, code).get("jobAction", "terminate")
    if action == "terminate":
        terminate_job(state, job, "TaskFailed")
    elif action == "disable":
        disable_job(state, job, "requeue")


def end_task(state: State, job: Record, task: Record, message: str) -> None:
    """Complete `task` now with a failure (`TaskEnded`): terminate task, job termination, removal."""
    if task.data.get("state") == "completed":
        return
    was_running = task.data.get("state") == "running"
    if task.extra.get("nodes") and was_running:
        _end_run(state, job, task, KILLED, KILLED)
    else:
        _release_hold(state, job, task)
    _complete(state, job, task, KILLED if was_running else None, _failure("TaskEnded", message))


def _requeue(state: State, job: Record, task: Record, *, counted: bool) -> None:
    """Back to `active` and the queue. A task that had started counts it in `requeueCount` when
    `counted` (a client asked for it); one that only held a reservation just waits again."""
    started = task.data.get("state") in HOLDING
    for pool_id, node_id in task.extra.get("nodes") or ():
        node = _find_node(state, pool_id, node_id)
        if node is not None and task.data.get("state") == "running":
            _recent(node, job, task, None, task.data.get("executionInfo") or {}, "active")
    _release_hold(state, job, task)
    task.extra["token"] = object()
    info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
    info.pop("startTime", None)
    if counted and started:
        info["requeueCount"] = int(info.get("requeueCount") or 0) + 1
        info["lastRequeueTime"] = iso(state.now)
    _enter(state, task, "active")
    job_extra(job)["queue"][_key(task)] = None


def reactivate_task(state: State, job: Record, task: Record) -> None:
    """A failed task back to `active` with `retryCount` 0 and its last outcome forgotten."""
    info = task.data.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
    for name in ("endTime", "exitCode", "result", "failureInfo", "lastRetryTime"):
        info.pop(name, None)
    info["retryCount"] = 0
    task.extra["token"] = object()
    task.extra.pop("subtasks", None)
    _enter(state, task, "active")
    extra = job_extra(job)
    extra["queue"][_key(task)] = None
    extra["open"].add(_key(task))


def delete_task(state: State, job: Record, task: Record) -> None:
    """Remove `task`: its slots freed, its directory removed from the node it ran on."""
    _release_hold(state, job, task)
    task.extra["token"] = object()
    _remove_files(state, job, task)
    extra = job_extra(job)
    extra["queue"].pop(_key(task), None)
    extra["open"].discard(_key(task))
    _tasks(state, job).remove(task.data["id"])
    after_task_change(state, job)


def _remove_files(state: State, job: Record, task: Record) -> None:
    ran_on = task.extra.get("ran_on")
    node = _find_node(state, *ran_on) if ran_on else None
    if node is None:
        return
    prefix = task_root(job.data["id"], task.data["id"]) + "/"
    files = node.extra.get("files") or {}
    for path in [p for p in files if p.startswith(prefix)]:
        del files[path]


def task_files(state: State, job: Record, task: Record) -> tuple[Record, dict[str, StoredFile], str] | None:
    """(node, the node's files, the task's directory) for a task that ran on a node still there."""
    ran_on = task.extra.get("ran_on")
    node = _find_node(state, *ran_on) if ran_on else None
    if node is None:
        return None
    return node, node.extra.setdefault("files", {}), task_root(job.data["id"], task.data["id"])


def subtasks_of(task: Record) -> list[dict[str, Any]]:
    return task.extra.get("subtasks") or []


def release_node(state: State, pool_id: str, node_id: str, option: str | None) -> None:
    """Requeue or terminate the tasks running on the node (`option`: requeue, terminate,
    taskcompletion, retaineddata; None means the documented default, requeue).

    `taskcompletion` and `retaineddata` let the tasks finish: the caller keeps the node until then.
    """
    node = _find_node(state, pool_id, node_id)
    choice = (option or "requeue").lower()
    if node is None or choice in ("taskcompletion", "retaineddata"):
        return
    for job_key, task_key in list(_held(node)):
        job = state.jobs.find(job_key)
        table = state.tasks.get(job_key)
        task = table.find(task_key) if table is not None else None
        if job is None or task is None:
            _held(node).pop((job_key, task_key), None)
            continue
        if choice == "terminate" and task.data.get("state") in HOLDING:
            end_task(state, job, task, "The task was ended because its compute node was removed or restarted.")
        else:
            _requeue(state, job, task, counted=True)
        after_task_change(state, job)
    _refresh_node(state, node)


# -- jobs ----------------------------------------------------------------------------------------


def after_task_change(state: State, job: Record) -> None:
    """Follow-ups of a task completing or going away: a disabling job may be done, the job may end."""
    if not _live(state, job):
        return
    _maybe_disabled(state, job)
    check_all_complete(state, job)


def check_all_complete(state: State, job: Record) -> None:
    """`onAllTasksComplete: terminatejob`: an active job whose tasks (one at least) are all completed
    terminates with reason `AllTasksComplete`. A job without tasks stays active until it has some."""
    data = job.data
    if data.get("state") != "active" or data.get("onAllTasksComplete") != "terminatejob":
        return
    if not job_extra(job)["open"] and len(_tasks(state, job)) > 0:
        terminate_job(state, job, "AllTasksComplete")


def holding_tasks(state: State, job: Record) -> list[Record]:
    table = _tasks(state, job)
    return [task for key in list(job_extra(job)["holding"]) if (task := table.find(key)) is not None]


def terminate_job(state: State, job: Record, reason: str) -> None:
    """active/disabling/disabled/enabling → `terminating` → `completed` `Timing.job_terminate` later,
    with `executionInfo.endTime` and `terminateReason`. Running tasks end (`TaskEnded`); active tasks
    stay active and never start; the job release task runs where the preparation task ran."""
    if job.data.get("state") not in ("active", "disabling", "disabled", "enabling"):
        return
    token = job.extra["phase"] = object()
    _enter(state, job, "terminating")
    job.extra["terminate_reason"] = reason
    for task in holding_tasks(state, job):
        if task.data.get("state") in HOLDING:
            end_task(state, job, task, "The task was ended because its job was terminated.")
        else:
            _requeue(state, job, task, counted=False)
    _start_release(state, job)
    state.after(state.timing.job_terminate, lambda now: _job_completed(state, job, token))


def _job_completed(state: State, job: Record, token: object) -> None:
    if job.extra.get("phase") is not token or not _live(state, job) or job.data.get("state") != "terminating":
        return
    _finish_release(state, job)
    info = job.data.setdefault("executionInfo", {"startTime": job.data["creationTime"]})
    info["endTime"] = iso(state.now)
    info["terminateReason"] = job.extra.get("terminate_reason") or "UserTerminate"
    _enter(state, job, "completed")
    _schedule_job_done(state, job)


def disable_job(state: State, job: Record, option: str) -> None:
    """active → `disabling` → `disabled` `Timing.job_disable` later. Running tasks are requeued
    (`requeue`), ended (`terminate`) or left to finish (`wait`: the job stays `disabling` until they
    have). No task of the job starts until it is active again."""
    if job.data.get("state") != "active":
        return
    token = job.extra["phase"] = object()
    _enter(state, job, "disabling")
    job.extra["disable_due"] = False
    for task in holding_tasks(state, job):
        if option == "requeue" or task.data.get("state") not in HOLDING:
            _requeue(state, job, task, counted=True)
        elif option == "terminate":
            end_task(state, job, task, "The task was ended because its job was disabled.")

    def due(now: datetime) -> None:
        if job.extra.get("phase") is token and _live(state, job) and job.data.get("state") == "disabling":
            job.extra["disable_due"] = True
            _maybe_disabled(state, job)

    state.after(state.timing.job_disable, due)


def _maybe_disabled(state: State, job: Record) -> None:
    if job.data.get("state") == "disabling" and job.extra.get("disable_due") and not job_extra(job)["holding"]:
        job.extra["disable_due"] = False
        _enter(state, job, "disabled")


def enable_job(state: State, job: Record) -> None:
    """disabled → `enabling` → `active` `Timing.job_enable` later; its tasks may start again."""
    if job.data.get("state") != "disabled":
        return
    token = job.extra["phase"] = object()
    _enter(state, job, "enabling")

    def due(now: datetime) -> None:
        if job.extra.get("phase") is token and _live(state, job) and job.data.get("state") == "enabling":
            _enter(state, job, "active")
            check_all_complete(state, job)
            dispatch(state)

    state.after(state.timing.job_enable, due)


def delete_job(state: State, job: Record) -> None:
    """→ `deleting`, gone `Timing.job_delete` later with its tasks; running tasks stop at once and
    the tasks' directories leave the nodes."""
    if job.data.get("state") == "deleting":
        return
    job.extra["phase"] = object()
    for task in list(_tasks(state, job)):
        _release_hold(state, job, task)
        task.extra["token"] = object()
        _remove_files(state, job, task)
    _enter(state, job, "deleting")

    def gone(now: datetime) -> None:
        if state.jobs.find(job.data["id"]) is job:
            state.jobs.remove(job.data["id"])
            state.tasks.pop(_key(job), None)
            _schedule_job_done(state, job)

    state.after(state.timing.job_delete, gone)


def arm_wall_clock(state: State, job: Record) -> None:
    """`constraints.maxWallClockTime`, counted from the job's creation: then it terminates with
    reason `MaxWallClockTimeExpiry`. Re-armed whenever the constraints change."""
    token = job.extra["wall"] = object()
    limit = seconds_of((job.data.get("constraints") or {}).get("maxWallClockTime"))
    if limit is None or limit > 10 * 365 * 86400:
        return
    created = job.extra.get("created", state.now)
    delay = max(0.0, (created + timedelta(seconds=limit) - state.now).total_seconds())

    def expire(now: datetime) -> None:
        if job.extra.get("wall") is token and _live(state, job):
            terminate_job(state, job, "MaxWallClockTimeExpiry")

    state.after(delay, expire)


def job_stats(state: State, job: Record) -> dict[str, Any]:
    """BatchJobStatistics, rolled up from the job's tasks as they are now."""
    return _stats(state, job.data["url"], job.data["creationTime"], [t.data for t in _tasks(state, job)])


def schedule_stats(state: State, schedule: Record) -> dict[str, Any]:
    """BatchJobScheduleStatistics: the same roll-up over the schedule's jobs still present."""
    tasks = [t.data for job in jobs_of_schedule(state, schedule) for t in _tasks(state, job)]
    return _stats(state, schedule.data["url"], schedule.data["creationTime"], tasks)


def _stats(state: State, url: str, start: str, tasks: list[Mapping[str, Any]]) -> dict[str, Any]:
    succeeded = failed = retries = 0
    wall = wait = 0.0
    for task in tasks:
        info = task.get("executionInfo") or {}
        retries += int(info.get("retryCount") or 0)
        started, ended = parse_time(info.get("startTime")), parse_time(info.get("endTime"))
        created = parse_time(task.get("creationTime"))
        task_state = task.get("state")
        if task_state == "completed":
            succeeded += info.get("result") == "success"
            failed += info.get("result") == "failure"
        if started is not None and task_state in ("completed", "running"):
            wall += max(0.0, ((ended if task_state == "completed" and ended else state.now) - started).total_seconds())
        if started is not None and created is not None:
            wait += max(0.0, (started - created).total_seconds())
    return {
        "url": url,
        "startTime": start,
        "lastUpdateTime": iso(state.now),
        "userCPUTime": duration_text(wall),
        "kernelCPUTime": "PT0S",
        "wallClockTime": duration_text(wall),
        "readIOps": "0",
        "writeIOps": "0",
        "readIOGiB": 0.0,
        "writeIOGiB": 0.0,
        "numSucceededTasks": str(succeeded),
        "numFailedTasks": str(failed),
        "numTaskRetries": str(retries),
        "waitTime": duration_text(wait),
    }


def task_stats(state: State, task: Record) -> dict[str, Any] | None:
    """BatchTaskStatistics of a task that has started (None before that)."""
    info = task.data.get("executionInfo") or {}
    started = parse_time(info.get("startTime"))
    if started is None:
        return None
    stats = _stats(state, task.data["url"], info["startTime"], [task.data])
    for name in ("numSucceededTasks", "numFailedTasks", "numTaskRetries"):
        del stats[name]
    return stats


def task_counts(state: State, job: Record) -> dict[str, Any]:
    """BatchTaskCountsResult: tasks and their slots by state (`preparing` counts as running)."""
    counts = dict.fromkeys(("active", "running", "completed", "succeeded", "failed"), 0)
    slots = dict(counts)
    for task in _tasks(state, job):
        data = task.data
        bucket = "running" if data.get("state") in HOLDING else data.get("state", "active")
        weight = int(data.get("requiredSlots") or 1)
        buckets = [bucket]
        if bucket == "completed":
            buckets.append("succeeded" if (data.get("executionInfo") or {}).get("result") == "success" else "failed")
        for name in buckets:
            counts[name] += 1
            slots[name] += weight
    return {"taskCounts": counts, "taskSlotCounts": slots}


# -- job schedules -------------------------------------------------------------------------------


def jobs_of_schedule(state: State, schedule: Record) -> list[Record]:
    key = _key(schedule)
    return [job for job in state.jobs if job.extra.get("schedule") == key]


def _active_job(state: State, schedule: Record) -> Record | None:
    for job in jobs_of_schedule(state, schedule):
        if job.data.get("state") in JOB_LIVE:
            return job
    return None


def next_run(schedule: Record, now: datetime) -> datetime | None:
    """The next time the schedule creates a job: occurrences are `doNotRunUntil` (else the creation
    time) plus whole `recurrenceInterval`s, at or after `now` and after the last run; without a
    recurrence there is one occurrence only (lost if the schedule was disabled then); none after
    `doNotRunAfter`."""
    config = schedule.data.get("schedule") or {}
    extra = schedule.extra
    anchor = parse_time(config.get("doNotRunUntil")) or extra["created"]
    interval = seconds_of(config.get("recurrenceInterval"))
    last: datetime | None = extra.get("last_run")
    if not interval or interval <= 0:
        candidate = None if extra.get("count") or last is not None else max(anchor, now)
    else:
        steps = max(0, math.ceil((now - anchor).total_seconds() / interval - 1e-9))
        candidate = anchor + timedelta(seconds=steps * interval)
        if last is not None and candidate <= last:
            candidate = last + timedelta(seconds=interval)
    deadline = parse_time(config.get("doNotRunAfter"))
    if candidate is not None and deadline is not None and candidate > deadline:
        return None
    return candidate


def plan_schedule(state: State, schedule: Record) -> None:
    """(Re)plan a schedule after create, update, enable or a run. At each occurrence an `active`
    schedule creates job `<scheduleId>:job-<n>` — unless its previous job is still live, in which case
    the job is created when that one ends, if that is within `startWindow` and before the next
    occurrence. A disabled schedule lets occurrences pass. The schedule completes once no occurrence
    is left (one job made without a recurrence, or `doNotRunAfter` passed) and no job of it is live."""
    token = schedule.extra["token"] = object()
    upcoming = next_run(schedule, state.now)
    info = schedule.data.setdefault("executionInfo", {})
    if upcoming is None:
        info.pop("nextRunTime", None)
        _check_schedule_done(state, schedule)
        return
    info["nextRunTime"] = iso(upcoming)

    def occur(now: datetime) -> None:
        if schedule.extra.get("token") is token and state.job_schedules.find(schedule.data["id"]) is schedule:
            _occurrence(state, schedule, upcoming)

    state.after(max(0.0, (upcoming - state.now).total_seconds()), occur)
    deadline = parse_time((schedule.data.get("schedule") or {}).get("doNotRunAfter"))
    if deadline is not None and deadline > state.now:

        def past(now: datetime) -> None:
            if schedule.extra.get("token") is token:
                plan_schedule(state, schedule)

        state.after((deadline - state.now).total_seconds() + 1e-6, past)


def _occurrence(state: State, schedule: Record, due: datetime) -> None:
    extra = schedule.extra
    extra["last_run"] = due
    extra["pending"] = None
    if schedule.data.get("state") == "active":
        if _active_job(state, schedule) is None:
            _create_scheduled_job(state, schedule)
        else:
            config = schedule.data.get("schedule") or {}
            window = seconds_of(config.get("startWindow"))
            following = next_run(schedule, due)
            limits = [moment for moment in (following,) if moment is not None]
            if window is not None:
                limits.append(due + timedelta(seconds=window))
            extra["pending"] = min(limits) if limits else datetime.max.replace(tzinfo=timezone.utc)
    plan_schedule(state, schedule)
    dispatch(state)


def _create_scheduled_job(state: State, schedule: Record) -> None:
    extra = schedule.extra
    extra["count"] = int(extra.get("count") or 0) + 1
    job_id = f"{schedule.data['id']}:job-{extra['count']}"
    base = extra.get("base_url", "")
    url = f"{base}/jobs/{quote(job_id, safe='')}"
    try:
        new_job(state, job_id, schedule.data.get("jobSpecification") or {}, url, base, schedule_id=_key(schedule))
    except ServiceError:
        return  # a job with that id exists already: this occurrence is lost
    schedule.data.setdefault("executionInfo", {})["recentJob"] = {"id": job_id, "url": url}


def _schedule_job_done(state: State, job: Record) -> None:
    """A job of a schedule completed or went away: a waiting occurrence may run, the schedule may end."""
    key = job.extra.get("schedule")
    schedule = state.job_schedules.find(key) if key else None
    if schedule is None:
        return
    pending = schedule.extra.get("pending")
    if pending is not None and schedule.data.get("state") == "active" and _active_job(state, schedule) is None:
        schedule.extra["pending"] = None
        if state.now <= pending:
            _create_scheduled_job(state, schedule)
    _check_schedule_done(state, schedule)


def _check_schedule_done(state: State, schedule: Record) -> None:
    if schedule.data.get("state") not in ("active", "disabled"):
        return
    if next_run(schedule, state.now) is not None or _active_job(state, schedule) is not None:
        return
    if schedule.extra.get("pending") is not None:
        return
    _complete_schedule(state, schedule)


def _complete_schedule(state: State, schedule: Record) -> None:
    schedule.extra["token"] = object()
    info = schedule.data.setdefault("executionInfo", {})
    info.pop("nextRunTime", None)
    info["endTime"] = iso(state.now)
    _enter(state, schedule, "completed")


def disable_schedule(state: State, schedule: Record) -> None:
    """active → disabled: occurrences pass without creating jobs until it is enabled."""
    if schedule.data.get("state") == "active":
        _enter(state, schedule, "disabled")


def enable_schedule(state: State, schedule: Record) -> None:
    if schedule.data.get("state") == "disabled":
        _enter(state, schedule, "active")
        plan_schedule(state, schedule)


def terminate_schedule(state: State, schedule: Record) -> None:
    """→ `terminating` → `completed` `Timing.schedule_terminate` later; its live job is terminated
    with reason `TerminateJobSchedule`; no more jobs are created."""
    if schedule.data.get("state") not in ("active", "disabled"):
        return
    token = schedule.extra["token"] = object()
    _enter(state, schedule, "terminating")
    for job in jobs_of_schedule(state, schedule):
        terminate_job(state, job, "TerminateJobSchedule")

    def done(now: datetime) -> None:
        if schedule.extra.get("token") is token and schedule.data.get("state") == "terminating":
            _complete_schedule(state, schedule)

    state.after(state.timing.schedule_terminate, done)


def delete_schedule(state: State, schedule: Record) -> None:
    """→ `deleting`; its jobs are deleted with it; gone `Timing.schedule_delete` later."""
    if schedule.data.get("state") == "deleting":
        return
    schedule.extra["token"] = object()
    _enter(state, schedule, "deleting")
    for job in jobs_of_schedule(state, schedule):
        delete_job(state, job)

    def gone(now: datetime) -> None:
        if state.job_schedules.find(schedule.data["id"]) is schedule:
            state.job_schedules.remove(schedule.data["id"])

    state.after(state.timing.schedule_delete, gone)
