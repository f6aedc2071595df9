"""The autoscale formula evaluator: the documented assignment subset, the results string, and the
two kinds of failure (a syntax error, which the service answers with a 400, and an evaluation
error, which it reports in `autoScaleRun.error`)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_batch.emulator.autoscale import (
    FormulaEvaluationError,
    FormulaSyntaxError,
    evaluate,
    format_value,
    parse,
)

INPUTS = {"$CurrentDedicatedNodes": 2.0, "$PendingTasks": 7.0, "$ActiveTasks": 5.0, "$RunningTasks": 2.0}


def test_assignments_set_the_outputs_and_the_results_list_outputs_first_then_variables_by_name():
    outcome = evaluate(
        "$TargetDedicatedNodes = 2; $TargetLowPriorityNodes = 5; $NodeDeallocationOption = taskcompletion;"
        "tasks = 0; targetVMs = 1; maxTasksPerNode = 4;",
        INPUTS,
    )
    assert outcome.results() == (
        "$TargetDedicatedNodes=2;$TargetLowPriorityNodes=5;$NodeDeallocationOption=taskcompletion;"
        "maxTasksPerNode=4;targetVMs=1;tasks=0"
    )
    assert (outcome.target_dedicated_nodes, outcome.target_low_priority_nodes) == (2, 5)
    assert outcome.node_deallocation_option == "taskcompletion"


def test_unassigned_outputs_keep_the_values_they_came_in_with():
    outcome = evaluate("x = 1;", {**INPUTS, "$TargetDedicatedNodes": 3.0})
    assert outcome.results() == "$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;x=1"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 * -3 + 10", 4),
        ("7 % 4", 3),
        ("min(4, $PendingTasks, 9)", 4),
        ("max($ActiveTasks, $RunningTasks)", 5),
        ("avg(2, 4)", 3),
        ("floor(2.7) + ceil(0.2) + round(1.5) + abs(-1)", 6),
        ("$CurrentDedicatedNodes > 1 ? 10 : 20", 10),
        ("$CurrentDedicatedNodes == 0 || $PendingTasks >= 7", 1),
        ("!($PendingTasks < 3) && 1", 1),
        ("$PendingTasks.GetSample(60 * TimeInterval_Second)", 7),
        ("$PendingTasks.GetSamplePercent(TimeInterval_Minute * 5) / 10", 10),
        ("1.5e1", 15),
    ],
)
def test_expressions(expression, expected):
    assert evaluate(f"$TargetDedicatedNodes = {expression};", INPUTS).variables["$TargetDedicatedNodes"] == expected


def test_the_documented_sample_formula_evaluates():
    formula = """
        // up to 25 nodes, one per pending task, as the scaling article shows
        startingNumberOfVMs = 1;
        maxNumberofVMs = 25;
        pendingTaskSamplePercent = $PendingTasks.GetSamplePercent(180 * TimeInterval_Second);
        pendingTaskSamples = pendingTaskSamplePercent < 70 ? startingNumberOfVMs :
            avg($PendingTasks.GetSample(180 * TimeInterval_Second));
        /* never more than the maximum */
        $TargetDedicatedNodes = min(maxNumberofVMs, pendingTaskSamples);
        $NodeDeallocationOption = taskcompletion;
    """
    outcome = evaluate(formula, INPUTS)
    assert outcome.target_dedicated_nodes == 7
    assert outcome.node_deallocation_option == "taskcompletion"


def test_fractions_show_as_written_and_targets_round_down():
    outcome = evaluate("$TargetDedicatedNodes = 5 / 2;", INPUTS)
    assert outcome.results().startswith("$TargetDedicatedNodes=2.5;")
    assert outcome.target_dedicated_nodes == 2


@pytest.mark.parametrize(
    ("formula", "line", "column"),
    [
        ("$TargetDedicatedNodes = ", 1, 25),
        ("$TargetDedicatedNodes = 1 +* 2;", 1, 28),
        ("$TargetDedicatedNodes = (1;", 1, 27),
        ("$TargetDedicatedNodes = 1 $TargetLowPriorityNodes = 2;", 1, 27),
        ("a = 1;\nb = 2 2;", 2, 7),
        ("3 = $TargetDedicatedNodes;", 1, 1),
        ("$TargetDedicatedNodes = 1; /* unterminated", 1, 28),
        ("$TargetDedicatedNodes = 1 # 2;", 1, 27),
        ("$TargetDedicatedNodes = $PendingTasks.$GetSample(1);", 1, 39),
    ],
)
def test_syntax_errors_name_line_and_column(formula, line, column):
    with pytest.raises(FormulaSyntaxError) as caught:
        parse(formula)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value).startswith(f"Line {line}, Col {column}: ")


@pytest.mark.parametrize(
    ("formula", "fragment"),
    [
        ("$TargetDedicatedNodes = 1 / 0;", "Division by zero"),
        ("$TargetDedicatedNodes = 5 % 0;", "Division by zero"),
        ("$TargetDedicatedNodes = undefinedThing;", "Undefined symbol: undefinedThing"),
        ("$TargetDedicatedNodes = median(1, 2);", "Unknown function: median"),
        ("$TargetDedicatedNodes = min();", "needs at least one argument"),
        ("$TargetDedicatedNodes = $PendingTasks.Frobnicate();", "Unknown method"),
        ("x = 2; $TargetDedicatedNodes = x.GetSample(1);", "applies to a service variable"),
        ("$CurrentDedicatedNodes = 3;", "$CurrentDedicatedNodes is read-only"),
        ("$TargetDedicatedNodes = -1;", "0 or more nodes, not -1"),
        ("$TargetDedicatedNodes = requeue;", "0 or more nodes, not requeue"),
        ("$NodeDeallocationOption = 2;", "must be one of requeue"),
        ("$TargetDedicatedNodes = requeue + 1;", "A number was expected"),
        ("$TargetDedicatedNodes = 1e308 * 10;", "not a finite number"),
    ],
)
def test_evaluation_errors(formula, fragment):
    with pytest.raises(FormulaEvaluationError) as caught:
        evaluate(formula, INPUTS)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("Line ")


def test_an_evaluation_error_points_at_the_failing_operator():
    with pytest.raises(FormulaEvaluationError) as caught:
        evaluate("a = 1;\n$TargetDedicatedNodes = 4 / (a - 1);", INPUTS)
    assert (caught.value.line, caught.value.column) == (2, 27)


# -- properties ---------------------------------------------------------------------------------------

_counts = st.integers(min_value=0, max_value=10_000)
_names = st.from_regex(r"[a-z][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in ("requeue", "terminate", "taskcompletion", "retaineddata", "min", "max")
)
_numbers = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6).map(float),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(
    dedicated=_counts,
    low=_counts,
    option=st.sampled_from(["requeue", "terminate", "taskcompletion", "retaineddata"]),
    variables=st.dictionaries(_names, _numbers, max_size=5),
)
def test_the_results_string_is_itself_a_formula_with_the_same_results(dedicated, low, option, variables):
    """`autoScaleRun.results` reads back as the formula that produced it (values round-trip exactly)."""
    assigned = "".join(f"{name} = {format_value(value)};" for name, value in variables.items())
    formula = f"$TargetDedicatedNodes = {dedicated}; $TargetLowPriorityNodes = {low};"
    formula += f"$NodeDeallocationOption = {option}; {assigned}"
    first = evaluate(formula, INPUTS)
    again = evaluate(first.results(), INPUTS)
    assert again.results() == first.results()
    assert dict(again.variables) == dict(first.variables)


def _expressions() -> st.SearchStrategy[tuple[str, Fraction]]:
    """(formula text, exact value) for random arithmetic trees over small integers."""
    leaves = st.integers(min_value=0, max_value=50).map(lambda n: (str(n), Fraction(n)))

    def combine(children):
        pair = st.tuples(children, children)

        def build(op):
            def make(ab):
                (ta, va), (tb, vb) = ab
                if op == "min":
                    return f"min({ta}, {tb})", min(va, vb)
                if op == "max":
                    return f"max({ta}, {tb})", max(va, vb)
                value = {"+": va + vb, "-": va - vb, "*": va * vb}[op]
                return f"({ta} {op} {tb})", value

            return pair.map(make)

        return st.one_of([build(op) for op in ("+", "-", "*", "min", "max")])

    return st.recursive(leaves, combine, max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(_expressions())
def test_arithmetic_agrees_with_exact_arithmetic(case):
    text, exact = case
    value = evaluate(f"x = {text};", INPUTS).variables["x"]
    assert math.isclose(value, float(exact), rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=100, deadline=None)
@given(_expressions(), st.sampled_from([" ", "\n", "\t", " /* c */ ", " // c\n"]))
def test_whitespace_and_comments_between_tokens_change_nothing(case, filler):
    text, _ = case
    spaced = text.replace("(", f"({filler}").replace(",", f"{filler},{filler}").replace(")", f"{filler})")
    assert evaluate(f"x ={filler}{spaced};", INPUTS).variables == evaluate(f"x = {text};", INPUTS).variables
