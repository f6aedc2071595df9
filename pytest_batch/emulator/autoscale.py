"""Autoscale formulas: parse and evaluate the subset of the Batch formula language the emulator needs.

A formula is a list of assignments (`$TargetDedicatedNodes = min(10, $PendingTasks);`). The
service checks the syntax when a formula is set (a syntax error is a 400) and evaluates it
periodically; an evaluation that fails is reported in the pool's `autoScaleRun.error`, not as
an HTTP error. Both halves are pure functions here so they can be tested without a pool.

Supported: numbers, variables (`$Name` service variables, user variables with or without `$`),
`+ - * / %`, comparisons, `&& || !`, `cond ? a : b`, `min max avg sum floor ceil round abs`,
the deallocation options (`requeue`, `terminate`, `taskcompletion`, `retaineddata`) as values,
`TimeInterval_*` constants and the sample methods (`$PendingTasks.GetSample(...)`,
`.GetSamplePercent(...)`), which in the emulator always have complete data and return the
current value (or 100 percent). `//` and `/* */` comments are allowed.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

TARGET_DEDICATED = "$TargetDedicatedNodes"
TARGET_LOW_PRIORITY = "$TargetLowPriorityNodes"
DEALLOCATION_OPTION = "$NodeDeallocationOption"
OUTPUTS = (TARGET_DEDICATED, TARGET_LOW_PRIORITY, DEALLOCATION_OPTION)
DEALLOCATION_OPTIONS = ("requeue", "terminate", "taskcompletion", "retaineddata")
MAX_LENGTH = 8192

TIME_INTERVALS = MappingProxyType(
    {
        "TimeInterval_Zero": 0.0,
        "TimeInterval_100ns": 1e-7,
        "TimeInterval_Microsecond": 1e-6,
        "TimeInterval_Millisecond": 1e-3,
        "TimeInterval_Second": 1.0,
        "TimeInterval_Minute": 60.0,
        "TimeInterval_Hour": 3600.0,
        "TimeInterval_Day": 86400.0,
        "TimeInterval_Week": 604800.0,
        "TimeInterval_Year": 31536000.0,
    }
)

Value = float | str


class FormulaSyntaxError(ValueError):
    """The formula cannot be parsed; `line` and `column` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"Line {line}, Col {column}: {message}")
        self.line = line
        self.column = column


class FormulaEvaluationError(ValueError):
    """The formula parsed but could not be evaluated (unknown name, division by zero...)."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"Line {line}, Col {column}: {message}")
        self.line = line
        self.column = column


# -- syntax tree ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """One expression: `kind` is num, name, unary, binary, ternary, call or method."""

    kind: str
    value: Any
    args: tuple[Node, ...]
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Assignment:
    name: str
    expression: Node
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed formula: its assignments in order."""

    assignments: tuple[Assignment, ...]


# -- lexer ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>\$?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%<>!?:=(),.;])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, name, op, end
    text: str
    line: int
    column: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    position, line, line_start = 0, 1, 0
    while position < len(text):
        column = position - line_start + 1
        if text.startswith("/*", position) and text.find("*/", position + 2) < 0:
            raise FormulaSyntaxError("Unterminated comment", line, column)
        match = _TOKEN.match(text, position)
        if match is None:
            raise FormulaSyntaxError(f"Unexpected character {text[position]!r}", line, column)
        kind = match.lastgroup or "space"
        chunk = match.group()
        if kind != "space":
            out.append(_Token(kind, chunk, line, column))
        newlines = chunk.count("\n")
        if newlines:
            line += newlines
            line_start = position + chunk.rindex("\n") + 1
        position = match.end()
    out.append(_Token("end", "", line, position - line_start + 1))
    return out


# -- parser (recursive descent, C-like precedence) ------------------------------------

