"""The emulated Batch service, without HTTP: a request in, a response out.

`Service.handle` does what the front end of the real service does, in its order:
authenticate, check the api-version, route, validate the request with the project's own
contract engine (bad input → 400 `BatchError` naming the property, nothing changes), run
the operation's handler against the account `State` under its lock, then answer with the
documented headers (`request-id`, `client-request-id` when asked, `ETag`, `Last-Modified`,
`DataServiceId`) and a body in the shape of the api-version the client named.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import count
from types import MappingProxyType
from typing import Any

import orjson

from ..constraints import Constraint, refusals
from ..interaction import Headers, Interaction
from ..spec import Match, Spec, SpecLibrary
from ..validation import ERROR, UNKNOWN_ENUM_VALUE, Validator, Violation, _parse_query
from .auth import AuthPolicy
from .clock import Clock
from .faults import FaultPlan, Injection
from .model import Call, Reply, ServiceError
from .routing import CANONICAL_VERSION, Route, canonical_path_params, routes_for
from .scheduler import dispatch
from .shapes import project
from .state import State, Timing, http_date

JSON_TYPE = "application/json;odata=minimalmetadata"
MAX_BODY = 1024 * 1024  # the documented limit of a task collection; applied to every request


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """The request as it came off the wire: raw (percent-encoded) path and query."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    latency: float = 0.0
    drop: bool = False  # close the connection without answering (fault injection)


Handler = Callable[[State, Call], Reply]


@dataclass(frozen=True)
class ServiceConfig:
    """How one emulator behaves; every field has a sensible default but the account."""

    account: str
    key: str
    bearer: Callable[[str], bool] | None = None
    clock: Clock | None = None
    timing: Timing = field(default_factory=Timing)
    validate_requests: bool = True
    max_body: int = MAX_BODY


