"""What handlers see and return: `Call` in, `Reply` out, `ServiceError` for a Batch error.

Handlers are written against these value objects only, never against the HTTP framework,
so they can be exercised without a socket and the server stays a thin adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..interaction import Headers


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated, validated request, routed to an operation.

    `operation_id` is the 2025-06-01 name (`Jobs_GetJob`) whatever version the client named;
    `api_version` is the version it named, `path` holds decoded path parameters, `query`
    the query parameters with lower-cased names, `body` the parsed JSON body (or None).
    """

    operation_id: str
    api_version: str
    method: str
    path: Mapping[str, str]
    query: Mapping[str, str]
    headers: Headers
    body: Any
    raw_body: bytes
    now: datetime
    base_url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter (`force`, `recursive`)."""
        value = self.query.get(name.lower())
        return default if value is None else value.lower() == "true"


@dataclass(frozen=True, slots=True)
class Entity:
    """The version stamp of a resource: what `ETag`/`Last-Modified` report and conditions test."""

    etag: str
    last_modified: datetime
    url: str = ""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file on a compute node or in a task directory: what the file operations serve."""

    content: bytes
    created: datetime
    modified: datetime
    mode: str = "0o100644"


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer. `body` is a JSON value, raw bytes (file content) or None.

    `entity` fills the `ETag`, `Last-Modified` and `DataServiceId` headers the operation
    documents; `headers` adds anything else (`ocp-batch-file-*`, `Content-Length`).
    """

    status: int
    body: Any = None
    entity: Entity | None = None
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str | None = None
    odata_type: str | None = None  # the `odata.metadata` fragment: "jobs/@Element", "tasks"…


@dataclass(frozen=True)
class ServiceError(Exception):
    """A Batch error response: status, `code`, message and the `values` that name the culprit."""

    status: int
    code: str
    message: str
    values: tuple[tuple[str, str], ...] = field(default=())

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        document: dict[str, Any] = {"code": self.code, "message": {"lang": "en-US", "value": self.message}}
        if self.values:
            document["values"] = [{"key": key, "value": value} for key, value in self.values]
        return document


def not_found(kind: str, code: str) -> ServiceError:
    """404 in the service's words (`JobNotFound`: "The specified job does not exist.")."""
    return ServiceError(404, code, f"The specified {kind} does not exist.")


def conflict(code: str, message: str, *values: tuple[str, str]) -> ServiceError:
    return ServiceError(409, code, message, tuple(values))


def invalid_property(name: str, value: Any, reason: str) -> ServiceError:
    return ServiceError(
        400,
        "InvalidPropertyValue",
        "The value provided for one of the properties in the request body is invalid.",
        (("PropertyName", name), ("PropertyValue", str(value)), ("Reason", reason)),
    )


def missing_property(name: str) -> ServiceError:
    return ServiceError(
        400,
        "MissingRequiredProperty",
        "A required property was not specified in the request body.",
        (("PropertyName", name),),
    )
