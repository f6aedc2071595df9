"""Strategies and predicates for one scalar value: a string, number, boolean or null position.

A position's constraints come from two places: the schema (type, format, enum,
bounds, lengths) and the overlay's value rules (length, pattern, range,
duration_range, allowed/forbidden values). `Scalar.accepts` is their exact
conjunction — the overlay part is the checker's own `value_problems`, so the
two can never disagree. Objects read their scalars from record bytes
(`records`); `Scalar.strategy` is the plain Hypothesis strategy for the same
position, used where a record cannot serve (a parameter, a rare miss).

Each base generator costs one or two Hypothesis choices (a whole timestamp is
one integer, a duration one integer plus a style). Where the base is not exact
for the position (a pattern plus a format), a final `.filter(accepts)` removes
the rare misses; base generators are picked so that it almost never rejects.
"""

from __future__ import annotations

import base64
import email.utils
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from .. import formats as fmt
from ..constraints import (
    Constraint,
    duration_seconds,
    value_problems,  # the checker's own test: no second opinion
)

DEFAULT_TEXT_MAX = 24  # strings without a maxLength stay short: speed, and readable failures
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
LAST_SECOND = int((datetime(2099, 12, 31, 23, 59, 59, tzinfo=timezone.utc) - EPOCH).total_seconds())
TIMESPAN_MAX_SECONDS = 10675199 * 86400 + 2 * 3600 + 48 * 60 + 5  # .NET TimeSpan.MaxValue, Batch's "infinite"
_ZONES = ("Z", "Z", "+00:00", "-08:00", "+05:30", "z")
_NO_SPACE = {"exclude_categories": ("Cs", "Cc", "Zs", "Zl", "Zp")}


@dataclass(frozen=True, slots=True)
class IntegerDomain:
    """Allowed integers as sorted disjoint closed intervals (bounds, formats and rule `except`s folded in)."""

    intervals: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, low: int, high: int, holes: Sequence[Sequence[int]] = ()) -> IntegerDomain:
        parts = [(low, high)] if low <= high else []
        for hole_low, hole_high in sorted(holes):
            out = []
            for a, b in parts:
                if hole_high < a or hole_low > b:
                    out.append((a, b))
                    continue
                if a < hole_low:
                    out.append((a, hole_low - 1))
                if hole_high < b:
                    out.append((hole_high + 1, b))
            parts = out
        return cls(tuple(parts))

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, int) and not isinstance(value, bool) and any(a <= value <= b for a, b in self.intervals)
        )

    @property
    def empty(self) -> bool:
        return not self.intervals

    def at_least(self, value: int) -> int | None:
        """The smallest member >= value."""
        for a, b in self.intervals:
            if value <= b:
                return max(a, value)
        return None

    def at_most(self, value: int) -> int | None:
        """The largest member <= value."""
        for a, b in reversed(self.intervals):
            if value >= a:
                return min(b, value)
        return None

    def outside(self) -> list[int]:
        """Integers just outside the domain (below, above, and the first of each hole), for mutations."""
        if not self.intervals:
            return []
        gaps = [b + 1 for (_, b), (a, _) in zip(self.intervals, self.intervals[1:]) if b + 1 < a]
        return [self.intervals[0][0] - 1, self.intervals[-1][1] + 1, *gaps]


