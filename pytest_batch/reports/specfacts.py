"""What the spec says each report number is measured against: an api-version's operations, the status
codes each documents, and the documented-constraints rules each operation's request can reach.

A rule is *in reach* of an operation when it targets one of the operation's parameters, or a definition
that the operation's request body can contain (followed through `$ref`, `allOf`, items and properties).
Exercising the operation is what gives the rule a chance to be tested; whether the traffic set the very
property is not looked at (that would mean walking every body again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..constraints import Overlay
from ..spec import Spec

_PREFIX = "#/definitions/"


@dataclass(frozen=True, slots=True)
class OperationFacts:
    operation_id: str
    method: str
    path: str
    statuses: tuple[str, ...]  # documented status codes, `default` left out
    constraints: frozenset[str] | None  # rule ids in reach; None when the overlay has no rules for the version


@dataclass(frozen=True, slots=True)
class VersionFacts:
    api_version: str
    operations: Mapping[str, OperationFacts]
    constraint_rules: int | None  # rules the overlay has for this version; None when it has none


def version_facts(spec: Spec, overlay: Overlay | None) -> VersionFacts:
    rules = overlay.rules_for(spec.api_version) if overlay is not None else ()
    operations = {}
    for op_id, op in spec.operations.items():
        reach: frozenset[str] | None = None
        if rules:
            ids = {rule.id for rule, _ in overlay.for_operation(spec.api_version, op_id)}
            if op.body is not None:
                for name in reachable_definitions(spec.definitions, op.body.schema):
                    ids.update(rule.id for rule, _ in overlay.for_definition(spec.api_version, name))
            reach = frozenset(ids)
        operations[op_id] = OperationFacts(op_id, op.method, op.path, op.documented_statuses, reach)
    return VersionFacts(spec.api_version, MappingProxyType(operations), len(rules) if rules else None)


def reachable_definitions(definitions: Mapping[str, Any], schema: Any) -> set[str]:
    """Names of the definitions `schema` can contain, itself included when it is a `$ref`."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, Mapping):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_PREFIX):
            name = ref[len(_PREFIX) :].replace("~1", "/").replace("~0", "~")
            if name not in found and name in definitions:
                found.add(name)
                stack.append(definitions[name])
        for key in ("properties", "additionalProperties", "items", "allOf", "anyOf", "oneOf"):
            child = node.get(key)
            if key == "properties" and isinstance(child, Mapping):
                stack.extend(child.values())
            elif child is not None:
                stack.append(child)
    return found
