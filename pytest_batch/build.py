"""Swagger 2.0 (with Azure's `x-ms-*` dialect) → pytest-batch schema bundle.

This is the only module that reads raw Swagger. Every dialect quirk is
normalised once, here, so that everything downstream sees plain JSON Schema
(Draft 4 keywords) plus a few `x-` annotations with one meaning each:

- prose (`description`, `summary`, `title`, examples) is dropped;
- `x-nullable: true` → `"null"` added to the type (or `anyOf` with null for `$ref`);
- `readOnly` is kept (the validator forbids such properties in requests);
- `x-ms-enum.modelAsString: true` → `x-enum-open: true` (unknown values are drift, not errors);
- `x-ms-secret` → `x-secret: true`; `allOf` is flattened into one object schema;
- `discriminator` → `x-discriminator: {propertyName, mapping}`;
- `$ref` with meaningful siblings → `allOf: [{$ref}]` plus the siblings (Draft 4 ignores siblings);
- `properties` without `type` → `type: object` (Swagger's implicit object);
- `type: file` responses → `file: true` (raw bytes, no JSON body);
- `x-ms-parameterized-host`, `x-ms-paths`, `x-ms-pageable`, `deprecated` → operation/bundle fields.

The output is deterministic (sorted keys, stable order) so committed bundles
diff cleanly and a test can assert they are current.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import SpecError
from .pointers import escape

BUNDLE_FORMAT = "pytest-batch-bundle/1"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# Keywords carried over unchanged (values may still be normalised recursively).
_SCALAR_KEYWORDS = frozenset(
    {
        "type",
        "format",
        "enum",
        "default",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "multipleOf",
        "minProperties",
        "maxProperties",
        "required",
        "readOnly",
    }
)
_PARAMETER_SCHEMA_KEYWORDS = _SCALAR_KEYWORDS - {"required", "readOnly"} | {"items"}


def build_bundle(swagger: dict[str, Any], *, source: str = "<spec>") -> dict[str, Any]:
    """Convert one parsed Swagger document into a bundle (a plain JSON-able dict)."""
    if not isinstance(swagger, dict) or swagger.get("swagger") != "2.0":
        raise SpecError(source, "not a Swagger 2.0 document", hint="pass a BatchService.json file")
    info = swagger.get("info") or {}
    api_version = info.get("version")
    if not isinstance(api_version, str) or not api_version:
        raise SpecError(source, "info.version (the api-version) is missing", hint="use an official BatchService.json")
    definitions_in = swagger.get("definitions") or {}
    definitions = {name: _schema(node, definitions_in) for name, node in sorted(definitions_in.items())}
    _add_discriminators(definitions_in, definitions)
    consumes = list(swagger.get("consumes") or ["application/json"])
    produces = list(swagger.get("produces") or ["application/json"])
    host = _host(swagger)
    operations: dict[str, Any] = {}
    for path_key, item, pointer_base in _path_items(swagger):
        template, _, fixed = path_key.partition("?")
        fixed_query = dict(pair.split("=", 1) if "=" in pair else (pair, "") for pair in fixed.split("&") if pair)
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            pointer = f"{pointer_base}/{escape(path_key)}/{method}"
            operation_id = op.get("operationId") or f"{method.upper()} {path_key}"
            if operation_id in operations:
                raise SpecError(source, f"operationId {operation_id!r} appears twice", hint="fix the spec")
            operations[operation_id] = _operation(
                swagger, op, method, template, fixed_query, shared, pointer, consumes, produces, host, definitions_in
            )
    return {
        "format": BUNDLE_FORMAT,
        "api_version": api_version,
        "host": host,
        "schemes": list(swagger.get("schemes") or ["https"]),
        "consumes": consumes,
        "produces": produces,
        "operations": dict(sorted(operations.items())),
        "definitions": definitions,
    }


def dumps_bundle(bundle: dict[str, Any]) -> str:
    """Deterministic text of a bundle: sorted keys, one-space indent, trailing newline."""
    return json.dumps(bundle, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def build_directory(specs: str | os.PathLike, out: str | os.PathLike) -> list[Path]:
    """Build `<out>/<api-version>.json` for every `<specs>/<version>/BatchService.json`.

    Each bundle is written atomically (temporary file + rename) so that an
    interrupted build never leaves a truncated bundle behind.
    """
    specs_dir, out_dir = Path(specs), Path(out)
    spec_files = sorted(specs_dir.glob("*/BatchService.json"))
    if not spec_files:
        raise SpecError(
            str(specs_dir), "no <version>/BatchService.json files found", hint="point --specs at specs/batch"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for spec_file in spec_files:
        try:
            swagger = json.loads(spec_file.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SpecError(
                str(spec_file), f"cannot read spec: {exc}", hint="restore the file from the upstream spec"
            ) from None
        bundle = build_bundle(swagger, source=str(spec_file))
        target = out_dir / f"{bundle['api_version']}.json"
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(dumps_bundle(bundle), encoding="utf-8")
        os.replace(tmp, target)
        written.append(target)
    return written


# ---------------------------------------------------------------------------
# operations


def _path_items(swagger: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    for section in ("paths", "x-ms-paths"):
        for path_key, item in sorted((swagger.get(section) or {}).items()):
            if isinstance(item, dict):
                yield path_key, item, f"/{section}"


def _operation(
    swagger, op, method, template, fixed_query, shared, pointer, consumes, produces, host, definitions_in
) -> dict[str, Any]:
    host_names = {p["name"] for p in host["parameters"]}
    merged: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    for base, params in (
        (f"{pointer.rsplit('/', 1)[0]}/parameters", shared),
        (f"{pointer}/parameters", op.get("parameters") or []),
    ):
        for i, raw in enumerate(params):
            param, param_pointer = _resolve_parameter(swagger, raw, f"{base}/{i}")
            if param.get("name") in host_names and param.get("in") == "path":
                continue
            merged[(param.get("in"), param.get("name"))] = (param, param_pointer)
    parameters, body = [], None
    for (location, name), (param, param_pointer) in merged.items():
        if location == "body":
            body = {
                "name": name,
                "required": bool(param.get("required")),
                "schema": _schema(param.get("schema") or {}, definitions_in),
                "spec_pointer": f"{param_pointer}/schema",
            }
            continue
        entry: dict[str, Any] = {
            "name": name,
            "in": location,
            "required": bool(param.get("required")) or location == "path",
            "schema": _parameter_schema(param, definitions_in),
            "spec_pointer": param_pointer,
        }
        if "collectionFormat" in param:
            entry["collection_format"] = param["collectionFormat"]
        if param.get("x-ms-skip-url-encoding"):
            entry["skip_url_encoding"] = True
        parameters.append(entry)
    responses = {}
    for code, response in sorted((op.get("responses") or {}).items()):
        if "$ref" in response:
            response = _resolve_local(swagger, response["$ref"])
        schema = response.get("schema")
        entry = {
            "headers": {
                name: _parameter_schema(header, definitions_in)
                for name, header in sorted((response.get("headers") or {}).items())
            },
            "spec_pointer": f"{pointer}/responses/{code}",
        }
        if isinstance(schema, dict) and "file" in (schema.get("type"), schema.get("format")):
            entry["file"] = True
            entry["schema"] = None
        else:
            entry["schema"] = _schema(schema, definitions_in) if isinstance(schema, dict) else None
        responses[str(code)] = entry
    pageable = op.get("x-ms-pageable")
    return {
        "operation_id": op.get("operationId") or f"{method.upper()} {template}",
        "method": method.upper(),
        "path": template,
        "fixed_query": fixed_query,
        "parameters": parameters,
        "body": body,
        "consumes": list(op.get("consumes") or consumes),
        "produces": list(op.get("produces") or produces),
        "responses": responses,
        "pageable": (
            {
                "next_link_name": pageable.get("nextLinkName"),
                "item_name": pageable.get("itemName") or "value",
            }
            if isinstance(pageable, dict)
            else None
        ),
        "deprecated": bool(op.get("deprecated", False)),
        "long_running": bool(op.get("x-ms-long-running-operation", False)),
        "spec_pointer": pointer,
    }


def _resolve_parameter(swagger, raw: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
    if "$ref" in raw:
        ref = raw["$ref"]
        return _resolve_local(swagger, ref), ref.lstrip("#")
    return raw, pointer


def _resolve_local(swagger: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise SpecError(ref, "only local references (#/...) are supported", hint="inline the referenced file")
    node: Any = swagger
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SpecError(ref, "reference points nowhere", hint="fix the $ref in the spec")
        node = node[part]
    return node


def _host(swagger: dict[str, Any]) -> dict[str, Any]:
    parameterized = swagger.get("x-ms-parameterized-host")
    if isinstance(parameterized, dict):
        names = []
        for param in parameterized.get("parameters") or []:
            if "$ref" in param:
                param = _resolve_local(swagger, param["$ref"])
            names.append({"name": param.get("name"), "format": param.get("format")})
        return {
            "template": parameterized.get("hostTemplate", ""),
            "use_scheme_prefix": bool(parameterized.get("useSchemePrefix", True)),
            "parameters": names,
            "base_path": swagger.get("basePath") or "",
        }
    return {
        "template": swagger.get("host") or "",
        "use_scheme_prefix": True,
        "parameters": [],
        "base_path": swagger.get("basePath") or "",
    }


# ---------------------------------------------------------------------------
# schemas


def _parameter_schema(param: dict[str, Any], definitions_in: dict[str, Any]) -> dict[str, Any]:
    """Schema of a non-body parameter or response header (Swagger puts its keywords inline)."""
    node = {k: v for k, v in param.items() if k in _PARAMETER_SCHEMA_KEYWORDS or k in ("x-ms-enum", "x-nullable")}
    return _schema(node, definitions_in)


def _schema(node: Any, definitions_in: dict[str, Any]) -> Any:
    if not isinstance(node, dict):
        return node
    if "allOf" in node:
        node = _flatten_all_of(node, definitions_in)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCALAR_KEYWORDS:
            if key == "readOnly" and not value:
                continue
            out[key] = value
        elif key == "$ref":
            out["$ref"] = value
        elif key == "items":
            out["items"] = _schema(value, definitions_in)
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {name: _schema(sub, definitions_in) for name, sub in value.items()}
        elif key == "additionalProperties":
            out["additionalProperties"] = _schema(value, definitions_in) if isinstance(value, dict) else value
        elif key in ("anyOf", "oneOf") and isinstance(value, list):
            out[key] = [_schema(sub, definitions_in) for sub in value]
        elif key == "not":
            out["not"] = _schema(value, definitions_in)
        elif key == "x-ms-enum" and isinstance(value, dict) and value.get("modelAsString"):
            out["x-enum-open"] = True
        elif key == "x-ms-secret" and value:
            out["x-secret"] = True
    if "properties" in out and "type" not in out:
        out["type"] = "object"
    if isinstance(out.get("type"), str) and out["type"] == "file":
        out.pop("type")
        out["x-file"] = True
    if node.get("x-nullable") is True:
        out = _nullable(out)
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}], **out}
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema or "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    kinds = list(kind) if isinstance(kind, list) else [kind]
    if "null" not in kinds:
        kinds.append("null")
    schema = {**schema, "type": kinds}
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _flatten_all_of(
    node: dict[str, Any], definitions_in: dict[str, Any], seen: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Merge `allOf` parts (referenced definitions included) into one object schema."""
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in node.get("allOf") or []:
        if "$ref" in part:
            name = _definition_name(part["$ref"])
            if name in seen or name not in definitions_in:
                raise SpecError(part["$ref"], "allOf references a missing or cyclic definition", hint="fix the spec")
            part = definitions_in[name]
            if "allOf" in part:
                part = _flatten_all_of(part, definitions_in, seen | {name})
        properties.update(part.get("properties") or {})
        required.extend(r for r in part.get("required") or [] if r not in required)
        for key, value in part.items():
            if key not in ("properties", "required", "discriminator", "description", "title"):
                merged.setdefault(key, value)
    properties.update(node.get("properties") or {})
    required.extend(r for r in node.get("required") or [] if r not in required)
    if properties:
        merged["properties"] = properties
        merged.setdefault("type", "object")
    if required:
        merged["required"] = required
    return merged


def _add_discriminators(definitions_in: dict[str, Any], definitions: dict[str, Any]) -> None:
    for name, node in definitions_in.items():
        prop = node.get("discriminator") if isinstance(node, dict) else None
        if not isinstance(prop, str):
            continue
        mapping = {name: f"#/definitions/{name}"}
        for sub_name, sub in definitions_in.items():
            refs = [p.get("$ref") for p in (sub.get("allOf") or []) if isinstance(p, dict)]
            if f"#/definitions/{name}" in refs:
                value = sub.get("x-ms-discriminator-value", sub_name)
                mapping[value] = f"#/definitions/{sub_name}"
        definitions[name]["x-discriminator"] = {"propertyName": prop, "mapping": dict(sorted(mapping.items()))}


def _definition_name(ref: str) -> str:
    match = re.fullmatch(r"#/definitions/(.+)", ref)
    if not match:
        raise SpecError(ref, "expected a #/definitions/... reference", hint="fix the spec")
    return match.group(1).replace("~1", "/").replace("~0", "~")
