"""Property-based tests of `Validator` / `CompiledSpec` against generated Batch bodies.

Strategies come from `tests/schema_strategies.py` (valid instances of bundle
schemas + labelled single mutations). Properties:

* valid bodies (requests and 200 responses of core operations, three api-versions)
  produce no finding at all;
* every single labelled mutation is reported at the expected JSON pointer with a
  schema pointer ending in the expected keyword;
* the jsonschema-rs fast path and the jsonschema explanation path agree;
* `Validator.check` never raises, whatever the interaction;
* `best_violation` does not depend on the order of the findings;
* `odata.*` annotations in responses never change the findings.

Bugs these properties found in the package are pinned at the end of the file
as plain regression tests.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from pytest_batch.compiled import CompiledSpec
from pytest_batch.interaction import Headers, Interaction, Source
from pytest_batch.spec import SpecLibrary
from pytest_batch.validation import ERROR, WARNING, Outcome, Validator, Violation, best_violation

try:
    from tests import schema_strategies as ss
except ImportError:  # tests/ is not a package: pytest puts it on sys.path
    import schema_strategies as ss

LIBRARY = SpecLibrary()
VALIDATOR = Validator(LIBRARY, constraints=False)  # schema checks only: the overlay is tests/test_strategies.py's
HOST = "https://acct.westus.batch.azure.com"
JSON_ODATA = "application/json; odata=minimalmetadata"

OLD_STYLE_REQUESTS = ("Job_Add", "Pool_Add", "Task_Add", "JobSchedule_Add")
OLD_STYLE_RESPONSES = (
    "Job_Get", "Job_List", "Pool_Get", "Pool_List", "Task_Get", "Task_List", "ComputeNode_Get", "ComputeNode_List",
)
OPERATIONS = {
    "2018-08-01.7.0": (OLD_STYLE_REQUESTS, OLD_STYLE_RESPONSES),
    "2024-07-01.20.0": (OLD_STYLE_REQUESTS, OLD_STYLE_RESPONSES),
    "2025-06-01": (
        ("Jobs_CreateJob", "Pools_CreatePool", "Tasks_CreateTask", "JobSchedules_CreateJobSchedule"),
        ("Jobs_GetJob", "Jobs_ListJobs", "Pools_GetPool", "Pools_ListPools", "Tasks_GetTask", "Tasks_ListTasks",
         "Nodes_GetNode", "Nodes_ListNodes"),
    ),
}


@dataclass(frozen=True)
class Case:
    """One body to generate: a request body (flavor "request") or a 200 response body."""

    version: str
    operation_id: str
    flavor: str

    def __str__(self) -> str:
        return f"{self.version}:{self.operation_id}:{self.flavor}"

    @property
    def spec(self):
        return LIBRARY.get(self.version)

    @property
    def operation(self):
        return self.spec.operations[self.operation_id]

    @property
    def schema(self):
        if self.flavor == ss.REQUEST:
            return self.operation.body.schema
        return self.operation.responses["200"].schema

    @property
    def check_name(self) -> str:
        return "request_body_schema" if self.flavor == ss.REQUEST else "response_schema_conformance"

    @property
    def location(self) -> str:
        return "request.body" if self.flavor == ss.REQUEST else "response.body"

    @cached_property
    def compiled(self) -> CompiledSpec:
        return VALIDATOR.compiled(self.spec)


CASES = [
    Case(version, op_id, flavor)
    for version, (requests, responses) in OPERATIONS.items()
    for flavor, op_ids in ((ss.REQUEST, requests), (ss.RESPONSE, responses))
    for op_id in op_ids
]


def test_cases_exist():
    """Guard against a renamed operation silently shrinking the sample."""
    for case in CASES:
        assert case.operation.operation_id == case.operation_id
        assert case.schema is not None, case


# ---------------------------------------------------------------------------
# building interactions

_IDS = st.text(string.ascii_letters + string.digits + "-_ ", min_size=1, max_size=12)


@st.composite
def urls(draw, case: Case) -> str:
    path = case.operation.path
    for param in case.operation.parameters:
        if param.location == "path":
            path = path.replace("{" + param.name + "}", quote(draw(_IDS), safe=""))
    return f"{HOST}{path}?api-version={case.version}"


def header_text(schema) -> st.SearchStrategy[str]:
    """A valid text value for a header of `schema` (headers carry scalars as text)."""
    kind = schema.get("type")
    if kind == "boolean":
        return st.sampled_from(["true", "false"])
    if kind == "integer":
        return ss.integer_strategy(schema).map(str)
    if schema.get("format") in ss.FORMAT_STRATEGIES:
        return ss.FORMAT_STRATEGIES[schema["format"]]
    return st.text(string.ascii_letters + string.digits + "-:.", max_size=20)


@st.composite
def documented_headers(draw, documented) -> dict[str, str]:
    """A random subset of `documented` (name → schema) with valid values."""
    names = draw(st.lists(st.sampled_from(sorted(documented)), unique=True)) if documented else []
    return {name: draw(header_text(documented[name])) for name in names}


def _body(document) -> bytes:
    return json.dumps(document).encode("utf-8")


@st.composite
def interactions(draw, case: Case, document) -> Interaction:
    """A well-formed interaction of `case` whose body (request or 200 response) is `document`."""
    op = case.operation
    url = draw(urls(case))
    request_params = {p.name: p.schema for p in op.parameters if p.location == "header" and not p.required}
    optional = {k: v for k, v in request_params.items() if k.lower() in ("client-request-id", "ocp-date", "return-client-request-id")}
    source = Source("generated.json", draw(st.integers(0, 99)))
    if case.flavor == ss.REQUEST:
        headers = {"Content-Type": JSON_ODATA, **draw(documented_headers(optional))}
        status = draw(st.sampled_from([None, 201]))
        response_headers = draw(documented_headers(op.responses["201"].headers)) if status else {}
        return Interaction(op.method, url, Headers.of(headers), _body(document), status, Headers.of(response_headers),
                           b"", source)
    headers = draw(documented_headers(optional))
    response_headers = {"Content-Type": JSON_ODATA, **draw(documented_headers(op.responses["200"].headers))}
    return Interaction(op.method, url, Headers.of(headers), b"", 200, Headers.of(response_headers), _body(document),
                       source)


def chooser(data):
    return lambda options: data.draw(st.sampled_from(list(options)))


def describe(outcome: Outcome) -> str:
    return "\n".join(v.describe() for v in outcome.violations) or "(no findings)"


# ---------------------------------------------------------------------------
# 1. valid bodies → nothing to report


@pytest.mark.parametrize("case", CASES, ids=str)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_valid_bodies_have_no_findings(case: Case, data):
    document = data.draw(ss.valid_instance(case.spec, case.schema, flavor=case.flavor, odata_annotations=True),
                         label="body")
    interaction = data.draw(interactions(case, document), label="interaction")
    outcome = VALIDATOR.check(interaction)
    assert outcome.skipped is None
    assert outcome.operation_id == case.operation_id
    assert outcome.api_version == case.version
    assert outcome.violations == (), describe(outcome)


# ---------------------------------------------------------------------------
# 2. every single mutation is found where expected


@pytest.mark.parametrize("label", sorted(ss.MUTATIONS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_each_error_mutation_is_found(label, data):
    case = data.draw(st.sampled_from(CASES), label="case")
    document = data.draw(ss.valid_instance(case.spec, case.schema, flavor=case.flavor), label="valid body")
    mutation = ss.MUTATIONS[label](case.spec, case.schema, document, chooser(data))
    event(f"{label}: {'applied' if mutation else 'not applicable'}")
    if mutation is None:
        return  # not applicable here (e.g. no formatted string in this instance), or a pinned bug
    event(f"{label}: keyword {mutation.keyword}")
    interaction = data.draw(interactions(case, mutation.instance), label="interaction")
    outcome = VALIDATOR.check(interaction)
    matching = [
        v for v in outcome.violations
        if v.severity == ERROR
        and v.check == case.check_name
        and v.location == case.location
        and v.instance_pointer == mutation.pointer
        and v.schema_pointer.endswith("/" + mutation.keyword)
    ]
    assert matching, f"{label} at {mutation.pointer!r} ({mutation.keyword}) not reported; found:\n{describe(outcome)}"


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_undocumented_property_is_a_warning(data):
    case = data.draw(st.sampled_from(CASES), label="case")
    document = data.draw(ss.valid_instance(case.spec, case.schema, flavor=case.flavor), label="valid body")
    mutation = ss.add_undocumented_property(case.spec, case.schema, document, chooser(data))
    if mutation is None:
        return
    outcome = VALIDATOR.check(data.draw(interactions(case, mutation.instance), label="interaction"))
    assert [(v.check, v.severity, v.instance_pointer, v.schema_pointer.rsplit("/", 1)[-1]) for v in outcome.violations] == [
        ("undocumented_property", WARNING, mutation.pointer, "properties")
    ], describe(outcome)


def _bounded_definitions() -> list[tuple[str, str]]:
    """(version, definition) pairs with an explicit minimum/maximum on one of their properties."""
    return [
        (version, name)
        for version in LIBRARY.versions
        for name, schema in LIBRARY.get(version).definitions.items()
        if any("minimum" in sub or "maximum" in sub for sub in (schema.get("properties") or {}).values())
    ]


def _ref(name: str) -> dict:
    return {"$ref": "#/definitions/" + name.replace("~", "~0").replace("/", "~1")}


def _explained_errors(compiled: CompiledSpec, schema, document, flavor: str, mutation: ss.Mutation) -> list:
    return [
        e for e in compiled.explain(schema, document, flavor)
        if e.kind == "error" and e.instance_pointer == mutation.pointer and e.schema_pointer.endswith("/" + mutation.keyword)
    ]


@pytest.mark.parametrize("label", sorted(ss.MUTATIONS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_each_error_mutation_is_explained_in_any_definition(label, data):
    """Same property at the CompiledSpec level, for any definition of any of the 18 bundles."""
    version = data.draw(st.sampled_from(LIBRARY.versions), label="version")
    spec = LIBRARY.get(version)
    schema = _ref(data.draw(st.sampled_from(sorted(spec.definitions)), label="definition"))
    flavor = data.draw(st.sampled_from([ss.REQUEST, ss.RESPONSE]), label="flavor")
    document = data.draw(ss.valid_instance(spec, schema, flavor=flavor), label="valid")
    mutation = ss.MUTATIONS[label](spec, schema, document, chooser(data))
    event(f"{label}: {'applied' if mutation else 'not applicable'}")
    if mutation is None:
        return
    compiled = VALIDATOR.compiled(spec)
    assert not compiled.is_valid(schema, mutation.instance, flavor)
    assert _explained_errors(compiled, schema, mutation.instance, flavor, mutation), (
        mutation, list(compiled.explain(schema, mutation.instance, flavor)))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_explicit_minimum_and_maximum_are_enforced(data):
    version, name = data.draw(st.sampled_from(_bounded_definitions()), label="definition")
    spec, schema = LIBRARY.get(version), _ref(name)
    flavor = data.draw(st.sampled_from([ss.REQUEST, ss.RESPONSE]), label="flavor")
    document = data.draw(ss.valid_instance(spec, schema, flavor=flavor), label="valid")
    mutation = ss.out_of_range(spec, schema, document, chooser(data), keywords=("minimum", "maximum"))
    event(f"explicit bound: {mutation.keyword if mutation else 'not applicable'}")
    if mutation is None:
        return
    compiled = VALIDATOR.compiled(spec)
    assert not compiled.is_valid(schema, mutation.instance, flavor)
    assert _explained_errors(compiled, schema, mutation.instance, flavor, mutation), (
        mutation, list(compiled.explain(schema, mutation.instance, flavor)))


# ---------------------------------------------------------------------------
# 3. fast path ⇔ explanation path


def _leaf_values():
    values = ss.json_values(allow_nan=True, max_leaves=4)
    return values


@st.composite
def near_valid_documents(draw, case: Case):
    """A valid body, a labelled single mutation of it, or one value replaced by arbitrary JSON."""
    document = draw(ss.valid_instance(case.spec, case.schema, flavor=case.flavor, odata_annotations=True))
    how = draw(st.sampled_from(["valid", "mutation", "perturbation", "coercion"]))
    if how == "mutation":
        label = draw(st.sampled_from(sorted(ss.ALL_MUTATIONS)))
        choose = lambda options: draw(st.sampled_from(list(options)))  # noqa: E731
        mutation = ss.ALL_MUTATIONS[label](case.spec, case.schema, document, choose)
        return mutation.instance if mutation else document
    if how == "perturbation":
        tokens = draw(st.sampled_from(list(ss.all_positions(document))))
        return ss.replaced(document, tokens, draw(_leaf_values()))
    if how == "coercion":
        tokens = draw(st.sampled_from(list(ss.all_positions(document))))
        # 1 → 1.0 is left out while bug 1 stands
        options = ss.coercions(_get(document, tokens), integral_floats=True)
        return ss.replaced(document, tokens, draw(st.sampled_from(options))) if options else document
    return document


def _get(document, tokens):
    for token in tokens:
        document = document[token]
    return document


@pytest.mark.parametrize("version", sorted(OPERATIONS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_fast_path_and_explanation_agree(version, data):
    case = data.draw(st.sampled_from([c for c in CASES if c.version == version]), label="case")
    document = data.draw(near_valid_documents(case), label="document")
    for flavor in (ss.REQUEST, ss.RESPONSE):
        fast = case.compiled.is_valid(case.schema, document, flavor)
        explained = list(case.compiled.explain(case.schema, document, flavor))
        assert fast == (not explained), (flavor, fast, explained)


@st.composite
def drifted_documents(draw, case: Case):
    """A near-valid body with some enum values re-cased (drift the service itself produces)."""
    document = draw(near_valid_documents(case))
    try:
        enums = [t for t, s, v in ss.positions(case.spec, case.schema, document) if "enum" in s and isinstance(v, str)]
    except (KeyError, TypeError, IndexError):
        enums = []  # a perturbed document no longer follows its schema; re-casing is moot then
    for tokens in draw(st.lists(st.sampled_from(enums), max_size=3, unique=True)) if enums else []:
        value = _get(document, tokens)
        document = ss.replaced(document, tokens, draw(st.sampled_from([value.upper(), value.title(), value.swapcase()])))
    return document


@pytest.mark.parametrize("version", sorted(OPERATIONS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_both_explainers_agree_whenever_the_fast_one_answers(version, data):
    """Drift is explained from jsonschema-rs errors; the result must equal the jsonschema explainer's."""
    case = data.draw(st.sampled_from([c for c in CASES if c.version == version]), label="case")
    document = data.draw(drifted_documents(case), label="document")
    for flavor in (ss.REQUEST, ss.RESPONSE):
        target = case.compiled._target(case.schema, flavor)
        fast = case.compiled._explain_drift(flavor, target, document)
        if fast is None:
            event("explained by jsonschema (not drift only)")
            continue
        event("explained by jsonschema-rs")
        key = lambda e: (e.instance_pointer, e.schema_pointer, e.kind, e.message)  # noqa: E731
        assert sorted(fast, key=key) == sorted(case.compiled._explain_fully(flavor, target, document), key=key)


