"""Check one recorded interaction against the Batch contract of its api-version.

`Validator.check(interaction)` is pure in effect: an `Interaction` in, an
`Outcome` (operation, api-version, `Violation`s) out; the only state it keeps is
compiled-schema caches. Checks are small functions with one signature, named
as in Schemathesis where the idea is the same. Findings are yielded lazily and
`best_violation` picks one per interaction by a fixed rule (see its docstring)
that does not depend on the order in which checks ran.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import orjson

from . import formats as fmt
from .compiled import REQUEST, RESPONSE, SELECTED, CompiledSpec
from .interaction import Headers, Interaction, Source
from .spec import Match, Operation, Parameter, Resolution, Spec, SpecLibrary
from .traffic import classify, classify_host

ERROR = "error"
WARNING = "warning"

# Check names, in the order used to rank findings (earlier = more fundamental).
UNKNOWN_OPERATION = "unknown_operation"
UNKNOWN_API_VERSION = "unknown_api_version"
REQUEST_PARAMETERS = "request_parameters"
REQUEST_CONTENT_TYPE = "request_content_type"
REQUEST_BODY_SCHEMA = "request_body_schema"
STATUS_CODE_CONFORMANCE = "status_code_conformance"
RESPONSE_CONTENT_TYPE = "response_content_type"
RESPONSE_SCHEMA_CONFORMANCE = "response_schema_conformance"
ERROR_SHAPE = "error_shape"
RESPONSE_HEADERS_CONFORMANCE = "response_headers_conformance"
DOCUMENTED_CONSTRAINTS = "documented_constraints"
UNDOCUMENTED_PROPERTY = "undocumented_property"
UNKNOWN_ENUM_VALUE = "unknown_enum_value"

CHECK_ORDER = (
    UNKNOWN_OPERATION,
    REQUEST_PARAMETERS,
    REQUEST_CONTENT_TYPE,
    REQUEST_BODY_SCHEMA,
    STATUS_CODE_CONFORMANCE,
    RESPONSE_CONTENT_TYPE,
    RESPONSE_SCHEMA_CONFORMANCE,
    ERROR_SHAPE,
    RESPONSE_HEADERS_CONFORMANCE,
    DOCUMENTED_CONSTRAINTS,
    UNKNOWN_API_VERSION,
    UNDOCUMENTED_PROPERTY,
    UNKNOWN_ENUM_VALUE,
)
_CHECK_RANK = {name: i for i, name in enumerate(CHECK_ORDER)}
_SEVERITY_RANK = {ERROR: 0, WARNING: 1}


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding. `location` says which part of the message (`request.query.maxresults`,
    `response.body`, `response.headers.ETag`); `instance_pointer` points inside that part;
    `schema_pointer` points into the spec (`/definitions/CloudJob/properties/priority/maximum`).
    """

    check: str
    severity: str
    operation_id: str | None
    api_version: str | None
    location: str
    instance_pointer: str
    schema_pointer: str
    expected: Any
    actual: Any
    message: str
    source: Source | None = None
    rule: str | None = None  # the documented-constraints rule id, for `documented_constraints` findings

    @property
    def key(self) -> tuple[str, str | None, str | None, str, str]:
        """De-duplication key: the same rule broken at the same place of the same operation."""
        return (self.check, self.operation_id, self.api_version, self.location, self.schema_pointer)

    def rank(self) -> tuple:
        return (
            _SEVERITY_RANK.get(self.severity, 9),
            _CHECK_RANK.get(self.check, len(CHECK_ORDER)),
            self.instance_pointer.count("/"),
            self.location,
            self.instance_pointer,
            self.schema_pointer,
            self.message,
        )

    def describe(self) -> str:
        """One line for humans: where, what, expected vs actual, which rule."""
        where = f"{self.source}: " if self.source else ""
        pointer = self.instance_pointer or ""
        op = f"{self.operation_id} ({self.api_version})" if self.operation_id else (self.api_version or "?")
        return f"{where}{self.severity} {self.check} {op} at {self.location}{pointer}: {self.message} [spec {self.schema_pointer or '-'}]"


def best_violation(violations: Iterable[Violation]) -> Violation | None:
    """The one finding to show first for an interaction.

    Rule: errors before warnings; then the more fundamental check (order of
    `CHECK_ORDER`: a wrong operation or request explains later findings); then
    the shallowest instance pointer (a wrong parent explains its children);
    then location, instance pointer, schema pointer and message in text order.
    The key is total, so the choice never depends on the order of discovery.
    """
    return min(violations, key=Violation.rank, default=None)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What checking one interaction found. `skipped` holds the reason for non-Batch traffic."""

    interaction: Interaction
    operation_id: str | None = None
    api_version: str | None = None
    violations: tuple[Violation, ...] = ()
    skipped: str | None = None

    @property
    def best(self) -> Violation | None:
        return best_violation(self.violations)

    @property
    def errors(self) -> int:
        return sum(1 for v in self.violations if v.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for v in self.violations if v.severity == WARNING)


def _outcome_of(
    interaction: Interaction,
    operation_id: str | None,
    api_version: str | None,
    violations: tuple[Violation, ...],
    *,
    _new=object.__new__,
    _set_interaction=Outcome.interaction.__set__,  # type: ignore[attr-defined]
    _set_operation_id=Outcome.operation_id.__set__,  # type: ignore[attr-defined]
    _set_api_version=Outcome.api_version.__set__,  # type: ignore[attr-defined]
    _set_violations=Outcome.violations.__set__,  # type: ignore[attr-defined]
    _set_skipped=Outcome.skipped.__set__,  # type: ignore[attr-defined]
) -> Outcome:
    """`Outcome(interaction, operation_id, api_version, violations)`, built through its slots: the frozen
    dataclass's `__init__` pays an `object.__setattr__` per field, 0.2 µs of every check."""
    outcome = _new(Outcome)
    _set_interaction(outcome, interaction)
    _set_operation_id(outcome, operation_id)
    _set_api_version(outcome, api_version)
    _set_violations(outcome, violations)
    _set_skipped(outcome, None)
    return outcome


