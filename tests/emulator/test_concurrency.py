"""Concurrent clients against one emulator: every request is served under the state lock, so
concurrent adds lose and duplicate nothing and exactly one of N writers holding the same ETag wins."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qsl, urlsplit

from .conftest import Raw
from .test_tasks import POOL

THREADS = 8
TASKS_PER_THREAD = 1000


def _run(workers: list[threading.Thread]) -> None:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers), "a worker thread hung"


def _all_task_ids(raw) -> tuple[list[str], int]:
    """Every task id of job-1, following `odata.nextLink` page by page; also the number of pages."""
    ids: list[str] = []
    pages = 0
    response = raw("GET", "/jobs/job-1/tasks", params={"maxresults": 1000, "$select": "id"})
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        ids.extend(task["id"] for task in body["value"])
        pages += 1
        link = body.get("odata.nextLink")
        if not link:
            return ids, pages
        parts = urlsplit(link)
        response = raw("GET", parts.path, params=dict(parse_qsl(parts.query)), api_version=None)


def test_eight_threads_adding_a_thousand_tasks_each_lose_and_duplicate_nothing(raw, emulator):
    assert raw("POST", "/jobs", json={"id": "job-1", "poolInfo": {"poolId": POOL}}).status_code == 201
    failures: list[str] = []

    def add_tasks(worker: int) -> None:
        session = Raw(emulator)  # one HTTP session (connection) per thread
        for number in range(TASKS_PER_THREAD):
            task_id = f"w{worker}-{number:04d}"
            response = session("POST", "/jobs/job-1/tasks", json={"id": task_id, "commandLine": "echo"})
            if response.status_code != 201:
                failures.append(f"{task_id}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    _run([threading.Thread(target=add_tasks, args=(worker,)) for worker in range(THREADS)])
    elapsed = time.perf_counter() - started
    assert not failures, failures[:5]
    ids, pages = _all_task_ids(raw)
    expected = {f"w{worker}-{number:04d}" for worker in range(THREADS) for number in range(TASKS_PER_THREAD)}
    assert len(ids) == len(expected), f"{len(expected) - len(ids)} lost or {len(ids) - len(expected)} duplicated"
    assert len(set(ids)) == len(ids), "duplicated tasks"
    assert set(ids) == expected
    assert pages == THREADS * TASKS_PER_THREAD // 1000
    print(f"\n{THREADS * TASKS_PER_THREAD} single adds from {THREADS} threads in {elapsed:.1f} s")


def test_concurrent_patches_with_the_same_if_match_let_exactly_one_win(raw, emulator):
    assert raw("POST", "/jobs", json={"id": "job-1", "poolInfo": {"poolId": POOL}}).status_code == 201
    etag = raw("GET", "/jobs/job-1").headers["ETag"]
    start = threading.Barrier(THREADS)
    outcomes: list[tuple[int, int, str]] = []

    def patch(worker: int) -> None:
        session = Raw(emulator)
        start.wait()
        response = session("PATCH", "/jobs/job-1", json={"priority": worker + 1}, headers={"If-Match": etag})
        code = response.json()["code"] if response.status_code != 200 else ""
        outcomes.append((response.status_code, worker + 1, code))

    _run([threading.Thread(target=patch, args=(worker,)) for worker in range(THREADS)])
    statuses = sorted(status for status, _, _ in outcomes)
    assert statuses == [200] + [412] * (THREADS - 1)
    assert {code for status, _, code in outcomes if status == 412} == {"ConditionNotMet"}
    [winner] = [priority for status, priority, _ in outcomes if status == 200]
    assert raw("GET", "/jobs/job-1").json()["priority"] == winner
