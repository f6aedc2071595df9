"""Compiled body validators: a fast accept path and a precise explaining path.

Most recorded traffic is valid, so each body is first run through a
jsonschema-rs validator compiled from a *strict* variant of the bundle: objects
closed (`additionalProperties: false`), open enums closed, read-only properties
forbidden in requests. If it accepts, there is provably nothing to report —
no error and no drift. Only rejected bodies go to the slow path: the pure
Python `jsonschema` Draft 4 validator over the very same strict schema, whose
errors are then classified (drift → warnings, the rest → errors) with a
pointer back into the bundle (= the spec's `/definitions/...` pointer).

Both validators use the predicates of `formats`, so they agree on every value.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import formats as fmt
from .pointers import escape, pointer
from .spec import Spec

REQUEST = "request"
RESPONSE = "response"
# A response to a request with `$select`: the service sends only the selected properties,
# so `required` cannot hold; everything else (types, formats, closed objects) still does.
SELECTED = "response-selected"

# Markers the strict transform leaves behind so explanations can be classified.
CLOSED = "x-closed"  # additionalProperties: false was added by us (drift, not an error)
READ_ONLY = "x-readonly-in-request"  # a readOnly property sent in a request
ODATA_ANNOTATION = r"^odata\."


@dataclass(frozen=True, slots=True)
class BodyError:
    """One explained body problem, before it becomes a `Violation`."""

    kind: str  # "error" | "undocumented_property" | "unknown_enum_value" | "read_only"
    instance_pointer: str
    schema_pointer: str
    keyword: str
    expected: Any
    actual: Any
    message: str


def strict_variant(definitions: Mapping[str, Any], flavor: str) -> dict[str, Any]:
    """A deep copy of `definitions` with objects closed and (for requests) readOnly forbidden."""
    out = _copy(dict(definitions))
    for schema in out.values():
        _close(schema, flavor)
    return out


def _close(node: Any, flavor: str) -> None:
    if isinstance(node, list):
        for item in node:
            _close(item, flavor)
        return
    if not isinstance(node, dict):
        return
    props = node.get("properties")
    if isinstance(props, dict):
        if "additionalProperties" not in node:
            node["additionalProperties"] = False
            node[CLOSED] = True
            if flavor in (RESPONSE, SELECTED):
                # OData control information (odata.metadata, odata.nextLink…) comes with the
                # odata=minimalmetadata media type, not with the Batch schemas.
                node.setdefault("patternProperties", {})[ODATA_ANNOTATION] = {}
        if flavor == REQUEST:
            for name, sub in list(props.items()):
                if isinstance(sub, dict) and sub.get("readOnly"):
                    props[name] = {"not": {}, READ_ONLY: True}
            if isinstance(node.get("required"), list):  # a read-only property is required of responses only
                node["required"] = [name for name in node["required"] if not props.get(name, {}).get(READ_ONLY)]
                if not node["required"]:  # draft 4: `required` holds at least one name
                    del node["required"]
    if flavor == SELECTED:
        node.pop("required", None)
    for key, value in node.items():
        if key in ("properties",):
            for sub in value.values():
                _close(sub, flavor)
        elif isinstance(value, (dict, list)) and key not in ("enum", "default", "x-discriminator"):
            _close(value, flavor)


def _dumps(document: Any) -> bytes:
    import orjson

    return orjson.dumps(document)


def _copy(document: Any) -> Any:
    """Deep copy of plain JSON data; a round trip through orjson is ~20x faster than copy.deepcopy."""
    import orjson

    return orjson.loads(orjson.dumps(document))


def _references(node: Any, found: set[str]) -> set[str]:
    """Names of the definitions `node` refers to directly."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref[len("#/definitions/") :])
        for key, value in node.items():
            if key not in ("enum", "default"):
                _references(value, found)
    elif isinstance(node, list):
        for item in node:
            _references(item, found)
    return found


