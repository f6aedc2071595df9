"""Pools: create, get, exists, list, update (PATCH) and replace (updateproperties), delete, resize,
stop resize, autoscale (enable, evaluate, disable) and remove nodes.

A pool is `active` until deleted (`deleting`, then gone after `Timing.pool_delete`; any change
meanwhile is 409 `PoolBeingDeleted`). Its `allocationState` is `steady`, `resizing` or
`stopping`. A resize (including the initial sizing from the create request, and removing nodes)
is `resizing` for `Timing.pool_resize` seconds: nodes to be removed leave at once (`leavingpool`,
their tasks per `nodeDeallocationOption`) and are gone at the end, when new nodes join
(`starting`, see `nodes.add_node`) and the pool is `steady` again. Stopping a resize is
`stopping` for `Timing.pool_stop_resize` seconds and keeps the nodes the pool has at that
moment, with a `ResizeStopped` entry in `resizeErrors`. Resizing, enabling autoscale and
removing nodes need a `steady` pool (409 `PoolBeingResized`); a pool that scales automatically
cannot be resized by hand (409). The autoscale formula runs when it is set and then every
`autoScaleEvaluationInterval` (see `autoscale`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from .. import autoscale, scheduler
from ..model import Call, Reply, ServiceError, conflict, invalid_property, missing_property
from ..odata import list_reply, select
from ..routing import CANONICAL_VERSION
from ..state import Record, State, check_conditions, iso
from . import account
from .common import (
    body_of,
    bump,
    entity_reply,
    expands,
    live_pool,
    pool_being_deleted,
    resource_url,
    set_state,
)
from .nodes import add_node, leave, remove_node

DEFAULT_RESIZE_TIMEOUT = "PT15M"
DEFAULT_EVALUATION_INTERVAL = "PT15M"
MIN_RESIZE_TIMEOUT = 5 * 60.0
MIN_EVALUATION_INTERVAL, MAX_EVALUATION_INTERVAL = 5 * 60.0, 168 * 3600.0
ENABLE_AUTOSCALE_SPACING = timedelta(seconds=30)  # between two enableautoscale requests on one pool
MAX_PACKAGE_REFERENCES = 10
# Pool properties only older api-versions have: kept aside on the pool and shown to those versions alone
OLDER_ONLY = ("certificateReferences", "cloudServiceConfiguration")
MAX_TASK_SLOTS = 256
MAX_REMOVE = 100  # nodes per removenodes request

# what a create request sets as given (targets and autoscale settings are handled on their own)
_CREATE_FIELDS = (
    "id", "displayName", "vmSize", "virtualMachineConfiguration", "resizeTimeout", "enableInterNodeCommunication",
    "networkConfiguration", "startTask", "applicationPackageReferences", "taskSlotsPerNode", "taskSchedulingPolicy",
    "userAccounts", "metadata", "mountConfiguration", "upgradePolicy",
)  # fmt: skip
# what PATCH may change (BatchPoolUpdateOptions)
_UPDATE_FIELDS = (
    "displayName", "vmSize", "enableInterNodeCommunication", "startTask", "applicationPackageReferences",
    "metadata", "virtualMachineConfiguration", "taskSlotsPerNode", "taskSchedulingPolicy", "networkConfiguration",
    "userAccounts", "mountConfiguration", "upgradePolicy",
)  # fmt: skip
# PATCH may change these only while the pool has no nodes
_EMPTY_POOL_ONLY = (
    "displayName", "vmSize", "enableInterNodeCommunication", "virtualMachineConfiguration", "taskSlotsPerNode",
    "taskSchedulingPolicy", "networkConfiguration", "userAccounts", "mountConfiguration", "upgradePolicy",
)  # fmt: skip
# PATCH replaces these whole; other objects are merged key by key
_REPLACED_WHOLE = ("startTask",)
_RESIZE_STOPPED = MappingProxyType(
    {"code": "ResizeStopped", "message": "The resize operation was stopped before it completed."}
)
_AUTOSCALE_RUN_TYPE = "Microsoft.Azure.Batch.Protocol.Entities.AutoScaleRun"


# -- documented rules (pure checks on request values) ------------------------------------------


def _seconds(name: str, value: Any) -> float:
    seconds = scheduler.seconds_of(value)
    if seconds is None:
        raise invalid_property(name, value, "The value is not an ISO 8601 duration.")
    return seconds


def check_resize_timeout(name: str, value: Any) -> None:
    if _seconds(name, value) < MIN_RESIZE_TIMEOUT:
        raise invalid_property(name, value, "The resize timeout must be at least 5 minutes.")


def check_evaluation_interval(value: Any) -> None:
    seconds = _seconds("autoScaleEvaluationInterval", value)
    if not MIN_EVALUATION_INTERVAL <= seconds <= MAX_EVALUATION_INTERVAL:
        reason = "The evaluation interval must be between 5 minutes and 168 hours."
        raise invalid_property("autoScaleEvaluationInterval", value, reason)


def check_formula(formula: str) -> autoscale.Formula:
    """The parsed formula, or the 400 the service answers for one it cannot accept."""
    if len(formula) > autoscale.MAX_LENGTH:
        raise ServiceError(
            400,
            "AutoScaleFormulaTooLong",
            f"The specified auto-scaling formula exceeds the length limit of {autoscale.MAX_LENGTH} characters.",
            (("Length", str(len(formula))),),
        )
    try:
        return autoscale.parse(formula)
    except autoscale.FormulaSyntaxError as error:
        raise ServiceError(
            400,
            "AutoScalingFormulaSyntaxError",
            "The specified auto-scaling formula has a syntax error.",
            (("Message", str(error)),),
        ) from None


def _autoscale_settings(reason: str) -> ServiceError:
    return ServiceError(
        400, "InvalidAutoScalingSettings", "The specified auto-scaling settings are not valid.", (("Reason", reason),)
    )


def check_target(name: str, value: Any) -> int:
    if not isinstance(value, int) or value < 0:
        raise invalid_property(name, value, "The number of nodes must be 0 or more.")
    return value


def _check_slots(body: Mapping[str, Any]) -> None:
    slots = body.get("taskSlotsPerNode")
    if slots is not None and not 1 <= slots <= MAX_TASK_SLOTS:
        raise invalid_property("taskSlotsPerNode", slots, f"The value must be between 1 and {MAX_TASK_SLOTS}.")


def check_package_references(state: State, references: Any) -> None:
    """At most 10 references, each to an application (plain or ARM id) and version the account has."""
    references = references or []
    if len(references) > MAX_PACKAGE_REFERENCES:
        reason = f"A pool may reference at most {MAX_PACKAGE_REFERENCES} application packages."
        raise invalid_property("applicationPackageReferences", len(references), reason)
    for reference in references:
        app_id = reference["applicationId"].rstrip("/").rsplit("/applications/", 1)[-1]
        application = account.applications(state).find(app_id)
        version = reference.get("version")
        if application is None or (version is not None and version not in application.data["versions"]):
            raise conflict(
                "InvalidApplicationPackageReferences",
                "One or more of the specified application package references are invalid.",
                ("ApplicationId", reference["applicationId"]),
                ("Version", version or "(default)"),
            )


# -- views ---------------------------------------------------------------------------------------


def view(state: State, call: Call, pool: Record) -> dict[str, Any]:
    """A detached copy of the pool as this request sees it: `stats` when expanded, and older
    versions' certificate references and cloud service configuration (kept aside: 2025-06-01 has neither).
    `$select` comes after."""
    data = dict(pool.data)
    if expands(call, "stats"):
        data["stats"] = _statistics(state, pool)
    if call.api_version != CANONICAL_VERSION:
        data.update((name, pool.extra[name]) for name in OLDER_ONLY if name in pool.extra)
    return copy.deepcopy(data)


def _statistics(state: State, pool: Record) -> dict[str, Any]:
    """Lifetime statistics: core time from the nodes' lifetimes; the emulator measures no load."""
    now = iso(state.now)
    created = scheduler.parse_time(pool.data["creationTime"]) or state.now
    core_seconds = account.core_hours(state, pool, created, state.now) * 3600
    resources = {"startTime": pool.data["creationTime"], "lastUpdateTime": now, "avgCPUPercentage": 0.0}
    for name in ("avgMemoryGiB", "peakMemoryGiB", "avgDiskGiB", "peakDiskGiB", "diskReadGiB", "diskWriteGiB"):
        resources[name] = 0.0
    resources.update(diskReadIOps="0", diskWriteIOps="0", networkReadGiB=0.0, networkWriteGiB=0.0)
    return {
        "url": f"{pool.data['url']}/stats",
        "startTime": pool.data["creationTime"],
        "lastUpdateTime": now,
        "usageStats": {
            "startTime": pool.data["creationTime"],
            "lastUpdateTime": now,
            "dedicatedCoreTime": scheduler.duration_text(round(core_seconds, 3)),
        },
        "resourceStats": resources,
    }


