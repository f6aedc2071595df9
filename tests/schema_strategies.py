"""Hypothesis strategies for instances of pytest-batch bundle schemas, and labelled mutations.

A deliberately small strategy compiler for the JSON Schema subset the Batch
bundles use (hypothesis-jsonschema does not work with current Hypothesis):

* `valid_instance(spec, schema, flavor=...)` – instances that satisfy `schema`:
  `$ref` resolved against `spec.definitions` (Draft 4: `$ref` siblings are
  ignored), `allOf` merged, `anyOf`/`oneOf` one branch, exact documented enum
  values, type, minimum/maximum, min/maxLength, min/maxItems, `required` plus a
  random subset of the optional properties, formats via generators of valid
  text, int32/int64 ranges. readOnly properties are never generated for the
  "request" flavor. Recursion is bounded: deeper than `MAX_DEPTH`, objects get
  only their required properties and arrays/maps stay empty.
* `MUTATIONS` – label → function(spec, schema, instance, choose) that applies
  exactly one mutation and returns `Mutation(instance, pointer, keyword)` (the
  JSON pointer and the schema keyword an error must name) or None when the
  mutation does not apply to this instance. `choose(sequence)` picks one
  element; in a Hypothesis test pass `lambda xs: data.draw(st.sampled_from(xs))`.

Sizes are kept small on purpose so property tests stay fast.
"""

from __future__ import annotations

import base64
import copy
import email.utils
import math
import string
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence

from hypothesis import strategies as st

REQUEST = "request"
RESPONSE = "response"

MAX_DEPTH = 4  # deeper than this: required properties only, empty arrays and maps
MAX_ITEMS = 2  # array items / additionalProperties entries above MAX_DEPTH
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

# OData control information allowed in (odata=minimalmetadata) responses, at any level.
ODATA_KEYS = ("odata.metadata", "odata.type", "odata.etag", "odata.id")


# ---------------------------------------------------------------------------
# schema resolution


def ref_target(spec, ref: str) -> Mapping[str, Any]:
    prefix = "#/definitions/"
    if not ref.startswith(prefix):
        raise ValueError(f"unsupported $ref {ref!r}")
    name = ref[len(prefix):].replace("~1", "/").replace("~0", "~")
    return spec.definitions[name]


def resolve(spec, schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """The effective schema: `$ref` followed (siblings ignored, as in Draft 4), `allOf` merged."""
    while isinstance(schema.get("$ref"), str):
        schema = ref_target(spec, schema["$ref"])
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for member in schema["allOf"]:
        part = resolve(spec, member)
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**part["properties"], **merged.get("properties", {})}
            elif key == "required":
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            else:
                merged.setdefault(key, value)
    return merged


def is_read_only(schema: Mapping[str, Any]) -> bool:
    """readOnly as the bundle marks it: on the property schema itself (also beside `allOf`)."""
    return schema.get("readOnly") is True


def pointer(tokens: Sequence[Any]) -> str:
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


# ---------------------------------------------------------------------------
# scalar generators


_DATETIMES = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31))


def _iso_text(moment: datetime, fraction: str, zone: str) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + zone


def _duration_text(days: int | None, hours: int | None, minutes: int | None, seconds: str | None) -> str:
    text = "P" + (f"{days}D" if days is not None else "")
    time = "".join(
        f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if value is not None
    )
    if time:
        text += "T" + time
    return text if text != "P" else "PT1H"


