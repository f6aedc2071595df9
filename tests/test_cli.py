"""`pytest-batch check` and `schemas build` through the real entry function (and a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


from pytest_batch.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "cassettes" / "test_azure_batch_sdk" / "test_account.yaml"

GOOD = {
    "version": 1,
    "interactions": [
        {
            "request": {"method": "DELETE", "uri": "https://REDACTED/jobs/j1?api-version=2025-06-01", "body": None, "headers": {}},
            "response": {"status": {"code": 202, "message": "Accepted"}, "headers": {}, "body": {"string": ""}},
        }
    ],
}


# Traffic the reference cassettes (recorded from the emulator) cannot hold: another Azure service, and
# the case drift the real service shows ('Steady' where the spec says 'steady').
BLOB = {
    "request": {"method": "GET", "body": None, "headers": {},
                "uri": "https://storageaccount.blob.core.windows.net/outputs?restype=container&comp=list"},
    "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Type": ["application/xml"]},
                 "body": {"string": '<?xml version="1.0" encoding="utf-8"?><EnumerationResults/>'}},
}
DRIFT = {
    "request": {"method": "GET", "body": None, "headers": {},
                "uri": "https://ACCOUNT.REGION.batch.azure.com/pools?api-version=2024-07-01.20.0"},
    "response": {"status": {"code": 200, "message": "OK"},
                 "headers": {"Content-Type": ["application/json;odata=minimalmetadata"]},
                 "body": {"string": '{"value":[{"id":"pool-1","state":"active","allocationState":"Steady"}]}'}},
}


def _cassette(tmp_path, name, interactions):
    path = tmp_path / name
    path.write_text(json.dumps({"version": 1, "interactions": interactions}))
    return path


def _bad_status():
    bad = json.loads(json.dumps(GOOD["interactions"][0]))
    bad["response"]["status"]["code"] = 200
    return bad


def test_sample_cassette_is_conformant(capsys):
    assert main(["check", str(SAMPLE), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "3 interaction(s): 3 Batch, 0 skipped, 0 unusable" in out and "result: conformant" in out


def test_other_services_are_skipped_and_case_drift_is_a_warning(tmp_path, capsys):
    path = _cassette(tmp_path, "c.yaml", [GOOD["interactions"][0], BLOB, DRIFT])
    assert main(["check", str(path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "3 interaction(s): 2 Batch, 1 skipped, 0 unusable" in out
    assert "Azure Storage (blob)" in out and "result: 0 interaction(s) with errors, 1 with warnings" in out


def test_fail_on_warning_turns_drift_into_exit_1(tmp_path):
    path = _cassette(tmp_path, "c.yaml", [DRIFT])
    assert main(["check", str(path), "--no-progress"]) == 0
    assert main(["check", str(path), "--fail-on", "warning", "--no-progress"]) == 1


def test_findings_exit_1_and_json_summary(tmp_path, capsys):
    path = _cassette(tmp_path, "c.yaml", [GOOD["interactions"][0], _bad_status()])
    assert main(["check", str(path), "--format", "json", "--no-progress"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "pytest-batch-check/1"
    assert summary["batch_interactions"] == 2 and summary["interactions_with"]["error"] == 1
    (finding,) = summary["findings"]
    assert finding["check"] == "status_code_conformance" and finding["operation_id"] == "Jobs_DeleteJob"
    assert finding["first_source"] == f"{path}#1" and finding["actual"] == 200


def test_malformed_files_are_named_and_the_run_continues(tmp_path, capsys):
    good = _cassette(tmp_path, "a_good.yaml", GOOD["interactions"])
    (tmp_path / "b_truncated.yaml").write_text('{"version": 1, "interactions": [{"request": ')
    (tmp_path / "c_garbage.yaml").write_bytes(b"\x00\xff\x13binary")
    code = main(["check", str(tmp_path), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 2
    assert "1 interaction(s): 1 Batch" in captured.out  # the good file was still checked
    errors = [line for line in captured.err.splitlines() if line.startswith("pytest-batch:")]
    assert len(errors) == 2
    assert any("b_truncated.yaml" in line for line in errors) and any("c_garbage.yaml" in line for line in errors)
    assert good.exists()


def test_missing_path_and_unknown_override_exit_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.yaml"), "--no-progress"]) == 2
    assert "nope.yaml" in capsys.readouterr().err
    assert main(["check", str(SAMPLE), "--api-version", "1999-01-01.0.0"]) == 2
    assert "no schema bundle for api-version '1999-01-01.0.0'" in capsys.readouterr().err


def test_api_version_override_revalidates(tmp_path, capsys):
    path = _cassette(tmp_path, "c.yaml", GOOD["interactions"])
    assert main(["check", str(path), "--api-version", "2018-08-01.7.0", "--format", "json", "--no-progress"]) == 0
    assert list(json.loads(capsys.readouterr().out)["api_versions"]) == ["2018-08-01.7.0"]


def test_progress_line_goes_to_stderr(tmp_path, capsys):
    path = _cassette(tmp_path, "c.yaml", GOOD["interactions"] * 3)
    main(["check", str(path), "--progress"])
    err = capsys.readouterr().err
    assert "\rchecked 3 interactions in 1 file(s)" in err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: pytest-batch" in capsys.readouterr().err


def test_console_script_runs_in_a_subprocess():
    result = subprocess.run([sys.executable, "-m", "pytest_batch.cli", "check", str(SAMPLE), "--no-progress"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Pool_List" not in result.stderr and "0 skipped" in result.stdout and "result: conformant" in result.stdout
