"""Schema bundles as frozen `Spec` objects, and the index that maps a request to its operation.

Bundles are loaded lazily (one version costs a few milliseconds) and cached
per `SpecLibrary` instance, never in module state. Operations are matched by
HTTP method + path template (+ `x-ms-paths` fixed query); the host is not part
of an operation's identity because recordings use every kind of placeholder.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from .errors import SpecError, UnknownApiVersion

_VERSION_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True, slots=True)
class Parameter:
    """A path, query or header parameter; `schema` is plain JSON Schema for its decoded value."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    spec_pointer: str
    collection_format: str | None = None


@dataclass(frozen=True, slots=True)
class Body:
    name: str
    required: bool
    schema: Mapping[str, Any]
    spec_pointer: str


@dataclass(frozen=True, slots=True)
class Response:
    """One documented response: `status` is a code such as "200" or "default"."""

    status: str
    schema: Mapping[str, Any] | None
    headers: Mapping[str, Mapping[str, Any]]
    spec_pointer: str
    file: bool = False


@dataclass(frozen=True, slots=True)
class Pageable:
    next_link_name: str | None
    item_name: str


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    api_version: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body: Body | None
    consumes: tuple[str, ...]
    produces: tuple[str, ...]
    responses: Mapping[str, Response]
    pageable: Pageable | None
    deprecated: bool
    spec_pointer: str
    fixed_query: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def response_for(self, status: int) -> Response | None:
        """The documented response for `status`, falling back to `default`."""
        return self.responses.get(str(status)) or self.responses.get("default")

    @property
    def documented_statuses(self) -> tuple[str, ...]:
        return tuple(code for code in self.responses if code != "default")


@dataclass(frozen=True, slots=True)
class Match:
    operation: Operation
    path_params: Mapping[str, str]


def _match_of(
    operation: Operation,
    path_params: Mapping[str, str],
    *,
    _new=object.__new__,
    _set_operation=Match.operation.__set__,  # type: ignore[attr-defined]
    _set_path_params=Match.path_params.__set__,  # type: ignore[attr-defined]
) -> Match:
    """`Match(operation, path_params)` through its slots, without the frozen dataclass's
    per-field `object.__setattr__` (once per checked interaction)."""
    match = _new(Match)
    _set_operation(match, operation)
    _set_path_params(match, path_params)
    return match


class OperationIndex:
    """Find the operation for a method + path.

    Templates are compiled to regexes over the raw (still percent-encoded) path,
    so an encoded `/` (`%2F`) stays inside its parameter; values are decoded
    afterwards. A template ending in `/files/{filePath}` may also swallow several
    segments (a file path holds slashes), tried only when no exact-segment match
    exists; other trailing parameters are one segment (`/nodes/n/extensions` is
    not node `n/extensions`).
    Templates are bucketed by method and first literal segment, and each bucket
    is one alternation regex (most literal template first), so matching costs
    one `fullmatch`.
    """

    __slots__ = ("_buckets", "_greedy")

    def __init__(self, operations: Mapping[str, Operation]) -> None:
        grouped: dict[tuple[str, str], list[Operation]] = {}
        greedy: dict[str, list[Operation]] = {}
        for op in sorted(operations.values(), key=_specificity):
            grouped.setdefault((op.method, _first_segment(op.path)), []).append(op)
            if re.search(r"/files/\{[^}]+\}$", op.path):  # only a file path holds slashes (`{filePath}`)
                greedy.setdefault(op.method, []).append(op)
        self._buckets = {key: _Bucket(ops, greedy=False) for key, ops in grouped.items()}
        self._greedy = {method: _Bucket(ops, greedy=True) for method, ops in greedy.items()}

    def match(self, method: str, path: str, query: Mapping[str, str] | None = None) -> Match | None:
        """The operation for `method` + raw `path` (no query string), or None."""
        method = method.upper()
        bucket = self._buckets.get((method, _first_segment(path)))
        found = bucket.match(path, query) if bucket is not None else None
        if found is None:
            greedy = self._greedy.get(method)
            found = greedy.match(path, query) if greedy is not None else None
        return found

    def methods_for(self, path: str) -> tuple[str, ...]:
        """Methods documented for `path` (to explain an unknown method on a known path)."""
        buckets = (*self._buckets.values(), *self._greedy.values())
        return tuple(sorted({m.operation.method for b in buckets for m in b.match_all(path)}))