class _Context:
    """What every check sees: the interaction, the matched operation and its parsed URL.

    A plain slotted class, not a frozen dataclass: one is built per interaction on the
    hot path and never leaves this module.
    """

    __slots__ = (
        "compiled",
        "interaction",
        "operation",
        "path_params",
        "plan",
        "query",
        "request_document",
        "request_problem",
        "spec",
    )

    def __init__(self, interaction, spec, compiled, operation, path_params, query, plan) -> None:
        self.interaction = interaction
        self.plan = plan
        self.spec = spec
        self.compiled = compiled
        self.operation = operation
        self.path_params = path_params
        self.query = query  # lower-cased names → raw values
        # the request body as parsed by the body check, shared with the constraints check
        self.request_document: Any = None
        self.request_problem: str | None = None

    def emit(self, check, severity, location, instance_pointer, schema_pointer, expected, actual, message) -> Violation:
        return Violation(
            check,
            severity,
            self.operation.operation_id,
            self.spec.api_version,
            location,
            instance_pointer,
            schema_pointer,
            expected,
            actual,
            message,
            self.interaction.source,
        )


class Validator:
    """Checks interactions against a `SpecLibrary`; caches compiled schemas per api-version."""

    def __init__(
        self, library: SpecLibrary | None = None, *, api_version: str | None = None, constraints: bool = True
    ) -> None:
        self.library = library if library is not None else SpecLibrary()
        self.api_version_override = api_version
        self.constraints = constraints  # the documented-constraints overlay, loaded on first use
        self._overlay: Any = None
        self._overlay_versions: frozenset[str] = frozenset()
        self._compiled: dict[str, CompiledSpec] = {}
        self._shared_validators: dict[bytes, Any] = {}  # compiled body validators, shared by the versions
        self._plans: dict[tuple[str, str], _OperationPlan] = {}
        self._header_checks: dict[int, tuple] = {}
        self._value_checks: dict[tuple[bytes, str | None], Callable] = {}
        self._hosts: dict[str, tuple] = {}  # netloc → (host, classify_host verdict), bounded
        self._resolutions: dict[str | None, tuple[Resolution, Spec]] = {}  # requested → (resolution, its spec)

    def compiled(self, spec: Spec) -> CompiledSpec:
        compiled = self._compiled.get(spec.api_version)
        if compiled is None:
            compiled = self._compiled.setdefault(spec.api_version, CompiledSpec(spec, shared=self._shared_validators))
        return compiled

    def check(self, interaction: Interaction) -> Outcome:
        """All findings for one interaction (never raises on malformed data)."""
        netloc, path, raw_query = _split_url(interaction.url)
        query = _query_map(raw_query)
        requested = query.get("api-version")
        cached = self._hosts.get(netloc)
        if cached is None:
            try:
                host = urlsplit(f"//{netloc}").hostname or ""
            except ValueError:
                host = netloc.lower()
            cached = (host, classify_host(host))
            if len(self._hosts) < 4096:
                self._hosts[netloc] = cached
        host, host_kind = cached
        kind = host_kind if host_kind is not None else classify(host, path, requested)
        if not kind.batch:
            return Outcome(interaction, skipped=kind.reason)
        resolved = self._resolutions.get(requested)
        if resolved is None:
            resolution = (
                Resolution(requested, self.api_version_override)
                if self.api_version_override
                else self.library.resolve(requested)
            )
            resolved = (resolution, self.library.get(resolution.used))
            if len(self._resolutions) < 1024:
                self._resolutions[requested] = resolved
        resolution, spec = resolved
        match = spec.index.match(interaction.method, path, query)
        return self._outcome(interaction, spec, resolution, path, query, match)

    def check_matched(self, interaction: Interaction, spec: Spec, match: Match, query: Mapping[str, str]) -> Outcome:
        """`check` for a caller that already routed the request (the emulator): same findings,
        without classifying the host and matching the operation a second time. `query` has
        lower-cased names, as `check` builds it."""
        resolution = Resolution(spec.api_version, spec.api_version)
        return self._outcome(interaction, spec, resolution, "", query, match)

    def _outcome(self, interaction, spec, resolution, path, query, match) -> Outcome:
        """Every check on one routed interaction, in one frame: a call less per check on the hot path."""
        found: list[Violation] = []
        version = spec.api_version
        if match is None or (resolution.note and resolution.requested):
            self._routing_violations(interaction, spec, resolution, path, match, found)
            if match is None:
                return _outcome_of(interaction, None, version, tuple(found))
        op = match.operation
        plan = self._plans.get((version, op.operation_id))
        if plan is None:
            plan = self._plans.setdefault(
                (version, op.operation_id), _OperationPlan(op, self.value_check, self.compiled(spec))
            )
        ctx = _Context(interaction, spec, plan.compiled, op, match.path_params, query, plan)
        self._check_parameters(ctx, found)
        _check_request_body(ctx, found)
        # versions the overlay does not cover (most) skip the call; the first check loads the overlay
        if self.constraints and (self._overlay is None or version in self._overlay_versions):
            self._check_constraints(ctx, found)
        if interaction.status is not None:
            _check_response(ctx, self, found)
        return _outcome_of(interaction, op.operation_id, version, tuple(found))

    def header_checks(self, response) -> tuple:
        """(name, compiled text check) for each documented header of `response`, built once."""
        entry = self._header_checks.get(id(response))
        if entry is None:
            checks = tuple(
                (name, name.lower(), self.value_check(schema, None)) for name, schema in response.headers.items()
            )
            # the response itself is kept in the entry so that its id cannot be reused
            entry = self._header_checks.setdefault(id(response), (response, checks))
        return entry[1]

    def value_check(self, schema: Mapping[str, Any], collection_format: str | None):
        """Compiled check for a text-borne value, shared by every parameter with the same schema."""
        key = (orjson.dumps(schema, option=orjson.OPT_SORT_KEYS), collection_format)
        check = self._value_checks.get(key)
        if check is None:
            check = self._value_checks.setdefault(key, _compile_value_check(schema, collection_format))
        return check

    def iter_violations(self, interaction: Interaction) -> Iterator[Violation]:
        yield from self.check(interaction).violations

    # -- the checks ----------------------------------------------------------------

    def _routing_violations(self, interaction, spec, resolution, path, match, out: list[Violation]) -> None:
        """An api-version the library does not have, and a method + path no operation documents."""
        source = interaction.source
        version = spec.api_version
        if resolution.note and resolution.requested:
            out.append(
                Violation(
                    UNKNOWN_API_VERSION,
                    WARNING,
                    None,
                    version,
                    "request.query.api-version",
                    "",
                    "/info/version",
                    list(self.library.versions[-3:]),
                    resolution.requested,
                    resolution.note,
                    source,
                )
            )
        if match is None:
            methods = spec.index.methods_for(path)
            detail = (
                f"{interaction.method} is not documented for this path (documented: {', '.join(methods)})"
                if methods
                else f"no operation of api-version {version} has the path {path!r}"
            )
            out.append(
                Violation(
                    UNKNOWN_OPERATION,
                    ERROR,
                    None,
                    version,
                    "request",
                    "",
                    "/paths",
                    "a documented method and path",
                    f"{interaction.method} {path}",
                    detail,
                    source,
                )
            )

    def overlay(self) -> Any:
        """The documented-constraints overlay (`constraints.Overlay`), read once per validator."""
        if self._overlay is None:
            from .constraints import load_overlay

            overlay = load_overlay()
            self._overlay_versions = frozenset(overlay.versions)  # a property that walks every rule
            self._overlay = overlay
        return self._overlay

    def _constraint_plan(self, spec: Spec, op: Operation) -> tuple[bool, tuple[tuple[str, str], ...]]:
        """(any rule can reach the body, (location, lower-cased name) of each parameter a rule targets),
        worked out once per operation.

        The body walk applies only rules of definitions the body schema reaches through `$ref`s,
        so a body whose schema reaches none of them cannot break a rule and is not walked; a
        parameter rule judges only a parameter that was sent, so a request that sends none of the
        targeted parameters (most) skips the overlay altogether.
        """
        overlay = self.overlay()
        version = spec.api_version
        body = op.body is not None and any(
            overlay.for_definition(version, name) for name in _reachable_definitions(spec, op.body.schema)
        )
        locations = {p.name.lower(): p.location for p in op.parameters}
        targets = []
        for _, target in overlay.for_operation(version, op.operation_id):
            folded = (target.parameter or "").lower()
            location = locations.get(folded)
            if location is not None and (location, folded) not in targets:
                targets.append((location, folded))
        return (body, tuple(targets))

    def _check_constraints(self, ctx: _Context, out: list[Violation]) -> None:
        """Rules the docs state in prose (`schemas/constraints.json`), on the request's parameters and body.

        Only versions the overlay covers pay anything; a body that is not JSON was reported already.
        """
        overlay = self._overlay if self._overlay is not None else self.overlay()
        spec, op = ctx.spec, ctx.operation
        if spec.api_version not in self._overlay_versions:
            return
        if ctx.request_problem is not None:
            return  # the body is not JSON: `request_body_schema` said so, and no rule can be judged
        walk_body, targets = ctx.plan.constraints or ctx.plan.set_constraints(self._constraint_plan(spec, op))
        body = ctx.request_document if walk_body else None
        if body is None and not _any_sent(ctx, targets):
            return
        from .constraints import check_constraints

        headers = dict(ctx.interaction.request_headers.folded())
        kwargs = {"query": ctx.query, "headers": headers, "path_params": ctx.path_params}
        found = (
            check_constraints(overlay, spec, op.operation_id, body, **kwargs)
            if body is not None
            else check_constraints(overlay, spec, op.operation_id, **kwargs)
        )
        for finding in found:
            if finding.location == "body":
                where, pointer = "request.body", finding.pointer
            else:  # a parameter: its name goes into the location, as for the schema checks
                section = "headers" if finding.location == "header" else finding.location
                where, pointer = f"request.{section}.{finding.pointer.lstrip('/')}", ""
            violation = ctx.emit(
                DOCUMENTED_CONSTRAINTS,
                ERROR,
                where,
                pointer,
                finding.source_pointer,
                finding.expected,
                finding.actual,
                finding.message,
            )
            out.append(replace(violation, rule=finding.rule_id))

    def _check_parameters(self, ctx: _Context, out: list[Violation]) -> None:
        """Check the values present (few) against their documented parameter, then what is missing."""
        plan = ctx.plan.parameters
        for param, value_check in plan.path:
            value = ctx.path_params.get(param.name)
            if value is not None:
                problem = value_check(value)
                if problem is not None:
                    out.append(_parameter_violation(ctx, param, value, problem))
        for name, value in ctx.query.items():
            entry = plan.query.get(name)
            if entry is None:
                if name not in plan.fixed_query:
                    out.append(
                        ctx.emit(
                            UNDOCUMENTED_PROPERTY,
                            WARNING,
                            f"request.query.{name}",
                            "",
                            f"{ctx.operation.spec_pointer}/parameters",
                            "a documented query parameter",
                            name,
                            f"query parameter {name!r} is not documented for {ctx.operation.operation_id}",
                        )
                    )
                continue
            value_check = entry[1]
            if value_check is not _no_problem:
                problem = value_check(value)
                if problem is not None:
                    out.append(_parameter_violation(ctx, entry[0], value, problem))
        headers = ctx.interaction.request_headers
        if plan.headers:
            # documented headers are few: look each one up, and replay the request's own header
            # order (the order findings are reported in) only when one of them is broken
            broken = False
            if headers.count() < len(plan.headers):  # walk the shorter side
                for name, value in headers.folded():
                    entry = plan.headers.get(name)
                    if entry is not None and entry[1](value) is not None:
                        broken = True
                        break
            else:
                for name, entry in plan.headers.items():
                    value = headers.lookup(name)
                    if value is not None and entry[1](value) is not None:
                        broken = True
                        break
            if broken:
                for name, value in headers.folded():
                    entry = plan.headers.get(name)
                    if entry is not None:
                        problem = entry[1](value)
                        if problem is not None:
                            out.append(_parameter_violation(ctx, entry[0], value, problem))
        if (
            ctx.query.keys() >= plan.required_query
            and ctx.path_params.keys() >= plan.required_path
            and not (plan.required_headers and any(headers.lookup(h) is None for h in plan.required_headers))
        ):
            return  # nothing required is missing
        for param, folded in plan.required:
            if param.location == "query":
                present = folded in ctx.query
            elif param.location == "header":
                present = headers.lookup(folded) is not None
            else:
                present = param.name in ctx.path_params
            if not present:
                out.append(
                    ctx.emit(
                        REQUEST_PARAMETERS,
                        ERROR,
                        f"request.{param.location}.{param.name}",
                        "",
                        f"{param.spec_pointer}/required",
                        "present",
                        None,
                        f"required {param.location} parameter {param.name!r} is missing",
                    )
                )


