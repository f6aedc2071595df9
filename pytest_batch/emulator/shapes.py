"""Answer in the shape of the api-version the client asked for.

The emulator keeps every resource in the 2025-06-01 wire shape. A response for another
version is projected onto that version's response schema: properties the version does
not define are dropped, recursively, following `$ref`, `allOf`, arrays and maps, and int64
counters take the version's JSON type (strings in 2025-06-01, integers before). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def project(document: Any, schema: Mapping[str, Any] | None, definitions: Mapping[str, Any]) -> Any:
    """`document` with only the properties `schema` knows (unknown schema → unchanged)."""
    if schema is None:
        return document
    return _project(document, schema, definitions, 0)


def _resolve(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 64:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = definitions.get(name, {})
        seen += 1
    return schema


def _properties(schema: Mapping[str, Any], definitions: Mapping[str, Any], depth: int) -> tuple[dict, Any]:
    """(properties, additionalProperties) of an object schema, `allOf` parts merged."""
    schema = _resolve(schema, definitions)
    properties = dict(schema.get("properties", {}))
    additional = schema.get("additionalProperties")
    if depth < 32:
        for part in schema.get("allOf", ()):
            more, extra = _properties(part, definitions, depth + 1)
            properties.update(more)
            additional = additional if additional is not None else extra
    return properties, additional


def _project(document: Any, schema: Mapping[str, Any], definitions: Mapping[str, Any], depth: int) -> Any:
    if depth > 64:
        return document
    schema = _resolve(schema, definitions)
    if isinstance(document, list):
        items = schema.get("items")
        return [_project(item, items, definitions, depth + 1) for item in document] if items else document
    if not isinstance(document, dict):
        return _respell(_retype(document, schema), schema)
    properties, additional = _properties(schema, definitions, depth)
    if not properties:
        if isinstance(additional, dict):
            return {key: _project(value, additional, definitions, depth + 1) for key, value in document.items()}
        return document  # a free-form object: keep as is
    out = {}
    for key, value in document.items():
        sub = properties.get(key)
        if sub is not None:
            out[key] = _project(value, sub, definitions, depth + 1)
        elif key.startswith("odata."):
            out[key] = value
    return out


def _retype(value: Any, schema: Mapping[str, Any]) -> Any:
    """int64 counters are JSON strings in 2025-06-01 and integers before it: give the version its type."""
    kind = schema.get("type")
    if kind == "integer" and isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if kind == "string" and schema.get("format") == "int64" and type(value) is int:
        return str(value)
    return value


def _respell(value: Any, schema: Mapping[str, Any]) -> Any:
    """An enum value in the version's own spelling (`noaction` in 2025-06-01 is `noAction` in 2017)."""
    enum = schema.get("enum")
    if not isinstance(value, str) or not enum or value in enum:
        return value
    folded = value.lower()
    return next((e for e in enum if isinstance(e, str) and e.lower() == folded), value)