class _Bucket:
    """Operations sharing method + first segment, compiled into one alternation."""

    __slots__ = ("_alternatives", "_by_group", "_ops", "_patterns", "_regex", "_singles", "_source")

    def __init__(self, ops: list[Operation], *, greedy: bool) -> None:
        alternatives, groups, singles = [], [], []
        for i, op in enumerate(ops):
            pattern, names = _template_pattern(op.path, greedy=greedy, prefix=f"o{i}_")
            alternatives.append(f"(?P<o{i}>{pattern})")
            groups.append(tuple(names))
            singles.append(pattern + "/?")
        self._ops = tuple(ops)
        self._alternatives = tuple(groups)
        # outer group name → (index, operation, its group names, parameter names): no parsing per match
        self._by_group = {
            f"o{i}": (i, op, tuple(g for g, _ in names), tuple(p for _, p in names))
            for i, (op, names) in enumerate(zip(ops, groups))
        }
        self._patterns = tuple(singles)  # one regex per template, for the rare all-matches questions,
        self._singles: tuple[re.Pattern[str], ...] | None = None  # compiled when first asked one
        # compiled on first use: a run meets few of a version's buckets
        self._source = "(?:" + "|".join(alternatives) + ")/?"
        self._regex: re.Pattern[str] | None = None

    def match(self, path: str, query: Mapping[str, str] | None) -> Match | None:
        regex = self._regex
        if regex is None:
            regex = self._regex = re.compile(self._source, re.IGNORECASE)
        m = regex.fullmatch(path)
        if m is None:
            return None
        _, op, groups, names = self._by_group[m.lastgroup]
        if op.fixed_query and not _fixed_query_present(op.fixed_query, query):
            return self._match_slow(path, query)
        if not groups:
            return _match_of(op, {})
        values = m.group(*groups) if len(groups) > 1 else (m.group(groups[0]),)
        if "%" not in path:  # nothing to decode (most paths)
            return _match_of(op, dict(zip(names, values)))
        params = {}
        for name, value in zip(names, values):
            params[name] = unquote(value) if "%" in value else value
        return _match_of(op, params)

    def match_all(self, path: str) -> list[Match]:
        """Every template of the bucket that matches `path` (alternation stops at the first)."""
        singles = self._singles
        if singles is None:
            singles = self._singles = tuple(re.compile(p, re.IGNORECASE) for p in self._patterns)
        return [self._match_of(i, m) for i, single in enumerate(singles) if (m := single.fullmatch(path))]

    def _match_of(self, i: int, m: re.Match[str]) -> Match:
        params = {}
        for group, param in self._alternatives[i]:
            value = m.group(group)
            params[param] = unquote(value) if "%" in value else value
        return Match(self._ops[i], params)

    def _match_slow(self, path: str, query: Mapping[str, str] | None) -> Match | None:
        for found in self.match_all(path):
            if _fixed_query_present(found.operation.fixed_query, query):
                return found
        return None


def _fixed_query_present(fixed: Mapping[str, str], query: Mapping[str, str] | None) -> bool:
    query = query or {}
    return all(query.get(k) == v for k, v in fixed.items())


def _first_segment(path: str) -> str:
    head = path.lstrip("/")
    cut = head.find("/")
    if cut != -1:
        head = head[:cut]
    if "(" in head or "?" in head:
        head = head.split("(", 1)[0].split("?", 1)[0]
    return "{}" if head.startswith("{") else head.lower()


def _specificity(op: Operation) -> tuple[int, int, str, str]:
    literal = len(re.sub(r"\{[^}]+\}", "", op.path))
    return (-literal, op.path.count("{"), op.path, op.method)


def _template_pattern(template: str, *, greedy: bool, prefix: str) -> tuple[str, list[tuple[str, str]]]:
    """Regex source for a path template, and (group name, parameter name) pairs."""
    parts = re.split(r"(\{[^}]+\})", template)
    out, names = [], []
    last_param = len(parts) - 2 if parts and parts[-1] == "" else -1
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            group = f"{prefix}{len(names)}"
            names.append((group, part[1:-1]))
            body = ".+" if greedy and i == last_param else r"[^/()?,]+"
            out.append(f"(?P<{group}>{body})")
        else:
            out.append(re.escape(part))
    return "".join(out), names


@dataclass(frozen=True)
class Spec:
    """One api-version's contract: operations, definitions and the operation index."""

    api_version: str
    operations: Mapping[str, Operation]
    definitions: Mapping[str, Any]
    index: OperationIndex = field(repr=False, compare=False)
    bundle: Mapping[str, Any] = field(repr=False, compare=False)

    def match(self, method: str, path: str, query: Mapping[str, str] | None = None) -> Match | None:
        return self.index.match(method, path, query)


