"""Compute nodes: their life cycle (used by the pool handlers) and the node operations.

A node joins its pool `starting` and is `idle` `Timing.node_start` seconds later; the scheduler
turns it `running` while it holds tasks. Reboot, reimage and deallocate are allowed from `idle`
or `running` only, start from `deallocated` only; anything else is 409 (`NodeBeingRebooted`,
`NodeBeingReimaged`, `NodeBeingStarted`, `NodeStateUnusable` where one names the state, else
`OperationInvalidForCurrentState`). These actions hand the node's tasks to
`scheduler.release_node` with the client's option; with `taskcompletion`/`retaineddata` the node
finishes its action only once its tasks have ended. Scheduling can only be disabled when
enabled and enabled when disabled (409 `NodeAlreadyInTargetSchedulingState`). User accounts
(never their passwords) and the node's files live in `Record.extra`.
"""

from __future__ import annotations

import copy
import math
import uuid
import zlib
from collections.abc import Callable
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from .. import scheduler
from ..model import (
    Call,
    Entity,
    Reply,
    ServiceError,
    StoredFile,
    conflict,
    invalid_property,
    missing_property,
    not_found,
)
from ..odata import list_reply
from ..state import Record, State, http_date, iso
from .common import body_of, bump, delete_file, entity_reply, file_reply, live_pool, selected, set_state

READY = ("idle", "running")
WAITING_OPTIONS = ("taskcompletion", "retaineddata")  # the node keeps its tasks until they end
NODE_AGENT_VERSION = "1.11.0.0"
DEFAULT_USER_EXPIRY = timedelta(days=1)
# states that have their own 409 code, and what the node is busy doing
_BUSY = MappingProxyType(
    {
        "rebooting": ("NodeBeingRebooted", "being rebooted"),
        "reimaging": ("NodeBeingReimaged", "being reimaged"),
        "starting": ("NodeBeingStarted", "being started"),
        "creating": ("NodeBeingCreated", "being created"),
        "unusable": ("NodeStateUnusable", "unusable"),
    }
)


# -- life cycle ------------------------------------------------------------------------------


def is_windows(pool: Record) -> bool:
    sku = (pool.data.get("virtualMachineConfiguration") or {}).get("nodeAgentSKUId", "")
    return "windows" in sku.lower()


def public_ip(pool: Record) -> str:
    """The address of the pool's load balancer: stable for a pool id, in a documentation-like range."""
    digest = zlib.crc32(pool.data["id"].lower().encode("utf-8"))
    return f"20.{digest >> 16 & 0xFF}.{digest >> 8 & 0xFF}.{digest & 0xFF or 1}"


def add_node(state: State, pool: Record, *, dedicated: bool) -> Record:
    """A new node in `starting`; it becomes `idle` after `Timing.node_start`. Ids are
    `tvmps_<n>_d` (dedicated) or `tvmps_<n>_p` (Spot/low-priority), n counting up per pool."""
    serial = bump(pool, "node_serial")
    node_id = f"tvmps_{serial}_{'d' if dedicated else 'p'}"
    now = iso(state.now)
    vm = pool.data.get("virtualMachineConfiguration") or {}
    windows = is_windows(pool)
    data: dict[str, Any] = {
        "id": node_id,
        "url": f"{pool.data['url']}/nodes/{quote(node_id, safe='')}",
        "state": "starting",
        "schedulingState": "enabled",
        "stateTransitionTime": now,
        "lastBootTime": now,
        "allocationTime": now,
        "ipAddress": f"10.0.{serial // 250}.{serial % 250 + 4}",
        "ipv6Address": f"fd00::{serial:x}",
        "affinityId": f"TVM:{node_id}",
        "vmSize": pool.data["vmSize"],
        "totalTasksRun": 0,
        "totalTasksSucceeded": 0,
        "runningTasksCount": 0,
        "runningTaskSlotsCount": 0,
        "isDedicated": dedicated,
        "endpointConfiguration": {
            "inboundEndpoints": [
                {
                    "name": "RDPRule.0" if windows else "SSHRule.0",
                    "protocol": "tcp",
                    "publicIPAddress": public_ip(pool),
                    "publicFQDN": f"dns{zlib.crc32(pool.data['id'].lower().encode()):08x}.westus.cloudapp.azure.com",
                    "frontendPort": 50000 + serial,
                    "backendPort": 3389 if windows else 22,
                }
            ]
        },
        "nodeAgentInfo": {"version": NODE_AGENT_VERSION, "lastUpdateTime": now},
        "virtualMachineInfo": {"imageReference": copy.deepcopy(vm.get("imageReference") or {})},
    }
    if pool.data.get("startTask"):
        data["startTask"] = copy.deepcopy(pool.data["startTask"])
    node = state.record(data, data["url"])
    node.extra["files"] = _seed_files(state, pool)
    state.nodes_of(pool.data["id"]).add(node_id, node)
    schedule(state, pool, node, state.timing.node_start, "starting", "idle", None, _booted)
    return node


