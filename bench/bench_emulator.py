#!/usr/bin/env python
"""The embedded emulator under load on loopback: get-job and add-task, against two peers.

    python bench/bench_emulator.py [--duration 4] [--repeats 3] [--connections 1,4] [--quick]
                                   [--no-prism] [--profile]

In one run, with the same load generator (wrk, one wrk thread, N keep-alive connections, a
closed loop), on the same two operations (api-version 2025-06-01, Bearer auth):

  emulator        `pytest_batch.emulator.Emulator` (stdlib threaded HTTP/1.1 server) in a child
                  process, job `bench-job` created beforehand; add-task creates a new task per
                  request (unique zero-padded ids, so Content-Length stays constant).
  emulator-sk     the same emulator process with SharedKey auth (a pre-signed header: the
                  signature does not cover the body, so one header serves every add-task).
  prism           Prism (`@stoplight/prism-cli`, installed under bench/out/prism, not a
                  project dependency) mocking the same spec (a copy without `x-ms-examples`,
                  whose files the 2025-06-01 spec does not ship), `--verboseLevel silent`.
  floor           a bare stdlib `ThreadingHTTPServer` (HTTP/1.1 keep-alive) answering the
                  same two routes with a fixed small JSON body: the floor for a Python server.
  floor-close     the floor, but closing the connection after every response (what Werkzeug's
                  development server, the emulator's first HTTP layer, did): a diagnostic.

Each cell (server x operation x connections) runs `--duration` seconds, `--repeats` times,
interleaved (repeat 1 of every cell, then repeat 2, ...) so that a change in the machine's load
hits every server alike; the median of the repeats is reported. p50/p99 come from wrk's latency
histogram (request written -> response read; TCP connects are not in it). The load average is
recorded before every repeat.

Goal: the emulator's throughput >= Prism's, and its p99 <= 5 ms, for both operations.
`--profile` also profiles the emulator (py-spy on the server under wrk, all busy threads and
GIL holders only; `Service.handle` timed and cProfiled without HTTP; written to
bench/out/emulator-profile*.txt).

Results: a table on stdout and bench/out/emulator.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import OUT, ROOT, code_fingerprint, machine, median, spec_file, table, write_json

API_VERSION = "2025-06-01"
JOB = "bench-job"
GET_PATH = f"/jobs/{JOB}"
ADD_PATH = f"/jobs/{JOB}/tasks"
QUERY = f"api-version={API_VERSION}"
JSON_TYPE = "application/json; odata=minimalmetadata"
BEARER = "Bearer bench-token"
# add-task body: the id is <prefix><8 digits>, prefix of fixed width, so every body has the same length
BODY_TEMPLATE = '{"id":"%s%08d","commandLine":"/bin/sh -c \\"echo bench\\""}'
PREFIX_WIDTH = 8
TARGET_P99_MS = 5.0
PRISM_DIR = OUT / "prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
OPERATIONS = ("get-job", "add-task")


def body_for(prefix: str, n: int) -> str:
    return BODY_TEMPLATE % (prefix, n)


# ----------------------------------------------------------------------------------------
# servers (child processes: `--serve KIND` prints one JSON line when ready, serves until
# stdin closes, then prints one JSON line of statistics)
# ----------------------------------------------------------------------------------------

FLOOR_JOB = b'{"id":"bench-job","state":"active","priority":0,"poolInfo":{"poolId":"bench-pool"}}'


def serve_floor(close: bool) -> dict:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Floor(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: without this, 40 ms delayed ACKs

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Content-Length", str(len(FLOOR_JOB)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(FLOOR_JOB)

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            self._answer(200 if path.startswith("/jobs/") and path.count("/") == 2 else 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.partition("?")[0]
            self._answer(201 if path.startswith("/jobs/") and path.endswith("/tasks") else 404)

        def log_message(self, format, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address) -> None:  # wrk closes connections mid-request at the end
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Floor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready({"port": server.server_address[1]})
    sys.stdin.read()
    server.shutdown()
    return {}


def serve_emulator() -> dict:
    import http.client

    from pytest_batch.emulator import Emulator

    emu = Emulator(account="bench", bearer=lambda token: True).start()
    port = emu.port
    conn = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"id": JOB, "poolInfo": {"poolId": "bench-pool"}})
    conn.request("POST", f"/jobs?{QUERY}", body=body, headers={"Authorization": BEARER, "Content-Type": JSON_TYPE})
    response = conn.getresponse()
    response.read()
    if response.status != 201:
        raise SystemExit(f"emulator: creating {JOB} answered {response.status}")
    conn.close()
    ready({"port": port, "account": emu.account, "key": emu.key, "pid": os.getpid()})
    sys.stdin.read()
    tasks = len(emu.state.tasks_of(JOB))
    emu.stop()
    return {"tasks_in_job": tasks, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def ready(info: dict) -> None:
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()


class Child:
    """A server in a child process of this script (`--serve KIND`)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", kind],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{kind}: the server process exited before it was ready")
        self.info = json.loads(line)
        self.port = self.info["port"]
        self.pid = self.proc.pid

    def stop(self) -> dict:
        try:
            self.proc.stdin.close()
            line = self.proc.stdout.readline()
            self.proc.wait(timeout=30)
            return json.loads(line) if line.strip() else {}
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prism_spec() -> tuple[Path, int]:
    """A copy of the spec Prism can load: the same document minus `x-ms-examples` (files not shipped)."""
    document = json.loads(spec_file(API_VERSION).read_text(encoding="utf-8"))
    removed = 0
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.pop("x-ms-examples", None) is not None:
                removed += 1
    path = OUT / f"prism-spec-{API_VERSION}.json"
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path, removed


