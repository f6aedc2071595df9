"""The CLI's speed paths (issue 2, round 2) give the answers of the paths they short-cut.

* reading: a vcrpy JSON file is parsed by orjson straight from its bytes and converted up front;
  a structured body anywhere (whose integers orjson may bend) sends the whole file to the exact
  parser. Whatever the mix of text bodies, structured bodies with integers beyond 64 bits,
  header shapes and broken interactions, what is read equals an oracle built from the data itself;
* `Headers` a reader hands its own `{name: [value]}` map to are the value object `Headers.of`
  builds from the same map: equal, same hash, same repr, same folded index in the same order,
  frozen, picklable;
* compiling: api-versions of one `Validator` share strict definitions (by content) as well as
  compiled validators (by root); drift explanations reuse what a schema location resolved to.
  A long-lived validator and a fresh one per interaction report the very same findings.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest
import yaml
from conftest import require
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_batch.compiled import REQUEST, RESPONSE, CompiledSpec, _fast_pointer
from pytest_batch.errors import RecordingError
from pytest_batch.interaction import Headers
from pytest_batch.pointers import pointer
from pytest_batch.readers import read_recording
from pytest_batch.spec import SpecLibrary
from pytest_batch.validation import Validator

LIBRARY = SpecLibrary()
BATCH = "https://acct.westus.batch.azure.com"
REFERENCE = Path(__file__).resolve().parents[1] / "cassettes" / "test_azure_batch_sdk"
REAL_TRAFFIC = Path(__file__).resolve().parents[1].parent / "shared" / "real-traffic"

# --------------------------------------------------------------------------- reading

names = st.sampled_from(["Accept", "accept", "Content-Type", "ETag", "etag", "x-ms-id", "Date"])
texts = st.text(max_size=12)
header_values = st.one_of(
    st.lists(texts, min_size=1, max_size=1),  # vcrpy's layout
    st.lists(texts, max_size=3),  # several values, or none
    texts,  # a bare string
)
header_maps = st.dictionaries(names, header_values, max_size=5)
big = st.integers(min_value=2**64, max_value=2**80) | st.integers(max_value=-(2**63) - 1, min_value=-(2**80))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | big | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
bodies = st.one_of(
    st.none(),
    texts,  # vcrpy JSON writes request bodies as text
    st.builds(lambda t: {"string": t}, texts),  # and response bodies as {string: text}
    st.dictionaries(st.sampled_from(["n", "items", "id"]), json_values, min_size=1, max_size=3),  # structured
)


@st.composite
def vcr_items(draw) -> tuple[dict, bool]:
    """One vcrpy interaction as stored in a JSON cassette, and whether it is broken (no method)."""
    broken = draw(st.booleans()) and draw(st.booleans())  # ~1 in 4
    request = {"body": draw(bodies), "headers": draw(header_maps), "uri": f"{BATCH}/jobs?api-version=2025-06-01"}
    if not broken:
        request["method"] = draw(st.sampled_from(["get", "POST"]))
    response = {"body": draw(bodies), "headers": draw(header_maps), "status": {"code": 200, "message": "OK"}}
    return {"request": request, "response": response}, broken


def _body_bytes(body) -> bytes:
    """What the reader must make of a body (the vcrpy layout and the reader's documented rules)."""
    if isinstance(body, dict) and set(body) == {"string"}:
        body = body["string"]
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8", "surrogatepass")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(drawn=st.lists(vcr_items(), min_size=1, max_size=6))
@example(  # a structured body with an integer beyond 64 bits after a text body: the whole file is re-read exactly
    drawn=[
        ({"request": {"method": "get", "uri": f"{BATCH}/jobs", "body": "x", "headers": {}},
          "response": {"status": {"code": 200}, "headers": {}, "body": {"string": "{}"}}}, False),
        ({"request": {"method": "get", "uri": f"{BATCH}/jobs", "body": None, "headers": {}},
          "response": {"status": {"code": 200}, "headers": {}, "body": {"n": 2**70}}}, False),
    ]
)  # fmt: skip
def test_reading_a_vcrpy_json_file_equals_the_oracle(tmp_path_factory, drawn) -> None:
    path = tmp_path_factory.mktemp("cassettes") / "c.json"
    path.write_text(json.dumps({"interactions": [item for item, _ in drawn], "version": 1}))
    read = list(read_recording(path))
    assert len(read) == len(drawn)
    for index, (got, (item, broken)) in enumerate(zip(read, drawn)):
        if broken:
            assert isinstance(got, RecordingError) and got.index == index
            assert "request.method is missing" in str(got)
            continue
        request, response = item["request"], item["response"]
        assert not isinstance(got, RecordingError), got
        assert (got.method, got.url, got.status) == (request["method"].upper(), request["uri"], 200)
        assert got.request_body == _body_bytes(request["body"])
        assert got.response_body == _body_bytes(response["body"])
        for headers, raw in ((got.request_headers, request["headers"]), (got.response_headers, response["headers"])):
            expected = Headers.of(raw)
            assert headers == expected
            assert list(headers.folded()) == list(expected.folded())
            assert [headers.get(name) for name in raw] == [expected.get(name) for name in raw]


def test_the_same_cassette_as_yaml_reads_the_same(tmp_path: Path) -> None:
    """The YAML path (never orjson) and the JSON fast path agree on one file's content."""
    items = [
        {"request": {"method": "GET", "uri": f"{BATCH}/pools?api-version=2025-06-01", "body": None,
                     "headers": {"Accept": ["application/json"], "accept": ["text/plain"]}},
         "response": {"status": {"code": 200, "message": "OK"}, "headers": {"ETag": ["0x1"]},
                      "body": {"string": '{"value": []}'}}},
    ]  # fmt: skip
    (tmp_path / "c.json").write_text(json.dumps({"interactions": items, "version": 1}))
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"interactions": items, "version": 1}))
    from_json, from_yaml = (list(read_recording(tmp_path / name)) for name in ("c.json", "c.yaml"))
    assert [replace(i, source=None) for i in from_json] == [replace(i, source=None) for i in from_yaml]
    assert from_json[0].request_headers.get("ACCEPT") == "application/json"  # the first spelling wins