def _seed_files(state: State, pool: Record) -> dict[str, StoredFile]:
    """What a fresh (or reimaged) node holds: the start task's output, as the scheduler writes task output."""
    start = pool.data.get("startTask")
    stdout = f"{start.get('commandLine', '')}\n" if start else ""
    now = state.now
    return {
        "startup/stdout.txt": StoredFile(stdout.encode("utf-8"), now, now),
        "startup/stderr.txt": StoredFile(b"", now, now),
    }


def _booted(state: State, pool: Record, node: Record) -> None:
    node.data["lastBootTime"] = iso(state.now)
    if node.data.get("startTask"):
        node.data["startTaskInfo"] = {
            "state": "completed",
            "startTime": iso(state.now),
            "endTime": iso(state.now),
            "exitCode": 0,
            "result": "success",
            "retryCount": 0,
        }


def _reimaged(state: State, pool: Record, node: Record) -> None:
    node.extra["files"] = _seed_files(state, pool)
    node.extra.pop("users", None)
    _booted(state, pool, node)


def schedule(
    state: State,
    pool: Record,
    node: Record,
    seconds: float,
    busy: str,
    done: str,
    option: str | None,
    then: Callable[[State, Record, Record], None] | None = None,
) -> None:
    """Move `node` from `busy` to `done` after `seconds` (`idle` means `running` while it holds
    tasks). With a waiting option the node first lets its tasks end. A newer action on the
    node, or its removal, cancels this one."""
    generation = bump(node, "action")
    pool_id, node_id = pool.data["id"], node.data["id"]

    def finish(now: Any) -> None:
        current = state.nodes.get(pool_id.lower())
        found = current.find(node_id) if current is not None else None
        if found is not node or node.extra.get("action") != generation or node.data.get("state") != busy:
            return
        if (option or "").lower() in WAITING_OPTIONS and node.data.get("runningTasksCount"):
            state.after(max(seconds, 1.0), finish)
            return
        if then is not None:
            then(state, pool, node)
        target = ("running" if node.data.get("runningTasksCount") else "idle") if done == "idle" else done
        set_state(state, node, target)

    state.after(seconds, finish)


def leave(state: State, pool: Record, node: Record, option: str | None) -> None:
    """Start taking `node` out of its pool: its tasks go per `option`, it takes no new ones."""
    bump(node, "action")
    scheduler.release_node(state, pool.data["id"], node.data["id"], option)
    set_state(state, node, "leavingpool")


def remove_node(state: State, pool: Record, node: Record) -> None:
    """Take `node` out of the pool for good, keeping its lifetime for the usage metrics."""
    scheduler.release_node(state, pool.data["id"], node.data["id"], "requeue")
    bump(node, "action")
    state.nodes_of(pool.data["id"]).remove(node.data["id"])
    pool.extra.setdefault("history", []).append(
        (node.data.get("isDedicated", True), node.data["allocationTime"], iso(state.now))
    )


# -- lookups -------------------------------------------------------------------------------------


def _target(state: State, call: Call, *, change: bool) -> tuple[Record, Record]:
    """(pool, node); for a change the pool must not be being deleted."""
    pool_id = call.path["poolId"]
    pool = live_pool(state, pool_id) if change else state.pools.get(pool_id)
    return pool, state.nodes_of(pool.data["id"]).get(call.path["nodeId"])


def require(node: Record, allowed: tuple[str, ...], action: str) -> None:
    """409 unless the node is in one of the `allowed` states."""
    current = node.data.get("state", "unknown")
    if current in allowed:
        return
    if current in _BUSY:
        code, doing = _BUSY[current]
        raise conflict(code, f"The specified node is {doing}.", ("NodeState", current))
    raise conflict(
        "OperationInvalidForCurrentState",
        f"The node is {current}; it can be {action} only when it is {' or '.join(allowed)}.",
        ("NodeState", current),
    )


