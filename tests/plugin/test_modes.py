"""Record modes, replay misses, and where settings come from, through pytester (a fresh pytest process per run).

Each project records against the embedded emulator, then runs again in other modes. What the runs wrote
(result files, the cassette's bytes, its mtime, its interactions) is compared by this outer test, so every
claim rests on what a real run did to real files.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
import yaml

from .projects import BLOCKING_CONFTEST

pytest_plugins = ["pytester"]

# Plugins that have nothing to do with recording (hypothesis alone costs ~0.4 s to import) are left out of the
# inner runs; pytest-recording and pytest-xdist stay loaded, as they would be in a user's project.
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:anyio")

# Creates the jobs named in $JOBS with azure-batch, reads each back with raw `requests` tagged with
# client-request-id $TAG (not matched on replay, so it shows which run recorded an interaction), and writes
# what it saw to result-$TAG.json. FAIL=1 makes it fail after all its requests.
JOBS_TEST = """
import json
import os
import pathlib

import requests
from azure.batch import models

PRIORITY = {"a": 10, "b": -20}


def test_jobs(batch_client, batch_endpoint):
    names = os.environ["JOBS"].split(",")
    tag = os.environ["TAG"]
    for name in names:
        batch_client.create_job(models.BatchJobCreateOptions(
            id=f"job-{name}", pool_info=models.BatchPoolInfo(pool_id="pool-1"), priority=PRIORITY[name]))
    seen = {}
    for name in names:
        url = f"{batch_endpoint.url}/jobs/job-{name}?api-version=2025-06-01"
        reply = requests.get(url, headers=batch_endpoint.signed_headers("GET", url, {"client-request-id": tag}))
        reply.raise_for_status()
        body = reply.json()
        assert body["priority"] == PRIORITY[name]
        seen[body["id"]] = [body["priority"], body["state"], body["poolInfo"]["poolId"]]
    pathlib.Path(f"result-{tag}.json").write_text(json.dumps({"kind": batch_endpoint.kind, "jobs": seen}))
    assert os.environ.get("FAIL") != "1", "asked to fail after recording"
"""


PROBE_TEST = """
import socket


def test_the_network_is_blocked():
    with socket.socket() as probe:
        try:
            probe.connect(("127.0.0.1", 9))
        except OSError as error:
            assert "network blocked" in str(error)
        else:
            raise AssertionError("connect succeeded")