FORMAT_STRATEGIES: Mapping[str, st.SearchStrategy[str]] = {
    # ISO 8601 / RFC 3339 as Batch writes body dates: 2025-01-31T12:00:00.1234567Z
    "date-time": st.builds(
        _iso_text,
        _DATETIMES,
        st.text(string.digits, max_size=7),
        st.sampled_from(["Z", "Z", "Z", "+00:00", "-08:00", "+05:30"]),
    ),
    # IMF-fixdate: Fri, 31 Jan 2025 12:00:00 GMT
    "date-time-rfc1123": _DATETIMES.map(lambda d: email.utils.format_datetime(d.replace(tzinfo=timezone.utc), usegmt=True)),
    "date-time-rfc7231": _DATETIMES.map(lambda d: email.utils.format_datetime(d.replace(tzinfo=timezone.utc), usegmt=True)),
    # PT1H, P2DT3H4M, PT0.5S, P10675199DT2H48M5.4775807S
    "duration": st.builds(
        _duration_text,
        st.none() | st.integers(0, 10675199),
        st.none() | st.integers(0, 23),
        st.none() | st.integers(0, 59),
        st.none() | st.from_regex(r"[0-5]?\d(\.\d{1,7})?", fullmatch=True),
    ),
    "uuid": st.uuids().map(str),
    "byte": st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode("ascii")),
    "uri": st.builds(
        "https://{}.blob.core.windows.net/{}".format,
        st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8),
        st.text(string.ascii_letters + string.digits + "-_./", max_size=12),
    ),
    # int32/int64 on *strings* (statistics counters in 2025-06-01): decimal text
    "int32": st.integers(*INT32).map(str),
    "int64": st.integers(*INT64).map(str),
}

_PLAIN_TEXT = st.text(max_size=8)
_KEYS = st.text(string.ascii_letters + string.digits + "-_.~/ ", min_size=1, max_size=6)
_SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | _PLAIN_TEXT