_BINARY_LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%"))


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        if self.current.kind == "op" and self.current.text == text:
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> _Token:
        token = self.current
        if not (token.kind == "op" and token.text == text):
            raise FormulaSyntaxError(f"Expected '{text}' but found {_describe(token)}", token.line, token.column)
        return self.take()

    def formula(self) -> Formula:
        assignments = []
        while self.current.kind != "end":
            if self.accept(";"):
                continue
            assignments.append(self.assignment())
            if self.current.kind != "end":
                self.expect(";")
        return Formula(tuple(assignments))

    def assignment(self) -> Assignment:
        token = self.current
        if token.kind != "name":
            raise FormulaSyntaxError(f"Expected a variable name but found {_describe(token)}", token.line, token.column)
        self.take()
        self.expect("=")
        return Assignment(token.text, self.expression(), token.line, token.column)

    def expression(self) -> Node:
        condition = self.binary(0)
        if self.current.kind == "op" and self.current.text == "?":
            token = self.take()
            when_true = self.expression()
            self.expect(":")
            when_false = self.expression()
            return Node("ternary", None, (condition, when_true, when_false), token.line, token.column)
        return condition

    def binary(self, level: int) -> Node:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.current.kind == "op" and self.current.text in _BINARY_LEVELS[level]:
            token = self.take()
            right = self.binary(level + 1)
            left = Node("binary", token.text, (left, right), token.line, token.column)
        return left

    def unary(self) -> Node:
        token = self.current
        if token.kind == "op" and token.text in ("-", "+", "!"):
            self.take()
            return Node("unary", token.text, (self.unary(),), token.line, token.column)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.current.kind == "op" and self.current.text == ".":
            self.take()
            token = self.current
            if token.kind != "name" or token.text.startswith("$"):
                raise FormulaSyntaxError(
                    f"Expected a method name but found {_describe(token)}", token.line, token.column
                )
            self.take()
            self.expect("(")
            node = Node("method", token.text, (node, *self.arguments()), token.line, token.column)
        return node

    def primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.take()
            return Node("num", float(token.text), (), token.line, token.column)
        if token.kind == "name":
            self.take()
            if self.accept("("):
                return Node("call", token.text, self.arguments(), token.line, token.column)
            return Node("name", token.text, (), token.line, token.column)
        if self.accept("("):
            inner = self.expression()
            self.expect(")")
            return inner
        raise FormulaSyntaxError(f"Expected an expression but found {_describe(token)}", token.line, token.column)

    def arguments(self) -> tuple[Node, ...]:
        """The arguments after an opening parenthesis, through the closing one."""
        if self.accept(")"):
            return ()
        args = [self.expression()]
        while self.accept(","):
            args.append(self.expression())
        self.expect(")")
        return tuple(args)


def _describe(token: _Token) -> str:
    return "the end of the formula" if token.kind == "end" else f"'{token.text}'"


def parse(text: str) -> Formula:
    """Parse `text`; raises `FormulaSyntaxError` (what the service answers with a 400)."""
    return _Parser(text).formula()


# -- evaluation ------------------------------------------------------------------------


def _numbers(node: Node, values: tuple[Value, ...]) -> list[float]:
    if not values:
        raise FormulaEvaluationError(f"{node.value}() needs at least one argument", node.line, node.column)
    for value in values:
        if not isinstance(value, float):
            raise FormulaEvaluationError(f"{node.value}() takes numbers, not {value!r}", node.line, node.column)
    return list(values)  # type: ignore[arg-type]


def _one(node: Node, values: tuple[Value, ...]) -> float:
    numbers = _numbers(node, values)
    if len(numbers) != 1:
        raise FormulaEvaluationError(f"{node.value}() takes one argument", node.line, node.column)
    return numbers[0]


_FUNCTIONS = MappingProxyType(
    {
        "min": lambda node, values: min(_numbers(node, values)),
        "max": lambda node, values: max(_numbers(node, values)),
        "sum": lambda node, values: math.fsum(_numbers(node, values)),
        "avg": lambda node, values: math.fsum(_numbers(node, values)) / len(values),
        "floor": lambda node, values: float(math.floor(_one(node, values))),
        "ceil": lambda node, values: float(math.ceil(_one(node, values))),
        "round": lambda node, values: float(math.floor(_one(node, values) + 0.5)),
        "abs": lambda node, values: abs(_one(node, values)),
    }
)
_BINARY = MappingProxyType(
    {
        "+": operator.add,
        "-": operator.sub,
        "*": operator.mul,
        "/": operator.truediv,
        "%": math.fmod,
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }
)
_METHODS = ("GetSample", "GetSamplePercent", "GetSamplePeriod", "Count", "HistoryBeginTime")


def _number(node: Node, value: Value) -> float:
    if not isinstance(value, float):
        raise FormulaEvaluationError(f"A number was expected, not {value!r}", node.line, node.column)
    return value


def _checked(node: Node, value: float) -> float:
    if not math.isfinite(value):
        raise FormulaEvaluationError("The result is not a finite number", node.line, node.column)
    return value


