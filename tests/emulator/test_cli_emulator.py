"""`pytest-batch emulator`: a foreground server that a signal stops cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from pytest_batch.emulator.auth import shared_key_header


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_batch.cli", "emulator", *args], stderr=subprocess.PIPE, text=True
    )
    banner = process.stderr.readline()
    return process, banner


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serves_signed_requests_and_stops_on_signal(stop):
    port = _free_port()
    key = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
    process, banner = _start("--port", str(port), "--account", "cliacct", "--key", key)
    try:
        assert f"http://127.0.0.1:{port}" in banner and "cliacct" in banner
        path, query = "/jobs", "api-version=2025-06-01"
        headers = {"ocp-date": "Wed, 01 Jan 2025 00:00:00 GMT"}
        headers["Authorization"] = shared_key_header("cliacct", key, "GET", path, query, headers.items())
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}?{query}", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert json.loads(response.read())["value"] == []
    finally:
        process.send_signal(stop)
        code = process.wait(timeout=10)
    assert code == 0
    assert "stopped" in process.stderr.read()
    with socket.socket() as s:  # the port is released (TIME_WAIT of the served connection aside)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


def test_a_taken_port_is_a_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "pytest_batch.cli", "emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0]


def test_a_key_that_is_not_base64_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "pytest_batch.cli", "emulator", "--port", "0", "--key", "not base64!"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "base64" in result.stderr
