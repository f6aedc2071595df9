"""Account-level operations: applications, supported images, node counts and usage metrics per
pool, and the certificates of api-versions before 2025-06-01.

The account comes with two applications (the same on every run) for package references to
name. Usage metrics are aggregated in 30-minute intervals from the lifetimes of the pools'
nodes (a node counts from its allocation until it leaves) times the cores of the pool's VM
size. A certificate is `active`; deleting it makes it `deleting`, then it is gone after
`Timing.certificate_delete`, unless a pool still references it, in which case it becomes
`deletefailed`. Cancelling a deletion makes it `active` again. Its `data` and `password` are
never returned.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from .. import scheduler
from ..model import Call, Entity, Reply, conflict, invalid_property
from ..odata import list_reply
from ..state import Record, State, Table, iso
from .common import body_of, entity_reply, json_copy, selected, transition

# id, display name, versions
_APPLICATIONS = (
    ("app-python", "Python runtime", ("3.11", "3.12")),
    ("app-tools", "Build tools", ("1.0", "2.0")),
)
# node agent SKU, (publisher, offer, sku), os, verification, capabilities, end of Batch support
_IMAGES = (
    ("batch.node.ubuntu 22.04", ("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts"), "linux", "verified",
     ("DockerCompatible",), None),
    ("batch.node.ubuntu 24.04", ("canonical", "ubuntu-24_04-lts", "server"), "linux", "verified",
     ("DockerCompatible",), None),
    ("batch.node.ubuntu 20.04", ("canonical", "0001-com-ubuntu-server-focal", "20_04-lts"), "linux", "verified",
     ("DockerCompatible",), "2025-04-30T00:00:00Z"),
    ("batch.node.el 9", ("almalinux", "almalinux-x86_64", "9-gen2"), "linux", "verified", (), None),
    ("batch.node.ubuntu 22.04", ("microsoft-dsvm", "ubuntu-hpc", "2204"), "linux", "unverified",
     ("DockerCompatible", "NvidiaTeslaDriverInstalled"), None),
    ("batch.node.windows amd64", ("microsoftwindowsserver", "windowsserver", "2022-datacenter"), "windows",
     "verified", (), None),
    ("batch.node.windows amd64", ("microsoftwindowsserver", "windowsserver", "2019-datacenter"), "windows",
     "verified", (), None),
)  # fmt: skip
# node state → BatchNodeCounts property
_COUNTED = MappingProxyType(
    {
        "creating": "creating", "idle": "idle", "offline": "offline", "preempted": "preempted",
        "rebooting": "rebooting", "reimaging": "reimaging", "running": "running", "starting": "starting",
        "starttaskfailed": "startTaskFailed", "leavingpool": "leavingPool", "unknown": "unknown",
        "unusable": "unusable", "waitingforstarttask": "waitingForStartTask", "deallocated": "deallocated",
        "deallocating": "deallocating", "upgradingos": "upgradingOS",
    }
)  # fmt: skip
USAGE_INTERVAL = timedelta(minutes=30)
_CORES = re.compile(r"^(?:standard|basic)_[a-z]+?(\d+)", re.IGNORECASE)
_THUMBPRINT = re.compile(r"[0-9a-fA-F]{40}")


# -- applications ----------------------------------------------------------------------------------


def applications(state: State) -> Table:
    """The account's applications, seeded on first use."""
    table = state.applications
    if len(table) == 0:
        for app_id, name, versions in _APPLICATIONS:
            table.add(app_id, state.record({"id": app_id, "displayName": name, "versions": list(versions)}, ""))
    return table


def list_applications(state: State, call: Call) -> Reply:
    return list_reply(call, [json_copy(r.data) for r in applications(state)], "applications")


def get_application(state: State, call: Call) -> Reply:
    record = applications(state).get(call.path["applicationId"])
    return entity_reply(record, 200, "applications/@Element", json_copy(record.data))


# -- images, node counts, usage ----------------------------------------------------------------------


