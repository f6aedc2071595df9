"""Schema + overlay → generation nodes: the resolve and normalise passes of the strategy compiler.

A bundle schema is plain Draft 4 plus a few `x-` annotations; the overlay adds
rules anchored at a definition + property path. This pass turns both into one
small tree per (api-version, flavour, definition):

- `$ref` is followed (siblings ignored, as Draft 4 does) through a `Ref` node,
  so recursive definitions compile to a finite graph;
- `allOf` parts are merged; `anyOf`/`oneOf` (the bundles' nullable wrappers)
  and type lists become a `Union`;
- read-only properties are dropped from request objects (kept aside for
  mutations) and from their `required` lists, as the strict validator does;
- overlay rules are pushed down their paths to the node they constrain: value
  rules to a `Scalar` or `Array`, object rules to the `Obj` they name; rules
  that compare several values (`unique`, `no_overlap`, `total_count`) stay on
  the object that anchors them. A rule pushed through a `$ref` specialises that
  definition for this context only (cached per rule set).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..constraints import AGGREGATE_KINDS, OBJECT_KINDS, Constraint, Overlay
from ..errors import BatchContractError
from ..pointers import escape
from ..spec import Operation, Parameter, Spec
from .scalars import Scalar

REQUEST = "request"
RESPONSE = "response"
FLAVORS = (REQUEST, RESPONSE)

Placed = tuple[Constraint, tuple[str, ...]]  # a rule and the path (tokens) below the node that holds it


class StrategyError(BatchContractError):
    """A schema or overlay the strategy compiler cannot turn into a strategy."""


@dataclass(eq=False)
class Ref:
    """A definition used at some place; `target` is set once the definition is compiled (allows cycles)."""

    name: str
    target: Any = None


@dataclass(eq=False)
class Array:
    items: Any
    min_items: int
    max_items: int | None
    unique: bool
    rules: tuple[Constraint, ...]  # collection_size / total_length / serialized_size on this list
    pointer: str
    schema_min: int = 0  # the schema's own minItems / maxItems (min_items/max_items also fold in rules)
    schema_max: int | None = None


@dataclass(eq=False)
class Obj:
    names: tuple[str, ...]  # the definitions this object is an instance of (rules and labels)
    properties: dict[str, Any]  # allowed properties (read-only ones dropped for requests)
    required: tuple[str, ...]  # drawn every time: the schema's required + what a rule always requires
    optional: tuple[str, ...]
    schema_required: tuple[str, ...] = ()  # the schema's own `required` (what the validator enforces)
    promoted: tuple[Constraint, ...] = ()  # `required_if` rules without `when`, made into `required`
    read_only: dict[str, Any] = field(default_factory=dict)  # request flavour: dropped read-only property schemas
    additional: Any = None  # node for additionalProperties values, when the schema gives one
    free_form: bool = False  # no properties documented and none forbidden: any small JSON object
    closed: bool = False  # additionalProperties: false in the schema itself (an error, not drift, to break)
    object_rules: tuple[Constraint, ...] = ()
    aggregate_rules: tuple[Placed, ...] = ()
    # (property name, values naming this very definition, value → subtype definition)
    discriminator: tuple[str, tuple[str, ...], dict[str, Ref]] | None = None
    pointer: str = ""

    @property
    def has_rules(self) -> bool:
        return bool(self.object_rules or self.aggregate_rules)


@dataclass(eq=False)
class Union_:
    options: tuple[Any, ...]
    pointer: str


Node = Ref | Array | Obj | Union_ | Scalar  # what the compiler produces


def resolved(node: Any) -> Any:
    """The node itself, or the target of a `Ref` (after any chain of them)."""
    while isinstance(node, Ref):
        node = node.target
    return node


def object_of(node: Any) -> Obj | None:
    """The object node behind `node` (through refs and nullable unions), or None."""
    node = resolved(node)
    if isinstance(node, Union_):
        for option in node.options:
            found = object_of(option)
            if found is not None:
                return found
        return None
    return node if isinstance(node, Obj) else None


def array_of(node: Any) -> Array | None:
    node = resolved(node)
    if isinstance(node, Union_):
        return next((a for a in map(array_of, node.options) if a is not None), None)
    return node if isinstance(node, Array) else None


def scalar_of(node: Any) -> Scalar | None:
    node = resolved(node)
    if isinstance(node, Union_):
        return next((s for s in map(scalar_of, node.options) if s is not None and s.kind != "null"), None)
    return node if isinstance(node, Scalar) else None


def child(node: Any, token: str) -> Any:
    """The node one path token below `node` (`*` = array items), or None."""
    if token == "*":
        array = array_of(node)
        return array.items if array is not None else None
    obj = object_of(node)
    if obj is None:
        return None
    return obj.properties.get(token, obj.additional)


def node_at(node: Any, tokens: tuple[str, ...]) -> Any:
    for token in tokens:
        node = child(node, token)
        if node is None:
            return None
    return node


def ref_name(ref: Any, pointer: str) -> str:
    if not isinstance(ref, str) or not ref.startswith("#/definitions/"):
        raise StrategyError(f"{pointer}: unsupported $ref {ref!r}", hint="only #/definitions/<name> references resolve")
    return ref[len("#/definitions/") :].replace("~1", "/").replace("~0", "~")


class Compiler:
    """Nodes for one (Spec, overlay, flavour); every definition compiled once per context rule set."""

    def __init__(self, spec: Spec, overlay: Overlay | None, flavor: str) -> None:
        if flavor not in FLAVORS:
            raise StrategyError(f"unknown flavour {flavor!r}", hint=f"use one of {FLAVORS}")
        self.spec = spec
        self.overlay = overlay
        self.flavor = flavor
        self._definitions: dict[tuple[str, tuple], Ref] = {}

    # -- entry points ----------------------------------------------------------------

    def definition(self, name: str, context: tuple[Placed, ...] = ()) -> Ref:
        """The node for definition `name`, with `context` rules pushed here by an enclosing object."""
        key = (name, tuple(sorted((rule.id, tokens) for rule, tokens in context)))
        ref = self._definitions.get(key)
        if ref is not None:
            return ref
        if name not in self.spec.definitions:
            raise StrategyError(
                f"api-version {self.spec.api_version} has no definition {name!r}",
                hint="use a definition name of that version (names changed in 2025-06-01)",
            )
        ref = self._definitions[key] = Ref(name)
        ref.target = self.compile(
            self.spec.definitions[name], (*context, *self.own_rules(name)), f"/definitions/{escape(name)}", (name,)
        )
        return ref

    def parameter(self, operation: Operation, param: Parameter) -> Any:
        """The node for one path/query/header parameter, with the overlay rules targeting it.

        Header text is drawn from visible ASCII (HTTP headers carry nothing else); a path parameter is
        never empty (an empty segment would name another URL).
        """
        rules = ()
        if self.overlay is not None:
            rules = tuple(
                (rule, ())
                for rule, target in self.overlay.for_operation(self.spec.api_version, operation.operation_id)
                if (target.parameter or "").lower() == param.name.lower()
            )
        schema = dict(param.schema)
        if param.location == "path" and schema.get("type") == "string":
            schema["minLength"] = max(1, schema.get("minLength", 0))
        charset = "header" if param.location == "header" else "text"
        return self.compile(schema, rules, param.spec_pointer, charset=charset)

    def own_rules(self, name: str) -> tuple[Placed, ...]:
        if self.overlay is None:
            return ()
        return tuple((rule, target.path) for rule, target in self.overlay.for_definition(self.spec.api_version, name))

    # -- the pass --------------------------------------------------------------------

    def compile(
        self, schema: Any, context: tuple[Placed, ...], pointer: str, names: tuple[str, ...] = (), charset: str = "text"
    ) -> Any:
        if not isinstance(schema, Mapping):
            if schema is True or schema == {}:
                return Scalar("any", {}, (), pointer)
            raise StrategyError(f"{pointer}: a schema must be an object, got {schema!r}", hint="rebuild the bundle")
        if "$ref" in schema:
            return self.definition(ref_name(schema["$ref"], pointer), context)
        if "allOf" in schema:
            schema, more = self._merge(schema, pointer)
            names = (*names, *more)
            context = (*context, *(placed for name in more for placed in self.own_rules(name)))
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                options = tuple(
                    self.compile(option, context, f"{pointer}/{key}/{i}", names, charset)
                    for i, option in enumerate(schema[key])
                )
                return Union_(options, pointer)
        unsupported = sorted(
            set(schema) & {"not", "patternProperties", "dependencies", "minProperties", "maxProperties"}
        )
        if unsupported:
            raise StrategyError(
                f"{pointer}: schema keywords {unsupported} are not supported by pytest_batch.strategies"
            )
        kind = schema.get("type")
        if isinstance(kind, list):
            options = tuple(self.compile({**schema, "type": k}, context, pointer, names, charset) for k in kind)
            return options[0] if len(options) == 1 else Union_(options, pointer)
        if kind == "object" or (kind is None and ("properties" in schema or "additionalProperties" in schema)):
            return self._object(schema, context, pointer, names)
        if kind == "array":
            return self._array(schema, context, pointer, charset)
        if kind in ("string", "integer", "number", "boolean", "null"):
            return Scalar(kind, schema, _value_rules(context), pointer, charset=charset)
        if kind is None:
            return Scalar("any", schema, _value_rules(context), pointer)
        raise StrategyError(f"{pointer}: unknown type {kind!r}", hint="fix the bundle")

    def _merge(self, schema: Mapping[str, Any], pointer: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """One schema for all `allOf` parts (Draft 4: every part applies) and the definitions they name."""
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        names: list[str] = []
        for i, part in enumerate(schema["allOf"]):
            seen: set[str] = set()
            while isinstance(part, Mapping) and "$ref" in part:
                name = ref_name(part["$ref"], f"{pointer}/allOf/{i}")
                if name in seen or name not in self.spec.definitions:
                    raise StrategyError(
                        f"{pointer}/allOf/{i}: $ref {name!r} is missing or cyclic", hint="fix the bundle"
                    )
                seen.add(name)
                names.append(name)
                part = self.spec.definitions[name]
            if not isinstance(part, Mapping):
                continue
            if "allOf" in part:
                part, more = self._merge(part, f"{pointer}/allOf/{i}")
                names.extend(more)
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**value, **merged.get("properties", {})}
                elif key == "required":
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                elif key != "readOnly":
                    merged.setdefault(key, value)
        return merged, tuple(names)

    def _object(
        self, schema: Mapping[str, Any], context: tuple[Placed, ...], pointer: str, names: tuple[str, ...]
    ) -> Obj:
        here_object = tuple(rule for rule, tokens in context if not tokens and rule.kind in OBJECT_KINDS)
        aggregates = tuple((rule, tokens) for rule, tokens in context if rule.kind in AGGREGATE_KINDS)
        below: dict[str, list[Placed]] = {}
        for rule, tokens in context:
            if tokens and rule.kind not in AGGREGATE_KINDS:
                below.setdefault(tokens[0], []).append((rule, tokens[1:]))
        documented = schema.get("properties") or {}
        properties, read_only = {}, {}
        for name, sub in documented.items():
            where = f"{pointer}/properties/{escape(name)}"
            if self.flavor == REQUEST and isinstance(sub, Mapping) and sub.get("readOnly"):
                read_only[name] = sub
                continue
            properties[name] = self.compile(sub, tuple(below.get(name, ())), where)
        # "x is always required" (a `required_if` without `when`, naming one property): required, not repaired
        always = {
            rule.value["any_of"][0]
            for rule in here_object
            if rule.kind == "required_if" and not rule.value.get("when") and len(rule.value["any_of"]) == 1
        }
        wanted = [*(schema.get("required") or ()), *sorted(always)]
        required = tuple(name for name in dict.fromkeys(wanted) if name in properties)
        schema_required = tuple(name for name in dict.fromkeys(schema.get("required") or ()) if name in properties)

        def is_promoted(rule: Constraint) -> bool:
            return rule.kind == "required_if" and not rule.value.get("when") and rule.value["any_of"][0] in required

        promoted = tuple(rule for rule in here_object if is_promoted(rule))
        here_object = tuple(rule for rule in here_object if not is_promoted(rule))
        additional = schema.get("additionalProperties")
        additional_node = (
            self.compile(additional, (), f"{pointer}/additionalProperties") if isinstance(additional, Mapping) else None
        )
        discriminator = None
        raw = schema.get("x-discriminator")
        if (
            isinstance(raw, Mapping)
            and isinstance(raw.get("mapping"), Mapping)
            and isinstance(raw.get("propertyName"), str)
        ):
            own, subtypes = [], {}
            for value, ref in raw["mapping"].items():
                target = ref_name(ref, f"{pointer}/x-discriminator")
                if target in names:
                    own.append(value)
                else:
                    subtypes[value] = self.definition(target)
            if subtypes:
                discriminator = (raw["propertyName"], tuple(own), subtypes)
        return Obj(
            names=names,
            properties=properties,
            required=required,
            optional=tuple(name for name in properties if name not in required),
            schema_required=schema_required,
            promoted=promoted,
            read_only=read_only,
            additional=additional_node,
            free_form=not documented and additional is None,
            closed=additional is False,
            object_rules=here_object,
            aggregate_rules=aggregates,
            discriminator=discriminator,
            pointer=pointer,
        )

    def _array(
        self, schema: Mapping[str, Any], context: tuple[Placed, ...], pointer: str, charset: str = "text"
    ) -> Array:
        items = schema.get("items")
        below = tuple((rule, tokens[1:]) for rule, tokens in context if tokens and tokens[0] == "*")
        item_node = (
            self.compile(items, below, f"{pointer}/items", charset=charset)
            if isinstance(items, Mapping)
            else Scalar("any", {}, (), pointer)
        )
        here = _value_rules(context)
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        for rule in here:
            if rule.kind == "collection_size":
                low = max(low, rule.value.get("min", 0))
                if "max" in rule.value:
                    high = rule.value["max"] if high is None else min(high, rule.value["max"])
        return Array(
            item_node,
            low,
            high,
            bool(schema.get("uniqueItems")),
            here,
            pointer,
            schema.get("minItems", 0),
            schema.get("maxItems"),
        )


def _value_rules(context: tuple[Placed, ...]) -> tuple[Constraint, ...]:
    return tuple(rule for rule, tokens in context if not tokens and rule.kind not in OBJECT_KINDS | AGGREGATE_KINDS)
