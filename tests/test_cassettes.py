"""vcrpy glue: real cassettes on disk, recorded against the embedded emulator, replayed with it stopped."""

from __future__ import annotations

import gc
import http.client
import json
import os
from pathlib import Path

import pytest
import requests
import vcr
from hypothesis import given, settings
from hypothesis import strategies as st
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from pytest_batch import cassettes
from pytest_batch.cassettes import (
    AtomicPersister,
    ReadOnlyPersister,
    batch_matcher,
    explain_miss,
    vcr_config,
)
from pytest_batch.emulator import Emulator
from pytest_batch.errors import BatchContractError, RecordingError

JOB = {"id": "job-1", "poolInfo": {"poolId": "p"}}
AUTH = {"Authorization": "Bearer t"}
API = "api-version=2025-06-01"


def drive(endpoint: str, *, body: object = JOB, api: str = API, headers: dict[str, str] | None = None) -> list:
    """Create job-1, then get it: the two calls every recording here holds."""
    headers = {**AUTH, **(headers or {})}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    sent = {**headers, "Content-Type": "application/json; odata=minimalmetadata"}
    created = requests.post(f"{endpoint}/jobs?{api}", data=data, headers=sent, timeout=10)
    got = requests.get(f"{endpoint}/jobs/job-1?{api}", headers=headers, timeout=10)
    return [(r.status_code, r.content) for r in (created, got)]


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, list, str]:
    """A cassette recorded in `once` mode against a fresh emulator (stopped on return)."""
    with Emulator(account="acct", bearer=lambda t: True) as emu:
        with vcr_config(tmp_path, "once").use_cassette("jobs.yaml") as cassette:
            answers = drive(emu.endpoint)
        endpoint = emu.endpoint
    assert len(cassette) == 2, (answers, cassette.requests)
    return tmp_path / "jobs.yaml", answers, endpoint


def request(body: object = JOB, *, uri: str = f"https://acct.westus.batch.azure.com/jobs?{API}", **headers) -> Request:
    raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    return Request("POST", uri, raw, headers)


# -- record and replay ---------------------------------------------------------------------------------------------


def test_record_then_replay_offline_gives_the_same_responses(recorded):
    path, answers, endpoint = recorded
    assert [status for status, _ in answers] == [201, 200]
    with pytest.raises(requests.ConnectionError):  # the emulator is gone: any real call would fail
        requests.get(f"{endpoint}/jobs?{API}", timeout=2)
    with vcr_config(path.parent, "none").use_cassette(path.name) as cassette:
        assert drive(endpoint) == answers
    assert cassette.all_played


def test_replay_ignores_host_per_call_headers_and_json_key_order(recorded):
    path, answers, _ = recorded
    reordered = '{ "poolInfo" : {"poolId":"p"},\n "id": "job-1" }'
    per_call = {
        "ocp-date": "Tue, 01 Jan 2030 00:00:00 GMT",
        "client-request-id": "11111111-2222-4333-8444-555555555555",
        "Authorization": "SharedKey acct:c2lnbmF0dXJl",
        "User-Agent": "azure-batch/15.1.0",
        "x-ms-client-request-id": "abc",
    }
    with vcr_config(path.parent, "none").use_cassette(path.name):
        assert drive("https://REDACTED", body=reordered, headers=per_call) == answers


def test_a_changed_body_misses_and_explain_miss_names_the_json_pointer(recorded):
    path, _, endpoint = recorded
    changed = {"id": "job-1", "poolInfo": {"poolId": "other"}}
    with vcr_config(path.parent, "none").use_cassette(path.name) as cassette:
        with pytest.raises(CannotOverwriteExistingCassetteException) as caught:
            drive(endpoint, body=changed)
        message = explain_miss(caught.value.failed_request, cassette.requests)
    assert "closest recorded request #0 (POST /jobs)" in message
    assert "body differs at /poolInfo/poolId" in message
    assert "\n" not in message


