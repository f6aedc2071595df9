"""Pools: the resize life cycle, stop resize, autoscale, remove nodes, delete, PATCH versus
updateproperties, conditional requests, and the documented 409s.

Timing is the default (`pool_resize` 5 s, `node_start` 5 s, `pool_stop_resize` 1 s,
`pool_delete` 5 s) on a manual clock: the tests move time with `emulator.advance`. The SDK's
pollers run in `TestThroughSdkPollers`, on a clock that ticks a second per request.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import ResourceNotFoundError

from pytest_batch.emulator import ManualClock
from pytest_batch.emulator.handlers import pools
from pytest_batch.emulator.model import Call, ServiceError
from pytest_batch.emulator.state import State, http_date
from pytest_batch.interaction import Headers

# the fully qualified application id the docs ask for when a pool references a package
APP = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Batch/batchAccounts/a/applications/"

VM = {
    "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
    "nodeAgentSKUId": "batch.node.ubuntu 22.04",
}


def make_pool(raw, pool_id="pool-1", **extra):
    body = {"id": pool_id, "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VM, **extra}
    if not body.get("enableAutoScale"):
        body.setdefault("targetDedicatedNodes", 2)
    response = raw("POST", "/pools", json=body)
    assert response.status_code == 201, response.text
    return response


def pool(raw, pool_id="pool-1", **params):
    response = raw("GET", f"/pools/{pool_id}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def nodes(raw, pool_id="pool-1"):
    return {n["id"]: n for n in raw("GET", f"/pools/{pool_id}/nodes").json()["value"]}


def error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    return response.json()


# -- create and the resize life cycle ---------------------------------------------------------------


def test_create_sizes_the_pool_nodes_start_then_go_idle(raw, emulator):
    response = make_pool(raw, targetDedicatedNodes=2, targetLowPriorityNodes=1)
    assert response.headers["Location"].endswith("/pools/pool-1")
    created = pool(raw)
    assert (created["state"], created["allocationState"]) == ("active", "resizing")
    assert (created["targetDedicatedNodes"], created["targetLowPriorityNodes"]) == (2, 1)
    assert (created["currentDedicatedNodes"], created["currentLowPriorityNodes"]) == (0, 0)
    assert (created["resizeTimeout"], created["taskSlotsPerNode"], created["enableAutoScale"]) == ("PT15M", 1, False)
    assert nodes(raw) == {}

    emulator.advance(5)
    steady = pool(raw)
    assert steady["allocationState"] == "steady"
    assert steady["allocationStateTransitionTime"] > created["allocationStateTransitionTime"]
    assert (steady["currentDedicatedNodes"], steady["currentLowPriorityNodes"]) == (2, 1)
    joined = nodes(raw)
    assert sorted(joined) == ["tvmps_1_d", "tvmps_2_d", "tvmps_3_p"]
    assert {n["state"] for n in joined.values()} == {"starting"}
    assert [joined[i]["isDedicated"] for i in sorted(joined)] == [True, True, False]

    emulator.advance(5)
    for node in nodes(raw).values():
        assert (node["state"], node["schedulingState"]) == ("idle", "enabled")
        assert (node["runningTasksCount"], node["runningTaskSlotsCount"]) == (0, 0)
        assert (node["totalTasksRun"], node["totalTasksSucceeded"]) == (0, 0)


def test_a_pool_created_with_no_nodes_is_steady_at_once(raw):
    make_pool(raw, targetDedicatedNodes=0)
    assert pool(raw)["allocationState"] == "steady"


def test_list_pools_filters_and_pages(raw, emulator):
    make_pool(raw, "a", targetDedicatedNodes=0)
    make_pool(raw, "b", targetDedicatedNodes=1)
    make_pool(raw, "c", targetDedicatedNodes=0)
    steady = raw("GET", "/pools", params={"$filter": "allocationState eq 'steady'", "$select": "id"}).json()
    assert steady["value"] == [{"id": "a"}, {"id": "c"}]
    first = raw("GET", "/pools", params={"maxresults": 2}).json()
    assert [p["id"] for p in first["value"]] == ["a", "b"]
    rest = raw("GET", first["odata.nextLink"].split(emulator.endpoint, 1)[1], api_version=None).json()
    assert [p["id"] for p in rest["value"]] == ["c"]


def test_pool_ids_are_case_insensitive(raw):
    make_pool(raw, "Pool-A")
    error(raw("POST", "/pools", json={"id": "pool-a", "vmSize": "a1", "virtualMachineConfiguration": VM,
                                      "targetDedicatedNodes": 1}), 409, "PoolExists")  # fmt: skip
    assert pool(raw, "POOL-a")["id"] == "Pool-A"
    assert raw("HEAD", "/pools/pool-A").status_code == 200
    assert raw("HEAD", "/pools/nope").status_code == 404


@pytest.mark.parametrize(
    ("extra", "status", "code", "culprit"),
    [
        ({"virtualMachineConfiguration": None}, 400, "MissingRequiredProperty", "virtualMachineConfiguration"),
        ({"targetDedicatedNodes": None}, 400, "MissingRequiredProperty", "targetDedicatedNodes"),
        ({"enableAutoScale": True, "autoScaleFormula": "$TargetDedicatedNodes=1;"}, 400,
         "InvalidPropertyValue", "targetDedicatedNodes"),
        ({"targetDedicatedNodes": None, "enableAutoScale": True}, 400, "MissingRequiredProperty", "autoScaleFormula"),
        ({"autoScaleFormula": "$TargetDedicatedNodes=1;"}, 400, "InvalidPropertyValue", "autoScaleFormula"),
        ({"targetDedicatedNodes": None, "enableAutoScale": True, "autoScaleFormula": "$TargetDedicatedNodes = ;"},
         400, "AutoScalingFormulaSyntaxError", None),
        ({"targetDedicatedNodes": None, "enableAutoScale": True, "autoScaleFormula": "$TargetDedicatedNodes=1;",
          "autoScaleEvaluationInterval": "PT1M"}, 400, "InvalidPropertyValue", "autoScaleEvaluationInterval"),
        ({"targetDedicatedNodes": None, "enableAutoScale": True, "autoScaleFormula": "$TargetDedicatedNodes=1;",
          "autoScaleEvaluationInterval": "P8D"}, 400, "InvalidPropertyValue", "autoScaleEvaluationInterval"),
        ({"resizeTimeout": "PT4M59S"}, 400, "InvalidPropertyValue", "resizeTimeout"),
        ({"targetDedicatedNodes": -1}, 400, "InvalidPropertyValue", "targetDedicatedNodes"),
        ({"taskSlotsPerNode": 257}, 400, "InvalidPropertyValue", "taskSlotsPerNode"),
        ({"applicationPackageReferences": [{"applicationId": APP + "no-such-app"}]}, 409,
         "InvalidApplicationPackageReferences", None),
        ({"applicationPackageReferences": [{"applicationId": APP + "app-python", "version": "2.7"}]}, 409,
         "InvalidApplicationPackageReferences", None),
        ({"applicationPackageReferences": [{"applicationId": APP + "app-python"}] * 11}, 400, "InvalidPropertyValue",
         "applicationPackageReferences"),
    ],
)  # fmt: skip
def test_create_rules(raw, extra, status, code, culprit):
    body = {"id": "pool-1", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VM, "targetDedicatedNodes": 1}
    body.update(extra)
    body = {k: v for k, v in body.items() if v is not None}
    found = error(raw("POST", "/pools", json=body), status, code)
    if culprit:
        assert {"key": "PropertyName", "value": culprit} in found["values"]
    assert raw("HEAD", "/pools/pool-1").status_code == 404


def test_packages_name_applications_by_arm_id(raw):
    make_pool(raw, applicationPackageReferences=[{"applicationId": APP + "app-tools", "version": "2.0"}])
    assert pool(raw)["applicationPackageReferences"] == [{"applicationId": APP + "app-tools", "version": "2.0"}]
    error(raw("POST", "/pools", json={"id": "p2", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VM,
          "targetDedicatedNodes": 1, "applicationPackageReferences": [{"applicationId": "app-tools"}]}),
          400, "InvalidPropertyValue")  # the docs ask for the fully qualified id when creating a pool


def test_grow_then_shrink_gives_up_idle_nodes_newest_first(raw, emulator):
    make_pool(raw, targetDedicatedNodes=1)
    emulator.advance(10)
    assert raw("POST", "/pools/pool-1/resize", json={"targetDedicatedNodes": 3}).status_code == 202
    resizing = pool(raw)
    assert (resizing["allocationState"], resizing["targetDedicatedNodes"]) == ("resizing", 3)
    emulator.advance(10)
    assert sorted(nodes(raw)) == ["tvmps_1_d", "tvmps_2_d", "tvmps_3_d"]

    shrink = {"targetDedicatedNodes": 1, "nodeDeallocationOption": "terminate", "resizeTimeout": "PT10M"}
    assert raw("POST", "/pools/pool-1/resize", json=shrink).status_code == 202
    during = nodes(raw)
    assert {i: n["state"] for i, n in during.items()} == {
        "tvmps_1_d": "idle", "tvmps_2_d": "leavingpool", "tvmps_3_d": "leavingpool"
    }  # fmt: skip
    assert pool(raw)["currentDedicatedNodes"] == 3  # leaving nodes are still in the pool
    assert pool(raw)["resizeTimeout"] == "PT10M"
    emulator.advance(5)
    assert sorted(nodes(raw)) == ["tvmps_1_d"]
    assert (pool(raw)["allocationState"], pool(raw)["currentDedicatedNodes"]) == ("steady", 1)


def test_resize_keeps_the_target_it_is_not_given(raw, emulator):
    make_pool(raw, targetDedicatedNodes=1, targetLowPriorityNodes=2)
    emulator.advance(5)
    raw("POST", "/pools/pool-1/resize", json={"targetLowPriorityNodes": 0})
    assert (pool(raw)["targetDedicatedNodes"], pool(raw)["targetLowPriorityNodes"]) == (1, 0)


def test_resize_needs_a_steady_manually_scaled_pool(raw, emulator):
    make_pool(raw)
    error(raw("POST", "/pools/pool-1/resize", json={"targetDedicatedNodes": 5}), 409, "PoolBeingResized")
    emulator.advance(5)
    error(raw("POST", "/pools/pool-1/resize", json={"resizeTimeout": "PT1M"}), 400, "InvalidPropertyValue")
    error(raw("POST", "/pools/nope/resize", json={"targetDedicatedNodes": 1}), 404, "PoolNotFound")
    raw("POST", "/pools/pool-1/enableautoscale", json={"autoScaleFormula": "$TargetDedicatedNodes = 2;"})
    error(raw("POST", "/pools/pool-1/resize", json={"targetDedicatedNodes": 5}), 409, "OperationInvalidForCurrentState")


def test_stop_resize_keeps_the_nodes_the_pool_has(raw, emulator):
    make_pool(raw, targetDedicatedNodes=2)
    emulator.advance(10)
    raw("POST", "/pools/pool-1/resize", json={"targetDedicatedNodes": 4})
    assert raw("POST", "/pools/pool-1/stopresize").status_code == 202
    assert pool(raw)["allocationState"] == "stopping"
    emulator.advance(10)  # past the resize's own end: it must not add nodes any more
    stopped = pool(raw)
    assert stopped["allocationState"] == "steady"
    assert (stopped["currentDedicatedNodes"], stopped["targetDedicatedNodes"]) == (2, 4)
    assert stopped["resizeErrors"][0]["code"] == "ResizeStopped"
    assert len(nodes(raw)) == 2


def test_stopping_a_shrink_keeps_the_leaving_nodes(raw, emulator):
    make_pool(raw, targetDedicatedNodes=2)
    emulator.advance(10)
    raw("POST", "/pools/pool-1/resize", json={"targetDedicatedNodes": 0})
    raw("POST", "/pools/pool-1/stopresize")
    emulator.advance(10)
    assert {n["state"] for n in nodes(raw).values()} == {"idle"}
    assert pool(raw)["currentDedicatedNodes"] == 2


def test_stop_resize_on_a_steady_pool_changes_nothing(raw, emulator):
    make_pool(raw)
    emulator.advance(5)
    before = pool(raw)
    assert raw("POST", "/pools/pool-1/stopresize").status_code == 202
    after = pool(raw)
    assert (after["allocationState"], after["eTag"], "resizeErrors" in after) == ("steady", before["eTag"], False)


def test_a_new_resize_clears_the_resize_errors(raw, emulator):
    make_pool(raw)
    raw("POST", "/pools/pool-1/stopresize")
    emulator.advance(1)
    assert "resizeErrors" in pool(raw)
    raw("POST", "/pools/pool-1/resize", json={"targetDedicatedNodes": 1})
    assert "resizeErrors" not in pool(raw)


# -- remove nodes -----------------------------------------------------------------------------------


def test_remove_nodes(raw, emulator):
    make_pool(raw, targetDedicatedNodes=3, targetLowPriorityNodes=1)
    emulator.advance(10)
    body = {"nodeList": ["tvmps_1_d", "TVMPS_4_P"], "nodeDeallocationOption": "requeue"}
    assert raw("POST", "/pools/pool-1/removenodes", json=body).status_code == 202
    removing = pool(raw)
    assert removing["allocationState"] == "resizing"
    assert (removing["targetDedicatedNodes"], removing["targetLowPriorityNodes"]) == (2, 0)
    assert nodes(raw)["tvmps_1_d"]["state"] == "leavingpool"
    error(raw("POST", "/pools/pool-1/removenodes", json={"nodeList": ["tvmps_2_d"]}), 409, "PoolBeingResized")
    emulator.advance(5)
    assert sorted(nodes(raw)) == ["tvmps_2_d", "tvmps_3_d"]
    assert (pool(raw)["allocationState"], pool(raw)["currentDedicatedNodes"]) == ("steady", 2)


def test_remove_nodes_rules(raw, emulator):
    make_pool(raw)
    emulator.advance(10)
    error(raw("POST", "/pools/pool-1/removenodes", json={"nodeList": ["tvmps_9_d"]}), 404, "NodeNotFound")
    too_many = {"nodeList": [f"n{i}" for i in range(101)]}
    error(raw("POST", "/pools/pool-1/removenodes", json=too_many), 400, "InvalidPropertyValue")
    short = {"nodeList": ["tvmps_1_d"], "resizeTimeout": "PT2M"}
    error(raw("POST", "/pools/pool-1/removenodes", json=short), 400, "InvalidPropertyValue")
    assert len(nodes(raw)) == 2 and pool(raw)["allocationState"] == "steady"


# -- autoscale ----------------------------------------------------------------------------------------


def test_enable_autoscale_evaluates_and_applies_the_formula(raw, emulator):
    make_pool(raw, targetDedicatedNodes=1)
    emulator.advance(10)
    formula = "$TargetDedicatedNodes = $CurrentDedicatedNodes + 2; $TargetLowPriorityNodes = 1;"
    response = raw("POST", "/pools/pool-1/enableautoscale", json={"autoScaleFormula": formula})
    assert response.status_code == 200
    enabled = pool(raw)
    assert (enabled["enableAutoScale"], enabled["autoScaleFormula"]) == (True, formula)
    assert enabled["autoScaleEvaluationInterval"] == "PT15M"
    assert enabled["autoScaleRun"]["results"].startswith("$TargetDedicatedNodes=3;$TargetLowPriorityNodes=1;")
    assert (enabled["allocationState"], enabled["targetDedicatedNodes"]) == ("resizing", 3)
    emulator.advance(5)
    assert (pool(raw)["currentDedicatedNodes"], pool(raw)["currentLowPriorityNodes"]) == (3, 1)


def test_autoscale_runs_again_every_interval(raw, emulator):
    make_pool(raw, enableAutoScale=True, autoScaleFormula="$TargetDedicatedNodes = 1;",
              autoScaleEvaluationInterval="PT5M")  # fmt: skip
    first = pool(raw)["autoScaleRun"]["timestamp"]
    emulator.advance(299)
    assert pool(raw)["autoScaleRun"]["timestamp"] == first
    emulator.advance(1)
    assert pool(raw)["autoScaleRun"]["timestamp"] > first


def test_autoscale_counts_the_pending_tasks_of_the_pools_jobs(raw, emulator):
    make_pool(raw, targetDedicatedNodes=0)
    raw("POST", "/jobs", json={"id": "job-1", "poolInfo": {"poolId": "pool-1"}})
    for n in range(3):
        raw("POST", "/jobs/job-1/tasks", json={"id": f"t{n}", "commandLine": "/bin/true"})
    formula = {"autoScaleFormula": "$TargetDedicatedNodes = min(10, $PendingTasks);"}
    raw("POST", "/pools/pool-1/enableautoscale", json=formula)
    assert pool(raw)["targetDedicatedNodes"] == 3


def test_evaluate_reports_without_applying(raw, emulator):
    make_pool(raw, enableAutoScale=True, autoScaleFormula="$TargetDedicatedNodes = 1;")
    emulator.advance(10)
    before = pool(raw)
    response = raw("POST", "/pools/pool-1/evaluateautoscale", json={"autoScaleFormula": "$TargetDedicatedNodes = 4;"})
    assert response.status_code == 200
    run = response.json()
    assert run["results"] == "$TargetDedicatedNodes=4;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"
    assert "error" not in run and run["timestamp"]
    after = pool(raw)
    assert (after["targetDedicatedNodes"], after["autoScaleRun"], after["eTag"]) == (
        1, before["autoScaleRun"], before["eTag"]
    )  # fmt: skip


def test_evaluation_errors_come_back_in_the_run(raw, emulator):
    make_pool(raw, enableAutoScale=True, autoScaleFormula="$TargetDedicatedNodes = 1;")
    response = raw("POST", "/pools/pool-1/evaluateautoscale", json={"autoScaleFormula": "$TargetDedicatedNodes = 1/0;"})
    assert response.status_code == 200
    run = response.json()
    assert "results" not in run
    assert run["error"]["code"] == "InvalidFormula"
    assert run["error"]["values"] == [{"name": "Message", "value": "Line 1, Col 26: Division by zero"}]


def test_a_run_that_fails_leaves_the_targets_alone(raw, emulator):
    make_pool(raw, enableAutoScale=True, autoScaleFormula="$TargetDedicatedNodes = 4 / $CurrentDedicatedNodes;")
    created = pool(raw)
    assert created["autoScaleRun"]["error"]["code"] == "InvalidFormula"
    assert "results" not in created["autoScaleRun"]
    assert (created["allocationState"], created["targetDedicatedNodes"]) == ("steady", 0)


@pytest.mark.parametrize("operation", ["enableautoscale", "evaluateautoscale"])
def test_syntax_errors_are_400(raw, emulator, operation):
    make_pool(raw, enableAutoScale=True, autoScaleFormula="$TargetDedicatedNodes = 1;")
    emulator.advance(60)
    found = error(raw("POST", f"/pools/pool-1/{operation}", json={"autoScaleFormula": "$TargetDedicatedNodes = 1 +;"}),
                  400, "AutoScalingFormulaSyntaxError")  # fmt: skip
    assert found["values"][0]["value"].startswith("Line 1, Col 28: ")
    assert pool(raw)["autoScaleFormula"] == "$TargetDedicatedNodes = 1;"


def test_a_too_long_formula_is_refused(raw, emulator):
    make_pool(raw)
    emulator.advance(5)
    formula = "$TargetDedicatedNodes = 1;" + " " * 8192
    error(raw("POST", "/pools/pool-1/enableautoscale", json={"autoScaleFormula": formula}), 400,
          "AutoScaleFormulaTooLong")  # fmt: skip


def test_autoscale_rules(raw, emulator):
    make_pool(raw)
    formula = {"autoScaleFormula": "$TargetDedicatedNodes = 1;"}
    error(raw("POST", "/pools/pool-1/enableautoscale", json=formula), 409, "PoolBeingResized")
    emulator.advance(5)
    error(raw("POST", "/pools/pool-1/evaluateautoscale", json=formula), 409, "OperationInvalidForCurrentState")
    error(raw("POST", "/pools/pool-1/enableautoscale", json={}), 400, "MissingRequiredProperty")
    error(raw("POST", "/pools/pool-1/enableautoscale", json={**formula, "autoScaleEvaluationInterval": "PT4M"}),
          400, "InvalidPropertyValue")  # fmt: skip
    assert raw("POST", "/pools/pool-1/enableautoscale", json=formula).status_code == 200
    emulator.advance(29)
    error(raw("POST", "/pools/pool-1/enableautoscale", json={"autoScaleEvaluationInterval": "PT5M"}), 503,
          "TooManyEnableAutoScaleRequests")  # fmt: skip
    emulator.advance(1)
    assert raw("POST", "/pools/pool-1/enableautoscale", json={"autoScaleEvaluationInterval": "PT5M"}).status_code == 200
    assert (pool(raw)["autoScaleFormula"], pool(raw)["autoScaleEvaluationInterval"]) == (
        "$TargetDedicatedNodes = 1;", "PT5M"
    )  # fmt: skip


def test_disable_autoscale_keeps_the_targets_and_stops_the_runs(raw, emulator):
    make_pool(raw, enableAutoScale=True, autoScaleFormula="$TargetDedicatedNodes = 1;",
              autoScaleEvaluationInterval="PT5M")  # fmt: skip
    emulator.advance(10)
    assert raw("POST", "/pools/pool-1/disableautoscale").status_code == 200
    disabled = pool(raw)
    assert disabled["enableAutoScale"] is False
    assert not {"autoScaleFormula", "autoScaleEvaluationInterval", "autoScaleRun"} & set(disabled)
    assert (disabled["targetDedicatedNodes"], disabled["currentDedicatedNodes"]) == (1, 1)
    emulator.advance(3600)
    assert "autoScaleRun" not in pool(raw)
    assert raw("POST", "/pools/pool-1/resize", json={"targetDedicatedNodes": 2}).status_code == 202


# -- delete ---------------------------------------------------------------------------------------------


def test_delete_pool_then_gone_and_409s_meanwhile(raw, emulator):
    make_pool(raw)
    emulator.advance(10)
    assert raw("DELETE", "/pools/pool-1").status_code == 202
    deleting = pool(raw)
    assert (deleting["state"], deleting["allocationState"]) == ("deleting", "resizing")
    assert {n["state"] for n in nodes(raw).values()} == {"leavingpool"}
    for method, path, body in [
        ("DELETE", "/pools/pool-1", None),
        ("PATCH", "/pools/pool-1", {"metadata": []}),
        ("POST", "/pools/pool-1/updateproperties", {"applicationPackageReferences": [], "metadata": []}),
        ("POST", "/pools/pool-1/resize", {"targetDedicatedNodes": 1}),
        ("POST", "/pools/pool-1/stopresize", None),
        ("POST", "/pools/pool-1/enableautoscale", {"autoScaleFormula": "$TargetDedicatedNodes=1;"}),
        ("POST", "/pools/pool-1/disableautoscale", None),
        ("POST", "/pools/pool-1/removenodes", {"nodeList": ["tvmps_1_d"]}),
        ("POST", "/pools/pool-1/nodes/tvmps_1_d/reboot", {}),
    ]:
        error(raw(method, path, json=body), 409, "PoolBeingDeleted")
    emulator.advance(5)
    error(raw("GET", "/pools/pool-1"), 404, "PoolNotFound")
    assert raw("HEAD", "/pools/pool-1").status_code == 404
    error(raw("GET", "/pools/pool-1/nodes"), 404, "PoolNotFound")
    make_pool(raw)  # the id is free again, with a fresh set of nodes
    emulator.advance(5)
    assert sorted(nodes(raw)) == ["tvmps_1_d", "tvmps_2_d"]


def test_delete_stops_a_resize(raw, emulator):
    make_pool(raw)
    raw("DELETE", "/pools/pool-1")
    emulator.advance(4.5)
    assert nodes(raw) == {}  # the initial sizing never completes


# -- update (PATCH) and replace (updateproperties) ---------------------------------------------------------

START = {"commandLine": "/bin/sh -c 'echo start'"}


def test_patch_changes_only_what_it_names(raw, emulator):
    make_pool(raw, startTask=START, metadata=[{"name": "a", "value": "1"}], targetDedicatedNodes=0)
    before = pool(raw)
    assert raw("PATCH", "/pools/pool-1", json={"metadata": [{"name": "b", "value": "2"}]}).status_code == 200
    after = pool(raw)
    assert after["metadata"] == [{"name": "b", "value": "2"}]
    assert after["startTask"] == START
    assert after["eTag"] != before["eTag"]
    raw("PATCH", "/pools/pool-1", json={"metadata": []})
    assert "metadata" not in pool(raw)
    raw("PATCH", "/pools/pool-1", json={"taskSchedulingPolicy": {"nodeFillType": "pack"}, "taskSlotsPerNode": 4})
    assert (pool(raw)["taskSchedulingPolicy"], pool(raw)["taskSlotsPerNode"]) == ({"nodeFillType": "pack"}, 4)


def test_updateproperties_replaces_all_it_covers(raw, emulator):
    make_pool(raw, startTask=START, metadata=[{"name": "a", "value": "1"}],
              applicationPackageReferences=[{"applicationId": APP + "app-python"}])  # fmt: skip
    body = {"applicationPackageReferences": [], "metadata": [{"name": "c", "value": "3"}]}
    assert raw("POST", "/pools/pool-1/updateproperties", json=body).status_code == 204
    replaced = pool(raw)
    assert replaced["metadata"] == [{"name": "c", "value": "3"}]
    assert "startTask" not in replaced and "applicationPackageReferences" not in replaced
    body = {"applicationPackageReferences": [{"applicationId": APP + "nope"}], "metadata": []}
    error(raw("POST", "/pools/pool-1/updateproperties", json=body), 409, "InvalidApplicationPackageReferences")


def test_patch_of_settings_fixed_while_the_pool_has_nodes(raw, emulator):
    make_pool(raw, targetDedicatedNodes=1)
    emulator.advance(5)
    found = error(raw("PATCH", "/pools/pool-1", json={"vmSize": "standard_d4s_v3"}), 409,
                  "OperationInvalidForCurrentState")  # fmt: skip
    assert {"key": "PropertyName", "value": "vmSize"} in found["values"]
    raw("POST", "/pools/pool-1/resize", json={"targetDedicatedNodes": 0})
    emulator.advance(5)
    assert raw("PATCH", "/pools/pool-1", json={"vmSize": "standard_d4s_v3"}).status_code == 200
    assert pool(raw)["vmSize"] == "standard_d4s_v3"


# -- conditional requests ---------------------------------------------------------------------------------


def test_if_match_guards_reads_and_writes(raw, emulator):
    make_pool(raw, targetDedicatedNodes=0)
    etag = raw("GET", "/pools/pool-1").headers["ETag"]
    assert raw("GET", "/pools/pool-1", headers={"If-Match": etag}).status_code == 200
    error(raw("GET", "/pools/pool-1", headers={"If-Match": "0x8DD0000000000BAD"}), 412, "ConditionNotMet")
    stale = {"If-Match": "0x8DD0000000000BAD"}
    error(raw("PATCH", "/pools/pool-1", json={"metadata": [{"name": "x", "value": "y"}]}, headers=stale),
          412, "ConditionNotMet")  # fmt: skip
    assert "metadata" not in pool(raw)
    assert raw("PATCH", "/pools/pool-1", json={"displayName": "p"}, headers={"If-Match": etag}).status_code == 200
    error(raw("DELETE", "/pools/pool-1", headers={"If-Match": etag}), 412, "ConditionNotMet")  # etag moved on
    error(raw("POST", "/pools/pool-1/resize", json={"targetDedicatedNodes": 1}, headers={"If-None-Match": "*"}),
          412, "ConditionNotMet")  # fmt: skip


def test_if_unmodified_since_guards_delete(raw, emulator):
    make_pool(raw, targetDedicatedNodes=0)
    emulator.advance(60)
    earlier = http_date(datetime(2024, 12, 31, tzinfo=timezone.utc))
    error(raw("DELETE", "/pools/pool-1", headers={"If-Unmodified-Since": earlier}), 412, "ConditionNotMet")
    later = http_date(datetime(2025, 1, 1, 0, 1, tzinfo=timezone.utc))
    assert raw("DELETE", "/pools/pool-1", headers={"If-Unmodified-Since": later}).status_code == 202


def _call(operation_id, path, headers=()):
    return Call(operation_id, "2025-06-01", "GET", path, {"api-version": "2025-06-01"}, Headers.of(headers), None,
                b"", datetime(2025, 1, 1, tzinfo=timezone.utc), "http://127.0.0.1")  # fmt: skip


def test_unchanged_pool_is_304_on_conditional_get():
    """Through the handler, not HTTP: the spec documents no 304 for GetPool, though the service sends it."""
    state = State(account="a", clock=ManualClock())
    create = Call("Pools_CreatePool", "2025-06-01", "POST", {}, {}, Headers.of(()),
                  {"id": "p", "vmSize": "a1", "virtualMachineConfiguration": VM, "targetDedicatedNodes": 0},
                  b"", state.now, "http://127.0.0.1")  # fmt: skip
    reply = pools.create_pool(state, create)
    etag = reply.entity.etag
    with pytest.raises(ServiceError) as caught:
        pools.get_pool(state, _call("Pools_GetPool", {"poolId": "p"}, [("If-None-Match", etag)]))
    assert (caught.value.status, caught.value.code) == (304, "ConditionNotMet")
    since = http_date(state.now + timedelta(seconds=1))
    with pytest.raises(ServiceError) as caught:
        pools.get_pool(state, _call("Pools_GetPool", {"poolId": "p"}, [("If-Modified-Since", since)]))
    assert caught.value.status == 304
    assert pools.get_pool(state, _call("Pools_GetPool", {"poolId": "p"}, [("If-None-Match", "other")])).status == 200


# -- views: $select, $expand=stats, older api-versions ------------------------------------------------------


def test_select_and_stats(raw, emulator):
    make_pool(raw, targetDedicatedNodes=2, vmSize="standard_d4s_v3")
    emulator.advance(5 + 3600)
    assert set(pool(raw, **{"$select": "id,state"})) == {"id", "state", "odata.metadata"}
    stats = pool(raw, **{"$expand": "stats"})["stats"]
    assert stats["usageStats"]["dedicatedCoreTime"] == "PT8H"  # 2 nodes x 4 cores x 1 hour
    assert stats["resourceStats"]["diskReadIOps"] == "0"
    assert "stats" not in pool(raw)
    listed = raw("GET", "/pools", params={"$expand": "stats", "$select": "id,stats"}).json()["value"]
    assert listed[0]["stats"]["usageStats"]["dedicatedCoreTime"] == "PT8H"


def test_older_versions_see_their_certificate_references(raw, emulator):
    reference = {"thumbprint": "0123456789abcdef0123456789abcdef01234567", "thumbprintAlgorithm": "sha1"}
    body = {"id": "old", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VM, "targetDedicatedNodes": 0,
            "certificateReferences": [reference]}  # fmt: skip
    assert raw("POST", "/pools", json=body, api_version="2024-07-01.20.0").status_code == 201
    old = raw("GET", "/pools/old", api_version="2024-07-01.20.0").json()
    assert old["certificateReferences"] == [reference]
    assert "certificateReferences" not in pool(raw, "old")


@pytest.mark.parametrize("version", ["2018-08-01.7.0", "2020-03-01.11.0"])
def test_older_versions_may_create_cloud_service_pools(raw, emulator, version):
    """Their docs ask for a cloud service or a virtual machine configuration, exactly one of them."""
    cloud = {"osFamily": "6"}
    body = {"id": "cs", "vmSize": "small", "cloudServiceConfiguration": cloud, "targetDedicatedNodes": 0}
    assert raw("POST", "/pools", json=body, api_version=version).status_code == 201
    assert raw("GET", "/pools/cs", api_version=version).json()["cloudServiceConfiguration"] == cloud
    assert "cloudServiceConfiguration" not in pool(raw, "cs")  # 2025-06-01 has no cloud service pools
    both = {**body, "id": "both", "virtualMachineConfiguration": {"imageReference": {"publisher": "p", "offer": "o",
            "sku": "s"}, "nodeAgentSKUId": "batch.node.ubuntu 22.04"}}  # fmt: skip
    neither = {k: v for k, v in body.items() if k != "cloudServiceConfiguration"} | {"id": "neither"}
    if version == "2018-08-01.7.0":  # the overlay's rule is mapped onto this version
        error(raw("POST", "/pools", json=both, api_version=version), 400, "InvalidPropertyValue")
        error(raw("POST", "/pools", json=neither, api_version=version), 400, "InvalidPropertyValue")
    else:
        error(raw("POST", "/pools", json=neither, api_version=version), 400, "MissingRequiredProperty")


def test_a_fixed_size_pool_may_name_an_evaluation_interval(raw, emulator):
    """The docs forbid a formula without autoscale, not an interval: the interval goes unused."""
    make_pool(raw, autoScaleEvaluationInterval="PT10M")
    assert "autoScaleEvaluationInterval" not in pool(raw)
    body = {"id": "p2", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VM, "targetDedicatedNodes": 1,
            "autoScaleEvaluationInterval": "PT1M"}  # fmt: skip
    error(raw("POST", "/pools", json=body), 400, "InvalidPropertyValue")  # still 5 minutes..168 hours


# -- through the SDK, with its pollers ---------------------------------------------------------------------


class TestThroughSdkPollers:
    @pytest.fixture
    def clock(self):
        return ManualClock(tick=timedelta(seconds=1))

    def test_resize_stop_and_delete(self, client, emulator):
        from azure.batch import models as m

        client.create_pool(m.BatchPoolCreateOptions(
            id="sdk", vm_size="standard_d2s_v3", target_dedicated_nodes=1,
            virtual_machine_configuration=m.VirtualMachineConfiguration(
                image_reference=m.BatchVmImageReference(**VM["imageReference"]),
                node_agent_sku_id=VM["nodeAgentSKUId"]),
        ))  # fmt: skip
        assert client.pool_exists("sdk") is True
        emulator.advance(10)
        client.begin_resize_pool("sdk", m.BatchPoolResizeOptions(target_dedicated_nodes=3), polling_interval=0).result()
        resized = client.get_pool("sdk")
        assert (resized.allocation_state, resized.current_dedicated_nodes) == (m.AllocationState.STEADY, 3)
        assert len(list(client.list_nodes("sdk"))) == 3
        client.begin_resize_pool("sdk", m.BatchPoolResizeOptions(target_dedicated_nodes=5), polling_interval=0)
        client.begin_stop_pool_resize("sdk", polling_interval=0).result()
        stopped = client.get_pool("sdk")
        assert (stopped.allocation_state, stopped.current_dedicated_nodes) == (m.AllocationState.STEADY, 3)
        assert stopped.resize_errors[0].code == "ResizeStopped"
        client.begin_delete_pool("sdk", polling_interval=0).result()
        # (azure-batch 15.1.0 raises on the 404 of pool_exists instead of returning False)
        with pytest.raises(ResourceNotFoundError):
            client.get_pool("sdk")

    def test_autoscale_through_the_sdk(self, client, emulator):
        from azure.batch import models as m

        client.create_pool(m.BatchPoolCreateOptions(
            id="auto", vm_size="standard_d2s_v3", enable_auto_scale=True,
            auto_scale_formula="$TargetDedicatedNodes = 2;", auto_scale_evaluation_interval=timedelta(minutes=5),
            virtual_machine_configuration=m.VirtualMachineConfiguration(
                image_reference=m.BatchVmImageReference(**VM["imageReference"]),
                node_agent_sku_id=VM["nodeAgentSKUId"]),
        ))  # fmt: skip
        created = client.get_pool("auto")
        assert created.enable_auto_scale and created.auto_scale_run.results.startswith("$TargetDedicatedNodes=2;")
        run = client.evaluate_pool_auto_scale(
            "auto", m.BatchPoolEvaluateAutoScaleOptions(auto_scale_formula="$TargetDedicatedNodes = 5;")
        )
        assert run.results.startswith("$TargetDedicatedNodes=5;")
        client.disable_pool_auto_scale("auto")
        assert client.get_pool("auto").auto_scale_formula is None
