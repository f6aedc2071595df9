"""Turn a spec's `x-ms-examples` files into interactions, one per documented response.

The examples shipped beside each BatchService.json are the service owners' own
statement of what valid traffic looks like, which makes them the natural
corpus for the validator: each example must pass against its own operation
and version, or be a known defect of the example or the spec.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .errors import RecordingError
from .interaction import Headers, Interaction, Source
from .spec import Operation, Spec

_EXAMPLE_HOST = "https://account.region.batch.azure.com"


@dataclass(frozen=True, slots=True)
class ExampleRef:
    """An example file linked from an operation (`x-ms-examples`)."""

    api_version: str
    operation_id: str
    title: str
    path: Path


def example_refs(spec_file: str | os.PathLike) -> list[ExampleRef]:
    """Every (operation, example file) pair a Swagger file links to, in a stable order."""
    spec_file = Path(spec_file)
    swagger = json.loads(spec_file.read_text(encoding="utf-8-sig"))
    version = swagger["info"]["version"]
    refs = []
    for section in ("paths", "x-ms-paths"):
        for item in (swagger.get(section) or {}).values():
            for op in item.values():
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                for title, link in sorted((op.get("x-ms-examples") or {}).items()):
                    target = link.get("$ref") if isinstance(link, dict) else None
                    if isinstance(target, str):
                        refs.append(
                            ExampleRef(version, op["operationId"], title, (spec_file.parent / target).resolve())
                        )
    return sorted(refs, key=lambda r: (r.operation_id, r.title, str(r.path)))


def load_example(path: str | os.PathLike) -> dict[str, Any]:
    """Parse one example file; a broken one raises RecordingError naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise RecordingError(
            str(path), "example file is missing", hint="restore it or drop the x-ms-examples link"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordingError(
            str(path), f"example is not valid JSON: {exc}", hint="fix the JSON (a trailing comma?)"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        raise RecordingError(str(path), "example has no 'parameters' object", hint="follow the x-ms-examples format")
    return data


def example_interactions(operation: Operation, example: dict[str, Any], *, file: str) -> Iterator[Interaction]:
    """One interaction per documented response in `example`."""
    params = example.get("parameters") or {}
    path = operation.path
    query: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    for p in operation.parameters:
        if p.name not in params:
            continue
        value = params[p.name]
        if p.location == "path":
            path = path.replace("{" + p.name + "}", quote(_text(value), safe=""))
        elif p.location == "query":
            query.append((p.name, _text(value)))
        elif p.location == "header":
            headers.append((p.name, _text(value)))
    for name, value in operation.fixed_query.items():
        query.append((name, value))
    url = (
        _EXAMPLE_HOST
        + path
        + ("?" + "&".join(f"{quote(k, safe='$')}={quote(v, safe=',:')}" for k, v in query) if query else "")
    )
    body = b""
    if operation.body is not None and operation.body.name in params:
        body = json.dumps(params[operation.body.name]).encode()
        headers.append(("Content-Type", operation.consumes[0] if operation.consumes else "application/json"))
    request_headers = Headers(tuple(headers))
    for index, (code, response) in enumerate(sorted((example.get("responses") or {}).items())):
        response = response or {}
        response_body = b""
        response_headers = [(str(k), _text(v)) for k, v in (response.get("headers") or {}).items()]
        if "body" in response and response["body"] is not None:
            documented = operation.responses.get(str(code))
            if documented is not None and documented.file:
                response_body = _text(response["body"]).encode()
            else:
                response_body = json.dumps(response["body"]).encode()
                if not any(k.lower() == "content-type" for k, _ in response_headers):
                    response_headers.append(("Content-Type", "application/json; odata=minimalmetadata"))
        try:
            status = int(code)
        except ValueError:
            status = 500
        yield Interaction(
            method=operation.method,
            url=url,
            request_headers=request_headers,
            request_body=body,
            status=status,
            response_headers=Headers(tuple(response_headers)),
            response_body=response_body,
            source=Source(file, index),
        )


def corpus(spec_file: str | os.PathLike, spec: Spec) -> Iterator[Interaction | RecordingError]:
    """All example interactions of one spec file; broken example files come out as errors."""
    for ref in example_refs(spec_file):
        operation = spec.operations.get(ref.operation_id)
        if operation is None:
            yield RecordingError(
                str(ref.path), f"operation {ref.operation_id} is not in the bundle", hint="rebuild the schema bundles"
            )
            continue
        try:
            example = load_example(ref.path)
        except RecordingError as exc:
            yield exc
            continue
        yield from example_interactions(operation, example, file=str(ref.path))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    if isinstance(value, (dict,)):
        return json.dumps(value)
    return str(value)
