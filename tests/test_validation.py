"""Each check of the validator, on hand-built interactions with one known defect each."""

from __future__ import annotations

import itertools
import json

import pytest

from pytest_batch.interaction import Headers, Interaction, Source
from pytest_batch.validation import (
    ERROR,
    WARNING,
    Validator,
    Violation,
    best_violation,
)

HOST = "https://acct.westus.batch.azure.com"
V2018 = "2018-08-01.7.0"
V2025 = "2025-06-01"
JSON_REQUEST = "application/json; odata=minimalmetadata; charset=utf-8"
REQUEST_ID = "3f1b9c55-1b43-4a47-8a5e-5b0f3f1e0b11"
DATE = "Fri, 17 Feb 2017 00:00:00 GMT"


@pytest.fixture(scope="module")
def validator():
    return Validator()


def interaction(method="GET", path="/jobs/job-1", *, version=V2018, query="", headers=None, body=None,
                status=200, response_headers=None, response=None, host=HOST):
    url = f"{host}{path}?api-version={version}" + (f"&{query}" if query else "") if version else f"{host}{path}" + (f"?{query}" if query else "")
    request_body = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request_headers = dict(headers or {})
    if body is not None:
        request_headers.setdefault("Content-Type", JSON_REQUEST)
    response_body = b"" if response is None else (response if isinstance(response, bytes) else json.dumps(response).encode())
    out_headers = {"request-id": REQUEST_ID, **(response_headers or {})}
    if response is not None:
        out_headers.setdefault("Content-Type", "application/json;odata=minimalmetadata")
    return Interaction(method, url, Headers.of(request_headers), request_body, status, Headers.of(out_headers),
                       response_body, Source("test.yaml", 3))


def findings(validator, item, **kw):
    outcome = validator.check(item)
    return [(v.check, v.severity, v.location, v.instance_pointer, v.schema_pointer.rsplit("/", 1)[-1]) for v in outcome.violations]


JOB = {"id": "job-1", "url": f"{HOST}/jobs/job-1", "eTag": "0x8D", "lastModified": "2018-01-01T00:00:00.123Z",
       "creationTime": "2018-01-01T00:00:00Z", "state": "active", "stateTransitionTime": "2018-01-01T00:00:00Z",
       "priority": 0, "constraints": {"maxWallClockTime": "P10675199DT2H48M5.4775807S", "maxTaskRetryCount": 0},
       "poolInfo": {"poolId": "pool-1"}, "onAllTasksComplete": "noaction", "onTaskFailure": "noaction",
       "executionInfo": {"startTime": "2018-01-01T00:00:00Z", "poolId": "pool-1"},
       "odata.metadata": f"{HOST}/$metadata#jobs/@Element"}


def test_a_valid_get_has_no_findings(validator):
    item = interaction(response=JOB, headers={"client-request-id": REQUEST_ID, "ocp-date": DATE},
                       response_headers={"ETag": "0x8D", "Last-Modified": DATE})
    outcome = validator.check(item)
    assert outcome.operation_id == "Job_Get" and outcome.api_version == V2018
    assert outcome.violations == ()


def test_unknown_operation_names_documented_methods(validator):
    outcome = validator.check(interaction("PUT", "/pools/p1", response={}))
    (v,) = outcome.violations
    assert (v.check, v.severity) == ("unknown_operation", ERROR)
    assert "documented: DELETE, GET, HEAD, PATCH" in v.message and v.source == Source("test.yaml", 3)
    assert validator.check(interaction("GET", "/nodeagentskus", version=V2025)).violations[0].check == "unknown_operation"


def test_missing_api_version_is_a_required_parameter_error(validator):
    outcome = validator.check(interaction(version=None, response=None, status=None))
    assert outcome.api_version == V2025
    assert ("request_parameters", ERROR, "request.query.api-version", "", "required") in findings(validator, interaction(version=None, status=None))


def test_unknown_api_version_validates_against_closest_older(validator):
    outcome = validator.check(interaction(version="2018-10-01.7.5", status=None))
    assert outcome.api_version == V2018
    (v,) = outcome.violations
    assert (v.check, v.severity, v.actual) == ("unknown_api_version", WARNING, "2018-10-01.7.5")
    assert V2018 in v.message