def list_supported_images(state: State, call: Call) -> Reply:
    images = []
    for sku_id, (publisher, offer, sku), os_type, verification, capabilities, end_of_life in _IMAGES:
        image: dict[str, Any] = {
            "nodeAgentSKUId": sku_id,
            "imageReference": {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"},
            "osType": os_type,
            "verificationType": verification,
        }
        if capabilities:
            image["capabilities"] = list(capabilities)
        if end_of_life:
            image["batchSupportEndOfLife"] = end_of_life
        images.append(image)
    return list_reply(call, images, "supportedimages")


def node_counts(state: State, pool: Record) -> dict[str, Any]:
    """`BatchPoolNodeCounts`: the pool's nodes per state, dedicated and Spot/low-priority apart."""
    tallies = {kind: dict.fromkeys((*_COUNTED.values(), "total"), 0) for kind in ("dedicated", "lowPriority")}
    for node in state.nodes_of(pool.data["id"]):
        tally = tallies["dedicated" if node.data.get("isDedicated", True) else "lowPriority"]
        tally[_COUNTED.get(node.data.get("state", "unknown"), "unknown")] += 1
        tally["total"] += 1
    return {"poolId": pool.data["id"], **tallies}


def list_pool_node_counts(state: State, call: Call) -> Reply:
    return list_reply(call, [node_counts(state, pool) for pool in state.pools], "poolnodecounts")


def cores(vm_size: str) -> int:
    """Cores of a VM size, read from its name (`standard_d4s_v3` → 4); 1 when the name says nothing."""
    found = _CORES.match(vm_size or "")
    return int(found.group(1)) if found else 1


def core_hours(state: State, pool: Record, start: datetime, end: datetime) -> float:
    """Core-hours the pool's nodes (present and past) used between `start` and `end`."""
    lives = [(n.data["allocationTime"], None) for n in state.nodes_of(pool.data["id"])]
    lives += [(began, ended) for _, began, ended in pool.extra.get("history", ())]
    seconds = 0.0
    for began, ended in lives:
        first = max(start, scheduler.parse_time(began) or start)
        last = min(end, scheduler.parse_time(ended) if ended else state.now)
        seconds += max(0.0, (last - first).total_seconds())
    return seconds / 3600 * cores(pool.data.get("vmSize", ""))


def _interval_start(moment: datetime) -> datetime:
    step = USAGE_INTERVAL.total_seconds()
    return datetime.fromtimestamp(moment.timestamp() // step * step, tz=timezone.utc)


def _intervals(state: State, call: Call) -> list[tuple[datetime, datetime]]:
    """The complete aggregation intervals the request covers (by default the latest one)."""
    latest = _interval_start(state.now)
    start = scheduler.parse_time(call.query.get("starttime"))
    end = scheduler.parse_time(call.query.get("endtime"))
    if start is None and end is None:
        return [(latest - USAGE_INTERVAL, latest)]
    moment = _interval_start(start) if start is not None else latest - USAGE_INTERVAL
    stop = min(end, latest) if end is not None else latest
    found = []
    while moment < stop:
        found.append((moment, moment + USAGE_INTERVAL))
        moment += USAGE_INTERVAL
    return found


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def list_pool_usage_metrics(state: State, call: Call) -> Reply:
    metrics = []
    for start, end in _intervals(state, call):
        for pool in state.pools:
            created = scheduler.parse_time(pool.data["creationTime"]) or state.now
            if created >= end:
                continue
            metrics.append(
                {
                    "poolId": pool.data["id"],
                    "startTime": _z(start),
                    "endTime": _z(end),
                    "vmSize": pool.data["vmSize"],
                    "totalCoreHours": round(core_hours(state, pool, start, end), 6),
                }
            )
    return list_reply(call, metrics, "poolusagemetrics")


# -- certificates (api-versions before 2025-06-01) -------------------------------------------------


def _certificate_key(algorithm: str, thumbprint: str) -> str:
    return f"{algorithm}-{thumbprint}"


def _certificate(state: State, call: Call) -> Record:
    return state.certificates.get(_certificate_key(call.path["thumbprintAlgorithm"], call.path["thumbprint"]))


def add_certificate(state: State, call: Call) -> Reply:
    body = body_of(call)
    algorithm, thumbprint = body["thumbprintAlgorithm"], body["thumbprint"]
    if algorithm.lower() != "sha1":
        raise invalid_property("thumbprintAlgorithm", algorithm, "The only supported algorithm is sha1.")
    if not _THUMBPRINT.fullmatch(thumbprint):
        raise invalid_property("thumbprint", thumbprint, "A sha1 thumbprint is 40 hexadecimal digits.")
    try:
        base64.b64decode(body["data"], validate=True)
    except (binascii.Error, ValueError):
        raise invalid_property("data", "(not shown)", "The certificate data must be base64.") from None
    certificate_format = body.get("certificateFormat", "pfx")
    if certificate_format == "cer" and body.get("password") is not None:
        raise invalid_property("password", "(not shown)", "A password must be omitted for the cer format.")
    key = _certificate_key(algorithm, thumbprint)
    if key in state.certificates:
        raise conflict("CertificateExists", "The specified certificate already exists.")
    url = f"{call.base_url}/certificates(thumbprintAlgorithm={algorithm},thumbprint={thumbprint})"
    now = iso(state.now)
    data = {"thumbprint": thumbprint, "thumbprintAlgorithm": algorithm, "url": url, "state": "active"}
    data["stateTransitionTime"] = now
    if certificate_format == "cer":  # a .cer holds only the public part
        data["publicData"] = body["data"]
    record = state.certificates.add(key, state.record(data, url))
    return entity_reply(record, 201)


def get_certificate(state: State, call: Call) -> Reply:
    record = _certificate(state, call)
    return entity_reply(record, 200, "certificates/@Element", selected(call, record.data))


def list_certificates(state: State, call: Call) -> Reply:
    return list_reply(call, [json_copy(r.data) for r in state.certificates], "certificates")


def _pools_using(state: State, certificate: Record) -> list[str]:
    wanted = (certificate.data["thumbprintAlgorithm"].lower(), certificate.data["thumbprint"].lower())
    using = []
    for pool in state.pools:
        for reference in pool.extra.get("certificateReferences") or ():
            if (reference.get("thumbprintAlgorithm", "").lower(), reference.get("thumbprint", "").lower()) == wanted:
                using.append(pool.data["id"])
                break
    return using


def delete_certificate(state: State, call: Call) -> Reply:
    record = _certificate(state, call)
    if record.data["state"] == "deleting":
        raise conflict("CertificateBeingDeleted", "The specified certificate has been marked for deletion.")
    record.data.pop("deleteCertificateError", None)
    transition(state, record, "deleting")
    record.extra["deletion"] = generation = record.extra.get("deletion", 0) + 1
    key = _certificate_key(record.data["thumbprintAlgorithm"], record.data["thumbprint"])

    def finish(now: Any) -> None:
        if record.extra.get("deletion") != generation or state.certificates.find(key) is not record:
            return
        using = _pools_using(state, record)
        if not using:
            state.certificates.remove(key)
            return
        transition(state, record, "deletefailed")
        record.data["deleteCertificateError"] = {
            "code": "PoolsReferencingCertificate",
            "message": "The certificate is referenced by the pools listed.",
            "values": [{"name": "Pools", "value": ",".join(using)}],
        }

    state.after(state.timing.certificate_delete, finish)
    return Reply(202, entity=Entity(record.etag, record.last_modified))


def cancel_certificate_deletion(state: State, call: Call) -> Reply:
    record = _certificate(state, call)
    if record.data["state"] == "active":
        raise conflict("CertificateStateActive", "The specified certificate is active; there is no deletion to cancel.")
    record.extra["deletion"] = record.extra.get("deletion", 0) + 1  # a pending deletion does not happen
    record.data.pop("deleteCertificateError", None)
    transition(state, record, "active")
    return entity_reply(record, 204)


HANDLERS = MappingProxyType(
    {
        "Applications_ListApplications": list_applications,
        "Applications_GetApplication": get_application,
        "Pools_ListSupportedImages": list_supported_images,
        "Pools_ListPoolNodeCounts": list_pool_node_counts,
        "Pools_ListPoolUsageMetrics": list_pool_usage_metrics,
        "Certificate_Add": add_certificate,
        "Certificate_List": list_certificates,
        "Certificate_Get": get_certificate,
        "Certificate_Delete": delete_certificate,
        "Certificate_CancelDeletion": cancel_certificate_deletion,
    }
)