# -- create, get, list, exists ---------------------------------------------------------------------


def create_pool(state: State, call: Call) -> Reply:
    body = body_of(call)
    pool_id = body["id"]
    if pool_id in state.pools:
        raise conflict("PoolExists", "The specified pool already exists.")
    if "virtualMachineConfiguration" not in body and "cloudServiceConfiguration" not in body:
        raise missing_property("virtualMachineConfiguration")  # older api-versions may name a cloud service
    enabled = bool(body.get("enableAutoScale", False))
    targets = [name for name in ("targetDedicatedNodes", "targetLowPriorityNodes") if name in body]
    if enabled:
        if targets:
            raise _autoscale_settings(f"{targets[0]} must not be specified when enableAutoScale is true.")
        if body.get("autoScaleFormula") is None:
            raise missing_property("autoScaleFormula")
        check_formula(body["autoScaleFormula"])
        if "autoScaleEvaluationInterval" in body:
            check_evaluation_interval(body["autoScaleEvaluationInterval"])
    else:
        if "autoScaleFormula" in body:  # an evaluation interval is not forbidden by the docs: it goes unused
            raise _autoscale_settings("autoScaleFormula must not be specified when enableAutoScale is false.")
        if not targets:
            raise missing_property("targetDedicatedNodes")
        for name in targets:
            check_target(name, body[name])
    if "resizeTimeout" in body:
        check_resize_timeout("resizeTimeout", body["resizeTimeout"])
    _check_slots(body)
    check_package_references(state, body.get("applicationPackageReferences"))

    url = resource_url(call, "pools", pool_id)
    now = iso(state.now)
    data = {name: copy.deepcopy(body[name]) for name in _CREATE_FIELDS if name in body}
    data.update(
        url=url,
        eTag="",
        lastModified=now,
        creationTime=now,
        state="active",
        stateTransitionTime=now,
        allocationState="steady",
        allocationStateTransitionTime=now,
        currentDedicatedNodes=0,
        currentLowPriorityNodes=0,
        targetDedicatedNodes=0,
        targetLowPriorityNodes=0,
        enableAutoScale=enabled,
    )
    data.setdefault("resizeTimeout", DEFAULT_RESIZE_TIMEOUT)
    data.setdefault("enableInterNodeCommunication", False)
    data.setdefault("taskSlotsPerNode", 1)
    data.setdefault("taskSchedulingPolicy", {"nodeFillType": "spread"})
    for name in ("metadata", "applicationPackageReferences", "userAccounts", "mountConfiguration"):
        if data.get(name) == []:
            del data[name]
    if enabled:
        data["autoScaleFormula"] = body["autoScaleFormula"]
        data["autoScaleEvaluationInterval"] = body.get("autoScaleEvaluationInterval", DEFAULT_EVALUATION_INTERVAL)
    pool = state.record(data, url)
    data["eTag"] = pool.etag
    for name in OLDER_ONLY:
        if name in body:
            pool.extra[name] = copy.deepcopy(body[name])
    state.pools.add(pool_id, pool)
    if enabled:
        _start_autoscale(state, pool)
    elif body.get("targetDedicatedNodes") or body.get("targetLowPriorityNodes"):
        start_resize(
            state,
            pool,
            body.get("targetDedicatedNodes", 0),
            body.get("targetLowPriorityNodes", 0),
            None,
            data["resizeTimeout"],
        )
    return entity_reply(pool, 201)