# -- get, list ---------------------------------------------------------------------------------


def list_nodes(state: State, call: Call) -> Reply:
    pool = state.pools.get(call.path["poolId"])
    nodes = [copy.deepcopy(node.data) for node in state.nodes_of(pool.data["id"])]
    return list_reply(call, nodes, "nodes")


def get_node(state: State, call: Call) -> Reply:
    _, node = _target(state, call, change=False)
    return entity_reply(node, 200, "nodes/@Element", selected(call, node.data))


# -- actions -----------------------------------------------------------------------------------


def _action(
    state: State,
    call: Call,
    *,
    allowed: tuple[str, ...],
    verb: str,
    busy: str,
    done: str,
    seconds: float,
    option_field: str | None,
    then: Callable[[State, Record, Record], None] | None = None,
) -> Reply:
    pool, node = _target(state, call, change=True)
    require(node, allowed, verb)
    option = body_of(call).get(option_field) if option_field else None
    scheduler.release_node(state, pool.data["id"], node.data["id"], option)
    set_state(state, node, busy)
    schedule(state, pool, node, seconds, busy, done, option, then)
    return entity_reply(node, 202)


def reboot_node(state: State, call: Call) -> Reply:
    seconds = state.timing.node_reboot
    return _action(
        state, call, allowed=READY, verb="rebooted", busy="rebooting", done="idle", seconds=seconds,
        option_field="nodeRebootOption", then=_booted,
    )  # fmt: skip


def reimage_node(state: State, call: Call) -> Reply:
    seconds = state.timing.node_reimage
    return _action(
        state, call, allowed=READY, verb="reimaged", busy="reimaging", done="idle", seconds=seconds,
        option_field="nodeReimageOption", then=_reimaged,
    )  # fmt: skip


def deallocate_node(state: State, call: Call) -> Reply:
    seconds = state.timing.node_deallocate
    return _action(
        state, call, allowed=READY, verb="deallocated", busy="deallocating", done="deallocated", seconds=seconds,
        option_field="nodeDeallocateOption",
    )  # fmt: skip


def start_node(state: State, call: Call) -> Reply:
    seconds = state.timing.node_start
    return _action(
        state, call, allowed=("deallocated",), verb="started", busy="starting", done="idle", seconds=seconds,
        option_field=None, then=_booted,
    )  # fmt: skip


def disable_node_scheduling(state: State, call: Call) -> Reply:
    pool, node = _target(state, call, change=True)
    if node.data.get("schedulingState") == "disabled":
        raise conflict(
            "NodeAlreadyInTargetSchedulingState", "The specified node is already in the target scheduling state."
        )
    option = body_of(call).get("nodeDisableSchedulingOption")
    scheduler.release_node(state, pool.data["id"], node.data["id"], option)
    node.data["schedulingState"] = "disabled"
    state.touch(node)
    return entity_reply(node, 200)


def enable_node_scheduling(state: State, call: Call) -> Reply:
    _, node = _target(state, call, change=True)
    if node.data.get("schedulingState", "enabled") == "enabled":
        raise conflict(
            "NodeAlreadyInTargetSchedulingState", "The specified node is already in the target scheduling state."
        )
    node.data["schedulingState"] = "enabled"
    state.touch(node)
    return entity_reply(node, 200)


# -- user accounts -----------------------------------------------------------------------------


def _users(node: Record) -> dict[str, dict[str, Any]]:
    return node.extra.setdefault("users", {})


def _account(state: State, pool: Record, name: str, body: dict[str, Any], *, is_admin: bool) -> dict[str, Any]:
    """What the node keeps of a user account: whether it has a password, never the password itself."""
    key = body.get("sshPublicKey")
    if is_windows(pool):
        if key:
            raise invalid_property("sshPublicKey", "(set)", "SSH public keys are only supported on Linux nodes.")
        if not body.get("password"):
            raise missing_property("password")
    expiry = body.get("expiryTime") or iso(state.now + DEFAULT_USER_EXPIRY)
    return {
        "name": name,
        "isAdmin": is_admin,
        "expiryTime": expiry,
        "hasPassword": bool(body.get("password")),
        "sshPublicKey": key,
    }


