"""Walking a drawn value together with the nodes it was drawn from.

`positions` pairs every place of a value with the node that describes it
(nullable unions resolved by the value itself), which is how `mutations` finds
the places a label can break; the rest are small path helpers.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..constraints import Constraint
from .nodes import Array, Obj, Union_, child, resolved
from .scalars import Scalar


@dataclass(frozen=True, slots=True)
class Site:
    path: tuple
    node: Any
    value: Any


def positions(node: Any, value: Any, path: tuple = ()) -> Iterator[Site]:
    """Every position of `value` with the node describing it; nullable unions resolve by the value."""
    node = resolved(node)
    if isinstance(node, Union_):
        if value is None:
            return
        for option in node.options:
            target = resolved(option)
            if fits(target, value):
                yield from positions(target, value, path)
                return
        return
    yield Site(path, node, value)
    if isinstance(node, Obj) and isinstance(value, dict):
        for key, sub in value.items():
            below = node.properties.get(key, node.additional)
            if below is not None:
                yield from positions(below, sub, (*path, key))
    elif isinstance(node, Array) and isinstance(value, list):
        for i, sub in enumerate(value):
            yield from positions(node.items, sub, (*path, i))


def fits(node: Any, value: Any) -> bool:
    if isinstance(node, Obj):
        return isinstance(value, dict)
    if isinstance(node, Array):
        return isinstance(value, list)
    if isinstance(node, Scalar):
        return node.accepts_schema(value) or node.kind == "any"
    return isinstance(node, Union_)


def node_and_value(root: Any, value: Any, path: tuple) -> tuple[Any, Any]:
    """(node, value) at a concrete path (list indexes as ints)."""
    node = root
    for token in path:
        node = child(node, "*" if isinstance(token, int) else token)
        value = value[token]
    return node, value


def get_at(value: Any, path: tuple) -> Any:
    for token in path:
        value = value[token]
    return value


def set_at(value: Any, path: tuple, new: Any) -> bool:
    """Put `new` at `path` (not the root: see `replaced`)."""
    if not path:
        return False
    parent = get_at(value, path[:-1])
    parent[path[-1]] = new
    return True


def replaced(value: Any, path: tuple, new: Any) -> Any:
    """A copy of `value` with `new` at `path` (the root itself when `path` is empty)."""
    if not path:
        return copy.deepcopy(new)
    trial = copy.deepcopy(value)
    set_at(trial, path, copy.deepcopy(new))
    return trial


def edges(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, Obj):
        yield from node.properties.items()
    elif isinstance(node, Array):
        yield "*", node.items
    elif isinstance(node, Union_):
        for option in node.options:
            yield from edges(resolved(option))


def reachable(root: Any) -> Iterator[Any]:
    seen: set[int] = set()
    todo = [resolved(root)]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, Union_):
            todo.extend(resolved(o) for o in node.options)
        else:
            todo.extend(resolved(sub) for _, sub in edges(node))


def rules_of(node: Any) -> Iterator[Constraint]:
    node = resolved(node)
    if isinstance(node, Obj):
        yield from node.object_rules
        yield from node.promoted
        yield from (rule for rule, _ in node.aggregate_rules)
    elif isinstance(node, Scalar | Array):
        yield from node.rules
