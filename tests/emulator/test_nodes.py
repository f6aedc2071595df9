"""Compute nodes: the documents, every node operation with its state rule and 409s, user
accounts, remote login, service logs, extensions and files.

Default timing on a manual clock: a node is `starting` for 5 s after it joins; reboot, reimage,
deallocate and start each take 5 s. `TestThroughSdkPollers` runs the SDK's pollers on a clock
that ticks a second per request.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pytest_batch.emulator import ManualClock
from pytest_batch.emulator.state import http_date

LINUX = {
    "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
    "nodeAgentSKUId": "batch.node.ubuntu 22.04",
    "extensions": [
        {"name": "ext-1", "publisher": "Microsoft.Azure.Extensions", "type": "CustomScript",
         "typeHandlerVersion": "2.1", "settings": {"commandToExecute": "echo hi"},
         "protectedSettings": {"storageAccountKey": "s3cr3t"}},
        {"name": "monitor", "publisher": "Microsoft.Azure.Monitor", "type": "AzureMonitorLinuxAgent"},
    ],
}  # fmt: skip
WINDOWS = {
    "imageReference": {"publisher": "microsoftwindowsserver", "offer": "windowsserver", "sku": "2022-datacenter"},
    "nodeAgentSKUId": "batch.node.windows amd64",
}
NODE = "tvmps_1_d"
OTHER = "tvmps_2_d"


@pytest.fixture
def pool(raw, emulator):
    """pool-1: two idle Linux nodes with a start task."""
    body = {"id": "pool-1", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": LINUX,
            "targetDedicatedNodes": 2, "startTask": {"commandLine": "/bin/sh -c 'echo ready'"}}  # fmt: skip
    assert raw("POST", "/pools", json=body).status_code == 201
    emulator.advance(10)
    return "pool-1"


def node(raw, node_id=NODE, pool_id="pool-1"):
    response = raw("GET", f"/pools/{pool_id}/nodes/{node_id}")
    assert response.status_code == 200, response.text
    return response.json()


def post(raw, node_id, action, body=None):
    return raw("POST", f"/pools/pool-1/nodes/{node_id}/{action}", json=body)


def error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    return response.json()


# -- documents --------------------------------------------------------------------------------------


def test_node_document(raw, pool):
    found = node(raw)
    assert found["url"].endswith("/pools/pool-1/nodes/tvmps_1_d")
    assert (found["state"], found["schedulingState"], found["isDedicated"]) == ("idle", "enabled", True)
    for counter in ("runningTasksCount", "runningTaskSlotsCount", "totalTasksRun", "totalTasksSucceeded"):
        assert found[counter] == 0
    assert found["affinityId"] == "TVM:tvmps_1_d"
    assert found["vmSize"] == "standard_d2s_v3"
    assert found["virtualMachineInfo"]["imageReference"]["offer"] == "0001-com-ubuntu-server-jammy"
    assert found["startTask"]["commandLine"] == "/bin/sh -c 'echo ready'"
    assert (found["startTaskInfo"]["state"], found["startTaskInfo"]["exitCode"]) == ("completed", 0)
    assert found["endpointConfiguration"]["inboundEndpoints"][0]["backendPort"] == 22
    assert found["lastBootTime"] > found["allocationTime"]  # it booted when it finished starting


def test_list_get_filter_select(raw, pool):
    listed = raw("GET", "/pools/pool-1/nodes", params={"$filter": "id eq 'tvmps_2_d'", "$select": "id,state"})
    assert listed.json()["value"] == [{"id": OTHER, "state": "idle"}]
    assert set(raw("GET", f"/pools/pool-1/nodes/{NODE}", params={"$select": "id"}).json()) == {"id", "odata.metadata"}
    assert node(raw, "TVMPS_1_D")["id"] == NODE  # ids are case-insensitive
    error(raw("GET", "/pools/pool-1/nodes/tvmps_9_d"), 404, "NodeNotFound")
    error(raw("GET", "/pools/nope/nodes"), 404, "PoolNotFound")


# -- reboot, reimage, deallocate, start -------------------------------------------------------------------


def test_reboot(raw, emulator, pool):
    booted = node(raw)["lastBootTime"]
    assert post(raw, NODE, "reboot", {"nodeRebootOption": "terminate"}).status_code == 202
    assert node(raw)["state"] == "rebooting"
    error(post(raw, NODE, "reboot", {}), 409, "NodeBeingRebooted")
    error(post(raw, NODE, "reimage", {}), 409, "NodeBeingRebooted")
    emulator.advance(5)
    after = node(raw)
    assert after["state"] == "idle" and after["lastBootTime"] > booted


def test_reimage_restores_the_disk(raw, emulator, pool):
    assert raw("DELETE", f"/pools/pool-1/nodes/{NODE}/files/startup/stdout.txt").status_code == 200
    post(raw, NODE, "users", {"name": "alice", "password": "Passw0rd!"})
    assert post(raw, NODE, "reimage", {"nodeReimageOption": "requeue"}).status_code == 202
    assert node(raw)["state"] == "reimaging"
    error(post(raw, NODE, "deallocate", {}), 409, "NodeBeingReimaged")
    emulator.advance(5)
    assert node(raw)["state"] == "idle"
    assert raw("GET", f"/pools/pool-1/nodes/{NODE}/files/startup/stdout.txt").status_code == 200
    assert raw("DELETE", f"/pools/pool-1/nodes/{NODE}/users/alice").status_code == 404  # accounts are gone


def test_deallocate_then_start(raw, emulator, pool):
    error(post(raw, NODE, "start"), 409, "OperationInvalidForCurrentState")  # only a deallocated node starts
    assert post(raw, NODE, "deallocate", {"nodeDeallocateOption": "taskcompletion"}).status_code == 202
    assert node(raw)["state"] == "deallocating"
    emulator.advance(5)
    assert node(raw)["state"] == "deallocated"
    found = error(post(raw, NODE, "reboot", {}), 409, "OperationInvalidForCurrentState")
    assert {"key": "NodeState", "value": "deallocated"} in found["values"]
    error(post(raw, NODE, "reimage", {}), 409, "OperationInvalidForCurrentState")
    error(post(raw, NODE, "deallocate", {}), 409, "OperationInvalidForCurrentState")
    assert post(raw, NODE, "start").status_code == 202
    assert node(raw)["state"] == "starting"
    error(post(raw, NODE, "start"), 409, "NodeBeingStarted")
    emulator.advance(5)
    assert node(raw)["state"] == "idle"


def test_a_starting_node_takes_no_actions(raw, emulator):
    raw("POST", "/pools", json={"id": "pool-1", "vmSize": "a1", "virtualMachineConfiguration": LINUX,
                                "targetDedicatedNodes": 1})  # fmt: skip
    emulator.advance(5)
    assert node(raw)["state"] == "starting"
    error(post(raw, NODE, "reboot", {}), 409, "NodeBeingStarted")
    error(post(raw, NODE, "users", {"name": "bob", "password": "x"}), 409, "NodeBeingStarted")


def test_node_actions_wait_for_tasks_with_taskcompletion(raw, emulator, pool):
    raw("POST", "/jobs", json={"id": "job-1", "poolInfo": {"poolId": "pool-1"}})
    raw("POST", "/jobs/job-1/tasks", json={"id": "long", "commandLine": "/bin/sh -c 'sleep 60'"})
    emulator.advance(2)
    busy = next(n for n in raw("GET", "/pools/pool-1/nodes").json()["value"] if n["runningTasksCount"])
    post(raw, busy["id"], "reboot", {"nodeRebootOption": "taskcompletion"})
    emulator.advance(30)
    assert node(raw, busy["id"])["state"] == "rebooting"  # still finishing its task
    emulator.advance(60)
    assert node(raw, busy["id"])["state"] == "idle"
    assert raw("GET", "/jobs/job-1/tasks/long").json()["state"] == "completed"


def test_reboot_with_requeue_puts_the_task_back(raw, emulator, pool):
    raw("POST", "/jobs", json={"id": "job-1", "poolInfo": {"poolId": "pool-1"}})
    raw("POST", "/jobs/job-1/tasks", json={"id": "long", "commandLine": "/bin/sh -c 'sleep 60'"})
    emulator.advance(2)
    busy = next(n for n in raw("GET", "/pools/pool-1/nodes").json()["value"] if n["runningTasksCount"])
    post(raw, busy["id"], "reboot", {"nodeRebootOption": "requeue"})
    assert node(raw, busy["id"])["runningTasksCount"] == 0
    assert raw("GET", "/jobs/job-1/tasks/long").json()["state"] in ("active", "running")


# -- scheduling -------------------------------------------------------------------------------------------


def test_scheduling_state(raw, pool):
    error(post(raw, NODE, "enablescheduling"), 409, "NodeAlreadyInTargetSchedulingState")
    assert post(raw, NODE, "disablescheduling", {"nodeDisableSchedulingOption": "taskcompletion"}).status_code == 200
    assert node(raw)["schedulingState"] == "disabled"
    error(post(raw, NODE, "disablescheduling", {}), 409, "NodeAlreadyInTargetSchedulingState")
    assert post(raw, NODE, "enablescheduling").status_code == 200
    assert node(raw)["schedulingState"] == "enabled"


def test_a_node_with_scheduling_disabled_gets_no_tasks(raw, emulator, pool):
    post(raw, NODE, "disablescheduling", {})
    raw("POST", "/jobs", json={"id": "job-1", "poolInfo": {"poolId": "pool-1"}})
    for n in range(2):
        raw("POST", "/jobs/job-1/tasks", json={"id": f"t{n}", "commandLine": "/bin/sh -c 'sleep 30'"})
    emulator.advance(2)
    assert node(raw)["runningTasksCount"] == 0
    assert node(raw, OTHER)["runningTasksCount"] == 1


# -- users -----------------------------------------------------------------------------------------------


def test_user_accounts(raw, emulator, exchanges, pool):
    created = post(raw, NODE, "users", {"name": "alice", "password": "Passw0rd!", "isAdmin": True})
    assert created.status_code == 201
    assert created.headers["DataServiceId"].endswith("/nodes/tvmps_1_d/users/alice")
    error(post(raw, NODE, "users", {"name": "ALICE", "password": "other"}), 409, "NodeUserExists")
    assert post(raw, OTHER, "users", {"name": "alice", "sshPublicKey": "ssh-rsa AAAA"}).status_code == 201
    replaced = raw("PUT", f"/pools/pool-1/nodes/{NODE}/users/alice", json={"password": "N3wPassw0rd!"})
    assert replaced.status_code == 200
    error(raw("PUT", f"/pools/pool-1/nodes/{NODE}/users/bob", json={"password": "x"}), 404, "NodeUserNotFound")
    assert raw("DELETE", f"/pools/pool-1/nodes/{NODE}/users/Alice").status_code == 200
    error(raw("DELETE", f"/pools/pool-1/nodes/{NODE}/users/alice"), 404, "NodeUserNotFound")
    # no response ever carries a password
    assert not any(b"Passw0rd" in (i.response_body or b"") for i in exchanges.items)


def test_user_rules(raw, emulator, pool):
    raw("POST", "/pools", json={"id": "win", "vmSize": "a1", "virtualMachineConfiguration": WINDOWS,
                                "targetDedicatedNodes": 1})  # fmt: skip
    emulator.advance(10)
    win = "/pools/win/nodes/tvmps_1_d/users"
    error(raw("POST", win, json={"name": "u", "password": "p", "sshPublicKey": "ssh-rsa A"}), 400,
          "InvalidPropertyValue")  # fmt: skip
    error(raw("POST", win, json={"name": "u"}), 400, "MissingRequiredProperty")
    assert raw("POST", win, json={"name": "u", "password": "p"}).status_code == 201
    post(raw, NODE, "deallocate", {})
    emulator.advance(5)
    error(post(raw, NODE, "users", {"name": "carol", "password": "p"}), 409, "OperationInvalidForCurrentState")


# -- remote login, logs, extensions -------------------------------------------------------------------------


def test_remote_login_settings_are_the_nodes_endpoint(raw, pool):
    endpoint = node(raw, OTHER)["endpointConfiguration"]["inboundEndpoints"][0]
    settings = raw("GET", f"/pools/pool-1/nodes/{OTHER}/remoteloginsettings").json()
    assert settings["remoteLoginIPAddress"] == endpoint["publicIPAddress"]
    assert settings["remoteLoginPort"] == endpoint["frontendPort"] == 50002


def test_upload_logs(raw, emulator, pool):
    emulator.advance(2 * 3600)
    body = {"containerUrl": "https://store.blob.core.windows.net/logs?sig=x", "startTime": "2024-12-31T00:00:00Z"}
    result = post(raw, NODE, "uploadbatchservicelogs", body).json()
    assert result["virtualDirectoryName"].startswith("pool-1/tvmps-1-d/")
    assert result["numberOfFilesUploaded"] == 3  # the node has been up for 2 hours and 5 seconds
    later = {**body, "startTime": "2025-01-01T01:30:00Z", "endTime": "2025-01-01T02:00:00Z"}
    assert post(raw, NODE, "uploadbatchservicelogs", later).json()["numberOfFilesUploaded"] == 1
    before = {**body, "startTime": "2024-01-01T00:00:00Z", "endTime": "2024-02-01T00:00:00Z"}
    assert post(raw, NODE, "uploadbatchservicelogs", before).json()["numberOfFilesUploaded"] == 0


def test_extensions_come_from_the_pool(raw, pool):
    listed = raw("GET", f"/pools/pool-1/nodes/{NODE}/extensions").json()["value"]
    assert [e["vmExtension"]["name"] for e in listed] == ["ext-1", "monitor"]
    assert all(e["provisioningState"] == "Succeeded" for e in listed)
    assert "protectedSettings" not in listed[0]["vmExtension"]  # never shown
    assert listed[0]["vmExtension"]["settings"] == {"commandToExecute": "echo hi"}
    one = raw("GET", f"/pools/pool-1/nodes/{NODE}/extensions/MONITOR").json()
    assert one["instanceView"]["statuses"][0]["code"] == "ProvisioningState/succeeded"
    error(raw("GET", f"/pools/pool-1/nodes/{NODE}/extensions/nope"), 404, "ResourceNotFound")
    page = raw("GET", f"/pools/pool-1/nodes/{NODE}/extensions", params={"maxresults": 1}).json()
    assert len(page["value"]) == 1 and "odata.nextLink" in page


# -- files ---------------------------------------------------------------------------------------------


def _add_files(emulator):
    from pytest_batch.emulator.model import StoredFile

    table = emulator.state.nodes_of("pool-1")
    now = emulator.state.now
    files = table.get(NODE).extra["files"]
    files["workitems/job-1/job-1/t1/stdout.txt"] = StoredFile(b"0123456789", now, now)
    files["shared/data.bin"] = StoredFile(b"\x00\x01", now, now, "0o100755")


def test_list_files(raw, emulator, pool):
    _add_files(emulator)
    top = raw("GET", f"/pools/pool-1/nodes/{NODE}/files").json()["value"]
    assert [(f["name"], f["isDirectory"]) for f in top] == [("shared", True), ("startup", True), ("workitems", True)]
    every = raw("GET", f"/pools/pool-1/nodes/{NODE}/files", params={"recursive": "true"}).json()["value"]
    files = {f["name"]: f for f in every if not f["isDirectory"]}
    assert sorted(files) == ["shared/data.bin", "startup/stderr.txt", "startup/stdout.txt",
                             "workitems/job-1/job-1/t1/stdout.txt"]  # fmt: skip
    assert "workitems/job-1/job-1" in {f["name"] for f in every if f["isDirectory"]}
    stdout = files["startup/stdout.txt"]
    assert stdout["url"].endswith("/nodes/tvmps_1_d/files/startup/stdout.txt")
    assert stdout["properties"]["contentLength"] == str(len(b"/bin/sh -c 'echo ready'\n"))
    assert files["shared/data.bin"]["properties"]["fileMode"] == "0o100755"
    filtered = raw("GET", f"/pools/pool-1/nodes/{NODE}/files",
                   params={"recursive": "true", "$filter": "startswith(name,'startup')"}).json()["value"]  # fmt: skip
    assert [f["name"] for f in filtered] == ["startup", "startup/stderr.txt", "startup/stdout.txt"]


def test_get_file_and_its_properties(raw, emulator, pool):
    _add_files(emulator)
    path = f"/pools/pool-1/nodes/{NODE}/files/workitems/job-1/job-1/t1/stdout.txt"
    got = raw("GET", path)
    assert got.status_code == 200 and got.content == b"0123456789"
    assert got.headers["Content-Length"] == "10"
    assert got.headers["ocp-batch-file-isdirectory"] == "false"
    assert got.headers["ocp-batch-file-url"].endswith("/files/workitems/job-1/job-1/t1/stdout.txt")
    assert got.headers["ocp-batch-file-mode"] == "0o100644"
    assert got.headers["ocp-creation-time"] == got.headers["Last-Modified"] == http_date(emulator.state.now)
    head = raw("HEAD", path)
    assert head.status_code == 200 and head.content == b""
    assert (head.headers["Content-Length"], head.headers["ETag"]) == ("10", got.headers["ETag"])
    assert raw("GET", path, headers={"ocp-range": "bytes=2-4"}).content == b"234"
    assert raw("GET", path, headers={"ocp-range": "bytes=7-"}).content == b"789"
    error(raw("GET", path, headers={"ocp-range": "bytes=-3"}), 400, "InvalidHeaderValue")  # docs: bytes=start-end
    error(raw("GET", path, headers={"ocp-range": "bytes=20-30"}), 416, "InvalidRange")
    later = http_date(emulator.state.now + timedelta(hours=1))
    error(raw("GET", path, headers={"If-Unmodified-Since": http_date(datetime(2024, 1, 1, tzinfo=timezone.utc))}),
          412, "ConditionNotMet")  # fmt: skip
    assert raw("GET", path, headers={"If-Unmodified-Since": later}).status_code == 200
    folder = raw("HEAD", f"/pools/pool-1/nodes/{NODE}/files/workitems/job-1")
    assert (folder.status_code, folder.headers["ocp-batch-file-isdirectory"]) == (200, "true")
    error(raw("GET", f"/pools/pool-1/nodes/{NODE}/files/nope.txt"), 404, "FileNotFound")
    assert raw("HEAD", f"/pools/pool-1/nodes/{NODE}/files/nope.txt").status_code == 404


def test_delete_files(raw, emulator, pool):
    _add_files(emulator)
    base = f"/pools/pool-1/nodes/{NODE}/files"
    assert raw("DELETE", f"{base}/shared/data.bin").status_code == 200
    error(raw("DELETE", f"{base}/shared/data.bin"), 404, "FileNotFound")
    error(raw("DELETE", f"{base}/workitems"), 409, "OperationInvalidForCurrentState")
    assert raw("DELETE", f"{base}/workitems", params={"recursive": "true"}).status_code == 200
    names = [f["name"] for f in raw("GET", base, params={"recursive": "true"}).json()["value"]]
    assert names == ["startup", "startup/stderr.txt", "startup/stdout.txt"]


def test_windows_nodes_show_no_file_mode(raw, emulator):
    raw("POST", "/pools", json={"id": "win", "vmSize": "a1", "virtualMachineConfiguration": WINDOWS,
                                "targetDedicatedNodes": 1})  # fmt: skip
    emulator.advance(10)
    listed = raw("GET", "/pools/win/nodes/tvmps_1_d/files", params={"recursive": "true"}).json()["value"]
    assert all("fileMode" not in f.get("properties", {}) for f in listed)
    assert "ocp-batch-file-mode" not in raw("HEAD", "/pools/win/nodes/tvmps_1_d/files/startup/stdout.txt").headers
    assert raw("GET", "/pools/win/nodes/tvmps_1_d").json()["endpointConfiguration"]["inboundEndpoints"][0][
        "backendPort"] == 3389  # fmt: skip


def test_older_versions_get_integer_lengths(raw, pool):
    listed = raw("GET", f"/pools/pool-1/nodes/{NODE}/files", params={"recursive": "true"},
                 api_version="2024-07-01.20.0").json()["value"]  # fmt: skip
    assert {type(f["properties"]["contentLength"]) for f in listed if not f["isDirectory"]} == {int}


# -- through the SDK, with its pollers --------------------------------------------------------------------


class TestThroughSdkPollers:
    @pytest.fixture
    def clock(self):
        return ManualClock(tick=timedelta(seconds=1))

    def test_node_power_cycle(self, client, emulator, pool):
        from azure.batch import models as m

        # (azure-batch 15.1.0 cannot send these actions without options, and does not export their models)
        client.begin_reboot_node("pool-1", NODE, {"nodeRebootOption": "requeue"}, polling_interval=0).result()
        assert client.get_node("pool-1", NODE).state == m.BatchNodeState.IDLE
        client.begin_reimage_node("pool-1", NODE, {"nodeReimageOption": "requeue"}, polling_interval=0).result()
        assert client.get_node("pool-1", NODE).state == m.BatchNodeState.IDLE
        client.begin_deallocate_node("pool-1", NODE, {"nodeDeallocateOption": "requeue"}, polling_interval=0).result()
        assert client.get_node("pool-1", NODE).state == m.BatchNodeState.DEALLOCATED
        client.begin_start_node("pool-1", NODE, polling_interval=0).result()
        assert client.get_node("pool-1", NODE).state == m.BatchNodeState.IDLE
        client.begin_remove_nodes("pool-1", m.BatchNodeRemoveOptions(node_ids=[OTHER]), polling_interval=0).result()
        assert [n.id for n in client.list_nodes("pool-1")] == [NODE]

    def test_users_files_and_settings(self, client, emulator, pool):
        from azure.batch import models as m

        client.create_node_user("pool-1", NODE, m.BatchNodeUserCreateOptions(name="alice", password="Passw0rd!"))
        client.replace_node_user("pool-1", NODE, "alice", m.BatchNodeUserReplaceOptions(password="N3w!"))
        client.delete_node_user("pool-1", NODE, "alice")
        client.disable_node_scheduling(
            "pool-1", NODE, m.BatchNodeDisableSchedulingOptions(node_disable_scheduling_option="requeue")
        )
        assert client.get_node("pool-1", NODE).scheduling_state == m.SchedulingState.DISABLED
        client.enable_node_scheduling("pool-1", NODE)
        settings = client.get_node_remote_login_settings("pool-1", NODE)
        assert (settings.remote_login_port, settings.remote_login_ip_address.count(".")) == (50001, 3)
        names = [f.name for f in client.list_node_files("pool-1", NODE, recursive=True)]
        assert "startup/stdout.txt" in names
        assert b"".join(client.download_node_file("pool-1", NODE, "startup/stdout.txt")) == b"/bin/sh -c 'echo ready'\n"
        properties = client.get_node_file_properties("pool-1", NODE, "startup/stdout.txt")
        assert properties is None or properties  # the SDK returns the headers through `cls` only
        client.delete_node_file("pool-1", NODE, "startup/stderr.txt")
        extension = client.get_node_extension("pool-1", NODE, "ext-1")
        assert extension.vm_extension.type == "CustomScript"