def _any_sent(ctx: _Context, targets: tuple[tuple[str, str], ...]) -> bool:
    """Whether the request carries any of `targets` ((location, lower-cased name)) with a value."""
    for location, folded in targets:
        if location == "query":
            value = ctx.query.get(folded)
        elif location == "header":
            value = ctx.interaction.request_headers.lookup(folded)
        elif location == "path":
            value = next((v for name, v in ctx.path_params.items() if name.lower() == folded), None)
        else:
            continue
        if value is not None:
            return True
    return False


def _parameter_violation(ctx: _Context, param: Parameter, value: str, problem) -> Violation:
    keyword, expected, message, severity = problem
    drift = keyword in ("x-enum-open", "x-enum-case")
    check = UNKNOWN_ENUM_VALUE if drift else REQUEST_PARAMETERS
    pointer = f"{param.spec_pointer}/{'enum' if drift else keyword}"
    return ctx.emit(
        check,
        severity,
        f"request.{param.location}.{param.name}",
        "",
        pointer,
        expected,
        value,
        f"{param.location} parameter {param.name!r}: {message}",
    )


_UNSEEN = object()
# The service's own paging token: it puts `$skiptoken` into every `odata.nextLink` it sends,
# so a follow-up request of a pageable operation carrying it is not drift.
_PAGING_TOKENS = frozenset({"$skiptoken"})


