"""Every HTTP client vcrpy patches records against the emulator and replays offline with the same results.

One pytester project holds one test per client (azure-batch sync and aio, requests, httpx sync and async,
aiohttp, urllib3). Each creates a job (POST with a JSON body), gets it and lists jobs, asserts on the data and
writes what it saw to a file. The project is recorded (`--batch-record-mode=once`, emulator) and then replayed in
a fresh process whose conftest makes every `socket.connect` raise, loopback included: the replay can only
succeed from the cassettes. The two runs must see the same data, and the cassettes must hold no live endpoint,
key or signature (httpx's recorded Host header included), and an aio client the test left open must close at
teardown without leaking a socket.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from .projects import BLOCKING_CONFTEST

pytest_plugins = ["pytester"]


BLOCK_PROBE = '''
import os
import socket


def test_block_is_what_the_outer_test_expects():
    """Proves the block is active in the replay run (loopback too) and absent when recording."""
    blocked = os.environ.get("PB_BLOCK_NETWORK") == "1"
    probe = socket.socket()
    try:
        probe.settimeout(0.5)
        probe.connect(("127.0.0.1", 9))
    except OSError as error:
        assert ("network blocked" in str(error)) is blocked
    else:
        assert not blocked
    finally:
        probe.close()
'''

MATRIX = '''
import asyncio
import json
import os
import pathlib

API = "api-version=2025-06-01"
JSON = {"Content-Type": "application/json; odata=minimalmetadata"}


def keep(name, endpoint, job, listed):
    """Assert on the data, then write it for the outer test to compare between the two runs."""
    assert endpoint.kind == os.environ["PB_EXPECT_KIND"]
    assert job["id"] == name and job["priority"] == 7 and job["state"] == "active"
    assert job["poolInfo"] == {"poolId": "pool-1"}
    assert name in listed
    out = pathlib.Path(os.environ["PB_RESULTS"])
    out.mkdir(parents=True, exist_ok=True)
    seen = {key: job[key] for key in ("id", "priority", "state", "poolInfo", "eTag", "creationTime")}
    (out / f"{name}.json").write_text(json.dumps({"job": seen, "listed": sorted(listed)}, sort_keys=True))


def calls(endpoint, job_id):
    """(method, url, signed headers, body) for create, get and list, signed for this endpoint."""
    body = json.dumps({"id": job_id, "poolInfo": {"poolId": "pool-1"}, "priority": 7}).encode()
    out = []
    for method, path, headers, data in (
        ("POST", "/jobs", JSON, body),
        ("GET", f"/jobs/{job_id}", {}, b""),
        ("GET", "/jobs", {}, b""),
    ):
        url = f"{endpoint.url}{path}?{API}"
        out.append((method, url, endpoint.signed_headers(method, url, headers, data), data or None))
    return out


def check_raw(name, endpoint, replies):
    (created, _), (got, job), (listed, jobs) = replies
    assert (created, got, listed) == (201, 200, 200)
    keep(name, endpoint, json.loads(job), [j["id"] for j in json.loads(jobs)["value"]])


def test_azure_batch_sync(batch_client, batch_endpoint):
    from azure.batch import models

    batch_client.create_job(
        models.BatchJobCreateOptions(id="sdk-sync", pool_info=models.BatchPoolInfo(pool_id="pool-1"), priority=7)
    )
    job = batch_client.get_job("sdk-sync").as_dict()
    keep("sdk-sync", batch_endpoint, job, [j.id for j in batch_client.list_jobs()])


def test_azure_batch_aio(batch_async_client, batch_endpoint):
    from azure.batch import models

    async def main():
        async with batch_async_client as client:
            await client.create_job(
                models.BatchJobCreateOptions(id="sdk-aio", pool_info=models.BatchPoolInfo(pool_id="pool-1"), priority=7)
            )
            job = await client.get_job("sdk-aio")
            return job.as_dict(), [j.id async for j in client.list_jobs()]

    keep("sdk-aio", batch_endpoint, *asyncio.run(main()))


def test_azure_batch_aio_left_open(batch_async_client, batch_endpoint):
    """Never closes its client: the fixture must close it at teardown without an error or a warning."""
    from azure.batch import models

    async def main():
        await batch_async_client.create_job(
            models.BatchJobCreateOptions(id="sdk-open", pool_info=models.BatchPoolInfo(pool_id="pool-1"), priority=7)
        )
        job = await batch_async_client.get_job("sdk-open")
        return job.as_dict(), [j.id async for j in batch_async_client.list_jobs()]

    keep("sdk-open", batch_endpoint, *asyncio.run(main()))


def test_requests(batch_endpoint, batch_cassette):
    import requests

    with requests.Session() as session:
        replies = [(r.status_code, r.text) for r in (
            session.request(m, u, headers=h, data=b) for m, u, h, b in calls(batch_endpoint, "requests")
        )]
    check_raw("requests", batch_endpoint, replies)


def test_httpx_sync(batch_endpoint, batch_cassette):
    import httpx

    with httpx.Client() as client:
        replies = [(r.status_code, r.text) for r in (
            client.request(m, u, headers=h, content=b) for m, u, h, b in calls(batch_endpoint, "httpx-sync")
        )]
    check_raw("httpx-sync", batch_endpoint, replies)


def test_httpx_async(batch_endpoint, batch_cassette):
    import httpx

    async def main():
        async with httpx.AsyncClient() as client:
            replies = []
            for m, u, h, b in calls(batch_endpoint, "httpx-async"):
                r = await client.request(m, u, headers=h, content=b)
                replies.append((r.status_code, r.text))
            return replies

    check_raw("httpx-async", batch_endpoint, asyncio.run(main()))


def test_aiohttp(batch_endpoint, batch_cassette):
    import aiohttp

    async def main():
        async with aiohttp.ClientSession() as session:
            replies = []
            for m, u, h, b in calls(batch_endpoint, "aiohttp"):
                async with session.request(m, u, headers=h, data=b) as r:
                    replies.append((r.status, await r.text()))
            return replies

    check_raw("aiohttp", batch_endpoint, asyncio.run(main()))


def test_urllib3(batch_endpoint, batch_cassette):
    import urllib3

    pool = urllib3.PoolManager()
    replies = [(r.status, r.data.decode()) for r in (
        pool.request(m, u, headers=h, body=b) for m, u, h, b in calls(batch_endpoint, "urllib3")
    )]
    pool.clear()
    check_raw("urllib3", batch_endpoint, replies)
'''

# test name in the project -> the job it creates
JOB_IDS = {
    "azure_batch_sync": "sdk-sync", "azure_batch_aio": "sdk-aio", "azure_batch_aio_left_open": "sdk-open",
    "requests": "requests", "httpx_sync": "httpx-sync", "httpx_async": "httpx-async", "aiohttp": "aiohttp",
    "urllib3": "urllib3",
}  # fmt: skip
CLIENT_TESTS = tuple(JOB_IDS)
CALLS_PER_TEST = 3  # create, get, list
SUMMARY = re.compile(
    r"(\d+) Batch interactions? checked in (\d+) tests? \((\d+) other calls? skipped\): (\d+) errors?, (\d+) warnings?"
)
# What a client left open at teardown shows: the socket's and the transport's ResourceWarnings (as pytest's
# unraisable-exception warnings once collected), aiohttp's own complaints, a closed loop.
TEARDOWN_NOISE = (
    "unclosed",
    "Unclosed",
    "Exception ignored",
    "Event loop is closed",
    "Unraisable",
    "Task was destroyed",
)


def _summary(result) -> tuple[int, ...]:
    found = SUMMARY.findall(result.stdout.str())
    assert len(found) == 1, result.stdout.str()
    return tuple(int(n) for n in found[0])


def _noise(result) -> list[str]:
    text = result.stdout.str() + result.stderr.str()
    return [line for line in text.splitlines() if any(noise in line for noise in TEARDOWN_NOISE)]


def _run(pytester, monkeypatch, phase: str, *args: str):
    """One fresh pytest process; `phase` picks the results folder, the expected endpoint kind and the block."""
    monkeypatch.setenv("PB_RESULTS", str(pytester.path / f"seen-{phase}"))
    monkeypatch.setenv("PB_EXPECT_KIND", "emulator" if phase == "record" else "replay")
    monkeypatch.setenv("PB_BLOCK_NETWORK", "1" if phase == "replay" else "0")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", "-W", "default::ResourceWarning", *args)
    result.assert_outcomes(passed=len(CLIENT_TESTS) + 1)  # + the probe that the block is (or is not) active
    expected = (len(CLIENT_TESTS) * CALLS_PER_TEST, len(CLIENT_TESTS), 0, 0, 0)  # batch, tests, skipped, E, W
    assert _summary(result) == expected
    return result, {p.stem: json.loads(p.read_text()) for p in (pytester.path / f"seen-{phase}").glob("*.json")}


def _assert_sanitised(folder: Path) -> None:
    from pytest_batch.emulator import default_key
    from pytest_batch.emulator.server import DEFAULT_ACCOUNT

    files = sorted(folder.glob("*.yaml"))
    assert [f.stem for f in files] == sorted(f"test_{name}" for name in CLIENT_TESTS)
    for file in files:
        text = file.read_text()
        assert default_key(DEFAULT_ACCOUNT) not in text, file
        assert not re.search(r"SharedKey\s+(?!ACCOUNT:REDACTED\b)", text), file
        interactions = yaml.safe_load(text)["interactions"]
        assert len(interactions) == CALLS_PER_TEST, file
        for interaction in interactions:
            request = interaction["request"]
            assert request["uri"].startswith("https://ACCOUNT.REGION.batch.azure.com/jobs"), request["uri"]
            auth = {k.lower(): v for k, v in request["headers"].items()}["authorization"]
            assert auth == ["SharedKey ACCOUNT:REDACTED"], (file, auth)
        assert "127.0.0.1" not in repr(interactions) and "localhost" not in repr(interactions), file
        assert interactions[0]["request"]["method"] == "POST"
        assert json.loads(interactions[0]["request"]["body"])["priority"] == 7  # the JSON body was recorded


def test_every_client_records_against_the_emulator_and_replays_offline(pytester, monkeypatch):
    pytester.makeconftest(BLOCKING_CONFTEST)
    pytester.makepyfile(test_matrix=MATRIX, test_block=BLOCK_PROBE)
    _, recorded = _run(pytester, monkeypatch, "record", "--batch-record-mode=once")
    assert sorted(recorded) == sorted(JOB_IDS.values())
    folder = pytester.path / "cassettes" / "test_matrix"
    _assert_sanitised(folder)
    before = {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in folder.iterdir()}

    result, replayed = _run(pytester, monkeypatch, "replay", "--batch-record-mode=none")
    assert replayed == recorded  # same jobs, eTags, creation times and listings, offline
    assert {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in folder.iterdir()} == before
    assert _noise(result) == []  # replay opens no socket, so even the client left open leaves nothing behind


def test_aio_client_left_open_is_closed_cleanly_at_teardown(pytester, monkeypatch):
    """Record the left-open aio test, then a plain test after it, with ResourceWarnings as errors."""
    pytester.makepyfile(test_matrix=MATRIX)
    monkeypatch.setenv("PB_RESULTS", str(pytester.path / "seen"))
    monkeypatch.setenv("PB_EXPECT_KIND", "emulator")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--batch-record-mode=once", "-W", "error::ResourceWarning",
        "-W", "error::pytest.PytestUnraisableExceptionWarning",
        "test_matrix.py::test_azure_batch_aio_left_open", "test_matrix.py::test_requests",
    )  # fmt: skip
    assert _noise(result) == []
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)


def test_httpx_host_header_is_sanitised(pytester, monkeypatch):
    pytester.makepyfile(test_matrix=MATRIX)
    monkeypatch.setenv("PB_RESULTS", str(pytester.path / "seen"))
    monkeypatch.setenv("PB_EXPECT_KIND", "emulator")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--batch-record-mode=once", "test_matrix.py::test_httpx_sync"
    )
    result.assert_outcomes(passed=1)
    text = (pytester.path / "cassettes" / "test_matrix" / "test_httpx_sync.yaml").read_text()
    hosts = {v for i in yaml.safe_load(text)["interactions"] for v in i["request"]["headers"].get("host", [])}
    assert hosts <= {"ACCOUNT.REGION.batch.azure.com"}, hosts
    assert "127.0.0.1" not in text
