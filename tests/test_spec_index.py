"""Bundle loading, api-version resolution, operation matching and traffic classification."""

from __future__ import annotations

import time

import pytest

from pytest_batch.errors import SpecError, UnknownApiVersion
from pytest_batch.spec import SpecLibrary
from pytest_batch.traffic import classify


@pytest.fixture(scope="module")
def library():
    return SpecLibrary()


def test_all_18_versions_ship(library):
    assert len(library.versions) == 18
    assert library.versions[0] == "2017-05-01.5.0" and library.versions[-1] == "2025-06-01"


def test_versions_load_lazily_and_once(library):
    fresh = SpecLibrary()
    assert fresh._specs == {}
    first = fresh.get("2020-09-01.12.0")
    assert list(fresh._specs) == ["2020-09-01.12.0"]
    assert fresh.get("2020-09-01.12.0") is first


def test_unknown_version_and_missing_folder_are_clear_errors(tmp_path, library):
    with pytest.raises(UnknownApiVersion, match="2030-01-01"):
        library.get("2030-01-01")
    with pytest.raises(SpecError, match="no schema bundles found"):
        SpecLibrary(tmp_path)
    (tmp_path / "2020-01-01.1.0.json").write_text("{broken")
    with pytest.raises(SpecError, match="cannot read bundle"):
        SpecLibrary(tmp_path).get("2020-01-01.1.0")


@pytest.mark.parametrize(
    "requested, used, note",
    [
        ("2019-08-01.10.0", "2019-08-01.10.0", None),
        ("2021-01-01.13.0", "2020-09-01.12.0", "closest older"),
        ("2016-07-01.3.1", "2017-05-01.5.0", "oldest known"),
        ("2099-01-01", "2025-06-01", "closest older"),
        (None, "2025-06-01", "no api-version"),
    ],
)
def test_resolution_falls_back_to_closest_older(library, requested, used, note):
    resolution = library.resolve(requested)
    assert resolution.used == used
    assert (resolution.note is None) if note is None else (note in resolution.note)


@pytest.mark.parametrize(
    "version, method, path, operation_id, params",
    [
        ("2025-06-01", "GET", "/jobs/job-1", "Jobs_GetJob", {"jobId": "job-1"}),
        ("2025-06-01", "PATCH", "/JOBS/job-1", "Jobs_UpdateJob", {"jobId": "job-1"}),
        ("2025-06-01", "GET", "/jobs/j/tasks/t/files/wd%5Cout%5Cr.txt", "Tasks_GetTaskFile", {"jobId": "j", "taskId": "t", "filePath": "wd\\out\\r.txt"}),
        ("2025-06-01", "GET", "/jobs/j/tasks/t/files/wd/sub/r.txt", "Tasks_GetTaskFile", {"jobId": "j", "taskId": "t", "filePath": "wd/sub/r.txt"}),
        ("2025-06-01", "HEAD", "/pools/p/nodes/n/files/a%2Fb.txt", "Nodes_GetNodeFileProperties", {"poolId": "p", "nodeId": "n", "filePath": "a/b.txt"}),
        ("2025-06-01", "GET", "/pools/p/nodes/n/files", "Nodes_ListNodeFiles", {"poolId": "p", "nodeId": "n"}),
        ("2025-06-01", "POST", "/pools/p/nodes/n/deallocate", "Nodes_DeallocateNode", {"poolId": "p", "nodeId": "n"}),
        ("2025-06-01", "GET", "/supportedimages", "Pools_ListSupportedImages", {}),
        ("2018-08-01.7.0", "DELETE", "/certificates(thumbprintAlgorithm=sha1,thumbprint=0123ABCD)", "Certificate_Delete",
         {"thumbprintAlgorithm": "sha1", "thumbprint": "0123ABCD"}),
        ("2018-08-01.7.0", "GET", "/nodeagentskus", "Account_ListNodeAgentSkus", {}),
        ("2018-08-01.7.0", "POST", "/jobs/a%20b/tasks", "Task_Add", {"jobId": "a b"}),
    ],
)
def test_operations_match_by_method_and_template(library, version, method, path, operation_id, params):
    match = library.get(version).match(method, path)
    assert match is not None and match.operation.operation_id == operation_id
    assert dict(match.path_params) == params


def test_unknown_paths_and_methods_do_not_match(library):
    spec = library.get("2025-06-01")
    assert spec.match("GET", "/nodeagentskus") is None  # removed in 2025-06-01
    assert spec.match("POST", "/jobs/j1/start") is None
    assert spec.match("PUT", "/pools/p1") is None
    assert spec.index.methods_for("/pools/p1") == ("DELETE", "GET", "HEAD", "PATCH")


def test_every_template_matches_itself_in_every_version(library):
    for version in library.versions:
        spec = library.get(version)
        for op in spec.operations.values():
            path = op.path
            for p in op.parameters:
                if p.location == "path":
                    path = path.replace("{" + p.name + "}", f"x{p.name}1")
            match = spec.match(op.method, path, dict(op.fixed_query))
            assert match is not None and match.operation.operation_id == op.operation_id, (version, op.operation_id)


def test_bundle_load_is_quick():
    # a guard, not the benchmark (bench/bench_check.py measures it): ≤ 50 ms is the target
    start = time.perf_counter()
    SpecLibrary().get("2025-06-01")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    "host, path, api_version, batch, reason",
    [
        ("acct.westus.batch.azure.com", "/jobs", "2018-08-01.7.0", True, ""),
        ("acct.chinaeast.batch.chinacloudapi.cn", "/pools", None, True, ""),
        ("redacted", "/pools/p1", "2025-06-01", True, ""),
        ("127.0.0.1", "/jobs/j1/tasks", None, True, ""),
        ("endpoint", "/anything", "2024-07-01.20.0", True, ""),
        ("sa.blob.core.windows.net", "/c", None, False, "Azure Storage (blob)"),
        ("management.azure.com", "/subscriptions/s/resourceGroups/g", "2017-09-01", False, "Azure Resource Manager"),
        ("login.microsoftonline.com", "/tenant/oauth2/token", None, False, "token endpoint"),
        ("redacted", "/subscriptions/s/providers/Microsoft.Batch", "2021-06-01", False, "Azure Resource Manager"),
        ("127.0.0.1", "/metadata/identity/oauth2/token", "2018-02-01", False, "token endpoint"),
        ("example.org", "/index.html", None, False, "not a Batch data-plane URL"),
    ],
)
def test_traffic_classification(host, path, api_version, batch, reason):
    kind = classify(host, path, api_version)
    assert kind.batch is batch
    assert reason in kind.reason


def test_only_a_file_path_spans_segments():
    """2018-08-01.7.0 has no node extensions: `/nodes/n/extensions` is unknown there, not node `n/extensions`."""
    from pytest_batch.spec import SpecLibrary

    old = SpecLibrary().get("2018-08-01.7.0")
    assert old.match("GET", "/pools/p/nodes/n/extensions", {}) is None
    found = old.match("GET", "/pools/p/nodes/n/files/workitems/job/task/stdout.txt", {})
    assert found is not None and found.path_params["filePath"] == "workitems/job/task/stdout.txt"
    assert SpecLibrary().get("2025-06-01").match("GET", "/pools/p/nodes/n/extensions", {}).operation.operation_id