# --------------------------------------------------------------------------- headers


@given(raw=st.dictionaries(names, st.lists(texts, min_size=1, max_size=1), max_size=6))
def test_headers_over_a_readers_own_map_are_the_value_headers_of_builds(raw) -> None:
    index: dict[str, str] = {}
    for name, (value,) in raw.items():
        index.setdefault(name.lower(), value)
    lazy, eager = Headers._of_single_values(raw, index), Headers.of(raw)
    assert hash(lazy) == hash(eager) and repr(lazy) == repr(eager)
    assert lazy == eager and eager == lazy
    assert list(lazy.folded()) == list(eager.folded())
    assert (len(lazy), list(lazy), lazy.names()) == (len(eager), list(eager), eager.names())
    assert pickle.loads(pickle.dumps(lazy)) == eager
    with pytest.raises(FrozenInstanceError):
        lazy.items = ()  # type: ignore[misc]
    assert lazy != {"items": eager.items}  # a value object of its own type only


# --------------------------------------------------------------------------- compiling


@given(tokens=st.lists(st.one_of(st.text(max_size=6), st.integers(0, 50)), max_size=6))
def test_the_fast_pointer_is_the_pointer(tokens) -> None:
    assert _fast_pointer(tokens) == pointer(tokens)


def test_versions_share_strict_definitions_only_when_the_definition_is_the_same() -> None:
    shared: dict = {}
    old, next_, new = (LIBRARY.get(v) for v in ("2017-05-01.5.0", "2017-06-01.5.1", "2024-07-01.20.0"))
    a, b, c = (CompiledSpec(spec, shared=shared) for spec in (old, next_, new))
    for compiled in (a, b, c):
        compiled.fast_validator({"$ref": "#/definitions/CloudJob"}, RESPONSE)
    assert json.dumps(old.definitions["MetadataItem"]) == json.dumps(new.definitions["MetadataItem"])
    assert (
        a._strict[RESPONSE]["MetadataItem"]
        is b._strict[RESPONSE]["MetadataItem"]
        is c._strict[RESPONSE]["MetadataItem"]
    )
    assert json.dumps(old.definitions["CloudJob"]) == json.dumps(next_.definitions["CloudJob"])
    assert a._strict[RESPONSE]["CloudJob"] is b._strict[RESPONSE]["CloudJob"]
    assert json.dumps(old.definitions["CloudJob"]) != json.dumps(new.definitions["CloudJob"])
    assert a._strict[RESPONSE]["CloudJob"] is not c._strict[RESPONSE]["CloudJob"]
    alone = CompiledSpec(old)  # the shared variant is the one this version would have made itself
    alone.fast_validator({"$ref": "#/definitions/CloudJob"}, RESPONSE)
    assert json.dumps(alone._strict[RESPONSE]["CloudJob"]) == json.dumps(a._strict[RESPONSE]["CloudJob"])
    assert json.dumps(alone._rs_definitions[RESPONSE]["CloudJob"]) == json.dumps(
        a._rs_definitions[RESPONSE]["CloudJob"]
    )
    # request and response variants of one definition are different objects
    a.fast_validator({"$ref": "#/definitions/JobAddParameter"}, REQUEST)
    assert a._strict[REQUEST]["JobAddParameter"] is not a._strict[RESPONSE].get("JobAddParameter")


