"""Send probe cases to a Batch account: create what each needs, send, classify, delete what was created.

Every case runs on its own prerequisites (`<prefix>-job`, `-pool`, `-sched`, `-task`, ids derived from
the case), so no case sees another's leftovers and a recorded run replays request for request. Whatever a
case created (prerequisites, and anything a request it sent was allowed to create, auto pools included) is
deleted in a `finally`, also when a step failed. Waiting (for a pool to be steady, a node to be idle, a
task to finish) goes through the target's `wait`, which the emulator turns into moving its clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..interaction import Interaction
from .plan import ProbeCase, ProbeRequest
from .verdict import ERROR, SKIPPED, Exchange, Verdict, classify

POLLS = 60  # polls of a transitional state before a prerequisite counts as failed
POLL_SECONDS = 5.0
PREREQUISITE_POOL = {
    "vmSize": "standard_d2s_v3",
    "virtualMachineConfiguration": {
        "imageReference": {
            "publisher": "canonical",
            "offer": "0001-com-ubuntu-server-jammy",
            "sku": "22_04-lts",
            "version": "latest",
        },
        "nodeAgentSKUId": "batch.node.ubuntu 22.04",
    },
}
AUTOSCALE_FORMULA = "$TargetDedicatedNodes = 0; $TargetLowPriorityNodes = 0;"
FILE_PATH = "stdout.txt"  # every task that ran has it


class PrerequisiteFailed(Exception):
    """A prerequisite could not be created; the case is an `error` naming it."""


@dataclass
class Created:
    """What one case created, to delete afterwards (in this order: schedules, jobs, pools, certificates)."""

    schedules: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    pools: list[str] = field(default_factory=list)
    auto_pool_prefixes: list[str] = field(default_factory=list)
    certificates: list[tuple[str, str]] = field(default_factory=list)  # (thumbprintAlgorithm, thumbprint)


def run_cases(target: Any, cases: Iterable[ProbeCase], *, settle: float = 0.0) -> list[Verdict]:
    """The verdict of every case, in case order; `settle` seconds are waited at the end (emulator: deletions)."""
    verdicts = [probe_case(target, case) for case in cases]
    if settle:
        target.wait(settle)
    return verdicts


def probe_case(target: Any, case: ProbeCase) -> Verdict:
    """Create the case's prerequisites, send its invalid requests then its valid one, classify, clean up."""
    if case.skipped is not None or case.valid is None:
        return _verdict(case, SKIPPED, case.skipped or "nothing to send")
    created = Created()
    try:
        try:
            ids = _prerequisites(target, case, created)
        except PrerequisiteFailed as failure:
            return _verdict(case, ERROR, f"prerequisite failed: {failure}")
        invalid = tuple(_exchange(_send(target, request, ids, created), request.label) for request in case.invalid)
        valid = _exchange(_send(target, case.valid, ids, created, bind=True), "valid")
        verdict, detail = classify(valid, invalid, case.refusals)
        return _verdict(case, verdict, detail, valid, invalid)
    finally:
        cleanup(target, created)


def _verdict(case: ProbeCase, verdict: str, detail: str, valid=None, invalid=()) -> Verdict:
    return Verdict(
        case.rule_id, case.kind, case.operation_id, case.target, verdict, detail, valid, tuple(invalid),
        case.source_pointer,
    )  # fmt: skip


# -- sending -------------------------------------------------------------------------------------------------------


def _send(target: Any, request: ProbeRequest, ids: Mapping[str, str], created: Created, *, bind=False):
    path = request.path
    for name, value in ids.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    if request.query:
        path += "?" + "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in request.query)
    body = request.data
    if bind and "nodeId" in ids and isinstance(body, dict) and isinstance(body.get("nodeList"), list):
        body = {**body, "nodeList": [ids["nodeId"]]}  # remove the node that exists
    if bind and "applicationId" in ids:
        body = _bind_packages(body, ids["applicationId"], ids.get("applicationVersion"))
    answer = target.send(request.method, path, body=body, headers=dict(request.headers) or None)
    if answer.status is not None and 200 <= answer.status < 300:
        _note_created(request, body, created)
    return answer


