"""The `$filter` compiler: each construct, each refusal (with its position), and properties.

The properties pin the logic to Python's own: `not`, `and`, `or` and operand flipping agree
with Python on generated documents and clauses, and any string survives quoting and parsing.
"""

from __future__ import annotations

import operator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_batch.emulator.filters import (
    MAX_DEPTH,
    AllOf,
    AnyOf,
    Compare,
    FilterError,
    Literal,
    Not,
    Path,
    StartsWith,
    compile_filter,
    parse_datetime,
    parse_filter,
    quote_literal,
    tokenize,
)

JOB = {
    "id": "job-17",
    "displayName": "it's a job",
    "state": "active",
    "priority": 100,
    "ratio": 0.5,
    "usesTaskDependencies": True,
    "creationTime": "2025-01-01T12:00:00.1234567Z",
    "executionInfo": {"poolId": "pool-a", "exitCode": -3, "result": "failure"},
    "metadata": [{"name": "a", "value": "b"}],
    "terminateReason": None,
}


def matches(text: str, document=JOB) -> bool:
    return compile_filter(text)(document)


# -- constructs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "literal", "expected"),
    [
        ("eq", 100, True),
        ("eq", 99, False),
        ("ne", 99, True),
        ("ne", 100, False),
        ("gt", 99, True),
        ("gt", 100, False),
        ("ge", 100, True),
        ("ge", 101, False),
        ("lt", 101, True),
        ("lt", 100, False),
        ("le", 100, True),
        ("le", 99, False),
    ],
)
def test_each_comparison_operator_on_numbers(op, literal, expected):
    assert matches(f"priority {op} {literal}") is expected


def test_number_forms():
    assert matches("executionInfo/exitCode eq -3")
    assert matches("ratio eq 0.5")
    assert matches("ratio eq 5e-1")
    assert matches("priority eq 1.0E2")
    assert matches("executionInfo/exitCode lt 0")


def test_string_comparisons_are_ordinal_and_case_sensitive_for_ids():
    assert matches("id eq 'job-17'")
    assert not matches("id eq 'JOB-17'")
    assert matches("id gt 'job-1'")
    assert matches("id lt 'job-2'")
    assert matches("id ne 'job-18'")


def test_enum_values_compare_case_insensitively():
    assert matches("state eq 'Active'")
    assert matches("state eq 'ACTIVE'")
    assert not matches("state ne 'ACTIVE'")
    assert matches("executionInfo/result eq 'Failure'")
    assert matches("startswith(state, 'ACT')")


def test_startswith():
    assert matches("startswith(id, 'job-1')")
    assert matches("startswith(id,'job-1')")
    assert not matches("startswith(id, 'job-2')")
    assert not matches("startswith(id, 'JOB')")
    assert matches("startswith(executionInfo/poolId, 'pool-')")
    assert matches("startswith(id, '')")


@pytest.mark.parametrize(
    ("suffix", "expected"), [("eq true", True), ("eq false", False), ("ne true", False), ("ne false", True)]
)
def test_startswith_compared_with_a_boolean(suffix, expected):
    assert matches(f"startswith(id, 'job') {suffix}") is expected
    assert matches(f"startswith(id, 'nope') {suffix}") is (not expected)


def test_and_or_not_and_parentheses():
    assert matches("state eq 'active' and priority eq 100")
    assert not matches("state eq 'active' and priority eq 1")
    assert matches("state eq 'x' or priority eq 100")
    assert not matches("state eq 'x' or priority eq 1")
    assert matches("not (state eq 'x')")
    assert not matches("not (state eq 'active')")
    assert matches("not not (state eq 'active')")
    assert matches("not startswith(id, 'x')")
    assert matches("((state eq 'active'))")


def test_and_binds_tighter_than_or():
    # a or (b and c): true because a is; (a or b) and c would be false
    assert matches("id eq 'job-17' or priority eq 1 and state eq 'x'")
    assert not matches("(id eq 'job-17' or priority eq 1) and state eq 'x'")
    assert isinstance(parse_filter("a eq 1 or b eq 2 and c eq 3"), AnyOf)


def test_string_literal_with_doubled_quote():
    assert matches("displayName eq 'it''s a job'")
    assert matches("startswith(displayName, 'it''s')")
    assert matches("id eq ''''") is False
    assert compile_filter("x eq ''''")({"x": "'"})


def test_booleans():
    assert matches("usesTaskDependencies eq true")
    assert matches("usesTaskDependencies ne false")
    assert not matches("usesTaskDependencies eq false")
    assert not matches("priority eq true")  # a number is not a boolean
    assert not matches("usesTaskDependencies eq 1")  # nor a boolean a number


