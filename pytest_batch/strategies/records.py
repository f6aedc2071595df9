"""Scalars read from a slice of an object's record bytes (see `generate` for why records).

Hypothesis charges per choice and per byte, so an object draws one `binary`
record holding its optional-property mask and every scalar it can hold, each
at a fixed offset. All-zero bytes decode to the simplest value (0 or the bound
nearest it, "", the first enum value, 1970-01-01), so shrinking the record
towards zeros shrinks every value too. A reader that is not exact for its
position returns MISS when the value does not satisfy it (or the caller's
check refuses it); the caller then draws from `Scalar.strategy()` instead.
"""

from __future__ import annotations

import base64
import math
import re
import struct
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .. import formats as fmt
from ..constraints import Constraint
from .regex import WIDTH as REGEX_WIDTH
from .regex import always_matches, compile_reader
from .scalars import (
    _HEADER_TEXT,
    _SCHEME,
    _URL_HOSTS,
    _URL_TEXT,
    _ZONES,
    LAST_SECOND,
    IntegerDomain,
    Scalar,
    _bounds,
    _duration_bounds,
    _literal_prefix,
    char_class_run,
    duration_text,
    iso_date_time,
    port_range_text,
    rfc1123_date,
)

MISS: Any = object()
TEXT_SLOTS = 8  # characters a plain string reads from its record (longer strings repeat them)
RAW = 4  # bytes of a raw number in a record (scaled onto wider ranges)

_TEXT_TABLE = (
    "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "0123456789"
    " -_.~!@#$%^&*()+=[]{}|;:',<>/?`\"\\"
    "éßñøΩЖжд中文日本한국עבשع€£¥©°±µ¼😀🚀🧪\u00a0\u200b\u202e\ufeff\t\n\r\x7f"
)
_FILLER = "abcdefghijklmnopqrstuvwxyz0123456789"
_TEXT = "".join(_TEXT_TABLE[i] if i < len(_TEXT_TABLE) else _FILLER[i % len(_FILLER)] for i in range(256))
_URL_CHARS = (_URL_TEXT * 4)[:256]
_URL_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%="


@dataclass(frozen=True, slots=True)
class Packed:
    """`width` record bytes → a value via `read(buf, pos)`; `exact` when every read value is acceptable."""

    width: int
    read: Callable[[bytes, int], Any] | None
    exact: bool


def _u(buf: bytes, pos: int, n: int) -> int:
    return int.from_bytes(buf[pos : pos + n], "little")


def _zigzag(k: int) -> int:
    """0, 1, -1, 2, -2, …: small offsets that shrink towards 0."""
    return (k + 1) // 2 if k % 2 else -(k // 2)


def _scaled(raw: int, size: int) -> int:
    """`raw` (RAW bytes) spread over 0..size-1: exact for small sizes, evenly spaced for huge ones."""
    return raw % size if size <= 1 << 24 else (raw * size) >> (8 * RAW)


def read_integer(domain: IntegerDomain, buf: bytes, pos: int) -> Any:
    """1 + RAW bytes: a mode (near the simplest member / lowest / highest / anywhere), then a value."""
    if domain.empty:
        return MISS
    mode, raw = buf[pos] % 8, _u(buf, pos + 1, RAW)
    low, high = domain.intervals[0][0], domain.intervals[-1][1]
    if mode == 4:
        return low
    if mode == 5:
        return high
    if mode >= 6:
        index = _scaled(raw, sum(b - a + 1 for a, b in domain.intervals))
        for a, b in domain.intervals:
            if index <= b - a:
                return a + index
            index -= b - a + 1
    above, below = domain.at_least(0), domain.at_most(0)
    simplest = above if below is None or (above is not None and above <= -below) else below
    wanted = simplest + _zigzag(raw % 512)
    found = domain.at_least(wanted) if wanted >= simplest else domain.at_most(wanted)
    return found if found is not None else simplest