def test_a_changed_api_version_misses_and_explain_miss_names_it(recorded):
    path, _, endpoint = recorded
    with vcr_config(path.parent, "none").use_cassette(path.name) as cassette:
        with pytest.raises(CannotOverwriteExistingCassetteException) as caught:
            drive(endpoint, api="api-version=2024-07-01.20.0")
        message = explain_miss(caught.value.failed_request, cassette.requests)
    assert "api-version 2024-07-01.20.0 != recorded 2025-06-01" in message
    assert "path" not in message.split(":", 1)[1]


# -- the matcher on its own ----------------------------------------------------------------------------------------


def test_matcher_ignores_timeout_but_not_skiptoken_and_decodes_the_path():
    base = "https://h/jobs/job%201/tasks?api-version=2025-06-01"
    batch_matcher(Request("GET", base + "&timeout=30", None, {}), Request("GET", base + "&timeOut=90", None, {}))
    batch_matcher(Request("GET", base, None, {}), Request("GET", base.replace("%20", " "), None, {}))
    with pytest.raises(AssertionError, match=r"query parameters differ: \$skiptoken"):
        batch_matcher(
            Request("GET", base + "&$skiptoken=a", None, {}), Request("GET", base + "&$skiptoken=b", None, {})
        )
    with pytest.raises(AssertionError, match="headers differ: if-match"):
        batch_matcher(Request("GET", base, None, {"If-Match": "0x1"}), Request("GET", base, None, {"If-Match": "0x2"}))


def test_matcher_compares_non_json_bodies_as_bytes_and_never_as_json():
    batch_matcher(request(b"\x00\x01raw"), request(b"\x00\x01raw"))
    with pytest.raises(AssertionError, match="compared as bytes"):
        batch_matcher(request(b"\x00\x01raw"), request(b"\x00\x02raw"))
    with pytest.raises(AssertionError, match="body differs at /a"):
        batch_matcher(request({"a": True}), request({"a": 1}))  # JSON true is not 1, though Python says so


def test_explain_miss_prefers_the_same_call_and_handles_an_empty_cassette():
    assert "no recorded requests" in explain_miss(request(), [])
    other_path = Request("POST", f"https://h/pools?{API}", json.dumps(JOB), {})
    same_call = request({"id": "job-2", "poolInfo": {"poolId": "q"}})
    message = explain_miss(request(), [other_path, same_call])
    assert "closest recorded request #1 (POST /jobs)" in message
    assert "body differs at /id" in message


# Hypothesis: JSON objects with leaves whose one-step change is always a different JSON value.
leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(-1e6, 1e6, allow_nan=False)
    | st.text(max_size=5)
)
documents = st.dictionaries(
    st.text(max_size=4),
    st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=12,
    ),
    max_size=4,
)


def _shuffled(value, rnd):
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {k: _shuffled(value[k], rnd) for k in keys}
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


def _leaf_paths(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaf_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaf_paths(v, (*path, i))
    else:
        yield path


def _changed(leaf):
    if leaf is None:
        return 0
    if isinstance(leaf, bool):
        return not leaf
    if isinstance(leaf, (int, float)):
        return leaf + 1
    return leaf + "x"


@settings(max_examples=150, deadline=None)
@given(body=documents, rnd=st.randoms(use_true_random=False), data=st.data())
def test_matcher_property_key_order_never_matters_and_one_changed_leaf_always_misses(body, rnd, data):
    permuted = json.dumps(_shuffled(body, rnd), indent=rnd.choice([None, 1]))
    batch_matcher(request(permuted), request(json.dumps(body)))

    paths = list(_leaf_paths(body))
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    changed = json.loads(json.dumps(body))
    *parents, last = path
    target = changed
    for step in parents:
        target = target[step]
    target[last] = _changed(target[last])
    with pytest.raises(AssertionError) as caught:
        batch_matcher(request(changed), request(body))
    pointer = "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)
    assert str(caught.value) == f"body differs at {pointer}"


# -- persisting ----------------------------------------------------------------------------------------------------


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != "jobs.yaml")


