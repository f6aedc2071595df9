"""Fault injection: errors with Retry-After, latency, dropped connections, on a schedule."""

from __future__ import annotations

import time

import pytest
import requests

from pytest_batch.emulator import Fault
from pytest_batch.emulator.faults import FaultPlan


def _job(raw, job_id="job-1"):
    assert raw("POST", "/jobs", json={"id": job_id, "poolInfo": {"poolId": "p"}}).status_code == 201


@pytest.mark.parametrize("status, code", [(429, "TooManyRequests"), (500, "InternalServerError"), (503, "ServerBusy")])
def test_error_fault_answers_batch_error_with_retry_after(raw, emulator, status, code):
    _job(raw)
    emulator.faults.add(Fault(operation="Jobs_GetJob", status=status, retry_after=7, times=1))
    first = raw("GET", "/jobs/job-1")
    assert first.status_code == status
    assert first.headers["Retry-After"] == "7" and first.json()["code"] == code
    assert raw("GET", "/jobs/job-1").status_code == 200  # times=1: the next one passes
    assert raw("GET", "/jobs").status_code == 200  # another operation is not affected


def test_the_sdk_retries_through_injected_503s(client, emulator):
    from azure.batch import models

    client.create_job(models.BatchJobCreateOptions(id="job-1", pool_info=models.BatchPoolInfo(pool_id="p")))
    fault = emulator.faults.add(Fault(operation="Jobs_GetJob", status=503, retry_after=0, times=2))
    assert client.get_job("job-1").id == "job-1"
    assert emulator.faults.fired(fault) == 2


def test_a_dropped_connection_gets_no_answer(raw, emulator):
    _job(raw)
    emulator.faults.add(Fault(operation="Jobs_GetJob", drop=True, times=1))
    with pytest.raises(requests.ConnectionError):
        raw("GET", "/jobs/job-1")
    assert raw("GET", "/jobs/job-1").status_code == 200


def test_latency_is_added(raw, emulator):
    _job(raw)
    emulator.faults.add(Fault(operation="*", latency=0.3, times=1))
    started = time.perf_counter()
    assert raw("GET", "/jobs/job-1").status_code == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    raw("GET", "/jobs/job-1")
    assert time.perf_counter() - started < 0.3


def test_schedule_after_every_times():
    plan = FaultPlan()
    fault = plan.add(Fault(operation="Jobs_GetJob", status=500, after=2, every=3, times=2))
    hits = [plan.pick(("Jobs_GetJob",)).fault is fault for _ in range(12)]
    # skip 2, then every 3rd of the rest, at most twice
    assert hits == [False, False, True, False, False, True, False, False, False, False, False, False]
    assert plan.pick(("Pools_GetPool",)).fault is None


def test_a_fault_for_an_older_versions_operation_id(raw, emulator):
    _job(raw)
    emulator.faults.add(Fault(operation="Job_Get", status=500, times=1))  # the 2018 name of Jobs_GetJob
    assert raw("GET", "/jobs/job-1", api_version="2018-08-01.7.0").status_code == 500


@pytest.mark.parametrize(
    "kwargs", [{"status": 200}, {"every": 0}, {"after": -1}, {"latency": -1.0}, {"times": -2}]
)
def test_nonsense_faults_are_refused(kwargs):
    with pytest.raises(ValueError):
        Fault(**kwargs)
