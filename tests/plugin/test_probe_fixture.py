"""The `batch_probe` fixture through the plugin (pytester, a fresh pytest process per run): recorded against the
embedded emulator inside the test's cassette, replayed with every connect refused, verdicts equal both times and
in the session's `--batch-report`; the probe's deliberately invalid requests do not fail the strict contract."""

from __future__ import annotations

import json

import yaml

from .projects import BLOCKING_CONFTEST

pytest_plugins = ["pytester"]

QUIET = ("-p", "no:cacheprovider", "-p", "no:benchmark", "-p", "no:anyio")
RULES = ("job-id-length", "maxresults-range")

PROBE_TEST = f"""
import json
import pathlib

from azure.batch import models


def test_probe(batch_probe, batch_client, batch_endpoint):
    batch_client.create_job(models.BatchJobCreateOptions(id="own-job", pool_info=models.BatchPoolInfo(pool_id="p")))
    verdicts = batch_probe.run(rules={list(RULES)!r})
    pathlib.Path(f"verdicts-{{batch_endpoint.kind}}.json").write_text(
        json.dumps(sorted((v.rule, v.operation_id, v.verdict) for v in verdicts)))
"""


def _verdicts(pytester, kind: str) -> list:
    return json.loads((pytester.path / f"verdicts-{kind}.json").read_text())


def test_batch_probe_records_replays_and_reports(pytester, monkeypatch):
    pytester.makeconftest(BLOCKING_CONFTEST)
    pytester.makepyfile(test_rules=PROBE_TEST)
    monkeypatch.delenv("PB_BLOCK_NETWORK", raising=False)
    recorded = pytester.runpytest_subprocess(*QUIET, "--batch-record-mode=once", "--batch-report=live.json")
    recorded.assert_outcomes(passed=1)
    live = _verdicts(pytester, "emulator")
    assert {rule for rule, _, _ in live} == set(RULES)
    assert all(verdict == "enforced" for _, _, verdict in live), live
    cassette = pytester.path / "cassettes/test_rules/test_probe.yaml"
    methods = [i["request"]["method"] for i in yaml.safe_load(cassette.read_text())["interactions"]]
    assert len(methods) > 4 and "127.0.0.1" not in cassette.read_text()

    monkeypatch.setenv("PB_BLOCK_NETWORK", "1")
    replayed = pytester.runpytest_subprocess(*QUIET, "--batch-report=replay.json")  # mode none, strict contract
    replayed.assert_outcomes(passed=1)
    assert _verdicts(pytester, "replay") == live
    for name in ("live.json", "replay.json"):
        report = json.loads((pytester.path / name).read_text())
        rows = {(row["rule"], row["verdict"]) for row in report["probes"]["rules"]}
        assert rows == {(rule, verdict) for rule, _, verdict in live}, name
        assert report["totals"]["errors"] == 0  # the test's own traffic conforms; the probe's is judged apart
