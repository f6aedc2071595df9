"""`pytest_batch.strategies`: what it draws is what the engine says it is.

* every definition of 2025-06-01 and 2018-08-01.7.0 (request and response flavour) and every
  operation body: 100 % of `valid` draws pass the strict schema (`CompiledSpec`) and the overlay
  (`check_constraints`);
* every label `invalid` offers (each overlay rule and schema keyword it can break alone) breaks
  exactly that label, checked here by the engine, and, for request bodies, by `Validator.check`
  on a whole request;
* `request` draws route to their operation and pass every request check;
* the hard cases on synthetic bundles: recursive `$ref`, a cycle of required properties, `allOf`,
  discriminators, nullable `anyOf`, read-only properties, open enums, free-form objects;
* scalar building blocks (durations, integer domains, the regex reader) as properties;
* draws shrink to minimal examples and need no health-check suppression.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from pytest_batch import formats as fmt
from pytest_batch.compiled import REQUEST, RESPONSE, CompiledSpec
from pytest_batch.constraints import check_constraints, duration_seconds, load_overlay, overlay_from_data
from pytest_batch.spec import SpecLibrary
from pytest_batch.strategies import Labelled, RequestParts, Strategies, StrategyError
from pytest_batch.strategies.regex import WIDTH, compile_reader
from pytest_batch.strategies.scalars import IntegerDomain, char_class_run, duration_text
from pytest_batch.validation import DOCUMENTED_CONSTRAINTS, ERROR, REQUEST_BODY_SCHEMA, Validator

LIBRARY = SpecLibrary()
OVERLAY = load_overlay()
STRATEGIES = Strategies(LIBRARY, OVERLAY)
VALIDATOR = Validator(LIBRARY)
SWEPT = ("2025-06-01", "2018-08-01.7.0")
COMPILED = {version: CompiledSpec(LIBRARY.get(version)) for version in SWEPT}


def draws(strategy, n: int, *, derandomize: bool = False) -> list:
    """`n` examples from a real `@given` run (health checks on: none is suppressed anywhere here)."""
    out: list = []

    @settings(max_examples=n, phases=[Phase.generate], database=None, deadline=None, derandomize=derandomize)
    @given(strategy)
    def collect(value):
        out.append(value)

    collect()
    return out


def engine(version: str, name: str, schema, value, flavor: str = REQUEST):
    """(schema errors, overlay findings) for `value` as an instance of definition/operation `name`."""
    compiled = COMPILED[version]
    errors = [] if compiled.is_valid(schema, value, flavor) else compiled.explain(schema, value, flavor)
    return errors, check_constraints(OVERLAY, LIBRARY.get(version), name, value)


def ref(name: str) -> dict:
    return {"$ref": f"#/definitions/{name}"}


# ---------------------------------------------------------------------------
# valid


@pytest.mark.parametrize("version", SWEPT)
@pytest.mark.parametrize(("flavor", "per_definition"), [(REQUEST, 25), (RESPONSE, 8)])
def test_every_valid_draw_of_every_definition_passes_the_engine_and_the_overlay(version, flavor, per_definition):
    spec = LIBRARY.get(version)
    swept, total, bad = 0, 0, []
    for name in spec.definitions:
        values = draws(STRATEGIES.valid(version, name, flavor=flavor), per_definition)
        assert values, name
        swept += 1
        for value in values:
            total += 1
            errors, findings = engine(version, name, ref(name), value, flavor)
            if errors or findings:
                bad.append((name, [e.message for e in errors][:2], [f.rule_id for f in findings][:2], value))
    assert swept == len(spec.definitions)
    assert total >= len(spec.definitions)
    assert not bad, bad[:3]


@pytest.mark.parametrize("version", SWEPT)
def test_valid_operation_bodies_pass_the_engine_and_the_overlay(version):
    spec = LIBRARY.get(version)
    with_body = [op for op in spec.operations.values() if op.body is not None]
    assert len(with_body) > 20
    for op in with_body:
        for body in draws(STRATEGIES.valid(version, operation=op.operation_id), 6):
            errors, findings = engine(version, op.operation_id, op.body.schema, body)
            assert not errors and not findings, (op.operation_id, errors[:1], findings[:1], body)


def test_valid_draws_reach_both_sides_of_the_overlay_rules():
    """The repairs are not dodged by never drawing the interesting shapes: both autoscale modes, several
    NAT pools (names, ports and frontend ranges kept apart), exclusive user identities, confidential VMs."""
    pools = draws(STRATEGIES.valid("2025-06-01", "BatchPoolCreateOptions"), 400, derandomize=True)
    seen = Counter()
    for pool in pools:
        seen["autoscale"] += pool.get("enableAutoScale") is True
        seen["fixed"] += "targetDedicatedNodes" in pool or "targetLowPriorityNodes" in pool
        nat = ((pool.get("networkConfiguration") or {}).get("endpointConfiguration") or {}).get("inboundNATPools")
        seen["nat>=2"] += len(nat or ()) >= 2
        identity = (pool.get("startTask") or {}).get("userIdentity")
        seen["identity"] += identity is not None
        seen["identity-both"] += bool(identity) and {"username", "autoUser"} <= set(identity)
        security = pool["virtualMachineConfiguration"].get("securityProfile") or {}
        seen["confidential"] += str(security.get("securityType", "")).lower() == "confidentialvm"
    assert seen["autoscale"] and seen["fixed"] and seen["nat>=2"] and seen["identity"] and seen["confidential"], seen
    assert seen["identity-both"] == 0
    assert all("virtualMachineConfiguration" in pool for pool in pools)  # required by a rule without `when`


def test_valid_is_deterministic_per_seed_and_varied():
    first = draws(STRATEGIES.valid("2025-06-01", "BatchJobCreateOptions"), 50, derandomize=True)
    again = draws(STRATEGIES.valid("2025-06-01", "BatchJobCreateOptions"), 50, derandomize=True)
    assert first == again
    assert len({json.dumps(v, sort_keys=True) for v in first}) > 40


# ---------------------------------------------------------------------------
# invalid


def _offered(version: str) -> dict[str, str]:
    """Every label some definition offers → the first (sorted) definition offering it."""
    spec = LIBRARY.get(version)
    found: dict[str, str] = {}
    for name in sorted(spec.definitions):
        for label in STRATEGIES.labels(version, name):
            found.setdefault(label, name)
    return found


# Overlay rules of a version no `invalid` can break alone, and why (the test fails if this changes).
UNBREAKABLE = {
    "2025-06-01": {
        "auth-token-access-values": "the only other values are undocumented ones of an open enum (drift)",
        "client-request-id-guid": "a header parameter: `invalid` breaks bodies",
        "maxresults-range": "a query parameter (and the same bounds as its schema)",
        "ocp-range-form": "a header parameter: `invalid` breaks bodies",
    },
    "2018-08-01.7.0": {
        "auth-token-access-values": "the enum is closed: any other value breaks `enum` too",
        "client-request-id-guid": "a header parameter: `invalid` breaks bodies",
        "maxresults-range": "a query parameter (and the same bounds as its schema)",
        "ocp-range-form": "a header parameter: `invalid` breaks bodies",
        "task-collection-size": "maxItems 100 in the schema says the same: breaking one breaks both",
    },
}


@pytest.mark.parametrize("version", SWEPT)
def test_every_offered_label_breaks_exactly_itself(version):
    offered = _offered(version)
    rules = {rule.id for rule in OVERLAY.rules_for(version)}
    assert rules - set(offered) == set(UNBREAKABLE[version])
    assert {"schema:type", "schema:required", "schema:format", "schema:readOnly"} <= set(offered)
    kinds = Counter()
    for label, name in sorted(offered.items()):
        keyword = label.removeprefix("schema:") if label.startswith("schema:") else None
        strategy = (
            STRATEGIES.invalid(version, name, keyword=keyword)
            if keyword
            else STRATEGIES.invalid(version, name, rule=label)
        )
        for case in draws(strategy, 5):
            assert isinstance(case, Labelled) and case.label == label
            errors, findings = engine(version, name, ref(name), case.value)
            if keyword:
                assert errors and not findings, (label, name, findings[:2], case.value)
                assert {e.keyword for e in errors} == {keyword}, (label, [e.message for e in errors])
                assert all(e.kind in ("error", "read_only") for e in errors)
                assert case.pointer in {e.instance_pointer for e in errors}
            else:
                assert not errors, (label, name, [e.message for e in errors][:2])
                assert findings and {f.rule_id for f in findings} == {label}, (label, name, findings[:3])
                assert case.pointer in {f.pointer for f in findings}
                kinds[OVERLAY.rule(label).kind] += 1
    if version == "2025-06-01":  # every kind of rule the overlay has for 2025-06-01 bodies, at least once
        body_kinds = {r.kind for r in OVERLAY.rules_for(version) if r.id not in UNBREAKABLE[version]}
        assert set(kinds) == body_kinds


@pytest.mark.parametrize(
    ("version", "operations"),
    [
        ("2025-06-01", ("Pools_CreatePool", "Jobs_CreateJob", "Tasks_CreateTask", "Tasks_CreateTaskCollection")),
        ("2018-08-01.7.0", ("Pool_Add", "Job_Add", "Task_AddCollection", "Certificate_Add")),
    ],
)
def test_invalid_bodies_break_exactly_their_label_in_a_whole_request(version, operations):
    """End to end: a valid request carrying the labelled body, through `Validator.check` (request checks,
    body schema) and `check_constraints` on the parsed request (the overlay), as the service would see it."""
    spec = LIBRARY.get(version)
    for op in operations:
        requests = STRATEGIES.request(version, op)
        cases = draws(st.tuples(requests, STRATEGIES.invalid(version, operation=op)), 20)
        labels = set()
        for parts, case in cases:
            labels.add(case.label)
            sent = RequestParts(**{**_fields(parts), "body": case.value, "has_body": True})
            outcome = VALIDATOR.check(sent.interaction())
            assert outcome.operation_id == op
            body = json.loads(sent.body_bytes())
            rules = {
                f.rule_id
                for f in check_constraints(
                    OVERLAY, spec, op, body, query=sent.query, headers=sent.headers, path_params=sent.path_params
                )
            }
            schema = [v for v in outcome.violations if v.check != DOCUMENTED_CONSTRAINTS]
            overlay_found = {v.rule for v in outcome.violations if v.check == DOCUMENTED_CONSTRAINTS}
            assert all(v.severity == ERROR for v in outcome.violations), [v.describe() for v in outcome.violations]
            if case.is_rule:
                assert not schema, (case.label, [v.describe() for v in schema])
                assert rules == {case.label}
                assert overlay_found == {case.label}  # the engine's documented_constraints check agrees
            else:
                assert not rules and not overlay_found, (case.label, rules, overlay_found)
                assert schema and {v.check for v in schema} == {REQUEST_BODY_SCHEMA}, [v.describe() for v in schema]
                assert all(v.schema_pointer.endswith("/" + case.keyword) for v in schema), [
                    v.schema_pointer for v in schema
                ]
        assert len(labels) > 3, (op, labels)


def _fields(parts: RequestParts) -> dict:
    return {name: getattr(parts, name) for name in RequestParts.__slots__}


def test_invalid_refuses_what_it_cannot_break_and_names_what_it_can():
    with pytest.raises(StrategyError, match="auth-token-access-values.*cannot be broken alone.*use one of"):
        STRATEGIES.invalid("2025-06-01", "AuthenticationTokenSettings", rule="auth-token-access-values")
    with pytest.raises(StrategyError, match="pool-id-length"):
        STRATEGIES.invalid("2025-06-01", "BatchJobCreateOptions", rule="pool-id-length")
    with pytest.raises(StrategyError, match="rule= or keyword=, not both"):
        STRATEGIES.invalid("2025-06-01", "BatchJobCreateOptions", rule="job-id-length", keyword="type")


# ---------------------------------------------------------------------------
# requests


@pytest.mark.parametrize("version", SWEPT)
def test_requests_route_to_their_operation_and_pass_every_request_check(version):
    spec = LIBRARY.get(version)
    bodies = 0
    for op in spec.operations:
        for parts in draws(STRATEGIES.request(version, op), 5):
            assert parts.query["api-version"] == version
            outcome = VALIDATOR.check(parts.interaction())
            assert outcome.operation_id == op, (op, parts.url())
            assert not outcome.violations, (op, [v.describe() for v in outcome.violations][:3], parts.url())
            bodies += parts.has_body
    assert bodies > 50


def test_request_parts_carry_text_as_http_sends_it():
    parts = draws(STRATEGIES.request("2025-06-01", "Nodes_GetNodeFile"), 60, derandomize=True)
    headers = [value for p in parts for value in p.headers.values()]
    # printable ASCII, no whitespace at either end (HTTP would strip it); dates keep their inner spaces
    assert headers and all(re.fullmatch(r"[!-~](?:[ -~]*[!-~])?", value) for value in headers if value)
    ranges = [p.headers["ocp-range"] for p in parts if "ocp-range" in p.headers]
    assert ranges and all(re.fullmatch(r"bytes=[0-9]+-[0-9]*", r) for r in ranges)  # the overlay's rule
    for p in parts:
        assert "{" not in p.path and p.url().startswith("https://account.region.batch.azure.com/pools/")
        assert all(value not in ("", ".", "..") for value in p.path_params.values())


# ---------------------------------------------------------------------------
# hard cases on a synthetic bundle


SYNTHETIC = {
    "Tree": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": ref("Tree")},
            "parent": ref("Tree"),
        },
    },
    "Loop": {"type": "object", "required": ["next"], "properties": {"next": ref("Loop")}},
    "Animal": {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"type": "string"}, "name": {"type": "string"}},
        "x-discriminator": {
            "propertyName": "kind",
            "mapping": {"Animal": "#/definitions/Animal", "dog": "#/definitions/Dog", "cat": "#/definitions/Cat"},
        },
    },
    "Dog": {
        "type": "object",
        "required": ["kind", "bark"],
        "properties": {"kind": {"type": "string"}, "name": {"type": "string"}, "bark": {"type": "boolean"}},
    },
    "Cat": {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"type": "string"}, "lives": {"type": "integer", "minimum": 1, "maximum": 9}},
    },
    "Named": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "minLength": 3}}},
    "Stamped": {"type": "object", "required": ["at"], "properties": {"at": {"type": "string", "format": "date-time"}}},
    # allOf as the bundles use it: a `$ref` wrapped to carry siblings (the converter flattens the rest)
    "Record": {
        "type": "object",
        "required": ["state", "named"],
        "properties": {
            "named": {"allOf": [ref("Named")]},
            "stamp": {"allOf": [ref("Stamped")], "readOnly": True},
            "state": {"type": "string", "enum": ["active", "deleting"], "x-enum-open": True},
            "etag": {"type": "string", "readOnly": True},
            "owner": {"anyOf": [ref("Named"), {"type": "null"}]},
            "size": {"type": ["integer", "null"], "format": "int32"},
            "tags": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 4}},
            "settings": {"type": "object"},
            "mode": {"type": "string", "enum": ["private", "shared"]},
            "alpha": {"type": "string"},
            "beta": {"type": "string"},
        },
    },
}
SYNTHETIC_RULES = {
    "format": "pytest-batch-constraints/1",
    "rules": [
        {
            "id": "alpha-beta-exclusive",
            "kind": "mutually_exclusive",
            "value": {"groups": [["alpha"], ["beta"]], "exactly_one": True},
            "targets": {"2099-01-01": [{"definition": "Record", "path": ""}]},
            "source": {"api_version": "2099-01-01", "pointer": "/definitions/Record", "sentence": 1},
            "summary": "alpha or beta",
        },
        {
            "id": "owner-when-mode",
            "kind": "required_if",
            "value": {"any_of": ["owner"], "when": [{"property": "mode", "equals": "shared"}]},
            "targets": {"2099-01-01": [{"definition": "Record", "path": ""}]},
            "source": {"api_version": "2099-01-01", "pointer": "/definitions/Record", "sentence": 2},
            "summary": "owner when shared",
        },
        {
            "id": "id-length",
            "kind": "length",
            "value": {"max": 5},
            "targets": {"2099-01-01": [{"definition": "Named", "path": "id"}]},
            "source": {"api_version": "2099-01-01", "pointer": "/definitions/Named", "sentence": 1},
            "summary": "short ids",
        },
    ],
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundles")
    bundle = {"api_version": "2099-01-01", "operations": {}, "definitions": SYNTHETIC}
    (folder / "2099-01-01.json").write_text(json.dumps(bundle), encoding="utf-8")
    library = SpecLibrary(folder)
    overlay = overlay_from_data(SYNTHETIC_RULES)
    return library, overlay, Strategies(library, overlay), CompiledSpec(library.get("2099-01-01"))


def test_recursive_definitions_draw_finite_values_that_validate(synthetic):
    _, _, strategies, compiled = synthetic
    trees = draws(strategies.valid("2099-01-01", "Tree"), 80)

    def depth(tree):
        return 1 + max(
            [depth(c) for c in tree.get("children", [])] + [depth(tree["parent"]) if "parent" in tree else 0]
        )

    assert all(compiled.is_valid(ref("Tree"), tree, REQUEST) for tree in trees)
    assert max(depth(t) for t in trees) >= 3  # recursion is followed, not cut at the first level
    assert max(depth(t) for t in trees) <= 14  # … and bounded


def test_a_cycle_of_required_properties_is_an_error_not_a_hang(synthetic):
    strategies = synthetic[2]
    with pytest.raises(StrategyError, match="Loop.*requires itself.*fix: make one property of the cycle optional"):
        strategies.valid("2099-01-01", "Loop")


def test_discriminated_bases_draw_the_base_or_a_subtype_named_by_the_discriminator(synthetic):
    _, _, strategies, compiled = synthetic
    animals = draws(strategies.valid("2099-01-01", "Animal"), 60, derandomize=True)
    kinds = Counter(a["kind"] for a in animals)
    assert set(kinds) == {"Animal", "dog", "cat"}
    target = {"Animal": "Animal", "dog": "Dog", "cat": "Cat"}
    assert all(compiled.is_valid(ref(target[a["kind"]]), a, REQUEST) for a in animals)


def test_all_of_nullable_read_only_open_enums_free_form_and_the_overlay_together(synthetic):
    library, overlay, strategies, compiled = synthetic
    spec = library.get("2099-01-01")
    requests = draws(strategies.valid("2099-01-01", "Record"), 150, derandomize=True)
    responses = draws(strategies.valid("2099-01-01", "Record", flavor=RESPONSE), 150, derandomize=True)
    for value in requests:
        assert compiled.is_valid(ref("Record"), value, REQUEST), value
        assert not check_constraints(overlay, spec, "Record", value), value
        assert 3 <= len(value["named"]["id"]) <= 5  # minLength from the schema, max from a rule reached via allOf
        assert "etag" not in value and "stamp" not in value  # read-only (also beside allOf): never in a request
        assert value["state"] in ("active", "deleting")  # open enum: documented values only
        assert ("alpha" in value) != ("beta" in value)  # the exclusive pair, exactly one
        if value.get("mode") == "shared":
            assert value.get("owner") is not None  # "owner is required if mode is shared", repaired in
    assert any("etag" in value for value in responses) and any("stamp" in value for value in responses)
    assert all(compiled.is_valid(ref("Record"), value, RESPONSE) for value in responses)
    owners = Counter(type(v.get("owner", ...)).__name__ for v in requests)
    assert owners["NoneType"] and owners["dict"]  # nullable anyOf: both branches
    assert any(v.get("tags") for v in requests) and any(v.get("settings") for v in requests)
    assert any(v.get("mode") == "shared" for v in requests)
    labels = strategies.labels("2099-01-01", "Record")
    assert {"alpha-beta-exclusive", "owner-when-mode", "id-length", "schema:readOnly", "schema:required"} <= set(labels)
    for label in ("alpha-beta-exclusive", "owner-when-mode", "id-length"):
        for case in draws(strategies.invalid("2099-01-01", "Record", rule=label), 5):
            assert compiled.is_valid(ref("Record"), case.value, REQUEST)
            assert {f.rule_id for f in check_constraints(overlay, spec, "Record", case.value)} == {label}


def test_bad_names_fail_with_one_line_and_a_fix():
    with pytest.raises(StrategyError, match=r"no definition 'CloudJob'.*fix: .*names changed in 2025-06-01"):
        STRATEGIES.valid("2025-06-01", "CloudJob")
    with pytest.raises(StrategyError, match=r"no operation 'Pool_Add'.*fix: use an operationId"):
        STRATEGIES.valid("2025-06-01", operation="Pool_Add")
    with pytest.raises(StrategyError, match="takes no request body"):
        STRATEGIES.valid("2025-06-01", operation="Pools_GetPool")
    with pytest.raises(StrategyError, match="unknown flavour"):
        STRATEGIES.valid("2025-06-01", "BatchPool", flavor="sideways")
    with pytest.raises(StrategyError, match="exactly one of"):
        STRATEGIES.valid("2025-06-01")


# ---------------------------------------------------------------------------
# scalar building blocks


@given(st.integers(0, 10675199 * 86400 * 1000), st.integers(0, 3))
def test_duration_text_is_iso_8601_and_means_what_it_was_drawn_for(milliseconds, style):
    text = duration_text(milliseconds, style)
    assert fmt.is_duration(text)
    assert duration_seconds(text) == pytest.approx(milliseconds / 1000)


@given(
    st.integers(-1000, 1000),
    st.integers(0, 2000),
    st.lists(st.tuples(st.integers(-1200, 1200), st.integers(0, 50)), max_size=4),
    st.integers(-1500, 1500),
)
def test_integer_domains_fold_holes_and_answer_nearest_members(low, width, holes, probe):
    holes = [(a, a + w) for a, w in holes]
    domain = IntegerDomain.of(low, low + width, holes)
    members = [n for n in range(low, low + width + 1) if not any(a <= n <= b for a, b in holes)]
    assert [n for n in range(low - 1, low + width + 2) if n in domain] == members
    above = [n for n in members if n >= probe]
    below = [n for n in members if n <= probe]
    assert domain.at_least(probe) == (above[0] if above else None)
    assert domain.at_most(probe) == (below[-1] if below else None)
    assert all(n not in domain for n in domain.outside())


PATTERNS = sorted({(r.value["regex"], bool(r.value.get("ignore_case"))) for r in OVERLAY.rules if r.kind == "pattern"})


@pytest.mark.parametrize(("regex", "ignore_case"), PATTERNS)
@settings(max_examples=40)
@given(record=st.binary(min_size=WIDTH, max_size=WIDTH))
def test_the_regex_reader_writes_text_the_overlay_pattern_matches(regex, ignore_case, record):
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    reader = compile_reader(regex, flags, "abcXYZ019-_./:?&=%é中 ")
    assert reader is not None
    text = reader(record, 0)
    if "(?!" not in regex:  # lookarounds are left to the caller's check (and its fallback)
        assert re.fullmatch(regex, text, flags), (regex, text)
    assert reader(bytes(WIDTH), 0) == reader(bytes(WIDTH), 0)  # deterministic


def test_character_class_runs_are_recognised_and_nothing_else():
    assert char_class_run("[A-Za-z0-9_-]+") == ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", 1)
    assert char_class_run("[a\\-z]*") == ("a-z", 0)
    assert char_class_run("[^/]+") is None and char_class_run("[\\d]+") is None and char_class_run("a+") is None


# ---------------------------------------------------------------------------
# shrinking and health checks


def test_failing_properties_shrink_to_minimal_bodies():
    seen: list = []

    @settings(max_examples=400, database=None, derandomize=True)
    @given(STRATEGIES.valid("2025-06-01", "BatchPoolCreateOptions"))
    def no_start_task(pool):
        seen.append(pool)
        assert "startTask" not in pool

    with pytest.raises(AssertionError):
        no_start_task()
    minimal = seen[-1]
    assert minimal["startTask"] == {"commandLine": ""}
    # required properties, the VM configuration a rule requires, a node count the fixed-size rule requires
    assert set(minimal) == {"id", "vmSize", "virtualMachineConfiguration", "startTask", "targetDedicatedNodes"}
    assert len(json.dumps(minimal)) < 300


@pytest.mark.parametrize(
    "name",
    ["BatchPoolCreateOptions", "BatchJobCreateOptions", "BatchTaskCreateOptions", "BatchJobScheduleCreateOptions"],
)
def test_default_settings_need_no_health_check_suppression(name):
    @settings(max_examples=60, database=None)  # default health checks, deadline included
    @given(STRATEGIES.valid("2025-06-01", name))
    def anything(value):
        assert isinstance(value, dict)

    anything()  # raises FailedHealthCheck (too slow, filtering, large base example…) if one fires