def spec_from_bundle(bundle: dict[str, Any], *, source: str = "<bundle>") -> Spec:
    """Turn a parsed bundle into a frozen Spec (no I/O)."""
    try:
        api_version = bundle["api_version"]
        operations = {op_id: _operation(api_version, raw) for op_id, raw in bundle["operations"].items()}
        definitions = bundle["definitions"]
    except (KeyError, TypeError) as exc:
        raise SpecError(
            source,
            f"not a pytest-batch schema bundle ({exc!r} missing or wrong)",
            hint="rebuild it with `pytest-batch schemas build`",
        ) from None
    frozen_ops = MappingProxyType(operations)
    return Spec(
        api_version, frozen_ops, MappingProxyType(definitions), OperationIndex(frozen_ops), MappingProxyType(bundle)
    )


def _operation(api_version: str, raw: dict[str, Any]) -> Operation:
    body = raw.get("body")
    pageable = raw.get("pageable")
    return Operation(
        operation_id=raw["operation_id"],
        api_version=api_version,
        method=raw["method"],
        path=raw["path"],
        parameters=tuple(
            Parameter(p["name"], p["in"], p["required"], p["schema"], p["spec_pointer"], p.get("collection_format"))
            for p in raw["parameters"]
        ),
        body=Body(body["name"], body["required"], body["schema"], body["spec_pointer"]) if body else None,
        consumes=tuple(raw["consumes"]),
        produces=tuple(raw["produces"]),
        responses=MappingProxyType(
            {
                code: Response(
                    code,
                    r.get("schema"),
                    MappingProxyType(r.get("headers") or {}),
                    r["spec_pointer"],
                    bool(r.get("file")),
                )
                for code, r in raw["responses"].items()
            }
        ),
        pageable=Pageable(pageable.get("next_link_name"), pageable.get("item_name") or "value") if pageable else None,
        deprecated=bool(raw.get("deprecated")),
        spec_pointer=raw["spec_pointer"],
        fixed_query=MappingProxyType(dict(raw.get("fixed_query") or {})),
    )


def default_bundle_dir() -> Path:
    """Bundles ship inside the wheel as `pytest_batch/schemas`; a checkout keeps them in `schemas/`."""
    here = Path(__file__).resolve().parent
    packaged = here / "schemas"
    if packaged.is_dir():
        return packaged
    return here.parent / "schemas"


def version_sort_key(api_version: str) -> tuple[str, str]:
    m = _VERSION_DATE.match(api_version)
    return (m.group(1) if m else "", api_version)


@dataclass(frozen=True, slots=True)
class Resolution:
    """Which bundle validates a request: `used` differs from `requested` when we fell back."""

    requested: str | None
    used: str
    note: str | None = None


class SpecLibrary:
    """All bundles in one folder, each loaded on first use and then kept."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_bundle_dir()
        self._specs: dict[str, Spec] = {}
        self._lock = threading.Lock()
        try:
            names = [p.stem for p in self.directory.glob("*.json") if _VERSION_DATE.match(p.stem)]
        except OSError:
            names = []
        if not names:
            raise SpecError(
                str(self.directory),
                "no schema bundles found",
                hint="run `pytest-batch schemas build --specs DIR --out schemas/` or reinstall pytest-batch",
            )
        self.versions: tuple[str, ...] = tuple(sorted(names, key=version_sort_key))

    def get(self, api_version: str) -> Spec:
        spec = self._specs.get(api_version)
        if spec is not None:
            return spec
        if api_version not in self.versions:
            raise UnknownApiVersion(api_version, self.versions)
        with self._lock:
            spec = self._specs.get(api_version)
            if spec is None:
                path = self.directory / f"{api_version}.json"
                try:
                    bundle = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise SpecError(
                        str(path), f"cannot read bundle: {exc}", hint="rebuild or reinstall the bundles"
                    ) from None
                spec = spec_from_bundle(bundle, source=str(path))
                self._specs[api_version] = spec
        return spec

    def resolve(self, api_version: str | None) -> Resolution:
        """Pick the bundle for a request's api-version: exact, else the closest older known one."""
        if api_version in self.versions:
            return Resolution(api_version, api_version)
        newest = self.versions[-1]
        if not api_version:
            return Resolution(api_version, newest, f"no api-version in the request; validated against {newest}")
        key = version_sort_key(api_version)
        older = [v for v in self.versions if version_sort_key(v) <= key]
        used = older[-1] if older else self.versions[0]
        relation = "closest older known version" if older else "oldest known version"
        return Resolution(
            api_version, used, f"unknown api-version {api_version!r}; validated against {used}, the {relation}"
        )