@dataclass(frozen=True, slots=True)
class _ParameterPlan:
    """An operation's parameters with compiled value checks, indexed by how values arrive."""

    path: tuple[tuple[Parameter, Callable[[str], Any]], ...]
    query: Mapping[str, tuple[Parameter, Callable[[str], Any]]]  # lower-cased name →
    headers: Mapping[str, tuple[Parameter, Callable[[str], Any]]]  # lower-cased name →
    required: tuple[tuple[Parameter, str], ...]  # (parameter, lower-cased name)
    fixed_query: frozenset[str]
    # `required` split by location, to see at once that nothing is missing (the usual case)
    required_query: frozenset[str] = frozenset()  # lower-cased names
    required_path: frozenset[str] = frozenset()  # names as documented
    required_headers: tuple[str, ...] = ()  # lower-cased names

    @classmethod
    def of(cls, op: Operation, value_check: Callable[[Mapping[str, Any], str | None], Callable]) -> _ParameterPlan:
        """Values of a parameter whose schema constrains nothing cannot be wrong, so `path` and `headers`
        leave those out (`query` keeps every documented name: it also says which names are documented)."""
        compiled = [(p, value_check(p.schema, p.collection_format)) for p in op.parameters]
        headers = {e[0].name.lower(): e for e in compiled if e[0].location == "header"}
        required = tuple(
            (p, p.name.lower()) for p, _ in compiled if p.required and p.location in ("path", "query", "header")
        )
        return cls(
            path=tuple(e for e in compiled if e[0].location == "path" and e[1] is not _no_problem),
            query={e[0].name.lower(): e for e in compiled if e[0].location == "query"},
            headers={name: e for name, e in headers.items() if e[1] is not _no_problem},
            required=required,
            fixed_query=frozenset(name.lower() for name in op.fixed_query)
            | (_PAGING_TOKENS if op.pageable is not None else frozenset()),
            required_query=frozenset(folded for p, folded in required if p.location == "query"),
            required_path=frozenset(p.name for p, _ in required if p.location == "path"),
            required_headers=tuple(folded for p, folded in required if p.location == "header"),
        )


