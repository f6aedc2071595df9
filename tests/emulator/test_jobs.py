"""Jobs on the emulator: each documented state rule, PATCH versus PUT, counts, statistics,
preparation/release status, automatic termination, conditional requests. Clock-driven steps use
`emulator.advance`; the SDK's long-running operations run on a ticking clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pytest_batch.emulator import ManualClock, scheduler

from .test_tasks import POOL, add, add_pool, error_code, new_job, task


@pytest.fixture
def clock(request) -> ManualClock:
    """A manual clock; parametrize `clock` indirectly with N to make every request move it N seconds."""
    return ManualClock(tick=timedelta(seconds=getattr(request, "param", 0)))


def job(raw, job_id: str = "job-1", **params) -> dict:
    response = raw("GET", f"/jobs/{job_id}", params=params or None)
    assert response.status_code == 200, response.text
    return response.json()


def state_of(raw, job_id: str = "job-1") -> str:
    return job(raw, job_id)["state"]


# -- creation ----------------------------------------------------------------------------------


def test_new_job_has_the_documented_defaults(raw, emulator):
    new_job(raw)
    created = job(raw)
    assert created["state"] == "active"
    assert "previousState" not in created
    assert created["constraints"] == {"maxWallClockTime": scheduler.FOREVER, "maxTaskRetryCount": 0}
    assert (created["priority"], created["maxParallelTasks"], created["usesTaskDependencies"]) == (0, -1, False)
    assert (created["onAllTasksComplete"], created["onTaskFailure"]) == ("noaction", "noaction")
    assert created["executionInfo"] == {"startTime": created["creationTime"], "poolId": POOL}


def test_job_ids_are_case_insensitive(raw, emulator):
    new_job(raw, "Job-A")
    assert job(raw, "JOB-a")["id"] == "Job-A"
    again = raw("POST", "/jobs", json={"id": "job-a", "poolInfo": {"poolId": POOL}})
    assert (again.status_code, error_code(again)) == (409, "JobExists")


@pytest.mark.parametrize("settings", [{"priority": 1001}, {"maxParallelTasks": 0}])
def test_out_of_range_settings_are_refused(raw, emulator, settings):
    response = raw("POST", "/jobs", json={"id": "j", "poolInfo": {"poolId": POOL}, **settings})
    assert (response.status_code, error_code(response)) == (400, "InvalidPropertyValue")


def test_older_api_version_reads_the_job_in_its_own_shape(raw, emulator):
    new_job(raw)
    response = raw("GET", "/jobs/job-1", api_version="2024-07-01.20.0")
    assert response.status_code == 200
    assert response.json()["id"] == "job-1"


# -- disable / enable ------------------------------------------------------------------------------


def test_disable_moves_an_active_job_through_disabling_to_disabled(raw, emulator):
    new_job(raw)
    response = raw("POST", "/jobs/job-1/disable", json={"disableTasks": "requeue"})
    assert response.status_code == 202
    assert state_of(raw) == "disabling"
    emulator.advance(1)  # Timing.job_disable
    disabled = job(raw)
    assert (disabled["state"], disabled["previousState"]) == ("disabled", "disabling")


def test_disable_is_allowed_again_while_disabling_or_disabled(raw, emulator):
    new_job(raw)
    raw("POST", "/jobs/job-1/disable", json={"disableTasks": "requeue"})
    assert raw("POST", "/jobs/job-1/disable", json={"disableTasks": "requeue"}).status_code == 202
    emulator.advance(1)
    assert raw("POST", "/jobs/job-1/disable", json={"disableTasks": "wait"}).status_code == 202
    assert state_of(raw) == "disabled"


def test_disable_of_a_completed_job_is_409(raw, emulator):
    new_job(raw)
    raw("POST", "/jobs/job-1/terminate", json={})
    emulator.advance(1)
    response = raw("POST", "/jobs/job-1/disable", json={"disableTasks": "requeue"})
    assert (response.status_code, error_code(response)) == (409, "JobNotActive")


def test_enable_moves_a_disabled_job_through_enabling_to_active(raw, emulator):
    new_job(raw)
    raw("POST", "/jobs/job-1/disable", json={"disableTasks": "requeue"})
    emulator.advance(1)
    assert raw("POST", "/jobs/job-1/enable").status_code == 202
    assert state_of(raw) == "enabling"
    emulator.advance(1)  # Timing.job_enable
    assert state_of(raw) == "active"


def test_enable_of_an_active_job_is_409(raw, emulator):
    new_job(raw)
    response = raw("POST", "/jobs/job-1/enable")
    assert (response.status_code, error_code(response)) == (409, "OperationInvalidForCurrentState")


def test_no_task_starts_while_the_job_is_disabled(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    raw("POST", "/jobs/job-1/disable", json={"disableTasks": "requeue"})
    add(raw, "t1")
    emulator.advance(10)
    assert task(raw, "t1")["state"] == "active"
    raw("POST", "/jobs/job-1/enable")
    emulator.advance(4)  # 1 s enabling, 1 s to start, 2 s to run
    assert task(raw, "t1")["state"] == "completed"


def test_disable_with_requeue_puts_running_tasks_back_in_the_queue(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 100")
    emulator.advance(2)
    raw("POST", "/jobs/job-1/disable", json={"disableTasks": "requeue"})
    requeued = task(raw, "t1")
    assert (requeued["state"], requeued["executionInfo"]["requeueCount"]) == ("active", 1)
    assert "lastRequeueTime" in requeued["executionInfo"]


def test_disable_with_terminate_ends_running_tasks(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 100")
    emulator.advance(2)
    raw("POST", "/jobs/job-1/disable", json={"disableTasks": "terminate"})
    ended = task(raw, "t1")
    assert (ended["state"], ended["executionInfo"]["failureInfo"]["code"]) == ("completed", "TaskEnded")


def test_disable_with_wait_stays_disabling_until_running_tasks_finish(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 10")
    emulator.advance(2)
    raw("POST", "/jobs/job-1/disable", json={"disableTasks": "wait"})
    emulator.advance(5)
    assert (state_of(raw), task(raw, "t1")["state"]) == ("disabling", "running")
    emulator.advance(5)
    assert (state_of(raw), task(raw, "t1")["state"]) == ("disabled", "completed")


# -- terminate ---------------------------------------------------------------------------------


def test_terminate_moves_the_job_through_terminating_to_completed(raw, emulator):
    new_job(raw)
    assert raw("POST", "/jobs/job-1/terminate", json={"terminateReason": "done here"}).status_code == 202
    assert state_of(raw) == "terminating"
    emulator.advance(1)  # Timing.job_terminate
    completed = job(raw)
    assert completed["state"] == "completed"
    assert completed["executionInfo"]["terminateReason"] == "done here"
    assert completed["executionInfo"]["endTime"] == "2025-01-01T00:00:01.000000Z"


def test_terminate_without_a_reason_says_user_terminate(raw, emulator):
    new_job(raw)
    raw("POST", "/jobs/job-1/terminate")
    emulator.advance(1)
    assert job(raw)["executionInfo"]["terminateReason"] == "UserTerminate"


def test_terminate_leaves_active_tasks_active_and_refuses_new_ones(raw, emulator):
    new_job(raw)
    add(raw, "waiting")
    raw("POST", "/jobs/job-1/terminate", json={})
    emulator.advance(1)
    assert task(raw, "waiting")["state"] == "active"
    refused = raw("POST", "/jobs/job-1/tasks", json={"id": "late", "commandLine": "x"})
    assert (refused.status_code, error_code(refused)) == (409, "JobCompleted")
    collection = raw("POST", "/jobs/job-1/addtaskcollection", json={"value": [{"id": "late", "commandLine": "x"}]})
    assert (collection.status_code, error_code(collection)) == (409, "JobCompleted")


def test_tasks_cannot_be_added_while_the_job_terminates(raw, emulator):
    new_job(raw)
    raw("POST", "/jobs/job-1/terminate", json={})
    refused = raw("POST", "/jobs/job-1/tasks", json={"id": "late", "commandLine": "x"})
    assert (refused.status_code, error_code(refused)) == (409, "JobBeingTerminated")


def test_terminate_ends_running_tasks_and_never_starts_active_ones(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "running", "sleep 100")
    add(raw, "queued", "sleep 100")
    emulator.advance(2)
    raw("POST", "/jobs/job-1/terminate", json={})
    emulator.advance(200)
    ended = task(raw, "running")["executionInfo"]
    assert (ended["result"], ended["failureInfo"]["code"], ended["exitCode"]) == ("failure", "TaskEnded", 137)
    assert task(raw, "queued")["state"] == "active"


def test_terminate_of_a_completed_job_is_409(raw, emulator):
    new_job(raw)
    raw("POST", "/jobs/job-1/terminate", json={})
    emulator.advance(1)
    response = raw("POST", "/jobs/job-1/terminate", json={})
    assert (response.status_code, error_code(response)) == (409, "JobCompleted")


# -- delete ------------------------------------------------------------------------------------------


def test_delete_moves_the_job_to_deleting_then_it_is_gone(raw, emulator):
    new_job(raw)
    add(raw, "t1")
    assert raw("DELETE", "/jobs/job-1").status_code == 202
    assert state_of(raw) == "deleting"
    emulator.advance(1)  # Timing.job_delete
    gone = raw("GET", "/jobs/job-1")
    assert (gone.status_code, error_code(gone)) == (404, "JobNotFound")
    assert "job-1" not in emulator.state.tasks


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/jobs/job-1", {"priority": 5}),
        ("PUT", "/jobs/job-1", {"poolInfo": {"poolId": POOL}}),
        ("POST", "/jobs/job-1/disable", {"disableTasks": "requeue"}),
        ("POST", "/jobs/job-1/enable", None),
        ("POST", "/jobs/job-1/terminate", {}),
        ("POST", "/jobs/job-1/tasks", {"id": "t", "commandLine": "x"}),
    ],
)
def test_changes_to_a_job_being_deleted_are_409_job_being_deleted(raw, emulator, method, path, body):
    new_job(raw)
    raw("DELETE", "/jobs/job-1")
    response = raw(method, path, json=body)
    assert (response.status_code, error_code(response)) == (409, "JobBeingDeleted")


def test_deleting_a_job_frees_the_nodes_of_its_running_tasks(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "t1", "sleep 100")
    emulator.advance(2)
    raw("DELETE", "/jobs/job-1")
    node = emulator.state.nodes_of(POOL).get("node-0")
    assert (node.data["state"], node.data["runningTasksCount"]) == ("idle", 0)
    assert not any(path.startswith("workitems/job-1/") for path in node.extra.get("files", {}))


# -- PATCH and PUT ---------------------------------------------------------------------------------


def test_patch_changes_only_the_given_properties(client, raw, emulator):
    from azure.batch import models

    new_job(raw, constraints={"maxTaskRetryCount": 3}, metadata=[{"name": "team", "value": "a"}])
    client.update_job("job-1", models.BatchJobUpdateOptions(priority=7))
    updated = job(raw)
    assert updated["priority"] == 7
    assert updated["constraints"]["maxTaskRetryCount"] == 3
    assert updated["metadata"] == [{"name": "team", "value": "a"}]


def test_put_resets_every_updatable_property_it_leaves_out(client, raw, emulator):
    from azure.batch import models

    environment = [{"name": "MODE", "value": "fast"}]
    new_job(raw, priority=9, constraints={"maxTaskRetryCount": 3}, metadata=[{"name": "team", "value": "a"}],
            commonEnvironmentSettings=environment, maxParallelTasks=4)  # fmt: skip
    emulator.advance(5)
    client.replace_job("job-1", models.BatchJob(pool_info=models.BatchPoolInfo(pool_id=POOL), priority=2))
    replaced = job(raw)
    assert replaced["priority"] == 2
    assert replaced["constraints"] == {"maxWallClockTime": scheduler.FOREVER, "maxTaskRetryCount": 0}
    assert replaced["maxParallelTasks"] == -1
    assert "metadata" not in replaced and "commonEnvironmentSettings" not in replaced
    assert replaced["lastModified"] == "2025-01-01T00:00:05.000000Z"


def test_patch_and_put_change_the_etag(raw, emulator):
    new_job(raw)
    first = raw("GET", "/jobs/job-1").headers["ETag"]
    patched = raw("PATCH", "/jobs/job-1", json={"priority": 1})
    assert patched.status_code == 200
    assert patched.headers["ETag"] != first
    assert job(raw)["eTag"] == patched.headers["ETag"]


def test_automatic_termination_cannot_be_turned_off(raw, emulator):
    new_job(raw, onAllTasksComplete="terminatejob")
    add(raw, "t1")
    response = raw("PATCH", "/jobs/job-1", json={"onAllTasksComplete": "noaction"})
    assert (response.status_code, error_code(response)) == (400, "InvalidPropertyValue")


def test_the_pool_can_only_change_while_the_job_is_disabled(raw, emulator):
    new_job(raw)
    refused = raw("PATCH", "/jobs/job-1", json={"poolInfo": {"poolId": "other"}})
    assert refused.status_code == 409
    raw("POST", "/jobs/job-1/disable", json={"disableTasks": "requeue"})
    emulator.advance(1)
    assert raw("PATCH", "/jobs/job-1", json={"poolInfo": {"poolId": "other"}}).status_code == 200
    assert job(raw)["executionInfo"]["poolId"] == "other"


def test_patch_of_a_completed_job_is_409(raw, emulator):
    new_job(raw)
    raw("POST", "/jobs/job-1/terminate", json={})
    emulator.advance(1)
    response = raw("PATCH", "/jobs/job-1", json={"priority": 1})
    assert (response.status_code, error_code(response)) == (409, "JobCompleted")


# -- conditional requests ---------------------------------------------------------------------


def test_stale_if_match_is_412_and_changes_nothing(raw, emulator):
    new_job(raw)
    etag = raw("GET", "/jobs/job-1").headers["ETag"]
    assert raw("PATCH", "/jobs/job-1", json={"priority": 1}, headers={"If-Match": etag}).status_code == 200
    stale = raw("PATCH", "/jobs/job-1", json={"priority": 2}, headers={"If-Match": etag})
    assert (stale.status_code, error_code(stale)) == (412, "ConditionNotMet")
    assert job(raw)["priority"] == 1


def test_if_unmodified_since_before_the_last_change_is_412(raw, emulator):
    new_job(raw)
    emulator.advance(10)
    raw("PATCH", "/jobs/job-1", json={"priority": 1})
    before = {"If-Unmodified-Since": "Wed, 01 Jan 2025 00:00:05 GMT"}
    assert raw("DELETE", "/jobs/job-1", headers=before).status_code == 412
    assert raw("POST", "/jobs/job-1/terminate", json={}, headers=before).status_code == 412
    after = {"If-Unmodified-Since": "Wed, 01 Jan 2025 00:00:10 GMT"}
    assert raw("POST", "/jobs/job-1/terminate", json={}, headers=after).status_code == 202


def test_if_none_match_star_on_a_write_is_412(raw, emulator):
    new_job(raw)
    response = raw("PUT", "/jobs/job-1", json={"poolInfo": {"poolId": POOL}}, headers={"If-None-Match": "*"})
    assert (response.status_code, error_code(response)) == (412, "ConditionNotMet")


def test_sdk_etag_condition_is_honoured(client, raw, emulator):
    from azure.batch import models
    from azure.core import MatchConditions
    from azure.core.exceptions import ResourceModifiedError

    new_job(raw)
    etag = client.get_job("job-1").etag
    raw("PATCH", "/jobs/job-1", json={"priority": 3})
    with pytest.raises(ResourceModifiedError):
        client.update_job(
            "job-1", models.BatchJobUpdateOptions(priority=4), etag=etag, match_condition=MatchConditions.IfNotModified
        )


# -- counts, statistics, preparation ------------------------------------------------------------


def test_task_counts_count_tasks_and_their_slots(raw, emulator):
    add_pool(emulator, nodes=1, slots=4)
    new_job(raw)
    add(raw, "ok", "exit 0")
    add(raw, "bad", "exit 1")
    add(raw, "long", "sleep 100", requiredSlots=2)
    add(raw, "waiting", requiredSlots=3)
    emulator.advance(3)
    response = raw("GET", "/jobs/job-1/taskcounts")
    assert response.json()["taskCounts"] == {"active": 1, "running": 1, "completed": 2, "succeeded": 1, "failed": 1}
    assert response.json()["taskSlotCounts"] == {"active": 3, "running": 2, "completed": 2, "succeeded": 1, "failed": 1}


def test_job_statistics_come_with_expand_stats_only(client, raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "ok", "sleep 3")
    add(raw, "bad", "exit 1", constraints={"maxTaskRetryCount": 1})
    emulator.advance(30)
    assert "stats" not in job(raw)
    stats = job(raw, **{"$expand": "stats"})["stats"]
    assert (stats["numSucceededTasks"], stats["numFailedTasks"], stats["numTaskRetries"]) == ("1", "1", "1")
    assert stats["wallClockTime"] == "PT5S"  # 3 s + the last 2 s try of "bad"
    listed = client.list_jobs(expand=["stats"])
    assert [j.job_statistics.succeeded_tasks_count for j in listed] == [1]


def test_older_api_version_gets_its_statistics_counters_as_integers(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "ok")
    emulator.advance(3)
    stats = raw("GET", "/jobs/job-1", params={"$expand": "stats"}, api_version="2024-07-01.20.0").json()["stats"]
    assert (stats["numSucceededTasks"], stats["readIOps"]) == (1, 0)
    assert job(raw, **{"$expand": "stats"})["stats"]["numSucceededTasks"] == "1"


def test_preparation_status_of_a_job_without_those_tasks_is_409(raw, emulator):
    new_job(raw)
    response = raw("GET", "/jobs/job-1/jobpreparationandreleasetaskstatus")
    assert (response.status_code, error_code(response)) == (409, "JobPreparationTaskNotSpecified")


def test_preparation_runs_once_per_node_before_the_tasks(client, raw, emulator):
    add_pool(emulator)
    new_job(raw, jobPreparationTask={"commandLine": "sleep 5"}, jobReleaseTask={"commandLine": "cleanup"})
    add(raw, "t1")
    add(raw, "t2")
    assert task(raw, "t1")["state"] == "preparing"
    emulator.advance(5)
    assert task(raw, "t1")["state"] == "preparing"
    emulator.advance(1)  # preparation done at 5 s, t1 starts 1 s later
    assert task(raw, "t1")["state"] == "running"
    emulator.advance(10)
    raw("POST", "/jobs/job-1/terminate", json={})
    emulator.advance(1)
    [status] = client.list_job_preparation_and_release_task_status("job-1")
    assert (status.pool_id, status.node_id) == (POOL, "node-0")
    assert status.job_preparation_task_execution_info.state == "completed"
    assert status.job_preparation_task_execution_info.exit_code == 0
    assert status.job_release_task_execution_info.state == "completed"


def test_failed_preparation_keeps_the_jobs_tasks_off_that_node(raw, emulator):
    add_pool(emulator)
    new_job(raw, jobPreparationTask={"commandLine": "exit 1"})
    add(raw, "t1")
    emulator.advance(30)
    assert task(raw, "t1")["state"] == "active"
    [status] = raw("GET", "/jobs/job-1/jobpreparationandreleasetaskstatus").json()["value"]
    assert status["jobPreparationTaskExecutionInfo"]["result"] == "failure"


def test_release_task_needs_a_preparation_task(raw, emulator):
    response = raw(
        "POST", "/jobs", json={"id": "j", "poolInfo": {"poolId": POOL}, "jobReleaseTask": {"commandLine": "x"}}
    )
    assert (response.status_code, error_code(response)) == (400, "MissingRequiredProperty")
    assert {"key": "PropertyName", "value": "jobPreparationTask"} in response.json()["values"]


# -- automatic termination ------------------------------------------------------------------------


def test_all_tasks_complete_terminates_the_job(raw, emulator):
    add_pool(emulator)
    new_job(raw, onAllTasksComplete="terminatejob")
    add(raw, "a")
    add(raw, "b", "exit 1")
    emulator.advance(7)  # one node: a runs 1-3 s, b 4-6 s, then 1 s terminating
    completed = job(raw)
    assert completed["state"] == "completed"
    assert completed["executionInfo"]["terminateReason"] == "AllTasksComplete"


def test_terminatejob_waits_for_tasks_to_exist(raw, emulator):
    new_job(raw, onAllTasksComplete="terminatejob")
    emulator.advance(10)
    assert state_of(raw) == "active"


def test_patch_to_terminatejob_ends_a_job_whose_tasks_are_done(raw, emulator):
    add_pool(emulator)
    new_job(raw)
    add(raw, "a")
    emulator.advance(3)
    raw("PATCH", "/jobs/job-1", json={"onAllTasksComplete": "terminatejob"})
    assert state_of(raw) == "terminating"


def test_job_manager_completion_terminates_the_job(raw, emulator):
    add_pool(emulator)
    new_job(raw, jobManagerTask={"id": "manager", "commandLine": "sleep 4"})
    assert task(raw, "manager")["state"] == "active"
    emulator.advance(6)
    completed = job(raw)
    assert (completed["state"], completed["executionInfo"]["terminateReason"]) == ("completed", "JMComplete")


def test_job_max_wall_clock_time_terminates_the_job(raw, emulator):
    add_pool(emulator)
    new_job(raw, constraints={"maxWallClockTime": "PT30S"})
    add(raw, "t1", "sleep 100")
    emulator.advance(29)
    assert state_of(raw) == "active"
    emulator.advance(2)
    completed = job(raw)
    assert (completed["state"], completed["executionInfo"]["terminateReason"]) == (
        "completed",
        "MaxWallClockTimeExpiry",
    )
    assert task(raw, "t1")["executionInfo"]["failureInfo"]["code"] == "TaskEnded"


def test_task_failure_can_terminate_the_job(raw, emulator):
    add_pool(emulator)
    new_job(raw, onTaskFailure="performexitoptionsjobaction")
    add(raw, "bad", "exit 3")
    emulator.advance(4)
    assert job(raw)["executionInfo"]["terminateReason"] == "TaskFailed"


# -- the SDK's long-running operations (the clock moves one second per request) -------------------------


@pytest.mark.parametrize("clock", [1], indirect=True)
def test_sdk_long_running_operations_follow_the_job_states(client, emulator):
    from azure.batch import models

    client.create_job(models.BatchJobCreateOptions(id="lro", pool_info=models.BatchPoolInfo(pool_id=POOL)))
    disable = models.BatchJobDisableOptions(disable_tasks=models.DisableBatchJobOption.REQUEUE)
    client.begin_disable_job("lro", disable, polling_interval=0).result()
    assert client.get_job("lro").state == models.BatchJobState.DISABLED
    client.begin_enable_job("lro", polling_interval=0).result()
    assert client.get_job("lro").state == models.BatchJobState.ACTIVE
    from azure.batch.models._models import BatchJobTerminateOptions  # not exported by azure-batch 15.1.0

    # without options the SDK fails before sending (it serialises a None content-type)
    client.begin_terminate_job("lro", BatchJobTerminateOptions(termination_reason="done"), polling_interval=0).result()
    terminated = client.get_job("lro")
    assert (terminated.state, terminated.execution_info.termination_reason) == (models.BatchJobState.COMPLETED, "done")
    client.begin_delete_job("lro", polling_interval=0).result()
    assert [j.id for j in client.list_jobs()] == []


def test_job_list_pages_with_maxresults(client, raw, emulator):
    for number in range(5):
        new_job(raw, f"job-{number}")
    first = raw("GET", "/jobs", params={"maxresults": 2}).json()
    assert [j["id"] for j in first["value"]] == ["job-0", "job-1"]
    assert "odata.nextLink" in first
    assert [j.id for j in client.list_jobs(max_results=2)] == [f"job-{n}" for n in range(5)]
