"""Job schedules on the emulator: jobs appear when the clock reaches an occurrence
(`scheduler.plan_schedule`'s rule), the schedule states, and the schedule operations."""

from __future__ import annotations

import pytest

from .test_tasks import POOL, add_pool, error_code, new_job

SPEC = {"poolInfo": {"poolId": POOL}}


def create(raw, schedule_id: str = "nightly", *, schedule=None, spec=None, **extra):
    body = {"id": schedule_id, "schedule": schedule or {}, "jobSpecification": spec or SPEC, **extra}
    response = raw("POST", "/jobschedules", json=body)
    assert response.status_code == 201, response.text
    return schedule_id


def schedule(raw, schedule_id: str = "nightly", **params) -> dict:
    response = raw("GET", f"/jobschedules/{schedule_id}", params=params or None)
    assert response.status_code == 200, response.text
    return response.json()


def job_ids(raw, schedule_id: str = "nightly") -> list[str]:
    response = raw("GET", f"/jobschedules/{schedule_id}/jobs")
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["value"]]


def job_state(raw, job_id: str) -> str:
    return raw("GET", f"/jobs/{job_id}").json()["state"]


def finish(raw, job_id: str) -> None:
    raw("POST", f"/jobs/{job_id}/terminate", json={})


def test_schedule_without_recurrence_makes_one_job_at_once(raw, emulator):
    create(raw)
    assert job_ids(raw) == ["nightly:job-1"]
    recent = schedule(raw)["executionInfo"]["recentJob"]
    assert recent["id"] == "nightly:job-1"
    assert recent["url"].endswith("/jobs/nightly%3Ajob-1")
    assert job_state(raw, "nightly:job-1") == "active"


def test_schedule_without_recurrence_completes_when_its_job_does(raw, emulator):
    create(raw)
    job_ids(raw)
    finish(raw, "nightly:job-1")
    emulator.advance(1)
    done = schedule(raw)
    assert (done["state"], done["executionInfo"]["endTime"]) == ("completed", "2025-01-01T00:00:01.000000Z")
    assert "nextRunTime" not in done["executionInfo"]


def test_recurring_schedule_makes_a_job_each_interval(raw, emulator):
    create(raw, schedule={"recurrenceInterval": "PT1M"})
    assert job_ids(raw) == ["nightly:job-1"]
    assert schedule(raw)["executionInfo"]["nextRunTime"] == "2025-01-01T00:01:00.000000Z"
    finish(raw, "nightly:job-1")
    emulator.advance(59)
    assert job_ids(raw) == ["nightly:job-1"]
    emulator.advance(1)
    assert job_ids(raw) == ["nightly:job-1", "nightly:job-2"]
    assert schedule(raw)["executionInfo"]["nextRunTime"] == "2025-01-01T00:02:00.000000Z"


def test_next_job_waits_for_the_previous_one_to_finish(raw, emulator):
    create(raw, schedule={"recurrenceInterval": "PT1M"})
    job_ids(raw)
    emulator.advance(90)  # the occurrence at 60 s found job-1 still active
    assert job_ids(raw) == ["nightly:job-1"]
    finish(raw, "nightly:job-1")
    emulator.advance(1)  # job-1 completes at 91 s, within that occurrence's window
    assert job_ids(raw) == ["nightly:job-1", "nightly:job-2"]


def test_missed_occurrence_is_not_carried_past_the_start_window(raw, emulator):
    create(raw, schedule={"recurrenceInterval": "PT10M", "startWindow": "PT1M"})
    job_ids(raw)
    emulator.advance(11 * 60)  # the occurrence at 10 min waited until 11 min for job-1
    finish(raw, "nightly:job-1")
    emulator.advance(1)
    assert job_ids(raw) == ["nightly:job-1"]
    emulator.advance(9 * 60)
    assert job_ids(raw) == ["nightly:job-1", "nightly:job-2"]


def test_do_not_run_until_holds_the_first_job_back(raw, emulator):
    create(raw, schedule={"doNotRunUntil": "2025-01-01T01:00:00Z"})
    assert job_ids(raw) == []
    assert schedule(raw)["executionInfo"]["nextRunTime"] == "2025-01-01T01:00:00.000000Z"
    emulator.advance(3599)
    assert job_ids(raw) == []
    emulator.advance(1)
    assert job_ids(raw) == ["nightly:job-1"]


