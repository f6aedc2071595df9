"""What would break if the same traffic spoke another api-version: `pytest-batch drift PATH... --versions A,B`.

Two views, joined in one document (`pytest-batch-drift/1`):

- per interaction: each interaction is checked against the baseline version A and again against every
  target B (`Validator(api_version=...)`); findings that appear only under B would break, findings that
  disappear would be fixed. Findings are compared by (check, location, instance pointer), since schema
  pointers name definitions and those were renamed between versions. An operation the target lacks is
  reported as gone, whatever the target's path matcher makes of the URL.
- per spec: the two bundles side by side: operations only in one (paired by method + path template with
  parameter names ignored, so renamed operation ids still pair), definitions paired, properties removed,
  renamed or moved, new required properties, enum values removed or added, parameters removed or newly
  required.

Definition names changed wholesale in 2025-06-01 (`JobAddParameter` -> `BatchJobCreateOptions`), so
definitions are paired structurally, with no table: the request and response schemas of each pair of
operations pair their definitions, and from there every property present on both sides pairs the
definitions it refers to (through `$ref`, single-`allOf`, array items and maps), breadth-first; what is
left pairs by equal name. Property renames are a heuristic: within a definition pair, a property only in
A and one only in B are a rename when their schemas have the same shape (type and format, or paired
definitions) and their names are alike (difflib ratio >= 0.6, e.g. `maxTasksPerNode` -> `taskSlotsPerNode`,
or one name holds the other), plus a table of documented renames the names do not show (`blobSource` ->
`httpUrl`). A property is *moved* when the other side nests it one level down (`DataDisk.storageAccountType`
-> `managedDisk/storageAccountType`) or flattens it (`taskCounts/active` -> `active`).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from .errors import BatchContractError, RecordingError
from .interaction import Interaction
from .reports.observations import path_of
from .reports.specfacts import reachable_definitions
from .spec import Operation, Spec, SpecLibrary
from .validation import ERROR, WARNING, Outcome, Validator

DRIFT_FORMAT = "pytest-batch-drift/1"
RENAME_SIMILARITY = 0.6
# Renames the names do not reveal, as documented in the Batch changelog (2018-12-01.8.0: ResourceFile).
KNOWN_RENAMES = frozenset({("blobSource", "httpUrl")})
MAX_INTERACTIONS = 1000  # interactions listed per target; the counts cover all of them

_PREFIX = "#/definitions/"
_PARAM = re.compile(r"\{[^}]+\}")


# ---------------------------------------------------------------------------------------------------------------
# spec level


@dataclass(frozen=True, slots=True)
class OperationPair:
    method: str
    path: str
    baseline: str | None  # operation id in the baseline, None when only the target has it
    target: str | None


@dataclass(frozen=True, slots=True)
class PropertyChange:
    """`change`: removed (only in the baseline), added (only in the target), renamed or moved (`to`)."""

    change: str
    baseline_definition: str
    target_definition: str
    property: str
    to: str | None = None


@dataclass(frozen=True, slots=True)
class RequiredChange:
    baseline_definition: str
    target_definition: str
    property: str
    side: str  # request, response or both: where the target uses the definition


@dataclass(frozen=True, slots=True)
class EnumChange:
    baseline_definition: str
    target_definition: str
    property: str  # "" for an enum definition itself
    removed: tuple[str, ...]
    added: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParameterChange:
    change: str  # removed | new_required
    baseline_operation: str
    target_operation: str
    name: str
    location: str


@dataclass(frozen=True)
class SpecDiff:
    baseline: str
    target: str
    operations: tuple[OperationPair, ...]
    definitions: Mapping[str, str]  # baseline name -> target name
    definitions_only_in_baseline: tuple[str, ...]
    definitions_only_in_target: tuple[str, ...]
    properties: tuple[PropertyChange, ...]
    required: tuple[RequiredChange, ...]
    enums: tuple[EnumChange, ...]
    parameters: tuple[ParameterChange, ...]
    _target_of: Mapping[str, OperationPair] = field(default_factory=dict, repr=False, compare=False)

    def target_operation(self, baseline_operation_id: str) -> OperationPair | None:
        return self._target_of.get(baseline_operation_id)


def operation_key(op: Operation) -> tuple[str, str, tuple]:
    """An operation's identity across versions: method, path template without parameter names, fixed query."""
    return (op.method.upper(), _PARAM.sub("{}", op.path).lower(), tuple(sorted(op.fixed_query.items())))


