"""Fork server for tests/plugin/test_kill_recording.py: children that record Batch cassettes until killed.

Run as `python record_forever.py CONFIG_JSON`. The parent (the test) starts it once; it imports and warms up
vcrpy, requests and pytest-batch (one throwaway recording into `warm_dir`), then serves one-line JSON commands
on stdin, answering each with one JSON line on stdout:

- `{"op": "run", "path", "mode", "first_gen", "gens", "kill_at"}` forks a child that records generation
  `first_gen`, `first_gen + 1`, ... of the cassette at `path` through the plugin's own `CassetteRecording`
  (`mode` `rewrite` or `all`), each generation `jobs` real GETs against the emulator, until it is killed (or
  after `gens` generations, exit 0). `kill_at: [event, n]` makes the child SIGKILL itself the n-th time it
  reaches `event` (see below); answers `{"pid": ...}`.
- `{"op": "replay", "path"}` forks a child that replays the cassette in record mode `none`; exit 0 when every
  request was answered from it.
- `{"op": "reap", "pid"}` waits for that child; answers `{"signal": ..., "exit": ...}`.

Forking from a warmed-up process makes each trial's process ready in milliseconds instead of the ~1 s a fresh
interpreter (or pytest) needs, so hundreds of kills fit in the time budget.

Children report progress on the inherited `events_fd` pipe, one line per event (`pid gen event monotonic`),
written with one `os.write` before the step runs, so the last line a killed child wrote names the step it was
killed in. Explicit events: `begin` (before `CassetteRecording.start`), `started`, `saving` (before `stop`, which
serialises and writes), `saved`, `done` (all `gens` recorded), `refused` (start raised `RecordingError`),
`error`. Events seen by an audit hook (the plugin's code runs unchanged; the hook only watches): `aside` and
`restore` (prepare_rewrite's renames), `mkstemp` (before the temp file is created), `write` (created and opened,
nothing written yet), `chmod` (written and fsynced, before the rename), `rename` (temp file onto the cassette,
before the syscall), `dirsync` (directory opened for fsync, after the rename), `commit` (the rewrite backup
about to be deleted).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import requests

from pytest_batch.errors import RecordingError
from pytest_batch.recording import CassettePlan, CassetteRecording
from pytest_batch.sanitize import Sanitizer, literal_rule
from pytest_batch.targets import REPLAY, BatchEndpoint

API = "api-version=2025-06-01"
MAX_GENERATIONS = 40  # a child nobody kills stops on its own


def request_id(gen: int, index: int, jobs: int) -> str:
    """The client-request-id of request `index` of generation `gen`: a UUID that says which generation it is.

    The header is not part of replay matching, so `all` mode replaces the previous generation's interactions
    instead of keeping them, and the emulator echoes it, so request and response both carry the generation.
    """
    return f"{gen:08d}-{index:04d}-4000-8000-{jobs:012d}"


class Child:
    """A forked child's event reporting, and its self-kill at the n-th occurrence of a named step."""

    def __init__(self, config: dict, path: Path, kill_at: list | None) -> None:
        self.fd = config["events_fd"]
        self.path = path
        self.backup = path.with_name(path.name + ".rewrite-backup")
        self.tmp_prefix = f".{path.name}."
        self.gen = 0
        self.kill_event, self.kill_nth = kill_at if kill_at else (None, 0)
        self.seen = 0
        self.creating = False  # between the temp file's mkstemp and its fdopen

    def emit(self, event: str) -> None:
        os.write(self.fd, f"{os.getpid()} {self.gen} {event} {time.monotonic():.6f}\n".encode())
        if event == self.kill_event:
            self.seen += 1
            if self.seen == self.kill_nth:
                os.kill(os.getpid(), signal.SIGKILL)

    def audit(self, event: str, args: tuple) -> None:
        """Name the save and rewrite steps as the plugin reaches them (before the audited call runs)."""
        if event == "tempfile.mkstemp":
            if Path(args[0]).parent == self.path.parent and Path(args[0]).name.startswith(self.tmp_prefix):
                self.creating = True
                self.emit("mkstemp")
        elif event == "os.chmod":
            if isinstance(args[0], (str, bytes, os.PathLike)) and Path(os.fsdecode(args[0])).name.startswith(
                self.tmp_prefix
            ):
                self.emit("chmod")
        elif event == "os.rename":
            src, dst = Path(os.fsdecode(args[0])), Path(os.fsdecode(args[1]))
            if src == self.path and dst == self.backup:
                self.emit("aside")
            elif src == self.backup and dst == self.path:
                self.emit("restore")
            elif dst == self.path and src.name.startswith(self.tmp_prefix):
                self.emit("rename")
        elif event == "open":
            if self.creating and isinstance(args[0], int):  # os.fdopen of the new, still empty temp file
                self.creating = False
                self.emit("write")
            elif isinstance(args[0], (str, bytes, os.PathLike)) and os.fsdecode(args[0]) == os.fspath(self.path.parent):
                self.emit("dirsync")
        elif event == "os.remove" and Path(os.fsdecode(args[0])) == self.backup:
            self.emit("commit")


