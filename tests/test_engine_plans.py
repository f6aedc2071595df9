"""The engine's speed paths give the answers of the paths they short-cut.

* the constraints plan (skip the overlay walk when the body schema reaches no ruled definition):
  on every operation of the overlay's versions, `Validator.check` reports exactly the rules the
  public `check_constraints` finds on the same request (drawn to break one rule or keyword);
* type errors explained from jsonschema-rs equal the pure-Python explainer's, with the value as
  parsed (jsonschema-rs hands back objects with sorted keys: a falsifying example, pinned);
  a float (orjson may have bent a big integer) is left to the exact explainer;
* compiled body validators are shared between api-versions only when their roots are identical.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pytest_batch.compiled import REQUEST, CompiledSpec
from pytest_batch.constraints import check_constraints, load_overlay
from pytest_batch.spec import SpecLibrary
from pytest_batch.strategies import RequestParts, Strategies, StrategyError
from pytest_batch.validation import DOCUMENTED_CONSTRAINTS, Validator

LIBRARY = SpecLibrary()
OVERLAY = load_overlay()
STRATEGIES = Strategies(LIBRARY, OVERLAY)
VALIDATOR = Validator(LIBRARY)
COVERED = tuple(sorted(OVERLAY.versions))


def _body_operations(version: str) -> list[str]:
    return sorted(op_id for op_id, op in LIBRARY.get(version).operations.items() if op.body is not None)


def _agree(spec, op_id: str, requests, bodies) -> None:
    """A few whole requests carrying drawn bodies: the engine's overlay findings == `check_constraints`'."""

    @settings(
        max_examples=4,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.tuples(requests, bodies))
    def agree(drawn):
        parts, case = drawn
        body = getattr(case, "value", case)
        fields = {name: getattr(parts, name) for name in RequestParts.__slots__}
        sent = RequestParts(**{**fields, "body": body, "has_body": True})
        outcome = VALIDATOR.check(sent.interaction())
        assert outcome.operation_id == op_id
        found = {v.rule for v in outcome.violations if v.check == DOCUMENTED_CONSTRAINTS}
        parameters = {"query": sent.query, "headers": sent.headers, "path_params": sent.path_params}
        expected = {
            f.rule_id for f in check_constraints(OVERLAY, spec, op_id, json.loads(sent.body_bytes()), **parameters)
        }
        assert found == expected, (op_id, body)

    agree()


@pytest.mark.parametrize("version", COVERED)
def test_engine_reports_what_check_constraints_finds_on_every_operation(version):
    spec = LIBRARY.get(version)
    walked = skipped = 0
    for op_id in _body_operations(version):
        try:
            bodies = STRATEGIES.invalid(version, operation=op_id)
        except StrategyError:
            bodies = STRATEGIES.valid(version, operation=op_id)
        _agree(spec, op_id, STRATEGIES.request(version, op_id), bodies)
        walk_body, _ = VALIDATOR._constraint_plan(spec, spec.operations[op_id])
        walked, skipped = walked + walk_body, skipped + (not walk_body)
    assert walked and skipped  # both sides of the plan were exercised


@pytest.mark.parametrize(
    ("document", "pointer", "actual"),
    [
        ({"id": {"0": None, "": None}, "poolInfo": {}}, "/id", {"0": None, "": None}),  # found by Hypothesis
        ([{"poolInfo": {}, "id": ""}], "", [{"poolInfo": {}, "id": ""}]),
        ({"id": 7, "poolInfo": {}}, "/id", 7),
    ],
)
def test_type_errors_from_jsonschema_rs_equal_the_exact_explanation(document, pointer, actual):
    compiled = CompiledSpec(LIBRARY.get("2025-06-01"))
    schema = LIBRARY.get("2025-06-01").operations["Jobs_CreateJob"].body.schema
    target = compiled._target(schema, REQUEST)
    fast = compiled._explain_drift(REQUEST, target, document)
    assert fast is not None, "a plain type error is explained without the pure-Python pass"
    key = lambda e: (e.instance_pointer, e.schema_pointer, e.kind, e.message)
    assert sorted(fast, key=key) == sorted(compiled._explain_fully(REQUEST, target, document), key=key)
    (error,) = fast
    assert (error.keyword, error.instance_pointer) == ("type", pointer)
    assert repr(error.actual) == repr(actual)  # key order as parsed, in `actual` and in the message
    assert repr(actual) in error.message


def test_a_float_in_the_wrong_place_goes_to_the_exact_explainer():
    compiled = CompiledSpec(LIBRARY.get("2025-06-01"))
    schema = LIBRARY.get("2025-06-01").operations["Jobs_CreateJob"].body.schema
    target = compiled._target(schema, REQUEST)
    assert compiled._explain_drift(REQUEST, target, {"id": 1.5, "poolInfo": {}}) is None
    (error,) = compiled.explain(schema, {"id": 1.5, "poolInfo": {}}, REQUEST)
    assert (error.keyword, error.actual) == ("type", 1.5)


def test_versions_share_a_compiled_validator_only_for_an_identical_root():
    shared: dict = {}
    old, next_, new = (LIBRARY.get(v) for v in ("2017-05-01.5.0", "2017-06-01.5.1", "2024-07-01.20.0"))
    a, b, c = (CompiledSpec(spec, shared=shared) for spec in (old, next_, new))
    ref = {"$ref": "#/definitions/BatchError"}
    assert json.dumps(old.definitions["BatchError"]) == json.dumps(next_.definitions["BatchError"])
    assert a.fast_validator(ref, REQUEST) is b.fast_validator(ref, REQUEST)
    job = {"$ref": "#/definitions/CloudJob"}
    assert json.dumps(old.definitions["CloudJob"]) != json.dumps(new.definitions["CloudJob"])
    assert a.fast_validator(job, REQUEST) is not c.fast_validator(job, REQUEST)
    alone = CompiledSpec(new)
    for document in ({"id": "j"}, {"id": 3}, {"priority": "high"}, {"id": "j", "unknown": 1}, []):
        assert c.is_valid(job, document, REQUEST) == alone.is_valid(job, document, REQUEST)
        assert c.explain(job, document, REQUEST) == alone.explain(job, document, REQUEST)
