"""Compiled body validators: a fast accept path and a precise explaining path.

Most recorded traffic is valid, so each body is first run through a
jsonschema-rs validator compiled from a *strict* variant of the bundle: objects
closed (`additionalProperties: false`), open enums closed, read-only properties
forbidden in requests. If it accepts, there is provably nothing to report —
no error and no drift. Only rejected bodies go to the slow path: the pure
Python `jsonschema` Draft 4 validator over the very same strict schema, whose
errors are then classified (drift → warnings, the rest → errors) with a
pointer back into the bundle (= the spec's `/definitions/...` pointer).

Both validators use the predicates of `formats`, so they agree on every value.
"""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from . import formats as fmt
from .spec import Spec

REQUEST = "request"
RESPONSE = "response"

# Markers the strict transform leaves behind so explanations can be classified.
CLOSED = "x-closed"  # additionalProperties: false was added by us (drift, not an error)
READ_ONLY = "x-readonly-in-request"  # a readOnly property sent in a request
ODATA_ANNOTATION = r"^odata\."


@dataclass(frozen=True, slots=True)
class BodyError:
    """One explained body problem, before it becomes a `Violation`."""

    kind: str  # "error" | "undocumented_property" | "unknown_enum_value" | "read_only"
    instance_pointer: str
    schema_pointer: str
    keyword: str
    expected: Any
    actual: Any
    message: str


def strict_variant(definitions: Mapping[str, Any], flavor: str) -> dict[str, Any]:
    """A deep copy of `definitions` with objects closed and (for requests) readOnly forbidden."""
    out = copy.deepcopy(dict(definitions))
    for schema in out.values():
        _close(schema, flavor)
    return out


def _close(node: Any, flavor: str) -> None:
    if isinstance(node, list):
        for item in node:
            _close(item, flavor)
        return
    if not isinstance(node, dict):
        return
    props = node.get("properties")
    if isinstance(props, dict):
        if "additionalProperties" not in node:
            node["additionalProperties"] = False
            node[CLOSED] = True
            if flavor == RESPONSE:
                # OData control information (odata.metadata, odata.nextLink…) comes with the
                # odata=minimalmetadata media type, not with the Batch schemas.
                node.setdefault("patternProperties", {})[ODATA_ANNOTATION] = {}
        if flavor == REQUEST:
            for name, sub in list(props.items()):
                if isinstance(sub, dict) and sub.get("readOnly"):
                    props[name] = {"not": {}, READ_ONLY: True}
    for key, value in node.items():
        if key in ("properties",):
            for sub in value.values():
                _close(sub, flavor)
        elif isinstance(value, (dict, list)) and key not in ("enum", "default", "x-discriminator"):
            _close(value, flavor)


def _formats_as_keywords(node: Any) -> None:
    """Rewrite formats for jsonschema-rs: int32/int64 as a range, text formats as an anchored pattern.

    jsonschema-rs applies formats to strings only and would call back into Python
    for custom ones; keywords keep the whole fast path inside Rust.
    """
    if isinstance(node, list):
        for item in node:
            _formats_as_keywords(item)
        return
    if not isinstance(node, dict):
        return
    name = node.get("format")
    bounds = fmt.INTEGER_BOUNDS.get(name)
    if bounds and node.get("type") in ("integer", "number"):
        node["minimum"] = max(node.get("minimum", bounds[0]), bounds[0])
        node["maximum"] = min(node.get("maximum", bounds[1]), bounds[1])
    pattern = fmt.PATTERNS.get(name)
    if pattern is not None and node.get("type", "string") == "string":
        node.pop("format")
        anchored = {"pattern": f"^(?:{pattern})$"}
        if "pattern" in node:
            node.setdefault("allOf", []).append(anchored)
        else:
            node.update(anchored)
    for key, value in list(node.items()):
        if isinstance(value, (dict, list)) and key not in ("enum", "default"):
            _formats_as_keywords(value)