def endpoint_and_sanitizer(config: dict) -> tuple[BatchEndpoint, Sanitizer]:
    """As the `batch_cassette` fixture builds them for a recording against the emulator."""
    endpoint = BatchEndpoint(config["endpoint"], config["account"], config["key"], "emulator")
    rules = [literal_rule("endpoint", endpoint.url, REPLAY.url), literal_rule("account key", endpoint.key)]
    return endpoint, Sanitizer().with_rules(*rules)


def record(config: dict, path: Path, mode: str, first_gen: int, gens: int, child: Child | None) -> None:
    endpoint, sanitizer = endpoint_and_sanitizer(config)
    plan = CassettePlan(path, mode, sanitizer)
    jobs = config["jobs"]
    session = requests.Session()  # never a connection inherited from the fork server
    emit = child.emit if child is not None else (lambda event: None)
    for gen in range(first_gen, first_gen + gens):
        if child is not None:
            child.gen = gen
        emit("begin")
        try:
            recording = CassetteRecording(plan).start()
        except RecordingError as error:
            emit("refused")
            sys.stderr.write(f"refused: {error}\n")
            os._exit(2)
        emit("started")
        for index in range(jobs):
            url = f"{endpoint.url}/jobs/kill-job-{index}?{API}"
            headers = {"client-request-id": request_id(gen, index, jobs), "return-client-request-id": "true"}
            response = session.get(url, headers=endpoint.signed_headers("GET", url, headers), timeout=10)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} -> {response.status_code}: {response.text[:200]}")
        emit("saving")
        recording.stop(failed=False)
        emit("saved")
    session.close()


def replay(config: dict, path: Path) -> None:
    """Replay the cassette in record mode `none` (no request reaches a server); every request must match."""
    endpoint, sanitizer = endpoint_and_sanitizer(config)
    recording = CassetteRecording(CassettePlan(path, "none", sanitizer)).start()
    jobs = config["jobs"]
    session = requests.Session()
    try:
        gens = set()
        for index in range(jobs):
            url = f"{endpoint.url}/jobs/kill-job-{index}?{API}"
            response = session.get(url, headers=endpoint.signed_headers("GET", url), timeout=10)
            assert response.status_code == 200, response.status_code
            assert response.json()["id"] == f"kill-job-{index}"
            gens.add(int(response.headers["client-request-id"].split("-")[0]))
        assert len(gens) == 1, gens
    finally:
        recording.stop(failed=False)


def fork_child(config: dict, command: dict) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:  # the child never returns into the command loop
        path = Path(command["path"])
        if command["op"] == "replay":
            replay(config, path)
        else:
            child = Child(config, path, command.get("kill_at"))
            sys.addaudithook(child.audit)
            gens = command.get("gens") or MAX_GENERATIONS
            record(config, path, command["mode"], command["first_gen"], gens, child)
            code = 0 if command.get("gens") else 3
            child.emit("done")
    except BaseException as error:  # noqa: BLE001 - reported to the parent, then a non-zero exit
        try:
            os.write(config["events_fd"], f"{os.getpid()} 0 error {time.monotonic():.6f}\n".encode())
            sys.stderr.write(f"child {os.getpid()}: {type(error).__name__}: {error}\n")
            sys.stderr.flush()
        finally:
            os._exit(4)
    os._exit(code)


def main() -> None:
    config = json.loads(sys.argv[1])
    warm = Path(config["warm_dir"]) / "warm.yaml"
    record(config, warm, "rewrite", 0, 1, None)  # import and exercise every lazy path once
    replay(config, warm)
    out = sys.stdout
    out.write(json.dumps({"ready": os.getpid()}) + "\n")
    out.flush()
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] in ("run", "replay"):
            answer = {"pid": fork_child(config, command)}
        elif command["op"] == "reap":
            _, status = os.waitpid(command["pid"], 0)
            answer = {
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
                "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            }
        else:
            answer = {"error": f"unknown op {command['op']!r}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