"""

CASSETTE = Path("cassettes/test_jobs/test_jobs.yaml")
MISS_HINT = "(fix: correct the request, or re-record with --batch-record-mode=new_episodes or rewrite)"


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str, **env: str):
    """One fresh pytest process with `env` set; returns (result, tag, result file data or None)."""
    tag = str(uuid.uuid4())
    monkeypatch.setenv("TAG", tag)
    monkeypatch.delenv("FAIL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = pytester.runpytest_subprocess(*QUIET, *args)
    written = pytester.path / f"result-{tag}.json"
    return result, tag, json.loads(written.read_text()) if written.exists() else None


def interactions(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["interactions"]


def calls(path: Path) -> list[tuple[str, str, str | None]]:
    """(method, path, client-request-id of the raw GETs) per interaction, in cassette order."""
    out = []
    for item in interactions(path):
        request = item["request"]
        uri = request["uri"].split("://", 1)[1]
        tag = request["headers"].get("client-request-id", [None])[0] if request["method"] == "GET" else None
        out.append((request["method"], uri[uri.index("/") : uri.index("?")], tag))
    return out


def freeze(path: Path) -> tuple[bytes, int]:
    """Set a known old mtime so that any write shows, and return (bytes, mtime_ns)."""
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    return path.read_bytes(), path.stat().st_mtime_ns


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_recorded_once_replays_offline_without_the_emulator_with_the_same_results(pytester, monkeypatch):
    """`once` records against the emulator; a later run with every connect refused gets the same data."""
    pytester.makepyfile(test_jobs=JOBS_TEST)
    recorded, _, live = run(pytester, monkeypatch, "--batch-record-mode=once", JOBS="a,b")
    recorded.assert_outcomes(passed=1)
    cassette = pytester.path / CASSETTE
    assert cassette.is_file()
    assert [c[:2] for c in calls(cassette)] == [
        ("POST", "/jobs"), ("POST", "/jobs"), ("GET", "/jobs/job-a"), ("GET", "/jobs/job-b"),
    ]  # fmt: skip
    text = cassette.read_text()
    assert "127.0.0.1" not in text and "ACCOUNT.REGION.batch.azure.com" in text

    pytester.makeconftest(BLOCKING_CONFTEST)
    pytester.makepyfile(test_probe=PROBE_TEST)
    before = freeze(cassette)
    replayed, _, offline = run(pytester, monkeypatch, JOBS="a,b", PB_BLOCK_NETWORK="1")  # mode: none
    replayed.assert_outcomes(passed=2)  # test_jobs and the probe that proves the block is on
    assert live["kind"] == "emulator" and offline["kind"] == "replay"
    assert offline["jobs"] == live["jobs"] == {"job-a": [10, "active", "pool-1"], "job-b": [-20, "active", "pool-1"]}
    assert snapshot(cassette) == before
    assert "4 Batch interactions checked in 1 test" in replayed.stdout.str()


def test_record_modes_once_none_new_episodes_all_and_rewrite(pytester, monkeypatch):
    """One cassette taken through every mode; after each run the cassette on disk is what the mode promises."""
    pytester.makepyfile(test_jobs=JOBS_TEST)
    pytester.makepyfile(test_never_recorded="def test_unrecorded(batch_client):\n    batch_client.get_job('x')\n")
    cassette = pytester.path / CASSETTE
    folder = cassette.parent

    # once, cassette absent: records from the emulator
    result, first, live = run(pytester, monkeypatch, "--batch-record-mode=once", "test_jobs.py", JOBS="a")
    result.assert_outcomes(passed=1)
    assert live["kind"] == "emulator"
    assert calls(cassette) == [("POST", "/jobs", None), ("GET", "/jobs/job-a", first)]
    recorded = interactions(cassette)

    # once, cassette present: replays (placeholder endpoint), writes nothing
    before = freeze(cassette)
    result, _, replay = run(pytester, monkeypatch, "--batch-record-mode=once", "test_jobs.py", JOBS="a")
    result.assert_outcomes(passed=1)
    assert replay == {**live, "kind": "replay"}
    assert snapshot(cassette) == before

    # once, cassette present, a new request: refused with the closest miss, nothing written
    result, _, _ = run(pytester, monkeypatch, "--batch-record-mode=once", "test_jobs.py", JOBS="a,b")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        (
            "*pytest-batch: cassettes/test_jobs/test_jobs.yaml: no match for POST /jobs; closest recorded request #0 "
            f"(POST /jobs): body differs at /id {MISS_HINT}"
        ),
    ])  # fmt: skip
    assert snapshot(cassette) == before

    # none: the same miss (a new request that fails), and a test without a cassette; neither writes anything
    listing = sorted(p.name for p in folder.iterdir())
    result, _, _ = run(pytester, monkeypatch, "--batch-record-mode=none", JOBS="a,b")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines_random([
        "*test_jobs.yaml: no match for POST /jobs; closest recorded request #0 (POST /jobs): body differs at /id*",
        (
            "*pytest-batch: cassettes/test_never_recorded/test_unrecorded.yaml: no such cassette in record mode "
            "'none' (fix: record it once with --batch-record-mode=once)"
        ),
    ])  # fmt: skip
    assert snapshot(cassette) == before
    assert sorted(p.name for p in folder.iterdir()) == listing  # no temp file, no backup
    assert not (pytester.path / "cassettes/test_never_recorded").exists()

    # new_episodes: old interactions replayed and kept as they were, the new ones appended
    result, second, both = run(pytester, monkeypatch, "--batch-record-mode=new_episodes", "test_jobs.py", JOBS="a,b")
    result.assert_outcomes(passed=1)
    assert both["jobs"] == {"job-a": [10, "active", "pool-1"], "job-b": [-20, "active", "pool-1"]}
    now = interactions(cassette)
    assert now[:2] == recorded
    assert calls(cassette)[2:] == [("POST", "/jobs", None), ("GET", "/jobs/job-b", second)]
    assert '"id": "job-b"' in now[2]["request"]["body"]

    # all: every request goes to the emulator and is written again; interactions it did not repeat stay
    result, third, again = run(pytester, monkeypatch, "--batch-record-mode=all", "test_jobs.py", JOBS="a")
    result.assert_outcomes(passed=1)
    assert again["kind"] == "emulator"
    assert sorted(calls(cassette), key=str) == sorted([
        ("POST", "/jobs", None), ("GET", "/jobs/job-b", second),  # kept from new_episodes
        ("POST", "/jobs", None), ("GET", "/jobs/job-a", third),   # re-recorded now
    ], key=str)  # fmt: skip
    assert first not in cassette.read_text()

    # rewrite, the test fails: the previous cassette comes back byte-identical
    before = freeze(cassette)
    result, _, failing = run(pytester, monkeypatch, "--batch-record-mode=rewrite", "test_jobs.py", JOBS="a", FAIL="1")
    result.assert_outcomes(failed=1)
    assert failing["kind"] == "emulator"  # it did record before failing
    result.stdout.fnmatch_lines(["*asked to fail after recording*"])
    assert snapshot(cassette) == before
    assert sorted(p.name for p in folder.iterdir()) == ["test_jobs.yaml"]

    # rewrite, the test passes: only this run's interactions are left
    result, fourth, fresh = run(pytester, monkeypatch, "--batch-record-mode=rewrite", "test_jobs.py", JOBS="a")
    result.assert_outcomes(passed=1)
    assert fresh["kind"] == "emulator"
    assert calls(cassette) == [("POST", "/jobs", None), ("GET", "/jobs/job-a", fourth)]
    assert sorted(p.name for p in folder.iterdir()) == ["test_jobs.yaml"]


# Each settings test writes the settings it got to settings/<test>.json.
DUMP = """
import dataclasses
import json
import pathlib