def packed(scalar: Scalar) -> Packed:
    """How `scalar` is read from a record."""
    choices = scalar.choices()
    if choices is not None:
        if not choices:
            return Packed(0, None, False)
        width = 1 if len(choices) <= 256 else 2
        return Packed(width, lambda buf, pos: choices[_u(buf, pos, width) % len(choices)], True)
    kind = scalar.kind
    if kind == "boolean":
        return Packed(1, lambda buf, pos: bool(buf[pos] & 1), True)
    if kind == "null":
        return Packed(0, lambda buf, pos: None, True)
    if kind == "integer":
        domain = scalar.domain()
        return Packed(1 + RAW, lambda buf, pos: read_integer(domain, buf, pos), True)
    if kind == "number":
        return Packed(1 + RAW, _number_reader(scalar), False)
    if kind == "any":
        return Packed(2, _read_any, True)
    return _string_packed(scalar)


def _number_reader(scalar: Scalar) -> Callable[[bytes, int], Any]:
    low, high = _bounds(scalar.schema, None, None)

    def read(buf: bytes, pos: int) -> Any:
        mode, raw = buf[pos] % 8, _u(buf, pos + 1, RAW)
        if mode < 4:
            value = _zigzag(raw % 512) / (1, 2, 4, 10)[mode]
        elif mode == 4:
            value = low if low is not None else -1e9
        elif mode == 5:
            value = high if high is not None else 1e9
        elif low is not None and high is not None:
            value = low + (high - low) * (raw / 2 ** (8 * RAW))
        else:
            value = struct.unpack("<f", bytes(buf[pos + 1 : pos + 1 + RAW]))[0]
            if not math.isfinite(value):
                return MISS
        if low is not None and value < low:
            value = low
        if high is not None and value > high:
            value = high
        return float(value)

    return read


def _read_any(buf: bytes, pos: int) -> Any:
    kind, raw = buf[pos] % 4, buf[pos + 1]
    return (None, bool(raw & 1), _zigzag(raw), _TEXT[raw % 26])[kind]


def _string_packed(scalar: Scalar) -> Packed:
    low, high = scalar._length_bounds()
    kinds = {rule.kind for rule in scalar.rules}
    name = scalar.format
    patterns = [r for r in scalar.rules if r.kind == "pattern"]
    ports = [r for r in scalar.rules if r.kind == "range" and r.value.get("parse") == "port-range"]
    durations = [r for r in scalar.rules if r.kind == "duration_range"]
    plain = not scalar.schema.get("pattern") and kinds <= {"length"}
    if high is not None and high < low:
        return Packed(0, None, False)
    if ports:
        return Packed(5, _port_reader(ports), False)
    if name == "duration" or durations:
        lo_ms, hi_ms = _duration_bounds(durations)
        exact = not scalar.schema.get("pattern") and not (kinds - {"duration_range"}) and low == 0 and high is None
        return Packed(2 + RAW, lambda buf, pos: _read_duration(lo_ms, hi_ms, buf, pos), exact)
    if patterns or scalar.schema.get("pattern"):
        regex = patterns[0].value["regex"] if patterns else scalar.schema["pattern"]
        ignore_case = bool(patterns and patterns[0].value.get("ignore_case"))
        # exact (no check after reading) when this one pattern, and lengths the reader honours, is all there is
        alone = len(patterns) + bool(scalar.schema.get("pattern")) == 1 and kinds <= {"pattern", "length"}
        run = char_class_run(regex)
        if run is not None and not ignore_case and name is None:
            chars, min_run = run
            return Packed(1 + TEXT_SLOTS, _text_reader(chars, max(low, min_run), high), alone)
        flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
        alphabet = _URL_SAFE if name == "uri" else _HEADER_TEXT if scalar.charset == "header" else _TEXT
        reader = compile_reader(regex, flags, alphabet)
        if reader is None:
            return Packed(0, None, False)
        if name == "uri" and _SCHEME.match(_literal_prefix(regex)) is None:
            return Packed(
                REGEX_WIDTH, lambda buf, pos: "https://account.blob.core.windows.net/" + reader(buf, pos), False
            )
        exact = alone and name is None and low == 0 and high is None and always_matches(regex, flags)
        return Packed(REGEX_WIDTH, reader, exact)
    if name in _FORMAT_READERS:
        width, read = _FORMAT_READERS[name]
        return Packed(width, read, plain and not kinds and low == 0 and high is None)
    alphabet = _HEADER_TEXT if scalar.charset == "header" else _TEXT
    return Packed(1 + TEXT_SLOTS, _text_reader(alphabet, low, high), plain)