@pytest.mark.parametrize("fails", ["replace", "fsync"])
def test_a_crash_while_saving_leaves_the_previous_cassette_byte_identical(recorded, monkeypatch, fails):
    path, _, _ = recorded
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk pulled out")

    monkeypatch.setattr(cassettes.os, fails, crash)
    with (
        Emulator(account="acct", bearer=lambda t: True) as emu,
        pytest.raises(OSError, match="disk pulled out"),
        vcr_config(path.parent, "new_episodes").use_cassette(path.name),
    ):
        requests.get(f"{emu.endpoint}/jobs?{API}", headers=AUTH, timeout=10)  # a new episode: save
    # vcrpy skips unpatching when the save in __exit__ raises; the patches live until the cycle is collected
    gc.collect()
    assert http.client.HTTPConnection.__module__ == "http.client"
    assert path.read_bytes() == before
    assert _leftovers(path.parent) == []


def test_a_serializer_that_fails_writes_nothing(recorded):
    path, _, _ = recorded
    before = path.read_bytes()

    class Broken:
        @staticmethod
        def serialize(data):
            raise RuntimeError("cannot serialise")

    with pytest.raises(RuntimeError):
        AtomicPersister.save_cassette(path, {"requests": [], "responses": []}, serializer=Broken)
    assert path.read_bytes() == before
    assert _leftovers(path.parent) == []


def test_saving_keeps_the_file_mode_and_creates_missing_directories(tmp_path):
    from vcr.serializers import yamlserializer

    target = tmp_path / "deep" / "er" / "c.yaml"
    AtomicPersister.save_cassette(target, {"requests": [], "responses": []}, serializer=yamlserializer)
    os.chmod(target, 0o640)
    AtomicPersister.save_cassette(target, {"requests": [request()], "responses": [{}]}, serializer=yamlserializer)
    assert target.stat().st_mode & 0o777 == 0o640
    assert AtomicPersister.load_cassette(target, yamlserializer)[0][0].method == "POST"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("interactions:\n- request: {method: GET\n  response: [\n", "not valid YAML at line"),
        ("version: 1\n", "missing key 'interactions'"),
        ("just a string\n", "not a vcrpy cassette"),
        ("interactions:\n- request: {}\n", "not a vcrpy cassette"),
    ],
)
def test_a_malformed_cassette_is_one_clear_line_and_is_never_overwritten(tmp_path, text, problem):
    path = tmp_path / "jobs.yaml"
    path.write_text(text)
    with pytest.raises(RecordingError) as caught, vcr_config(tmp_path, "once").use_cassette(path.name):
        pass  # vcrpy's own persister would treat the file as empty and record over it
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and problem in message and "(fix: " in message
    assert "\n" not in message
    assert isinstance(caught.value, BatchContractError)
    assert path.read_text() == text


def test_an_empty_file_is_a_cassette_still_to_record(tmp_path):
    (tmp_path / "jobs.yaml").write_text("  \n")
    with Emulator(account="acct", bearer=lambda t: True) as emu, vcr_config(tmp_path, "once").use_cassette("jobs.yaml"):
        drive(emu.endpoint)
    assert "interactions" in (tmp_path / "jobs.yaml").read_text()


def test_none_mode_never_modifies_the_cassette(recorded):
    path, answers, endpoint = recorded
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    recorder = vcr_config(path.parent, "none")
    assert recorder.persister is ReadOnlyPersister
    with recorder.use_cassette(path.name, drop_unused_requests=True) as cassette:  # would force a save
        assert drive(endpoint)[0] == answers[0]
        with pytest.raises(CannotOverwriteExistingCassetteException):
            requests.get(f"{endpoint}/pools?{API}", headers=AUTH, timeout=2)
        cassette._save(force=True)  # even a forced save writes nothing
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime
    assert _leftovers(path.parent) == []


# -- configuration and rewrite -------------------------------------------------------------------------------------


def test_vcr_config_builds_the_documented_vcr(tmp_path):
    recorder = vcr_config(tmp_path, "new_episodes", before_record_request=lambda r: r)
    assert isinstance(recorder, vcr.VCR)
    assert recorder.match_on == ["batch"] and recorder.matchers["batch"] is batch_matcher
    assert recorder.persister is AtomicPersister
    assert recorder.decode_compressed_response and recorder.serializer == "yaml"
    assert recorder.record_mode == "new_episodes"
    with pytest.raises(ValueError, match="rewrite is 'all'"):
        vcr_config(tmp_path, "rewrite")