@pytest.mark.parametrize(
    "query, headers, location, keyword",
    [
        ("maxresults=0", {}, "request.query.maxresults", "minimum"),
        ("maxresults=1001", {}, "request.query.maxresults", "maximum"),
        ("maxresults=ten", {}, "request.query.maxresults", "type"),
        ("timeout=30.5", {}, "request.query.timeout", "type"),
        ("", {"client-request-id": "{9C4D50EE-2D56-4CD3-8152-34347DC9F2B0}"}, "request.header.client-request-id", "format"),
        ("", {"ocp-date": "2017-02-17T00:00:00Z"}, "request.header.ocp-date", "format"),
        ("", {"If-Modified-Since": "yesterday"}, "request.header.If-Modified-Since", "format"),
        ("", {"return-client-request-id": "yes"}, "request.header.return-client-request-id", "type"),
    ],
)
def test_request_parameter_errors(validator, query, headers, location, keyword):
    path = "/jobs/job-1" if "If-Modified-Since" in headers else "/jobs"
    item = interaction("GET", path, query=query, headers=headers, status=None)
    assert ("request_parameters", ERROR, location, "", keyword) in findings(validator, item)


def test_good_parameters_pass_and_unknown_query_is_drift(validator):
    good = interaction("GET", "/jobs", query="maxresults=1000&timeout=30&%24filter=state%20eq%20%27active%27&%24select=id,state",
                       headers={"client-request-id": REQUEST_ID, "ocp-date": DATE, "return-client-request-id": "false"},
                       status=None)
    assert findings(validator, good) == []
    drift = interaction("GET", "/jobs", query="maxResults=5&colour=blue", status=None)  # names are case-insensitive
    assert findings(validator, drift) == [("undocumented_property", WARNING, "request.query.colour", "", "parameters")]


def test_skiptoken_is_the_services_own_paging_token_on_pageable_operations_only(validator):
    follow_up = interaction("GET", "/jobs", query="maxresults=10&%24skiptoken=10", status=None)
    assert findings(validator, follow_up) == []
    not_pageable = interaction("GET", "/jobs/job-1", query="%24skiptoken=10", status=None)
    assert findings(validator, not_pageable) == [
        ("undocumented_property", WARNING, "request.query.$skiptoken", "", "parameters")
    ]


def test_select_lifts_required_but_not_types_or_closed_objects(validator):
    selected = {"id": "job-1", "state": "active"}
    item = interaction("GET", "/jobs/job-1", version="2025-06-01", query="%24select=id,state", response=selected)
    assert findings(validator, item) == []
    unselected = interaction("GET", "/jobs/job-1", version="2025-06-01", response=selected)
    assert ("response_schema_conformance", "error", "response.body", "", "required") in findings(validator, unselected)
    wrong_type = interaction("GET", "/jobs/job-1", version="2025-06-01", query="%24select=id,priority",
                             response={"id": "job-1", "priority": "high"})
    assert [f[3] for f in findings(validator, wrong_type)] == ["/priority"]


def test_not_modified_only_for_conditional_reads(validator):
    conditional = interaction("GET", "/jobs/job-1", headers={"If-None-Match": "0x8D"}, status=304)
    assert findings(validator, conditional) == []
    plain = interaction("GET", "/jobs/job-1", status=304)
    assert [f[0] for f in findings(validator, plain)] == ["status_code_conformance"]
    write = interaction("DELETE", "/jobs/job-1", headers={"If-None-Match": "0x8D"}, status=304)
    assert [f[0] for f in findings(validator, write)] == ["status_code_conformance"]


def test_path_parameter_is_required_and_decoded(validator):
    outcome = validator.check(interaction("GET", "/jobs/j1/tasks/t1/files/wd%5Cstdout.txt", status=200,
                                          response=b"hello", response_headers={"Content-Type": "application/octet-stream"}))
    assert outcome.operation_id == "File_GetFromTask" and outcome.violations == ()


