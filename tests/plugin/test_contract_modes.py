"""Contract modes on replayed traffic that breaks the spec, allow lists, `batch_contract`, and `--batch-report`.

A cassette is recorded once against the emulator through the plugin, then copied with one response body
edited (a job's `priority` as a string, a required property removed, a state in the wrong case). Each pytester
project replays those copies; its conftest logs every warning pytest records, so which test warned is read from
a file, not guessed from the terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

pytest_plugins = ["pytester"]

# Plugins that have nothing to do with recording (hypothesis alone costs ~0.4 s to import) are left out of the
# inner runs; pytest-recording and pytest-xdist stay loaded, as they would be in a user's project.
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:anyio")

# The same two calls in every test: create job-1 (priority 7) and get it back.
CALLS = '''
import pytest
from azure.batch import models
from pytest_batch.contract import ContractViolation


def calls(client):
    client.create_job(models.BatchJobCreateOptions(
        id="job-1", pool_info=models.BatchPoolInfo(pool_id="pool-1"), priority=7))
    return client.get_job("job-1")
'''

RECORD_TEST = CALLS + '''

@pytest.mark.batch_cassette(name="base", record_mode="once")
def test_base(batch_client, batch_endpoint):
    assert batch_endpoint.kind == "emulator"
    job = calls(batch_client)
    assert (job.priority, job.state) == (7, "active")
'''

WARNING_LOG_CONFTEST = '''
import json


def pytest_warning_recorded(warning_message, when, nodeid, location):
    with open("warnings.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps({"nodeid": nodeid, "category": warning_message.category.__name__,
                              "message": str(warning_message.message)}) + "\\n")
'''

MODES_TEST = CALLS + '''

@pytest.mark.batch_cassette(name="broken")
def test_strict_broken(batch_client):
    calls(batch_client)


@pytest.mark.batch_cassette(name="missing")
def test_strict_missing(batch_client):
    calls(batch_client)


@pytest.mark.batch_contract(mode="warn")
@pytest.mark.batch_cassette(name="broken")
def test_warn(batch_client):
    calls(batch_client)


@pytest.mark.batch_contract(mode="off")
@pytest.mark.batch_cassette(name="broken")
def test_off(batch_client):
    calls(batch_client)


@pytest.mark.batch_contract(allow=["response_schema_conformance"])
@pytest.mark.batch_cassette(name="broken")
def test_allow_check(batch_client):
    calls(batch_client)


@pytest.mark.batch_contract(allow=["/definitions/BatchJob/properties/priority/type"])
@pytest.mark.batch_cassette(name="broken")
def test_allow_pointer(batch_client):
    calls(batch_client)


@pytest.mark.batch_contract(allow=["response_schema_conformance:/definitions/BatchJob/*"])
@pytest.mark.batch_cassette(name="missing")
def test_allow_check_and_pointer_wildcard(batch_client):
    calls(batch_client)


@pytest.mark.batch_cassette(name="warning")
def test_warning_only_in_strict(batch_client):
    assert calls(batch_client).state == "Active"  # what the edited cassette says, passed through as is


@pytest.mark.batch_cassette(name="base")
def test_clean(batch_client):
    calls(batch_client)


def test_without_batch():
    pass
'''

ASSERT_TEST = CALLS + '''

@pytest.mark.batch_contract(mode="off")
@pytest.mark.batch_cassette(name="broken")
def test_assert_conforms_inside_the_test(batch_client, batch_contract):
    calls(batch_client)
    assert len(batch_contract.outcomes) == 2
    assert [(v.check, v.instance_pointer) for v in batch_contract.errors] == [
        ("response_schema_conformance", "/priority")]
    with pytest.raises(ContractViolation, match="broken.yaml#1 GET /jobs/job-1"):
        batch_contract.assert_conforms()
'''


@pytest.fixture(scope="module")
def base_cassette(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One recording through the plugin (a fresh process, `once`, the emulator): POST /jobs, GET /jobs/job-1."""
    project = tmp_path_factory.mktemp("record")
    (project / "test_record.py").write_text(RECORD_TEST)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *QUIET, "-q", "test_record.py"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    data = yaml.safe_load((project / "cassettes/test_record/base.yaml").read_text())
    assert [i["request"]["method"] for i in data["interactions"]] == ["POST", "GET"]
    return data


def edited(base: dict, change: Callable[[dict], object] | None) -> str:
    """The base cassette with `change` applied to the job body of its GET response (index 1)."""
    data = json.loads(json.dumps(base))
    response = data["interactions"][1]["response"]["body"]
    job = json.loads(response["string"])
    assert job["priority"] == 7 and job["state"] == "active" and "poolInfo" in job
    if change is not None:
        change(job)
    response["string"] = json.dumps(job)
    return yaml.safe_dump(data)


def project(pytester: pytest.Pytester, base: dict, test_text: str) -> Path:
    """A project with `test_contract.py` and its cassettes: base, broken, missing, warning."""
    pytester.makeconftest(WARNING_LOG_CONFTEST)
    pytester.makepyfile(test_contract=test_text)
    folder = pytester.path / "cassettes/test_contract"
    folder.mkdir(parents=True)
    for name, change in {
        "base": None,
        "broken": lambda job: job.update(priority="7"),
        "missing": lambda job: job.pop("poolInfo"),
        "warning": lambda job: job.update(state="Active"),
    }.items():
        (folder / f"{name}.yaml").write_text(edited(base, change))
    return folder