class Prism:
    def __init__(self, spec: Path, *, verbose: str = "silent", timeout: float = 60.0) -> None:
        self.port = free_port()
        self.log_path = OUT / "prism.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (open while Prism runs, closed in stop())
        self.proc = subprocess.Popen(
            [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(self.port), "-v", verbose, str(spec)],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.pid = self.proc.pid
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prism exited ({self.proc.returncode}): {tail(self.log_path)}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    self.startup_s = time.monotonic() - start
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"prism did not listen within {timeout:.0f} s: {tail(self.log_path)}")

    def stop(self) -> dict:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the node process and any child
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return {}


def tail(path: Path, limit: int = 600) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return text[-limit:].strip()


def prism_unmodified_spec(timeout: float = 30.0) -> dict:
    """Does `prism mock` start on the spec file as published? (It did not when this was written.)"""
    port = free_port()
    log = OUT / "prism-unmodified.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec_file(API_VERSION))],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        start = time.monotonic()
        listening = False
        while time.monotonic() - start < timeout and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    listening = True
                    break
            except OSError:
                time.sleep(0.2)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
    text = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(encoding="utf-8", errors="replace"))
    fatal = next((line.split("fatal", 1)[1].strip() for line in text.splitlines() if "fatal" in line), None)
    return {"listening": listening, "exit_code": proc.returncode, "fatal": fatal}


# ----------------------------------------------------------------------------------------
# requests: what every server is sent (and a smoke check of what it answers)
# ----------------------------------------------------------------------------------------


def request_headers(target: dict, operation: str) -> dict[str, str]:
    """Headers for `operation` on `target`; SharedKey targets get a pre-signed Authorization."""
    if operation == "get-job":
        headers: dict[str, str] = {}
        method, path = "GET", GET_PATH
    else:
        headers = {"Content-Type": JSON_TYPE, "Content-Length": str(len(body_for("x" * PREFIX_WIDTH, 0)))}
        method, path = "POST", ADD_PATH
    if target.get("shared_key"):
        from pytest_batch.emulator.auth import shared_key_header

        account, key = target["shared_key"]
        headers["Authorization"] = shared_key_header(account, key, method, path, QUERY, list(headers.items()))
    else:
        headers["Authorization"] = BEARER
    headers.pop("Content-Length", None)  # wrk writes it (same value)
    return headers