def reachable(definitions: Mapping[str, Any], name: str, edges: dict[str, set[str]]) -> set[str]:
    """`name` and every definition it reaches through `$ref`s (`edges` caches direct references)."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in definitions:
            continue
        seen.add(current)
        direct = edges.get(current)
        if direct is None:
            direct = edges[current] = _references(definitions[current], set())
        todo.extend(direct - seen)
    return seen


def _bound_integers(node: Any) -> None:
    """jsonschema-rs applies formats to strings only: express int32/int64 on numbers as a range."""
    if isinstance(node, list):
        for item in node:
            _bound_integers(item)
        return
    if not isinstance(node, dict):
        return
    bounds = fmt.INTEGER_BOUNDS.get(node.get("format"))
    if bounds and node.get("type") in ("integer", "number"):
        node["minimum"] = max(node.get("minimum", bounds[0]), bounds[0])
        node["maximum"] = min(node.get("maximum", bounds[1]), bounds[1])
    for key, value in node.items():
        if isinstance(value, (dict, list)) and key not in ("enum", "default"):
            _bound_integers(value)


def _pointer_index(definitions: Mapping[str, Any]) -> dict[int, str]:
    """id(schema node) → JSON pointer in the bundle, for every dict node."""
    index: dict[int, str] = {}

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            index[id(node)] = pointer
            for key, value in node.items():
                if key not in ("enum", "default"):
                    walk(value, f"{pointer}/{escape(key)}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{pointer}/{i}")

    for name, schema in definitions.items():
        walk(schema, f"/definitions/{escape(name)}")
    return index


class CompiledSpec:
    """Body validators for one Spec, compiled lazily per (flavor, target schema).

    One jsonschema-rs validator per target actually used (a `$ref` root compiles only
    the definitions it reaches), not a map of every definition: a version is ready in
    milliseconds and memory grows with the traffic's variety, not the spec's size.
    """

    def __init__(self, spec: Spec, *, shared: dict[bytes, Any] | None = None) -> None:
        self.spec = spec
        # api-versions share most definitions: a `Validator` checking many versions hands each of its
        # CompiledSpecs one store, holding jsonschema-rs validators by a digest of their root (each
        # distinct root compiles once) and strict variants by (flavor, name, digest of the definition)
        # (each distinct definition is copied, closed and bounded once)
        self._shared: dict[Any, Any] = shared if shared is not None else {}
        self._lock = threading.Lock()
        self._strict: dict[str, dict[str, Any]] = {}
        self._rs_definitions: dict[str, dict[str, Any]] = {}
        self._pointers: dict[str, dict[int, str]] = {}
        self._fast: dict[tuple[str, str], Any] = {}
        self._explainers: dict[tuple[str, str], Any] = {}
        self._inline: dict[tuple[str, int], str] = {}
        self._edges: dict[str, dict[str, set[str]]] = {}  # flavor → definition → direct $refs
        # flavor → definition → digest of its jsonschema-rs variant (what a compiled root is made of)
        self._digests: dict[str, dict[str, bytes]] = {}
        self._drift_nodes: dict[tuple, tuple] = {}  # (flavor, *schema path) → what `_drift_node` found

    # -- public -------------------------------------------------------------

    def is_valid(self, schema: Mapping[str, Any], document: Any, flavor: str) -> bool:
        """Fast path: True when `document` has nothing to report against `schema`."""
        target = self._target(schema, flavor)
        fast = self._fast.get((flavor, target)) or self._compile_fast(flavor, target)
        return fast.is_valid(document)

    def fast_validator(self, schema: Mapping[str, Any], flavor: str) -> Any:
        """The jsonschema-rs validator `is_valid` uses for `schema`, for callers that keep it at hand."""
        target = self._target(schema, flavor)
        return self._fast.get((flavor, target)) or self._compile_fast(flavor, target)

    def explain(
        self, schema: Mapping[str, Any], document: Any, flavor: str, *, exact: Callable[[], Any] | None = None
    ) -> list[BodyError]:
        """Every problem with `document`, classified, in a fixed order.

        Drift alone (case-only or open enum values, undocumented properties, read-only
        properties in requests) is explained from jsonschema-rs's own errors, whose
        schema paths are absolute in the bundle; anything else goes to the pure-Python
        jsonschema explainer, whose messages and `best_match` are richer.
        """
        target = self._target(schema, flavor)
        found = self._explain_drift(flavor, target, document)
        if found is None:
            # `exact` re-reads the body when the fast parse may have bent it (orjson reads
            # integers beyond 64 bits as floats); drift findings do not depend on that.
            found = self._explain_fully(flavor, target, exact() if exact is not None else document)
        # A value of the wrong type also fails its format; the type error says it all.
        mistyped = {e.instance_pointer for e in found if e.keyword == "type"}
        kept = [e for e in found if not (e.keyword == "format" and e.instance_pointer in mistyped)]
        return sorted(kept, key=lambda e: (e.instance_pointer, e.schema_pointer, e.kind, e.message))

    # -- compilation ----------------------------------------------------------

    def _strict_for(self, flavor: str) -> dict[str, Any]:
        """The strict variant of the definitions made so far (callers hold the lock).

        Definitions are made one by one as targets reach them (`_materialize`): the strict
        transform is per definition, and a run meets a fraction of a version's definitions.
        """
        strict = self._strict.get(flavor)
        if strict is None:
            strict = self._strict[flavor] = {}
            self._rs_definitions[flavor] = {}
            self._digests[flavor] = {}
            self._edges.setdefault(flavor, {})
        return strict

    def _materialize(self, flavor: str, names: Iterable[str]) -> bool:
        """Strict (and jsonschema-rs) variants of the named definitions, made once each (lock held).
        True when any was new. A definition another version already made with the same content is
        taken from the shared store: the variants are never changed once made."""
        import orjson

        strict = self._strict_for(flavor)
        rs_definitions, digests, edges = self._rs_definitions[flavor], self._digests[flavor], self._edges[flavor]
        definitions = self.spec.definitions
        made = False
        for name in names:
            if name not in strict and name in definitions:
                made = True
                text = orjson.dumps(definitions[name])
                digest = hashlib.blake2b(text, digest_size=16).digest()
                key = (flavor, name, digest)
                entry = self._shared.get(key)
                if entry is None:
                    node = orjson.loads(text)
                    _close(node, flavor)
                    rs_node = _copy(node)
                    _bound_integers(rs_node)
                    rs_digest = hashlib.blake2b(orjson.dumps(rs_node), digest_size=16).digest()
                    references = frozenset(_references(rs_node, set()))
                    entry = self._shared.setdefault(key, (node, rs_node, references, rs_digest))
                strict[name], rs_definitions[name], edges[name], digests[name] = entry
        return made

    def _reachable(self, flavor: str, name: str) -> set[str]:
        """`name` and every definition it reaches through `$ref`s, made on the way (lock held)."""
        rs_definitions = self._rs_definitions[flavor]
        edges = self._edges[flavor]
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            if current not in rs_definitions:
                if current not in self.spec.definitions:
                    continue
                self._materialize(flavor, (current,))
            seen.add(current)
            direct = edges.get(current)
            if direct is None:
                direct = edges[current] = frozenset(_references(rs_definitions[current], set()))
            todo.extend(direct - seen)
        return seen

    def _target(self, schema: Mapping[str, Any], flavor: str) -> str:
        """Pointer naming `schema` in the compiled root; inline schemas get a synthetic definition."""
        ref = schema.get("$ref") if len(schema) == 1 else None
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            return ref
        key = (flavor, id(schema))
        name = self._inline.get(key)
        if name is None:
            with self._lock:
                name = f"__inline_{len(self._inline)}"
                strict = self._strict_for(flavor)
                node = _copy(dict(schema))
                _close(node, flavor)
                strict[name] = node
                self._pointers.pop(flavor, None)  # rebuilt on demand with the new node
                rs_node = _copy(node)
                _bound_integers(rs_node)
                self._rs_definitions[flavor][name] = rs_node
                self._digests[flavor][name] = hashlib.blake2b(_dumps(rs_node), digest_size=16).digest()
                self._inline[key] = name
        return f"#/definitions/{name}"

    def _compile_fast(self, flavor: str, target: str):
        import jsonschema_rs

        with self._lock:
            self._strict_for(flavor)
            definitions = self._rs_definitions[flavor]
            # Only what the target reaches: compiling cost follows the target, not the spec.
            names = self._reachable(flavor, target[len("#/definitions/") :])
            # Draft 4 is explicit: under newer drafts 1.0 would be an integer.
            ordered = sorted(names)
            root = {"$schema": DRAFT4, "$ref": target, "definitions": {n: definitions[n] for n in ordered}}
            # the root is named by its target and its definitions' names and digests: no dump of the root
            digests = self._digests[flavor]
            identity = hashlib.blake2b(target.encode(), digest_size=16)
            for n in ordered:
                identity.update(b"\0" + n.encode() + b"\0" + digests[n])
            key = identity.digest()
            fast = self._shared.get(key)
            if fast is None:
                fast = jsonschema_rs.validator_for(
                    root, formats=dict(fmt.FORMATS), validate_formats=True, ignore_unknown_formats=True
                )
                fast = self._shared.setdefault(key, fast)
            self._fast[(flavor, target)] = fast
            return fast

    def _compile_explainer(self, flavor: str, target: str):
        from jsonschema import Draft4Validator

        with self._lock:
            strict = self._strict_for(flavor)
            if self._materialize(flavor, self.spec.definitions):  # the pure-Python root resolves any $ref
                self._pointers.pop(flavor, None)  # rebuilt on demand over every definition
            root = {"allOf": [{"$ref": target}], "definitions": strict}
            validator = Draft4Validator(root, format_checker=fmt.format_checker())
            self._explainers[(flavor, target)] = validator
            return validator

    def _explain_fully(self, flavor: str, target: str, document: Any) -> list[BodyError]:
        validator = self._explainers.get((flavor, target)) or self._compile_explainer(flavor, target)
        pointers = self._pointers.get(flavor)
        if pointers is None:  # only full explanations need it: built on first use
            pointers = self._pointers.setdefault(flavor, _pointer_index(self._strict[flavor]))
        return [item for error in validator.iter_errors(document) for item in _classify(_innermost(error), pointers)]

    def _explain_drift(self, flavor: str, target: str, document: Any) -> list[BodyError] | None:
        """BodyErrors from jsonschema-rs when every error is drift; None when any is not."""
        fast = self._fast.get((flavor, target)) or self._compile_fast(flavor, target)
        nodes = self._drift_nodes
        found: list[BodyError] = []
        for error in fast.iter_errors(document):
            schema_path = error.schema_path
            key = (flavor, *schema_path)
            entry = nodes.get(key)
            if entry is None:
                entry = self._drift_node(flavor, list(schema_path))
                if entry is None:
                    return None
                if len(nodes) < _DRIFT_NODES_BOUND:
                    nodes[key] = entry
            node, keyword, node_pointer, folded = entry
            instance_pointer = _fast_pointer(error.instance_path)
            drift = _drift(keyword, node, node_pointer, instance_pointer, error.instance, folded)
            if drift is None:
                # the value as parsed, not jsonschema-rs's copy of it (which sorts object keys)
                value = _walk(document, list(error.instance_path), missing=_MISSING)
                drift = _type_error(keyword, node, node_pointer, instance_pointer, value)
                if drift is None:
                    return None
            found.extend(drift)
        return found

    def _drift_node(self, flavor: str, path: list) -> tuple | None:
        """(schema node, keyword, node pointer, folded enum or None) for a jsonschema-rs schema path."""
        node = _walk({"definitions": self._strict[flavor]}, path[:-1])
        if not isinstance(node, dict) or not path:
            return None
        keyword = str(path[-1])
        values = node.get("enum") if keyword == "enum" else None
        folded = {str(v).lower(): v for v in values} if isinstance(values, list) else None
        return (node, keyword, pointer(path[:-1]), folded)


# Schema locations met by drift explanations: bounded by the spec's size, capped all the same.
_DRIFT_NODES_BOUND = 1 << 16


def _fast_pointer(tokens: list) -> str:
    """`pointer(tokens)`, joining once when no token needs escaping (the usual case)."""
    if not tokens:
        return ""
    text = "/".join(map(str, tokens))
    if "~" in text or text.count("/") != len(tokens) - 1:
        return pointer(tokens)
    return "/" + text


DRAFT4 = "http://json-schema.org/draft-04/schema#"


_MISSING = object()


def _walk(node: Any, path: list, missing: Any = None) -> Any:
    for part in path:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
        else:
            return missing
    return node


def _innermost(error):
    """Descend anyOf/oneOf (nullable wrappers) to the most relevant sub-error."""
    from jsonschema.exceptions import best_match

    while error.validator in ("anyOf", "oneOf", "allOf") and error.context:
        error = best_match(error.context)
    return error


def _classify(error, pointers: Mapping[int, str]) -> Iterator[BodyError]:
    """BodyErrors for one jsonschema error: drift where it is drift, else an error."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    node_pointer = pointers.get(id(schema), "")
    instance_pointer = pointer(error.absolute_path)
    keyword = str(error.validator)
    drift = _drift(keyword, schema, node_pointer, instance_pointer, error.instance)
    if drift is not None:
        yield from drift
        return
    expected: Any = error.validator_value
    message = error.message
    if keyword == "format":
        expected = fmt.EXPECTED.get(str(error.validator_value), error.validator_value)
        message = f"{error.instance!r} is not {expected}"
    yield BodyError("error", instance_pointer, f"{node_pointer}/{keyword}", keyword, expected, error.instance, message)