def warned(pytester: pytest.Pytester) -> dict[str, list[str]]:
    """Test name -> messages of the BatchContractWarnings recorded for it."""
    log = pytester.path / "warnings.jsonl"
    out: dict[str, list[str]] = {}
    for line in log.read_text().splitlines() if log.exists() else ():
        entry = json.loads(line)
        if entry["category"] == "BatchContractWarning":
            out.setdefault(entry["nodeid"].split("::")[-1], []).append(entry["message"])
    return out


def test_strict_fails_warn_warns_off_is_silent_allow_lists_pass_and_the_report_counts_it_all(
    pytester, base_cassette
):
    """One replay-only run of every contract case, with two `--batch-report` files; the outer test reads the
    outcomes, the failure text, the warnings each test raised, and the report's totals and records."""
    folder = project(pytester, base_cassette, MODES_TEST)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = pytester.runpytest_subprocess(
        *QUIET, "-rA", "--batch-report", "out.json", "--batch-report", "sub/again.json"
    )  # fmt: skip
    result.assert_outcomes(passed=8, failed=2)
    failed = {line.split()[1].split("::")[-1] for line in result.outlines if line.startswith("FAILED ")}
    assert failed == {"test_strict_broken", "test_strict_missing"}
    result.stdout.fnmatch_lines([
        "*_ test_strict_broken _*",
        "pytest-batch contract (strict): 1 of 2 Batch interactions break the spec (1 error)",
        (
            "  cassettes/test_contract/broken.yaml#1 GET /jobs/job-1 -> 200: error response_schema_conformance "
            "Jobs_GetJob (2025-06-01) at response.body/priority: '7' is not of type 'integer' "
            "[spec /definitions/BatchJob/properties/priority/type]"
        ),
        "*_ test_strict_missing _*",
        "pytest-batch contract (strict): 1 of 2 Batch interactions break the spec (1 error)",
        (
            "  cassettes/test_contract/missing.yaml#1 GET /jobs/job-1 -> 200: error response_schema_conformance "
            "Jobs_GetJob (2025-06-01) at response.body: 'poolInfo' is a required property*"
        ),
    ])  # fmt: skip

    warnings = warned(pytester)
    assert sorted(warnings) == ["test_warn", "test_warning_only_in_strict"]  # off and allowed: silent
    [warn] = warnings["test_warn"]
    assert warn.startswith("pytest-batch contract (warn): 1 of 2 Batch interactions break the spec (1 error)")
    assert "broken.yaml#1 GET /jobs/job-1 -> 200: error response_schema_conformance Jobs_GetJob" in warn
    [case] = warnings["test_warning_only_in_strict"]
    assert case.startswith("pytest-batch contract (strict): 1 of 2 Batch interactions break the spec (1 warning)")
    assert "warning unknown_enum_value Jobs_GetJob (2025-06-01) at response.body/state: 'Active'" in case

    report = json.loads((pytester.path / "out.json").read_text())
    assert (pytester.path / "sub/again.json").read_text() == (pytester.path / "out.json").read_text()
    assert report["format"] == "pytest-batch-report/2"
    # 9 tests used the plugin (test_without_batch did not), 2 interactions each; errors in broken/missing
    # replays that were not allowed (strict x2, warn, off), allowed in the three allow-list tests
    t = report["totals"]
    assert (report["input"]["tests"], t["interactions"], t["batch"], t["skipped"], t["errors"], t["warnings"],
            t["allowed"]) == (9, 18, 18, 0, 4, 1, 3)  # fmt: skip
    tests = {r["nodeid"].split("::")[-1]: r for r in report["tests"]}
    assert "test_without_batch" not in tests
    assert {name: r["mode"] for name, r in tests.items() if r["mode"] != "strict"} == {
        "test_warn": "warn", "test_off": "off",
    }  # fmt: skip
    findings = {f["id"]: f for f in report["findings"]}
    off = tests["test_off"]
    assert off["cassette"] == "cassettes/test_contract/broken.yaml"
    assert (off["interactions"], off["batch"], off["errors"], off["allowed"]) == (2, 2, 1, 0)
    [(found, count)] = off["findings"].items()
    violation = findings[found]
    assert count == 1 and (violation["check"], violation["schema_pointer"]) == (
        "response_schema_conformance", "/definitions/BatchJob/properties/priority/type",
    )  # fmt: skip
    pointer = tests["test_allow_pointer"]
    assert (pointer["errors"], pointer["allowed"]) == (0, 1)
    [allowed] = pointer["findings"]
    assert findings[allowed]["schema_pointer"] == "/definitions/BatchJob/properties/priority/type"
    # broken.yaml's priority: counted in strict_broken, warn and off; allowed in allow_check and allow_pointer
    assert findings[allowed]["allowed"] == 2 and findings[allowed]["count"] == 3
    result.stdout.fnmatch_lines(
        ["18 Batch interactions checked in 9 tests (0 other calls skipped): 4 errors, 1 warning, 3 allowed"]
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # replay (mode none) wrote nothing


def test_assert_conforms_raises_inside_the_test(pytester, base_cassette):
    """`batch_contract.outcomes` and `assert_conforms()` see the interactions the test has made so far."""
    project(pytester, base_cassette, ASSERT_TEST)
    result = pytester.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=1)


def test_a_report_path_with_an_unknown_extension_is_a_usage_error(pytester):
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess(*QUIET, "--batch-report", "out.pdf")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "pytest-batch: --batch-report out.pdf: unknown report format .pdf; use .json (json), .xml (junit)" in (
        result.stderr.str()
    )
    assert not (pytester.path / "out.pdf").exists()
