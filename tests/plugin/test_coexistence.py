"""pytest-batch and pytest-recording (both vcrpy-based) in one project: each keeps its cassettes and options.

The project has a pytest-recording test (`@pytest.mark.vcr`, its own cassette folder, a loopback server that
counts hits) and a pytest-batch test (`batch_client`, emulator). Both record, then both replay under
pytest-recording's `--block-network`; a record mode given to one plugin never changes the other's.
"""

from __future__ import annotations

import json

import yaml

pytest_plugins = ["pytester"]

CONFTEST = """
import os

import pytest


@pytest.fixture(scope="module")
def vcr_cassette_dir(request):
    return os.path.join(str(request.config.rootpath), "vcr_cassettes")


@pytest.fixture
def vcr_config():
    return {"match_on": ["method", "path"]}  # the loopback server's port changes from run to run
"""

VCR_TEST = """
import http.server
import json
import threading

import pytest
import requests


@pytest.fixture(scope="module")
def greeter():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = json.dumps({"hello": "vcr"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


@pytest.mark.vcr
def test_greeting(greeter, record_mode, vcr):
    url, hits = greeter
    assert requests.get(f"{url}/greeting").json() == {"hello": "vcr"}
    replayed = vcr.play_count == 1
    assert len(hits) == (0 if replayed else 1)  # a replay never reaches the server
    assert replayed == (record_mode == "none")
"""

BATCH_TEST = """
import os
import socket

import pytest


def test_job(batch_client, batch_endpoint, batch_settings, record_mode):
    from azure.batch import models

    assert batch_settings.record_mode == os.environ["PB_EXPECT_BATCH_MODE"]
    assert record_mode == os.environ["PB_EXPECT_VCR_MODE"]  # pytest-recording's own setting
    assert batch_endpoint.kind == os.environ["PB_EXPECT_KIND"]
    batch_client.create_job(models.BatchJobCreateOptions(id="coexist", pool_info=models.BatchPoolInfo(pool_id="p")))
    job = batch_client.get_job("coexist")
    assert (job.id, job.pool_info.pool_id) == ("coexist", "p")


def test_block_network_guards_this_test(request):
    \"\"\"With --block-network, pytest-recording's guard covers tests without its marker (ours), loopback too.\"\"\"
    probe = socket.socket()
    try:
        probe.settimeout(0.5)
        probe.connect(("127.0.0.1", 9))
    except RuntimeError as error:
        assert request.config.getoption("--block-network") and "Network is disabled" in str(error)
    except OSError:
        assert not request.config.getoption("--block-network")
    finally:
        probe.close()
"""

OURS = "cassettes/test_batch/test_job.yaml"
THEIRS = "vcr_cassettes/test_greeting.yaml"


def _run(pytester, monkeypatch, batch_mode: str, vcr_mode: str, kind: str, *args: str):
    monkeypatch.setenv("PB_EXPECT_BATCH_MODE", batch_mode)
    monkeypatch.setenv("PB_EXPECT_VCR_MODE", vcr_mode)
    monkeypatch.setenv("PB_EXPECT_KIND", kind)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", *args)
    result.assert_outcomes(passed=3)
    return result


def _files(pytester) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(pytester.path).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for folder in ("cassettes", "vcr_cassettes")
        for p in (pytester.path / folder).rglob("*")
        if p.is_file()
    }


def test_both_plugins_record_and_replay_their_own_cassettes(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_vcr=VCR_TEST, test_batch=BATCH_TEST)
    _run(pytester, monkeypatch, "once", "once", "emulator", "--record-mode=once", "--batch-record-mode=once")
    recorded = _files(pytester)
    assert sorted(recorded) == [OURS, THEIRS]  # each plugin wrote its own cassette, in its own folder
    ours, theirs = (recorded[name][0].decode() for name in (OURS, THEIRS))
    assert "/jobs" in ours and "/greeting" not in ours
    assert "/greeting" in theirs and "/jobs" not in theirs
    assert json.loads(yaml.safe_load(theirs)["interactions"][0]["response"]["body"]["string"]) == {"hello": "vcr"}

    # pytest-recording's network block with our replay-only mode: everything comes from the cassettes.
    result = _run(
        pytester, monkeypatch, "none", "none", "replay", "--record-mode=none", "--batch-record-mode=none",
        "--block-network",
    )  # fmt: skip
    assert "0 errors" in result.stdout.str()
    assert _files(pytester) == recorded


def test_record_mode_options_do_not_clash(pytester, monkeypatch):
    """`--help` lists both plugins' options; pytest-recording's `--record-mode` never sets ours, nor ours theirs."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_vcr=VCR_TEST, test_batch=BATCH_TEST)
    help_text = pytester.runpytest_subprocess("--help").stdout.str()
    for flag in ("--record-mode", "--block-network", "--batch-record-mode", "--batch-contract"):
        assert flag in help_text, flag

    # Our ini says once. --record-mode=once records both; then each plugin's mode is changed alone.
    pytester.makeini("[pytest]\nbatch_record_mode = once\n")
    _run(pytester, monkeypatch, "once", "once", "emulator", "--record-mode=once")
    assert sorted(_files(pytester)) == [OURS, THEIRS]
    (pytester.path / OURS).unlink()
    # --record-mode=none alone: theirs replays, ours still follows the ini and records again
    _run(pytester, monkeypatch, "once", "none", "emulator", "--record-mode=none")
    kept = _files(pytester)
    assert sorted(kept) == [OURS, THEIRS]
    (pytester.path / THEIRS).unlink()
    # --batch-record-mode=none alone changes ours only: it replays, while theirs records again
    _run(pytester, monkeypatch, "none", "once", "replay", "--record-mode=once", "--batch-record-mode=none")
    assert sorted(_files(pytester)) == [OURS, THEIRS]
    assert _files(pytester)[OURS] == kept[OURS]