def test_do_not_run_after_ends_the_schedule(raw, emulator):
    create(raw, schedule={"recurrenceInterval": "PT1M", "doNotRunAfter": "2025-01-01T00:02:30Z"})
    for _ in range(3):
        job_ids(raw)
        for job_id in job_ids(raw):
            if job_state(raw, job_id) == "active":
                finish(raw, job_id)
        emulator.advance(60)
    emulator.advance(60)
    assert job_ids(raw) == ["nightly:job-1", "nightly:job-2", "nightly:job-3"]
    assert schedule(raw)["state"] == "completed"


def test_disabled_schedule_makes_no_jobs_until_enabled(raw, emulator):
    create(raw, schedule={"recurrenceInterval": "PT1M", "doNotRunUntil": "2025-01-01T00:01:00Z"})
    assert raw("POST", "/jobschedules/nightly/disable").status_code == 204
    assert schedule(raw)["state"] == "disabled"
    emulator.advance(150)
    assert job_ids(raw) == []
    assert raw("POST", "/jobschedules/nightly/enable").status_code == 204
    emulator.advance(30)  # the next occurrence, 3 min
    assert job_ids(raw) == ["nightly:job-1"]


def test_jobs_follow_the_job_specification_and_run_their_job_manager(raw, emulator):
    add_pool(emulator)
    manager = {"id": "manager", "commandLine": "sleep 5"}
    create(raw, schedule={"recurrenceInterval": "PT1M"}, spec={**SPEC, "priority": 5, "jobManagerTask": manager})
    job_ids(raw)
    first = raw("GET", "/jobs/nightly:job-1").json()
    assert (first["priority"], first["jobManagerTask"]["commandLine"]) == (5, "sleep 5")
    emulator.advance(7)  # the manager ran 1-6 s and completed the job
    assert job_state(raw, "nightly:job-1") == "completed"
    emulator.advance(60)
    assert job_state(raw, "nightly:job-2") in ("active", "completed")


def test_terminate_completes_the_schedule_and_its_job(raw, emulator):
    create(raw, schedule={"recurrenceInterval": "PT1M"})
    job_ids(raw)
    assert raw("POST", "/jobschedules/nightly/terminate").status_code == 202
    assert schedule(raw)["state"] == "terminating"
    emulator.advance(1)
    assert schedule(raw)["state"] == "completed"
    job = raw("GET", "/jobs/nightly:job-1").json()
    assert (job["state"], job["executionInfo"]["terminateReason"]) == ("completed", "TerminateJobSchedule")
    emulator.advance(120)
    assert job_ids(raw) == ["nightly:job-1"]


def test_delete_removes_the_schedule_and_its_jobs(raw, emulator):
    create(raw)
    job_ids(raw)
    assert raw("DELETE", "/jobschedules/nightly").status_code == 202
    assert schedule(raw)["state"] == "deleting"
    assert job_state(raw, "nightly:job-1") == "deleting"
    emulator.advance(1)
    assert raw("GET", "/jobschedules/nightly").status_code == 404
    assert raw("GET", "/jobs/nightly:job-1").status_code == 404


def test_exists_answers_200_or_404(raw, emulator):
    create(raw)
    assert raw("HEAD", "/jobschedules/nightly").status_code == 200
    assert raw("HEAD", "/jobschedules/other").status_code == 404


def test_sdk_reads_schedules_and_their_jobs(client, raw, emulator):
    from azure.batch import models

    client.create_job_schedule(
        models.BatchJobScheduleCreateOptions(
            id="sdk",
            schedule=models.BatchJobScheduleConfiguration(recurrence_interval="PT5M"),
            job_specification=models.BatchJobSpecification(pool_info=models.BatchPoolInfo(pool_id=POOL)),
        )
    )
    from azure.core.exceptions import ResourceNotFoundError

    assert client.job_schedule_exists("sdk") is True
    with pytest.raises(ResourceNotFoundError):  # azure-batch 15.1.0's error policy raises on the documented 404
        client.job_schedule_exists("nope")
    assert [j.id for j in client.list_jobs_from_schedule("sdk")] == ["sdk:job-1"]
    assert [s.id for s in client.list_job_schedules()] == ["sdk"]
    assert client.get_job_schedule("sdk").execution_info.recent_job.id == "sdk:job-1"


