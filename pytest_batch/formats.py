"""The string and number formats Batch specs use, as plain predicates.

Swagger's formats are not JSON Schema's: Batch adds `duration`,
`date-time-rfc1123`/`date-time-rfc7231`, `int32`/`int64` and `byte`. Each is a
pure predicate here; `format_checker()` wraps them in a fresh jsonschema
`FormatChecker` instance (never the global registry) and the fast validator
calls the same predicates, so both paths agree on every value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

INT32_RANGE = (-(2**31), 2**31 - 1)
INT64_RANGE = (-(2**63), 2**63 - 1)

# Month lengths and leap years are in the regex: a date-time must be a real date.
_DATE_TIME = re.compile(
    r"(?:\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))"
    r"|(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)"
    r"[Tt ](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)"
)
# RFC 1123 / RFC 7231 IMF-fixdate, as in `ocp-date` and `Last-Modified`.
_RFC1123 = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?:0?[1-9]|[12]\d|3[01]) "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60) (?:GMT|UTC)"
)
_NUM = r"\d+(?:[.,]\d+)?"
# ISO 8601 duration: at least one component; a T must be followed by a time component.
_DURATION = re.compile(
    rf"-?P(?!$)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*")
_INTEGER_TEXT = re.compile(r"[+-]?\d+")


def is_date_time(value: object) -> bool:
    """ISO 8601 / RFC 3339 timestamp with an offset, as Batch writes body dates."""
    return not isinstance(value, str) or _DATE_TIME.fullmatch(value) is not None


def is_rfc1123(value: object) -> bool:
    """HTTP date (`Fri, 17 Feb 2017 00:00:00 GMT`)."""
    return not isinstance(value, str) or _RFC1123.fullmatch(value) is not None


def is_duration(value: object) -> bool:
    """ISO 8601 duration (`PT1H`, `P10675199DT2H48M5.4775807S`)."""
    return not isinstance(value, str) or _DURATION.fullmatch(value) is not None


def is_uuid(value: object) -> bool:
    """A GUID without decoration (no braces)."""
    return not isinstance(value, str) or _UUID.fullmatch(value) is not None


def is_byte(value: object) -> bool:
    """Standard padded base64."""
    return not isinstance(value, str) or _BASE64.fullmatch(value) is not None


def is_uri(value: object) -> bool:
    """An absolute URI: a scheme and no whitespace."""
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


def _integer_in(bounds: tuple[int, int]) -> Callable[[object], bool]:
    low, high = bounds

    def check(value: object) -> bool:
        if isinstance(value, bool):
            return True
        if isinstance(value, int):
            return low <= value <= high
        if isinstance(value, str):  # headers such as Content-Length carry int64 as text
            # a length guard first: int() refuses (ValueError) texts of thousands of digits
            return len(value) <= 21 and _INTEGER_TEXT.fullmatch(value) is not None and low <= int(value) <= high
        return True

    return check


is_int32 = _integer_in(INT32_RANGE)
is_int64 = _integer_in(INT64_RANGE)

# Name -> predicate. Formats not listed (double, float, password, arm-id, …) are
# annotations only: every value of the right type is accepted.
FORMATS: Mapping[str, Callable[[object], bool]] = MappingProxyType(
    {
        "date-time": is_date_time,
        "date-time-rfc1123": is_rfc1123,
        "date-time-rfc7231": is_rfc1123,
        "duration": is_duration,
        "uuid": is_uuid,
        "byte": is_byte,
        "uri": is_uri,
        "int32": is_int32,
        "int64": is_int64,
    }
)

# Formats that bound integers; the fast validator expresses them as minimum/maximum.
INTEGER_BOUNDS: Mapping[str, tuple[int, int]] = MappingProxyType({"int32": INT32_RANGE, "int64": INT64_RANGE})

EXPECTED: Mapping[str, str] = MappingProxyType(
    {
        "date-time": "an ISO 8601 date-time such as 2025-01-31T12:00:00Z",
        "date-time-rfc1123": "an RFC 1123 date such as Fri, 31 Jan 2025 12:00:00 GMT",
        "date-time-rfc7231": "an RFC 7231 date such as Fri, 31 Jan 2025 12:00:00 GMT",
        "duration": "an ISO 8601 duration such as PT1H",
        "uuid": "a GUID such as 9c4d50ee-2d56-4cd3-8152-34347dc9f2b0",
        "byte": "base64 text",
        "uri": "an absolute URI",
        "int32": f"an integer in {INT32_RANGE[0]}..{INT32_RANGE[1]}",
        "int64": f"an integer in {INT64_RANGE[0]}..{INT64_RANGE[1]}",
    }
)


def check_format(name: str | None, value: object) -> bool:
    """True when `value` satisfies format `name` (unknown formats accept everything)."""
    predicate = FORMATS.get(name) if name else None
    return predicate is None or predicate(value)


def format_checker():
    """A new jsonschema FormatChecker holding exactly the Batch formats (no global registry)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(())
    for name, predicate in FORMATS.items():
        checker.checks(name)(predicate)
    return checker