class _OperationPlan:
    """What checking one operation needs, worked out once per (api-version, operation) of a validator:
    compiled parameter checks, the body validators (bound on first use, so only bodies met compile),
    per-status response plans and whether the constraints overlay can apply.
    """

    __slots__ = ("compiled", "constraints", "consumes_json", "operation", "parameters", "request_valid", "responses")

    def __init__(
        self, op: Operation, value_check: Callable[[Mapping[str, Any], str | None], Callable], compiled: CompiledSpec
    ) -> None:
        self.operation = op
        self.compiled = compiled
        self.consumes_json = any(a.startswith("application/json") for a in op.consumes)
        self.parameters = _ParameterPlan.of(op, value_check)
        self.request_valid: Callable[[Any], bool] | None = None
        self.responses: dict[int, _ResponsePlan] = {}
        self.constraints: tuple[bool, tuple[tuple[str, str], ...]] | None = None

    def set_constraints(self, plan: tuple[bool, tuple]) -> tuple[bool, tuple]:
        self.constraints = plan
        return plan

    def response(self, status: int, validator: Validator) -> _ResponsePlan:
        found = self.responses.get(status)
        if found is None:
            found = _ResponsePlan(self.operation, status, validator)
            if len(self.responses) < 64:  # statuses come from the traffic: keep a bound
                found = self.responses.setdefault(status, found)
        return found


class _ResponsePlan:
    """The documented response for one status of one operation, its header checks and body validators."""

    __slots__ = ("check", "header_checks", "header_index", "is_error", "response", "selected_valid", "valid")

    def __init__(self, op: Operation, status: int, validator: Validator) -> None:
        documented = op.responses.get(str(status))
        self.is_error = documented is None and status >= 400
        self.response = documented or (op.responses.get("default") if self.is_error else None)
        self.check = ERROR_SHAPE if self.is_error else RESPONSE_SCHEMA_CONFORMANCE
        # a header whose schema constrains nothing cannot be wrong: only the others are looked up
        checks = validator.header_checks(self.response) if self.response is not None else ()
        self.header_checks = tuple(entry for entry in checks if entry[2] is not _no_problem)
        self.header_index = _header_index(self.header_checks)
        self.valid: Callable[[Any], bool] | None = None
        self.selected_valid: Callable[[Any], bool] | None = None


# ---------------------------------------------------------------------------
# request body