def get_pool(state: State, call: Call) -> Reply:
    pool = state.pools.get(call.path["poolId"])
    check_conditions(call, pool, write=False)
    return entity_reply(pool, 200, "pools/@Element", select(view(state, call, pool), call.query.get("$select")))


def pool_exists(state: State, call: Call) -> Reply:
    pool = state.pools.get(call.path["poolId"])
    check_conditions(call, pool, write=False)
    return entity_reply(pool, 200)


def list_pools(state: State, call: Call) -> Reply:
    return list_reply(call, [view(state, call, pool) for pool in state.pools], "pools")


# -- update, replace, delete ---------------------------------------------------------------------


def _changeable(state: State, call: Call) -> Record:
    pool = state.pools.get(call.path["poolId"])
    check_conditions(call, pool, write=True)
    if pool.data.get("state") == "deleting":
        raise pool_being_deleted()
    return pool


def _has_nodes(state: State, pool: Record) -> bool:
    return len(state.nodes_of(pool.data["id"])) > 0


def update_pool(state: State, call: Call) -> Reply:
    """PATCH: only what the request names changes; an empty list clears that list."""
    pool = _changeable(state, call)
    body = body_of(call)
    fixed = [name for name in _EMPTY_POOL_ONLY if name in body]
    if fixed and _has_nodes(state, pool):
        raise conflict(
            "OperationInvalidForCurrentState",
            f"{fixed[0]} can be changed only while the pool has no compute nodes.",
            ("PropertyName", fixed[0]),
        )
    _check_slots(body)
    if "applicationPackageReferences" in body:
        check_package_references(state, body["applicationPackageReferences"])
    if "certificateReferences" in body:  # older api-versions
        pool.extra["certificateReferences"] = copy.deepcopy(body["certificateReferences"])
    for name in _UPDATE_FIELDS:
        if name not in body:
            continue
        value, current = body[name], pool.data.get(name)
        if value == [] or value is None:
            pool.data.pop(name, None)
        elif isinstance(value, dict) and isinstance(current, dict) and name not in _REPLACED_WHOLE:
            pool.data[name] = {**current, **copy.deepcopy(value)}
        else:
            pool.data[name] = copy.deepcopy(value)
    state.touch(pool)
    return entity_reply(pool, 200)


