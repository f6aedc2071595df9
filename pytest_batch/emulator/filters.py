"""The `$filter` subset Batch documents (odata-filters-in-batch): compile once, test documents.

Handlers list resources by filtering their documents in memory, so the emulator needs a small,
exact OData parser rather than a general one: what Batch would reject must be a 400 here too
(the caller turns `FilterError` into `InvalidQueryParameterValue`), and what it accepts must
select the same resources.

Grammar (OData v3 precedence: `not` binds tighter than comparisons, `and` tighter than `or`)::

    filter     := or_expr END
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | "(" or_expr ")" | startswith | comparison
    startswith := "startswith" "(" PATH "," STRING ")" [("eq" | "ne") ("true" | "false")]
    comparison := operand ("eq" | "ne" | "gt" | "ge" | "lt" | "le") operand   (one side a PATH)
    operand    := PATH | STRING | NUMBER | "true" | "false" | "null" | "datetime" STRING

Keywords are lower-case, as the service's parser wants them; `not` takes a parenthesised
condition (`not (state eq 'active')`), because `not state eq 'x'` negates a string in OData.

Evaluation: a missing (or JSON null) property matches only `eq null`; values of another type
than the literal never match; enum-valued properties (`state`, `result`…) compare without
regard to case, as the service does; a string literal that is an ISO 8601 date-time compares
as a date-time when the property's value is one too.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

MAX_DEPTH = 64  # nested parentheses / `not`; deeper input is refused, never a RecursionError

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
KEYWORDS = frozenset({"and", "or", "not", *COMPARISONS})
_ORDER = MappingProxyType(
    {
        "eq": operator.eq,
        "ne": operator.ne,
        "gt": operator.gt,
        "ge": operator.ge,
        "lt": operator.lt,
        "le": operator.le,
    }
)
_FLIPPED = MappingProxyType({"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"})

# Leaf names of the enum-typed properties Batch lets clients filter on; the service matches
# their values case-insensitively (`state eq 'Active'` finds active jobs).
ENUM_PROPERTIES = frozenset(
    {
        "state",
        "previousState",
        "allocationState",
        "schedulingState",
        "result",
        "category",
        "osType",
        "verificationType",
        "onAllTasksComplete",
        "onTaskFailure",
    }
)

_DIGITS = frozenset("0123456789")
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_PART = _NAME_START | _DIGITS
_SPACE = frozenset(" \t\r\n")


class FilterError(ValueError):
    """A filter outside the subset or malformed; `position` is the 0-based offset into the text."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} at position {position}")
        self.reason = reason
        self.position = position


# -- literals and values --------------------------------------------------------------