def _pointer_index(definitions: Mapping[str, Any]) -> dict[int, str]:
    """id(schema node) → JSON pointer in the bundle, for every dict node."""
    index: dict[int, str] = {}

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            index[id(node)] = pointer
            for key, value in node.items():
                if key not in ("enum", "default"):
                    walk(value, f"{pointer}/{_escape(str(key))}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{pointer}/{i}")

    for name, schema in definitions.items():
        walk(schema, f"/definitions/{_escape(name)}")
    return index


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class CompiledSpec:
    """Body validators for one Spec, compiled lazily per (flavor, target schema)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._strict: dict[str, dict[str, Any]] = {}
        self._pointers: dict[str, dict[int, str]] = {}
        self._fast: dict[str, Any] = {}
        self._explainers: dict[tuple[str, str], Any] = {}
        self._inline: dict[tuple[str, int], str] = {}

    # -- public -------------------------------------------------------------

    def is_valid(self, schema: Mapping[str, Any], document: Any, flavor: str) -> bool:
        """Fast path: True when `document` has nothing to report against `schema`."""
        target = self._target(schema, flavor)  # may register an inline schema and reset the map
        fast = self._fast.get(flavor) or self._compile_fast(flavor)
        return fast.get(target).is_valid(document)

    def explain(self, schema: Mapping[str, Any], document: Any, flavor: str) -> Iterator[BodyError]:
        """Slow path: every problem with `document`, classified."""
        target = self._target(schema, flavor)
        validator = self._explainers.get((flavor, target)) or self._compile_explainer(flavor, target)
        pointers = self._pointers[flavor]
        found = [item for error in validator.iter_errors(document) for item in _classify(_innermost(error), pointers)]
        # A value of the wrong type also fails its format; the type error says it all.
        mistyped = {e.instance_pointer for e in found if e.keyword == "type"}
        for item in found:
            if not (item.keyword == "format" and item.instance_pointer in mistyped):
                yield item

    # -- compilation ----------------------------------------------------------

    def _strict_for(self, flavor: str) -> dict[str, Any]:
        strict = self._strict.get(flavor)
        if strict is None:
            strict = strict_variant(self.spec.definitions, flavor)
            self._pointers[flavor] = _pointer_index(strict)
            self._strict[flavor] = strict
        return strict

    def _target(self, schema: Mapping[str, Any], flavor: str) -> str:
        """Pointer naming `schema` in the compiled root; inline schemas get a synthetic definition."""
        ref = schema.get("$ref") if len(schema) == 1 else None
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            return ref
        key = (flavor, id(schema))
        name = self._inline.get(key)
        if name is None:
            with self._lock:
                name = f"__inline_{len(self._inline)}"
                strict = self._strict_for(flavor)
                node = copy.deepcopy(dict(schema))
                _close(node, flavor)
                strict[name] = node
                self._pointers[flavor].update(_pointer_index({name: node}))
                self._fast.pop(flavor, None)
                self._inline[key] = name
        return f"#/definitions/{name}"

    def _compile_fast(self, flavor: str):
        import jsonschema_rs

        with self._lock:
            strict = self._strict_for(flavor)
            rs_defs = copy.deepcopy(strict)
            _formats_as_keywords(rs_defs)
            # Integer formats on *text* (statistics counters, contentLength) stay formats: rare, so a
            # Python callback is cheap there. Draft 4 is explicit: under newer drafts 1.0 is an integer.
            fast = jsonschema_rs.validator_map_for(
                {"$schema": "http://json-schema.org/draft-04/schema#", "definitions": rs_defs},
                formats={name: fmt.FORMATS[name] for name in fmt.INTEGER_BOUNDS},
                validate_formats=True,
                ignore_unknown_formats=True,
            )
            self._fast[flavor] = fast
            return fast

    def _compile_explainer(self, flavor: str, target: str):
        from jsonschema import Draft4Validator

        with self._lock:
            strict = self._strict_for(flavor)
            root = {"allOf": [{"$ref": target}], "definitions": strict}
            validator = Draft4Validator(root, format_checker=fmt.format_checker())
            self._explainers[(flavor, target)] = validator
            return validator


def _innermost(error):
    """Descend anyOf/oneOf (nullable wrappers) to the most relevant sub-error."""
    from jsonschema.exceptions import best_match

    while error.validator in ("anyOf", "oneOf", "allOf") and error.context:
        error = best_match(error.context)
    return error


def _classify(error, pointers: Mapping[int, str]) -> Iterator[BodyError]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    node_pointer = pointers.get(id(schema), "")
    instance_pointer = "".join(f"/{_escape(str(p))}" for p in error.absolute_path)
    keyword = str(error.validator)
    if keyword == "additionalProperties" and schema.get(CLOSED) and isinstance(error.instance, dict):
        documented = schema.get("properties", {})
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        extras = (k for k in error.instance if k not in documented and not any(p.search(k) for p in patterns))
        for name in sorted(extras):
            yield BodyError(
                "undocumented_property",
                f"{instance_pointer}/{_escape(name)}",
                f"{node_pointer}/properties",
                "properties",
                sorted(documented)[:20],
                name,
                f"property {name!r} is not documented for this object",
            )
        return
    if keyword == "enum" and isinstance(error.instance, str):
        folded = {str(v).lower(): v for v in error.validator_value}
        if error.instance.lower() in folded:
            yield BodyError(
                "unknown_enum_value",
                instance_pointer,
                f"{node_pointer}/enum",
                "enum",
                folded[error.instance.lower()],
                error.instance,
                f"{error.instance!r} differs only in case from the documented value "
                f"{folded[error.instance.lower()]!r} (the service compares enum values case-insensitively)",
            )
            return
        if schema.get("x-enum-open"):
            yield BodyError(
                "unknown_enum_value",
                instance_pointer,
                f"{node_pointer}/enum",
                "enum",
                error.validator_value,
                error.instance,
                f"{error.instance!r} is not one of the documented values {error.validator_value!r} (the enum is open)",
            )
            return
    if keyword == "not" and schema.get(READ_ONLY):
        name = instance_pointer.rsplit("/", 1)[-1]
        parent = node_pointer.rsplit("/properties/", 1)[0] if "/properties/" in node_pointer else node_pointer
        yield BodyError(
            "read_only",
            instance_pointer,
            f"{parent}/properties/{name}/readOnly",
            "readOnly",
            "absent (read-only)",
            error.instance,
            f"read-only property {name!r} must not be sent in a request",
        )
        return
    expected: Any = error.validator_value
    message = error.message
    if keyword == "format":
        expected = fmt.EXPECTED.get(str(error.validator_value), error.validator_value)
        message = f"{error.instance!r} is not {expected}"
    yield BodyError("error", instance_pointer, f"{node_pointer}/{keyword}", keyword, expected, error.instance, message)
