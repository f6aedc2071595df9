"""Tasks on the emulator: the documented scheduling rule (scheduler's docstring), exit codes,
retries, wall-clock limits, dependencies, multi-instance subtasks, task files, collections,
conditional requests. Time only moves through `emulator.advance`."""

from __future__ import annotations

import pytest

from pytest_batch.emulator import scheduler
from pytest_batch.emulator.state import iso

POOL = "pool-1"


def add_pool(emulator, pool_id: str = POOL, *, nodes: int = 1, slots: int = 1, **settings):
    """A ready pool with `nodes` idle nodes (`node-0`…), written straight into the state so that
    these tests do not depend on the pool handlers."""
    state = emulator.state
    with state.lock:
        now = iso(state.now)
        url = f"{emulator.endpoint}/pools/{pool_id}"
        pool = {
            "id": pool_id, "url": url, "eTag": "", "lastModified": now, "creationTime": now, "state": "active",
            "stateTransitionTime": now, "allocationState": "steady", "vmSize": "standard_d2s_v3",
            "taskSlotsPerNode": slots, "currentDedicatedNodes": nodes, "currentLowPriorityNodes": 0, **settings,
        }  # fmt: skip
        state.pools.add(pool_id, state.record(pool, url))
        for number in range(nodes):
            node_id = f"node-{number}"
            node = {
                "id": node_id, "url": f"{url}/nodes/{node_id}", "state": "idle", "schedulingState": "enabled",
                "stateTransitionTime": now, "affinityId": f"TVM:{node_id}", "vmSize": "standard_d2s_v3",
                "totalTasksRun": 0, "totalTasksSucceeded": 0, "runningTasksCount": 0, "runningTaskSlotsCount": 0,
            }  # fmt: skip
            state.nodes_of(pool_id).add(node_id, state.record(node, node["url"]))
        scheduler.dispatch(state)


def node(emulator, node_id: str = "node-0", pool_id: str = POOL) -> dict:
    return emulator.state.nodes_of(pool_id).get(node_id).data


def new_job(raw, job_id: str = "job-1", **settings):
    response = raw("POST", "/jobs", json={"id": job_id, "poolInfo": {"poolId": POOL}, **settings})
    assert response.status_code == 201, response.text
    return job_id


def add(raw, task_id: str, command: str = "echo hi", job_id: str = "job-1", **settings):
    response = raw("POST", f"/jobs/{job_id}/tasks", json={"id": task_id, "commandLine": command, **settings})
    assert response.status_code == 201, response.text
    return task_id


def task(raw, task_id: str, job_id: str = "job-1", **params) -> dict:
    response = raw("GET", f"/jobs/{job_id}/tasks/{task_id}", params=params or None)
    assert response.status_code == 200, response.text
    return response.json()


def error_code(response) -> str:
    return response.json()["code"]


# -- lifecycle -----------------------------------------------------------------------------