def _text_reader(alphabet: str, low: int, high: int | None) -> Callable[[bytes, int], str]:
    cap = low + TEXT_SLOTS if high is None else min(high, low + TEXT_SLOTS)
    span = cap - low + 1
    size = len(alphabet)

    def read(buf: bytes, pos: int) -> str:
        first = buf[pos]
        length = high if first == 255 and high is not None else low + first % span
        chars = buf[pos + 1 : pos + 1 + TEXT_SLOTS]
        if length <= TEXT_SLOTS:
            return "".join([alphabet[c % size] for c in chars[:length]])
        return "".join([alphabet[chars[i % TEXT_SLOTS] % size] for i in range(length)])

    return read


def _read_duration(low: int, high: int, buf: bytes, pos: int) -> str:
    mode, raw, style = buf[pos] % 8, _u(buf, pos + 1, RAW), buf[pos + 1 + RAW] % 4
    if mode == 4:
        ms = low
    elif mode == 5:
        ms = high
    elif mode >= 6:
        ms = low + _scaled(raw, high - low + 1)
    else:  # near the lower bound, in whole seconds, minutes or hours
        ms = min(high, low + (raw % 600) * (1000, 60_000, 3_600_000, 1)[mode])
    return duration_text(ms, style)


def _port_reader(rules: Sequence[Constraint]) -> Callable[[bytes, int], str]:
    low = max(r.value.get("min", 0) for r in rules)
    high = min(r.value.get("max", 65535) for r in rules)
    star = low <= 0 and high >= 65535

    def read(buf: bytes, pos: int) -> str:
        start = low + _u(buf, pos + 1, 3) % (high - low + 1)
        return port_range_text(start, min(buf[pos + 4] % 65, high - start), star and buf[pos] % 8 == 7)

    return read


def _read_date_time(buf: bytes, pos: int) -> str:
    seconds = _u(buf, pos + 1, 4) % (LAST_SECOND + 1)
    if buf[pos] % 4 == 0:  # near the epoch: shrinks to 1970-01-01T00:00:00Z
        seconds %= 86400
    fraction = (0, 5_000_000, 1_234_567, 10, 9_999_999)[buf[pos + 5] % 5] if buf[pos] & 4 else 0
    return iso_date_time(seconds * 10_000_000 + fraction, _ZONES[(buf[pos] >> 3) % len(_ZONES)])


def _read_rfc1123(buf: bytes, pos: int) -> str:
    return rfc1123_date(_u(buf, pos, 4) % (LAST_SECOND + 1))


def _read_uuid(buf: bytes, pos: int) -> str:
    half = bytes(buf[pos : pos + 8])
    return str(uuid.UUID(bytes=half + half[::-1]))


def _read_byte(buf: bytes, pos: int) -> str:
    n = buf[pos] % 9
    return base64.b64encode(bytes(buf[pos + 1 : pos + 1 + n])).decode("ascii")


_URI_PATH = 10


def _read_uri(buf: bytes, pos: int) -> str:
    scheme = ("https", "http")[buf[pos] & 1]
    host = _URL_HOSTS[buf[pos + 1] % len(_URL_HOSTS)]
    length = (buf[pos] >> 1) % (_URI_PATH + 1)
    path = "".join(_URL_CHARS[c] for c in buf[pos + 2 : pos + 2 + length])
    return f"{scheme}://{host}/{path}"


def _integer_text_reader(bounds: tuple[int, int]) -> Callable[[bytes, int], str]:
    domain = IntegerDomain.of(*bounds)
    return lambda buf, pos: str(read_integer(domain, buf, pos))


_FORMAT_READERS: Mapping[str, tuple[int, Callable[[bytes, int], Any]]] = MappingProxyType(
    {
        "date-time": (6, _read_date_time),
        "date-time-rfc1123": (4, _read_rfc1123),
        "date-time-rfc7231": (4, _read_rfc1123),
        "uuid": (8, _read_uuid),
        "byte": (9, _read_byte),
        "uri": (2 + _URI_PATH, _read_uri),
        "int32": (1 + RAW, _integer_text_reader(fmt.INT32_RANGE)),
        "int64": (1 + RAW, _integer_text_reader(fmt.INT64_RANGE)),
    }
)