class Service:
    """One emulated Batch account behind the Batch REST front end."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        base_url: str = "http://127.0.0.1",
        library: SpecLibrary | None = None,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        from .handlers import HANDLERS  # the handler modules are only needed once a service exists

        self.config = config
        self.base_url = base_url.rstrip("/")
        self.library = library if library is not None else SpecLibrary()
        self.validator = Validator(self.library)
        self.auth = AuthPolicy(config.account, config.key, config.bearer)
        self.state = State(account=config.account, clock=config.clock, timing=config.timing)
        self.state.after_event = dispatch
        self.faults = FaultPlan()
        self.handlers = HANDLERS if handlers is None else handlers
        self._routes: dict[str, Mapping[str, Route]] = {}
        self._request_ids = count(1)

    # -- the pipeline -------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.UUID(int=next(self._request_ids), version=4))
        headers = Headers.of(request.headers)
        try:
            reply, version, injection = self._serve(request, headers)
        except ServiceError as error:
            reply, version, injection = _error_reply(error), None, Injection()
        except Exception as exc:  # a bug in a handler: answer 500 like the service, keep serving
            logging.getLogger("pytest_batch.emulator").exception(
                "emulator error on %s %s", request.method, request.path
            )
            error = ServiceError(500, "InternalServerError", f"The emulator failed on this request: {exc!r}")
            reply, version, injection = _error_reply(error), None, Injection()
        if injection.fault is not None and injection.fault.drop:
            return HttpResponse(0, (), b"", injection.latency, drop=True)
        return self._respond(request, headers, reply, version, request_id, injection.latency)

    def _serve(self, request: HttpRequest, headers: Headers) -> tuple[Reply, str | None, Injection]:
        query = {name.lower(): value for name, value in _parse_query(request.query)}
        version = query.get("api-version")
        if not version:
            raise ServiceError(
                400,
                "MissingRequiredQueryParameter",
                "A query parameter that's mandatory for this request is not specified.",
                (("QueryParameterName", "api-version"),),
            )
        if version not in self.library.versions:
            raise ServiceError(
                400,
                "InvalidQueryParameterValue",
                "Value for one of the query parameters specified in the request URI is invalid.",
                (
                    ("QueryParameterName", "api-version"),
                    ("QueryParameterValue", version),
                    ("Reason", f"The api-version is not supported; known: {', '.join(self.library.versions)}"),
                ),
            )
        spec = self.library.get(version)
        match = spec.match(request.method, request.path, query)
        if match is None:
            methods = spec.index.methods_for(request.path)
            if methods:
                raise ServiceError(
                    405,
                    "UnsupportedHttpVerb",
                    f"The resource doesn't support the specified HTTP verb {request.method}.",
                )
            raise ServiceError(400, "InvalidUri", "The requested URI does not represent any resource on the server.")
        route = self.routes(spec)[match.operation.operation_id]
        injection = self.faults.pick((route.operation_id, match.operation.operation_id))
        if injection.fault is not None:
            if injection.fault.drop:
                return Reply(0), version, injection
            code, message = injection.fault.error
            retry = injection.fault.retry_after
            extra = (("Retry-After", str(retry)),) if retry is not None else ()
            return _error_reply(ServiceError(injection.fault.status or 500, code, message), extra), version, injection
        failure = self.auth.check(request.method, request.path, request.query, request.headers)
        if failure is not None:
            raise ServiceError(
                failure.status,
                "AuthenticationFailed",
                "Server failed to authenticate the request. Make sure the value of Authorization header is "
                "correctly formed including the signature.",
                (("AuthenticationErrorDetail", failure.detail),),
            )
        if len(request.body) > self.config.max_body:
            raise _refused("RequestBodyTooLarge", ("MaxLimit", str(self.config.max_body)), status=413)
        if self.config.validate_requests:
            self._validate(request, headers, spec, match, query)
        body = _parse_body(request.body)
        handler = self.handlers.get(route.operation_id)
        if handler is None:
            raise ServiceError(
                501, "NotImplemented", f"The emulator does not implement {match.operation.operation_id} yet."
            )
        with self.state.lock:
            now = self.state.clock.now()
            self.state.settle(now)
            call = Call(
                operation_id=route.operation_id,
                api_version=version,
                method=request.method.upper(),
                path=canonical_path_params(match.operation, route, match.path_params),
                query=query,
                headers=headers,
                body=body,
                raw_body=request.body,
                now=self.state.now,
                base_url=self.base_url,
            )
            reply = handler(self.state, call)
            dispatch(self.state)
        return _shape(reply, spec, match.operation.operation_id), version, injection

    def routes(self, spec: Spec) -> Mapping[str, Route]:
        table = self._routes.get(spec.api_version)
        if table is None:
            table = self._routes.setdefault(spec.api_version, routes_for(spec, self.library.get(CANONICAL_VERSION)))
        return table

    def _validate(self, request: HttpRequest, headers: Headers, spec: Spec, match: Match, query: dict) -> None:
        url = f"{self.base_url}{request.path}" + (f"?{request.query}" if request.query else "")
        interaction = Interaction(request.method, url, headers, request.body)
        outcome = self.validator.check_matched(interaction, spec, match, query)
        errors = [v for v in outcome.violations if v.severity == ERROR or _unknown_enum(v)]
        if errors:
            worst = min(errors, key=Violation.rank)
            if worst.rule is not None:  # a documented rule: refused the way the overlay says fits it
                raise constraint_error(worst, self.validator.overlay().rule(worst.rule))
            raise error_for(worst)

    def _respond(
        self, request: HttpRequest, headers: Headers, reply: Reply, version: str | None, request_id: str, latency: float
    ) -> HttpResponse:
        out: list[tuple[str, str]] = [("request-id", request_id)]
        if (headers.get("return-client-request-id") or "").lower() == "true":
            client_id = headers.get("client-request-id")
            if client_id:
                out.append(("client-request-id", client_id))
        if reply.entity is not None:
            out.append(("ETag", reply.entity.etag))
            out.append(("Last-Modified", http_date(reply.entity.last_modified)))
            if reply.entity.url:
                out.append(("DataServiceId", reply.entity.url))
                if reply.status == 201:
                    out.append(("Location", reply.entity.url))
        out.extend(reply.headers)
        body = b""
        if reply.status == 304 or request.method.upper() == "HEAD":
            pass
        elif isinstance(reply.body, (bytes, bytearray)):
            body = bytes(reply.body)
            out.append(("Content-Type", reply.content_type or "application/octet-stream"))
        elif reply.body is not None:
            document = reply.body
            if isinstance(document, dict) and reply.odata_type:
                document = {"odata.metadata": f"{self.base_url}/$metadata#{reply.odata_type}", **document}
            body = orjson.dumps(document)
            out.append(("Content-Type", reply.content_type or JSON_TYPE))
        if request.method.upper() != "HEAD" and not any(name.lower() == "content-length" for name, _ in out):
            out.append(("Content-Length", str(len(body))))
        return HttpResponse(reply.status, tuple(out), body, latency)

    # -- conveniences for tests and fixtures -------------------------------------

    def advance(self, seconds: float) -> None:
        """Move a `ManualClock` forward and settle the state (no request needed)."""
        clock = self.state.clock
        if not hasattr(clock, "advance"):
            raise TypeError("advance() needs a ManualClock; this emulator runs on the system clock")
        clock.advance(seconds)
        with self.state.lock:
            self.state.settle(clock.now())


def _unknown_enum(violation: Violation) -> bool:
    """A value outside an enum. `modelAsString` makes that drift for a *client* reading
    responses, but the service still refuses values it does not know. Values that differ
    only in case are accepted, as the service compares enums case-insensitively."""
    if violation.check != UNKNOWN_ENUM_VALUE:
        return False
    expected = violation.expected if isinstance(violation.expected, (list, tuple)) else ()
    actual = violation.actual.lower() if isinstance(violation.actual, str) else violation.actual
    return actual not in {e.lower() if isinstance(e, str) else e for e in expected}


def _parse_body(raw: bytes) -> Any:
    if not raw or raw.isspace():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ServiceError(
            400,
            "InvalidRequestBody",
            "The specified Request Body is not syntactically valid.",
            (("Reason", str(exc).splitlines()[0][:200]),),
        ) from None


def _shape(reply: Reply, spec: Spec, operation_id: str) -> Reply:
    if reply.body is None or isinstance(reply.body, (bytes, bytearray)) or spec.api_version == CANONICAL_VERSION:
        return reply
    response = spec.operations[operation_id].response_for(reply.status)
    if response is None or response.schema is None:
        return reply
    shaped = project(reply.body, response.schema, spec.definitions)
    return Reply(reply.status, shaped, reply.entity, reply.headers, reply.content_type, reply.odata_type)


def _error_reply(error: ServiceError, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    body = None if error.status == 304 else error.body()
    odata = None if body is None else "Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
    return Reply(error.status, body, None, headers, None, odata)


# -- contract findings → the service's error codes ---------------------------------------


def error_for(violation: Violation) -> ServiceError:
    """The `BatchError` the real service sends for the input problem `violation` describes."""
    location = violation.location
    keyword = violation.schema_pointer.rsplit("/", 1)[-1]
    reason = violation.message
    if location.startswith("request.query."):
        name = location[len("request.query.") :]
        if violation.actual is None:
            return _refused("MissingRequiredQueryParameter", ("QueryParameterName", name))
        code = "OutOfRangeQueryParameterValue" if keyword in ("minimum", "maximum") else "InvalidQueryParameterValue"
        return _refused(
            code, ("QueryParameterName", name), ("QueryParameterValue", str(violation.actual)), ("Reason", reason)
        )
    if location.startswith(("request.headers.", "request.header.")):
        name = location.split(".", 2)[2]
        if violation.actual is None and name.lower() != "content-type":
            return _refused("MissingRequiredHeader", ("HeaderName", name))
        return _refused(
            "InvalidHeaderValue", ("HeaderName", name), ("HeaderValue", str(violation.actual)), ("Reason", reason)
        )
    if location.startswith("request.path."):
        return _refused("InvalidUri")
    # the body
    pointer = violation.instance_pointer
    if keyword == "required":
        missing = violation.expected if isinstance(violation.expected, str) else _missing_name(violation)
        return _refused("MissingRequiredProperty", ("PropertyName", _property_name(pointer, missing)))
    if not pointer:
        return _refused("InvalidRequestBody", ("Reason", reason))
    name = _property_name(pointer, None)
    if keyword == "type":
        return _refused("InvalidRequestBody", ("PropertyName", name), ("Reason", reason))
    return _refused(
        "InvalidPropertyValue", ("PropertyName", name), ("PropertyValue", _text(violation.actual)), ("Reason", reason)
    )


def constraint_error(violation: Violation, rule: Constraint) -> ServiceError:
    """The refusal of a request that breaks a documented rule: the first that `refusals` says fits it."""
    location = violation.location
    if location.startswith("request.query."):
        where, name = "query", location[len("request.query.") :]
        details = (("QueryParameterName", name), ("QueryParameterValue", _text(violation.actual)))
    elif location.startswith("request.headers."):
        where, name = "header", location[len("request.headers.") :]
        details = (("HeaderName", name), ("HeaderValue", _text(violation.actual)))
    elif location.startswith("request.path."):
        where, details = "path", ()
    else:
        where = "body"
        missing = rule.value["any_of"][0].replace("/", ".") if rule.kind == "required_if" else None
        details = (
            ("PropertyName", _property_name(violation.instance_pointer, missing)),
            ("PropertyValue", _text(violation.actual)),
        )
    refusal = refusals(rule, where)[0]
    return _refused(refusal.code, *details, ("Reason", violation.message), status=refusal.status)


def _refused(code: str, *details: tuple[str, str], status: int = 400) -> ServiceError:
    """A refusal of bad input, with the message the service gives for `code`."""
    return ServiceError(status, code, _INPUT_MESSAGES[code], details)


_INPUT_MESSAGES = MappingProxyType({
    "InvalidPropertyValue": "The value provided for one of the properties in the request body is invalid.",
    "MissingRequiredProperty": "A required property was not specified in the request body.",
    "InvalidRequestBody": "The specified Request Body is not syntactically valid.",
    "RequestBodyTooLarge": "The request body is too large and exceeds the maximum permissible limit.",
    "MissingRequiredQueryParameter": "A query parameter that's mandatory for this request is not specified.",
    "InvalidQueryParameterValue": "Value for one of the query parameters specified in the request URI is invalid.",
    "OutOfRangeQueryParameterValue": "Value for one of the query parameters specified in the request URI is invalid.",
    "MissingRequiredHeader": "An HTTP header that's mandatory for this request is not specified.",
    "InvalidHeaderValue": "The value for one of the HTTP headers is not in the correct format.",
    "InvalidUri": "The requested URI does not represent any resource on the server.",
})  # fmt: skip


def _missing_name(violation: Violation) -> str | None:
    """The first required name (`expected`) absent from the object (`actual`)."""
    present = violation.actual if isinstance(violation.actual, dict) else {}
    names = violation.expected if isinstance(violation.expected, list) else []
    return next((name for name in names if name not in present), None)


def _property_name(pointer: str, leaf: str | None) -> str:
    """The property's dotted path (`jobManagerTask.id`); array indexes are dropped."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:] if p and not p.isdigit()]
    if leaf:
        parts.append(leaf)
    return ".".join(parts) if parts else "(body)"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode("utf-8") if value is not None else "null"


__all__ = ["HttpRequest", "HttpResponse", "Service", "ServiceConfig", "constraint_error", "error_for"]
