"""The emulator's answers fit each known api-version's own contract.

The emulator keeps its state in the 2025-06-01 shape and projects answers onto the version a
request names (unknown properties dropped, int64 counters retyped, enum values respelled).
A common scenario — pool, job, task, and reading them back — must give 0 findings against
each of the 18 versions (before the projection respelled enums, 2017's two versions had 4).
"""

from __future__ import annotations

from collections import Counter

import pytest

from pytest_batch.spec import SpecLibrary

VM = {
    "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
    "nodeAgentSKUId": "batch.node.ubuntu 22.04",
}


def _scenario(raw, emulator, version: str) -> list[int]:
    def call(method, path, json=None):
        return raw(method, path, json=json, api_version=version).status_code

    statuses = [
        call("POST", "/pools", {"id": "pool-1", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VM,
                                "targetDedicatedNodes": 1}),
        call("POST", "/jobs", {"id": "job-1", "poolInfo": {"poolId": "pool-1"}}),
        call("POST", "/jobs/job-1/tasks", {"id": "task-1", "commandLine": "/bin/sh -c 'echo hi'"}),
    ]
    emulator.advance(120)
    for path in ("/pools/pool-1", "/pools", "/pools/pool-1/nodes", "/jobs/job-1", "/jobs", "/jobs/job-1/tasks",
                 "/jobs/job-1/tasks/task-1", "/jobs/job-1/tasks/task-1/files", "/applications"):
        statuses.append(call("GET", path))
    return statuses


@pytest.mark.parametrize("version", SpecLibrary().versions)
def test_answers_fit_the_version_asked_for(raw, emulator, exchanges, contract, version):
    statuses = _scenario(raw, emulator, version)
    assert all(200 <= s < 300 for s in statuses), str(statuses)
    findings = Counter(
        v.check for interaction in exchanges.items for v in contract.check(interaction).violations
    )
    assert not findings, f"{version}: {dict(findings)}"  # (the conftest repeats this check in detail)