def test_null_and_missing_properties():
    assert matches("terminateReason eq null")  # JSON null
    assert matches("nothingHere eq null")  # absent
    assert matches("executionInfo/nothing eq null")
    assert not matches("terminateReason ne null")
    assert matches("id ne null")
    assert not matches("id eq null")
    # a missing property never matches anything else, not even `ne`
    for text in ("nothingHere eq 'x'", "nothingHere ne 'x'", "nothingHere gt 0", "startswith(nothingHere, '')"):
        assert not matches(text), text
    assert matches("not (nothingHere ne 'x')")  # `not` is plain negation of the clause


def test_paths_walk_objects_only():
    assert matches("executionInfo/poolId eq 'pool-a'")
    assert matches("id/inner eq null")  # through a string: missing, so `eq null` holds
    assert matches("metadata/name eq null")  # arrays are not walked
    assert not matches("executionInfo/poolId/x eq 'pool-a'")


def test_type_mismatch_never_matches():
    assert not matches("executionInfo/exitCode eq '-3'")
    assert not matches("id eq 17")
    assert not matches("executionInfo eq 'x'")
    assert not matches("id gt datetime'2025-01-01T00:00:00Z'")


def test_literal_on_the_left_flips_the_operator():
    assert matches("100 eq priority")
    assert matches("99 lt priority")
    assert not matches("99 gt priority")
    assert parse_filter("1 le x") == Compare("ge", Path(("x",)), Literal("number", 1))


def test_datetime_literals():
    assert matches("creationTime gt datetime'2025-01-01T12:00:00Z'")
    assert matches("creationTime lt datetime'2025-01-01T12:00:00.2Z'")
    assert matches("creationTime ge datetime'2025-01-01T12:00:00.123456Z'")
    assert matches("creationTime eq datetime'2025-01-01T12:00:00.123456Z'")  # 7th digit is below a microsecond
    assert matches("creationTime gt DateTime'2025-01-01T13:00:00+02:00'")  # 11:00 UTC
    assert matches("creationTime lt datetime'2025-01-01T12:01'")  # no seconds, no offset: UTC


def test_plain_iso_strings_compare_as_dates_when_the_property_is_a_date():
    assert matches("creationTime gt '2025-01-01T12:00:00Z'")
    assert matches("creationTime lt '2025-01-01T08:00:00-05:00'")  # 13:00 UTC; as text this would be false
    assert matches("creationTime eq '2025-01-01T12:00:00.1234560Z'")
    assert not matches("creationTime eq '2025-01-01T12:00:00Z'")
    # a date-like literal against a value that is no date compares as text
    assert compile_filter("name eq '2025-01-01T00:00:00Z'")({"name": "2025-01-01T00:00:00Z"})
    assert compile_filter("name gt '2025-01-01T00:00:00Z'")({"name": "readme"})


def test_whitespace_is_free():
    assert matches("\tstate  eq\n'active'and(priority eq 100)")
    assert matches("not(state eq 'x')")


def test_long_chains_are_flat_not_deep():
    text = " or ".join(f"priority eq {i}" for i in range(5000))
    node = parse_filter(text)
    assert isinstance(node, AnyOf) and len(node.operands) == 5000
    assert matches(text)
    assert isinstance(parse_filter("a eq 1 and b eq 2 and c eq 3"), AllOf)


def test_ast_shapes():
    assert parse_filter("not (startswith(a/b, 'x'))") == Not(StartsWith(Path(("a", "b")), "x"))
    assert parse_filter("startswith(a, 'x') eq false") == Not(StartsWith(Path(("a",)), "x"))
    assert parse_filter("x eq null") == Compare("eq", Path(("x",)), Literal("null", None))