def replace_pool_properties(state: State, call: Call) -> Reply:
    """updateproperties: the start task, package references and metadata are replaced, absent means none."""
    pool = _changeable(state, call)
    body = body_of(call)
    check_package_references(state, body.get("applicationPackageReferences"))
    for name in ("startTask", "applicationPackageReferences", "metadata"):
        if body.get(name):
            pool.data[name] = copy.deepcopy(body[name])
        else:
            pool.data.pop(name, None)
    if "certificateReferences" in body:  # older api-versions
        pool.extra["certificateReferences"] = copy.deepcopy(body["certificateReferences"])
    state.touch(pool)
    return entity_reply(pool, 204)


def delete_pool(state: State, call: Call) -> Reply:
    """The pool goes `deleting`, stops any resize and autoscale, its nodes leave (tasks requeued)
    and it is gone `Timing.pool_delete` seconds later."""
    pool = _changeable(state, call)
    bump(pool, "resize")
    bump(pool, "autoscale")
    set_state(state, pool, "deleting")
    set_state(state, pool, "resizing", field="allocationState")
    for node in state.nodes_of(pool.data["id"]):
        if node.data.get("state") != "leavingpool":
            leave(state, pool, node, "requeue")
    state.after(state.timing.pool_delete, lambda now: _forget(state, pool))
    return Reply(202)