class _Missing:
    """The value of a property path that leads nowhere (distinct from every JSON value)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def parse_datetime(text: str) -> datetime | None:
    """`YYYY-MM-DDTHH:MM[:SS[.fraction]][Z|±HH:MM]` as an aware UTC datetime, else None.

    Hand-written because `datetime.fromisoformat` (3.10) refuses `Z` and the 7-digit
    fractions the service writes; a time without an offset is taken as UTC.
    """
    if len(text) < 16 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt" or text[13] != ":":
        return None
    fields = (text[0:4], text[5:7], text[8:10], text[11:13], text[14:16])
    if not all(_is_digits(f) for f in fields):
        return None
    year, month, day, hour, minute = (int(f) for f in fields)
    rest = text[16:]
    second = micro = 0
    if rest.startswith(":"):
        if not _is_digits(rest[1:3]):
            return None
        second, rest = int(rest[1:3]), rest[3:]
        if rest.startswith("."):
            end = 1
            while end < len(rest) and rest[end] in _DIGITS:
                end += 1
            if end == 1:
                return None
            micro, rest = int(rest[1:end][:6].ljust(6, "0")), rest[end:]
    if rest in ("", "Z", "z"):
        offset = timedelta(0)
    elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":" and _is_digits(rest[1:3]) and _is_digits(rest[4:6]):
        offset = timedelta(hours=int(rest[1:3]), minutes=int(rest[4:6]))
        if rest[0] == "-":
            offset = -offset
    else:
        return None
    try:
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone(offset))
    except ValueError:  # month 13, hour 24, offset ≥ 24h…
        return None
    return moment.astimezone(timezone.utc)


def _is_digits(text: str) -> bool:
    return bool(text) and all(c in _DIGITS for c in text)


def quote_literal(value: str) -> str:
    """`value` as an OData string literal: single quotes, an embedded quote doubled."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: kind is `string`, `number`, `boolean`, `null` or `datetime`.

    `moment` holds the date-time a `string` literal spells, if it spells one, so that
    `creationTime gt '2025-01-01T00:00:00Z'` compares dates, not text.
    """

    kind: str
    value: Any
    moment: datetime | None = None


@dataclass(frozen=True, slots=True)
class Path:
    """A property path (`executionInfo/exitCode`) as its segments."""

    segments: tuple[str, ...]

    def resolve(self, document: Mapping[str, Any]) -> Any:
        """The value at this path, or `MISSING` when some segment is absent or not an object."""
        value: Any = document
        for name in self.segments:
            if not isinstance(value, Mapping) or name not in value:
                return MISSING
            value = value[name]
        return value

    @property
    def is_enum(self) -> bool:
        return self.segments[-1] in ENUM_PROPERTIES


# -- the syntax tree: every node answers `matches(document)` ----------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    path: Path
    literal: Literal

    def matches(self, document: Mapping[str, Any]) -> bool:
        value = self.path.resolve(document)
        absent = value is MISSING or value is None
        if self.literal.kind == "null":
            return absent if self.op == "eq" else not absent
        if absent:
            return False
        pair = _comparable(value, self.literal, self.path.is_enum)
        return pair is not None and bool(_ORDER[self.op](*pair))


@dataclass(frozen=True, slots=True)
class StartsWith:
    path: Path
    prefix: str

    def matches(self, document: Mapping[str, Any]) -> bool:
        value = self.path.resolve(document)
        if not isinstance(value, str):
            return False
        if self.path.is_enum:
            return value.lower().startswith(self.prefix.lower())
        return value.startswith(self.prefix)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node

    def matches(self, document: Mapping[str, Any]) -> bool:
        return not self.operand.matches(document)


@dataclass(frozen=True, slots=True)
class AllOf:
    """`a and b and c`, flat so that a long chain is not a deep recursion."""

    operands: tuple[Node, ...]

    def matches(self, document: Mapping[str, Any]) -> bool:
        return all(o.matches(document) for o in self.operands)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """`a or b or c`, flat for the same reason as `AllOf`."""

    operands: tuple[Node, ...]

    def matches(self, document: Mapping[str, Any]) -> bool:
        return any(o.matches(document) for o in self.operands)


Node = Compare | StartsWith | Not | AllOf | AnyOf


def _comparable(value: Any, literal: Literal, enum: bool) -> tuple[Any, Any] | None:
    """The two sides in one comparable type, or None when the document's value is of another type."""
    kind = literal.kind
    if kind == "boolean":
        return (value, literal.value) if isinstance(value, bool) else None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return value, literal.value
    if not isinstance(value, str):
        return None
    if kind == "datetime":
        moment = parse_datetime(value)
        return None if moment is None else (moment, literal.value)
    if literal.moment is not None:
        moment = parse_datetime(value)
        if moment is not None:
            return moment, literal.moment
    if enum:
        return value.lower(), literal.value.lower()
    return value, literal.value


# -- tokenizer ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """kind: `name` (a word or a `/` path), `string`, `number`, `datetime`, `(`, `)`, `,` or `end`."""

    kind: str
    text: str
    position: int
    value: Any = None

    def describe(self) -> str:
        return "end of filter" if self.kind == "end" else repr(self.text)


def tokenize(text: str) -> tuple[Token, ...]:
    """Split `text` into tokens, ending with an `end` token; FilterError on a bad character or literal."""
    tokens: list[Token] = []
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        if char in _SPACE:
            index += 1
        elif char in "(),":
            tokens.append(Token(char, char, index))
            index += 1
        elif char == "'":
            value, end = _scan_string(text, index)
            tokens.append(Token("string", text[index:end], index, value))
            index = end
        elif char in _DIGITS or (char == "-" and index + 1 < size and text[index + 1] in _DIGITS):
            token = _scan_number(text, index)
            tokens.append(token)
            index = token.position + len(token.text)
        elif char in _NAME_START:
            token = _scan_name(text, index)
            tokens.append(token)
            index = token.position + len(token.text)
        else:
            raise FilterError(f"unexpected character {char!r}", index)
    tokens.append(Token("end", "", size))
    return tuple(tokens)


