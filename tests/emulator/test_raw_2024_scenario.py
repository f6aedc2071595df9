"""Every 2024-07-01.20.0 operation over raw HTTP, answered in that version's shapes.

The conftest validates each exchange against 2024-07-01.20.0 (the version the request
names) at teardown; this test checks the statuses and that all 77 operations were covered,
including the certificate operations that 2025-06-01 no longer has.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from pytest_batch.spec import SpecLibrary

V = "2024-07-01.20.0"
VM = {
    "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
    "nodeAgentSKUId": "batch.node.ubuntu 22.04",
    "extensions": [{"name": "ext-1", "publisher": "Microsoft.Azure.Extensions", "type": "CustomScript"}],
}
CERT = "certificates(thumbprintAlgorithm=sha1,thumbprint=0123456789abcdef0123456789abcdef01234567)"


def test_every_2024_operation_over_raw_http(raw, emulator, exchanges, contract):
    def call(method, path, status, json=None, **kw):
        response = raw(method, path, json=json, api_version=V, **kw)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text[:300]}"
        return response

    def later(seconds=60):
        emulator.advance(seconds)

    apps = call("GET", "/applications", 200).json()["value"]
    call("GET", f"/applications/{apps[0]['id']}", 200)
    call("GET", "/supportedimages", 200)
    cert = {"thumbprint": "0123456789abcdef0123456789abcdef01234567", "thumbprintAlgorithm": "sha1",
            "data": base64.b64encode(b"not really a certificate").decode(), "certificateFormat": "cer"}
    call("POST", "/certificates", 201, json=cert)
    call("GET", "/certificates", 200)
    call("GET", f"/{CERT}", 200)
    call("DELETE", f"/{CERT}", 202)
    call("POST", f"/{CERT}/canceldelete", 204)

    call("POST", "/pools", 201, json={"id": "pool-1", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VM,
                                      "targetDedicatedNodes": 2})
    call("HEAD", "/pools/pool-1", 200)
    call("GET", "/pools/pool-1", 200)
    call("GET", "/pools", 200)
    call("PATCH", "/pools/pool-1", 200, json={"metadata": [{"name": "team", "value": "b"}]})
    call("POST", "/pools/pool-1/updateproperties", 204,
         json={"certificateReferences": [], "applicationPackageReferences": [], "metadata": []})
    later()
    call("POST", "/pools/pool-1/resize", 202, json={"targetDedicatedNodes": 3})
    call("POST", "/pools/pool-1/stopresize", 202)
    later()
    nodes = [n["id"] for n in call("GET", "/pools/pool-1/nodes", 200).json()["value"]]
    node, other = nodes[0], nodes[1]
    call("GET", f"/pools/pool-1/nodes/{node}", 200)
    call("GET", "/nodecounts", 200)
    call("GET", "/poolusagemetrics", 200)
    call("POST", "/pools/pool-1/enableautoscale", 200,
         json={"autoScaleFormula": "$TargetDedicatedNodes = 3;", "autoScaleEvaluationInterval": "PT5M"})
    call("POST", "/pools/pool-1/evaluateautoscale", 200, json={"autoScaleFormula": "$TargetDedicatedNodes = 3;"})
    call("POST", "/pools/pool-1/disableautoscale", 200)
    later()
    call("POST", f"/pools/pool-1/nodes/{other}/disablescheduling", 200, json={})
    call("POST", f"/pools/pool-1/nodes/{other}/enablescheduling", 200)
    call("POST", f"/pools/pool-1/nodes/{node}/users", 201, json={"name": "alice", "password": "Passw0rd!"})
    call("PUT", f"/pools/pool-1/nodes/{node}/users/alice", 200, json={"password": "N3wPassw0rd!"})
    call("DELETE", f"/pools/pool-1/nodes/{node}/users/alice", 200)
    call("GET", f"/pools/pool-1/nodes/{node}/remoteloginsettings", 200)
    call("POST", f"/pools/pool-1/nodes/{node}/uploadbatchservicelogs", 200,
         json={"containerUrl": "https://store.blob.core.windows.net/logs", "startTime": "2025-01-01T00:00:00Z"})
    call("GET", f"/pools/pool-1/nodes/{node}/extensions", 200)
    call("GET", f"/pools/pool-1/nodes/{node}/extensions/ext-1", 200)
    call("GET", f"/pools/pool-1/nodes/{node}/files", 200, params={"recursive": "true"})
    call("HEAD", f"/pools/pool-1/nodes/{node}/files/startup/stdout.txt", 200)
    call("GET", f"/pools/pool-1/nodes/{node}/files/startup/stdout.txt", 200)
    call("DELETE", f"/pools/pool-1/nodes/{node}/files/startup/stderr.txt", 200)

    call("POST", "/jobs", 201, json={"id": "job-1", "poolInfo": {"poolId": "pool-1"}, "usesTaskDependencies": True,
                                     "jobPreparationTask": {"commandLine": "/bin/sh -c 'echo prep'"}})
    call("GET", "/jobs/job-1", 200)
    call("GET", "/jobs", 200)
    call("PATCH", "/jobs/job-1", 200, json={"priority": 10})
    call("PUT", "/jobs/job-1", 200, json={"poolInfo": {"poolId": "pool-1"}, "priority": 20})
    call("POST", "/jobs/job-1/tasks", 201, json={"id": "task-1", "commandLine": "/bin/sh -c 'echo hello'"})
    call("POST", "/jobs/job-1/addtaskcollection", 200, json={"value": [
        {"id": "task-2", "commandLine": "/bin/sh -c 'exit 3'"},
        {"id": "task-3", "commandLine": "/bin/true", "dependsOn": {"taskIds": ["task-1"]}}]})
    call("GET", "/jobs/job-1/tasks", 200)
    call("GET", "/jobs/job-1/tasks/task-1", 200)
    call("PUT", "/jobs/job-1/tasks/task-3", 200, json={"constraints": {"maxTaskRetryCount": 1}})
    later(120)
    call("GET", "/jobs/job-1/tasks/task-1/files", 200)
    call("HEAD", "/jobs/job-1/tasks/task-1/files/stdout.txt", 200)
    assert call("GET", "/jobs/job-1/tasks/task-1/files/stdout.txt", 200).content
    call("DELETE", "/jobs/job-1/tasks/task-1/files/stderr.txt", 200)
    call("GET", "/jobs/job-1/tasks/task-1/subtasksinfo", 200)
    call("POST", "/jobs/job-1/tasks/task-2/reactivate", 204)
    call("POST", "/jobs/job-1/tasks/task-2/terminate", 204)
    call("DELETE", "/jobs/job-1/tasks/task-3", 200)
    call("GET", "/jobs/job-1/taskcounts", 200)
    call("GET", "/jobs/job-1/jobpreparationandreleasetaskstatus", 200)
    call("POST", "/jobs/job-1/disable", 202, json={"disableTasks": "requeue"})
    later()
    call("POST", "/jobs/job-1/enable", 202)
    later()
    call("POST", "/jobs/job-1/terminate", 202, json={})
    later()
    call("DELETE", "/jobs/job-1", 202)

    spec = {"poolInfo": {"poolId": "pool-1"}}
    call("POST", "/jobschedules", 201, json={"id": "sched-1", "schedule": {"recurrenceInterval": "PT1H"},
                                             "jobSpecification": spec})
    call("HEAD", "/jobschedules/sched-1", 200)
    call("GET", "/jobschedules/sched-1", 200)
    call("GET", "/jobschedules", 200)
    call("PATCH", "/jobschedules/sched-1", 200, json={"metadata": [{"name": "k", "value": "v"}]})
    call("PUT", "/jobschedules/sched-1", 200, json={"schedule": {"recurrenceInterval": "PT2H"},
                                                    "jobSpecification": spec})
    call("POST", "/jobschedules/sched-1/disable", 204)
    call("POST", "/jobschedules/sched-1/enable", 204)
    call("GET", "/jobschedules/sched-1/jobs", 200)
    call("POST", "/jobschedules/sched-1/terminate", 202)
    later()
    call("DELETE", "/jobschedules/sched-1", 202)

    call("POST", f"/pools/pool-1/nodes/{node}/reboot", 202, json={})
    later()
    call("POST", f"/pools/pool-1/nodes/{node}/reimage", 202, json={})
    later()
    call("POST", f"/pools/pool-1/nodes/{node}/deallocate", 202, json={})
    later()
    call("POST", f"/pools/pool-1/nodes/{node}/start", 202)
    later()
    call("POST", "/pools/pool-1/removenodes", 202, json={"nodeList": [other]})
    later()
    call("DELETE", "/pools/pool-1", 202)

    covered = {contract.check(i).operation_id for i in exchanges.items if urlsplit(i.url).query.find(V) >= 0}
    assert set(SpecLibrary().get(V).operations) - covered == set()
