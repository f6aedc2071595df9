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


def _error(response):
    body = response.json()
    return response.status_code, body["code"], {v["key"]: v["value"] for v in body.get("values", [])}


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "method, path, version, status, code, values",
    [
        ("GET", "/jobs", None, 400, "MissingRequiredQueryParameter", {"QueryParameterName": "api-version"}),
        ("GET", "/jobs", "2099-01-01.1.0", 400, "InvalidQueryParameterValue", {"QueryParameterName": "api-version"}),
        ("GET", "/nowhere", "2025-06-01", 400, "InvalidUri", {}),
        ("PATCH", "/jobs", "2025-06-01", 405, "UnsupportedHttpVerb", {}),
    ],
)
def test_front_end_refusals(raw, method, path, version, status, code, values):
    response = raw(method, path, api_version=version)
    got_status, got_code, got_values = _error(response)
    assert (got_status, got_code) == (status, code)
    assert values.items() <= got_values.items()


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "params, headers, code, name",
    [
        ({"maxresults": "5000"}, {}, "OutOfRangeQueryParameterValue", ("QueryParameterName", "maxresults")),
        ({"timeOut": "soon"}, {}, "InvalidQueryParameterValue", ("QueryParameterName", "timeOut")),
        ({}, {"ocp-date": "yesterday"}, "InvalidHeaderValue", ("HeaderName", "ocp-date")),
    ],
)
def test_bad_parameters_name_the_parameter(raw, params, headers, code, name):
    status, got_code, values = _error(raw("GET", "/jobs", params=params, headers=headers))
    assert (status, got_code) == (400, code)
    assert values[name[0]] == name[1]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "body, code, name",
    [
        ({"id": "j", "poolInfo": {"poolId": "p"}, "priority": "high"}, "InvalidRequestBody", "priority"),
        ({"id": "j", "poolInfo": {"poolId": "p"}, "constraints": {"maxWallClockTime": "1 hour"}},
         "InvalidPropertyValue", "constraints.maxWallClockTime"),
        ({"id": "j", "poolInfo": {"poolId": "p"}, "onAllTasksComplete": "explode"},
         "InvalidPropertyValue", "onAllTasksComplete"),
        ({"id": "j", "poolInfo": {}, "jobManagerTask": {"id": "m"}}, "MissingRequiredProperty", "jobManagerTask.commandLine"),
    ],
)
def test_bad_bodies_name_the_property_and_change_nothing(raw, emulator, body, code, name):
    status, got_code, values = _error(raw("POST", "/jobs", json=body))
    assert (status, got_code, values["PropertyName"]) == (400, code, name)
    assert len(emulator.state.jobs) == 0


@pytest.mark.bad_input
def test_malformed_json_and_oversized_bodies(raw, emulator):
    status, code, values = _error(
        raw("POST", "/jobs", data=b'{"id": ', headers={"Content-Type": "application/json; odata=minimalmetadata"})
    )
    assert (status, code) == (400, "InvalidRequestBody") and values["Reason"]
    big = {"id": "j", "poolInfo": {"poolId": "p"}, "displayName": "x" * (1024 * 1024)}
    status, code, _ = _error(raw("POST", "/jobs", json=big))
    assert (status, code) == (413, "RequestBodyTooLarge")
    assert len(emulator.state.jobs) == 0


def test_request_ids_and_client_request_id_echo(raw):
    client_id = "9c4d50ee-2d56-4cd3-8152-34347dc9f2b0"
    plain = raw("GET", "/jobs", headers={"client-request-id": client_id})
    echoed = raw("GET", "/jobs", headers={"client-request-id": client_id, "return-client-request-id": "true"})
    assert "client-request-id" not in plain.headers
    assert echoed.headers["client-request-id"] == client_id
    assert plain.headers["request-id"] != echoed.headers["request-id"]


@pytest.mark.bad_input
def test_wrong_signature_and_bearer(raw, emulator):
    response = raw("GET", "/jobs", headers={"Authorization": "SharedKey testaccount:AAAA"}, sign=False)
    status, code, values = _error(response)
    assert (status, code) == (403, "AuthenticationFailed") and "signature" in values["AuthenticationErrorDetail"]
    assert raw("GET", "/jobs", sign=False).status_code == 401
    assert raw("GET", "/jobs", headers={"Authorization": "Bearer t"}, sign=False).status_code == 401


def test_an_older_version_is_answered_in_its_own_shape(raw):
    body = {"id": "job-1", "poolInfo": {"poolId": "p"}, "maxParallelTasks": 4, "allowTaskPreemption": True}
    assert raw("POST", "/jobs", json=body).status_code == 201
    new = raw("GET", "/jobs/job-1").json()
    old = raw("GET", "/jobs/job-1", api_version="2018-08-01.7.0").json()
    assert new["maxParallelTasks"] == 4 and "maxParallelTasks" not in old and "allowTaskPreemption" not in old
    assert old["id"] == "job-1" and old["state"] == "active"


def test_conditional_read_of_an_unchanged_job_is_304(raw):
    assert raw("POST", "/jobs", json={"id": "job-1", "poolInfo": {"poolId": "p"}}).status_code == 201
    etag = raw("GET", "/jobs/job-1").headers["ETag"]
    unchanged = raw("GET", "/jobs/job-1", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert raw("PATCH", "/jobs/job-1", json={"priority": 1}).status_code == 200
    assert raw("GET", "/jobs/job-1", headers={"If-None-Match": etag}).status_code == 200