def probe(port: int, method: str, path: str, headers: dict, body: str | None = None) -> dict:
    """One request on a fresh keep-alive connection (http.client sends no `Connection: close`)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body.encode() if body is not None else None, headers=headers)
        response = conn.getresponse()
        status, got, raw = response.status, response.headers, response.read()
    finally:
        conn.close()
    out = {"status": status, "body_bytes": len(raw), "connection": got.get("Connection")}
    violations = got.get("sl-violations")
    if violations:
        try:
            found = json.loads(violations)
            out["sl_violations"] = len(found)
            out["sl_violation_sample"] = found[0].get("message")
        except ValueError:
            out["sl_violations"] = violations[:200]
    if status >= 400 and raw:
        out["body"] = raw[:200].decode("utf-8", "replace")
    return out


def smoke(target: dict, prefix: str) -> dict:
    port = target["port"]
    return {
        "get-job": probe(port, "GET", f"{GET_PATH}?{QUERY}", request_headers(target, "get-job")),
        "add-task": probe(port, "POST", f"{ADD_PATH}?{QUERY}", request_headers(target, "add-task"), body_for(prefix, 0)),
    }


def behaviour(port: int) -> dict:
    """What a server answers beyond the happy path: does it validate requests and auth? (Prism and the emulator)"""
    add = f"{ADD_PATH}?{QUERY}"
    ct = {"Content-Type": JSON_TYPE}
    return {
        "get-job without Authorization": probe(port, "GET", f"{GET_PATH}?{QUERY}", {}),
        "get-job with SharedKey": probe(port, "GET", f"{GET_PATH}?{QUERY}", {"Authorization": "SharedKey bench:c2lnbmF0dXJl"}),
        "get-job without api-version": probe(port, "GET", GET_PATH, {"Authorization": BEARER}),
        "get-job, unknown job id": probe(port, "GET", f"/jobs/no-such-job?{QUERY}", {"Authorization": BEARER}),
        "add-task without commandLine": probe(port, "POST", add, {"Authorization": BEARER, **ct}, '{"id":"t1"}'),
        "add-task with id of 100 characters (maxLength 64 is in prose, not the schema)":
            probe(port, "POST", add, {"Authorization": BEARER, **ct}, json.dumps({"id": "t" * 100, "commandLine": "x"})),
        "add-task, same id twice (second)": (
            probe(port, "POST", add, {"Authorization": BEARER, **ct}, '{"id":"dup","commandLine":"x"}'),
            probe(port, "POST", add, {"Authorization": BEARER, **ct}, '{"id":"dup","commandLine":"x"}'),
        )[1],
    }


# ----------------------------------------------------------------------------------------
# load: wrk with a generated Lua script; `done` prints one JSON line
# ----------------------------------------------------------------------------------------

LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,' ..
    '"mean_us":%.1f,"max_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def lua_script(operation: str, headers: dict[str, str]) -> str:
    lines = []
    if operation == "get-job":
        lines += ['wrk.method = "GET"', f'wrk.path = "{GET_PATH}?{QUERY}"']
    else:
        lines += ['wrk.method = "POST"', f'wrk.path = "{ADD_PATH}?{QUERY}"']
    for name, value in headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if operation == "add-task":
        template = BODY_TEMPLATE.replace("\\", "\\\\").replace('"', '\\"')
        lines += [
            "local prefix = 'x'",
            "local counter = 0",
            "init = function(args) prefix = args[1] end",
            "request = function()",
            "  counter = counter + 1",
            f'  return wrk.format(nil, nil, nil, string.format("{template}", prefix, counter))',
            "end",
        ]
    return "\n".join(lines) + "\n" + LUA_DONE


def run_wrk(port: int, script: Path, connections: int, duration: float, prefix: str) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "--latency",
               "-s", str(script), f"http://127.0.0.1:{port}", "--", prefix]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    match = re.search(r"^WRK_JSON (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-800:]} {done.stderr[-800:]}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return result


class Prefixes:
    """Fixed-width task-id prefixes, unique within the run (one per add-task wrk run)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"b{self.n:0{PREFIX_WIDTH - 2}d}-"


# ----------------------------------------------------------------------------------------
# profiling (--profile)
# ----------------------------------------------------------------------------------------