@pytest.mark.parametrize("version", sorted(OPERATIONS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_fast_path_and_explanation_agree_on_any_definition(version, data):
    """Same property for every named definition of the bundle, not only the operation bodies."""
    spec = LIBRARY.get(version)
    name = data.draw(st.sampled_from(sorted(spec.definitions)), label="definition")
    schema = _ref(name)
    flavor = data.draw(st.sampled_from([ss.REQUEST, ss.RESPONSE]), label="generated as")
    document = data.draw(ss.valid_instance(spec, schema, flavor=flavor), label="valid")
    if data.draw(st.booleans(), label="mutate"):
        label = data.draw(st.sampled_from(sorted(ss.MUTATIONS)), label="mutation")
        mutation = ss.MUTATIONS[label](spec, schema, document, chooser(data))
        document = mutation.instance if mutation else document
    compiled = VALIDATOR.compiled(spec)
    for fl in (ss.REQUEST, ss.RESPONSE):
        explained = list(compiled.explain(schema, document, fl))
        assert compiled.is_valid(schema, document, fl) == (not explained), (fl, explained)


# ---------------------------------------------------------------------------
# 4. check never raises


_METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "get"]) | st.text(max_size=8)
_STATUSES = st.none() | st.sampled_from([200, 201, 202, 204, 400, 404, 409, 500]) | st.integers()
_HEADER_NAMES = st.sampled_from(
    ["Content-Type", "content-type", "Last-Modified", "ETag", "request-id", "client-request-id", "ocp-date",
     "Content-Length", "ocp-creation-time", "ocp-batch-file-isdirectory", "DataServiceId"]
) | st.text(max_size=12)
_HEADERS = st.dictionaries(_HEADER_NAMES, st.text(max_size=40) | st.sampled_from(["application/json", JSON_ODATA, "text/plain"]),
                           max_size=4)
