"""List query options: `$select`, `$filter`, `maxresults` and `$skiptoken` paging.

The unit tests drive `list_reply` with hand-made `Call`s; the end-to-end tests go through the
running emulator with signed raw HTTP, and the fixture checks every exchange against the spec.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_batch.emulator.model import Call, ServiceError
from pytest_batch.emulator.odata import _TEMPLATES, call_path, list_reply, matching, select
from pytest_batch.emulator.routing import CANONICAL_VERSION, routes_for
from pytest_batch.interaction import Headers
from pytest_batch.spec import SpecLibrary

BASE = "http://127.0.0.1:9"


def make_call(query=None, *, operation_id="Jobs_ListJobs", path=None) -> Call:
    return Call(
        operation_id=operation_id,
        api_version="2025-06-01",
        method="GET",
        path=dict(path or {}),
        query={"api-version": "2025-06-01", **(query or {})},
        headers=Headers.of(()),
        body=None,
        raw_body=b"",
        now=datetime(2025, 1, 1, tzinfo=timezone.utc),
        base_url=BASE,
    )


def follow(link: str, **override) -> Call:
    """The call a client makes for an `odata.nextLink` (query names folded as the service folds them)."""
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    query = {name.lower(): value for name, value in parse_qsl(parts.query, keep_blank_values=True)}
    query.update(override)
    return make_call(query)


def jobs(n: int) -> list[dict]:
    return [{"id": f"job-{i:02}", "state": "active" if i % 3 else "disabled", "priority": i} for i in range(n)]


def flat(pages_: list[list[str]]) -> list[str]:
    return [item for page in pages_ for item in page]


def pages(documents, query=None, *, between=None) -> list[list[str]]:
    """Every page of ids, following nextLink; `between(page_no)` may change `documents` in place."""
    reply = list_reply(make_call(query), documents, "jobs")
    seen = [[d["id"] for d in reply.body["value"]]]
    while "odata.nextLink" in reply.body:
        if between is not None:
            between(len(seen))
        reply = list_reply(follow(reply.body["odata.nextLink"]), documents, "jobs")
        seen.append([d["id"] for d in reply.body["value"]])
    return seen


# -- $select --------------------------------------------------------------------------------


def test_select_keeps_named_top_level_properties_and_ignores_unknown_ones():
    doc = {"id": "j", "state": "active", "executionInfo": {"poolId": "p"}}
    assert select(doc, "id,state") == {"id": "j", "state": "active"}
    assert select(doc, " id , executionInfo ,") == {"id": "j", "executionInfo": {"poolId": "p"}}
    assert select(doc, "id,nope,executionInfo/poolId") == {"id": "j"}
    assert select(doc, None) == doc and select(doc, "") == doc and select(doc, " ") == doc
    assert select(doc, "nope") == {}


# -- paging ---------------------------------------------------------------------------------


def test_pages_cover_every_item_once_in_order():
    documents = jobs(25)
    seen = pages(documents, {"maxresults": "10"})
    assert [len(p) for p in seen] == [10, 10, 5]
    assert flat(seen) == [d["id"] for d in documents]


def test_no_next_link_when_the_page_ends_the_list():
    assert "odata.nextLink" not in list_reply(make_call({"maxresults": "5"}), jobs(5), "jobs").body
    assert list_reply(make_call(), [], "jobs").body == {"value": []}
    assert len(list_reply(make_call(), jobs(1001), "jobs").body["value"]) == 1000  # the default page


def test_next_link_repeats_the_query_and_drops_timeout():
    query = {"maxresults": "2", "$filter": "state eq 'active' and priority ge 1", "$select": "id", "timeout": "5"}
    link = list_reply(make_call(query), jobs(10), "jobs").body["odata.nextLink"]
    parts = urlsplit(link)
    assert parts.path == "/jobs" and " " not in link
    carried = dict(parse_qsl(parts.query))
    assert carried["$filter"] == query["$filter"] and carried["$select"] == "id" and carried["maxresults"] == "2"
    assert carried["api-version"] == "2025-06-01" and "timeout" not in carried and carried["$skiptoken"]


def test_paging_survives_deletions_between_pages():
    documents = jobs(25)

    def delete_some(page_no):  # the clean-up loop: delete what you have seen, and more
        del documents[0:3]
        documents.pop(5)

    seen = flat(pages(documents, {"maxresults": "10"}, between=delete_some))
    assert len(seen) == len(set(seen)), "an item was listed twice"
    assert seen[:10] == [f"job-{i:02}" for i in range(10)]
    survivors = [d["id"] for d in documents]
    assert all(s in seen for s in survivors), "an item that was there all along was skipped"


def test_new_items_come_on_later_pages():
    documents = jobs(15)
    seen = flat(pages(documents, {"maxresults": "10"}, between=lambda _: documents.append({"id": "late"})))
    assert seen == [f"job-{i:02}" for i in range(15)] + ["late"]


def test_lists_without_identities_page_by_offset():
    counts = [{"poolId": "p", "n": i} for i in range(7)]
    reply = list_reply(make_call({"maxresults": "3"}), counts, "x")
    assert reply.body["odata.nextLink"].endswith("$skiptoken=3")
    second = list_reply(follow(reply.body["odata.nextLink"]), counts, "x")
    assert [d["n"] for d in second.body["value"]] == [3, 4, 5]


def test_filter_select_and_paging_together():
    documents = jobs(30)
    query = {"maxresults": "4", "$filter": "state eq 'Active' and priority lt 20", "$select": "id"}
    seen = pages(documents, query)
    expected = [d["id"] for d in documents if d["state"] == "active" and d["priority"] < 20]
    assert flat(seen) == expected and all(len(p) <= 4 for p in seen)
    assert all(set(d) == {"id"} for d in list_reply(make_call(query), documents, "jobs").body["value"])


def test_transform_happens_before_the_filter():
    documents = [{"id": "a", "secret": 1}, {"id": "b", "secret": 2}]

    def view(doc):
        return {"id": doc["id"], "shown": doc["secret"] * 10}

    reply = list_reply(make_call({"$filter": "shown eq 20"}), documents, "jobs", transform=view)
    assert reply.body["value"] == [{"id": "b", "shown": 20}]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40), st.integers(1, 12))
def test_paging_property(count, size):
    documents = jobs(count)
    seen = pages(documents, {"maxresults": str(size)})
    assert flat(seen) == [d["id"] for d in documents]
    assert all(len(p) == size for p in seen[:-1]) and len(seen[-1]) <= size


# -- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "name"),
    [
        ({"maxresults": "0"}, "OutOfRangeQueryParameterValue", "maxresults"),
        ({"maxresults": "1001"}, "OutOfRangeQueryParameterValue", "maxresults"),
        ({"maxresults": "ten"}, "InvalidQueryParameterValue", "maxresults"),
        ({"maxresults": "-1"}, "InvalidQueryParameterValue", "maxresults"),
        ({"maxresults": "²"}, "InvalidQueryParameterValue", "maxresults"),
        ({"$skiptoken": "abc"}, "InvalidQueryParameterValue", "$skiptoken"),
        ({"$skiptoken": "٣"}, "InvalidQueryParameterValue", "$skiptoken"),
        ({"$skiptoken": "3.!!"}, "InvalidQueryParameterValue", "$skiptoken"),
        ({"$skiptoken": "3.gA"}, "InvalidQueryParameterValue", "$skiptoken"),  # not UTF-8
        ({"$filter": "state = 'active'"}, "InvalidQueryParameterValue", "$filter"),
    ],
)
def test_bad_query_options_are_400_naming_the_parameter(query, code, name):
    with pytest.raises(ServiceError) as caught:
        list_reply(make_call(query), jobs(3), "jobs")
    error = caught.value
    assert (error.status, error.code) == (400, code)
    assert ("QueryParameterName", name) in error.values


def test_filter_refusal_gives_the_reason_with_its_position():
    with pytest.raises(ServiceError) as caught:
        matching(make_call({"$filter": "state eq 'active' AND id eq 'x'"}), jobs(3))
    reason = dict(caught.value.values)["Reason"]
    assert "position 18" in reason and "and" in reason


def test_a_stale_token_past_the_end_gives_an_empty_last_page():
    reply = list_reply(make_call({"$skiptoken": "99"}), jobs(3), "jobs")
    assert reply.body == {"value": []}


# -- nextLink paths ---------------------------------------------------------------------------


def test_every_pageable_operation_of_every_version_has_a_next_link_path():
    library = SpecLibrary()
    canonical = library.get(CANONICAL_VERSION)
    for version in library.versions:
        spec = library.get(version)
        routes = routes_for(spec, canonical)
        for op_id, op in spec.operations.items():
            if op.pageable is None:
                continue
            route = routes[op_id]
            assert route.operation_id in _TEMPLATES, (version, op_id)
            template = _TEMPLATES[route.operation_id]
            assert template.count("{") == len(route.path_names), (version, op_id)
            assert all("{" + name + "}" in template for name in route.path_names), (version, op_id)


def test_path_parameters_are_quoted_in_the_link():
    call = make_call(operation_id="Tasks_ListTaskFiles", path={"jobId": "j 1", "taskId": "t/2"})
    assert call_path(call) == "/jobs/j%201/tasks/t%2F2/files"


# -- through the emulator -----------------------------------------------------------------------


def create_jobs(raw, count=25):
    for i in range(count):
        response = raw("POST", "/jobs", json={"id": f"job-{i:02}", "poolInfo": {"poolId": "p"}})
        assert response.status_code == 201, response.text


def list_ids(raw, emulator, params) -> list[list[str]]:
    """Every page of ids, following the absolute nextLink as a client does."""
    response = raw("GET", "/jobs", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    seen = [[job["id"] for job in body["value"]]]
    while "odata.nextLink" in body:
        link = body["odata.nextLink"]
        assert link.startswith(emulator.endpoint + "/jobs?")
        response = raw("GET", link[len(emulator.endpoint) :], api_version=None)
        assert response.status_code == 200, response.text
        body = response.json()
        seen.append([job["id"] for job in body["value"]])
    return seen


def test_emulator_pages_with_next_link(raw, emulator):
    create_jobs(raw)
    seen = list_ids(raw, emulator, {"maxresults": 10})
    assert [len(p) for p in seen] == [10, 10, 5]
    assert flat(seen) == [f"job-{i:02}" for i in range(25)]


def test_emulator_filters(raw, emulator):
    create_jobs(raw)
    response = raw("POST", "/jobs/job-03/disable", json={"disableTasks": "requeue"})
    assert response.status_code == 202, response.text
    active = flat(list_ids(raw, emulator, {"$filter": "state eq 'active'"}))
    assert active == [f"job-{i:02}" for i in range(25) if i != 3]
    assert flat(list_ids(raw, emulator, {"$filter": "state eq 'Active'"})) == active
    assert flat(list_ids(raw, emulator, {"$filter": "startswith(id,'job-1')"})) == [f"job-{i}" for i in range(10, 20)]
    assert flat(list_ids(raw, emulator, {"$filter": "not (state eq 'active') or id eq 'job-24'"})) == [
        "job-03",
        "job-24",
    ]


def test_emulator_selects(raw, emulator):
    create_jobs(raw, 3)
    response = raw("GET", "/jobs", params={"$select": "id,state"})
    assert response.status_code == 200, response.text
    assert [set(job) for job in response.json()["value"]] == [{"id", "state"}] * 3


def test_emulator_refuses_a_malformed_filter(raw, emulator):
    create_jobs(raw, 1)
    response = raw("GET", "/jobs", params={"$filter": "state eq 'active"})
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "InvalidQueryParameterValue"
    values = {v["key"]: v["value"] for v in error["values"]}
    assert values["QueryParameterName"] == "$filter" and "position 9" in values["Reason"]


def test_sdk_follows_next_link(client, emulator, raw, exchanges):
    create_jobs(raw)
    assert [job.id for job in client.list_jobs(max_results=10, filter="startswith(id,'job-')")] == [
        f"job-{i:02}" for i in range(25)
    ]
    assert [x.method for x in exchanges.items].count("GET") == 3  # three pages, not one big one