def test_nesting_up_to_the_limit_is_fine():
    depth = MAX_DEPTH - 1
    assert matches("(" * depth + "state eq 'active'" + ")" * depth)


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("   ", 3, "empty"),
        ("state", 5, "expected a comparison operator"),
        ("state EQ 'active'", 6, "lower-case: eq"),
        ("state is 'active'", 6, "expected a comparison operator"),
        ("state eq 'active' AND id eq 'x'", 18, "lower-case: and"),
        ("state eq 'active' id eq 'x'", 18, "expected 'and', 'or' or end of filter"),
        ("state eq", 8, "expected a property or a literal"),
        ("eq 'x'", 0, "expected a property or a literal"),
        ("state eq 'active", 9, "unterminated string"),
        ('state eq "active"', 9, "unexpected character '\"'"),
        ("state eq 'a' # x", 13, "unexpected character '#'"),
        ("(state eq 'a'", 13, "expected ')' for the '(' opened at position 0"),
        ("state eq 'a')", 12, "expected 'and', 'or' or end of filter"),
        ("not state eq 'a'", 4, "'not' needs a parenthesised condition"),
        ("a eq b", 2, "comparing two properties"),
        ("1 eq 2", 0, "needs a property on one side"),
        ("x gt null", 2, "null values can only be compared with eq or ne"),
        ("x lt true", 2, "boolean values can only be compared with eq or ne"),
        ("x eq 1L", 5, "malformed number '1L'"),
        ("x eq 1.", 5, "malformed number"),
        ("x eq 1e", 5, "malformed number"),
        ("x eq 1e999", 5, "out of range"),
        ("x eq guid'0f8fad5b-d9cb-469f-a165-70867728950e'", 5, "typed literal guid"),
        ("x eq datetime'yesterday'", 5, "not an ISO 8601 date-time"),
        ("x eq datetime'2025-02-30T00:00:00Z'", 5, "not an ISO 8601 date-time"),
        ("executionInfo/ eq 1", 0, "empty or invalid segment"),
        ("a//b eq 1", 0, "empty or invalid segment"),
        ("endswith(id, 'x')", 0, "function 'endswith' is not supported"),
        ("substringof('x', id)", 0, "function 'substringof' is not supported"),
        ("startswith('x', id)", 11, "needs a property as its first argument"),
        ("startswith(id, x)", 15, "needs a string literal as its second argument"),
        ("startswith(id 'x')", 14, "expected ',' between the arguments"),
        ("startswith(id, 'x'", 18, "expected ')' to close startswith"),
        ("startswith(id, 'x') gt true", 20, "only be compared with eq/ne true/false"),
        ("startswith(id, 'x') eq 'y'", 20, "only be compared with eq/ne true/false"),
        ("x eq 'a' and", 12, "expected a property or a literal"),
        ("(" * MAX_DEPTH + "x eq 1" + ")" * MAX_DEPTH, MAX_DEPTH, f"deeper than {MAX_DEPTH}"),
        ("not " * MAX_DEPTH + "(x eq 1)", 4 * MAX_DEPTH, f"deeper than {MAX_DEPTH}"),
    ],
)
def test_refusals_name_the_position_and_the_problem(text, position, fragment):
    with pytest.raises(ValueError) as caught:
        compile_filter(text)
    error = caught.value
    assert isinstance(error, FilterError)
    assert (error.position, fragment in error.reason) == (position, True), str(error)
    message = str(error)
    assert message.endswith(f"at position {position}") and "\n" not in message


def test_deep_nesting_is_a_filter_error_not_a_recursion_error():
    with pytest.raises(FilterError):
        compile_filter("(" * 10_000 + "x eq 1" + ")" * 10_000)


# -- date-times ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=timezone.utc)),
        ("2025-01-01T00:00:00.1234567Z", datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc)),
        ("2025-01-01T00:00:00.5z", datetime(2025, 1, 1, 0, 0, 0, 500000, tzinfo=timezone.utc)),
        ("2025-01-01T02:00+02:00", datetime(2025, 1, 1, tzinfo=timezone.utc)),
        ("2025-01-01T00:00:00-01:30", datetime(2025, 1, 1, 1, 30, tzinfo=timezone.utc)),
        ("2025-01-01T00:00", datetime(2025, 1, 1, tzinfo=timezone.utc)),
        ("2025-01-01", None),
        ("2025-01-01T00:00:00.Z", None),
        ("2025-01-01T00:00:00+0100", None),
        ("2025-01-01T24:00:00Z", None),
        ("2025-01-01T00:00:00Zjunk", None),
        ("２０２５-01-01T00:00:00Z", None),  # full-width digits are digits to str.isdigit, not to ISO 8601
        ("job-1", None),
    ],
)
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected


# -- properties ---------------------------------------------------------------------------------

ENUM_STATES = ("active", "Active", "DISABLED", "completed", "terminating")
PATHS = ("id", "state", "priority", "flag", "executionInfo/exitCode", "creationTime", "gone")

strings = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))


