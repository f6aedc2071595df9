"""Text matching a regular expression, read from a slice of record bytes.

`st.from_regex` draws one Hypothesis choice per character and per repetition
(~250 choices for an ARM resource id), which alone would cost a pool-create
draw several milliseconds. This reader walks the parsed pattern and takes every
decision (which alternative, how many repetitions, which character) from the
next byte of a fixed slice; zero bytes give the shortest text (first
alternatives, minimum repetitions, first characters). Lookarounds are skipped,
so the caller checks the result and falls back to `st.from_regex` on a miss.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

try:  # CPython 3.11+
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - CPython 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

WIDTH = 24  # record bytes one pattern reads
REPEAT_CAP = 8  # extra repetitions an unbounded `*`/`+` may add

_DIGITS = "0123456789"
_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
_SPACE = " \t\n\r\f\v"
_CATEGORIES = MappingProxyType(
    {
        sre_constants.CATEGORY_DIGIT: _DIGITS,
        sre_constants.CATEGORY_WORD: _WORD,
        sre_constants.CATEGORY_SPACE: _SPACE,
    }
)


class _Cursor:
    __slots__ = ("buf", "end", "pos")

    def __init__(self, buf: bytes, pos: int, width: int) -> None:
        self.buf, self.pos, self.end = buf, pos, pos + width

    def byte(self) -> int:
        if self.pos >= self.end:
            return 0
        self.pos += 1
        return self.buf[self.pos - 1]


def compile_reader(pattern: str, flags: int, alphabet: str) -> Callable[[bytes, int], str] | None:
    """`read(buf, pos) -> text` for `pattern`, or None when the pattern uses what the reader cannot follow.

    `alphabet` is where "any character" and negated classes pick from.
    """
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error:
        return None
    ignore_case = bool(flags & re.IGNORECASE)
    try:
        program = _program(list(parsed), alphabet, ignore_case)
    except _Unsupported:
        return None

    def read(buf: bytes, pos: int) -> str:
        out: list[str] = []
        program(_Cursor(buf, pos, WIDTH), out)
        return "".join(out)

    return read


def always_matches(pattern: str, flags: int) -> bool:
    """True when every text `compile_reader` writes for `pattern` matches it in full: no anchor or
    lookaround (the reader skips those), and nothing it cannot follow."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error:
        return False
    return not any(op in _SKIPPED for op, _ in _walk(list(parsed)))


def _walk(items: list):
    for op, av in items:
        yield op, av
        if op in (
            sre_constants.MAX_REPEAT,
            sre_constants.MIN_REPEAT,
            getattr(sre_constants, "POSSESSIVE_REPEAT", None),
        ):
            yield from _walk(list(av[2]))
        elif op is sre_constants.SUBPATTERN:
            yield from _walk(list(av[-1]))
        elif op is sre_constants.BRANCH:
            for branch in av[1]:
                yield from _walk(list(branch))


class _Unsupported(Exception):
    pass


_SKIPPED = (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.GROUPREF)


def _program(items: list, alphabet: str, ignore_case: bool) -> Callable[[_Cursor, list], None]:
    steps, literal = [], []
    for op, av in [*items, (None, None)]:
        if op is sre_constants.LITERAL:
            literal.append(chr(av))
            continue
        if literal:
            steps.append(_literal("".join(literal), ignore_case))
            literal = []
        if op is not None:
            steps.append(_step(op, av, alphabet, ignore_case))
    if len(steps) == 1:
        return steps[0]

    def run(cursor: _Cursor, out: list) -> None:
        for step in steps:
            step(cursor, out)

    return run


def _literal(text: str, ignore_case: bool) -> Callable[[_Cursor, list], None]:
    """A run of literal characters; under IGNORECASE one byte picks as written, lower or upper case."""
    if ignore_case and text.lower() != text.upper():
        spellings = (text, text.lower(), text.upper())
        return lambda cursor, out: out.append(spellings[cursor.byte() % 3])
    return lambda cursor, out: out.append(text)


def _step(op, av, alphabet: str, ignore_case: bool) -> Callable[[_Cursor, list], None]:
    if op is sre_constants.LITERAL:
        return _literal(chr(av), ignore_case)
    if op is sre_constants.NOT_LITERAL:
        chars = [c for c in alphabet if c != chr(av)]
        return _pick(chars)
    if op is sre_constants.ANY:
        chars = [c for c in alphabet if c != "\n"]
        return _pick(chars)
    if op is sre_constants.IN:
        return _pick(_class_chars(av, alphabet))
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)):
        low, high, sub = av
        top = low + REPEAT_CAP if high is sre_constants.MAXREPEAT else min(high, low + REPEAT_CAP)
        chars = _single_class(list(sub), alphabet)
        if chars is not None:  # `[^/]+` and friends: one slice of bytes, no per-character calls
            return _run_of(chars, low, top)
        body = _program(list(sub), alphabet, ignore_case)

        def repeat(cursor: _Cursor, out: list) -> None:
            for _ in range(low + cursor.byte() % (top - low + 1)):
                body(cursor, out)

        return repeat
    if op is sre_constants.SUBPATTERN:
        return _program(list(av[-1]), alphabet, ignore_case)
    if op is sre_constants.BRANCH:
        branches = [_program(list(b), alphabet, ignore_case) for b in av[1]]
        return lambda cursor, out: branches[cursor.byte() % len(branches)](cursor, out)
    if op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return lambda cursor, out: None  # anchors and lookarounds: the caller checks the whole text
    raise _Unsupported(op)


def _single_class(items: list, alphabet: str) -> list[str] | None:
    """The characters of a one-item body that picks one character (a class, `.` or a literal), else None."""
    if len(items) != 1:
        return None
    op, av = items[0]
    if op is sre_constants.IN:
        return _class_chars(av, alphabet)
    if op is sre_constants.ANY:
        return [c for c in alphabet if c != "\n"]
    if op is sre_constants.NOT_LITERAL:
        return [c for c in alphabet if c != chr(av)]
    return None


def _run_of(chars: list[str], low: int, top: int) -> Callable[[_Cursor, list], None]:
    if not chars:
        raise _Unsupported("empty class")
    size, span = len(chars), top - low + 1

    def run(cursor: _Cursor, out: list) -> None:
        count = low + cursor.byte() % span
        pos = cursor.pos
        taken = cursor.buf[pos : min(pos + count, cursor.end)]
        cursor.pos = pos + len(taken)
        out.extend([chars[b % size] for b in taken])
        if count > len(taken):
            out.append(chars[0] * (count - len(taken)))

    return run


def _pick(chars: list[str]) -> Callable[[_Cursor, list], None]:
    if not chars:
        raise _Unsupported("empty class")
    return lambda cursor, out: out.append(chars[cursor.byte() % len(chars)])


def _class_chars(items: Any, alphabet: str) -> list[str]:
    negate = False
    chars: list[str] = []
    for op, av in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            chars.append(chr(av))
        elif op is sre_constants.RANGE:
            low, high = av
            if high - low > 512:
                raise _Unsupported("wide range")
            chars.extend(chr(c) for c in range(low, high + 1))
        elif op is sre_constants.CATEGORY and av in _CATEGORIES:
            chars.extend(_CATEGORIES[av])
        else:
            raise _Unsupported(op)
    if negate:
        banned = set(chars)
        return [c for c in alphabet if c not in banned]
    return list(dict.fromkeys(chars))