def test_request_body_findings(validator):
    body = {"id": "job-1", "poolInfo": {"poolId": "p"}, "priority": "high", "colour": "red",
            "constraints": {"maxWallClockTime": "1 hour"}, "onAllTasksComplete": "explode"}
    got = findings(validator, interaction("POST", "/jobs", body=body, status=201))
    assert ("request_body_schema", ERROR, "request.body", "/priority", "type") in got
    assert ("request_body_schema", ERROR, "request.body", "/constraints/maxWallClockTime", "format") in got
    assert ("request_body_schema", ERROR, "request.body", "/onAllTasksComplete", "enum") in got
    assert ("undocumented_property", WARNING, "request.body", "/colour", "properties") in got
    assert not any(f[3] == "/priority" and f[4] == "format" for f in got)  # type error already says it


def test_missing_required_body_property_points_at_its_object(validator):
    got = findings(validator, interaction("POST", "/jobs", body={"id": "j"}, status=201))
    assert got == [("request_body_schema", ERROR, "request.body", "", "required")]
    got = findings(validator, interaction("POST", "/jobs/j/tasks", body={"id": "t", "commandLine": "x", "resourceFiles": [{"filePath": "a"}]}, status=201))
    assert ("request_body_schema", ERROR, "request.body", "/resourceFiles/0", "required") in got


def test_read_only_property_is_forbidden_in_requests(validator):
    # Jobs_ReplaceJob takes the whole BatchJob, whose `state` is read-only
    item = interaction("PUT", "/jobs/j", version=V2025, body={"poolInfo": {"poolId": "p"}, "state": "active"}, status=200)
    got = validator.check(item).violations
    (v,) = [v for v in got if v.instance_pointer == "/state"]
    assert (v.check, v.severity) == ("request_body_schema", ERROR)
    assert "read-only" in v.message and v.schema_pointer.endswith("/properties/state/readOnly")


def test_request_content_type_and_missing_body(validator):
    body = {"id": "j", "poolInfo": {"poolId": "p"}}
    got = findings(validator, interaction("POST", "/jobs", body=body, headers={"Content-Type": "text/plain"}, status=201))
    assert got == [("request_content_type", ERROR, "request.headers.Content-Type", "", "consumes")]
    ok = interaction("POST", "/jobs", body=body, headers={"Content-Type": "application/json;odata=minimalmetadata"}, status=201)
    assert findings(validator, ok) == []
    assert findings(validator, interaction("POST", "/jobs", status=201)) == [("request_body_schema", ERROR, "request.body", "", "schema")]
    bad_json = interaction("POST", "/jobs", body=b'{"id": ', status=None)
    assert findings(validator, bad_json)[0][:3] == ("request_body_schema", ERROR, "request.body")


def test_status_codes(validator):
    assert findings(validator, interaction("DELETE", "/jobs/j", status=202)) == []
    assert findings(validator, interaction("DELETE", "/jobs/j", status=200)) == [
        ("status_code_conformance", ERROR, "response.status", "", "responses")
    ]


def test_error_responses_are_checked_against_batch_error(validator):
    error = {"odata.metadata": f"{HOST}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
             "code": "JobNotFound", "message": {"lang": "en-US", "value": "The specified job does not exist."}}
    assert findings(validator, interaction(status=404, response=error)) == []
    bad = {"code": 404, "message": "oops"}
    got = findings(validator, interaction(status=404, response=bad))
    assert ("error_shape", ERROR, "response.body", "/code", "type") in got
    assert ("error_shape", ERROR, "response.body", "/message", "type") in got
    assert findings(validator, interaction("HEAD", "/pools/p", status=404)) == []  # HEAD: no body


def test_response_body_content_type_and_headers(validator):
    got = findings(validator, interaction(status=200, response={**JOB, "priority": 5000.5, "state": "Active"},
                                          response_headers={"Last-Modified": "2018-01-01", "request-id": "nope"}))
    assert ("response_schema_conformance", ERROR, "response.body", "/priority", "type") in got
    assert ("unknown_enum_value", WARNING, "response.body", "/state", "enum") in got
    assert ("response_headers_conformance", ERROR, "response.headers.Last-Modified", "", "format") in got
    assert ("response_headers_conformance", ERROR, "response.headers.request-id", "", "format") in got
    got = findings(validator, interaction(status=200, response=JOB, response_headers={"Content-Type": "text/html"}))
    assert ("response_content_type", ERROR, "response.headers.Content-Type", "", "produces") in got
    assert findings(validator, interaction(status=200, response=b""))[0][:3] == ("response_schema_conformance", ERROR, "response.body")