@dataclass(eq=False)
class Scalar:
    """One scalar position: its schema, the overlay value rules on it, and what it may hold."""

    kind: str  # "string" | "integer" | "number" | "boolean" | "null" | "any"
    schema: Mapping[str, Any]
    rules: tuple[Constraint, ...] = ()
    pointer: str = ""
    charset: str = "text"  # "header": visible ASCII only (HTTP header values)
    _strategy: Any = field(default=None, repr=False)
    _checks: tuple[Callable[[Any], bool], ...] | None = field(default=None, repr=False)
    _packed: Any = field(default=None, repr=False)

    # -- what the position accepts ----------------------------------------------

    @property
    def format(self) -> str | None:
        return self.schema.get("format")

    @property
    def enum(self) -> list[Any] | None:
        enum = self.schema.get("enum")
        return [v for v in enum if _json_type_ok(self.kind, v)] if isinstance(enum, list) else None

    def checks(self) -> tuple[Callable[[Any], bool], ...]:
        if self._checks is None:
            self._checks = (*_schema_checks(self.kind, self.schema), *(_rule_check(rule) for rule in self.rules))
        return self._checks

    def accepts(self, value: Any) -> bool:
        """True when `value` satisfies the schema (strictly: documented enum values only) and every rule."""
        return all(check(value) for check in self.checks())

    def accepts_schema(self, value: Any) -> bool:
        """True when `value` satisfies the schema alone (overlay rules ignored)."""
        return all(check(value) for check in _schema_checks(self.kind, self.schema))

    def domain(self) -> IntegerDomain:
        """Integers this position accepts (integer positions only)."""
        low, high = fmt.INTEGER_BOUNDS.get(self.format or "", fmt.INT64_RANGE)
        low, high = _bounds(self.schema, low, high)
        holes: list[Sequence[int]] = []
        for rule in self.rules:
            if rule.kind == "range" and rule.value.get("parse") is None:
                low = max(low, math.ceil(rule.value.get("min", low)))
                high = min(high, math.floor(rule.value.get("max", high)))
                holes.extend(rule.value.get("except", ()))
            elif rule.kind == "allowed_values":
                return IntegerDomain(tuple((v, v) for v in sorted(_ints(rule.value["values"])) if low <= v <= high))
            elif rule.kind == "forbidden_values":
                holes.extend((v, v) for v in _ints(rule.value["values"]))
        return IntegerDomain.of(low, high, holes)

    # -- drawing ------------------------------------------------------------------

    def strategy(self):
        """A strategy for values this position accepts (built once)."""
        if self._strategy is None:
            self._strategy = self._build()
        return self._strategy

    def packed(self):
        """How this position is read from an object's record bytes (`records.Packed`, built once)."""
        if self._packed is None:
            from .records import packed  # records builds on this module

            self._packed = packed(self)
        return self._packed

    def choices(self) -> list[Any] | None:
        """The finite set of acceptable values, when the schema or a rule lists them."""
        listed = self.enum
        for rule in self.rules:
            if rule.kind == "allowed_values":
                allowed = list(rule.value["values"])
                listed = allowed if listed is None else [v for v in listed if v in allowed or _folded_in(v, allowed)]
        if listed is None:
            return None
        return [v for v in listed if self.accepts(v)]

    def _build(self):
        from hypothesis import strategies as st

        choices = self.choices()
        if choices is not None:
            return st.sampled_from(choices) if choices else st.nothing()
        if self.kind == "boolean":
            return st.booleans()
        if self.kind == "null":
            return st.none()
        if self.kind == "integer":
            return _integers(self.domain())
        if self.kind == "number":
            low, high = _bounds(self.schema, None, None)
            return st.floats(
                low,
                high,
                allow_nan=False,
                allow_infinity=False,
                exclude_min=low is not None and self.schema.get("exclusiveMinimum") is True,
                exclude_max=high is not None and self.schema.get("exclusiveMaximum") is True,
            ).filter(self.accepts)
        if self.kind == "any":
            return st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=8))
        base, exact = self._string_base()
        return base if exact else base.filter(self.accepts)

    def _string_base(self):
        """(strategy, exact): the cheapest generator that (almost) always satisfies this string position."""
        from hypothesis import strategies as st

        low, high = self._length_bounds()
        if high is not None and high < low:
            return st.nothing(), True
        kinds = {rule.kind for rule in self.rules}
        patterns = [r for r in self.rules if r.kind == "pattern"]
        port_rules = [r for r in self.rules if r.kind == "range" and r.value.get("parse") == "port-range"]
        durations = [r for r in self.rules if r.kind == "duration_range"]
        name = self.format
        plain = not self.schema.get("pattern") and kinds <= {"length"}
        if port_rules:
            return port_ranges(port_rules), False
        if name == "duration" or durations:
            lengths = low == 0 and high is None and not kinds - {"duration_range"}
            return duration_texts(*_duration_bounds(durations)), lengths and not self.schema.get("pattern")
        if patterns:
            return _pattern_text(patterns[0], name, low, high, self.charset), False
        if name in FORMAT_TEXT:
            return FORMAT_TEXT[name](), plain and not kinds and low == 0 and high is None
        if self.schema.get("pattern"):
            return st.from_regex(self.schema["pattern"]), False
        top = high if high is not None else low + DEFAULT_TEXT_MAX
        if self.charset == "header":
            return st.text(_HEADER_TEXT, min_size=low, max_size=top), plain
        return st.text(min_size=low, max_size=top), plain

    def _length_bounds(self) -> tuple[int, int | None]:
        low, high = self.schema.get("minLength", 0), self.schema.get("maxLength")
        for rule in self.rules:
            if rule.kind == "length":
                low = max(low, rule.value.get("min", 0))
                if "max" in rule.value:
                    high = rule.value["max"] if high is None else min(high, rule.value["max"])
        return low, high


def _ints(values: Sequence[Any]) -> list[int]:
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _folded_in(value: Any, allowed: Sequence[Any]) -> bool:
    return isinstance(value, str) and value.casefold() in {a.casefold() for a in allowed if isinstance(a, str)}


def _json_type_ok(kind: str, value: Any) -> bool:
    if kind == "any":
        return True
    return _TYPE_CHECKS[kind](value)


_TYPE_CHECKS: Mapping[str, Callable[[Any], bool]] = MappingProxyType(
    {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "any": lambda v: True,
    }
)


