"""Candidate values for breaking one thing: a schema keyword, an overlay value rule.

Each list is ordered from the most telling to the most generic; `mutations`
keeps those that break the label and nothing else the position knows, and the
engine confirms the survivor.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from .. import formats as fmt
from ..constraints import Constraint, duration_seconds
from .nodes import Array, Obj, resolved
from .scalars import Scalar, duration_text

BAD_FORMAT = MappingProxyType(
    {
        "date-time": (
            "not a date",
            "2025-01-31",
            "2025-01-31T12:00:00",
            "2025-13-01T00:00:00Z",
            "Fri, 31 Jan 2025 12:00:00 GMT",
        ),
        "date-time-rfc1123": ("not a date", "2025-01-31T12:00:00Z", "31 Jan 2025 12:00:00 GMT"),
        "date-time-rfc7231": ("not a date", "2025-01-31T12:00:00Z", "Fri, 31 Jan 2025 25:00:00 GMT"),
        "duration": ("1 hour", "P", "PT", "01:00:00", "PT1X"),
        "uuid": ("not-a-uuid", "{9c4d50ee-2d56-4cd3-8152-34347dc9f2b0}", "9c4d50ee-2d56-4cd3-8152"),
        "byte": ("not base64!", "abc"),
        "uri": ("not a uri", "/relative/path", "https://has space.example"),
        "int32": ("abc", "2147483648", "1.5"),
        "int64": ("abc", "9223372036854775808", "1.5"),
    }
)


def keyword_candidates(node: Scalar, keyword: str) -> list[Any]:
    schema = node.schema
    if keyword == "format":
        name = node.format
        if (
            node.kind == "integer"
            and name in fmt.INTEGER_BOUNDS
            and "minimum" not in schema
            and "maximum" not in schema
        ):
            low, high = fmt.INTEGER_BOUNDS[name]
            return [high + 1, low - 1]
        if node.kind == "string" and name in BAD_FORMAT and "enum" not in schema:
            return list(BAD_FORMAT[name])
        return []
    if keyword == "enum":
        if isinstance(schema.get("enum"), list) and not schema.get("x-enum-open") and node.kind == "string":
            return ["not-a-documented-value"]
        return []
    if keyword in ("minimum", "maximum") and keyword in schema and node.kind in ("integer", "number"):
        bound = schema[keyword]
        exclusive = schema.get("exclusive" + keyword.capitalize()) is True
        step = 0 if exclusive else (1 if node.kind == "integer" else 0.5)
        return [bound - step if keyword == "minimum" else bound + step]
    if keyword == "minLength" and schema.get("minLength", 0) > 0 and node.kind == "string":
        return ["a" * (schema["minLength"] - 1)]
    if keyword == "maxLength" and "maxLength" in schema and node.kind == "string":
        return ["a" * (schema["maxLength"] + 1)]
    if keyword == "pattern" and "pattern" in schema and node.kind == "string":
        return ["", " ", "!", "\x00"]
    return []


def wrong_types(node: Any) -> Iterator[Any]:
    node = resolved(node)
    kind = "object" if isinstance(node, Obj) else "array" if isinstance(node, Array) else node.kind
    yield from {
        "string": (12345, True, []),
        "integer": ("12", 1.5, []),
        "number": ("1.5", True, []),
        "boolean": ("true", 0, []),
        "object": ([], "object"),
        "array": ({}, "array"),
    }.get(kind, ())


def rule_candidates(scalar: Scalar, rule: Constraint, current: Any) -> list[Any]:
    """Values that may break `rule` at this position (the caller keeps those that break nothing else)."""
    v, kind = rule.value, rule.kind
    text = current if isinstance(current, str) else ""
    if kind == "length":
        out = []
        if "max" in v:
            seed = text or "a"
            out.append((seed * (v["max"] // len(seed) + 2))[: v["max"] + 1])
            out.append("a" * (v["max"] + 1))
        if v.get("min", 0) > 0:
            out.append(text[: v["min"] - 1])
        return out
    if kind == "pattern":
        base = text or "a"
        out = [f"bad value {base}!", "!" + base, "_" + base, base + ".", base + "-", "-" + base, "", " ", ".."]
        out += ["../x", "x/../y", "https://example.com/", "https://example.com/x?sv=1", "not-an-id", "/subscriptions/x"]
        if "?" in base:
            out.insert(0, base.split("?", 1)[0])
        return out
    if kind == "range":
        if v.get("parse") == "port-range":
            low, high = v.get("min", 0), v.get("max", 65535)
            return [f"{low}-{high + 1}", str(high + 1), f"{max(low - 1, 0)}-{low}" if low > 0 else "70000"]
        if scalar.kind == "integer":
            out = []
            if "min" in v:
                out.append(int(v["min"]) - 1)
            if "max" in v:
                out.append(int(v["max"]) + 1)
            out += [lo for lo, _ in v.get("except", ())]
            return out
        if scalar.kind == "number":
            return [v["min"] - 0.5] if "min" in v else [] + ([v["max"] + 0.5] if "max" in v else [])
        return []
    if kind == "duration_range":
        out = []
        if "min" in v:
            seconds = duration_seconds(v["min"])
            if seconds and seconds >= 1:
                out.append(duration_text(int(seconds * 1000) - 1000, 0))
            out.append("PT0S")
        if "max" in v:
            out.append(duration_text(int(duration_seconds(v["max"]) * 1000) + 1000, 2))
        return out
    if kind == "allowed_values":
        return [*(scalar.enum or []), "not-allowed", 0]
    if kind == "forbidden_values":
        return list(v["values"])
    return []


def array_keyword(node: Array, keyword: str) -> bool:
    if keyword == "minItems":
        return node.schema_min > 0
    if keyword == "maxItems":
        return node.schema_max is not None and node.schema_max < 150
    return node.unique