def diff_specs(baseline: Spec, target: Spec) -> SpecDiff:
    """Everything that differs between two api-versions' bundles, baseline first."""
    a_ops = {operation_key(op): op for op in baseline.operations.values()}
    b_ops = {operation_key(op): op for op in target.operations.values()}
    pairs = []
    for key in sorted(set(a_ops) | set(b_ops)):
        a, b = a_ops.get(key), b_ops.get(key)
        shown = a or b
        assert shown is not None
        pairs.append(
            OperationPair(shown.method, shown.path, a.operation_id if a else None, b.operation_id if b else None)
        )
    matched = [(a_ops[k], b_ops[k]) for k in sorted(set(a_ops) & set(b_ops))]
    a_defs, b_defs = baseline.definitions, target.definitions
    mapping = _pair_definitions(a_defs, b_defs, matched)
    properties, required, enums = [], [], []
    request, response = _uses(target)
    for a_name, b_name in sorted(mapping.items()):
        a_def, b_def = a_defs[a_name], b_defs[b_name]
        properties.extend(_property_changes(a_name, b_name, a_def, b_def, a_defs, b_defs, mapping))
        newly = sorted(set(_list(b_def.get("required"))) - set(_list(a_def.get("required"))))
        side = "both" if b_name in request and b_name in response else "request" if b_name in request else "response"
        required.extend(RequiredChange(a_name, b_name, name, side) for name in newly)
        enums.extend(_enum_changes(a_name, b_name, a_def, b_def, a_defs, b_defs))
    parameters = [change for a, b in matched for change in _parameter_changes(a, b)]
    return SpecDiff(
        baseline.api_version,
        target.api_version,
        tuple(pairs),
        dict(mapping),
        tuple(sorted(set(a_defs) - set(mapping))),
        tuple(sorted(set(b_defs) - set(mapping.values()))),
        tuple(properties),
        tuple(required),
        tuple(enums),
        tuple(parameters),
        {p.baseline: p for p in pairs if p.baseline is not None},
    )


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _ref(schema: Any) -> str | None:
    """The definition a schema stands for: `$ref`, a single-`allOf` wrapper, array items or map values."""
    if not isinstance(schema, Mapping):
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_PREFIX):
        return ref[len(_PREFIX) :].replace("~1", "/").replace("~0", "~")
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        return _ref(all_of[0])
    if schema.get("type") == "array":
        return _ref(schema.get("items"))
    extra = schema.get("additionalProperties")
    return _ref(extra) if isinstance(extra, Mapping) else None