def _scan_string(text: str, start: int) -> tuple[str, int]:
    """The value of the string literal opening at `start` and the offset just past it."""
    parts: list[str] = []
    index = start + 1
    while True:
        close = text.find("'", index)
        if close < 0:
            raise FilterError("unterminated string literal (a quote inside a string is written '')", start)
        parts.append(text[index:close])
        if text.startswith("''", close):
            parts.append("'")
            index = close + 2
        else:
            return "".join(parts), close + 1


def _scan_number(text: str, start: int) -> Token:
    index = start + 1 if text[start] == "-" else start
    index = _skip_digits(text, index)
    integral = True
    if index < len(text) and text[index] == ".":
        after = _skip_digits(text, index + 1)
        if after == index + 1:
            raise FilterError(f"malformed number {text[start : index + 1]!r}", start)
        index, integral = after, False
    if index < len(text) and text[index] in "eE":
        mark = index + 1
        if mark < len(text) and text[mark] in "+-":
            mark += 1
        after = _skip_digits(text, mark)
        if after == mark:
            raise FilterError(f"malformed number {text[start:mark]!r}", start)
        index, integral = after, False
    if index < len(text) and text[index] in _NAME_PART | {"."}:
        end = index
        while end < len(text) and text[end] in _NAME_PART | {"."}:
            end += 1
        raise FilterError(f"malformed number {text[start:end]!r} (type suffixes are not supported)", start)
    lexeme = text[start:index]
    value: int | float = int(lexeme) if integral else float(lexeme)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise FilterError(f"number {lexeme!r} is out of range", start)
    return Token("number", lexeme, start, value)


def _skip_digits(text: str, index: int) -> int:
    while index < len(text) and text[index] in _DIGITS:
        index += 1
    return index


def _scan_name(text: str, start: int) -> Token:
    """A word, a `/`-separated property path, or a `datetime'…'` literal."""
    index = start
    while True:
        while index < len(text) and text[index] in _NAME_PART:
            index += 1
        if index < len(text) and text[index] == "/":
            if index + 1 >= len(text) or text[index + 1] not in _NAME_START:
                raise FilterError(f"property path {text[start : index + 1]!r} has an empty or invalid segment", start)
            index += 1
            continue
        break
    word = text[start:index]
    if index < len(text) and text[index] == "'" and word not in KEYWORDS:
        if word.lower() != "datetime":
            raise FilterError(f"typed literal {word}'…' is not supported (only datetime'…')", start)
        value, end = _scan_string(text, index)
        moment = parse_datetime(value)
        if moment is None:
            raise FilterError(f"datetime literal {value!r} is not an ISO 8601 date-time", start)
        return Token("datetime", text[start:end], start, moment)
    return Token("name", word, start)


