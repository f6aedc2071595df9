"""pytest-xdist: workers record and replay their own cassettes, share one safely, and report to the controller.

Each scenario is a pytester project run in fresh processes with `-n`: recording with 2 and 4 workers (each
worker starts its own emulator), replaying with 4 workers and every `socket.connect` refused, two workers
writing one cassette in `new_episodes` mode, and the session report built by the controller from the findings
the workers send back.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

from .projects import BLOCKING_CONFTEST

pytest_plugins = ["pytester"]


# One test per job: create it (POST with a JSON body), get it back, check what came back.
JOB_TEST = """

def test_job_{n}(batch_client, batch_endpoint):
    from azure.batch import models

    job_id = "{module}-{n}"
    batch_client.create_job(
        models.BatchJobCreateOptions(id=job_id, pool_info=models.BatchPoolInfo(pool_id="pool-{n}"), priority={n})
    )
    job = batch_client.get_job(job_id)
    assert (job.id, job.priority, job.pool_info.pool_id) == (job_id, {n}, "pool-{n}")
"""
MODULES = ("alpha", "beta", "gamma")
TESTS_PER_MODULE = 4
CALLS_PER_TEST = 2
SUMMARY = re.compile(r"^\d+ Batch interactions? checked in \d+ tests? .*$", re.MULTILINE)
COUNTS = re.compile(r"(\d+) Batch interactions? checked in (\d+) tests? \((\d+) other calls? skipped\): (\d+) errors?")


def _project(pytester, tests_per_module: int = TESTS_PER_MODULE) -> None:
    pytester.makeconftest(BLOCKING_CONFTEST)
    for module in MODULES:
        source = "".join(JOB_TEST.format(module=module, n=n) for n in range(tests_per_module))
        pytester.makepyfile(**{f"test_{module}": source})


def _run(pytester, monkeypatch, *args: str, block: bool = False):
    monkeypatch.setenv("PB_BLOCK_NETWORK", "1" if block else "0")
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def _summary(result) -> str:
    lines = SUMMARY.findall(result.stdout.str())
    assert len(lines) == 1, result.stdout.str()
    return lines[0]


def _counts(result) -> tuple[int, ...]:
    found = COUNTS.search(_summary(result))
    assert found is not None
    return tuple(int(n) for n in found.groups())


def _check_cassettes(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every cassette is there, whole, valid YAML, and holds only its own test's job: one writer per file."""
    seen = {}
    for module in MODULES:
        folder = root / "cassettes" / f"test_{module}"
        assert sorted(p.name for p in folder.iterdir()) == [f"test_job_{n}.yaml" for n in range(TESTS_PER_MODULE)]
        for n in range(TESTS_PER_MODULE):
            path = folder / f"test_job_{n}.yaml"
            cassette = yaml.safe_load(path.read_text())
            assert cassette["version"] == 1
            interactions = cassette["interactions"]
            assert [i["request"]["method"] for i in interactions] == ["POST", "GET"], path
            job_id = f"{module}-{n}"
            assert json.loads(interactions[0]["request"]["body"])["id"] == job_id
            assert interactions[1]["request"]["uri"].split("?")[0].endswith(f"/jobs/{job_id}")
            assert [i["response"]["status"]["code"] for i in interactions] == [201, 200]
            assert json.loads(interactions[1]["response"]["body"]["string"])["id"] == job_id
            seen[path.relative_to(root).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
    return seen


def test_record_with_2_and_4_workers_then_replay_offline_with_4(pytester, monkeypatch):
    _project(pytester)
    expected = (len(MODULES) * TESTS_PER_MODULE * CALLS_PER_TEST, len(MODULES) * TESTS_PER_MODULE, 0, 0)
    for workers in ("2", "4"):
        shutil.rmtree(pytester.path / "cassettes", ignore_errors=True)
        result = _run(pytester, monkeypatch, "-n", workers, "--batch-record-mode=once")
        result.assert_outcomes(passed=len(MODULES) * TESTS_PER_MODULE)
        assert f"{workers} workers" in result.stdout.str()
        assert _counts(result) == expected, workers
        recorded = _check_cassettes(pytester.path)

    result = _run(pytester, monkeypatch, "-n", "4", "--batch-record-mode=none", block=True)
    result.assert_outcomes(passed=len(MODULES) * TESTS_PER_MODULE)
    assert _counts(result) == expected
    assert _check_cassettes(pytester.path) == recorded  # replay wrote nothing, not even an mtime


SHARED = """
import json
import os
import pathlib
import time

import pytest


@pytest.fixture(autouse=True)
def rendezvous(request):
    # Both tests get here before either asks for its cassette (autouse fixtures are set up first),
    # so the two workers really contend for the cassette lock.
    pathlib.Path(f"arrived-{request.node.name}").touch()
    deadline = time.monotonic() + 30
    while not all(pathlib.Path(f"arrived-{name}").exists() for name in ("test_a", "test_b")):
        assert time.monotonic() < deadline, "the other worker never arrived"
        time.sleep(0.01)


def _body(batch_client, batch_endpoint, job_id):
    from azure.batch import models

    began = time.time()
    batch_client.create_job(models.BatchJobCreateOptions(id=job_id, pool_info=models.BatchPoolInfo(pool_id="p")))
    assert batch_client.get_job(job_id).id == job_id
    time.sleep(0.2)  # unserialised, the other worker's test would run meanwhile
    record = {"worker": os.environ.get("PYTEST_XDIST_WORKER"), "began": began, "ended": time.time()}
    with open(f"ran-{job_id}.json", "w") as handle:
        json.dump(record, handle)


@pytest.mark.batch_cassette(name="shared")
def test_a(batch_client, batch_endpoint):
    _body(batch_client, batch_endpoint, "shared-a")


@pytest.mark.batch_cassette(name="shared")
def test_b(batch_client, batch_endpoint):
    _body(batch_client, batch_endpoint, "shared-b")
"""


def test_two_workers_add_to_one_cassette_in_new_episodes_mode(pytester, monkeypatch):
    """xdist hands 2 tests to 2 workers round robin; they meet, then the cassette lock makes the second wait for
    the first's save, so the cassette ends with both tests' interactions."""
    pytester.makeconftest(BLOCKING_CONFTEST)
    pytester.makepyfile(test_shared=SHARED)
    result = _run(pytester, monkeypatch, "-n", "2", "--batch-record-mode=new_episodes")
    result.assert_outcomes(passed=2)
    assert _counts(result) == (4, 2, 0, 0)
    runs = [json.loads((pytester.path / f"ran-shared-{x}.json").read_text()) for x in "ab"]
    assert {run["worker"] for run in runs} == {"gw0", "gw1"}  # really two processes
    first, second = sorted(runs, key=lambda run: run["began"])
    assert first["ended"] <= second["began"]  # serialised by the lock, not interleaved

    folder = pytester.path / "cassettes" / "test_shared"
    assert sorted(p.name for p in folder.iterdir()) == ["shared.yaml"]
    interactions = yaml.safe_load((folder / "shared.yaml").read_text())["interactions"]
    posted = [json.loads(i["request"]["body"])["id"] for i in interactions if i["request"]["method"] == "POST"]
    assert sorted(posted) == ["shared-a", "shared-b"] and len(interactions) == 4  # both tests' traffic kept

    replay = _run(pytester, monkeypatch, "-n", "2", "--batch-record-mode=none", block=True)
    replay.assert_outcomes(passed=2)


def _plant(cassette: Path) -> None:
    """Make the recorded get-job response break the spec where the test does not look: an integer as text."""
    data = yaml.safe_load(cassette.read_text())
    response = data["interactions"][1]["response"]
    job = json.loads(response["body"]["string"])
    job["maxParallelTasks"] = "many"
    response["body"]["string"] = json.dumps(job)
    cassette.write_text(yaml.safe_dump(data))


def test_findings_reach_the_controller(pytester, monkeypatch):
    """A report built from the workers' findings equals the one a single process builds."""
    _project(pytester, tests_per_module=2)
    recorded = _run(pytester, monkeypatch, "--batch-record-mode=once")
    recorded.assert_outcomes(passed=6)
    for module in ("alpha", "gamma"):
        _plant(pytester.path / "cassettes" / f"test_{module}" / "test_job_1.yaml")

    single = _run(pytester, monkeypatch, "--batch-contract=off", "--batch-report=r1.json", block=True)
    single.assert_outcomes(passed=6)
    spread = _run(pytester, monkeypatch, "-n", "2", "--batch-contract=off", "--batch-report=r2.json", block=True)
    spread.assert_outcomes(passed=6)
    assert "2 workers" in spread.stdout.str()
    one, two = (json.loads((pytester.path / name).read_text()) for name in ("r1.json", "r2.json"))
    assert one["totals"]["errors"] >= 2 and one["input"]["tests"] == 6 and one["totals"]["batch"] == 12
    assert two["totals"] == one["totals"]
    assert two == one  # every test's summary too, in the same (sorted) order
    assert _summary(spread) == _summary(single)
    failing = {t["nodeid"] for t in one["tests"] if t["errors"]}
    assert failing == {"test_alpha.py::test_job_1", "test_gamma.py::test_job_1"}
    [planted] = [f for f in one["findings"] if f["instance_pointer"] == "/maxParallelTasks"]
    assert {t["nodeid"] for t in one["tests"] if planted["id"] in t["findings"]} == failing