def _pair_definitions(a_defs, b_defs, matched: Sequence[tuple[Operation, Operation]]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    queue: deque[tuple[str, str]] = deque()

    def pair(a: str | None, b: str | None) -> None:
        if a and b and a in a_defs and b in b_defs and a not in mapping:
            mapping[a] = b
            queue.append((a, b))

    for a, b in matched:
        if a.body is not None and b.body is not None:
            pair(_ref(a.body.schema), _ref(b.body.schema))
        for code, response in a.responses.items():
            other = b.responses.get(code)
            if other is not None and response.schema and other.schema:
                pair(_ref(response.schema), _ref(other.schema))
    while queue:
        a, b = queue.popleft()
        a_props, b_props = _properties(a_defs[a]), _properties(b_defs[b])
        for name in sorted(a_props.keys() & b_props.keys()):
            pair(_ref(a_props[name]), _ref(b_props[name]))
        for x, y in zip(_list(a_defs[a].get("allOf")), _list(b_defs[b].get("allOf"))):
            pair(_ref(x), _ref(y))
    for name in sorted(set(a_defs) & set(b_defs)):
        if name not in mapping and name not in mapping.values():
            mapping[name] = name
    return mapping


def _properties(definition: Any) -> Mapping[str, Any]:
    props = definition.get("properties") if isinstance(definition, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def _shape(schema: Any) -> tuple:
    ref = _ref(schema) if not (isinstance(schema, Mapping) and schema.get("type") == "array") else None
    if ref is not None:
        return ("ref", ref)
    if not isinstance(schema, Mapping):
        return ("?",)
    kind = schema.get("type")
    if kind == "array":
        return ("array", _shape(schema.get("items")))
    return (kind, None if kind == "string" else schema.get("format"))


def _same_shape(a: tuple, b: tuple, mapping: Mapping[str, str]) -> bool:
    if a[0] == "ref" and b[0] == "ref":
        return mapping.get(a[1]) == b[1] or a[1] == b[1]
    if a[0] == "array" and b[0] == "array":
        return _same_shape(a[1], b[1], mapping)
    return a == b and a[0] not in (None, "?")


def _property_changes(a_name, b_name, a_def, b_def, a_defs, b_defs, mapping) -> list[PropertyChange]:
    a_props, b_props = _properties(a_def), _properties(b_def)
    removed = sorted(a_props.keys() - b_props.keys())
    added = sorted(b_props.keys() - a_props.keys())
    renames = _renames(removed, added, a_props, b_props, mapping)
    used = set(renames.values())
    out: list[PropertyChange] = []
    for name in removed:
        if name in renames:
            out.append(PropertyChange("renamed", a_name, b_name, name, renames[name]))
            continue
        free = [n for n in added if n not in used]
        moved = _moved_into(name, free, b_props, b_defs)
        if moved is not None:
            out.append(PropertyChange("moved", a_name, b_name, name, f"{moved}/{name}"))
            continue
        flattened = _flattened(name, a_props[name], a_defs, free)
        if flattened:
            used.update(flattened)
            out.append(PropertyChange("moved", a_name, b_name, name, ", ".join(flattened)))
            continue
        out.append(PropertyChange("removed", a_name, b_name, name))
    out.extend(PropertyChange("added", a_name, b_name, name) for name in added if name not in used)
    return out


def _renames(removed, added, a_props, b_props, mapping) -> dict[str, str]:
    """Removed -> added property pairs: the documented renames first, then the most alike names of the same
    shape, best pair first (so the choice does not depend on the order of the names)."""
    renames: dict[str, str] = {}
    for name in removed:
        for other in added:
            if (name, other) in KNOWN_RENAMES or (other, name) in KNOWN_RENAMES:
                renames[name] = other
    scored = sorted(
        (-_alike(name, other), name, other)
        for name in removed
        for other in added
        if name not in renames and _same_shape(_shape(a_props[name]), _shape(b_props[other]), mapping)
    )
    taken = set(renames.values())
    for score, name, other in scored:
        if -score >= RENAME_SIMILARITY and name not in renames and other not in taken:
            renames[name] = other
            taken.add(other)
    return renames


def _alike(a: str, b: str) -> float:
    """How alike two property names are: difflib's ratio, and at least the threshold when one name holds the
    other (`error` -> `errorDetails`)."""
    a, b = a.lower(), b.lower()
    ratio = SequenceMatcher(None, a, b).ratio()
    return max(ratio, RENAME_SIMILARITY) if a in b or b in a else ratio


def _moved_into(name, candidates, b_props, b_defs) -> str | None:
    """An added object property whose definition now holds `name` (nested one level down)."""
    for other in candidates:
        ref = _ref(b_props[other])
        if ref is not None and name in _properties(b_defs.get(ref)):
            return other
    return None


def _flattened(name, schema, a_defs, added) -> list[str]:
    """Properties of `name`'s object that the target has directly (the level was removed)."""
    ref = _ref(schema)
    inner = _properties(a_defs.get(ref)) if ref is not None else {}
    return sorted(set(inner) & set(added))


def _enum_values(schema: Any, defs: Mapping[str, Any]) -> tuple[str, ...] | None:
    if not isinstance(schema, Mapping):
        return None
    if isinstance(schema.get("enum"), list):
        return tuple(str(v) for v in schema["enum"])
    ref = _ref(schema) if schema.get("type") != "array" else None
    if ref is not None and isinstance(defs.get(ref), Mapping) and isinstance(defs[ref].get("enum"), list):
        return tuple(str(v) for v in defs[ref]["enum"])
    return None


def _enum_changes(a_name, b_name, a_def, b_def, a_defs, b_defs) -> list[EnumChange]:
    """Enum values only on one side, compared case-insensitively (the service does)."""
    candidates = [("", a_def, b_def)] if "enum" in a_def and "enum" in b_def else []
    a_props, b_props = _properties(a_def), _properties(b_def)
    for prop in sorted(a_props.keys() & b_props.keys()):
        a_ref, b_ref = _ref(a_props[prop]), _ref(b_props[prop])
        if a_ref is not None and b_ref is not None and "enum" in (a_defs.get(a_ref) or {}):
            continue  # a paired enum definition reports its own change, once
        candidates.append((prop, a_props[prop], b_props[prop]))
    out = []
    for prop, a_schema, b_schema in candidates:
        a_values, b_values = _enum_values(a_schema, a_defs), _enum_values(b_schema, b_defs)
        if a_values is None or b_values is None:
            continue
        a_folded, b_folded = {v.lower() for v in a_values}, {v.lower() for v in b_values}
        removed = tuple(v for v in a_values if v.lower() not in b_folded)
        added = tuple(v for v in b_values if v.lower() not in a_folded)
        if removed or added:
            out.append(EnumChange(a_name, b_name, prop, removed, added))
    return out


def _parameter_changes(a: Operation, b: Operation) -> Iterable[ParameterChange]:
    skip = {"api-version"}
    a_params = {(p.name.lower(), p.location): p for p in a.parameters if p.name.lower() not in skip}
    b_params = {(p.name.lower(), p.location): p for p in b.parameters if p.name.lower() not in skip}
    for key in sorted(a_params.keys() - b_params.keys()):
        if a_params[key].location != "path":  # path parameters are renamed freely; the template pairs them
            yield ParameterChange("removed", a.operation_id, b.operation_id, a_params[key].name, key[1])
    for key in sorted(b_params.keys() - a_params.keys()):
        if b_params[key].required and b_params[key].location != "path":
            yield ParameterChange("new_required", a.operation_id, b.operation_id, b_params[key].name, key[1])


def _uses(spec: Spec) -> tuple[set[str], set[str]]:
    """Definitions reachable from request bodies, and from response bodies."""
    request: set[str] = set()
    response: set[str] = set()
    for op in spec.operations.values():
        if op.body is not None:
            request |= reachable_definitions(spec.definitions, op.body.schema)
        for r in op.responses.values():
            if r.schema:
                response |= reachable_definitions(spec.definitions, r.schema)
    return request, response


# ---------------------------------------------------------------------------------------------------------------
# per interaction


def _compare_key(v) -> tuple[str, str, str]:
    return (v.check, v.location, v.instance_pointer)


@dataclass
class _Group:
    first: Any
    source: str | None
    count: int = 0


@dataclass
class _Target:
    diff: SpecDiff
    validator: Validator
    checked: int = 0
    breaking: int = 0
    warnings_only: int = 0
    fixed: int = 0
    gone: dict[str, list] = field(default_factory=dict)  # baseline op id -> [pair, calls, first source]
    new: dict[tuple, _Group] = field(default_factory=dict)
    fixed_groups: dict[tuple, _Group] = field(default_factory=dict)
    listed: list[dict[str, Any]] = field(default_factory=list)


class DriftRun:
    """Folds interactions one at a time (flat memory); `document()` is the drift report."""

    def __init__(self, library: SpecLibrary, versions: Sequence[str]) -> None:
        if len(versions) < 2:
            raise BatchContractError("drift needs a baseline api-version and at least one other", hint="--versions A,B")
        self.baseline = versions[0]
        self.validator = Validator(library, api_version=self.baseline)
        base_spec = library.get(self.baseline)
        self.targets = {
            v: _Target(diff_specs(base_spec, library.get(v)), Validator(library, api_version=v)) for v in versions[1:]
        }
        self.files = 0
        self.interactions = 0
        self.batch = 0
        self.skipped = 0
        self.unusable: list[str] = []
        self.unusable_count = 0

    def add_unusable(self, error: RecordingError | Exception) -> None:
        self.unusable_count += 1
        if len(self.unusable) < 200:
            self.unusable.append(str(error))

    def add(self, interaction: Interaction) -> None:
        self.interactions += 1
        try:
            base = self.validator.check(interaction)
        except BatchContractError as exc:
            self.add_unusable(exc)
            return
        if base.skipped is not None:
            self.skipped += 1
            return
        self.batch += 1
        source = str(interaction.source) if interaction.source else None
        for name, target in self.targets.items():
            self._compare(name, target, interaction, base, source)

    def _compare(self, name: str, target: _Target, interaction: Interaction, base: Outcome, source: str | None) -> None:
        target.checked += 1
        pair = target.diff.target_operation(base.operation_id) if base.operation_id else None
        where = {"source": source, "method": interaction.method, "path": path_of(interaction.url)}
        if pair is not None and pair.target is None:
            entry = target.gone.setdefault(base.operation_id, [pair, 0, source])
            entry[1] += 1
            target.breaking += 1
            self._list(target, where, base.operation_id, [f"operation {base.operation_id} does not exist in {name}"])
            return
        other = target.validator.check(interaction)
        before = {_compare_key(v) for v in base.violations}
        after = {_compare_key(v) for v in other.violations}
        new = [v for v in other.violations if _compare_key(v) not in before]
        gone = [v for v in base.violations if _compare_key(v) not in after]
        for v in new:
            key = (v.check, v.severity, base.operation_id, v.location, v.schema_pointer)
            group = target.new.setdefault(key, _Group(v, source))
            group.count += 1
        for v in gone:
            key = (v.check, v.severity, base.operation_id, v.location, v.schema_pointer)
            group = target.fixed_groups.setdefault(key, _Group(v, source))
            group.count += 1
        if any(v.severity == ERROR for v in new):
            target.breaking += 1
            lines = [
                f"{v.severity} {v.check} at {v.location}{v.instance_pointer}: {v.message}"
                for v in sorted(new, key=lambda v: v.rank())
            ]
            self._list(target, where, base.operation_id, lines)
        elif new:
            target.warnings_only += 1
        if gone:
            target.fixed += 1

    @staticmethod
    def _list(target: _Target, where: dict, operation_id: str | None, lines: list[str]) -> None:
        if len(target.listed) < MAX_INTERACTIONS:
            target.listed.append({**where, "operation_id": operation_id, "changes": lines})

    def exit_code(self) -> int:
        if self.unusable_count:
            return 2
        return 1 if any(t.breaking for t in self.targets.values()) else 0

    def document(self) -> dict[str, Any]:
        return {
            "format": DRIFT_FORMAT,
            "baseline": self.baseline,
            "targets": list(self.targets),
            "input": {
                "files": self.files,
                "interactions": self.interactions,
                "batch": self.batch,
                "skipped": self.skipped,
                "unusable": {"count": self.unusable_count, "messages": list(self.unusable)},
            },
            "comparisons": [self._comparison(name, t) for name, t in self.targets.items()],
        }

    def _comparison(self, name: str, t: _Target) -> dict[str, Any]:
        notes = _rename_notes(t.diff)
        return {
            "target": name,
            "interactions": {
                "checked": t.checked,
                "breaking": t.breaking,
                "warnings_only": t.warnings_only,
                "with_fixes": t.fixed,
                "listed": len(t.listed),
            },
            "operations_gone": [
                {"operation_id": op_id, "method": pair.method, "path": pair.path, "calls": calls, "first_source": first}
                for op_id, (pair, calls, first) in sorted(t.gone.items(), key=lambda kv: (-kv[1][1], kv[0]))
            ],
            "new_findings": _groups(t.new, notes),
            "fixed_findings": _groups(t.fixed_groups, {}),
            "breaking_interactions": t.listed,
            "spec": spec_diff_document(t.diff),
        }


def _rename_notes(diff: SpecDiff) -> dict[tuple[str, str], str]:
    """(target definition, property the traffic sends) -> what the spec diff says happened to it."""
    notes = {}
    for change in diff.properties:
        if change.change == "renamed":
            notes[(change.target_definition, change.property)] = f"renamed to {change.to} in {diff.target}"
        elif change.change == "moved":
            notes[(change.target_definition, change.property)] = f"moved to {change.to} in {diff.target}"
        elif change.change == "removed":
            notes[(change.target_definition, change.property)] = f"removed in {diff.target}"
    return notes


def _groups(groups: Mapping[tuple, _Group], notes: Mapping[tuple[str, str], str]) -> list[dict[str, Any]]:
    rows = []
    for (check, severity, op_id, location, pointer), g in groups.items():
        v = g.first
        definition = pointer.split("/")[2] if pointer.startswith("/definitions/") else ""
        note = notes.get((definition, str(v.actual))) if check == "undocumented_property" else None
        rows.append(
            {
                "check": check,
                "severity": severity,
                "operation_id": op_id,
                "target_operation_id": v.operation_id,
                "location": location,
                "instance_pointer": v.instance_pointer,
                "schema_pointer": pointer,
                "message": v.message,
                "note": note,
                "count": g.count,
                "first_source": g.source,
            }
        )
    rows.sort(
        key=lambda r: (r["severity"] != ERROR, -r["count"], r["operation_id"] or "", r["location"], r["schema_pointer"])
    )
    return rows


def spec_diff_document(diff: SpecDiff) -> dict[str, Any]:
    def op(pair: OperationPair, which: str | None) -> dict[str, Any]:
        return {"operation_id": which, "method": pair.method, "path": pair.path}

    return {
        "operations_only_in_baseline": [op(p, p.baseline) for p in diff.operations if p.target is None],
        "operations_only_in_target": [op(p, p.target) for p in diff.operations if p.baseline is None],
        "operations_renamed": [
            {"baseline": p.baseline, "target": p.target, "method": p.method, "path": p.path}
            for p in diff.operations
            if p.baseline and p.target and p.baseline != p.target
        ],
        "operations_in_both": sum(1 for p in diff.operations if p.baseline and p.target),
        "definitions_renamed": [{"baseline": a, "target": b} for a, b in sorted(diff.definitions.items()) if a != b],
        "definitions_only_in_baseline": list(diff.definitions_only_in_baseline),
        "definitions_only_in_target": list(diff.definitions_only_in_target),
        "properties": [
            {
                "change": c.change,
                "baseline_definition": c.baseline_definition,
                "target_definition": c.target_definition,
                "property": c.property,
                "to": c.to,
            }
            for c in diff.properties
        ],
        "new_required": [
            {
                "baseline_definition": r.baseline_definition,
                "target_definition": r.target_definition,
                "property": r.property,
                "side": r.side,
            }
            for r in diff.required
        ],
        "enums": [
            {
                "baseline_definition": e.baseline_definition,
                "target_definition": e.target_definition,
                "property": e.property,
                "removed": list(e.removed),
                "added": list(e.added),
            }
            for e in diff.enums
        ],
        "parameters": [
            {
                "change": p.change,
                "baseline_operation": p.baseline_operation,
                "target_operation": p.target_operation,
                "name": p.name,
                "in": p.location,
            }
            for p in diff.parameters
        ],
    }


# ---------------------------------------------------------------------------------------------------------------
# text


def render_text(document: Mapping[str, Any], *, limit: int = 20) -> str:
    i = document["input"]
    lines = [
        (
            f"pytest-batch drift: {i['interactions']} interactions in {i['files']} files ({i['batch']} Batch, "
            f"{i['skipped']} skipped, {i['unusable']['count']} unusable); baseline {document['baseline']}"
        ),
    ]
    lines.extend(f"  unusable: {m}" for m in i["unusable"]["messages"][:limit])
    for c in document["comparisons"]:
        lines += _comparison_text(document["baseline"], c, limit)
    return "\n".join(lines) + "\n"


def _more(items: Sequence[Any], limit: int) -> list[str]:
    return [f"    … and {len(items) - limit} more"] if len(items) > limit else []


def _comparison_text(baseline: str, c: Mapping[str, Any], limit: int) -> list[str]:
    target, n, spec = c["target"], c["interactions"], c["spec"]
    lines = [
        f"== {baseline} -> {target} ==",
        (
            f"traffic: {n['breaking']} of {n['checked']} interactions would break on {target}, "
            f"{n['warnings_only']} more would get warnings only, {n['with_fixes']} would lose a finding"
        ),
    ]
    gone = c["operations_gone"]
    if gone:
        lines.append(f"  operations the traffic uses that {target} does not have ({len(gone)}):")
        lines += [f"    {g['operation_id']} {g['method']} {g['path']} ({g['calls']} calls, first {g['first_source']})"
                  for g in gone[:limit]]  # fmt: skip
        lines += _more(gone, limit)
    new = [f for f in c["new_findings"] if f["severity"] == ERROR] + [
        f for f in c["new_findings"] if f["severity"] == WARNING
    ]
    if new:
        lines.append(f"  new findings on {target} ({len(new)} distinct):")
        for f in new[:limit]:
            note = f" ({f['note']})" if f["note"] else ""
            lines.append(
                f"    {f['count']:>5}x {f['severity']} {f['check']} {f['operation_id']}"
                f"{' -> ' + f['target_operation_id'] if f['target_operation_id'] and f['target_operation_id'] != f['operation_id'] else ''}"
                f" at {f['location']}{f['instance_pointer']}: {f['message']}{note} [spec {f['schema_pointer']}]"
                f" first {f['first_source']}"
            )
        lines += _more(new, limit)
    if c["breaking_interactions"]:
        lines.append(f"  interactions that would break (first {min(limit, len(c['breaking_interactions']))}):")
        for item in c["breaking_interactions"][:limit]:
            lines.append(f"    {item['source'] or '(live)'} {item['method']} {item['path']}: {item['changes'][0]}"
                         + (f" (+{len(item['changes']) - 1} more)" if len(item["changes"]) > 1 else ""))  # fmt: skip
    lines.append(f"  spec {baseline} -> {target}: {spec['operations_in_both']} operations in both, "
                 f"{len(spec['operations_renamed'])} of them renamed, {len(spec['definitions_renamed'])} definitions "
                 "renamed")  # fmt: skip
    for key, label in (("operations_only_in_baseline", baseline), ("operations_only_in_target", target)):
        ops = spec[key]
        if ops:
            lines.append(f"  operations only in {label} ({len(ops)}):")
            lines += [f"    {o['method']} {o['path']} ({o['operation_id']})" for o in ops[:limit]]
            lines += _more(ops, limit)
    changed = [p for p in spec["properties"] if p["change"] != "added"]
    if changed:
        lines.append(f"  properties removed, renamed or moved ({len(changed)}; "
                     f"{len(spec['properties']) - len(changed)} added):")  # fmt: skip
        for p in changed[: limit * 2]:
            to = f" -> {p['to']}" if p["to"] else ""
            lines.append(f"    {p['change']:<8} {p['baseline_definition']}.{p['property']}{to}"
                         f" (in {target}: {p['target_definition']})")  # fmt: skip
        lines += _more(changed, limit * 2)
    required = spec["new_required"]
    if required:
        lines.append(f"  properties required in {target} only ({len(required)}):")
        lines += [f"    {r['target_definition']}.{r['property']} ({r['side']})" for r in required[:limit]]
        lines += _more(required, limit)
    if spec["enums"]:
        lines.append(f"  enum changes ({len(spec['enums'])}):")
        for e in spec["enums"][:limit]:
            prop = f".{e['property']}" if e["property"] else ""
            lines.append(f"    {e['baseline_definition']}{prop}: only in {baseline} {e['removed']}, "
                         f"only in {target} {e['added']}")  # fmt: skip
        lines += _more(spec["enums"], limit)
    if spec["parameters"]:
        lines.append(f"  parameters ({len(spec['parameters'])}):")
        lines += [f"    {p['change']} {p['in']} {p['name']} ({p['baseline_operation']} -> {p['target_operation']})"
                  for p in spec["parameters"][:limit]]  # fmt: skip
        lines += _more(spec["parameters"], limit)
    return lines