# -- parser --------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the token tuple; one instance per `parse_filter` call."""

    def __init__(self, tokens: tuple[Token, ...]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":  # the end token is sticky: running off the text reports "end of filter"
            self.index += 1
        return token

    def at_word(self, word: str) -> bool:
        return self.token.kind == "name" and self.token.text == word

    def fail(self, reason: str, token: Token | None = None) -> FilterError:
        token = token or self.token
        return FilterError(reason, token.position)

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise self.fail("the filter is empty")
        node = self.or_expr(0)
        if self.token.kind != "end":
            raise self.fail(f"expected 'and', 'or' or end of filter, found {self.token.describe()}{self._case_hint()}")
        return node

    def or_expr(self, depth: int) -> Node:
        operands = [self.and_expr(depth)]
        while self.at_word("or"):
            self.advance()
            operands.append(self.and_expr(depth))
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def and_expr(self, depth: int) -> Node:
        operands = [self.unary(depth)]
        while self.at_word("and"):
            self.advance()
            operands.append(self.unary(depth))
        return operands[0] if len(operands) == 1 else AllOf(tuple(operands))

    def unary(self, depth: int) -> Node:
        if depth >= MAX_DEPTH:
            raise self.fail(f"the filter nests deeper than {MAX_DEPTH} levels")
        token = self.token
        if self.at_word("not"):
            self.advance()
            nxt = self.token
            if not (nxt.kind == "(" or self.at_word("not") or self._at_function()):
                raise self.fail(
                    f"'not' needs a parenthesised condition, e.g. not (state eq 'active'); found {nxt.describe()}"
                )
            return Not(self.unary(depth + 1))
        if token.kind == "(":
            self.advance()
            node = self.or_expr(depth + 1)
            if self.token.kind != ")":
                raise self.fail(
                    f"expected ')' for the '(' opened at position {token.position}, found {self.token.describe()}"
                )
            self.advance()
            return node
        if self._at_function():
            return self.function()
        return self.comparison()

    def _at_function(self) -> bool:
        return self.token.kind == "name" and "/" not in self.token.text and self.tokens[self.index + 1].kind == "("

    def function(self) -> Node:
        name = self.advance()
        if name.text != "startswith":
            raise self.fail(f"function {name.text!r} is not supported (Batch filters support startswith)", name)
        self.advance()  # "("
        path = self.operand()
        if not isinstance(path, Path):
            raise self.fail("startswith needs a property as its first argument", self.tokens[self.index - 1])
        self.expect(",", "',' between the arguments of startswith")
        prefix = self.advance()
        if prefix.kind != "string":
            raise self.fail(
                f"startswith needs a string literal as its second argument, found {prefix.describe()}", prefix
            )
        self.expect(")", "')' to close startswith")
        node: Node = StartsWith(path, prefix.value)
        if self.token.kind == "name" and self.token.text in COMPARISONS:
            op = self.advance()
            value = self.advance()
            if op.text not in ("eq", "ne") or value.kind != "name" or value.text not in ("true", "false"):
                raise self.fail("startswith(...) can only be compared with eq/ne true/false", op)
            if (op.text == "eq") != (value.text == "true"):
                node = Not(node)
        return node

    def expect(self, kind: str, what: str) -> Token:
        if self.token.kind != kind:
            raise self.fail(f"expected {what}, found {self.token.describe()}")
        return self.advance()

    def comparison(self) -> Node:
        left_token = self.token
        left = self.operand()
        op = self.token
        if op.kind != "name" or op.text not in COMPARISONS:
            hint = ""
            if op.kind == "name" and op.text.lower() in COMPARISONS:
                hint = f" (operators are lower-case: {op.text.lower()})"
            raise self.fail(
                f"expected a comparison operator (eq, ne, gt, ge, lt, le) after {left_token.describe()}, "
                f"found {op.describe()}{hint}"
            )
        self.advance()
        right = self.operand()
        if isinstance(left, Path) and isinstance(right, Path):
            raise self.fail("comparing two properties is not supported; compare a property with a literal", op)
        if isinstance(left, Literal) and isinstance(right, Literal):
            raise self.fail("a comparison needs a property on one side", left_token)
        if isinstance(left, Path):
            path, literal, name = left, right, op.text
        else:
            path, literal, name = right, left, _FLIPPED[op.text]
        assert isinstance(path, Path) and isinstance(literal, Literal)
        if literal.kind in ("null", "boolean") and name not in ("eq", "ne"):
            raise self.fail(f"{literal.kind} values can only be compared with eq or ne, not {name}", op)
        return Compare(name, path, literal)

    def operand(self) -> Path | Literal:
        token = self.advance()
        if token.kind == "string":
            return Literal("string", token.value, parse_datetime(token.value))
        if token.kind == "number":
            return Literal("number", token.value)
        if token.kind == "datetime":
            return Literal("datetime", token.value)
        if token.kind == "name":
            if token.text in ("true", "false"):
                return Literal("boolean", token.text == "true")
            if token.text == "null":
                return Literal("null", None)
            if token.text not in KEYWORDS:
                return Path(tuple(token.text.split("/")))
        raise self.fail(f"expected a property or a literal, found {token.describe()}", token)

    def _case_hint(self) -> str:
        token = self.token
        if token.kind == "name" and token.text.lower() in KEYWORDS and token.text not in KEYWORDS:
            return f" (keywords are lower-case: {token.text.lower()})"
        return ""


def parse_filter(text: str) -> Node:
    """The syntax tree of `text`; FilterError (a ValueError) naming the position when it is not in the subset."""
    return _Parser(tokenize(text)).parse()


def compile_filter(text: str) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over documents for the `$filter` text; parse errors surface here, not per document."""
    return parse_filter(text).matches


__all__ = [
    "MISSING",
    "AllOf",
    "AnyOf",
    "Compare",
    "FilterError",
    "Literal",
    "Not",
    "Path",
    "StartsWith",
    "compile_filter",
    "parse_datetime",
    "parse_filter",
    "quote_literal",
    "tokenize",
]