def _type_error(keyword: str, schema: Mapping[str, Any], node_pointer: str, instance_pointer: str, instance: Any):
    """[BodyError] for a value of the wrong type, worded as the pure-Python explainer words it, else None.

    The commonest real error; explaining it from jsonschema-rs spares the pure-Python pass
    (~0.3 ms a body). A float may be an integer orjson bent (beyond 64 bits): left to that pass.
    """
    types = schema.get("type")
    if keyword != "type" or not isinstance(types, str) or instance is _MISSING or isinstance(instance, float):
        return None
    message = f"{instance!r} is not of type {types!r}"
    return [BodyError("error", instance_pointer, f"{node_pointer}/type", "type", types, instance, message)]


def _drift(
    keyword: str,
    schema: Mapping[str, Any],
    node_pointer: str,
    instance_pointer: str,
    instance: Any,
    folded: dict[str, Any] | None = None,
):
    """BodyErrors when failing `keyword` of `schema` is drift rather than an error, else None.

    Shared by both explainers so that they classify alike. `folded` is the enum's lower-cased
    values → values, when the caller keeps it at hand.
    """
    if keyword == "additionalProperties" and schema.get(CLOSED) and isinstance(instance, dict):
        documented = schema.get("properties", {})
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        extras = (k for k in instance if k not in documented and not any(p.search(k) for p in patterns))
        return [
            BodyError(
                "undocumented_property",
                f"{instance_pointer}/{escape(name)}",
                f"{node_pointer}/properties",
                "properties",
                sorted(documented)[:20],
                name,
                f"property {name!r} is not documented for this object",
            )
            for name in sorted(extras)
        ]
    if keyword == "enum" and isinstance(schema.get("enum"), list):
        values = schema["enum"]
        if folded is None:
            folded = {str(v).lower(): v for v in values}
        if isinstance(instance, str) and instance.lower() in folded:
            expected: Any = folded[instance.lower()]
            message = (
                f"{instance!r} differs only in case from the documented value {expected!r} "
                "(the service compares enum values case-insensitively)"
            )
        elif schema.get("x-enum-open"):
            expected, message = (
                values,
                f"{instance!r} is not one of the documented values {values!r} (the enum is open)",
            )
        else:
            return None
        return [
            BodyError(
                "unknown_enum_value", instance_pointer, f"{node_pointer}/enum", "enum", expected, instance, message
            )
        ]
    if keyword == "not" and schema.get(READ_ONLY):
        name = instance_pointer.rsplit("/", 1)[-1]
        parent = node_pointer.rsplit("/properties/", 1)[0] if "/properties/" in node_pointer else node_pointer
        return [
            BodyError(
                "read_only",
                instance_pointer,
                f"{parent}/properties/{name}/readOnly",
                "readOnly",
                "absent (read-only)",
                instance,
                f"read-only property {name!r} must not be sent in a request",
            )
        ]
    return None