def _check_request_body(ctx: _Context, out: list[Violation]) -> None:
    op, interaction = ctx.operation, ctx.interaction
    raw = interaction.request_body
    empty = not raw or raw.isspace()
    if op.body is None:
        if not empty and raw.strip() not in (b"{}", b"null"):
            out.append(
                ctx.emit(
                    REQUEST_BODY_SCHEMA,
                    WARNING,
                    "request.body",
                    "",
                    op.spec_pointer,
                    "no body",
                    _excerpt(raw),
                    f"{op.operation_id} takes no request body, but one was sent",
                )
            )
        return
    if empty:
        if op.body.required:
            out.append(
                ctx.emit(
                    REQUEST_BODY_SCHEMA,
                    ERROR,
                    "request.body",
                    "",
                    f"{op.body.spec_pointer}",
                    "a JSON body",
                    None,
                    f"{op.operation_id} requires a request body ({op.body.name})",
                )
            )
        return
    content_type = interaction.request_headers.lookup("content-type")
    if content_type is None or not _media_type_in(content_type, op.consumes, ctx.plan.consumes_json):
        message = (
            "a request body was sent without a Content-Type header"
            if content_type is None
            else f"Content-Type {content_type!r} is not one of {list(op.consumes)}"
        )
        where = f"{op.spec_pointer}/consumes"
        out.append(
            ctx.emit(
                REQUEST_CONTENT_TYPE,
                ERROR,
                "request.headers.Content-Type",
                "",
                where,
                list(op.consumes),
                content_type,
                message,
            )
        )
    try:  # `_parse_json`'s first step, in line: nearly every body is JSON orjson reads
        document, problem = orjson.loads(raw), None
    except orjson.JSONDecodeError:
        document, problem = _parse_json(raw)
    ctx.request_document, ctx.request_problem = document, problem
    if problem is None:
        valid = ctx.plan.request_valid
        if valid is None:
            valid = ctx.plan.request_valid = ctx.compiled.fast_validator(op.body.schema, REQUEST).is_valid
        if valid(document):
            return
    _body_findings(
        ctx,
        op.body.schema,
        raw,
        document,
        problem,
        op.body.spec_pointer,
        REQUEST,
        REQUEST_BODY_SCHEMA,
        "request.body",
        out,
    )


def _body_findings(
    ctx: _Context, schema, raw: bytes, document, problem, json_pointer: str, flavor, check, location, out
) -> None:
    """Report what in a request or response body the fast validator rejected breaks `schema`
    (or that it is not JSON)."""
    if problem:
        side = location.split(".", 1)[0]
        message = f"the {side} body is not valid JSON: {problem}"
        out.append(ctx.emit(check, ERROR, location, "", json_pointer, "JSON", _excerpt(raw), message))
        return
    try:
        explained = ctx.compiled.explain(schema, document, flavor, exact=lambda: json.loads(raw))
    except RecursionError:
        out.append(
            ctx.emit(
                check,
                ERROR,
                location,
                "",
                schema.get("$ref", "").lstrip("#"),
                "a document of sane depth",
                "nested too deeply",
                "the body is nested too deeply to explain; the fast check rejected it",
            )
        )
        return
    for item in explained:
        if item.kind == "undocumented_property":
            name, severity = UNDOCUMENTED_PROPERTY, WARNING
        elif item.kind == "unknown_enum_value":
            name, severity = UNKNOWN_ENUM_VALUE, WARNING
        else:
            name, severity = check, ERROR
        out.append(
            ctx.emit(
                name,
                severity,
                location,
                item.instance_pointer,
                item.schema_pointer,
                item.expected,
                _short(item.actual),
                item.message,
            )
        )


# ---------------------------------------------------------------------------
# response


def _check_response(ctx: _Context, validator: Validator, out: list[Violation]) -> None:
    op, interaction = ctx.operation, ctx.interaction
    status = interaction.status
    plan = ctx.plan.responses.get(status) or ctx.plan.response(status, validator)
    response = plan.response
    if response is None and status == 304 and _not_modified_allowed(interaction):
        return
    if response is None:
        out.append(
            ctx.emit(
                STATUS_CODE_CONFORMANCE,
                ERROR,
                "response.status",
                "",
                f"{op.spec_pointer}/responses",
                list(op.documented_statuses),
                status,
                f"status {status} is not documented for {op.operation_id} (documented: {', '.join(op.documented_statuses)})",
            )
        )
        return
    if plan.header_checks:
        sent = interaction.response_headers.count()
        if sent:  # none sent (most recorded examples): nothing to look up
            _check_response_headers(ctx, response, plan.header_checks, plan.header_index, sent, out)
    if interaction.method == "HEAD" or response.file:
        return
    raw = interaction.response_body
    empty = not raw or raw.isspace()
    is_error, check = plan.is_error, plan.check
    if response.schema is None:
        if not empty:
            out.append(
                ctx.emit(
                    check,
                    WARNING,
                    "response.body",
                    "",
                    response.spec_pointer,
                    "no body",
                    _excerpt(raw),
                    f"status {status} documents no body, but one was returned",
                )
            )
        return
    if empty:
        if not is_error:
            out.append(
                ctx.emit(
                    check,
                    ERROR,
                    "response.body",
                    "",
                    f"{response.spec_pointer}/schema",
                    "a JSON body",
                    None,
                    f"status {status} documents a body, but the response has none",
                )
            )
        return
    content_type = interaction.response_headers.lookup("content-type")
    if content_type is not None and not _media_type_in(content_type, ("application/json",), True):
        out.append(
            ctx.emit(
                RESPONSE_CONTENT_TYPE,
                ERROR,
                "response.headers.Content-Type",
                "",
                f"{op.spec_pointer}/produces",
                ["application/json"],
                content_type,
                f"a JSON body was returned as {content_type!r}",
            )
        )
    selected = not is_error and ctx.query.get("$select")
    try:
        document, problem = orjson.loads(raw), None
    except orjson.JSONDecodeError:
        document, problem = _parse_json(raw)
    if problem is None:
        if selected:
            valid = plan.selected_valid
            if valid is None:
                valid = plan.selected_valid = ctx.compiled.fast_validator(response.schema, SELECTED).is_valid
        else:
            valid = plan.valid
            if valid is None:
                valid = plan.valid = ctx.compiled.fast_validator(response.schema, RESPONSE).is_valid
        if valid(document):
            return
    _body_findings(
        ctx,
        response.schema,
        raw,
        document,
        problem,
        f"{response.spec_pointer}/schema",
        SELECTED if selected else RESPONSE,
        check,
        "response.body",
        out,
    )


