"""The constraint prober: does a Batch service enforce the documented rules the overlay holds?

For each rule of `schemas/constraints.json` and each of its targets, the prober sends one valid request
and labelled invalid ones through an operation that carries the target, then classifies the answers:
`enforced`, `lenient` (the service accepted what the docs forbid), `stricter` (it refused valid input),
`error`, or `skipped` (with why). Modules, each with one job:

- `reach`: which operations carry a target, where a body holds it;
- `needs`: what an operation needs to exist first, and its cost (nodes are billable);
- `draw`: deterministic (derandomized) Hypothesis draws;
- `plan`: the cases (pure);
- `verdict`: the classification (pure);
- `run`: sending, prerequisites, cleanup;
- `record`: cassettes and the run manifest;
- `document`: the `pytest-batch-probe/1` document;
- `session`: one run end to end; `cli`: `pytest-batch probe`; `fixture`: `batch_probe`.
"""

from __future__ import annotations

from importlib import import_module
from types import MappingProxyType

# `pytest-batch` builds its argument parser from `probe.cli` on every command: the prober's modules load
# when one of these names is first used, not when the package is imported (PEP 562).
_LAZY = MappingProxyType({
    "FORMAT": "document", "build_document": "document",
    "ProbeCase": "plan", "ProbeRequest": "plan", "plan_cases": "plan",
    "ENFORCED": "verdict", "ERROR": "verdict", "LENIENT": "verdict", "SKIPPED": "verdict",
    "STRICTER": "verdict", "Exchange": "verdict", "Verdict": "verdict", "classify": "verdict",
})  # fmt: skip


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


__all__ = [
    "ENFORCED",
    "ERROR",
    "FORMAT",
    "LENIENT",
    "SKIPPED",
    "STRICTER",
    "Exchange",
    "ProbeCase",
    "ProbeRequest",
    "Verdict",
    "build_document",
    "classify",
    "plan_cases",
]