def _forget(state: State, pool: Record) -> None:
    pool_id = pool.data["id"]
    if state.pools.find(pool_id) is pool:
        for node in state.nodes_of(pool_id):
            remove_node(state, pool, node)
        state.pools.remove(pool_id)
        state.nodes.pop(pool_id.lower(), None)


# -- resizing ------------------------------------------------------------------------------------


def _nodes(state: State, pool: Record, *, dedicated: bool, staying: bool = False) -> list[Record]:
    """The pool's nodes of one kind, oldest first (`staying`: not already leaving)."""
    found = [n for n in state.nodes_of(pool.data["id"]) if n.data.get("isDedicated", True) == dedicated]
    if staying:
        found = [n for n in found if n.data.get("state") != "leavingpool"]
    return found


def _sync_counts(state: State, pool: Record) -> None:
    pool.data["currentDedicatedNodes"] = len(_nodes(state, pool, dedicated=True))
    pool.data["currentLowPriorityNodes"] = len(_nodes(state, pool, dedicated=False))


def _removal_order(node: Record) -> tuple[int, int]:
    """Which nodes a shrinking pool gives up first: those doing no work, then the newest."""
    busy = 1 if node.data.get("runningTasksCount") else 0
    return busy, -int(node.data["id"].split("_")[1])


def start_resize(
    state: State, pool: Record, dedicated: int, low_priority: int, option: str | None, timeout: str
) -> None:
    """Resize towards the targets: surplus nodes start leaving now; the rest happens at the end."""
    pool.data.update(targetDedicatedNodes=dedicated, targetLowPriorityNodes=low_priority, resizeTimeout=timeout)
    pool.data.pop("resizeErrors", None)
    for kind, target in ((True, dedicated), (False, low_priority)):
        staying = sorted(_nodes(state, pool, dedicated=kind, staying=True), key=_removal_order)
        for node in staying[: max(0, len(staying) - target)]:
            leave(state, pool, node, option)
    _begin(state, pool, option)


def _begin(state: State, pool: Record, option: str | None) -> None:
    generation = bump(pool, "resize")
    set_state(state, pool, "resizing", field="allocationState")
    state.after(state.timing.pool_resize, lambda now: _finish_resize(state, pool, generation, option))


def _finish_resize(state: State, pool: Record, generation: int, option: str | None) -> None:
    """The end of a resize: leaving nodes go (those finishing their tasks are waited for), new nodes join."""
    if pool.extra.get("resize") != generation or state.pools.find(pool.data["id"]) is not pool:
        return
    waiting = False
    for node in state.nodes_of(pool.data["id"]):
        if node.data.get("state") != "leavingpool":
            continue
        if (option or "").lower() in ("taskcompletion", "retaineddata") and node.data.get("runningTasksCount"):
            waiting = True
        else:
            remove_node(state, pool, node)
    if waiting:
        _sync_counts(state, pool)
        state.after(max(state.timing.pool_resize, 1.0), lambda now: _finish_resize(state, pool, generation, option))
        return
    for kind, target in ((True, "targetDedicatedNodes"), (False, "targetLowPriorityNodes")):
        for _ in range(pool.data[target] - len(_nodes(state, pool, dedicated=kind))):
            add_node(state, pool, dedicated=kind)
    _sync_counts(state, pool)
    set_state(state, pool, "steady", field="allocationState")


