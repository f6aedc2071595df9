"""Tests for pytest_batch.readers: every recording format, every body shape, every way a file can be bad."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_batch.errors import RecordingError
from pytest_batch.interaction import Headers, Interaction, Source
from pytest_batch.readers import iter_recording_files, read_recording

REAL_TRAFFIC = Path(__file__).resolve().parents[1].parent / "shared" / "real-traffic"
BATCH = "https://acct.westus.batch.azure.com"
BODY_EXPECTED = "expected text, bytes, a {string: ...} map, JSON object or list of lines"


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def read(path: Path) -> list[Interaction | RecordingError]:
    return list(read_recording(path))


def only_error(path: Path) -> RecordingError:
    """The single RecordingError a whole-file failure must give, checked for shape."""
    results = read(path)
    assert len(results) == 1, results
    error = results[0]
    assert isinstance(error, RecordingError)
    assert error.path == str(path)
    assert error.index is None
    assert error.hint
    assert "\n" not in str(error)
    return error


# --------------------------------------------------------------------------- vcrpy YAML

VCR_YAML = textwrap.dedent(
    r"""
    interactions:
    - request:
        body: !!python/unicode '{"id": "pool1", "vmSize": "standard_d2"}'
        headers:
          Accept: [application/json]
          Authorization: []
          Content-Type: [application/json; odata=minimalmetadata; charset=utf-8]
          X-Multi: [one, two]
          X-Number: [42]
          x-single: plain
        method: post
        uri: https://acct.westus.batch.azure.com/pools?api-version=2022-01-01.15.0&timeout=30
      response:
        body: {string: ''}
        headers:
          DataServiceId: ['https://acct.westus.batch.azure.com/pools/pool1']
          ETag: ['0x8D4']
        status: {code: 201, message: Created}
    - request:
        body: null
        headers: {}
        method: GET
        uri: https://acct.westus.batch.azure.com/pools/pool1?api-version=2022-01-01.15.0&$select=id
      response:
        body: {string: "\uFEFF{\r\n  \"id\":\"pool1\",\"displayName\":\"caf\u00e9 \u2713\"\r\n}"}
        headers:
          Content-Type: [application/json;odata=minimalmetadata]
        status: {code: 200, message: OK}
    - request:
        body: !!binary AAEC/w==
        headers: {Content-Type: [application/octet-stream]}
        method: PUT
        uri: https://store.blob.core.windows.net/c/blob
      response:
        body: {string: !!binary aGVsbG8=}
        headers: {}
        status: {code: 201, message: Created}
    - request:
        body: !!python/bytes aGk=
        method: PATCH
        uri: https://acct.westus.batch.azure.com/jobs/j1
      response:
        body: {string: null}
        status: 202
    - request:
        body: !!python/str 'plain text'
        method: DELETE
        uri: https://acct.westus.batch.azure.com/jobs/j1
    - request:
        body: ''
        method: GET
        uri: https://acct.westus.batch.azure.com/jobs/j2
      response:
        body: {}
        headers: {Content-Length: ['0']}
        status: {code: '409', message: Conflict}
    version: 1
    """
).lstrip()


def test_vcr_yaml_cassette_every_field(tmp_path: Path) -> None:
    path = write(tmp_path, "cassette.yaml", VCR_YAML)
    got = read(path)
    file = str(path)
    assert got == [
        Interaction(
            method="POST",
            url=f"{BATCH}/pools?api-version=2022-01-01.15.0&timeout=30",
            request_headers=Headers(
                (
                    ("Accept", "application/json"),
                    ("Content-Type", "application/json; odata=minimalmetadata; charset=utf-8"),
                    ("X-Multi", "one"),
                    ("X-Multi", "two"),
                    ("X-Number", "42"),
                    ("x-single", "plain"),
                )
            ),
            request_body=b'{"id": "pool1", "vmSize": "standard_d2"}',
            status=201,
            response_headers=Headers((("DataServiceId", f"{BATCH}/pools/pool1"), ("ETag", "0x8D4"))),
            response_body=b"",
            source=Source(file, 0),
        ),
        Interaction(
            method="GET",
            url=f"{BATCH}/pools/pool1?api-version=2022-01-01.15.0&$select=id",
            status=200,
            response_headers=Headers((("Content-Type", "application/json;odata=minimalmetadata"),)),
            response_body='\ufeff{\r\n  "id":"pool1","displayName":"café ✓"\r\n}'.encode(),
            source=Source(file, 1),
        ),
        Interaction(
            method="PUT",
            url="https://store.blob.core.windows.net/c/blob",
            request_headers=Headers((("Content-Type", "application/octet-stream"),)),
            request_body=b"\x00\x01\x02\xff",
            status=201,
            response_body=b"hello",
            source=Source(file, 2),
        ),
        Interaction("PATCH", f"{BATCH}/jobs/j1", request_body=b"hi", status=202, source=Source(file, 3)),
        Interaction("DELETE", f"{BATCH}/jobs/j1", request_body=b"plain text", status=None, source=Source(file, 4)),
        Interaction(
            "GET",
            f"{BATCH}/jobs/j2",
            status=409,
            response_headers=Headers((("Content-Length", "0"),)),
            source=Source(file, 5),
        ),
    ]
    first = got[0]
    assert isinstance(first, Interaction)
    assert "Authorization" not in first.request_headers  # `Authorization: []` keeps no value
    assert first.request_headers.get_all("x-multi") == ["one", "two"]
    assert not got[4].has_response


def test_vcr_cassettes_written_by_vcrpy_itself_yaml_and_json(tmp_path: Path) -> None:
    serializers = pytest.importorskip("vcr.serializers")
    data = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": f"{BATCH}/jobs?api-version=2022-01-01.15.0",
                    "body": '{"id": "job1"}',
                    "headers": {"Content-Type": ["application/json"], "Authorization": []},
                },
                "response": {
                    "status": {"code": 201, "message": "Created"},
                    "headers": {"Location": [f"{BATCH}/jobs/job1"]},
                    "body": {"string": ""},
                },
            }
        ],
    }
    expected_request = Headers((("Content-Type", "application/json"),))
    yaml_path = write(tmp_path, "vcr.yaml", serializers.yamlserializer.serialize(data))
    json_path = write(tmp_path, "vcr-json.yaml", serializers.jsonserializer.serialize(data))  # JSON behind .yaml
    assert json_path.read_text().startswith("{")
    for path in (yaml_path, json_path):
        assert read(path) == [
            Interaction(
                "POST",
                f"{BATCH}/jobs?api-version=2022-01-01.15.0",
                expected_request,
                b'{"id": "job1"}',
                201,
                Headers((("Location", f"{BATCH}/jobs/job1"),)),
                b"",
                Source(str(path), 0),
            )
        ]

    # Bytes bodies: vcrpy's YAML serializer writes them as `!!binary`.
    data["interactions"][0]["request"]["body"] = b"\x00\xffraw"
    data["interactions"][0]["response"]["body"] = {"string": b"\x89PNG"}
    binary_path = write(tmp_path, "binary.yaml", serializers.yamlserializer.serialize(data))
    assert "!!binary" in binary_path.read_text()
    (interaction,) = read(binary_path)
    assert isinstance(interaction, Interaction)
    assert (interaction.request_body, interaction.response_body) == (b"\x00\xffraw", b"\x89PNG")


def test_vcr_json_cassette_behind_yaml_name(tmp_path: Path) -> None:
    cassette = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "get",
                    "uri": f"{BATCH}/pools?api-version=2022-01-01.15.0",
                    "body": None,
                    "headers": {"Accept": ["application/json"], "Authorization": [], "X-Count": 3},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json;odata=minimalmetadata"]},
                    "body": {"string": '{\r\n  "value":[]\r\n}'},
                },
            }
        ],
    }
    path = write(tmp_path, "newer.yaml", "\n  " + json.dumps(cassette, indent=4))
    assert read(path) == [
        Interaction(
            "GET",
            f"{BATCH}/pools?api-version=2022-01-01.15.0",
            Headers((("Accept", "application/json"), ("X-Count", "3"))),
            b"",
            200,
            Headers((("Content-Type", "application/json;odata=minimalmetadata"),)),
            b'{\r\n  "value":[]\r\n}',
            Source(str(path), 0),
        )
    ]


def test_json_and_yaml_files_with_a_byte_order_mark_or_utf16(tmp_path: Path) -> None:
    body = '{"interactions": [{"request": {"method": "GET", "uri": "https://h/x"}}]}'
    for name, raw in (("bom.json", b"\xef\xbb\xbf" + body.encode()), ("utf16.yaml", body.encode("utf-16"))):
        path = write(tmp_path, name, raw)
        assert read(path) == [Interaction("GET", "https://h/x", source=Source(str(path), 0))]


def test_yaml_flow_style_document_starting_with_a_brace(tmp_path: Path) -> None:
    path = write(tmp_path, "flow.yaml", "{interactions: [{request: {method: GET, uri: 'https://h/x'}}]}\n")
    assert read(path) == [Interaction("GET", "https://h/x", source=Source(str(path), 0))]


def test_old_vcrpy_python_tags_and_yaml_merge_keys(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """
        base: &base
          method: GET
          uri: https://h/base
        interactions:
        - request:
            <<: *base
            body: !!python/object/new:_io.BytesIO
              state: !!python/tuple [!!binary aGVsbG8=, 0, null]
            headers: {X-Tuple: !!python/tuple [a, b], !!python/unicode X-Name: !!python/str v}
        - request:
            <<: *base
            body: !!python/object/apply:builtins.iter
              args: [[!!binary YWI=, cd]]
        - request: {method: GET, uri: https://h/set, body: !!set {a: null}}
        """
    )
    path = write(tmp_path, "old.yaml", text)
    got = read(path)
    assert got[0] == Interaction(
        "GET", "https://h/base", Headers((("X-Tuple", "a"), ("X-Tuple", "b"), ("X-Name", "v"))), b"hello",
        source=Source(str(path), 0),
    )
    assert got[1] == Interaction("GET", "https://h/base", request_body=b"abcd", source=Source(str(path), 1))
    assert isinstance(got[2], RecordingError)
    assert got[2].problem == f"request.body is a set, {BODY_EXPECTED}"


def test_vcr_body_shapes_that_are_json_documents_or_lines(tmp_path: Path) -> None:
    cassette = {
        "interactions": [
            {"request": {"method": "POST", "uri": "https://h/1", "body": {"id": "x", "n": [1, 2]}}},
            {"request": {"method": "POST", "uri": "https://h/2", "body": ["first", "second"]}},
            {"request": {"method": "POST", "uri": "https://h/3", "body": [{"a": "é"}]}},
            {"request": {"method": "POST", "uri": "https://h/4", "body": []}},
        ]
    }
    path = write(tmp_path, "shapes.yaml", yaml.safe_dump(cassette, allow_unicode=True))
    bodies = [i.request_body for i in read(path) if isinstance(i, Interaction)]
    assert bodies == [b'{"id":"x","n":[1,2]}', b"first\nsecond", '[{"a":"é"}]'.encode(), b""]


# --------------------------------------------------------------------------- test-proxy


def test_test_proxy_recording_every_body_shape(tmp_path: Path) -> None:
    binary = b"\x00\x01binary\xff"

    def entry(uri: str, **fields: object) -> dict[str, object]:
        base = {
            "RequestUri": uri,
            "RequestMethod": "GET",
            "RequestHeaders": {"Accept": "application/json"},
            "RequestBody": None,
            "StatusCode": 200,
            "ResponseHeaders": {},
            "ResponseBody": None,
        }
        return {**base, **fields}

    recording = {
        "Entries": [
            entry(
                f"{BATCH}/jobs?api-version=2022-01-01.15.0",
                RequestMethod="POST",
                RequestHeaders={
                    "Content-Type": "application/json; odata=minimalmetadata",
                    "Accept": ["application/json", "text/plain"],
                    "Authorization": [],
                },
                RequestBody={"id": "job1", "poolInfo": {"poolId": "p"}, "priority": 0, "displayName": "café"},
                StatusCode=201,
                ResponseHeaders={"Content-Length": "0", "DataServiceId": f"{BATCH}/jobs/job1"},
            ),
            entry("https://h/lines", ResponseHeaders={"Content-Type": "text/plain"},
                  ResponseBody=["line one\r\n", "line two\n", "end"]),
            entry("https://h/bare-lines", ResponseHeaders={"Content-Type": "text/plain"},
                  ResponseBody=["alpha", "beta"]),
            entry("https://h/binary", ResponseHeaders={"Content-Type": "application/octet-stream"},
                  ResponseBody=base64.b64encode(binary).decode()),
            entry("https://h/not-base64", ResponseHeaders={"Content-Type": "application/octet-stream"},
                  ResponseBody="not base64!"),
            entry("https://h/json-text", ResponseHeaders={"Content-Type": "application/json"},
                  ResponseBody="aGVsbG8="),
            entry("https://h/empty", RequestBody=[], ResponseBody=[]),
            entry("https://h/list", ResponseHeaders={"Content-Type": "application/json"},
                  ResponseBody=[{"a": 1}, 2]),
            entry("https://h/empty-object", ResponseHeaders={"Content-Type": "application/json"}, ResponseBody={}),
            entry("https://h/no-status", StatusCode=None),
        ],
        "Variables": {"RandomSeed": "1"},
    }
    path = write(tmp_path, "proxy.json", json.dumps(recording, ensure_ascii=False))
    got = read(path)
    assert all(isinstance(i, Interaction) for i in got), got
    assert [i.source for i in got] == [Source(str(path), n) for n in range(10)]
    assert got[0] == Interaction(
        "POST",
        f"{BATCH}/jobs?api-version=2022-01-01.15.0",
        Headers(
            (
                ("Content-Type", "application/json; odata=minimalmetadata"),
                ("Accept", "application/json"),
                ("Accept", "text/plain"),
            )
        ),
        '{"id":"job1","poolInfo":{"poolId":"p"},"priority":0,"displayName":"café"}'.encode(),
        201,
        Headers((("Content-Length", "0"), ("DataServiceId", f"{BATCH}/jobs/job1"))),
        b"",
        Source(str(path), 0),
    )
    assert [i.response_body for i in got[1:9]] == [
        b"line one\r\nline two\nend",  # the proxy keeps line ends: concatenate
        b"alpha\nbeta",  # bare lines: join with \n
        binary,
        b"not base64!",
        b"aGVsbG8=",  # textual content type: never base64-decoded
        b"",
        b'[{"a":1},2]',
        b"{}",
    ]
    assert got[6].request_body == b""
    assert got[9].status is None


# --------------------------------------------------------------------------- malformed files


def test_binary_garbage(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "garbage.yaml", bytes(range(256)) * 8))
    assert "not UTF-8 text" in error.problem


def test_nul_bytes_in_valid_utf8(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "nul.yaml", b"interactions:\x00\x01\x02"))
    assert "not a text file" in error.problem


def test_truncated_json(tmp_path: Path) -> None:
    whole = json.dumps({"version": 1, "interactions": [{"request": {"method": "GET", "uri": "https://h/x"}}]}, indent=4)
    error = only_error(write(tmp_path, "cut.yaml", whole[: len(whole) // 2]))
    assert error.problem.startswith("is truncated JSON")
    assert "line " in error.problem and "column " in error.problem


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "bad.json", '{\n  "interactions": [],,\n  "version": 1\n}\n'))
    assert error.problem.startswith("is not valid JSON")
    assert "line 2" in error.problem
    assert "line 2" in error.hint


def test_truncated_yaml(tmp_path: Path) -> None:
    text = VCR_YAML[: VCR_YAML.index("caf") + 3]  # cut inside a double-quoted body
    error = only_error(write(tmp_path, "cut.yaml", text))
    assert error.problem.startswith("is not valid YAML")
    assert "end of stream" in error.problem
    assert f"line {text.count(chr(10)) + 1}" in error.problem


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "bad.yaml", "interactions:\n- request: [\n    method: GET\n  bad: : :\n"))
    assert error.problem.startswith("is not valid YAML")
    assert "line 4" in error.problem and "line 4" in error.hint


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- a\n- b\n", "top level is a list"),
        ("just some words\n", "top level is text"),
        ("{}", "top level is an empty map"),
        ("42\n", "top level is a number"),
        ("foo: 1\nbar: 2\n", "found keys 'foo', 'bar'"),
        ("interactions: nope\n", "interactions is text, expected a list"),
        ('{"Entries": {"a": 1}}', "Entries is a map, expected a list"),
        ("", "is empty"),
        ("  \n\t\n", "is empty"),
        ("# only a comment\n", "holds no document"),
        ("null\n", "holds no document"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
        ("a: *undefined\n", "undefined alias"),
        ("a: !!timestamp nope\n", "'nope' is not a valid !!timestamp value at line 1"),
        ("a: !!int ''\n", "'' is not a valid !!int value at line 1"),
    ],
)
def test_wrong_top_level_shapes(tmp_path: Path, content: str, expected: str) -> None:
    assert expected in only_error(write(tmp_path, "shape.yaml", content)).problem


def test_unsafe_yaml_tag_is_refused_not_executed(tmp_path: Path) -> None:
    target = tmp_path / "created-by-yaml"
    error = only_error(write(tmp_path, "evil.yaml", f"interactions: !!python/object/apply:os.mkdir ['{target}']\n"))
    assert "could not determine a constructor" in error.problem
    assert not target.exists()


def test_absurd_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    # libyaml's recursive composer segfaults around 30k levels; the reader must not.
    depth = 100_000
    flow = write(tmp_path, "deep.yaml", "interactions: " + "[" * depth + "]" * depth + "\n")
    tagged = write(tmp_path, "deep-tagged.yaml", "interactions: " + "[!!set {}, " * 3000 + "]" * 3000 + "\n")
    as_json = write(tmp_path, "deep.json", '{"interactions": ' + "[" * depth + "]" * depth + "}")
    script = (
        "import sys\nfrom pytest_batch.readers import read_recording\n"
        "for p in sys.argv[1:]:\n    print(len(list(read_recording(p))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(flow), str(tagged), str(as_json)],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "1", "1"]
    for path in (flow, tagged, as_json):
        assert "nested too deeply" in only_error(path).problem
    assert "more than 1000 levels at line 1" in only_error(flow).problem
    fine = write(tmp_path, "fine.yaml", "interactions: " + "[" * 900 + "]" * 900 + "\n")
    assert read(fine)[0].problem == "interaction is a list, expected a map with `request` and `response`"


def test_unreadable_paths(tmp_path: Path) -> None:
    assert "is a folder" in only_error(tmp_path).problem
    assert "no such file" in only_error(tmp_path / "missing.yaml").problem


# --------------------------------------------------------------------------- malformed interactions


def test_one_bad_interaction_does_not_hide_the_others(tmp_path: Path) -> None:
    good = {"request": {"method": "GET", "uri": "https://h/ok"}, "response": {"status": {"code": 200}}}
    cassette = {
        "interactions": [
            good,
            {"response": {"status": {"code": 200}}},
            {"request": {"method": "GET", "uri": "https://h/x"}, "response": {"status": 200, "body": True}},
            {"request": {"method": "GET", "uri": "https://h/x", "body": {"string": 5}}},
            {"request": {"method": "GET", "uri": "https://h/x", "headers": {"A": {"nested": 1}}}},
            {"request": {"method": "GET", "uri": "https://h/x"}, "response": {"headers": {}}},
            {"request": {"uri": "https://h/x"}},
            {"request": {"method": "GET", "uri": 7}},
            {"request": {"method": "GET", "uri": "https://h/x", "body": 1.5}},
            {"request": {"method": "GET", "uri": "https://h/x"}, "response": {"status": {"code": True}}},
            "not a map",
            good,
        ]
    }
    path = write(tmp_path, "mixed.yaml", yaml.safe_dump(cassette))
    got = read(path)
    assert len(got) == 12
    assert got[0] == Interaction("GET", "https://h/ok", status=200, source=Source(str(path), 0))
    assert got[11] == Interaction("GET", "https://h/ok", status=200, source=Source(str(path), 11))
    errors = got[1:11]
    assert all(isinstance(e, RecordingError) for e in errors), errors
    assert [e.index for e in errors] == list(range(1, 11))
    assert all(e.path == str(path) and e.hint and "\n" not in str(e) for e in errors)
    assert [e.problem for e in errors] == [
        "interaction has no `request`",
        f"response.body is a bool, {BODY_EXPECTED}",
        "request.body.string is a number, expected text or bytes",
        "request.headers['A'] holds a map, expected text or a list of text",
        "response has no `status`",
        "request.method is missing",
        "request.uri is a number, expected text",
        f"request.body is a number, {BODY_EXPECTED}",
        "response.status.code is a bool, expected an HTTP status code such as 200",
        "interaction is text, expected a map with `request` and `response`",
    ]
    assert str(errors[0]).startswith(f"{path} [interaction 1]: interaction has no `request` (fix: ")


def test_bad_test_proxy_entry_does_not_hide_the_others(tmp_path: Path) -> None:
    ok = {"RequestUri": "https://h/ok", "RequestMethod": "GET", "StatusCode": 204}
    entries = [ok, {"RequestMethod": "GET"}, {**ok, "ResponseBody": [["nested"], 1, None, {"x": ""}]},
               {**ok, "RequestHeaders": ["not", "a", "map"]}, ok]
    path = write(tmp_path, "proxy.json", json.dumps({"Entries": entries}))
    got = read(path)
    assert [type(i).__name__ for i in got] == ["Interaction", "RecordingError", "Interaction", "RecordingError",
                                               "Interaction"]
    assert got[1].problem == "RequestUri is missing"
    assert got[2].response_body == b'[["nested"],1,null,{"x":""}]'
    assert got[3].problem == "RequestHeaders is a list, expected a map of header names to values"
    assert got[4] == Interaction("GET", "https://h/ok", status=204, source=Source(str(path), 4))


def test_yaml_only_values_that_are_not_json_give_an_error(tmp_path: Path) -> None:
    text = "interactions:\n- request: {method: GET, uri: 'https://h/x', body: {when: 2019-01-01}}\n"
    (error,) = read(write(tmp_path, "date.yaml", text))
    assert isinstance(error, RecordingError) and error.index == 0
    assert error.problem.startswith("request.body is a map that cannot be written as JSON")


# --------------------------------------------------------------------------- iter_recording_files


def test_iter_recording_files_walks_sorted_and_skips_hidden(tmp_path: Path) -> None:
    for name in ["b.yaml", "a.json", "z/c.yml", "z/deeper/d.YAML", "m/e.yaml", ".hidden/x.yaml",
                 "z/.git/y.json", ".dotfile.yaml", "notes.txt", "script.py", "z/readme.md"]:
        write(tmp_path, name, "")
    got = [p.relative_to(tmp_path).as_posix() for p in iter_recording_files([tmp_path])]
    assert got == ["a.json", "b.yaml", "m/e.yaml", "z/c.yml", "z/deeper/d.YAML"]
    assert list(iter_recording_files([tmp_path])) == list(iter_recording_files([str(tmp_path)]))


def test_iter_recording_files_keeps_files_as_given_and_reports_missing(tmp_path: Path) -> None:
    odd = write(tmp_path, "recording.txt", "")
    sub = write(tmp_path, "sub/one.yaml", "")
    assert list(iter_recording_files([odd, tmp_path / "sub", sub])) == [odd, sub]
    with pytest.raises(RecordingError) as caught:
        list(iter_recording_files([sub, tmp_path / "nope"]))
    assert caught.value.path == str(tmp_path / "nope")
    assert caught.value.problem == "no such file or folder"
    assert caught.value.hint


# --------------------------------------------------------------------------- properties

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
body_values = json_values | st.binary(max_size=20) | st.dictionaries(st.just("string"), json_values | st.binary())


def _check(path: Path, expected_count: int) -> None:
    results = read(path)
    assert len(results) == expected_count
    for item in results:
        assert isinstance(item, (Interaction, RecordingError))
        if isinstance(item, Interaction):
            assert isinstance(item.request_body, bytes) and isinstance(item.response_body, bytes)
        else:
            assert "\n" not in str(item)
            assert "please report" not in item.hint


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request_body=body_values, response_body=body_values, content_type=st.sampled_from(
    [None, "application/json", "application/octet-stream", "text/plain", "image/png"]))
def test_any_body_value_never_raises(tmp_path_factory: pytest.TempPathFactory, request_body: object,
                                     response_body: object, content_type: str | None) -> None:
    folder = tmp_path_factory.mktemp("bodies", numbered=True)
    headers = {} if content_type is None else {"Content-Type": [content_type]}
    vcr = {"interactions": [{
        "request": {"method": "POST", "uri": "https://h/x", "body": request_body, "headers": headers},
        "response": {"status": {"code": 200}, "headers": headers, "body": response_body},
    }]}
    proxy = {"Entries": [{"RequestUri": "https://h/x", "RequestMethod": "POST", "RequestHeaders": headers,
                          "RequestBody": request_body, "StatusCode": 200, "ResponseHeaders": headers,
                          "ResponseBody": response_body}]}
    _check(write(folder, "vcr.yaml", yaml.safe_dump(vcr)), 1)
    _check(write(folder, "proxy.yaml", yaml.safe_dump(proxy)), 1)
    try:
        as_json = json.dumps(proxy)
    except (TypeError, ValueError):
        return  # bytes cannot go into JSON
    _check(write(folder, "proxy.json", as_json), 1)


# Pieces of cassette syntax glued at random reach far more parser and reader paths than random bytes.
yaml_fragments = st.lists(
    st.sampled_from(["{", "}", "[", "]", "interactions:", '"Entries": ', "- ", "request:", "response:", "body:",
                     "!!binary", "!!python/tuple", "<<: *a", "&a", "*a", '"', "'", "\n", "  ", ": ", ", ",
                     "{string: ", "status: 200", "method: GET", "uri: x", "headers: {", "null", "true", "1e999",
                     "!!set", "? ", "---", "!!python/bytes", "!!timestamp", "!!int", "99999999999999999999"])
    | st.text(max_size=5),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(junk=st.binary(max_size=300) | st.text(max_size=300).map(str.encode) | yaml_fragments.map(str.encode))
def test_any_file_bytes_never_raise(tmp_path_factory: pytest.TempPathFactory, junk: bytes) -> None:
    path = write(tmp_path_factory.mktemp("junk", numbered=True), "junk.yaml", junk)
    for item in read_recording(path):
        assert isinstance(item, (Interaction, RecordingError))
        if isinstance(item, RecordingError):
            assert "\n" not in str(item)
            assert "please report" not in item.hint  # the last-resort guard must not be needed


yaml_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(max_size=8)
    | st.dates() | st.sampled_from(["<<", "=", "yes", "~", "0x1F", "1e3", "2019-01-01", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=4),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None)
@given(data=yaml_data, flow=st.sampled_from([None, True, False]), shared=st.booleans())
def test_fast_yaml_builder_matches_pyyaml(data: object, flow: bool | None, shared: bool) -> None:
    from pytest_batch.readers import _CassetteLoader, _load_yaml

    document = {"a": data, "b": data} if shared else data  # shared -> anchors and aliases
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    expected = yaml.load(text, Loader=_CassetteLoader)  # noqa: S506 - safe loader subclass
    got = _load_yaml(text)
    assert got == expected or (got != got and expected != expected) or repr(got) == repr(expected)


# --------------------------------------------------------------------------- real traffic


def test_real_traffic_cassettes() -> None:
    folder = REAL_TRAFFIC / "azure-batch-cli-extensions"
    if not folder.is_dir():
        pytest.skip(f"../shared/real-traffic not present: {REAL_TRAFFIC} does not exist")
    files = list(iter_recording_files([folder]))
    assert len(files) == 10
    started = time.perf_counter()
    results = [item for path in files for item in read_recording(path)]
    elapsed = time.perf_counter() - started
    errors = [item for item in results if isinstance(item, RecordingError)]
    interactions = [item for item in results if isinstance(item, Interaction)]
    assert errors == []
    assert len(interactions) == 1431
    hosts = [urlsplit(i.url).hostname or "" for i in interactions]
    assert sum(host.endswith(".batch.azure.com") for host in hosts) == 945
    assert all(i.has_response for i in interactions)
    print(f"real traffic: {len(interactions)} interactions in {elapsed:.3f}s ({len(interactions) / elapsed:,.0f}/s)")


def test_integers_beyond_64_bits_survive_reading(tmp_path):
    """The fast JSON parser would turn 2**70 into a float; the reader must keep the exact body."""
    body = {"value": 2**70, "small": 1}
    doc = {"Entries": [{"RequestUri": "https://a.westus.batch.azure.com/jobs?api-version=2025-06-01",
                        "RequestMethod": "GET", "RequestHeaders": {}, "RequestBody": None, "StatusCode": 200,
                        "ResponseHeaders": {"Content-Type": "application/json"}, "ResponseBody": body}]}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    (interaction,) = list(read_recording(path))
    assert json.loads(interaction.response_body) == body


def test_vcrpy_json_with_an_object_body_keeps_big_integers(tmp_path):
    """A (non-standard) vcrpy JSON cassette whose body is a JSON object: exact numbers survive."""
    body = {"n": 2**70}
    doc = {"version": 1, "interactions": [{
        "request": {"method": "GET", "uri": "https://a.westus.batch.azure.com/jobs?api-version=2025-06-01",
                    "body": None, "headers": {}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": body}}]}
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps(doc))
    (interaction,) = list(read_recording(path))
    assert json.loads(interaction.response_body) == body