class _Evaluator:
    def __init__(self, inputs: Mapping[str, Value], variables: dict[str, Value]) -> None:
        self.inputs = inputs
        self.variables = variables

    def lookup(self, node: Node) -> Value:
        name = node.value
        if name in self.variables:
            return self.variables[name]
        if name in self.inputs:
            return self.inputs[name]
        if name in TIME_INTERVALS:
            return TIME_INTERVALS[name]
        if name in DEALLOCATION_OPTIONS:
            return name
        raise FormulaEvaluationError(f"Undefined symbol: {name}", node.line, node.column)

    def value(self, node: Node) -> Value:
        kind = node.kind
        if kind == "num":
            return node.value
        if kind == "name":
            return self.lookup(node)
        if kind == "unary":
            operand = self.value(node.args[0])
            if node.value == "!":
                return 0.0 if _truth(node, operand) else 1.0
            number = _number(node, operand)
            return -number if node.value == "-" else number
        if kind == "ternary":
            condition, when_true, when_false = node.args
            return self.value(when_true if _truth(node, self.value(condition)) else when_false)
        if kind == "binary":
            return self.binary(node)
        if kind == "call":
            function = _FUNCTIONS.get(node.value)
            if function is None:
                raise FormulaEvaluationError(f"Unknown function: {node.value}", node.line, node.column)
            return _checked(node, function(node, tuple(self.value(arg) for arg in node.args)))
        # a sample method on a service variable: complete data, current value
        target, *args = node.args
        if node.value not in _METHODS:
            raise FormulaEvaluationError(f"Unknown method: {node.value}", node.line, node.column)
        if target.kind != "name" or target.value not in self.inputs:
            raise FormulaEvaluationError(f"{node.value}() applies to a service variable", node.line, node.column)
        for arg in args:
            _number(arg, self.value(arg))
        if node.value == "GetSamplePercent":
            return 100.0
        if node.value in ("GetSamplePeriod", "HistoryBeginTime"):
            return 0.0
        if node.value == "Count":
            return 1.0
        return _number(target, self.value(target))

    def binary(self, node: Node) -> Value:
        symbol = node.value
        left = self.value(node.args[0])
        if symbol in ("&&", "||"):  # short-circuit, as in C
            decided = _truth(node, left)
            if decided == (symbol == "||"):
                return 1.0 if decided else 0.0
            return 1.0 if _truth(node, self.value(node.args[1])) else 0.0
        right = self.value(node.args[1])
        if symbol in ("==", "!="):
            return 1.0 if (left == right) == (symbol == "==") else 0.0
        a, b = _number(node.args[0], left), _number(node.args[1], right)
        if symbol in ("/", "%") and b == 0:
            raise FormulaEvaluationError("Division by zero", node.line, node.column)
        return _checked(node, float(_BINARY[symbol](a, b)))


def _truth(node: Node, value: Value) -> bool:
    return _number(node, value) != 0.0


@dataclass(frozen=True)
class Evaluation:
    """The final values of the outputs and of every variable the formula assigned."""

    variables: Mapping[str, Value]

    @property
    def target_dedicated_nodes(self) -> int:
        return int(self.variables[TARGET_DEDICATED])

    @property
    def target_low_priority_nodes(self) -> int:
        return int(self.variables[TARGET_LOW_PRIORITY])

    @property
    def node_deallocation_option(self) -> str:
        return str(self.variables[DEALLOCATION_OPTION])

    def results(self) -> str:
        """`autoScaleRun.results`: `$name=value` pairs joined by `;`, outputs first, then the rest by name."""
        rest = sorted(name for name in self.variables if name not in OUTPUTS)
        return ";".join(f"{name}={format_value(self.variables[name])}" for name in (*OUTPUTS, *rest))


def format_value(value: Value) -> str:
    """A value as the results string shows it: integers without a decimal point."""
    if isinstance(value, str):
        return value
    return str(int(value)) if value.is_integer() else repr(value)


def evaluate(formula: str | Formula, inputs: Mapping[str, Value]) -> Evaluation:
    """Run `formula` against the service variables in `inputs` (which also hold the current
    values of the three outputs). Service variables other than the outputs are read-only."""
    program = parse(formula) if isinstance(formula, str) else formula
    variables: dict[str, Value] = {name: inputs[name] for name in OUTPUTS if name in inputs}
    variables.setdefault(TARGET_DEDICATED, 0.0)
    variables.setdefault(TARGET_LOW_PRIORITY, 0.0)
    variables.setdefault(DEALLOCATION_OPTION, "requeue")
    evaluator = _Evaluator(inputs, variables)
    for assignment in program.assignments:
        name = assignment.name
        if (name in inputs and name not in OUTPUTS) or name in TIME_INTERVALS or name in DEALLOCATION_OPTIONS:
            raise FormulaEvaluationError(f"{name} is read-only", assignment.line, assignment.column)
        variables[name] = evaluator.value(assignment.expression)
    _check_outputs(program, variables)
    return Evaluation(MappingProxyType(dict(variables)))


def _check_outputs(program: Formula, variables: Mapping[str, Value]) -> None:
    where = {a.name: (a.line, a.column) for a in program.assignments}
    for name in (TARGET_DEDICATED, TARGET_LOW_PRIORITY):
        value = variables[name]
        if not isinstance(value, float) or value < 0:
            shown = format_value(value)
            raise FormulaEvaluationError(f"{name} must be 0 or more nodes, not {shown}", *where.get(name, (1, 1)))
    option = variables[DEALLOCATION_OPTION]
    if option not in DEALLOCATION_OPTIONS:
        choices = ", ".join(DEALLOCATION_OPTIONS)
        shown = format_value(option)
        raise FormulaEvaluationError(
            f"{DEALLOCATION_OPTION} must be one of {choices}, not {shown}", *where.get(DEALLOCATION_OPTION, (1, 1))
        )


__all__ = [
    "DEALLOCATION_OPTION",
    "MAX_LENGTH",
    "TARGET_DEDICATED",
    "TARGET_LOW_PRIORITY",
    "Evaluation",
    "Formula",
    "FormulaEvaluationError",
    "FormulaSyntaxError",
    "evaluate",
    "format_value",
    "parse",
]