def iso7(moment: datetime) -> str:
    """How the service writes dates: seven fractional digits and a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


@st.composite
def documents(draw):
    doc = {}
    candidates = {
        "id": st.one_of(st.sampled_from(["job-1", "job-10", "JOB-2", "a'b"]), strings),
        "state": st.one_of(st.sampled_from(ENUM_STATES), st.none()),
        "priority": st.one_of(st.integers(-1000, 1000), st.floats(-10, 10, allow_nan=False), st.booleans()),
        "flag": st.one_of(st.booleans(), st.integers(0, 1)),
        "executionInfo": st.one_of(
            st.fixed_dictionaries({}, optional={"exitCode": st.integers(-5, 5)}), st.text(max_size=2)
        ),
        "creationTime": st.one_of(moments.map(iso7), st.just("not a date")),
    }
    for name, strategy in candidates.items():
        if draw(st.booleans()):
            doc[name] = draw(strategy)
    return doc


def literals():
    return st.one_of(
        strings.map(quote_literal),
        st.sampled_from(ENUM_STATES).map(quote_literal),
        st.integers(-1000, 1000).map(str),
        st.floats(-10, 10, allow_nan=False, allow_infinity=False).map(repr),
        st.sampled_from(["true", "false", "null"]),
        moments.map(lambda m: f"datetime'{m.isoformat()}'"),
        moments.map(lambda m: quote_literal(iso7(m))),
    )


@st.composite
def clauses(draw):
    """One valid condition: a comparison (either way round) or a startswith."""
    path = draw(st.sampled_from(PATHS))
    if draw(st.integers(0, 5)) == 0:
        return f"startswith({path}, {quote_literal(draw(strings))})"
    literal = draw(literals())
    ops = ("eq", "ne") if literal in ("true", "false", "null") else ("eq", "ne", "gt", "ge", "lt", "le")
    op = draw(st.sampled_from(ops))
    return f"{literal} {op} {path}" if draw(st.booleans()) else f"{path} {op} {literal}"


@st.composite
def conditions(draw, depth=2):
    """Clauses combined with and/or/not, always parenthesised where it matters."""
    if depth == 0 or draw(st.booleans()):
        return draw(clauses())
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        return f"not ({draw(conditions(depth=depth - 1))})"
    return f"({draw(conditions(depth=depth - 1))}) {kind} ({draw(conditions(depth=depth - 1))})"


@settings(max_examples=300)
@given(conditions(), documents())
@example("gone ne 'x'", {})
@example("state eq 'ACTIVE'", {"state": "active"})
@example("priority eq 1", {"priority": True})
def test_not_is_python_not(text, document):
    assert compile_filter(f"not ({text})")(document) == (not compile_filter(text)(document))


@settings(max_examples=300)
@given(conditions(), conditions(), documents())
def test_and_or_are_python_and_or(left, right, document):
    a, b = compile_filter(left)(document), compile_filter(right)(document)
    assert compile_filter(f"({left}) and ({right})")(document) == (a and b)
    assert compile_filter(f"({left}) or ({right})")(document) == (a or b)
    assert compile_filter(f"{left.join('()')} and {right.join('()')} or {left.join('()')}")(document) == (
        (a and b) or a
    )


@given(st.sampled_from(PATHS), literals(), st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]), documents())
def test_operands_may_come_either_way_round(path, literal, op, document):
    if literal in ("true", "false", "null") and op not in ("eq", "ne"):
        return
    flipped = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}.get(op, op)
    assert compile_filter(f"{path} {op} {literal}")(document) == compile_filter(f"{literal} {flipped} {path}")(document)


@given(st.text())
@example("'")
@example("''")
@example("a''b")
@example("2025-01-01T00:00:00Z")
@example(" eq ")
def test_string_literals_round_trip(value):
    quoted = quote_literal(value)
    string, end = tokenize(quoted)
    assert (string.kind, string.value, string.text, end.kind) == ("string", value, quoted, "end")
    assert compile_filter(f"name eq {quoted}")({"name": value})
    assert compile_filter(f"startswith(name, {quoted})")({"name": value + "tail"})
    assert parse_filter(f"name eq {quoted}").literal.value == value


@given(st.integers(-(10**12), 10**12), st.integers(-(10**12), 10**12))
def test_integer_comparisons_agree_with_python(value, literal):
    for op, check in (("eq", operator.eq), ("ne", operator.ne), ("gt", operator.gt), ("lt", operator.lt)):
        assert compile_filter(f"n {op} {literal}")({"n": value}) == check(value, literal)


@given(moments, moments, st.sampled_from([0, 90, -330]))
def test_date_comparisons_agree_with_python(stored, literal, minutes):
    """The literal may carry any offset; the stored value is the service's 7-digit UTC form."""
    local = literal.astimezone(timezone(timedelta(minutes=minutes)))
    document = {"t": iso7(stored)}
    for op, check in (("eq", operator.eq), ("gt", operator.gt), ("le", operator.le)):
        expected = check(stored, literal)
        assert compile_filter(f"t {op} datetime'{local.isoformat()}'")(document) == expected
        assert compile_filter(f"t {op} '{local.isoformat()}'")(document) == expected


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(list("ab/ ()',-1.eE:TZ\"_")) | st.characters(), max_size=30))
@example("'unterminated")
@example("a eq datetime'")
@example("startswith(")
@example("not")
@example("-")
@example("a eq -")
@example("a/")
def test_any_text_compiles_or_is_refused_cleanly(text):
    try:
        predicate = compile_filter(text)
    except FilterError as error:
        assert 0 <= error.position <= len(text)
        assert "\n" not in str(error)
    else:
        assert predicate({}) in (True, False)