def test_task_goes_active_running_completed_on_the_documented_timings(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1")
    assert task(raw, "t1")["state"] == "active"  # a node is reserved; it starts after Timing.task_start
    emulator.advance(1)
    running = task(raw, "t1")
    assert running["state"] == "running"
    assert running["nodeInfo"]["nodeId"] == "node-0"
    assert running["executionInfo"]["startTime"] == "2025-01-01T00:00:01.000000Z"
    assert (node(emulator)["state"], node(emulator)["runningTasksCount"]) == ("running", 1)
    emulator.advance(2)  # Timing.task_run
    done = task(raw, "t1")
    assert (done["state"], done["previousState"]) == ("completed", "running")
    assert done["executionInfo"]["endTime"] == "2025-01-01T00:00:03.000000Z"
    assert (done["executionInfo"]["exitCode"], done["executionInfo"]["result"]) == (0, "success")


def test_node_document_follows_its_tasks(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1")
    assert (node(emulator)["runningTasksCount"], node(emulator)["runningTaskSlotsCount"]) == (1, 1)
    emulator.advance(3)
    data = node(emulator)
    assert (data["state"], data["runningTasksCount"], data["runningTaskSlotsCount"]) == ("idle", 0, 0)
    assert (data["totalTasksRun"], data["totalTasksSucceeded"]) == (1, 1)
    assert data["recentTasks"][-1]["taskId"] == "t1"
    assert data["recentTasks"][-1]["taskState"] == "completed"


def test_sleep_in_the_command_line_sets_the_run_time(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "/bin/sh -c 'sleep 10'")
    emulator.advance(10)  # 1 s to start + 9 s of its 10
    assert task(raw, "t1")["state"] == "running"
    emulator.advance(1)
    assert task(raw, "t1")["state"] == "completed"


def test_exit_code_in_the_command_line_fails_the_task(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "/bin/sh -c 'exit 3'")
    emulator.advance(3)
    info = task(raw, "t1")["executionInfo"]
    assert (info["exitCode"], info["result"], info["retryCount"]) == (3, "failure", 0)
    assert info["failureInfo"]["code"] == "FailureExitCode"
    assert node(emulator)["totalTasksSucceeded"] == 0


def test_non_zero_exit_is_retried_up_to_max_task_retry_count(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "exit 1", constraints={"maxTaskRetryCount": 2})
    emulator.advance(3)  # first try over: back to active for the first retry
    first_retry = task(raw, "t1")
    assert (first_retry["state"], first_retry["executionInfo"]["retryCount"]) == ("active", 1)
    emulator.advance(6)  # two more tries of 1 + 2 s
    info = task(raw, "t1")["executionInfo"]
    assert task(raw, "t1")["state"] == "completed"
    assert (info["retryCount"], info["result"]) == (2, "failure")
    assert info["lastRetryTime"] == info["startTime"]
    assert node(emulator)["totalTasksRun"] == 3


def test_retry_count_minus_one_retries_without_limit(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "exit 1", constraints={"maxTaskRetryCount": -1})
    emulator.advance(300)
    assert task(raw, "t1")["state"] != "completed"
    assert task(raw, "t1")["executionInfo"]["retryCount"] >= 99


def test_tasks_take_the_jobs_retry_count_by_default(raw, emulator):
    add_pool(emulator)
    new_job(raw, constraints={"maxTaskRetryCount": 1})
    add(raw, "t1", "exit 2")
    assert task(raw, "t1")["constraints"]["maxTaskRetryCount"] == 1
    emulator.advance(6)
    assert task(raw, "t1")["executionInfo"]["retryCount"] == 1


def test_max_wall_clock_time_ends_a_longer_task_without_retry(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 60", constraints={"maxWallClockTime": "PT5S", "maxTaskRetryCount": 3})
    emulator.advance(6)
    done = task(raw, "t1")
    assert done["state"] == "completed"
    info = done["executionInfo"]
    assert (info["exitCode"], info["result"], info["retryCount"]) == (scheduler.KILLED, "failure", 0)
    assert info["failureInfo"]["code"] == "TaskEnded"
    assert info["endTime"] == "2025-01-01T00:00:06.000000Z"


def test_max_wall_clock_time_longer_than_the_run_changes_nothing(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 3", constraints={"maxWallClockTime": "PT1M"})
    emulator.advance(4)
    assert task(raw, "t1")["executionInfo"]["result"] == "success"


# -- scheduling ------------------------------------------------------------------------------------


def test_nodes_are_taken_in_id_order_and_slots_are_counted(raw, emulator):
    add_pool(emulator, nodes=2, slots=2)
    new_job(raw)
    add(raw, "big", "sleep 5", requiredSlots=2)
    add(raw, "small-1", "sleep 5")
    add(raw, "small-2", "sleep 5")
    add(raw, "small-3", "sleep 5")
    emulator.advance(1)
    placed = {t: task(raw, t).get("nodeInfo", {}).get("nodeId") for t in ("big", "small-1", "small-2", "small-3")}
    assert placed == {"big": "node-0", "small-1": "node-1", "small-2": "node-1", "small-3": None}
    assert node(emulator, "node-1")["runningTaskSlotsCount"] == 2
    emulator.advance(6)  # the first three are done at 6 s, small-3 starts at 7 s on the first node in id order
    assert task(raw, "small-3")["nodeInfo"]["nodeId"] == "node-0"


def test_spread_fill_type_picks_the_emptiest_node(raw, emulator):
    add_pool(emulator, nodes=2, slots=2, taskSchedulingPolicy={"nodeFillType": "spread"})
    new_job(raw)
    add(raw, "a", "sleep 5")
    add(raw, "b", "sleep 5")
    emulator.advance(1)
    assert {task(raw, t)["nodeInfo"]["nodeId"] for t in ("a", "b")} == {"node-0", "node-1"}


def test_task_needing_more_slots_than_a_node_has_waits(raw, emulator):
    add_pool(emulator, slots=1)
    new_job(raw)
    add(raw, "t1", requiredSlots=2)
    emulator.advance(10)
    assert task(raw, "t1")["state"] == "active"


def test_node_with_scheduling_disabled_takes_no_tasks(raw, emulator):
    add_pool(emulator, nodes=2)
    with emulator.state.lock:
        node(emulator, "node-0")["schedulingState"] = "disabled"
    new_job(raw)
    add(raw, "t1")
    emulator.advance(1)
    assert task(raw, "t1")["nodeInfo"]["nodeId"] == "node-1"


def test_no_task_starts_without_the_jobs_pool(raw, emulator):
    new_job(raw)
    add(raw, "t1")
    emulator.advance(10)
    assert task(raw, "t1")["state"] == "active"
    add_pool(emulator)  # the documented behaviour: tasks wait until a pool with that id exists
    emulator.advance(3)
    assert task(raw, "t1")["state"] == "completed"


def test_max_parallel_tasks_limits_the_running_tasks(raw, emulator):
    add_pool(emulator, nodes=3)
    new_job(raw, maxParallelTasks=1)
    for name in ("a", "b", "c"):
        add(raw, name, "sleep 5")
    emulator.advance(1)
    states = [task(raw, t)["state"] for t in ("a", "b", "c")]
    assert states == ["running", "active", "active"]


def test_higher_priority_job_is_served_first(raw, emulator):
    add_pool(emulator)
    new_job(raw, "low", priority=0)
    new_job(raw, "high", priority=100)
    with emulator.state.lock:  # add both before any dispatch: the order then depends on priority only
        for job_id in ("low", "high"):
            scheduler.add_task(emulator.state, emulator.state.jobs.get(job_id), {"id": "t", "commandLine": "sleep 5"})
        scheduler.dispatch(emulator.state)
    emulator.advance(1)
    assert task(raw, "t", "high")["state"] == "running"
    assert task(raw, "t", "low")["state"] == "active"


# -- dependencies ------------------------------------------------------------------------------


def test_dependent_task_waits_until_its_dependencies_succeed(raw, emulator):
    add_pool(emulator, nodes=2)
    new_job(raw, usesTaskDependencies=True)
    add(raw, "first", "sleep 4")
    add(raw, "second", dependsOn={"taskIds": ["first"]})
    emulator.advance(2)
    assert task(raw, "second")["state"] == "active"  # a free node, yet it waits
    emulator.advance(3)  # first done at 5 s
    emulator.advance(1)
    assert task(raw, "second")["state"] == "running"


def test_dependency_ranges_count_every_id_in_the_range(raw, emulator):
    add_pool(emulator, nodes=3)
    new_job(raw, usesTaskDependencies=True)
    for number in ("1", "2", "3"):
        add(raw, number, "sleep 1" if number != "3" else "sleep 10")
    add(raw, "after", dependsOn={"taskIdRanges": [{"start": 1, "end": 3}]})
    emulator.advance(5)
    assert task(raw, "after")["state"] == "active"  # task 3 still runs
    emulator.advance(7)
    assert task(raw, "after")["state"] in ("running", "completed")


def test_failed_dependency_blocks_the_dependent_task_for_good(raw, emulator):
    add_pool(emulator)
    new_job(raw, usesTaskDependencies=True)
    add(raw, "first", "exit 1")
    add(raw, "second", dependsOn={"taskIds": ["first"]})
    emulator.advance(60)
    assert task(raw, "first")["executionInfo"]["result"] == "failure"
    assert task(raw, "second")["state"] == "active"


def test_dependency_action_satisfy_releases_dependants_of_a_failed_task(raw, emulator):
    add_pool(emulator)
    new_job(raw, usesTaskDependencies=True)
    satisfy = {"exitCodes": [{"code": 1, "exitOptions": {"dependencyAction": "satisfy"}}]}
    add(raw, "first", "exit 1", exitConditions=satisfy)
    add(raw, "second", dependsOn={"taskIds": ["first"]})
    emulator.advance(10)
    assert task(raw, "second")["state"] == "completed"


def test_depends_on_needs_a_job_that_uses_task_dependencies(raw, emulator):
    new_job(raw)
    response = raw("POST", "/jobs/job-1/tasks", json={"id": "t", "commandLine": "x", "dependsOn": {"taskIds": ["a"]}})
    assert (response.status_code, error_code(response)) == (400, "TaskDependenciesNotSpecifiedOnJob")


# -- multi-instance -----------------------------------------------------------------------------


def test_multi_instance_task_runs_on_that_many_nodes_and_lists_its_subtasks(client, raw, emulator):
    add_pool(emulator, nodes=3)
    new_job(raw)
    settings = {"numberOfInstances": 3, "coordinationCommandLine": "start-mpi-daemon"}
    add(raw, "mpi", "mpirun app", multiInstanceSettings=settings)
    emulator.advance(1)
    assert all(node(emulator, f"node-{n}")["runningTasksCount"] == 1 for n in range(3))
    running = list(client.list_subtasks("job-1", "mpi"))
    assert [s.id for s in running] == [1, 2]
    assert [s.node_info.node_id for s in running] == ["node-1", "node-2"]
    assert {s.state for s in running} == {"running"}
    emulator.advance(2)
    done = list(client.list_subtasks("job-1", "mpi"))
    assert {(s.state, s.exit_code, s.result) for s in done} == {("completed", 0, "success")}
    assert task(raw, "mpi")["executionInfo"]["result"] == "success"


def test_multi_instance_task_waits_for_enough_nodes(raw, emulator):
    add_pool(emulator, nodes=2)
    new_job(raw)
    add(raw, "mpi", multiInstanceSettings={"numberOfInstances": 3, "coordinationCommandLine": "c"})
    emulator.advance(10)
    assert task(raw, "mpi")["state"] == "active"


def test_failed_coordination_command_fails_the_multi_instance_task(raw, emulator):
    add_pool(emulator, nodes=2)
    new_job(raw)
    add(raw, "mpi", multiInstanceSettings={"numberOfInstances": 2, "coordinationCommandLine": "exit 4"})
    emulator.advance(3)
    info = task(raw, "mpi")["executionInfo"]
    assert (info["result"], info["exitCode"]) == ("failure", 4)


def test_subtasks_of_an_ordinary_task_are_an_empty_list(raw, emulator):
    new_job(raw)
    add(raw, "t1")
    response = raw("GET", "/jobs/job-1/tasks/t1/subtasksinfo")
    assert response.json()["value"] == []


@pytest.mark.parametrize("body", [{"requiredSlots": 2}, {}])
def test_multi_instance_task_needs_exactly_one_slot(raw, emulator, body):
    new_job(raw)
    settings = {"numberOfInstances": 2, "coordinationCommandLine": "c"}
    response = raw(
        "POST", "/jobs/job-1/tasks", json={"id": "m", "commandLine": "x", "multiInstanceSettings": settings, **body}
    )
    assert response.status_code == (400 if body else 201)


# -- files -----------------------------------------------------------------------------------


def test_task_files_hold_the_output_of_the_run(client, raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "python run.py && exit 2")
    emulator.advance(3)
    names = sorted(f.name for f in client.list_task_files("job-1", "t1"))
    assert names == ["stderr.txt", "stdout.txt"]
    assert b"".join(client.download_task_file("job-1", "t1", "stdout.txt")) == b"python run.py && exit 2\n"
    assert b"".join(client.download_task_file("job-1", "t1", "stderr.txt")) == b"exit code 2\n"
    files = node(emulator) and emulator.state.nodes_of(POOL).get("node-0").extra["files"]
    assert files["workitems/job-1/job-1/t1/stdout.txt"].content == b"python run.py && exit 2\n"


def test_task_file_headers_are_the_documented_ones(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "echo hello")
    emulator.advance(3)
    response = raw("GET", "/jobs/job-1/tasks/t1/files/stdout.txt")
    assert response.content == b"echo hello\n"
    headers = response.headers
    assert headers["ocp-batch-file-isdirectory"] == "false"
    assert headers["ocp-batch-file-url"].endswith("/jobs/job-1/tasks/t1/files/stdout.txt")
    assert headers["ocp-creation-time"] == "Wed, 01 Jan 2025 00:00:01 GMT"
    assert headers["Last-Modified"] == "Wed, 01 Jan 2025 00:00:03 GMT"
    assert headers["Content-Length"] == "11"
    head = raw("HEAD", "/jobs/job-1/tasks/t1/files/stdout.txt")
    assert (head.status_code, head.headers["Content-Length"], head.content) == (200, "11", b"")
    assert head.headers["ETag"] == headers["ETag"]


def test_task_file_properties_through_the_sdk(client, raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "echo hello")
    emulator.advance(3)
    properties = client.get_task_file_properties("job-1", "t1", "stdout.txt")
    assert properties.url.endswith("/jobs/job-1/tasks/t1/files/stdout.txt")
    assert (properties.is_directory, properties.content_length) == (False, 11)


def test_ocp_range_returns_part_of_the_file(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "0123456789")
    emulator.advance(3)
    response = raw("GET", "/jobs/job-1/tasks/t1/files/stdout.txt", headers={"ocp-range": "bytes=2-5"})
    assert (response.status_code, response.content) == (200, b"2345")


def test_if_unmodified_since_on_a_changed_task_file_is_412(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1")
    emulator.advance(3)
    before = {"If-Unmodified-Since": "Wed, 01 Jan 2025 00:00:02 GMT"}
    response = raw("GET", "/jobs/job-1/tasks/t1/files/stdout.txt", headers=before)
    assert (response.status_code, error_code(response)) == (412, "ConditionNotMet")
    after = {"If-Unmodified-Since": "Wed, 01 Jan 2025 00:00:03 GMT"}
    assert raw("GET", "/jobs/job-1/tasks/t1/files/stdout.txt", headers=after).status_code == 200


def test_files_of_a_task_that_never_ran_are_unavailable(raw, emulator):
    new_job(raw)
    add(raw, "t1")
    response = raw("GET", "/jobs/job-1/tasks/t1/files")
    assert (response.status_code, error_code(response)) == (409, "TaskFilesUnavailable")


def test_deleting_a_task_file(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1")
    emulator.advance(3)
    assert raw("DELETE", "/jobs/job-1/tasks/t1/files/stderr.txt").status_code == 200
    missing = raw("GET", "/jobs/job-1/tasks/t1/files/stderr.txt")
    assert (missing.status_code, error_code(missing)) == (404, "FileNotFound")
    assert "workitems/job-1/job-1/t1/stderr.txt" not in emulator.state.nodes_of(POOL).get("node-0").extra["files"]


# -- collections ----------------------------------------------------------------------------------


def test_collection_of_100_tasks_is_added(client, raw, emulator):
    from azure.batch import models

    new_job(raw)
    tasks = [models.BatchTaskCreateOptions(id=f"t{n}", command_line="echo") for n in range(100)]
    result = client.create_task_collection("job-1", models.BatchTaskGroup(task_values=tasks))
    assert {r.status for r in result.result_values} == {"success"}
    assert len(list(client.list_tasks("job-1"))) == 100


def test_sdk_create_tasks_splits_a_long_list_into_collections(client, raw, emulator):
    from azure.batch import models

    new_job(raw)
    tasks = [models.BatchTaskCreateOptions(id=f"t{n:03d}", command_line="echo") for n in range(250)]
    client.create_tasks("job-1", tasks, max_concurrency=2)
    assert sorted(t.id for t in client.list_tasks("job-1")) == [f"t{n:03d}" for n in range(250)]


def test_collection_of_101_tasks_is_refused(raw, emulator):
    new_job(raw)
    body = {"value": [{"id": f"t{n}", "commandLine": "echo"} for n in range(101)]}
    response = raw("POST", "/jobs/job-1/addtaskcollection", json=body)
    assert (response.status_code, error_code(response)) == (400, "InvalidPropertyValue")
    assert {"key": "PropertyName", "value": "value"} in response.json()["values"]
    assert len(emulator.state.tasks_of("job-1")) == 0


def test_collection_reports_duplicates_per_task(raw, emulator):
    new_job(raw)
    add(raw, "taken")
    body = {"value": [{"id": i, "commandLine": "echo"} for i in ("a", "TAKEN", "b")]}
    response = raw("POST", "/jobs/job-1/addtaskcollection", json=body)
    assert response.status_code == 200
    results = response.json()["value"]
    assert [(r["taskId"], r["status"]) for r in results] == [("a", "success"), ("TAKEN", "clienterror"), ("b", "success")]
    assert results[1]["error"]["code"] == "TaskExists"
    assert results[0]["location"].endswith("/jobs/job-1/tasks/a")


def test_collection_with_a_repeated_id_is_refused_whole(raw, emulator):
    """The docs ask each task of a collection for a unique id: a request repeating one adds nothing."""
    new_job(raw)
    body = {"value": [{"id": i, "commandLine": "echo"} for i in ("a", "b", "A")]}
    response = raw("POST", "/jobs/job-1/addtaskcollection", json=body)
    assert (response.status_code, error_code(response)) == (400, "InvalidPropertyValue")
    assert "task-collection-ids-unique" in response.text
    assert raw("GET", "/jobs/job-1/tasks").json()["value"] == []


# -- operations on one task ----------------------------------------------------------------------------


def test_task_ids_are_case_insensitive(raw, emulator):
    new_job(raw)
    add(raw, "Task-A")
    assert task(raw, "task-a")["id"] == "Task-A"
    again = raw("POST", "/jobs/job-1/tasks", json={"id": "TASK-A", "commandLine": "x"})
    assert (again.status_code, error_code(again)) == (409, "TaskExists")


def test_terminate_task_completes_it_with_a_failure(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 100")
    emulator.advance(2)
    assert raw("POST", "/jobs/job-1/tasks/t1/terminate").status_code == 204
    info = task(raw, "t1")["executionInfo"]
    assert (info["result"], info["failureInfo"]["code"]) == ("failure", "TaskEnded")
    assert node(emulator)["state"] == "idle"
    again = raw("POST", "/jobs/job-1/tasks/t1/terminate")
    assert (again.status_code, error_code(again)) == (409, "TaskCompleted")


def test_reactivate_runs_a_failed_task_again(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "bad", "exit 1")
    add(raw, "good", "exit 0")
    emulator.advance(6)
    assert raw("POST", "/jobs/job-1/tasks/bad/reactivate").status_code == 204
    again = task(raw, "bad")
    assert (again["state"], again["executionInfo"]["retryCount"]) == ("active", 0)
    assert "exitCode" not in again["executionInfo"]
    refused = raw("POST", "/jobs/job-1/tasks/good/reactivate")
    assert (refused.status_code, error_code(refused)) == (409, "TaskSucceeded")


def test_reactivate_refuses_a_task_that_is_not_completed(raw, emulator):
    new_job(raw)
    add(raw, "t1")
    response = raw("POST", "/jobs/job-1/tasks/t1/reactivate")
    assert (response.status_code, error_code(response)) == (409, "TaskNotCompleted")


def test_delete_task_frees_its_node(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 100")
    emulator.advance(2)
    assert raw("DELETE", "/jobs/job-1/tasks/t1").status_code == 200
    assert raw("GET", "/jobs/job-1/tasks/t1").status_code == 404
    assert (node(emulator)["state"], node(emulator)["runningTasksCount"]) == ("idle", 0)


def test_replace_task_sets_its_constraints_and_resets_omitted_ones(raw, emulator):
    new_job(raw, constraints={"maxTaskRetryCount": 4})
    add(raw, "t1")
    response = raw(
        "PUT", "/jobs/job-1/tasks/t1", json={"constraints": {"maxTaskRetryCount": 1, "retentionTime": "PT1H"}}
    )
    assert response.status_code == 200
    assert task(raw, "t1")["constraints"]["retentionTime"] == "PT1H"
    raw("PUT", "/jobs/job-1/tasks/t1", json={})
    assert task(raw, "t1")["constraints"] == {
        "maxWallClockTime": scheduler.FOREVER, "retentionTime": "P7D", "maxTaskRetryCount": 4,
    }  # fmt: skip


def test_task_stats_only_with_expand(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 4")
    emulator.advance(5)
    assert "stats" not in task(raw, "t1")
    stats = task(raw, "t1", **{"$expand": "stats"})["stats"]
    assert (stats["wallClockTime"], stats["waitTime"]) == ("PT4S", "PT1S")


def test_select_cuts_the_task_document(raw, emulator):
    new_job(raw)
    add(raw, "t1")
    assert set(task(raw, "t1", **{"$select": "id,state"})) == {"odata.metadata", "id", "state"}


def test_task_id_of_the_job_preparation_task_is_refused(raw, emulator):
    new_job(raw, jobPreparationTask={"commandLine": "prep"})
    response = raw("POST", "/jobs/job-1/tasks", json={"id": "JobPreparation", "commandLine": "x"})
    assert (response.status_code, error_code(response)) == (409, "TaskIdSameAsJobPreparationTask")


# -- conditional requests ---------------------------------------------------------------------


def test_stale_if_match_on_a_task_is_412(raw, emulator):
    new_job(raw)
    add(raw, "t1")
    etag = raw("GET", "/jobs/job-1/tasks/t1").headers["ETag"]
    assert raw("PUT", "/jobs/job-1/tasks/t1", json={}, headers={"If-Match": etag}).status_code == 200
    stale = raw("PUT", "/jobs/job-1/tasks/t1", json={}, headers={"If-Match": etag})
    assert (stale.status_code, error_code(stale)) == (412, "ConditionNotMet")
    stale_delete = raw("DELETE", "/jobs/job-1/tasks/t1", headers={"If-Match": etag})
    assert stale_delete.status_code == 412


def test_if_match_on_a_task_read_is_412_once_the_task_changed(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1")
    etag = raw("GET", "/jobs/job-1/tasks/t1").headers["ETag"]
    assert raw("GET", "/jobs/job-1/tasks/t1", headers={"If-Match": etag}).status_code == 200
    emulator.advance(1)  # running: a new ETag
    stale = raw("GET", "/jobs/job-1/tasks/t1", headers={"If-Match": etag})
    assert (stale.status_code, error_code(stale)) == (412, "ConditionNotMet")


# -- nodes going away ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "state_after", "requeues"),
    [(None, "active", 1), ("requeue", "active", 1), ("terminate", "completed", 0), ("taskcompletion", "running", 0)],
)
def test_release_node_applies_the_requested_option(raw, emulator, option, state_after, requeues):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 100")
    emulator.advance(2)
    with emulator.state.lock:
        emulator.state.nodes_of(POOL).get("node-0").data["state"] = "rebooting"
        scheduler.release_node(emulator.state, POOL, "node-0", option)
    after = task(raw, "t1")
    assert after["state"] == state_after
    assert after["executionInfo"]["requeueCount"] == requeues
