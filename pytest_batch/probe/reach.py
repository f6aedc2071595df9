"""Where a documented rule can be reached: which operations carry a target, and where a body holds it.

A rule's target is a definition + property path (or an operation + parameter). The prober sends whole
requests, so a definition target is reached through an operation whose request body holds that
definition somewhere (`BatchApplicationPackageReference` through a pool's or a task's body). Pure
functions over a `Spec`; the instance walk resolves schemas the way `check_constraints` does, so "this
body holds the target here" means exactly what the checker will look at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..constraints import Shape, Target, resolve_shape, select_values  # the checker's own resolution, not a copy
from ..pointers import escape
from ..spec import Spec

_PREFIX = "#/definitions/"


def _refs(schema: Any) -> Iterator[str]:
    """Definition names one schema refers to directly (discriminator mappings included)."""
    if isinstance(schema, Mapping):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_PREFIX):
            yield ref[len(_PREFIX) :].replace("~1", "/").replace("~0", "~")
        discriminator = schema.get("x-discriminator")
        if isinstance(discriminator, Mapping):
            for mapped in (discriminator.get("mapping") or {}).values():
                if isinstance(mapped, str) and mapped.startswith(_PREFIX):
                    yield mapped[len(_PREFIX) :]
        for key, sub in schema.items():
            if key != "x-discriminator":
                yield from _refs(sub)
    elif isinstance(schema, list):
        for sub in schema:
            yield from _refs(sub)


def definition_depths(spec: Spec, schema: Any) -> dict[str, int]:
    """Every definition reachable from `schema`, with the fewest `$ref` hops to it (breadth first)."""
    depths: dict[str, int] = {}
    frontier = list(dict.fromkeys(_refs(schema)))
    depth = 1
    while frontier:
        following: list[str] = []
        for name in frontier:
            if name in depths:
                continue
            depths[name] = depth
            following.extend(n for n in _refs(spec.definitions.get(name)) if n not in depths)
        frontier = list(dict.fromkeys(following))
        depth += 1
    return depths


def carriers(spec: Spec, definition: str) -> list[tuple[str, int]]:
    """(operation id, `$ref` hops) of every operation whose request body can hold `definition`."""
    found = []
    for op in spec.operations.values():
        if op.body is None:
            continue
        depth = definition_depths(spec, op.body.schema).get(definition)
        if depth is not None:
            found.append((op.operation_id, depth))
    return sorted(found, key=lambda item: (item[1], item[0]))


def parameter_carriers(spec: Spec, target: Target) -> list[str]:
    """The operation of an operation + parameter target, when this version has it and it takes that parameter."""
    op = spec.operations.get(target.operation or "")
    if op is None or not any(p.name.lower() == (target.parameter or "").lower() for p in op.parameters):
        return []
    return [op.operation_id]


def target_sites(spec: Spec, schema: Any, instance: Any, target: Target) -> list[str]:
    """JSON pointers, in `instance` (a body of `schema`), of the values `target` selects (the object for `""`)."""
    return list(_sites(spec, schema, instance, target, ""))


def _sites(spec: Spec, schema: Any, instance: Any, target: Target, pointer: str) -> Iterator[str]:
    shape = Shape()
    resolve_shape(spec.definitions, schema, instance, shape)
    if target.definition in shape.names:
        for _, where in select_values(instance, target.path, pointer):
            yield where
    if isinstance(instance, Mapping):
        for key, value in instance.items():
            sub = shape.properties.get(key, shape.additional)
            if sub is not None:
                yield from _sites(spec, sub, value, target, f"{pointer}/{escape(key)}")
    elif isinstance(instance, list) and shape.items is not None:
        for i, value in enumerate(instance):
            yield from _sites(spec, shape.items, value, target, f"{pointer}/{i}")


def anchors(spec: Spec, schema: Any, instance: Any, definition: str) -> list[str]:
    """JSON pointers of every object in `instance` that the checker reads as an instance of `definition`."""
    return [where for where, names in _instances(spec, schema, instance, "") if definition in names]


def _instances(spec: Spec, schema: Any, instance: Any, pointer: str) -> Iterator[tuple[str, list[str]]]:
    shape = Shape()
    resolve_shape(spec.definitions, schema, instance, shape)
    yield pointer, shape.names
    if isinstance(instance, Mapping):
        for key, value in instance.items():
            sub = shape.properties.get(key, shape.additional)
            if sub is not None:
                yield from _instances(spec, sub, value, f"{pointer}/{escape(key)}")
    elif isinstance(instance, list) and shape.items is not None:
        for i, value in enumerate(instance):
            yield from _instances(spec, shape.items, value, f"{pointer}/{i}")


def value_at(document: Any, pointer: str) -> Any:
    """The value at JSON `pointer` in `document` (`""` is the document itself)."""
    for token in pointer.split("/")[1:] if pointer else ():
        token = token.replace("~1", "/").replace("~0", "~")
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


def replaced_at(document: Any, pointer: str, value: Any) -> Any:
    """A copy of `document` with the value at JSON `pointer` replaced (`""` replaces the whole document)."""
    import copy

    if not pointer:
        return copy.deepcopy(value)
    out = copy.deepcopy(document)
    head, _, last = pointer.rpartition("/")
    parent = value_at(out, head)
    last = last.replace("~1", "/").replace("~0", "~")
    parent[int(last) if isinstance(parent, list) else last] = copy.deepcopy(value)
    return out