def resize_pool(state: State, call: Call) -> Reply:
    pool = _changeable(state, call)
    if pool.data.get("enableAutoScale"):
        raise conflict(
            "OperationInvalidForCurrentState",
            "The pool scales automatically; disable automatic scaling before resizing it.",
        )
    _require_steady(pool)
    body = body_of(call)
    timeout = body.get("resizeTimeout", DEFAULT_RESIZE_TIMEOUT)
    check_resize_timeout("resizeTimeout", timeout)
    dedicated = check_target(
        "targetDedicatedNodes", body.get("targetDedicatedNodes", pool.data["targetDedicatedNodes"])
    )
    low = check_target(
        "targetLowPriorityNodes", body.get("targetLowPriorityNodes", pool.data["targetLowPriorityNodes"])
    )
    start_resize(state, pool, dedicated, low, body.get("nodeDeallocationOption"), timeout)
    return entity_reply(pool, 202)


def _require_steady(pool: Record) -> None:
    if pool.data.get("allocationState") != "steady":
        raise conflict("PoolBeingResized", "The specified pool is being resized.")


def stop_pool_resize(state: State, call: Call) -> Reply:
    """`stopping`, then `steady` with the nodes the pool has now (a steady pool: nothing to stop)."""
    pool = _changeable(state, call)
    if pool.data.get("allocationState") == "resizing":
        generation = bump(pool, "resize")
        set_state(state, pool, "stopping", field="allocationState")
        state.after(state.timing.pool_stop_resize, lambda now: _finish_stop(state, pool, generation))
    return entity_reply(pool, 202)


def _finish_stop(state: State, pool: Record, generation: int) -> None:
    if pool.extra.get("resize") != generation or state.pools.find(pool.data["id"]) is not pool:
        return
    for node in state.nodes_of(pool.data["id"]):
        if node.data.get("state") == "leavingpool":
            set_state(state, node, "running" if node.data.get("runningTasksCount") else "idle")
    _sync_counts(state, pool)
    pool.data["resizeErrors"] = [dict(_RESIZE_STOPPED)]
    set_state(state, pool, "steady", field="allocationState")


def remove_nodes(state: State, call: Call) -> Reply:
    """The named nodes leave (their tasks per `nodeDeallocationOption`); targets drop to what stays."""
    pool = _changeable(state, call)
    _require_steady(pool)
    body = body_of(call)
    names = body["nodeList"]
    if len(names) > MAX_REMOVE:
        raise invalid_property("nodeList", len(names), f"At most {MAX_REMOVE} nodes can be removed per request.")
    timeout = body.get("resizeTimeout", DEFAULT_RESIZE_TIMEOUT)
    check_resize_timeout("resizeTimeout", timeout)
    table = state.nodes_of(pool.data["id"])
    chosen = [table.get(name) for name in names]
    option = body.get("nodeDeallocationOption")
    for node in chosen:
        if node.data.get("state") != "leavingpool":
            leave(state, pool, node, option)
    pool.data["targetDedicatedNodes"] = len(_nodes(state, pool, dedicated=True, staying=True))
    pool.data["targetLowPriorityNodes"] = len(_nodes(state, pool, dedicated=False, staying=True))
    pool.data["resizeTimeout"] = timeout
    pool.data.pop("resizeErrors", None)
    _begin(state, pool, option)
    return entity_reply(pool, 202)


# -- autoscale -----------------------------------------------------------------------------------


