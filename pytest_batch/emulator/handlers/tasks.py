"""Tasks: add (one or a collection of up to 100), get, list, replace, delete, terminate,
reactivate, subtasks, and the files of a task's directory.

What a task does once added (queue, nodes, retries, files) is `scheduler`'s; these handlers
check what clients ask against the documented rules. A task cannot be added to a job that is
terminating, completed or being deleted (409 `JobBeingTerminated`, `JobCompleted`,
`JobBeingDeleted`); a collection answers per task (`success`, or `clienterror` with the
service's error, e.g. `TaskExists` for an id taken before or earlier in the same request).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from .. import scheduler
from ..model import Call, Reply, ServiceError, StoredFile, conflict, invalid_property
from ..odata import list_reply
from ..state import Record, State, check_conditions, iso
from .common import body_of, delete_file, detached, entity_reply, expands, file_reply, selected
from .jobs import ensure_changeable

MAX_COLLECTION = 100  # tasks in one add-collection request (BatchTaskGroup.value)


def _job(state: State, call: Call) -> Record:
    return state.jobs.get(call.path["jobId"])


def _task(state: State, call: Call) -> tuple[Record, Record]:
    job = _job(state, call)
    return job, state.tasks_of(job.data["id"]).get(call.path["taskId"])


def _view(state: State, call: Call, task: Record) -> dict[str, Any]:
    data = task.data
    if expands(call, "stats"):
        stats = scheduler.task_stats(state, task)
        if stats is not None:
            data = {**data, "stats": stats}
    return selected(call, data)


def _add(state: State, job: Record, body: dict[str, Any]) -> Record:
    scheduler.check_new_task(job, body)
    return scheduler.add_task(state, job, body)


def create_task(state: State, call: Call) -> Reply:
    job = _job(state, call)
    ensure_changeable(job)
    record = _add(state, job, body_of(call))
    return entity_reply(record, 201)


def create_task_collection(state: State, call: Call) -> Reply:
    job = _job(state, call)
    tasks = body_of(call).get("value") or []
    if len(tasks) > MAX_COLLECTION:
        raise invalid_property("value", len(tasks), f"A task collection holds at most {MAX_COLLECTION} tasks.")
    ensure_changeable(job)
    results = [_add_one(state, job, task) for task in tasks]
    return Reply(200, {"value": results}, odata_type="Microsoft.Azure.Batch.Protocol.Entities.TaskAddCollectionResult")


def _add_one(state: State, job: Record, body: dict[str, Any]) -> dict[str, Any]:
    """One BatchTaskCreateResult: each task of a collection succeeds or fails on its own."""
    try:
        record = _add(state, job, body)
    except ServiceError as error:
        status = "clienterror" if error.status < 500 else "servererror"
        return {"status": status, "taskId": body.get("id", ""), "error": error.body()}
    return {
        "status": "success",
        "taskId": record.data["id"],
        "eTag": record.etag,
        "lastModified": iso(record.last_modified),
        "location": record.url,
    }


def get_task(state: State, call: Call) -> Reply:
    _, task = _task(state, call)
    check_conditions(call, task, write=False)
    return entity_reply(task, 200, "tasks/@Element", _view(state, call, task))


def list_tasks(state: State, call: Call) -> Reply:
    job = _job(state, call)
    tasks = list(state.tasks_of(job.data["id"]))
    if expands(call, "stats"):
        documents = [{**t.data, **_stats_of(state, t)} for t in tasks]
    else:
        documents = [t.data for t in tasks]
    return detached(list_reply(call, documents, "tasks"))


def _stats_of(state: State, task: Record) -> dict[str, Any]:
    stats = scheduler.task_stats(state, task)
    return {} if stats is None else {"stats": stats}


def replace_task(state: State, call: Call) -> Reply:
    """Only `constraints` can change; left out, they return to the defaults (the job's retry count)."""
    job, task = _task(state, call)
    check_conditions(call, task, write=True)
    if job.data.get("state") == "deleting":
        ensure_changeable(job)
    constraints = body_of(call).get("constraints")
    task.data["constraints"] = scheduler.task_constraints(job, constraints)
    state.touch(task)
    return entity_reply(task, 200)


def delete_task(state: State, call: Call) -> Reply:
    job, task = _task(state, call)
    check_conditions(call, task, write=True)
    scheduler.delete_task(state, job, task)
    return Reply(200)


def terminate_task(state: State, call: Call) -> Reply:
    job, task = _task(state, call)
    check_conditions(call, task, write=True)
    if job.data.get("state") == "deleting":
        ensure_changeable(job)
    if task.data.get("state") == "completed":
        raise conflict("TaskCompleted", "The specified task is already in a completed state.")
    scheduler.end_task(state, job, task, "The task was ended by a request to terminate it.")
    scheduler.after_task_change(state, job)
    return entity_reply(task, 204)


def reactivate_task(state: State, call: Call) -> Reply:
    job, task = _task(state, call)
    check_conditions(call, task, write=True)
    ensure_changeable(job)
    if task.data.get("state") != "completed":
        raise conflict("TaskNotCompleted", "The specified task is not in a completed state.")
    if (task.data.get("executionInfo") or {}).get("result") == "success":
        raise conflict("TaskSucceeded", "The specified task has already completed successfully.")
    scheduler.reactivate_task(state, job, task)
    return entity_reply(task, 204)


def list_subtasks(state: State, call: Call) -> Reply:
    _, task = _task(state, call)
    return detached(list_reply(call, scheduler.subtasks_of(task), "subtaskinfos"))


# -- files -------------------------------------------------------------------------------------


def _files(state: State, call: Call) -> tuple[Record, Record, dict[str, StoredFile], str]:
    job, task = _task(state, call)
    found = scheduler.task_files(state, job, task)
    if found is None:
        raise conflict("TaskFilesUnavailable", "The files of the specified task are unavailable.")
    _, files, root = found
    return job, task, files, root


def _file_url(task: Record, name: str) -> str:
    return f"{task.data['url']}/files/{quote(name, safe='/')}"


def list_task_files(state: State, call: Call) -> Reply:
    _, task, files, root = _files(state, call)
    recursive = call.flag("recursive")
    prefix = root + "/"
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(files):
        if not path.startswith(prefix):
            continue
        name = path[len(prefix) :]
        if not recursive and "/" in name:
            folder = name.split("/", 1)[0]
            entries.setdefault(folder, {"name": folder, "url": _file_url(task, folder), "isDirectory": True})
            continue
        stored = files[path]
        entries[name] = {
            "name": name,
            "url": _file_url(task, name),
            "isDirectory": False,
            "properties": {
                "creationTime": iso(stored.created),
                "lastModified": iso(stored.modified),
                "contentLength": str(len(stored.content)),
                "contentType": "application/octet-stream",
                "fileMode": stored.mode,
            },
        }
    return list_reply(call, list(entries.values()), "files")


def _stored(state: State, call: Call) -> tuple[Record, StoredFile, str]:
    _, task, files, root = _files(state, call)
    name = call.path["filePath"].strip("/")
    stored = files.get(f"{root}/{name}")
    if stored is None:
        raise ServiceError(404, "FileNotFound", "The specified file does not exist.")
    return task, stored, name


def get_task_file(state: State, call: Call) -> Reply:
    task, stored, name = _stored(state, call)
    return file_reply(call, stored, _file_url(task, name), content=True)


def get_task_file_properties(state: State, call: Call) -> Reply:
    task, stored, name = _stored(state, call)
    return file_reply(call, stored, _file_url(task, name), content=False)


def delete_task_file(state: State, call: Call) -> Reply:
    _, _, files, root = _files(state, call)
    path = f"{root}/{call.path['filePath'].strip('/')}"
    return delete_file(files, path, recursive=call.flag("recursive"))


HANDLERS = MappingProxyType(
    {
        "Tasks_CreateTask": create_task,
        "Tasks_CreateTaskCollection": create_task_collection,
        "Tasks_ListTasks": list_tasks,
        "Tasks_GetTask": get_task,
        "Tasks_ReplaceTask": replace_task,
        "Tasks_DeleteTask": delete_task,
        "Tasks_TerminateTask": terminate_task,
        "Tasks_ReactivateTask": reactivate_task,
        "Tasks_ListSubTasks": list_subtasks,
        "Tasks_ListTaskFiles": list_task_files,
        "Tasks_GetTaskFile": get_task_file,
        "Tasks_GetTaskFileProperties": get_task_file_properties,
        "Tasks_DeleteTaskFile": delete_task_file,
    }
)
