"""`--batch-report` in a real pytest session: every format written, the terminal summary, and pytest-xdist.

The project is the reference scenario (its six tests and their cassettes), replayed offline and validated
against 2018-08-01.7.0 with the contract off, so that every test passes and the reports hold many findings
of many kinds. Reports from `-n 2` and `-n 4` must be byte-for-byte the serial run's.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

from pytest_batch.reports import report_schema

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
REPORTS = ("r.json", "r.xml", "r.md", "r.html", "r.txt")


def _project(pytester) -> None:
    shutil.copy(REPO / "tests" / "reference" / "conftest.py", pytester.path / "conftest.py")
    shutil.copy(REPO / "tests" / "reference" / "test_azure_batch_sdk.py", pytester.path / "test_azure_batch_sdk.py")
    shutil.copytree(REPO / "cassettes" / "test_azure_batch_sdk", pytester.path / "cassettes" / "test_azure_batch_sdk")


def _run(pytester, folder: str, *args: str):
    reports = [f"--batch-report={folder}/{name}" for name in REPORTS]
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--batch-contract=off", "--batch-api-version=2018-08-01.7.0", *reports, *args
    )
    result.assert_outcomes(passed=6)
    return result, {name: (pytester.path / folder / name).read_bytes() for name in REPORTS}


def test_session_reports_in_every_format_and_equal_under_xdist(pytester):
    _project(pytester)
    serial, expected = _run(pytester, "serial")
    document = json.loads(expected["r.json"])
    jsonschema.validate(document, report_schema())
    assert document["input"] == {"kind": "pytest", "files": 0, "tests": 6, "probe_documents": 0}
    assert [t["nodeid"] for t in document["tests"]] == sorted(t["nodeid"] for t in document["tests"])
    totals = document["totals"]
    assert totals["batch"] == 159 and totals["interactions_with_errors"] > 0 and totals["warnings"] > 100
    [version] = document["api_versions"]
    assert version["api_version"] == "2018-08-01.7.0" and version["operations"]["documented"] == 77
    root = ET.fromstring(expected["r.xml"])
    assert int(root.get("tests")) == len(document["operations"])
    assert int(root.get("failures")) == sum(1 for r in document["operations"] if r["errors"])
    assert b"Batch API conformance" in expected["r.html"] and b"## pytest-batch" in expected["r.md"]

    serial.stdout.fnmatch_lines([
        "159 Batch interactions checked in 6 tests (0 other calls skipped): * errors, * warnings",
        f"2018-08-01.7.0: 159 interactions, {version['operations']['exercised']}/77 (*) operations, *",
        "worst operations (* with findings):",
        f"top findings ({totals['distinct_findings']} distinct):",
    ])  # fmt: skip

    for workers in ("2", "4"):
        spread, reports = _run(pytester, f"n{workers}", "-n", workers)
        assert f"{workers} workers" in spread.stdout.str()
        for name in REPORTS:
            assert reports[name] == expected[name], (workers, name)


def test_a_report_that_cannot_be_written_fails_the_run_in_one_line(pytester):
    pytester.makepyfile("def test_nothing(batch_contract):\n    assert batch_contract.outcomes == []\n")
    (pytester.path / "taken").write_text("a file, not a folder")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--batch-report=taken/r.html")
    result.assert_outcomes(passed=1)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["pytest-batch: *taken/r.html: cannot write the report*"])