def _user_url(node: Record, name: str) -> str:
    return f"{node.data['url']}/users/{quote(name, safe='')}"


def create_node_user(state: State, call: Call) -> Reply:
    pool, node = _target(state, call, change=True)
    require(node, READY, "given user accounts")
    body = body_of(call)
    name = body["name"]
    users = _users(node)
    if name.lower() in users:
        raise conflict("NodeUserExists", "The specified node user already exists.")
    users[name.lower()] = _account(state, pool, name, body, is_admin=bool(body.get("isAdmin", False)))
    return Reply(201, entity=Entity(node.etag, state.now, _user_url(node, name)))


def _user(node: Record, name: str) -> dict[str, Any]:
    found = _users(node).get(name.lower())
    if found is None:
        raise not_found("node user", "NodeUserNotFound")
    return found


def replace_node_user(state: State, call: Call) -> Reply:
    pool, node = _target(state, call, change=True)
    require(node, READY, "given user accounts")
    current = _user(node, call.path["userName"])
    replaced = _account(state, pool, current["name"], body_of(call), is_admin=current["isAdmin"])
    _users(node)[current["name"].lower()] = replaced
    return Reply(200, entity=Entity(node.etag, state.now, _user_url(node, current["name"])))


def delete_node_user(state: State, call: Call) -> Reply:
    _, node = _target(state, call, change=True)
    require(node, READY, "given user accounts")
    _user(node, call.path["userName"])
    del _users(node)[call.path["userName"].lower()]
    return Reply(200)


# -- remote login, logs, extensions ---------------------------------------------------------------


def get_node_remote_login_settings(state: State, call: Call) -> Reply:
    _, node = _target(state, call, change=False)
    endpoint = node.data["endpointConfiguration"]["inboundEndpoints"][0]
    body = {"remoteLoginIPAddress": endpoint["publicIPAddress"], "remoteLoginPort": endpoint["frontendPort"]}
    odata = "Microsoft.Azure.Batch.Protocol.Entities.ComputeNodeGetRemoteLoginSettingsResult"
    return entity_reply(node, 200, odata, body)


def upload_node_logs(state: State, call: Call) -> Reply:
    """One log file per started hour the node was up within [startTime, endTime or now]."""
    pool, node = _target(state, call, change=False)
    body = body_of(call)
    start = scheduler.parse_time(body.get("startTime"))
    end = scheduler.parse_time(body.get("endTime")) or state.now
    up = scheduler.parse_time(node.data["allocationTime"]) or state.now
    first, last = max(start or up, up), min(end, state.now)
    files = math.ceil((last - first).total_seconds() / 3600) if last > first else 0
    pool_id, node_id = pool.data["id"], node.data["id"]
    # named from the account-relative path, not the node's URL: that holds the emulator's port, which varies
    batch = uuid.uuid5(uuid.NAMESPACE_URL, f"/pools/{pool_id}/nodes/{node_id}/uploadbatchservicelogs/{iso(state.now)}")
    result = {"virtualDirectoryName": f"{pool_id}/{node_id.replace('_', '-')}/{batch}", "numberOfFilesUploaded": files}
    return entity_reply(node, 200, "Microsoft.Azure.Batch.Protocol.Entities.UploadBatchServiceLogsResult", result)


def _extensions(pool: Record, node: Record) -> list[dict[str, Any]]:
    """The pool's VM extensions as installed on the node (their protected settings stay hidden)."""
    items = []
    for extension in (pool.data.get("virtualMachineConfiguration") or {}).get("extensions") or ():
        shown = {key: copy.deepcopy(value) for key, value in extension.items() if key != "protectedSettings"}
        status = {
            "code": "ProvisioningState/succeeded",
            "level": "Info",
            "displayStatus": "Provisioning succeeded",
            "message": "Enable succeeded",
            "time": node.data["allocationTime"],
        }
        view = {"name": extension["name"], "statuses": [status]}
        items.append({"provisioningState": "Succeeded", "vmExtension": shown, "instanceView": view})
    return items


def list_node_extensions(state: State, call: Call) -> Reply:
    pool, node = _target(state, call, change=False)
    return list_reply(call, _extensions(pool, node), "extensions")