def _drifted(value):
    """Case-flip short strings: enum values drift in case (or become errors), the rest stays."""
    if isinstance(value, dict):
        return {k: _drifted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drifted(v) for v in value]
    if isinstance(value, str) and 2 < len(value) < 20 and value.isalpha():
        return value[0].swapcase() + value[1:]
    return value


def _interactions(path: Path, limit: int):
    found = []
    for file in sorted(path.rglob("*.yaml"))[:limit]:
        for item in read_recording(file):
            if isinstance(item, RecordingError) or not item.response_body.startswith(b"{"):
                continue
            body = json.dumps(_drifted(json.loads(item.response_body))).encode()
            found.append(replace(item, response_body=body))
    return found


@pytest.mark.parametrize("where", ["reference", "real-traffic"])
def test_a_long_lived_validator_finds_what_a_fresh_one_finds(where: str) -> None:
    """Caches that outlive one interaction (plans, shared strict definitions and validators, drift
    locations) never change a finding: every interaction checked by one validator, twice, and by a
    validator of its own."""
    if where == "reference":
        interactions = _interactions(REFERENCE, 6)
    else:
        interactions = _interactions(require(REAL_TRAFFIC / "azure-batch-cli-extensions"), 4)[:60]
    assert len(interactions) > 20
    long_lived = Validator(LIBRARY)
    first = [long_lived.check(i).violations for i in interactions]
    again = [long_lived.check(i).violations for i in interactions]
    fresh = [Validator(LIBRARY).check(i).violations for i in interactions]
    assert first == again == fresh
    assert sum(len(v) for v in first) > 0  # the drifted bodies do produce findings


# -- the URL splitter the engine uses instead of urlsplit ------------------------------------------------------

_TEXT = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#/"), max_size=8)
_URLS = st.builds(
    lambda scheme, netloc, segments, query, fragment: (
        (f"{scheme}://{netloc}" if scheme else "")
        + "".join(f"/{s}" for s in segments)
        + (f"?{query}" if query is not None else "")
        + (f"#{fragment}" if fragment is not None else "")
    ),
    st.sampled_from(["https", "http", ""]),
    st.from_regex(r"[a-z0-9.-]{1,12}(:[0-9]{1,5})?", fullmatch=True),
    st.lists(_TEXT, max_size=4),
    st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#"), max_size=12),
    st.none() | _TEXT,
).filter(lambda url: not url.startswith("//"))  # a network-path reference: never a recorded request's URL


@settings(max_examples=300, deadline=None)
@given(_URLS)
@example("https://acct.westus.batch.azure.com?api-version=2025-06-01")  # a query right after the host
@example("https://acct.westus.batch.azure.com")
@example("/jobs/a?b=c#d")
def test_split_url_agrees_with_urlsplit(url):
    from urllib.parse import urlsplit

    from pytest_batch.validation import _split_url

    parts = urlsplit(url)
    assert _split_url(url) == (parts.netloc, parts.path or "/", parts.query)


def test_value_objects_built_through_their_slots_equal_their_constructors():
    """`_outcome_of` and `_match_of` skip the frozen dataclasses' `__init__` for speed: a field added to either
    class and not set there fails here, not as an AttributeError in some later check."""
    from dataclasses import fields

    from pytest_batch.interaction import Interaction
    from pytest_batch.spec import Match, _match_of
    from pytest_batch.validation import Outcome, _outcome_of

    interaction = Interaction("GET", "https://a.b.batch.azure.com/jobs?api-version=2025-06-01")
    built = _outcome_of(interaction, "Jobs_ListJobs", "2025-06-01", ())
    assert built == Outcome(interaction, "Jobs_ListJobs", "2025-06-01", ())
    assert [f.name for f in fields(Outcome)] == ["interaction", "operation_id", "api_version", "violations", "skipped"]
    spec = SpecLibrary().get("2025-06-01")
    match = spec.match("GET", "/jobs/j1")
    assert match == Match(spec.operations["Jobs_GetJob"], {"jobId": "j1"})
    assert _match_of(match.operation, match.path_params) == match
    assert [f.name for f in fields(Match)] == ["operation", "path_params"]