def dump(request, settings):
    folder = pathlib.Path(request.config.rootpath, "settings")
    folder.mkdir(exist_ok=True)
    (folder / f"{request.node.name}.json").write_text(json.dumps(dataclasses.asdict(settings)))
"""

MARKERS_TEST = """
import pytest
from azure.batch import models
from dump import dump


@pytest.mark.batch_cassette(record_mode="new_episodes")
@pytest.mark.batch_contract(mode="off")
def test_marker_settings(request, batch_settings):
    dump(request, batch_settings)


def make_job(client):
    client.create_job(models.BatchJobCreateOptions(id="job-s", pool_info=models.BatchPoolInfo(pool_id="p")))
    return client.get_job("job-s").pool_info.pool_id


@pytest.mark.batch_cassette(name="shared", record_mode="once")
def test_shared_recorded(batch_client, batch_endpoint):
    assert batch_endpoint.kind == "emulator"
    assert make_job(batch_client) == "p"


@pytest.mark.batch_cassette(name="shared")
def test_shared_replayed(batch_client, batch_endpoint):
    assert batch_endpoint.kind == "replay"
    assert make_job(batch_client) == "p"
"""

FIXTURE_CONFTEST = """
import pytest


@pytest.fixture
def batch_config():
    return {"record_mode": "all", "contract": "warn"}
"""

FIXTURE_TEST = """
import pytest
from dump import dump


@pytest.mark.batch_cassette(record_mode="new_episodes")
@pytest.mark.batch_contract(mode="off")
def test_fixture_settings(request, batch_settings):
    dump(request, batch_settings)