_BODIES = st.binary(max_size=64) | ss.json_values().map(lambda v: json.dumps(v).encode())


def _assert_outcome(interaction: Interaction) -> None:
    outcome = VALIDATOR.check(interaction)
    event("skipped (not Batch)" if outcome.skipped else "matched an operation" if outcome.operation_id else "checked")
    assert isinstance(outcome, Outcome)
    assert all(isinstance(v, Violation) for v in outcome.violations)
    assert outcome.best is None or outcome.best in outcome.violations


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_check_never_raises_on_arbitrary_bodies(data):
    case = data.draw(st.sampled_from(CASES), label="case")
    op = case.operation
    body = data.draw(_BODIES, label="body")
    as_request = data.draw(st.booleans(), label="as request body")
    url = data.draw(urls(case), label="url")
    content_type = data.draw(st.sampled_from([JSON_ODATA, "application/json", "text/plain", None]))
    headers = Headers.of({"Content-Type": content_type}) if content_type else Headers.of(None)
    if as_request:
        interaction = Interaction(op.method, url, headers, body, data.draw(_STATUSES), Headers.of(None), b"")
    else:
        interaction = Interaction(op.method, url, Headers.of(None), b"", data.draw(_STATUSES), headers, body)
    _assert_outcome(interaction)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_check_never_raises_on_arbitrary_interactions(data):
    case = data.draw(st.sampled_from(CASES), label="case")
    url = data.draw(
        st.one_of(
            st.text(max_size=60),
            urls(case),
            st.builds(lambda path, query: f"{HOST}/{path}?{query}", st.text(max_size=30), st.text(max_size=30)),
            st.builds(lambda v: f"{HOST}{case.operation.path}?api-version={v}", st.text(max_size=20)),
        ),
        label="url",
    )
    interaction = Interaction(
        data.draw(_METHODS, label="method"),
        url,
        Headers.of(data.draw(_HEADERS, label="request headers")),
        data.draw(_BODIES, label="request body"),
        data.draw(_STATUSES, label="status"),
        Headers.of(data.draw(_HEADERS, label="response headers")),
        data.draw(_BODIES, label="response body"),
    )
    _assert_outcome(interaction)