def _check_response_headers(
    ctx: _Context, response, header_checks: tuple, by_name: dict, sent: int, out: list[Violation]
) -> None:
    headers: Headers = ctx.interaction.response_headers
    if sent < len(header_checks):
        # fewer headers were sent than are documented (most recordings): look the sent ones up, and
        # replay the documented order (the order findings are reported in) only when one is broken
        for folded, value in headers.folded():
            checks = by_name.get(folded)
            if checks is not None and any(value_check(value) is not None for value_check in checks):
                break
        else:
            return
    for name, folded, value_check in header_checks:
        value = headers.lookup(folded)
        if value is None:
            continue
        problem = value_check(value)
        if problem is not None:
            keyword, expected, message, severity = problem
            out.append(
                ctx.emit(
                    RESPONSE_HEADERS_CONFORMANCE,
                    severity,
                    f"response.headers.{name}",
                    "",
                    f"{response.spec_pointer}/headers/{name}/{keyword}",
                    expected,
                    value,
                    f"response header {name!r}: {message}",
                )
            )


def _header_index(header_checks: tuple) -> dict[str, tuple]:
    """Lower-cased name → the value checks of `header_checks` documented under it (any spelling)."""
    index: dict[str, tuple] = {}
    for _, folded, value_check in header_checks:
        index[folded] = (*index.get(folded, ()), value_check)
    return index


# ---------------------------------------------------------------------------
# scalar values (parameters and headers arrive as text)


_TRUE_FALSE = {"true": True, "false": False}


def _compile_value_check(schema: Mapping[str, Any], collection_format: str | None):
    """Return `check(text) -> None | (keyword, expected, message, severity)` for a text-borne value."""
    kind = schema.get("type")
    if kind == "array":
        item_check = _compile_value_check(schema.get("items") or {}, None)
        separator = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}.get(collection_format or "csv", ",")
        min_items, max_items = schema.get("minItems"), schema.get("maxItems")

        def check_array(text: str):
            items = text.split(separator) if text != "" else []
            if min_items is not None and len(items) < min_items:
                return ("minItems", min_items, f"{len(items)} items, at least {min_items} required", ERROR)
            if max_items is not None and len(items) > max_items:
                return ("maxItems", max_items, f"{len(items)} items, at most {max_items} allowed", ERROR)
            for item in items:
                problem = item_check(item)
                if problem is not None:
                    return problem
            return None

        return check_array
    value_checks = _scalar_checks(schema)
    converter = _CONVERTERS.get(kind)
    if converter is None:
        # text in, text checked: the one scalar check (a format, mostly) is the whole check, without
        # a wrapper call per value; most documented headers and parameters are exactly that
        if not value_checks:
            return _no_problem
        if len(value_checks) == 1:
            return value_checks[0]

    def check(text: str):
        value: Any = text
        if converter is not None:
            value = converter(text)
            if value is _INVALID:
                return ("type", kind, f"{text!r} is not a valid {kind}", ERROR)
        for value_check in value_checks:
            problem = value_check(value)
            if problem is not None:
                return problem
        return None

    return check


_INVALID = object()


def _no_problem(text: str) -> None:
    """The check of a text value its schema does not constrain."""


def _to_int(text: str):
    try:
        return int(text.strip())
    except ValueError:
        return _INVALID


def _to_number(text: str):
    try:
        return float(text.strip())
    except ValueError:
        return _INVALID


def _to_bool(text: str):
    return _TRUE_FALSE.get(text.strip().lower(), _INVALID)


_CONVERTERS: Mapping[str, Callable[[str], Any]] = {"integer": _to_int, "number": _to_number, "boolean": _to_bool}


