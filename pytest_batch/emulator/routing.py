"""Route any known api-version's operation to the emulator's handler for it.

Handlers are named after the 2025-06-01 operations (`Jobs_GetJob`). Older versions name
the same operation differently (`Job_Get`) and sometimes name path parameters differently,
so each version's operations are mapped onto the canonical ones by method + path template,
and path parameters by position. Operations that exist only in older versions
(certificates) keep their own id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..spec import Operation, Spec

CANONICAL_VERSION = "2025-06-01"
_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class Route:
    """Where one operation of one version goes: the canonical id and its path-parameter names."""

    operation_id: str
    path_names: tuple[str, ...]  # canonical names, in template order


def _shape(op: Operation) -> tuple[str, str]:
    return op.method.upper(), _PARAM.sub("{}", op.path)


def routes_for(spec: Spec, canonical: Spec) -> Mapping[str, Route]:
    """operation id of `spec` → its `Route`."""
    by_shape = {_shape(op): op for op in canonical.operations.values()}
    table: dict[str, Route] = {}
    for op_id, op in spec.operations.items():
        target = by_shape.get(_shape(op), op)
        table[op_id] = Route(target.operation_id, tuple(_PARAM.findall(target.path)))
    return table


def canonical_path_params(op: Operation, route: Route, params: Mapping[str, str]) -> dict[str, str]:
    """Rename `params` (named as in `op`'s version) to the canonical names, by position."""
    own = _PARAM.findall(op.path)
    return {canonical: params[name] for name, canonical in zip(own, route.path_names) if name in params}
