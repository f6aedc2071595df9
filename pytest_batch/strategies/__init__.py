"""Hypothesis strategies for Batch values: valid ones, labelled invalid ones, and whole requests.

```python
from pytest_batch import strategies as bs

@given(bs.valid("2025-06-01", "BatchPoolCreateOptions"))
def test_pool_create(body): ...

@given(bs.invalid("2025-06-01", "BatchPoolCreateOptions", rule="pool-id-length"))
def test_rejects(case): ...          # case.value breaks exactly case.label, at case.pointer

@given(bs.request("2025-06-01", "Pools_CreatePool"))
def test_send(parts): ...            # parts.path_params, .query, .headers, .body; parts.url(endpoint)
```

`valid` draws values the project's own engine accepts: the strict schema
(closed objects, documented enum values only, formats, int32/int64 ranges,
no read-only properties in requests) and every rule of the documented-
constraints overlay. `invalid` draws values that break exactly one named rule
or schema keyword. Compiled strategies are cached per (api-version, flavour)
on a `Strategies` object; the module-level functions share one default
instance (an LRU of one, not a module dict).

hypothesis-jsonschema is not used: 0.23.1 fails on Hypothesis 6.170
(`AttributeError: 'many' object has no attribute 'more'`: it reaches into
Hypothesis internals), knows neither Batch's formats nor the overlay (where it
still runs, 0-2 % of its draws are valid Batch), and draws 10-80 values/s where
these draw 1,200-1,600 (bench/bench_strategies.py). Only public Hypothesis API
is used here.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from ..constraints import Overlay, load_overlay
from ..spec import SpecLibrary
from .generate import Builder
from .mutations import SCHEMA_KEYWORDS, Labelled, Mutator
from .nodes import FLAVORS, REQUEST, RESPONSE, Compiler, StrategyError
from .requests import RequestParts, request_strategy

__all__ = [
    "REQUEST",
    "RESPONSE",
    "SCHEMA_KEYWORDS",
    "Labelled",
    "RequestParts",
    "Strategies",
    "StrategyError",
    "default_strategies",
    "invalid",
    "labels",
    "request",
    "valid",
]


class Strategies:
    """Strategy factory for one `SpecLibrary` + overlay; compiles each (api-version, flavour) once.

    `overlay=None` leaves the documented-constraints overlay out (schema-only values).
    """

    def __init__(self, library: SpecLibrary | None = None, overlay: Overlay | None | bool = True) -> None:
        self.library = library if library is not None else SpecLibrary()
        self.overlay = load_overlay() if overlay is True else (overlay or None)
        self._lock = threading.RLock()
        self._builders: dict[tuple[str, str], Builder] = {}
        self._mutators: dict[tuple[str, str], Mutator] = {}
        self._requests: dict[tuple[str, str], Any] = {}
        self._bodies: dict[tuple[str, str, str], Any] = {}

    def builder(self, api_version: str, flavor: str = REQUEST) -> Builder:
        key = (api_version, flavor)
        found = self._builders.get(key)
        if found is None:
            with self._lock:
                found = self._builders.get(key)
                if found is None:
                    found = self._builders[key] = Builder(Compiler(self.library.get(api_version), self.overlay, flavor))
        return found

    def root(self, api_version: str, definition: str | None, operation: str | None, flavor: str):
        """The node a value is drawn for: a definition, or an operation's request body."""
        builder = self.builder(api_version, flavor)
        if (definition is None) == (operation is None):
            raise StrategyError("pass exactly one of a definition name or operation=<operationId>")
        if definition is not None:
            return builder, builder.compiler.definition(definition)
        spec = builder.compiler.spec
        op = spec.operations.get(operation)
        if op is None:
            raise StrategyError(
                f"api-version {api_version} has no operation {operation!r}",
                hint="use an operationId of that version (e.g. Pools_CreatePool, or Pool_Add before 2025-06-01)",
            )
        if op.body is None:
            raise StrategyError(f"{operation} ({api_version}) takes no request body", hint="use request(...) instead")
        key = (api_version, flavor, operation)
        node = self._bodies.get(key)
        if node is None:
            node = self._bodies[key] = builder.compiler.compile(op.body.schema, (), op.body.spec_pointer)
        return builder, node

    def valid(
        self, api_version: str, definition: str | None = None, *, operation: str | None = None, flavor: str = REQUEST
    ):
        """Values of `definition` (or of `operation`'s request body) that the engine and the overlay accept."""
        if flavor not in FLAVORS:
            raise StrategyError(f"unknown flavour {flavor!r}", hint=f"use one of {FLAVORS}")
        builder, node = self.root(api_version, definition, operation, flavor)
        return builder.strategy(node)

    def mutator(self, api_version: str, flavor: str = REQUEST) -> Mutator:
        key = (api_version, flavor)
        found = self._mutators.get(key)
        if found is None:
            with self._lock:
                found = self._mutators.get(key) or Mutator(self, api_version, flavor)
                self._mutators[key] = found
        return found

    def labels(
        self, api_version: str, definition: str | None = None, *, operation: str | None = None, flavor: str = REQUEST
    ) -> tuple[str, ...]:
        """Every label `invalid` can break for this definition or operation body (rule ids and `schema:<keyword>`)."""
        return self.mutator(api_version, flavor).labels(definition, operation)

    def invalid(
        self,
        api_version: str,
        definition: str | None = None,
        *,
        operation: str | None = None,
        rule: str | None = None,
        keyword: str | None = None,
        flavor: str = REQUEST,
    ):
        """`Labelled` values that break exactly one rule (`rule=` an overlay rule id) or schema keyword.

        Without `rule`/`keyword`, each draw picks one of `labels(...)`.
        """
        return self.mutator(api_version, flavor).strategy(definition, operation, rule=rule, keyword=keyword)

    def request(self, api_version: str, operation_id: str):
        """`RequestParts` for `operation_id`: path parameters, query, headers and body drawn together."""
        key = (api_version, operation_id)
        found = self._requests.get(key)
        if found is None:
            found = self._requests[key] = request_strategy(self, api_version, operation_id)
        return found


@functools.lru_cache(maxsize=1)
def default_strategies() -> Strategies:
    """The shared `Strategies` over the bundled schemas and overlay (built on first use)."""
    return Strategies()


def valid(api_version: str, definition: str | None = None, *, operation: str | None = None, flavor: str = REQUEST):
    """See `Strategies.valid`."""
    return default_strategies().valid(api_version, definition, operation=operation, flavor=flavor)


def invalid(
    api_version: str,
    definition: str | None = None,
    *,
    operation: str | None = None,
    rule: str | None = None,
    keyword: str | None = None,
    flavor: str = REQUEST,
):
    """See `Strategies.invalid`."""
    return default_strategies().invalid(
        api_version, definition, operation=operation, rule=rule, keyword=keyword, flavor=flavor
    )


def labels(api_version: str, definition: str | None = None, *, operation: str | None = None, flavor: str = REQUEST):
    """See `Strategies.labels`."""
    return default_strategies().labels(api_version, definition, operation=operation, flavor=flavor)


def request(api_version: str, operation_id: str):
    """See `Strategies.request`."""
    return default_strategies().request(api_version, operation_id)