def autoscale_inputs(state: State, pool: Record) -> dict[str, autoscale.Value]:
    """The service variables a formula reads: the pool's nodes and the tasks of the jobs on it.

    The emulator measures no load: resource variables are 0 and every sample is complete.
    """
    pool_id = pool.data["id"].lower()
    nodes = list(state.nodes_of(pool.data["id"]))
    counts = {"active": 0, "running": 0, "succeeded": 0, "failed": 0}
    for job in state.jobs:
        info = job.data.get("executionInfo") or {}
        target = info.get("poolId") or (job.data.get("poolInfo") or {}).get("poolId") or ""
        table = state.tasks.get(job.data["id"].lower())
        if target.lower() != pool_id or table is None:
            continue
        for task in table:
            task_state = task.data.get("state")
            if task_state in ("active", "running"):
                counts[task_state] += 1
            elif task_state == "completed":
                result = (task.data.get("executionInfo") or {}).get("result")
                counts["succeeded" if result == "success" else "failed"] += 1
    inputs: dict[str, autoscale.Value] = {
        name: 0.0
        for name in (
            "$CPUPercent", "$WallClockSeconds", "$MemoryBytes", "$DiskBytes", "$DiskReadBytes", "$DiskWriteBytes",
            "$DiskReadOps", "$DiskWriteOps", "$NetworkInBytes", "$NetworkOutBytes", "$PreemptedNodeCount",
        )
    }  # fmt: skip
    inputs.update(
        {
            "$CurrentDedicatedNodes": float(pool.data.get("currentDedicatedNodes", 0)),
            "$CurrentLowPriorityNodes": float(pool.data.get("currentLowPriorityNodes", 0)),
            "$SampleNodeCount": float(len(nodes)),
            "$UsableNodeCount": float(sum(1 for n in nodes if n.data.get("state") in ("idle", "running"))),
            "$TaskSlotsPerNode": float(pool.data.get("taskSlotsPerNode", 1)),
            "$ActiveTasks": float(counts["active"]),
            "$RunningTasks": float(counts["running"]),
            "$PendingTasks": float(counts["active"] + counts["running"]),
            "$SucceededTasks": float(counts["succeeded"]),
            "$FailedTasks": float(counts["failed"]),
            autoscale.TARGET_DEDICATED: float(pool.data.get("targetDedicatedNodes", 0)),
            autoscale.TARGET_LOW_PRIORITY: float(pool.data.get("targetLowPriorityNodes", 0)),
            autoscale.DEALLOCATION_OPTION: "requeue",
        }
    )
    return inputs


def autoscale_run(state: State, pool: Record, formula: str) -> tuple[dict[str, Any], autoscale.Evaluation | None]:
    """An `AutoScaleRun` for `formula` on `pool` now (an evaluation error is reported in it, not raised)."""
    run: dict[str, Any] = {"timestamp": iso(state.now)}
    try:
        outcome = autoscale.evaluate(formula, autoscale_inputs(state, pool))
    except autoscale.FormulaSyntaxError as error:
        run["error"] = _run_error("AutoScalingFormulaSyntaxError", "The autoscale formula has a syntax error.", error)
        return run, None
    except autoscale.FormulaEvaluationError as error:
        run["error"] = _run_error("InvalidFormula", "The autoscale formula could not be evaluated.", error)
        return run, None
    run["results"] = outcome.results()
    return run, outcome


def _run_error(code: str, message: str, error: Exception) -> dict[str, Any]:
    return {"code": code, "message": message, "values": [{"name": "Message", "value": str(error)}]}


def _apply_autoscale(state: State, pool: Record) -> None:
    """Evaluate the pool's formula; resize to its targets when they differ and the pool is steady."""
    run, outcome = autoscale_run(state, pool, pool.data["autoScaleFormula"])
    pool.data["autoScaleRun"] = run
    state.touch(pool)
    if outcome is None or pool.data.get("allocationState") != "steady":
        return
    wanted = (outcome.target_dedicated_nodes, outcome.target_low_priority_nodes)
    targets = (pool.data["targetDedicatedNodes"], pool.data["targetLowPriorityNodes"])
    current = (pool.data["currentDedicatedNodes"], pool.data["currentLowPriorityNodes"])
    if wanted != targets or wanted != current:
        dedicated, low = wanted
        timeout = pool.data.get("resizeTimeout", DEFAULT_RESIZE_TIMEOUT)
        start_resize(state, pool, dedicated, low, outcome.node_deallocation_option, timeout)