def get_node_extension(state: State, call: Call) -> Reply:
    pool, node = _target(state, call, change=False)
    wanted = call.path["extensionName"].lower()
    for item in _extensions(pool, node):
        if item["vmExtension"]["name"].lower() == wanted:
            return entity_reply(node, 200, "extensions/@Element", selected(call, item))
    raise ServiceError(404, "ResourceNotFound", "The specified resource does not exist.")


# -- files ---------------------------------------------------------------------------------------


def files_of(node: Record) -> dict[str, StoredFile]:
    """path (`/`-separated, relative to the node root) → file; directories are implied by paths."""
    return node.extra.setdefault("files", {})


def _directories(files: dict[str, StoredFile]) -> set[str]:
    found = set()
    for path in files:
        parts = path.split("/")[:-1]
        found.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return found


def _path(call: Call) -> str:
    return call.path["filePath"].replace("\\", "/").strip("/")


def _file_url(node: Record, path: str) -> str:
    return f"{node.data['url']}/files/{quote(path, safe='/')}"


def _file_entry(node: Record, path: str, stored: StoredFile | None, linux: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": path, "url": _file_url(node, path), "isDirectory": stored is None}
    if stored is not None:
        entry["properties"] = {
            "creationTime": iso(stored.created),
            "lastModified": iso(stored.modified),
            "contentLength": str(len(stored.content)),
            "contentType": "application/octet-stream",
        }
        if linux:
            entry["properties"]["fileMode"] = stored.mode
    return entry


def list_node_files(state: State, call: Call) -> Reply:
    """The node's top level, or with `recursive=true` every directory and file, by name."""
    pool, node = _target(state, call, change=False)
    files = files_of(node)
    if call.flag("recursive"):
        names = sorted(set(files) | _directories(files))
    else:
        names = sorted({path.split("/", 1)[0] for path in files})
    linux = not is_windows(pool)
    return list_reply(call, [_file_entry(node, name, files.get(name), linux) for name in names], "files")


def _node_file(state: State, call: Call, *, content: bool) -> Reply:
    pool, node = _target(state, call, change=False)
    path, files = _path(call), files_of(node)
    stored = files.get(path)
    if stored is not None:
        return file_reply(call, stored, _file_url(node, path), content=content, linux=not is_windows(pool))
    inside = [files[p] for p in files if p.startswith(path + "/")]
    if not path or not inside:
        raise ServiceError(404, "FileNotFound", "The specified file does not exist.")
    created, modified = min(f.created for f in inside), max(f.modified for f in inside)
    headers = (
        ("ocp-creation-time", http_date(created)),
        ("ocp-batch-file-isdirectory", "true"),
        ("ocp-batch-file-url", _file_url(node, path)),
        ("Content-Length", "0"),
    )
    return Reply(200, b"" if content else None, Entity(node.etag, modified), headers, "application/octet-stream")


def get_node_file(state: State, call: Call) -> Reply:
    return _node_file(state, call, content=True)


def get_node_file_properties(state: State, call: Call) -> Reply:
    return _node_file(state, call, content=False)


def delete_node_file(state: State, call: Call) -> Reply:
    _, node = _target(state, call, change=False)
    return delete_file(files_of(node), _path(call), recursive=call.flag("recursive"))


HANDLERS = MappingProxyType(
    {
        "Nodes_ListNodes": list_nodes,
        "Nodes_GetNode": get_node,
        "Nodes_RebootNode": reboot_node,
        "Nodes_ReimageNode": reimage_node,
        "Nodes_StartNode": start_node,
        "Nodes_DeallocateNode": deallocate_node,
        "Nodes_DisableNodeScheduling": disable_node_scheduling,
        "Nodes_EnableNodeScheduling": enable_node_scheduling,
        "Nodes_CreateNodeUser": create_node_user,
        "Nodes_ReplaceNodeUser": replace_node_user,
        "Nodes_DeleteNodeUser": delete_node_user,
        "Nodes_GetNodeRemoteLoginSettings": get_node_remote_login_settings,
        "Nodes_UploadNodeLogs": upload_node_logs,
        "Nodes_ListNodeExtensions": list_node_extensions,
        "Nodes_GetNodeExtension": get_node_extension,
        "Nodes_ListNodeFiles": list_node_files,
        "Nodes_GetNodeFile": get_node_file,
        "Nodes_GetNodeFileProperties": get_node_file_properties,
        "Nodes_DeleteNodeFile": delete_node_file,
    }
)