def test_open_enum_unknown_value_is_a_warning(validator):
    pool = {"id": "p", "url": f"{HOST}/pools/p", "eTag": "0x1", "lastModified": "2025-01-01T00:00:00Z",
            "creationTime": "2025-01-01T00:00:00Z", "stateTransitionTime": "2025-01-01T00:00:00Z",
            "currentDedicatedNodes": 0, "currentLowPriorityNodes": 0,
            "vmSize": "standard_d2", "state": "carrier-pigeon", "allocationState": "steady",
            "virtualMachineConfiguration": {"imageReference": {"publisher": "p", "offer": "o", "sku": "s"},
                                            "nodeAgentSKUId": "batch.node.ubuntu 22.04"}}
    got = findings(validator, interaction("GET", "/pools/p", version=V2025, status=200, response=pool))
    assert got == [("unknown_enum_value", WARNING, "response.body", "/state", "enum")]


def test_non_batch_traffic_is_skipped(validator):
    outcome = validator.check(interaction("GET", "/c", host="https://sa.blob.core.windows.net", version=None,
                                          query="comp=list", response=b"\xef\xbb\xbf<xml/>"))
    assert outcome.skipped == "Azure Storage (blob)" and outcome.violations == ()


def test_findings_carry_everything_a_report_needs(validator):
    v = validator.check(interaction(query="maxresults=0", path="/jobs", status=None)).violations[0]
    assert (v.operation_id, v.api_version, v.location) == ("Job_List", V2018, "request.query.maxresults")
    assert v.schema_pointer == "/paths/~1jobs/get/parameters/3/minimum" or v.schema_pointer.endswith("/minimum")
    assert (v.expected, v.actual) == (1, "0")
    assert v.source == Source("test.yaml", 3)
    assert "test.yaml#3" in v.describe() and "\n" not in v.describe()


def _violation(check, severity, pointer="", location="request.body"):
    return Violation(check, severity, "Op", V2018, location, pointer, "/definitions/X", None, None, f"{check}{pointer}")


def test_best_finding_is_independent_of_order():
    pool = [
        _violation("undocumented_property", WARNING, "/a"),
        _violation("response_schema_conformance", ERROR, "/a/b", "response.body"),
        _violation("request_body_schema", ERROR, "/x/y"),
        _violation("request_body_schema", ERROR, "/z"),
        _violation("request_parameters", ERROR, "", "request.query.timeout"),
        _violation("unknown_enum_value", WARNING),
    ]
    winners = {best_violation(perm) for perm in itertools.permutations(pool)}
    assert winners == {pool[4]}  # errors first, then the most fundamental check
    assert best_violation(pool[:4][::-1]) == pool[3]  # same check: the shallowest pointer wins
    assert best_violation([]) is None


def test_odata_annotation_is_not_reported_beside_real_drift(validator):
    """Regression: extras were listed without the odata.* pattern when another extra was present."""
    item = interaction(version="2022-01-01.15.0", status=200,
                       response={"odata.metadata": "x", "id": "job1", "bogus": 1})
    assert findings(validator, item) == [("undocumented_property", WARNING, "response.body", "/bogus", "properties")]


def test_integers_beyond_64_bits_are_explained_as_integers(validator):
    """Regression (found by the mutation property): the fast parser reads 2**64 as a float;
    the explanation must still see the integer and report the int64 format, not a type error."""
    job = {**JOB, "stats": None}
    job.pop("stats")
    body = json.dumps({**job, "priority": 2**64}).encode()
    got = findings(validator, interaction(status=200, response=body))
    assert got == [("response_schema_conformance", ERROR, "response.body", "/priority", "format")]