def _bounds(schema: Mapping[str, Any], low, high):
    """Schema minimum/maximum folded into (low, high); exclusive integer bounds become inclusive."""
    if "minimum" in schema:
        bound = schema["minimum"]
        if schema.get("exclusiveMinimum") is True and isinstance(low, int) and isinstance(bound, int):
            bound += 1
        low = bound if low is None else max(low, bound)
    if "maximum" in schema:
        bound = schema["maximum"]
        if schema.get("exclusiveMaximum") is True and isinstance(high, int) and isinstance(bound, int):
            bound -= 1
        high = bound if high is None else min(high, bound)
    if isinstance(low, float) and isinstance(high, int):
        low = math.ceil(low)
    return low, high


def _schema_checks(kind: str, schema: Mapping[str, Any]) -> tuple[Callable[[Any], bool], ...]:
    """Predicates for the schema keywords the strict validators apply to a scalar."""
    checks: list[Callable[[Any], bool]] = [_TYPE_CHECKS[kind]]
    enum = schema.get("enum")
    if isinstance(enum, list):
        checks.append(
            lambda v, enum=enum: any(v == e and type(v) is type(e) for e in enum) or (v is None and None in enum)
        )
    name = schema.get("format")
    predicate = fmt.FORMATS.get(name) if name else None
    if predicate is not None:
        checks.append(predicate)
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None:
        exclusive = schema.get("exclusiveMinimum") is True
        checks.append(lambda v, b=low, x=exclusive: not _is_number(v) or (v > b if x else v >= b))
    if high is not None:
        exclusive = schema.get("exclusiveMaximum") is True
        checks.append(lambda v, b=high, x=exclusive: not _is_number(v) or (v < b if x else v <= b))
    if "multipleOf" in schema:
        checks.append(lambda v, m=schema["multipleOf"]: not _is_number(v) or (v / m) == int(v / m))
    if "minLength" in schema:
        checks.append(lambda v, n=schema["minLength"]: not isinstance(v, str) or len(v) >= n)
    if "maxLength" in schema:
        checks.append(lambda v, n=schema["maxLength"]: not isinstance(v, str) or len(v) <= n)
    if "pattern" in schema:
        regex = re.compile(schema["pattern"])
        checks.append(lambda v, r=regex: not isinstance(v, str) or r.search(v) is not None)
    return tuple(checks)


def _rule_check(rule: Constraint) -> Callable[[Any], bool]:
    return lambda value: next(iter(value_problems(rule, value)), None) is None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# base generators (one or two choices each)


def _integers(domain: IntegerDomain):
    from hypothesis import strategies as st

    if domain.empty:
        return st.nothing()
    parts = [st.integers(a, b) for a, b in domain.intervals]
    return parts[0] if len(parts) == 1 else st.one_of(parts)


def iso_date_time(ticks: int, zone: str) -> str:
    """ISO 8601 text for `ticks` (100 ns units since 1970), as Batch writes body dates."""
    moment = EPOCH + timedelta(microseconds=ticks // 10)
    fraction = ticks % 10_000_000
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:07d}".rstrip("0")
    return text + zone


def rfc1123_date(seconds: int) -> str:
    """IMF-fixdate (`Fri, 31 Jan 2025 12:00:00 GMT`) for `seconds` since 1970."""
    return email.utils.format_datetime(EPOCH + timedelta(seconds=seconds), usegmt=True)


def duration_text(milliseconds: int, style: int) -> str:
    """ISO 8601 duration text for `milliseconds`, in one of four equivalent spellings (PT#S, PT#H#M#S, P#DT…, P#D)."""
    seconds, millis = divmod(milliseconds, 1000)
    fraction = f".{millis:03d}".rstrip("0") if millis else ""
    if style == 0:
        return f"PT{seconds}{fraction}S"
    days, rest = divmod(seconds, 86400) if style >= 2 else (0, seconds)
    if style == 3 and days and not rest and not fraction:
        return f"P{days}D"
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n)
    if secs or fraction:
        time += f"{secs}{fraction}S"
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return text if text != "P" else "PT0S"


def duration_texts(low_ms: int, high_ms: int):
    from hypothesis import strategies as st

    return st.builds(duration_text, st.integers(low_ms, high_ms), st.integers(0, 3))


def _duration_bounds(rules: Sequence[Constraint]) -> tuple[int, int]:
    low, high = 0, TIMESPAN_MAX_SECONDS * 1000
    for rule in rules:
        if "min" in rule.value:
            low = max(low, math.ceil(duration_seconds(rule.value["min"]) * 1000))
        if "max" in rule.value:
            high = min(high, math.floor(duration_seconds(rule.value["max"]) * 1000))
    return low, high