def string_strategy(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    fmt = schema.get("format")
    if fmt in FORMAT_STRATEGIES:
        return FORMAT_STRATEGIES[fmt]
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if "pattern" in schema:
        base = st.from_regex(schema["pattern"])
        return base.filter(lambda s: len(s) >= low and (high is None or len(s) <= high))
    return st.text(min_size=low, max_size=min(high, low + 8) if high is not None else low + 8)


def _bounds(schema: Mapping[str, Any], default: tuple[int | float, int | float]) -> tuple[Any, Any]:
    low, high = default
    if "minimum" in schema:
        low = max(low, schema["minimum"])
    if "maximum" in schema:
        high = min(high, schema["maximum"])
    return low, high


def integer_strategy(schema: Mapping[str, Any]) -> st.SearchStrategy[int]:
    low, high = _bounds(schema, INT32 if schema.get("format") == "int32" else INT64)
    if schema.get("exclusiveMinimum") is True:
        low += 1
    if schema.get("exclusiveMaximum") is True:
        high -= 1
    return st.integers(int(low), int(high))


def number_strategy(schema: Mapping[str, Any]) -> st.SearchStrategy[float | int]:
    low, high = _bounds(schema, (-1e12, 1e12))
    floats = st.floats(
        low, high, allow_nan=False, allow_infinity=False,
        exclude_min=schema.get("exclusiveMinimum") is True, exclude_max=schema.get("exclusiveMaximum") is True,
    )
    int_low = math.floor(low) + 1 if low == math.floor(low) and schema.get("exclusiveMinimum") is True else math.ceil(low)
    int_high = math.ceil(high) - 1 if high == math.ceil(high) and schema.get("exclusiveMaximum") is True else math.floor(high)
    return floats | st.integers(int_low, int_high) if int_low <= int_high else floats


# ---------------------------------------------------------------------------
# the compiler


class _Compiler:
    """Strategies for one (spec, flavor); built lazily and cached per (schema node, depth)."""

    def __init__(self, spec, flavor: str, odata_annotations: bool) -> None:
        self.spec = spec
        self.flavor = flavor
        self.odata = odata_annotations and flavor == RESPONSE
        self._cache: dict[tuple[int, int], tuple[Mapping[str, Any], st.SearchStrategy]] = {}

    def strategy(self, schema: Mapping[str, Any], depth: int) -> st.SearchStrategy:
        depth = min(depth, MAX_DEPTH + 1)
        key = (id(schema), depth)
        hit = self._cache.get(key)
        if hit is None:
            # keep `schema` alive next to its id so the key can never be reused
            hit = (schema, st.deferred(lambda: self._build(schema, depth)))
            self._cache[key] = hit
        return hit[1]

    def _build(self, schema: Mapping[str, Any], depth: int) -> st.SearchStrategy:
        s = resolve(self.spec, schema)
        if "enum" in s:
            return st.sampled_from(list(s["enum"]))  # exact documented values only
        for key in ("anyOf", "oneOf"):  # the bundles use these as nullable wrappers only
            if key in s:
                return st.one_of([self.strategy(branch, depth) for branch in s[key]])
        kind = s.get("type")
        if kind == "object" or "properties" in s:
            return self._object(s, depth)
        if kind == "array":
            return self._array(s, depth)
        if kind == "string":
            return string_strategy(s)
        if kind == "integer":
            return integer_strategy(s)
        if kind == "number":
            return number_strategy(s)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return _SCALARS  # untyped schema: anything goes; keep it small

    def _object(self, s: Mapping[str, Any], depth: int) -> st.SearchStrategy[dict]:
        props: Mapping[str, Any] = s.get("properties") or {}
        deep = depth >= MAX_DEPTH
        allowed = {
            name: sub for name, sub in props.items() if not (self.flavor == REQUEST and is_read_only(sub))
        }
        required_names = [n for n in s.get("required", []) if n in allowed]
        required = {n: self.strategy(allowed[n], depth + 1) for n in required_names}
        optional = {} if deep else {
            n: self.strategy(sub, depth + 1) for n, sub in allowed.items() if n not in required
        }
        fixed = st.fixed_dictionaries(required, optional=optional)
        extra = s.get("additionalProperties")
        if isinstance(extra, dict):
            entries = st.dictionaries(
                _KEYS.filter(lambda k: k not in props), self.strategy(extra, depth + 1), max_size=0 if deep else MAX_ITEMS
            )
        elif not props and extra is not False and s.get("type") == "object":
            entries = st.dictionaries(_KEYS, _SCALARS, max_size=0 if deep else MAX_ITEMS)  # free-form object
        elif self.odata and props and "additionalProperties" not in s:
            names = [k for k in ODATA_KEYS if k not in props]
            entries = st.dictionaries(st.sampled_from(names), _PLAIN_TEXT | st.integers(0, 9), max_size=1)
        else:
            return fixed
        return st.builds(lambda a, b: {**b, **a}, fixed, entries)

    def _array(self, s: Mapping[str, Any], depth: int) -> st.SearchStrategy[list]:
        low = s.get("minItems", 0)
        high = low if depth >= MAX_DEPTH else max(low, min(s.get("maxItems", MAX_ITEMS), MAX_ITEMS))
        items = s.get("items")
        element = self.strategy(items, depth + 1) if isinstance(items, dict) else _SCALARS
        return st.lists(element, min_size=low, max_size=high)


_COMPILERS: dict[tuple[int, str, bool], tuple[Any, _Compiler]] = {}


def valid_instance(spec, schema: Mapping[str, Any], *, flavor: str, odata_annotations: bool = False) -> st.SearchStrategy:
    """Instances that satisfy `schema` (as a request body, or as a response body when flavor is "response").

    With `odata_annotations=True` (response flavor only), objects may also carry
    `odata.*` control information, which minimalmetadata responses are allowed to hold.
    """
    if flavor not in (REQUEST, RESPONSE):
        raise ValueError(f"flavor must be {REQUEST!r} or {RESPONSE!r}")
    key = (id(spec), flavor, odata_annotations)
    hit = _COMPILERS.get(key)
    if hit is None:
        hit = _COMPILERS.setdefault(key, (spec, _Compiler(spec, flavor, odata_annotations)))
    return hit[1].strategy(schema, 0)


# ---------------------------------------------------------------------------
# walking an instance along its schema


def positions(spec, schema: Mapping[str, Any], instance: Any, tokens: tuple = ()) -> Iterator[tuple[tuple, Mapping[str, Any], Any]]:
    """(path tokens, effective schema, value) for every value of a *valid* instance that a
    documented schema governs. Nothing inside anyOf/oneOf wrappers (which branch would
    report is ambiguous), `odata.*` annotations or free-form objects is listed."""
    s = resolve(spec, schema)
    if "anyOf" in s or "oneOf" in s:
        return
    yield tokens, s, instance
    if isinstance(instance, dict):
        props = s.get("properties") or {}
        extra = s.get("additionalProperties")
        for key, value in instance.items():
            if key in props:
                yield from positions(spec, props[key], value, tokens + (key,))
            elif isinstance(extra, dict):
                yield from positions(spec, extra, value, tokens + (key,))
    elif isinstance(instance, list) and isinstance(s.get("items"), dict):
        for i, value in enumerate(instance):
            yield from positions(spec, s["items"], value, tokens + (i,))


def replaced(instance: Any, tokens: Sequence[Any], value: Any) -> Any:
    """A deep copy of `instance` with the value at `tokens` replaced (the root when empty)."""
    if not tokens:
        return value
    out = copy.deepcopy(instance)
    parent = out
    for token in tokens[:-1]:
        parent = parent[token]
    parent[tokens[-1]] = value
    return out


def removed(instance: Any, tokens: Sequence[Any]) -> Any:
    out = copy.deepcopy(instance)
    parent = out
    for token in tokens[:-1]:
        parent = parent[token]
    del parent[tokens[-1]]
    return out


# ---------------------------------------------------------------------------
# mutations


class Mutation(NamedTuple):
    instance: Any
    pointer: str  # JSON pointer of the value the finding must name
    keyword: str  # the schema keyword the finding's schema_pointer must end with


Choose = Callable[[Sequence[Any]], Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def wrong_type(spec, schema, instance, choose: Choose) -> Mutation | None:
    """Replace one typed value by a value of another JSON type."""
    candidates = [(t, s["type"]) for t, s, _ in positions(spec, schema, instance) if isinstance(s.get("type"), str)]
    if not candidates:
        return None
    kind = choose(sorted({kind for _, kind in candidates}))  # the type first: rare types get their turn
    tokens = choose([t for t, k in candidates if k == kind])
    wrong = 12345 if kind == "string" else "wrong-type"
    return Mutation(replaced(instance, tokens, wrong), pointer(tokens), "type")


def remove_required(spec, schema, instance, choose: Choose) -> Mutation | None:
    """Delete one required property from an object."""
    candidates = [
        (t, name)
        for t, s, v in positions(spec, schema, instance)
        if isinstance(v, dict)
        for name in s.get("required", [])
        if name in v
    ]
    if not candidates:
        return None
    tokens, name = choose(candidates)
    return Mutation(removed(instance, tokens + (name,)), pointer(tokens), "required")


def out_of_range(spec, schema, instance, choose: Choose, *, keywords=("minimum", "maximum", "format")) -> Mutation | None:
    """Push one number past its minimum/maximum, or an int32/int64 past its format's range
    (reported with keyword "format"). `keywords` restricts which kinds of bound are tried."""
    candidates = []
    for t, s, v in positions(spec, schema, instance):
        if not _is_number(v) or s.get("type") not in ("integer", "number"):
            continue
        if "maximum" in s:
            candidates.append((t, s["maximum"] + (0 if s.get("exclusiveMaximum") is True else 1), "maximum"))
        if "minimum" in s:
            candidates.append((t, s["minimum"] - (0 if s.get("exclusiveMinimum") is True else 1), "minimum"))
        bounds = {"int32": INT32, "int64": INT64}.get(s.get("format"))
        if bounds and s.get("type") == "integer":
            if "maximum" not in s:
                candidates.append((t, bounds[1] + 1, "format"))
            if "minimum" not in s:
                candidates.append((t, bounds[0] - 1, "format"))
    candidates = [c for c in candidates if c[2] in keywords]
    if not candidates:
        return None
    tokens, value, keyword = choose(candidates)
    return Mutation(replaced(instance, tokens, value), pointer(tokens), keyword)


# Text that is unambiguously NOT in the format (per the format's own definition).
BAD_FORMAT_VALUES: Mapping[str, tuple[str, ...]] = {
    "date-time": ("not a date", "2025-01-31", "2025-01-31T12:00:00", "31/01/2025 12:00:00", "2025-13-01T00:00:00Z",
                  "Fri, 31 Jan 2025 12:00:00 GMT"),
    "date-time-rfc1123": ("not a date", "2025-01-31T12:00:00Z", "31 Jan 2025 12:00:00 GMT", "Fri, 31 January 2025 12:00:00 GMT"),
    "date-time-rfc7231": ("not a date", "2025-01-31T12:00:00Z", "Fri, 31 Jan 2025 25:00:00 GMT"),
    "duration": ("1 hour", "P", "PT", "01:00:00", "P1H", "PT1X"),
    "uuid": ("not-a-uuid", "{9c4d50ee-2d56-4cd3-8152-34347dc9f2b0}", "9c4d50ee-2d56-4cd3-8152"),
    "byte": ("not base64!", "abc", "ab=c"),
    "uri": ("not a uri", "/relative/path", "https://has space.example"),
    "int32": ("abc", "2147483648", "1.5", ""),
    "int64": ("abc", "9223372036854775808", "1.5", ""),
}


def bad_format(spec, schema, instance, choose: Choose) -> Mutation | None:
    """Replace one formatted string (without enum) by text that breaks the format."""
    candidates = [
        (t, s["format"])
        for t, s, v in positions(spec, schema, instance)
        if isinstance(v, str) and s.get("type") == "string" and s.get("format") in BAD_FORMAT_VALUES and "enum" not in s
    ]
    if not candidates:
        return None
    # pick the format first, so that rare formats (int64 text, byte…) are not drowned by date-times
    name = choose(sorted({name for _, name in candidates}))
    tokens = choose([t for t, n in candidates if n == name])
    return Mutation(replaced(instance, tokens, choose(BAD_FORMAT_VALUES[name])), pointer(tokens), "format")


def add_undocumented_property(spec, schema, instance, choose: Choose) -> Mutation | None:
    """Add a property no schema documents to one closed object (a drift *warning*, not an error)."""
    candidates = [
        (t, s)
        for t, s, v in positions(spec, schema, instance)
        if isinstance(v, dict) and s.get("properties") and "additionalProperties" not in s
    ]
    if not candidates:
        return None
    tokens, s = choose(candidates)
    name = choose(["undocumentedProperty", "x-extra", "a/b~c"])
    target = copy.deepcopy(instance)
    parent = target
    for token in tokens:
        parent = parent[token]
    parent[name] = choose([1, "text", None, {"nested": True}])
    return Mutation(target, pointer(tokens + (name,)), "properties")


# Mutations that must produce an *error* finding.
MUTATIONS: Mapping[str, Callable[..., Mutation | None]] = {
    "wrong_type": wrong_type,
    "remove_required": remove_required,
    "out_of_range": out_of_range,
    "bad_format": bad_format,
}
# Mutations that must produce a *warning* finding.
WARNING_MUTATIONS: Mapping[str, Callable[..., Mutation | None]] = {
    "undocumented_property": add_undocumented_property,
}
ALL_MUTATIONS: Mapping[str, Callable[..., Mutation | None]] = {**MUTATIONS, **WARNING_MUTATIONS}


# ---------------------------------------------------------------------------
# arbitrary JSON


def json_values(*, allow_nan: bool = True, max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value Python's `json` module round-trips (NaN/Infinity included when allowed)."""
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=allow_nan, allow_infinity=allow_nan)
        | st.text(max_size=10)
    )
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
        max_leaves=max_leaves,
    )


def all_positions(instance: Any, tokens: tuple = ()) -> Iterator[tuple]:
    """Path tokens of every value in an arbitrary JSON instance (the root included)."""
    yield tokens
    if isinstance(instance, dict):
        for key, value in instance.items():
            yield from all_positions(value, tokens + (key,))
    elif isinstance(instance, list):
        for i, value in enumerate(instance):
            yield from all_positions(value, tokens + (i,))


def coercions(value: Any, *, integral_floats: bool = True) -> list[Any]:
    """Values a careless serializer might write instead of `value` (1 → 1.0 / "1", True → 1, …)."""
    if isinstance(value, bool):
        return [int(value), str(value).lower()]
    if isinstance(value, int):
        return ([float(value)] if integral_floats else []) + [str(value), value + 0.5]
    if isinstance(value, float):
        return [str(value)] + ([int(value)] if math.isfinite(value) else [])
    if isinstance(value, str):
        return [None, [value], value.upper(), value + " "]
    if value is None:
        return ["", 0]
    if isinstance(value, list):
        return [{}, None] + value[:1]
    if isinstance(value, dict):
        return [[value], None, {}]
    return []
