"""`pytest-batch drift`: the spec-level diff of two api-versions and what the same traffic would break.

The reference cassettes (2025-06-01 traffic, every operation) are compared with 2018-08-01.7.0: the
operations that exist in only one version, the definitions paired across the 2025 renames, the properties
removed, renamed or moved, enum and required changes, and per interaction what would break. Properties of
the diff itself (a version against itself, baseline and target swapped, one planted change) are checked
with Hypothesis on the real bundles.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_batch.cli import main
from pytest_batch.drift import DriftRun, PropertyChange, diff_specs, spec_diff_document
from pytest_batch.readers import read_recording
from pytest_batch.spec import SpecLibrary, spec_from_bundle

REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes" / "test_azure_batch_sdk"
NEW, OLD = "2025-06-01", "2018-08-01.7.0"
LIBRARY = SpecLibrary()
ONLY_2025 = {
    "Pools_ListSupportedImages": ("GET", "/supportedimages"),
    "Nodes_StartNode": ("POST", "/pools/{poolId}/nodes/{nodeId}/start"),
    "Nodes_DeallocateNode": ("POST", "/pools/{poolId}/nodes/{nodeId}/deallocate"),
    "Nodes_ListNodeExtensions": ("GET", "/pools/{poolId}/nodes/{nodeId}/extensions"),
    "Nodes_GetNodeExtension": ("GET", "/pools/{poolId}/nodes/{nodeId}/extensions/{extensionName}"),
}
ONLY_2018 = {
    "Certificate_Add", "Certificate_List", "Certificate_Get", "Certificate_Delete", "Certificate_CancelDeletion",
    "Account_ListNodeAgentSkus", "Job_GetAllLifetimeStatistics", "Pool_GetAllLifetimeStatistics",
    "ComputeNode_GetRemoteDesktop", "Pool_UpgradeOS",
}  # fmt: skip


@pytest.fixture(scope="module")
def new_to_old():
    return diff_specs(LIBRARY.get(NEW), LIBRARY.get(OLD))


def _changes(diff, kind):
    return {(c.baseline_definition, c.property, c.to) for c in diff.properties if c.change == kind}


def test_operations_only_in_one_version(new_to_old):
    only_new = {p.baseline: (p.method, p.path) for p in new_to_old.operations if p.target is None}
    only_old = {p.target for p in new_to_old.operations if p.baseline is None}
    assert only_new == ONLY_2025
    assert only_old == ONLY_2018
    both = [p for p in new_to_old.operations if p.baseline and p.target]
    assert len(both) == 72 - 5 == 77 - 10
    pairs = {(p.baseline, p.target) for p in both}  # paired by method + path, whatever the ids say
    assert {
        ("Jobs_CreateJob", "Job_Add"),
        ("Pools_CreatePool", "Pool_Add"),
        ("Nodes_GetNode", "ComputeNode_Get"),
    } <= pairs


def test_definitions_pair_across_the_2025_renames(new_to_old):
    mapping = new_to_old.definitions
    assert mapping["BatchJobCreateOptions"] == "JobAddParameter"
    assert (
        mapping["BatchJob"] == "CloudJob"
        and mapping["BatchPool"] == "CloudPool"
        and mapping["BatchNode"] == "ComputeNode"
    )
    assert mapping["BatchJobExecutionInfo"] == "JobExecutionInformation"  # through a single-allOf property
    assert mapping["ResourceFile"] == "ResourceFile"
    assert "BatchSupportedImage" in new_to_old.definitions_only_in_baseline
    assert {"Certificate", "CertificateAddParameter", "NodeAgentSku"} <= set(new_to_old.definitions_only_in_target)


def test_properties_removed_renamed_and_moved(new_to_old):
    renamed = _changes(new_to_old, "renamed")
    assert ("BatchPool", "taskSlotsPerNode", "maxTasksPerNode") in renamed  # alike names, same shape
    assert ("BatchPoolCreateOptions", "taskSlotsPerNode", "maxTasksPerNode") in renamed
    assert ("ResourceFile", "httpUrl", "blobSource") in renamed  # the documented rename table
    moved = _changes(new_to_old, "moved")
    assert ("DataDisk", "managedDisk", "storageAccountType") in moved
    assert ("BatchTaskCountsResult", "taskCounts", "active, completed, failed, running, succeeded") in moved
    removed = {(d, p) for d, p, _ in _changes(new_to_old, "removed")}
    assert {("BatchJob", "allowTaskPreemption"), ("BatchPool", "upgradePolicy"), ("BatchNode", "ipv6Address"),
            ("ResourceFile", "storageContainerUrl"), ("BatchPoolCreateOptions", "mountConfiguration")} <= removed  # fmt: skip
    assert ("ResourceFile", "blobPrefix") in removed  # not taken for blobSource: the table pairs httpUrl first
    added = {(d, p) for d, p, _ in _changes(new_to_old, "added")}
    assert ("CloudPool", "cloudServiceConfiguration") in {(c.target_definition, c.property) for c in new_to_old.properties
                                                          if c.change == "added"}  # fmt: skip
    assert not added & removed


def test_reverse_direction_mirrors_the_renames():
    old_to_new = diff_specs(LIBRARY.get(OLD), LIBRARY.get(NEW))
    renamed = _changes(old_to_new, "renamed")
    assert {("CloudPool", "maxTasksPerNode", "taskSlotsPerNode"), ("ResourceFile", "blobSource", "httpUrl")} <= renamed
    assert ("DataDisk", "storageAccountType", "managedDisk/storageAccountType") in _changes(old_to_new, "moved")
    assert ("TaskCounts", "active", "taskCounts/active") in _changes(old_to_new, "moved")
    assert old_to_new.definitions["JobAddParameter"] == "BatchJobCreateOptions"


def test_enum_required_and_parameter_changes(new_to_old):
    enums = {(e.baseline_definition, e.property): (set(e.removed), set(e.added)) for e in new_to_old.enums}
    assert {"deallocated", "deallocating"} <= enums[("BatchNode", "state")][0]
    assert enums[("BatchPool", "state")] == (set(), {"upgrading"})
    required = {(r.target_definition, r.property): r.side for r in new_to_old.required}
    assert required[("PoolUsageMetrics", "dataEgressGiB")] == "response"
    assert required[("PoolUpdatePropertiesParameter", "certificateReferences")] == "request"
    params = {(p.change, p.baseline_operation, p.name) for p in new_to_old.parameters}
    assert ("removed", "Jobs_DeleteJob", "force") in params


@pytest.mark.parametrize("version", [NEW, OLD, "2022-01-01.15.0"])
def test_a_version_against_itself_has_no_drift(version):
    spec = LIBRARY.get(version)
    diff = diff_specs(spec, spec)
    assert all(p.baseline == p.target for p in diff.operations)
    assert all(a == b for a, b in diff.definitions.items()) and len(diff.definitions) == len(spec.definitions)
    assert not (diff.properties or diff.required or diff.enums or diff.parameters)


def test_swapping_baseline_and_target_swaps_what_is_only_in_one(new_to_old):
    back = spec_diff_document(diff_specs(LIBRARY.get(OLD), LIBRARY.get(NEW)))
    there = spec_diff_document(new_to_old)
    key = lambda ops: {(o["method"], o["path"].lower()) for o in ops}
    assert key(back["operations_only_in_target"]) == key(there["operations_only_in_baseline"])
    assert key(back["operations_only_in_baseline"]) == key(there["operations_only_in_target"])


_BUNDLE = LIBRARY.get(NEW).bundle
_WITH_PROPERTIES = sorted(
    (name, prop) for name, definition in _BUNDLE["definitions"].items() for prop in (definition.get("properties") or {})
)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(_WITH_PROPERTIES))
def test_one_planted_removal_is_exactly_what_the_diff_reports(target):
    """Delete one property from a copy of the 2025-06-01 bundle: the diff names it, and nothing else."""
    name, prop = target
    bundle = copy.deepcopy(dict(_BUNDLE))
    definition = bundle["definitions"][name]
    del definition["properties"][prop]
    if prop in (definition.get("required") or []):
        definition["required"] = [r for r in definition["required"] if r != prop]
    diff = diff_specs(LIBRARY.get(NEW), spec_from_bundle(bundle))
    assert diff.properties == (PropertyChange("removed", name, name, prop),)
    assert not (diff.required or diff.enums or diff.parameters)


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(_WITH_PROPERTIES), st.sampled_from(["Renamed", "V2", "s"]))
@example(("AutoScaleRun", "error"), "Renamed")  # found by Hypothesis: too short for the ratio alone
def test_a_planted_rename_is_reported_as_a_rename(target, suffix):
    """Rename one property in a copy of the 2025-06-01 bundle: the diff reports that rename and nothing else
    for the definition."""
    name, prop = target
    bundle = copy.deepcopy(dict(_BUNDLE))
    properties = bundle["definitions"][name]["properties"]
    properties[prop + suffix] = properties.pop(prop)
    required = bundle["definitions"][name].get("required") or []
    bundle["definitions"][name]["required"] = [r + suffix if r == prop else r for r in required]
    diff = diff_specs(LIBRARY.get(NEW), spec_from_bundle(bundle))
    changes = [c for c in diff.properties if c.baseline_definition == name]
    assert changes == [PropertyChange("renamed", name, name, prop, prop + suffix)]


# -- per interaction -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drift_document():
    run = DriftRun(LIBRARY, [NEW, OLD])
    for path in sorted(CASSETTES.glob("*.yaml")):
        run.files += 1
        for item in read_recording(path):
            run.add(item)
    return run, run.document()


def test_the_reference_traffic_on_2018(drift_document):
    run, doc = drift_document
    assert run.exit_code() == 1
    [c] = doc["comparisons"]
    assert doc["input"]["batch"] == c["interactions"]["checked"] == 159
    gone = {g["operation_id"]: (g["method"], g["path"]) for g in c["operations_gone"]}
    assert gone == ONLY_2025  # the reference traffic calls every 2025 operation, so all five are gone
    assert all(g["calls"] >= 1 and g["first_source"].startswith(str(CASSETTES)) for g in c["operations_gone"])
    assert c["interactions"]["breaking"] >= len(ONLY_2025) + 1
    new = {
        (f["check"], f["operation_id"], f["target_operation_id"], f["instance_pointer"]): f for f in c["new_findings"]
    }
    renamed = new[("undocumented_property", "Pools_GetPool", "Pool_Get", "/taskSlotsPerNode")]
    assert renamed["note"] == f"renamed to maxTasksPerNode in {OLD}" and renamed["severity"] == "warning"
    removed = new[("undocumented_property", "Jobs_GetJob", "Job_Get", "/allowTaskPreemption")]
    assert removed["note"] == f"removed in {OLD}"
    enum = new[("response_schema_conformance", "Nodes_GetNode", "ComputeNode_Get", "/state")]
    assert enum["severity"] == "error" and "deallocat" in enum["message"]
    listed = {(i["method"], i["path"]) for i in c["breaking_interactions"]}
    assert ("GET", "/supportedimages") in listed
    assert c["fixed_findings"] == []  # 2018 documents nothing the 2025 traffic broke


def test_the_same_version_twice_breaks_nothing():
    run = DriftRun(LIBRARY, [NEW, NEW])
    for item in read_recording(CASSETTES / "test_pools.yaml"):
        run.add(item)
    [c] = run.document()["comparisons"]
    assert c["interactions"]["breaking"] == c["interactions"]["warnings_only"] == 0
    assert c["new_findings"] == c["operations_gone"] == []
    assert run.exit_code() == 0


def test_drift_command_text_json_and_usage_errors(tmp_path, capsys):
    assert main(["drift", str(CASSETTES / "test_account.yaml"), "--versions", f"{NEW},{OLD}"]) == 1
    out = capsys.readouterr().out
    assert f"== {NEW} -> {OLD} ==" in out
    assert "Pools_ListSupportedImages GET /supportedimages (1 calls" in out
    assert f"operations only in {NEW} (5):" in out and "renamed  BatchPool.taskSlotsPerNode -> maxTasksPerNode" in out
    target = tmp_path / "drift.json"
    assert main(["drift", str(CASSETTES), "--versions", f"{NEW},{OLD},2024-07-01.20.0", "--format", "json",
                 "-o", str(target)]) == 1  # fmt: skip
    doc = json.loads(target.read_text())
    assert doc["format"] == "pytest-batch-drift/1" and doc["targets"] == [OLD, "2024-07-01.20.0"]
    newer = doc["comparisons"][1]
    assert {g["operation_id"] for g in newer["operations_gone"]} < set(ONLY_2025)
    assert main(["drift", str(CASSETTES), "--versions", NEW]) == 2
    assert "at least two api-versions" in capsys.readouterr().err
    assert main(["drift", str(CASSETTES), "--versions", f"{NEW},1999-01-01"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1999-01-01" in err[0]
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions: [")
    assert main(["drift", str(broken), "--versions", f"{NEW},{OLD}"]) == 2
