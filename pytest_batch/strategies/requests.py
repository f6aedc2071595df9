"""Whole requests: path parameters, query, headers and body of one operation, drawn together.

Parameter values are drawn as JSON values from their schemas (plus the overlay
rules on them: `maxresults` 1..1000, `client-request-id` a GUID, `ocp-range`
`bytes=a-b`) and then written as HTTP text: integers in decimal, booleans as
`true`/`false`, arrays joined by their collection format. `api-version` is
always the version drawn for, and the operation's fixed query (`x-ms-paths`)
is always there, so the request routes to the operation it was drawn for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from ..interaction import Headers, Interaction
from .nodes import StrategyError

DEFAULT_ENDPOINT = "https://account.region.batch.azure.com"
_SEPARATORS = MappingProxyType({"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"})


@dataclass(frozen=True, slots=True)
class RequestParts:
    """One drawn request. `query`/`headers` hold the text sent; `body` is JSON data (`has_body` says if sent)."""

    operation_id: str
    api_version: str
    method: str
    path_template: str
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any = None
    has_body: bool = False
    content_type: str | None = field(default=None)

    @property
    def path(self) -> str:
        """The path with every parameter percent-encoded (a `/` inside a value stays inside it)."""
        out = self.path_template
        for name, value in self.path_params.items():
            out = out.replace("{" + name + "}", quote(value, safe=""))
        return out

    def url(self, endpoint: str = DEFAULT_ENDPOINT) -> str:
        query = "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in self.query.items())
        return endpoint.rstrip("/") + self.path + ("?" + query if query else "")

    def body_bytes(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8") if self.has_body else b""

    def all_headers(self) -> dict[str, str]:
        """The drawn headers plus `Content-Type` when a body is sent."""
        out = dict(self.headers)
        if self.has_body and self.content_type:
            out.setdefault("Content-Type", self.content_type)
        return out

    def interaction(self, endpoint: str = DEFAULT_ENDPOINT) -> Interaction:
        """This request as an `Interaction` (no response), ready for `Validator.check`."""
        return Interaction(self.method, self.url(endpoint), Headers.of(self.all_headers()), self.body_bytes())


def request_strategy(strategies, api_version: str, operation_id: str):
    builder = strategies.builder(api_version)
    spec = builder.compiler.spec
    op = spec.operations.get(operation_id)
    if op is None:
        raise StrategyError(
            f"api-version {api_version} has no operation {operation_id!r}",
            hint="use an operationId of that version (e.g. Pools_CreatePool, or Pool_Add before 2025-06-01)",
        )
    params = []
    for param in op.parameters:
        if param.location not in ("path", "query", "header"):
            continue
        pinned = spec.api_version if param.name.lower() == "api-version" else None
        node = None if pinned is not None else builder.compiler.parameter(op, param)
        params.append((param, node, pinned))
    body_node = strategies.root(api_version, None, operation_id, "request")[1] if op.body is not None else None
    optional_count = sum(1 for p, _, pinned in params if not p.required and pinned is None)
    mask = st.binary(min_size=(optional_count + 8) // 8, max_size=(optional_count + 8) // 8)

    @st.composite
    def requests(draw) -> RequestParts:
        bits = int.from_bytes(draw(mask), "little")
        path, query, headers = {}, dict(op.fixed_query), {}
        i = 0
        for param, node, pinned in params:
            if pinned is not None:
                text = pinned
            else:
                if not param.required:
                    i += 1
                    if not bits >> (i - 1) & 1:
                        continue
                text = _as_text(builder.draw_value(node, 1, draw), param.collection_format)
                if param.location == "path" and text in (".", ".."):
                    text = "x" + text  # a dot segment would be removed by URL normalisation
            {"path": path, "query": query, "header": headers}[param.location][param.name] = text
        has_body = op.body is not None and (op.body.required or bool(bits >> optional_count & 1))
        body = builder.draw_value(body_node, 0, draw) if has_body else None
        return RequestParts(
            operation_id=operation_id,
            api_version=spec.api_version,
            method=op.method,
            path_template=op.path,
            path_params=MappingProxyType(path),
            query=MappingProxyType(query),
            headers=MappingProxyType(headers),
            body=body,
            has_body=has_body,
            content_type=op.consumes[0] if op.consumes else "application/json",
        )

    return requests()


def _as_text(value: Any, collection_format: str | None) -> str:
    if isinstance(value, list):
        return _SEPARATORS.get(collection_format or "csv", ",").join(_as_text(item, None) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