# ---------------------------------------------------------------------------
# 5. best_violation is order-independent


@st.composite
def messy_interactions(draw):
    """Interactions with (usually) several findings: mutated bodies, bad headers and parameters."""
    case = draw(st.sampled_from(CASES))
    document = draw(ss.valid_instance(case.spec, case.schema, flavor=case.flavor))
    choose = lambda options: draw(st.sampled_from(list(options)))  # noqa: E731
    for label in ["wrong_type"] + draw(st.lists(st.sampled_from(sorted(ss.ALL_MUTATIONS)), max_size=3)):
        mutation = ss.ALL_MUTATIONS[label](case.spec, case.schema, document, choose)
        if mutation is not None:
            document = mutation.instance
    interaction = draw(interactions(case, document))
    extra_query = "".join(draw(st.lists(st.sampled_from(
        ["&undocumented=1", "&maxresults=0", "&timeout=abc", "&timeOut=1.5", "&api-version=x"]), min_size=1, max_size=2)))
    return Interaction(
        interaction.method,
        interaction.url + extra_query,
        interaction.request_headers,
        interaction.request_body,
        draw(st.sampled_from([interaction.status, interaction.status, 299, 404])),
        Headers.of({**dict(interaction.response_headers.items),
                    **draw(st.dictionaries(st.sampled_from(["Last-Modified", "request-id", "Content-Type"]),
                                           st.sampled_from(["nope", "text/plain"]), max_size=2))}),
        interaction.response_body,
        interaction.source,
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_best_violation_is_order_independent(data):
    outcome = VALIDATOR.check(data.draw(messy_interactions(), label="interaction"))
    violations = list(outcome.violations)
    event(f"findings: {min(len(violations), 5)}{'+' if len(violations) >= 5 else ''}")
    best = best_violation(violations)
    shuffled = data.draw(st.permutations(violations), label="permutation")
    assert best_violation(shuffled) == best
    assert best_violation(reversed(violations)) == best
    # the ranking key is total: distinct findings never tie (otherwise the winner would depend on order)
    ranks: dict[tuple, Violation] = {}
    for v in violations:
        assert ranks.setdefault(v.rank(), v) == v, (v, ranks[v.rank()])


# ---------------------------------------------------------------------------
# 6. odata annotations never matter in responses


def _with_annotations(document, where, value):
    out = json.loads(json.dumps(document))
    for tokens in where:
        target = out
        for token in tokens:
            target = target[token]
        if isinstance(target, dict):
            target.setdefault("odata.type", value)
    return out


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_odata_annotations_never_change_response_findings(data):
    case = data.draw(st.sampled_from([c for c in CASES if c.flavor == ss.RESPONSE]), label="case")
    document = data.draw(ss.valid_instance(case.spec, case.schema, flavor=ss.RESPONSE), label="valid body")
    if data.draw(st.booleans(), label="mutate"):
        mutation = ss.ALL_MUTATIONS[data.draw(st.sampled_from(sorted(ss.ALL_MUTATIONS)), label="mutation")](
            case.spec, case.schema, document, chooser(data))
        document = mutation.instance if mutation else document
    # closed objects only (documented properties, no additionalProperties map)
    objects = [
        t for t, s, v in ss.positions(case.spec, case.schema, document)
        if isinstance(v, dict) and s.get("properties") and "additionalProperties" not in s
    ]
    where = data.draw(st.just(objects) | st.lists(st.sampled_from(objects), max_size=3), label="annotated") if objects else []
    annotated = _with_annotations(document, where, data.draw(st.text(max_size=10) | st.integers()))
    interaction = data.draw(interactions(case, document), label="interaction")
    plain = VALIDATOR.check(interaction)
    again = VALIDATOR.check(_replace_response_body(interaction, _body(annotated)))

    def findings(outcome):  # `actual` may legitimately show the annotation, so compare the rest
        return [(v.check, v.severity, v.location, v.instance_pointer, v.schema_pointer) for v in outcome.violations]

    assert findings(again) == findings(plain)


def _replace_response_body(interaction: Interaction, body: bytes) -> Interaction:
    return Interaction(interaction.method, interaction.url, interaction.request_headers, interaction.request_body,
                       interaction.status, interaction.response_headers, body, interaction.source)


# ---------------------------------------------------------------------------
# regression tests for package bugs found by these properties (fixed; kept as guards)


# ---------------------------------------------------------------------------
# 7. format generators ⊆ format predicates


@pytest.mark.parametrize("name", sorted(ss.FORMAT_STRATEGIES))
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_generated_format_values_are_accepted_and_bad_ones_rejected(name, data):
    from pytest_batch import formats

    assert formats.check_format(name, data.draw(ss.FORMAT_STRATEGIES[name], label="valid text"))
    if name in ss.BAD_FORMAT_VALUES:
        assert not formats.check_format(name, data.draw(st.sampled_from(ss.BAD_FORMAT_VALUES[name]), label="bad text"))


# ---------------------------------------------------------------------------
# regression tests for package bugs found by these properties (fixed; kept as guards)

V2025 = "2025-06-01"


def _request(path: str, body: bytes, version: str = V2025) -> Interaction:
    return Interaction("POST", f"{HOST}{path}?api-version={version}", Headers.of({"Content-Type": JSON_ODATA}), body)


def _response(path: str, body: bytes = b"", headers: dict | None = None, version: str = V2025) -> Interaction:
    return Interaction("GET", f"{HOST}{path}?api-version={version}", status=200,
                       response_headers=Headers.of({"Content-Type": JSON_ODATA, **(headers or {})}), response_body=body)


def test_nested_odata_annotation_is_not_reported_beside_an_undocumented_property():
    """Found by test_odata_annotations_never_change_response_findings (fixed in compiled._classify)."""
    body = {"id": "j", "poolInfo": {"poolId": "p", "odata.type": "#Microsoft.Azure.Batch.Protocol.Entities.PoolInfo",
                                    "undocumented": 1}}
    outcome = VALIDATOR.check(_response("/jobs/j", _body(body), version="2024-07-01.20.0"))
    assert [(v.check, v.instance_pointer) for v in outcome.violations] == [("undocumented_property", "/poolInfo/undocumented")]


@pytest.mark.parametrize("flavor", [ss.REQUEST, ss.RESPONSE])
def test_fast_path_and_explanation_agree_on_integral_floats(flavor):
    spec = LIBRARY.get(V2025)
    compiled = CompiledSpec(spec)
    schema = {"$ref": "#/definitions/BatchJobCreateOptions"}
    document = {"id": "j", "poolInfo": {"poolId": "p"}, "priority": 1.0}
    explained = list(compiled.explain(schema, document, flavor))
    assert explained  # Draft 4: 1.0 is not an integer
    assert compiled.is_valid(schema, document, flavor) == (not explained)


def test_fast_path_checks_integer_formats_on_strings():
    stats = {
        "url": "https://acct.westus.batch.azure.com/jobs/j/tasks/t/stats",
        "startTime": "2025-01-31T12:00:00Z", "lastUpdateTime": "2025-01-31T12:00:00Z",
        "userCPUTime": "PT1S", "kernelCPUTime": "PT1S", "wallClockTime": "PT1S", "waitTime": "PT1S",
        "readIOps": "12", "writeIOps": "not a number", "readIOGiB": 0.5, "writeIOGiB": 0.5,
    }
    spec = LIBRARY.get(V2025)
    schema = {"$ref": "#/definitions/BatchTaskStatistics"}
    compiled = CompiledSpec(spec)
    assert [(e.instance_pointer, e.keyword) for e in compiled.explain(schema, stats, ss.RESPONSE)] == [("/writeIOps", "format")]
    assert compiled.is_valid(schema, stats, ss.RESPONSE) is False
    when = "2025-01-31T12:00:00Z"
    task = {"id": "t", "url": f"{HOST}/jobs/j/tasks/t", "eTag": "0x8DD", "lastModified": when, "creationTime": when,
            "state": "active", "stateTransitionTime": when, "commandLine": "echo", "stats": stats}
    outcome = VALIDATOR.check(_response("/jobs/j/tasks/t", _body(task)))
    assert [(v.check, v.instance_pointer, v.schema_pointer) for v in outcome.violations] == [
        ("response_schema_conformance", "/stats/writeIOps", "/definitions/BatchTaskStatistics/properties/writeIOps/format")
    ]


@pytest.mark.parametrize("where", ["request", "response"])
def test_check_does_not_raise_on_deeply_nested_json(where):
    body = b"[" * 100_000
    if where == "request":
        interaction, check = _request("/jobs", body), "request_body_schema"
    else:
        interaction, check = _response("/jobs/j", body), "response_schema_conformance"
    outcome = VALIDATOR.check(interaction)
    assert [(v.check, v.severity) for v in outcome.violations] == [(check, ERROR)]


@pytest.mark.parametrize("where", ["header", "body"])
def test_check_does_not_raise_on_huge_integer_text(where):
    digits = "9" * 5000
    if where == "header":  # 2025-06-01 documents Content-Length as {type: string, format: int64}
        outcome = VALIDATOR.check(_response("/pools/p/nodes/n/files/stdout.txt", headers={"Content-Length": digits}))
        assert [(v.check, v.severity, v.location) for v in outcome.violations] == [
            ("response_headers_conformance", ERROR, "response.headers.Content-Length")
        ]
    else:  # the explanation path
        body = {"value": [{"name": "stdout.txt", "properties": {"lastModified": "2025-01-31T12:00:00Z",
                                                                "contentLength": digits}}]}
        compiled = CompiledSpec(LIBRARY.get(V2025))
        explained = compiled.explain({"$ref": "#/definitions/BatchNodeFileListResult"}, body, ss.RESPONSE)
        assert [(e.instance_pointer, e.keyword) for e in explained] == [("/value/0/properties/contentLength", "format")]


def test_is_valid_accepts_an_inline_schema_on_first_use():
    compiled = CompiledSpec(LIBRARY.get(V2025))
    assert compiled.is_valid({"type": "integer", "format": "int32"}, 1, ss.REQUEST) is True


@pytest.mark.parametrize("text", ["2025-02-30T00:00:00Z", "2025-04-31T12:00:00Z", "2023-02-29T00:00:00Z"])
def test_date_time_rejects_impossible_calendar_dates(text):
    from pytest_batch import formats

    assert not formats.is_date_time(text)