def _note_created(request: ProbeRequest, body: Any, created: Created) -> None:
    """Remember what an accepted request created (an invalid one too, when the service was lenient)."""
    kind = request.path.rstrip("/").rsplit("/", 1)[-1]
    if request.method == "POST" and kind == "certificates" and isinstance(body, dict):
        created.certificates.append((str(body.get("thumbprintAlgorithm")), str(body.get("thumbprint"))))
    if request.method != "POST" or not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return
    if kind == "jobs":
        created.jobs.append(body["id"])
    elif kind == "pools":
        created.pools.append(body["id"])
    elif kind == "jobschedules":
        created.schedules.append(body["id"])
    created.auto_pool_prefixes.extend(_auto_pool_prefixes(body))


def _auto_pool_prefixes(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["autoPoolIdPrefix"]] if isinstance(value.get("autoPoolIdPrefix"), str) else []
        return found + [p for sub in value.values() for p in _auto_pool_prefixes(sub)]
    if isinstance(value, list):
        return [p for item in value for p in _auto_pool_prefixes(item)]
    return []


def _exchange(answer: Interaction, label: str) -> Exchange:
    return Exchange(label, answer.status, error_code(answer))


def error_code(answer: Interaction) -> str | None:
    """The `BatchError` code of an answer (None for a success or a body that is not one)."""
    if answer.status is None or answer.status < 400 or not answer.response_body:
        return None
    try:
        data = json.loads(answer.response_body)
    except ValueError:
        return None
    code = data.get("code") if isinstance(data, dict) else None
    return code if isinstance(code, str) else None


def _ok(answer: Interaction) -> bool:
    return answer.status is not None and 200 <= answer.status < 300


def _json(answer: Interaction) -> Any:
    try:
        return json.loads(answer.response_body or b"null")
    except ValueError:
        return None


# -- prerequisites -------------------------------------------------------------------------------------------------


def _prerequisites(target: Any, case: ProbeCase, created: Created) -> dict[str, str]:
    """Create what the case's operation needs; returns the path parameter values."""
    needs, prefix = set(case.needs), case.prefix
    ids: dict[str, str] = {}
    nodes = bool(needs & {"node", "file"})
    if needs & {"pool", "node", "file", "autoscale"}:
        pool = f"{prefix}-pool"
        body: dict[str, Any] = {"id": pool, **PREREQUISITE_POOL}
        if "autoscale" in needs:
            body.update(enableAutoScale=True, autoScaleFormula=AUTOSCALE_FORMULA, autoScaleEvaluationInterval="PT5M")
        else:
            body["targetDedicatedNodes"] = 1 if nodes else 0
        _create(target, "/pools", body, created.pools, "pool")
        ids["poolId"] = pool
        _wait_for(target, f"/pools/{pool}", lambda p: p.get("allocationState") == "steady", "pool steady")
    if nodes and "node" in needs:
        ids["nodeId"] = _idle_node(target, ids["poolId"])
    if needs & {"job", "task", "file"}:
        job = f"{prefix}-job"
        body = {"id": job, "poolInfo": {"poolId": f"{prefix}-pool"}, "usesTaskDependencies": True}
        _create(target, "/jobs", body, created.jobs, "job")
        ids["jobId"] = job
        if "disabled" in needs:
            answer = target.send("POST", f"/jobs/{job}/disable", body={"disableTasks": "requeue"})
            if not _ok(answer):
                raise PrerequisiteFailed(f"disabling the job {job} got {answer.status} {error_code(answer) or ''}")
            _wait_for(target, f"/jobs/{job}", lambda j: j.get("state") == "disabled", "job disabled")
    if "package" in needs:
        ids.update(_package(target))
    if "schedule" in needs:
        schedule = f"{prefix}-sched"
        body = {
            "id": schedule,
            "schedule": {"doNotRunUntil": "2099-01-01T00:00:00Z"},
            "jobSpecification": {"poolInfo": {"poolId": f"{prefix}-pool"}},
        }
        _create(target, "/jobschedules", body, created.schedules, "job schedule")
        ids["jobScheduleId"] = schedule
    if needs & {"task", "file"}:
        task = f"{prefix}-task"
        body = {"id": task, "commandLine": "/bin/sh -c 'echo probe'"}
        _create(target, f"/jobs/{ids['jobId']}/tasks", body, None, "task")
        ids["taskId"] = task
        if "file" in needs:
            path = f"/jobs/{ids['jobId']}/tasks/{task}"
            _wait_for(target, path, lambda t: t.get("state") == "completed", "task completed")
    if "file" in needs:
        ids["filePath"] = FILE_PATH
    return ids