def _scalar_checks(schema: Mapping[str, Any]) -> tuple:
    checks = []
    enum = schema.get("enum")
    if enum is not None:
        allowed = tuple(enum)
        folded = {str(v).lower() for v in allowed}
        open_enum = bool(schema.get("x-enum-open"))

        def check_enum(value):
            if value in allowed:
                return None
            if isinstance(value, str) and value.lower() in folded:
                return (
                    "x-enum-case",
                    list(allowed),
                    (
                        f"{value!r} differs only in case from a documented value of {list(allowed)} "
                        "(the service compares enum values case-insensitively)"
                    ),
                    WARNING,
                )
            keyword, severity = ("x-enum-open", WARNING) if open_enum else ("enum", ERROR)
            return (keyword, list(allowed), f"{value!r} is not one of {list(allowed)}", severity)

        checks.append(check_enum)
    for keyword, compare, text in (
        ("minimum", lambda v, b: v >= b, "less than"),
        ("maximum", lambda v, b: v <= b, "greater than"),
    ):
        bound = schema.get(keyword)
        if bound is not None:
            exclusive = schema.get("exclusive" + keyword.capitalize()) is True

            def check_bound(value, bound=bound, compare=compare, keyword=keyword, text=text, exclusive=exclusive):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    ok = compare(value, bound) and not (exclusive and value == bound)
                    if not ok:
                        return (keyword, bound, f"{value} is {text} the {keyword} {bound}", ERROR)
                return None

            checks.append(check_bound)
    for keyword, compare in (("minLength", lambda n, b: n >= b), ("maxLength", lambda n, b: n <= b)):
        bound = schema.get(keyword)
        if bound is not None:

            def check_length(value, bound=bound, compare=compare, keyword=keyword):
                if isinstance(value, str) and not compare(len(value), bound):
                    return (keyword, bound, f"length {len(value)} breaks {keyword} {bound}", ERROR)
                return None

            checks.append(check_length)
    pattern = schema.get("pattern")
    if pattern:
        regex = re.compile(pattern)

        def check_pattern(value):
            if isinstance(value, str) and regex.search(value) is None:
                return ("pattern", pattern, f"{value!r} does not match {pattern!r}", ERROR)
            return None

        checks.append(check_pattern)
    name = schema.get("format")
    predicate = fmt.FORMATS.get(name) if name else None
    if predicate is not None:
        expected = fmt.EXPECTED.get(name, name)

        def check_format(value):
            if not predicate(value):
                return ("format", expected, f"{value!r} is not {expected}", ERROR)
            return None

        checks.append(check_format)
    return tuple(checks)


# ---------------------------------------------------------------------------
# helpers


def _split_url(url: str) -> tuple[str, str, str]:
    """(netloc, path, query) of an absolute or path-only URL; the fragment is dropped.

    A few string operations instead of `urlsplit`, which validates and builds far
    more than the check needs and is a measurable share of the per-interaction cost.
    """
    if "#" in url:
        url = url.split("#", 1)[0]
    scheme_end = url.find("://")
    if scheme_end != -1 and url[:scheme_end].isalpha():
        start = scheme_end + 3
        slash, mark = url.find("/", start), url.find("?", start)
        cut = slash if slash != -1 and (mark == -1 or slash < mark) else mark
        if cut == -1:  # the netloc alone
            return url[start:], "/", ""
        netloc, rest = url[start:cut], url[cut:]
    else:
        netloc, rest = "", url
    path, _, query = rest.partition("?")
    return netloc, path or "/", query


def _query_map(query: str) -> dict[str, str]:
    """Lower-cased query parameter names → values (the last value of a repeated name), decoded.

    `_parse_query`'s loop written out again on purpose: this runs for every interaction, and building the
    dict in the loop is 10 % cheaper than over a shared generator."""
    found: dict[str, str] = {}
    if not query:
        return found
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        found[name.lower()] = value
    return found


def _parse_query(query: str) -> list[tuple[str, str]]:
    """(name, value) pairs as sent (names keep their case, repeats stay): what the emulator reads."""
    pairs = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        pairs.append((name, value))
    return pairs


def _not_modified_allowed(interaction: Interaction) -> bool:
    """304 is HTTP's answer to a conditional read that found nothing new (RFC 9110 15.4.5);
    the Batch service sends it (`ConditionNotMet`) though the spec lists only 200."""
    headers = interaction.request_headers
    conditional = headers.get("If-None-Match") is not None or headers.get("If-Modified-Since") is not None
    body = interaction.response_body
    return interaction.method in ("GET", "HEAD") and conditional and (not body or body.isspace())


def _media_type_in(content_type: str, allowed: Iterable[str], json_allowed: bool | None = None) -> bool:
    """Whether `content_type` is one of `allowed`; `json_allowed` (any of `allowed` is JSON), when
    the caller worked it out once, spares the scan for the usual JSON body."""
    if content_type.startswith("application/json") and content_type[16:17] in ("", ";", " "):
        if json_allowed is not None:
            return json_allowed
        return any(a.startswith("application/json") for a in allowed)
    media = content_type.split(";", 1)[0].strip().lower()
    return any(media == a.split(";", 1)[0].strip().lower() for a in allowed)


def _parse_json(raw: bytes) -> tuple[Any, str | None]:
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError:
        pass  # json.loads accepts some texts orjson refuses (NaN, lone surrogates) and words the error
    try:
        return json.loads(raw), None
    except RecursionError:
        return None, "nested too deeply"
    except (ValueError, UnicodeDecodeError) as exc:
        return None, str(exc).splitlines()[0][:200]


def _excerpt(raw: bytes, limit: int = 80) -> str:
    text = raw[: limit * 4].decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(value: Any, limit: int = 200) -> Any:
    """Keep findings small: big objects and strings are cut to an excerpt."""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return value if len(text) <= limit else text[: limit - 1] + "…"
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _reachable_definitions(spec: Spec, schema: Any) -> set[str]:
    """Names of every definition `schema` can lead to through `$ref`s (discriminator mappings included).

    Over-approximates on purpose: any `#/definitions/...` string anywhere below counts.
    """
    found: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, Mapping):
            pending.extend(node.values())
        elif isinstance(node, list | tuple):
            pending.extend(node)
        elif isinstance(node, str) and node.startswith("#/definitions/"):
            name = node[len("#/definitions/") :].replace("~1", "/").replace("~0", "~")
            if name not in found:
                found.add(name)
                pending.append(spec.definitions.get(name))
    return found