def port_range_text(low: int, width: int, star: bool) -> str:
    return "*" if star else (str(low) if width == 0 else f"{low}-{low + width}")


def port_ranges(rules: Sequence[Constraint]):
    """Port-range text (`22`, `100-200`, `*`) inside every rule's bounds (`parse: port-range`)."""
    from hypothesis import strategies as st

    low = max(r.value.get("min", 0) for r in rules)
    high = min(r.value.get("max", 65535) for r in rules)
    star = low <= 0 and high >= 65535
    starts = st.integers(low, high)
    return st.builds(
        lambda a, width, pick_star: port_range_text(a, min(width, high - a), pick_star and star),
        starts,
        st.integers(0, 64),
        st.booleans() if star else st.just(False),
    )


_URL_HOSTS = ("account.blob.core.windows.net", "example.com", "127.0.0.1:10000", "xn--bcher-kva.example")
_URL_TEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%=&?"
_HEADER_TEXT = "".join(chr(c) for c in range(0x21, 0x7F))  # visible ASCII: no spaces to trim, no controls


def _uri():
    from hypothesis import strategies as st

    return st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}/{rest}",
        st.sampled_from(("https", "http")),
        st.sampled_from(_URL_HOSTS),
        st.text(_URL_TEXT, max_size=16),
    )


def _date_time():
    from hypothesis import strategies as st

    return st.builds(iso_date_time, st.integers(0, (LAST_SECOND + 1) * 10_000_000 - 1), st.sampled_from(_ZONES))


def _rfc1123():
    from hypothesis import strategies as st

    return st.integers(0, LAST_SECOND).map(rfc1123_date)


def _uuid():
    from hypothesis import strategies as st

    return st.uuids().map(str)


def _byte():
    from hypothesis import strategies as st

    return st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode("ascii"))


def _integer_text(bounds: tuple[int, int]):
    from hypothesis import strategies as st

    return lambda: st.integers(*bounds).map(str)


FORMAT_TEXT: Mapping[str, Callable[[], Any]] = MappingProxyType(
    {
        "date-time": _date_time,
        "date-time-rfc1123": _rfc1123,
        "date-time-rfc7231": _rfc1123,
        "uuid": _uuid,
        "byte": _byte,
        "uri": _uri,
        "int32": _integer_text(fmt.INT32_RANGE),
        "int64": _integer_text(fmt.INT64_RANGE),
    }
)


# ---------------------------------------------------------------------------
# patterns


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _pattern_text(rule: Constraint, format_name: str | None, low: int, high: int | None, charset: str = "text"):
    """Text for an overlay `pattern` (full match): a plain character-class run when it is one, else `from_regex`."""
    from hypothesis import strategies as st

    regex, ignore_case = rule.value["regex"], bool(rule.value.get("ignore_case"))
    run = char_class_run(regex)
    if run is not None:
        chars, min_run = run
        if ignore_case:
            chars = "".join(sorted(set(chars + chars.lower() + chars.upper())))
        top = high if high is not None else max(low, min_run) + DEFAULT_TEXT_MAX
        return st.text(chars, min_size=max(low, min_run), max_size=top)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    compiled = re.compile(regex, flags)
    if format_name == "uri":
        text = st.from_regex(compiled, fullmatch=True, alphabet=st.characters(**_NO_SPACE))
        if _SCHEME.match(_literal_prefix(regex)) is None:  # the pattern does not start with a scheme: lend one
            return text.map(lambda t: "https://account.blob.core.windows.net/" + t)
        return text
    if charset == "header":
        return st.from_regex(compiled, fullmatch=True, alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E))
    return st.from_regex(compiled, fullmatch=True)


def _literal_prefix(regex: str) -> str:
    out = []
    for ch in regex:
        if ch.isalnum() or ch in ":/-":
            out.append(ch)
        else:
            break
    return "".join(out)


_CLASS_RUN = re.compile(r"\[((?:[^\]\\]|\\.)+)\]([+*])")


def char_class_run(regex: str) -> tuple[str, int] | None:
    """(characters, minimum run) for a regex that is one bracketed class repeated (`[A-Za-z0-9_-]+`), else None."""
    m = _CLASS_RUN.fullmatch(regex)
    if m is None or m.group(1).startswith("^"):
        return None
    body, chars, i = m.group(1), [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            if i + 1 >= len(body) or body[i + 1].isalnum():  # \d, \w … : not a plain set of characters
                return None
            ch, i = body[i + 1], i + 1
        if i + 2 < len(body) and body[i + 1] == "-" and body[i + 2] != "\\":
            chars.extend(chr(c) for c in range(ord(ch), ord(body[i + 2]) + 1))
            i += 3
            continue
        chars.append(ch)
        i += 1
    if len(chars) > 512:
        return None
    return "".join(dict.fromkeys(chars)), 1 if m.group(2) == "+" else 0