"""

BAD_TEST = """
import pytest


@pytest.mark.batch_cassette(record_mode="sometimes")
def test_bad_record_mode_marker(batch_cassette):
    pass


@pytest.mark.batch_contract(mode="loud")
def test_bad_contract_marker(batch_settings):
    pass
"""

BAD_FIXTURE_TEST = """
import pytest


@pytest.fixture
def batch_config():
    return {"contract": "loud"}


def test_bad_fixture_value(batch_settings):
    pass
"""

CLI_TEST = """
import pytest


@pytest.mark.batch_cassette(name="never", record_mode="once")
def test_marker_wants_to_record(batch_client):
    batch_client.get_job("job-x")
"""


def test_marker_names_the_cassette_and_settings_follow_command_line_then_ini_then_fixture_then_marker(pytester):
    """Markers apply, a `batch_config` override beats them, ini beats that, the command line beats all."""
    pytester.makepyfile(dump=DUMP, test_markers=MARKERS_TEST, test_cli=CLI_TEST)
    pytester.mkpydir("cfg")
    pytester.path.joinpath("cfg/conftest.py").write_text(FIXTURE_CONFTEST)
    pytester.path.joinpath("cfg/test_cfg.py").write_text(FIXTURE_TEST)
    pytester.makepyfile(test_bad=BAD_TEST, test_bad_fixture=BAD_FIXTURE_TEST)
    settings = pytester.path / "settings"

    def got(name: str) -> tuple[str, str]:
        data = json.loads((settings / f"{name}.json").read_text())
        return data["record_mode"], data["contract"]

    # no options: markers apply; the folder's batch_config beats them; bad values name setting and layer
    first = pytester.runpytest_subprocess(
        *QUIET, "test_markers.py", "cfg", "test_bad.py", "test_bad_fixture.py"
    )  # fmt: skip
    first.assert_outcomes(passed=4, errors=3)
    assert got("test_marker_settings") == ("new_episodes", "off")
    assert got("test_fixture_settings") == ("all", "warn")
    shared = pytester.path / "cassettes/test_markers"
    assert sorted(p.name for p in shared.iterdir()) == ["shared.yaml"]  # recorded by one test, replayed by the other
    assert len(interactions(shared / "shared.yaml")) == 2
    first.stdout.fnmatch_lines([
        "*ERROR at setup of test_bad_record_mode_marker*",
        "pytest-batch: record_mode='sometimes' (from the marker) is not one of none, once, new_episodes, all, rewrite",
        "*ERROR at setup of test_bad_contract_marker*",
        "pytest-batch: contract='loud' (from the marker) is not one of strict, warn, off",
        "*ERROR at setup of test_bad_fixture_value*",
        "pytest-batch: contract='loud' (from the batch_config fixture) is not one of strict, warn, off",
    ])  # fmt: skip

    # ini sets the record mode only: it beats fixture and marker for that, the contract mode still comes from them
    pytester.makeini("[pytest]\nbatch_record_mode = once\n")
    second = pytester.runpytest_subprocess(*QUIET, "test_markers.py::test_marker_settings", "cfg")
    second.assert_outcomes(passed=2)
    assert got("test_marker_settings") == ("once", "off")
    assert got("test_fixture_settings") == ("once", "warn")

    # the command line beats the ini: the marker's `once` is overridden by `none`, so nothing may be recorded
    third = pytester.runpytest_subprocess(
        *QUIET, "--batch-record-mode=none", "--batch-contract=strict",
        "test_markers.py::test_marker_settings", "cfg", "test_cli.py",
    )  # fmt: skip
    third.assert_outcomes(passed=2, failed=1)
    assert got("test_marker_settings") == ("none", "strict")
    assert got("test_fixture_settings") == ("none", "strict")
    third.stdout.fnmatch_lines(["*cassettes/test_cli/never.yaml: no such cassette in record mode 'none'*"])
    assert not (pytester.path / "cassettes/test_cli").exists()