def profile_live(target: dict, scripts: dict, prefixes: Prefixes, seconds: float) -> dict:
    """py-spy on the emulator process while wrk drives it (4 connections): where the server's time goes.

    Two views per operation: every thread that is not idle (threads inside send/close syscalls
    included), and only samples holding the GIL (the Python work that serialises requests)."""
    if shutil.which("py-spy") is None:
        return {"skipped": "py-spy not on PATH"}
    out = {}
    for operation in OPERATIONS:
        for view, extra in (("active", []), ("gil", ["--gil"])):
            raw = OUT / f"emulator-profile-pyspy-{operation}-{view}.txt"
            spy = subprocess.Popen(["py-spy", "record", "-p", str(target["pid"]), "-r", "250", "-d", f"{seconds + 1:g}",
                                    "--format", "raw", "--threads", *extra, "-o", str(raw)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)
            load = run_wrk(target["port"], scripts[operation], 4, seconds, prefixes())
            err = spy.communicate(timeout=60)[1]
            if spy.returncode != 0 or not raw.exists():
                out[f"{operation} {view}"] = {"error": err[-500:]}
                continue
            out[f"{operation} {view}"] = {"load_rps": load["rps"], "raw": str(raw.relative_to(ROOT)), **summarise_stacks(raw)}
    return out


# frames that mean "this thread is waiting", not working
_IDLE = ("select (selectors.py", "poll (selectors.py", "wait (threading.py", "accept (socket.py",
         "_recv_into", "readinto (socket.py", "serve_forever (socketserver.py")



def summarise_stacks(raw: Path, top: int = 30) -> dict:
    """Collapsed py-spy stacks -> busy samples by function, self and inclusive (line numbers dropped)."""
    self_counts: dict[str, int] = {}
    incl_counts: dict[str, int] = {}
    busy = total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        if frames[0].endswith(": MainThread"):  # the child's main thread waits on stdin
            continue
        if len(frames) == 1:  # a thread with no Python frame: being started or torn down
            frames.append("(no Python frame: thread start/exit)")
        if any(marker in frames[-1] for marker in _IDLE):
            continue
        busy += n
        functions = [re.sub(r":\d+\)$", ")", frame) for frame in frames[1:]]
        self_counts[functions[-1]] = self_counts.get(functions[-1], 0) + n
        for function in set(functions):
            incl_counts[function] = incl_counts.get(function, 0) + n

    def ranked(counts: dict[str, int]) -> list:
        best = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
        return [(name, n, round(100 * n / max(1, busy), 1)) for name, n in best]

    return {"samples": total, "busy_samples": busy, "self": ranked(self_counts), "inclusive": ranked(incl_counts)}


def profile_in_process(n: int = 3000) -> dict:
    """`Service.handle` without HTTP (Bearer), µs per call, and cProfile's view of where they go."""
    import cProfile
    import io
    import pstats

    from pytest_batch.emulator.server import Emulator
    from pytest_batch.emulator.service import HttpRequest

    emu = Emulator(account="bench", bearer=lambda token: True)
    emu.bind()  # a service with its URL, no serving thread
    service = emu.service
    try:
        created = service.handle(HttpRequest("POST", "/jobs", QUERY, (("Authorization", BEARER), ("Content-Type", JSON_TYPE)),
                                             json.dumps({"id": JOB, "poolInfo": {"poolId": "bench-pool"}}).encode()))
        assert created.status == 201, created
        get = HttpRequest("GET", GET_PATH, QUERY, (("Authorization", BEARER), ("Host", "127.0.0.1")))
        sk_headers = (("Host", "127.0.0.1"),)
        from pytest_batch.emulator.auth import shared_key_header

        get_sk = HttpRequest("GET", GET_PATH, QUERY, sk_headers + (
            ("Authorization", shared_key_header("bench", emu.key, "GET", GET_PATH, QUERY, [])),))
        counter = iter(range(10**9))

        def add() -> HttpRequest:
            body = body_for("p0000000", next(counter)).encode()
            return HttpRequest("POST", ADD_PATH, QUERY, (("Authorization", BEARER), ("Content-Type", JSON_TYPE),
                                                          ("Content-Length", str(len(body)))), body)

        for request in (get, get_sk, add()):
            status = service.handle(request).status
            assert status in (200, 201), status
        out: dict = {"calls": n}
        for name, make in (("get-job", lambda: get), ("get-job (SharedKey)", lambda: get_sk), ("add-task", add)):
            requests = [make() for _ in range(n)]
            start = time.perf_counter()
            for request in requests:
                service.handle(request)
            out[f"{name} us"] = (time.perf_counter() - start) / n * 1e6
        reports = {}
        for name, make in (("get-job", lambda: get), ("add-task", add)):
            requests = [make() for _ in range(n)]
            profiler = cProfile.Profile()
            profiler.enable()
            for request in requests:
                service.handle(request)
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
            reports[name] = text.getvalue()
        path = OUT / "emulator-profile-cprofile.txt"
        path.write_text("\n\n".join(f"===== {k} (x{n}, Service.handle, no HTTP) =====\n{v}" for k, v in reports.items()),
                        encoding="utf-8")
        out["report"] = str(path.relative_to(ROOT))
        return out
    finally:
        emu._server.server_close()


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per wrk run (default 4)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell, median reported (default 3)")
    parser.add_argument("--connections", default="1,4", help="comma-separated connection counts (default 1,4)")
    parser.add_argument("--quick", action="store_true", help="1 s runs, 1 repeat: a smoke run")
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out")
    parser.add_argument("--profile", action="store_true", help="also profile the emulator (py-spy, cProfile)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        serve = {"emulator": serve_emulator, "floor": lambda: serve_floor(False),
                 "floor-close": lambda: serve_floor(True)}[args.serve]
        ready(serve())
        return 0

    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    duration, repeats = (1.0, 1) if args.quick else (args.duration, max(1, args.repeats))
    connections = [int(c) for c in args.connections.split(",")]
    t0 = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.splitlines()[0].strip()
    print(f"{wrk_version}; {duration:g} s per run, {repeats} repeats, connections {connections}; load average {load_average()}")

    # --- servers -------------------------------------------------------------------------
    children: list = []
    targets: list[dict] = []
    prism_info: dict = {"used": False}
    try:
        emulator = Child("emulator")
        children.append(emulator)
        targets.append({"name": "emulator", "port": emulator.port, "pid": emulator.pid})
        targets.append({"name": "emulator-sk", "port": emulator.port, "pid": emulator.pid,
                        "shared_key": (emulator.info["account"], emulator.info["key"])})
        if args.no_prism:
            prism_info["skipped"] = "--no-prism"
        elif not PRISM_BIN.exists():
            prism_info["skipped"] = (f"{PRISM_BIN.relative_to(ROOT)} not found; install it with "
                                     f"`npm install --prefix {PRISM_DIR.relative_to(ROOT)} @stoplight/prism-cli`")
        else:
            version = subprocess.run([str(PRISM_BIN), "--version"], capture_output=True, text=True, check=False).stdout.strip()
            prism_info["version"] = version
            prism_info["unmodified_spec"] = prism_unmodified_spec()
            spec, removed = prism_spec()
            prism_info["spec_copy"] = {"path": str(spec.relative_to(ROOT)), "x_ms_examples_removed": removed}
            try:
                prism = Prism(spec)
                children.append(prism)
                prism_info.update(used=True, startup_s=round(prism.startup_s, 1), verbose="silent")
                targets.append({"name": "prism", "port": prism.port, "pid": prism.pid})
                prism_info["behaviour"] = behaviour(prism.port)
            except RuntimeError as error:
                prism_info["error"] = str(error)
        for kind in ("floor", "floor-close"):
            child = Child(kind)
            children.append(child)
            targets.append({"name": kind, "port": child.port, "pid": child.pid})
        if not prism_info["used"]:
            print(f"prism: not measured: {prism_info.get('skipped') or prism_info.get('error')}")
        elif prism_info["unmodified_spec"]["fatal"]:
            print(f"prism {prism_info['version']}: the published spec does not load: "
                  f"{prism_info['unmodified_spec']['fatal'][:160]}; using a copy without x-ms-examples "
                  f"({removed} removed), started in {prism_info['startup_s']} s")

        emulator_behaviour = behaviour(emulator.port)
        prefixes = Prefixes()
        scripts: dict[tuple[str, str], Path] = {}
        for target in targets:
            target["smoke"] = smoke(target, prefixes())
            for operation in OPERATIONS:
                path = OUT / f"wrk-{target['name']}-{operation}.lua"
                path.write_text(lua_script(operation, request_headers(target, operation)), encoding="utf-8")
                scripts[(target["name"], operation)] = path
            statuses = {op: r["status"] for op, r in target["smoke"].items()}
            print(f"  {target['name']:12} port {target['port']}: get-job -> {statuses['get-job']}, add-task -> {statuses['add-task']}")
            if statuses != {"get-job": 200, "add-task": 201}:
                raise RuntimeError(f"{target['name']} does not answer as expected: {target['smoke']}")

        # --- warm-up, then the measured runs, interleaved -------------------------------
        for target in targets:
            for operation in OPERATIONS:
                run_wrk(target["port"], scripts[(target["name"], operation)], max(connections), 1.0, prefixes())
        add_task_requests = 0
        runs: dict[tuple[str, str, int], list[dict]] = {}
        loads = []
        for rep in range(repeats):
            loads.append({"repeat": rep + 1, "before": load_average()})
            print(f"repeat {rep + 1}/{repeats}: load average {loads[-1]['before']}")
            for target in targets:
                for operation in OPERATIONS:
                    for conns in connections:
                        result = run_wrk(target["port"], scripts[(target["name"], operation)], conns, duration, prefixes())
                        result["load_before"] = loads[-1]["before"]
                        runs.setdefault((target["name"], operation, conns), []).append(result)
                        if operation == "add-task" and target["name"].startswith("emulator"):
                            add_task_requests += result["requests"]
                        if result["errors"]:
                            print(f"    ! {target['name']} {operation} c={conns}: {result['errors']} errors "
                                  f"(status {result['status_errors']}, connect {result['connect_errors']}, "
                                  f"read {result['read_errors']}, timeouts {result['timeouts']})")
        loads.append({"repeat": "end", "before": load_average()})

        profiles = {}
        if args.profile:
            print("profiling the emulator (py-spy under wrk, cProfile without HTTP) ...")
            emulator_target = targets[0]
            profiles["py_spy"] = profile_live(emulator_target, {op: scripts[("emulator", op)] for op in OPERATIONS},
                                              prefixes, max(duration, 5.0))
            profiles["service_handle_no_http"] = profile_in_process()
    finally:
        stats = {}
        for child in reversed(children):
            stats[getattr(child, "kind", "prism")] = child.stop()

    # --- report -------------------------------------------------------------------------
    cells = {}
    for (name, operation, conns), results in runs.items():
        cells[(name, operation, conns)] = {
            "rps": median([r["rps"] for r in results]),
            "rps_runs": [round(r["rps"]) for r in results],
            "p50_ms": median([r["p50_us"] for r in results]) / 1e3,
            "p99_ms": median([r["p99_us"] for r in results]) / 1e3,
            "p99_ms_runs": [r["p99_us"] / 1e3 for r in results],
            "errors": sum(r["errors"] for r in results),
            "requests": sum(r["requests"] for r in results),
        }
    print()
    rows = []
    for (name, operation, conns), cell in cells.items():
        rows.append([name, operation, conns, f"{cell['rps']:,.0f}", f"{min(cell['rps_runs']):,}–{max(cell['rps_runs']):,}",
                     f"{cell['p50_ms']:.2f}", f"{cell['p99_ms']:.2f}", cell["errors"]])
    table(["server", "operation", "conns", "req/s", "runs req/s", "p50 ms", "p99 ms", "errors"], rows)

    ratios = []
    for operation in OPERATIONS:
        for conns in connections:
            emu = cells.get(("emulator", operation, conns))
            prism = cells.get(("prism", operation, conns))
            floor = cells.get(("floor", operation, conns))
            floor_close = cells.get(("floor-close", operation, conns))
            row = {"operation": operation, "connections": conns,
                   "emulator_over_prism": emu["rps"] / prism["rps"] if prism else None,
                   "emulator_over_floor": emu["rps"] / floor["rps"],
                   "emulator_over_floor_close": emu["rps"] / floor_close["rps"],
                   "emulator_p99_ms": emu["p99_ms"]}
            row["throughput_goal_met"] = None if prism is None else emu["rps"] >= prism["rps"]
            row["p99_goal_met"] = emu["p99_ms"] <= TARGET_P99_MS
            ratios.append(row)
    print()
    fmt = lambda x: "n/a" if x is None else f"{x:.2f}x"
    yes = lambda b: "n/a" if b is None else ("met" if b else "MISSED")
    table(["operation", "conns", "emu/prism", "emu/floor", "emu/floor-close", "emu p99 ms", ">= prism", "p99 <= 5 ms"],
          [[r["operation"], r["connections"], fmt(r["emulator_over_prism"]), fmt(r["emulator_over_floor"]),
            fmt(r["emulator_over_floor_close"]), f"{r['emulator_p99_ms']:.2f}", yes(r["throughput_goal_met"]),
            yes(r["p99_goal_met"])] for r in ratios])
    throughput_met = None if not prism_info["used"] else all(r["throughput_goal_met"] for r in ratios)
    p99_met = all(r["p99_goal_met"] for r in ratios)
    print(f"goal: throughput >= Prism: {yes(throughput_met)}; p99 <= {TARGET_P99_MS:g} ms: {yes(p99_met)}")
    emu_stats = stats.get("emulator", {})
    print(f"emulator: {emu_stats.get('tasks_in_job')} tasks in {JOB} at the end "
          f"({add_task_requests:,} from measured add-task runs, the rest from warm-up/smoke/profiling), "
          f"peak RSS {emu_stats.get('max_rss_mb', 0):.0f} MB")
    print(f"load average: {[l['before'] for l in loads]}")
    if prism_info.get("behaviour"):
        print()
        table(["probe", "prism", "emulator"],
              [[name, describe(found), describe(emulator_behaviour.get(name, {}))]
               for name, found in prism_info["behaviour"].items()])
    if profiles:
        print_profiles(profiles)

    elapsed = time.perf_counter() - t0
    print(f"\ntotal bench time {elapsed:.1f} s")
    path = write_json("emulator", {
        "benchmark": "bench_emulator",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "code": code_fingerprint(),
        "load_generator": {"tool": wrk_version, "threads": 1, "connections": connections, "duration_s": duration,
                           "repeats": repeats, "timeout_s": 10},
        "api_version": API_VERSION,
        "requests": {"get-job": f"GET {GET_PATH}?{QUERY}", "add-task": f"POST {ADD_PATH}?{QUERY}",
                     "add_task_body_example": body_for("b000001-", 1), "auth": BEARER.split()[0] + " (emulator-sk: SharedKey)"},
        "load_average": loads,
        "targets": [{k: v for k, v in t.items() if k != "shared_key"} for t in targets],
        "prism": prism_info,
        "emulator_behaviour": emulator_behaviour,
        "cells": [{"server": n, "operation": o, "connections": c, **cell} for (n, o, c), cell in cells.items()],
        "runs": [{"server": n, "operation": o, "connections": c, "results": rs} for (n, o, c), rs in runs.items()],
        "ratios": ratios,
        "targets_goal": {"throughput": "emulator req/s >= prism req/s", "p99_ms": TARGET_P99_MS},
        "met": {"throughput_vs_prism": throughput_met, "p99": p99_met},
        "emulator_end": {**emu_stats, "add_task_requests_measured": add_task_requests},
        "profile": profiles,
        "elapsed_s": elapsed,
    })
    print(f"wrote {path}")
    return 0


def describe(found: dict) -> str:
    if not found:
        return "-"
    text = str(found["status"])
    if found.get("sl_violations"):
        text += f" ({found['sl_violations']} sl-violations: {str(found.get('sl_violation_sample'))[:60]})"
    elif found.get("body") and found["status"] >= 400:
        try:
            error = json.loads(found["body"])
            text += f" {error.get('code')}"
        except ValueError:
            pass
    return text


INCLUSIVE_OF_INTEREST = ("wsgi_app.<locals>.app", "Service.handle", "Service._validate", "run_wsgi", "flush_headers",
                         "shutdown_request", "process_request ", "handle_one_request", "DefaultSelector",
                         "_PollLikeSelector", "Request.__init__", "get_data", "Response.__call__", "no Python frame")


def print_profiles(profiles: dict) -> None:
    for name, found in profiles.get("py_spy", {}).items():
        print(f"\npy-spy, emulator under wrk -c4, {name} samples:")
        if "error" in found or "skipped" in found:
            print(f"  {found}")
            continue
        print(f"  {found['busy_samples']} busy samples of {found['samples']} (at {found['load_rps']:,.0f} req/s)")
        print("  self, top 12:")
        for frame, _, pct in found["self"][:12]:
            print(f"    {pct:5.1f}%  {frame}")
        print("  inclusive, selected:")
        for frame, _, pct in found["inclusive"]:
            if any(key in frame for key in INCLUSIVE_OF_INTEREST):
                print(f"    {pct:5.1f}%  {frame}")
    s = profiles.get("service_handle_no_http")
    if s:
        print("Service.handle without HTTP: " + ", ".join(f"{k} {v:.0f}" for k, v in s.items() if k.endswith(" us"))
              + f" µs per call (cProfile: {s['report']})")


if __name__ == "__main__":
    sys.exit(main())
