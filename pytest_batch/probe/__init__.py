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

from .document import FORMAT, build_document
from .plan import ProbeCase, ProbeRequest, plan_cases
from .verdict import ENFORCED, ERROR, LENIENT, SKIPPED, STRICTER, Exchange, Verdict, classify

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
