"""The emulator's front end: auth, api-version, routing, input checking, headers."""

from __future__ import annotations

import pytest


def test_sdk_creates_and_reads_a_job(client, emulator):
    from azure.batch import models

    client.create_job(models.BatchJobCreateOptions(id="job-1", pool_info=models.BatchPoolInfo(pool_id="pool-1")))
    job = client.get_job("job-1")
    assert (job.id, job.state, job.pool_info.pool_id) == ("job-1", models.BatchJobState.ACTIVE, "pool-1")
    assert [j.id for j in client.list_jobs()] == ["job-1"]


@pytest.mark.bad_input
def test_missing_required_property_is_400_naming_it(raw, emulator):
    response = raw("POST", "/jobs", json={"id": "job-1"})
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "MissingRequiredProperty"
    assert {"key": "PropertyName", "value": "poolInfo"} in error["values"]
    assert "job-1" not in emulator.state.jobs  # nothing changed