def _start_autoscale(state: State, pool: Record) -> None:
    """Evaluate now, then every `autoScaleEvaluationInterval` until autoscale is disabled or changed."""
    generation = bump(pool, "autoscale")
    interval = scheduler.seconds_of(pool.data["autoScaleEvaluationInterval"]) or MIN_EVALUATION_INTERVAL

    def tick(now: Any) -> None:
        if pool.extra.get("autoscale") != generation or state.pools.find(pool.data["id"]) is not pool:
            return
        _apply_autoscale(state, pool)
        state.after(interval, tick)

    _apply_autoscale(state, pool)
    state.after(interval, tick)


def enable_pool_auto_scale(state: State, call: Call) -> Reply:
    pool = _changeable(state, call)
    _require_steady(pool)
    last = pool.extra.get("autoscale_enabled_at")
    if last is not None and state.now - last < ENABLE_AUTOSCALE_SPACING:
        raise ServiceError(
            503,
            "TooManyEnableAutoScaleRequests",
            "Enable autoscale requests for the same pool must be at least 30 seconds apart.",
        )
    body = body_of(call)
    formula = body.get("autoScaleFormula")
    if formula is None and not pool.data.get("enableAutoScale"):
        raise missing_property("autoScaleFormula")
    if formula is not None:
        check_formula(formula)
        pool.data["autoScaleFormula"] = formula
    if "autoScaleEvaluationInterval" in body:
        check_evaluation_interval(body["autoScaleEvaluationInterval"])
        pool.data["autoScaleEvaluationInterval"] = body["autoScaleEvaluationInterval"]
    pool.data.setdefault("autoScaleEvaluationInterval", DEFAULT_EVALUATION_INTERVAL)
    pool.data["enableAutoScale"] = True
    pool.extra["autoscale_enabled_at"] = state.now
    _start_autoscale(state, pool)
    return entity_reply(pool, 200)


def evaluate_pool_auto_scale(state: State, call: Call) -> Reply:
    """The formula's results on this pool now, without applying them (autoscale must be enabled)."""
    pool = live_pool(state, call.path["poolId"])
    if not pool.data.get("enableAutoScale"):
        raise conflict(
            "OperationInvalidForCurrentState",
            "Automatic scaling must be enabled on the pool to evaluate a formula.",
        )
    formula = body_of(call)["autoScaleFormula"]
    check_formula(formula)
    run, _ = autoscale_run(state, pool, formula)
    return entity_reply(pool, 200, _AUTOSCALE_RUN_TYPE, run)


def disable_pool_auto_scale(state: State, call: Call) -> Reply:
    """The pool keeps its current targets; the formula, interval and last run go."""
    pool = live_pool(state, call.path["poolId"])
    if pool.data.get("enableAutoScale"):
        bump(pool, "autoscale")
        pool.data["enableAutoScale"] = False
        for name in ("autoScaleFormula", "autoScaleEvaluationInterval", "autoScaleRun"):
            pool.data.pop(name, None)
        state.touch(pool)
    return entity_reply(pool, 200)


HANDLERS = MappingProxyType(
    {
        "Pools_CreatePool": create_pool,
        "Pools_GetPool": get_pool,
        "Pools_PoolExists": pool_exists,
        "Pools_ListPools": list_pools,
        "Pools_UpdatePool": update_pool,
        "Pools_ReplacePoolProperties": replace_pool_properties,
        "Pools_DeletePool": delete_pool,
        "Pools_ResizePool": resize_pool,
        "Pools_StopPoolResize": stop_pool_resize,
        "Pools_RemoveNodes": remove_nodes,
        "Pools_EnablePoolAutoScale": enable_pool_auto_scale,
        "Pools_EvaluatePoolAutoScale": evaluate_pool_auto_scale,
        "Pools_DisablePoolAutoScale": disable_pool_auto_scale,
    }
)