def _package(target: Any) -> dict[str, str]:
    """An application package the account has (applications come from ARM; the prober only reads them)."""
    answer = target.send("GET", "/applications")
    data = _json(answer)
    apps = data.get("value") if isinstance(data, dict) else None
    if not _ok(answer) or not isinstance(apps, list):
        raise PrerequisiteFailed(f"listing applications got {answer.status} {error_code(answer) or ''}")
    for app in apps:
        if isinstance(app, dict) and isinstance(app.get("id"), str) and app.get("versions"):
            return {"applicationId": app["id"], "applicationVersion": str(app["versions"][0])}
    raise PrerequisiteFailed("the account has no application package to reference")


def _bind_packages(value: Any, app_id: str, version: str | None) -> Any:
    """References to the account's own package: the id's last segment (ARM form kept), the version it has."""
    if isinstance(value, dict):
        out = {k: _bind_packages(v, app_id, version) for k, v in value.items()}
        refs = out.get("applicationPackageReferences")
        if isinstance(refs, list):
            out["applicationPackageReferences"] = [_bind_reference(r, app_id, version) for r in refs]
        return out
    if isinstance(value, list):
        return [_bind_packages(item, app_id, version) for item in value]
    return value


def _bind_reference(reference: Any, app_id: str, version: str | None) -> Any:
    if not isinstance(reference, dict) or not isinstance(reference.get("applicationId"), str):
        return reference
    current = reference["applicationId"]
    head, found, _ = current.rpartition("/applications/")
    bound = {**reference, "applicationId": f"{head}{found}{app_id}" if found else app_id}
    if "version" in reference and version is not None:
        bound["version"] = version
    return bound


def _create(target: Any, path: str, body: dict[str, Any], into: list[str] | None, what: str) -> None:
    answer = target.send("POST", path, body=body)
    if not _ok(answer):
        raise PrerequisiteFailed(f"creating the {what} {body['id']} got {answer.status} {error_code(answer) or ''}")
    if into is not None:
        into.append(body["id"])


def _wait_for(target: Any, path: str, ready: Callable[[dict], bool], what: str) -> dict:
    for _ in range(POLLS):
        answer = target.send("GET", path)
        data = _json(answer)
        if not _ok(answer) or not isinstance(data, dict):
            raise PrerequisiteFailed(f"GET {path} got {answer.status} {error_code(answer) or ''} waiting for {what}")
        if ready(data):
            return data
        target.wait(POLL_SECONDS)
    raise PrerequisiteFailed(f"{what}: still not there after {POLLS} polls")


def _idle_node(target: Any, pool: str) -> str:
    for _ in range(POLLS):
        answer = target.send("GET", f"/pools/{pool}/nodes")
        data = _json(answer)
        nodes = data.get("value") if isinstance(data, dict) else None
        if not _ok(answer) or not isinstance(nodes, list):
            raise PrerequisiteFailed(f"listing the nodes of {pool} got {answer.status} {error_code(answer) or ''}")
        idle = [n["id"] for n in nodes if isinstance(n, dict) and n.get("state") == "idle" and "id" in n]
        if idle:
            return idle[0]
        target.wait(POLL_SECONDS)
    raise PrerequisiteFailed(f"no idle node in {pool} after {POLLS} polls")


# -- cleanup -------------------------------------------------------------------------------------------------------


def cleanup(target: Any, created: Created) -> None:
    """Delete everything a case created: schedules (their jobs go with them), jobs, pools, then auto pools."""
    for schedule in created.schedules:
        target.send("DELETE", f"/jobschedules/{quote(schedule, safe='')}")
    for job in created.jobs:
        target.send("DELETE", f"/jobs/{quote(job, safe='')}")
    for pool in created.pools:
        target.send("DELETE", f"/pools/{quote(pool, safe='')}")
    for algorithm, thumbprint in created.certificates:
        target.send("DELETE", f"/certificates(thumbprintAlgorithm={algorithm},thumbprint={thumbprint})")
    if created.auto_pool_prefixes:
        _delete_auto_pools(target, created)


def _delete_auto_pools(target: Any, created: Created) -> None:
    """Auto pools of the jobs and schedules this case created: pools whose id starts with their prefix."""
    prefixes = tuple(p.lower() for p in created.auto_pool_prefixes if p)
    if not prefixes:
        return
    answer = target.send("GET", "/pools?$select=id")
    data = _json(answer)
    for pool in (data.get("value") or []) if isinstance(data, dict) else []:
        pool_id = pool.get("id") if isinstance(pool, dict) else None
        mine = isinstance(pool_id, str) and pool_id.lower().startswith(prefixes)
        if mine and pool_id not in created.pools:
            target.send("DELETE", f"/pools/{quote(pool_id, safe='')}")