def test_patch_keeps_what_it_does_not_name_and_put_removes_it(raw, emulator):
    create(raw, schedule={"recurrenceInterval": "PT1H"}, metadata=[{"name": "team", "value": "a"}])
    assert raw("PATCH", "/jobschedules/nightly", json={"metadata": []}).status_code == 200
    patched = schedule(raw)
    assert patched["schedule"] == {"recurrenceInterval": "PT1H"}
    assert patched["metadata"] == []
    assert raw("PUT", "/jobschedules/nightly", json={"jobSpecification": SPEC}).status_code == 200
    replaced = schedule(raw)
    assert replaced["schedule"] == {}
    assert "metadata" not in replaced


def test_changed_schedule_applies_to_the_next_jobs(raw, emulator):
    create(raw, schedule={"recurrenceInterval": "PT1H"})
    job_ids(raw)
    finish(raw, "nightly:job-1")
    raw("PATCH", "/jobschedules/nightly", json={"schedule": {"recurrenceInterval": "PT2M"}})
    assert schedule(raw)["executionInfo"]["nextRunTime"] == "2025-01-01T00:02:00.000000Z"
    raw("PATCH", "/jobschedules/nightly", json={"jobSpecification": {**SPEC, "priority": 9}})
    emulator.advance(120)
    assert raw("GET", "/jobs/nightly:job-2").json()["priority"] == 9
    assert raw("GET", "/jobs/nightly:job-1").json()["priority"] == 0


@pytest.mark.parametrize("field", ["recurrenceInterval", "startWindow"])
def test_intervals_under_a_minute_are_refused(raw, emulator, field):
    body = {"id": "s", "schedule": {field: "PT30S"}, "jobSpecification": SPEC}
    response = raw("POST", "/jobschedules", json=body)
    assert (response.status_code, error_code(response)) == (400, "InvalidPropertyValue")


def test_schedule_and_job_cannot_share_an_id(raw, emulator):
    new_job(raw, "shared")
    response = raw("POST", "/jobschedules", json={"id": "SHARED", "schedule": {}, "jobSpecification": SPEC})
    assert (response.status_code, error_code(response)) == (409, "JobWithSameIdExists")
    create(raw, "other")
    clash = raw("POST", "/jobs", json={"id": "other", "poolInfo": {"poolId": POOL}})
    assert (clash.status_code, error_code(clash)) == (409, "JobScheduleWithSameIdExists")


def test_changes_to_a_completed_schedule_are_409(raw, emulator):
    create(raw)
    raw("POST", "/jobschedules/nightly/terminate")
    emulator.advance(1)
    for method, path in (("POST", "/jobschedules/nightly/disable"), ("PATCH", "/jobschedules/nightly")):
        response = raw(method, path, json={} if method == "PATCH" else None)
        assert (response.status_code, error_code(response)) == (409, "JobScheduleCompleted")


def test_stale_if_match_on_a_schedule_is_412(raw, emulator):
    create(raw)
    etag = raw("GET", "/jobschedules/nightly").headers["ETag"]
    raw("PATCH", "/jobschedules/nightly", json={"metadata": []})
    for method, path in (("PATCH", "/jobschedules/nightly"), ("DELETE", "/jobschedules/nightly")):
        response = raw(method, path, json={} if method == "PATCH" else None, headers={"If-Match": etag})
        assert (response.status_code, error_code(response)) == (412, "ConditionNotMet")
    assert raw("GET", "/jobschedules/nightly", headers={"If-Match": etag}).status_code == 412


def test_schedule_statistics_with_expand(raw, emulator):
    create(raw)
    stats = schedule(raw, **{"$expand": "stats"})["stats"]
    assert (stats["numSucceededTasks"], stats["url"]) == ("0", schedule(raw)["url"])
    assert "stats" not in schedule(raw)
