#!/usr/bin/env python
"""How fast `pytest_batch.strategies.valid` draws, and how many of its draws the engine accepts.

    python bench/bench_strategies.py [--examples 2000] [--rounds 3] [--peer-examples 200]
                                     [--hjs-wheel PATH] [--quick]

Each target is drawn through a real `@given` run (`settings(max_examples=N, phases=[generate],
database=None, deadline=None)`, nothing suppressed), so the figure is what a property test sees:
examples per second of the whole run, Hypothesis's engine included. Wall time and this process's
CPU time (`time.process_time`) are both reported, best of `--rounds`; on a shared machine the CPU
figure is the steadier one. Every draw is then checked with the engine: the strict schema
(`CompiledSpec.is_valid`, request flavour) and the documented-constraints overlay
(`check_constraints`); "valid" means both say nothing.

Targets: pool create (2025-06-01 `BatchPoolCreateOptions`, 2018-08-01.7.0 `PoolAddParameter`, the
largest create payloads) and job create (`BatchJobCreateOptions`, `JobAddParameter`).

Peers in the same run:

* floor: `st.integers()` — Hypothesis's own cost per example, which no strategy can go below;
* `tests/schema_strategies.valid_instance`: the older schema-only helper of the test suite
  (one Hypothesis choice per value, no overlay);
* hypothesis-jsonschema 0.23.1 `from_schema`, given the strict schema (objects closed, read-only
  properties forbidden, int32/int64 as bounds) and the Batch formats as `custom_formats`; only when
  its wheel is at hand (`--hjs-wheel`, or `bench/out/hjs/*.whl`; get it with
  `pip download hypothesis-jsonschema==0.23.1 --no-deps -d bench/out/hjs`). It is put on `sys.path`,
  never installed. On Hypothesis 6.170 it fails (`'many' object has no attribute 'more'`); on the
  6.155 installed here it runs. Fewer examples (`--peer-examples`): it is slow.

Results: a table on stdout and bench/out/bench_strategies.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

from _common import OUT, ROOT, code_fingerprint, machine, table, write_json

TARGET_PER_SECOND = 1000
ANCHOR = "hypothesis-jsonschema on an older Hypothesis: 7.6 JobAddParameter examples/s (measured earlier, issue 5)"
TARGETS = (
    ("2025-06-01", "BatchPoolCreateOptions"),
    ("2018-08-01.7.0", "PoolAddParameter"),
    ("2025-06-01", "BatchJobCreateOptions"),
    ("2018-08-01.7.0", "JobAddParameter"),
)


def run_given(strategy, examples: int) -> tuple[list, float, float]:
    """Draws from one `@given` run: (values, wall seconds, CPU seconds)."""
    from hypothesis import Phase, given, settings

    out: list = []

    @settings(max_examples=examples, phases=[Phase.generate], database=None, deadline=None)
    @given(strategy)
    def collect(value):
        out.append(value)

    wall, cpu = time.perf_counter(), time.process_time()
    collect()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def measure(strategy, examples: int, rounds: int) -> dict:
    best_wall = best_cpu = 0.0
    walls, values = [], []
    for _ in range(rounds):
        values, wall, cpu = run_given(strategy, examples)
        walls.append(len(values) / wall)
        best_wall = max(best_wall, len(values) / wall)
        best_cpu = max(best_cpu, len(values) / cpu)
    return {
        "examples": len(values),
        "per_s_wall_best": round(best_wall, 1),
        "per_s_wall_median": round(statistics.median(walls), 1),
        "per_s_cpu_best": round(best_cpu, 1),
        "values": values,
    }


def validity(version: str, name: str, values: list, compiled, overlay, spec) -> dict:
    from pytest_batch.constraints import check_constraints

    schema = {"$ref": f"#/definitions/{name}"}
    schema_ok = [compiled.is_valid(schema, v, "request") for v in values]
    both = [ok and not check_constraints(overlay, spec, name, v) for ok, v in zip(schema_ok, values)]
    sizes = [len(json.dumps(v)) for v in values]
    return {
        "schema_valid_pct": round(100 * sum(schema_ok) / len(values), 1) if values else None,
        "valid_pct": round(100 * sum(both) / len(values), 1) if values else None,
        "mean_json_bytes": round(statistics.mean(sizes)) if sizes else None,
    }


def hjs_strategy(wheel: Path, spec, name: str):
    """hypothesis-jsonschema's strategy for the strict request schema of `name` (None when it cannot build one)."""
    if str(wheel) not in sys.path:
        sys.path.insert(0, str(wheel))
    from hypothesis_jsonschema import from_schema

    from pytest_batch.compiled import _bound_integers, reachable, strict_variant
    from pytest_batch.strategies.scalars import FORMAT_TEXT

    definitions = strict_variant(spec.definitions, "request")
    _bound_integers(definitions)

    def plain(node):  # drop our x- markers; integer formats are already bounds
        if isinstance(node, dict):
            return {
                k: plain(v)
                for k, v in node.items()
                if not k.startswith("x-") and not (k == "format" and node.get("type") != "string")
            }
        return [plain(v) for v in node] if isinstance(node, list) else node

    names = reachable(definitions, name, {})
    schema = {"$ref": f"#/definitions/{name}", "definitions": {n: plain(definitions[n]) for n in names}}
    formats = {k: make() for k, make in FORMAT_TEXT.items() if k not in ("int32", "int64")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_schema(schema, custom_formats=formats)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer-examples", type=int, default=200)
    parser.add_argument("--hjs-wheel", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="200 examples, one round (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.examples, args.rounds, args.peer_examples = 200, 1, 50

    sys.path.insert(0, str(ROOT / "tests"))
    import schema_strategies as old  # the test suite's schema-only helper
    from hypothesis import strategies as st

    from pytest_batch.compiled import CompiledSpec
    from pytest_batch.constraints import load_overlay
    from pytest_batch.spec import SpecLibrary
    from pytest_batch.strategies import Strategies

    library, overlay = SpecLibrary(), load_overlay()
    strategies = Strategies(library, overlay)
    wheel = args.hjs_wheel or next(iter(sorted((OUT / "hjs").glob("hypothesis_jsonschema-*.whl"))), None)
    rows, results = [], []

    floor = measure(st.integers(), args.examples, args.rounds)
    floor.pop("values")
    results.append({"variant": "floor: st.integers()", **floor})
    rows.append(["floor: st.integers()", "", floor["per_s_wall_best"], floor["per_s_cpu_best"], "", "", ""])

    for version, name in TARGETS:
        spec = library.get(version)
        compiled = CompiledSpec(spec)
        variants = [
            ("pytest_batch.strategies.valid", strategies.valid(version, name), args.examples),
            (
                "tests/schema_strategies (schema only)",
                old.valid_instance(spec, {"$ref": f"#/definitions/{name}"}, flavor="request"),
                args.peer_examples,
            ),
        ]
        if wheel is not None:
            try:
                variants.append(("hypothesis-jsonschema 0.23.1", hjs_strategy(wheel, spec, name), args.peer_examples))
            except Exception as exc:  # noqa: BLE001 - a peer that cannot run is a result, not a crash
                results.append({"variant": "hypothesis-jsonschema 0.23.1", "target": name, "error": repr(exc)[:300]})
        for label, strategy, examples in variants:
            try:
                got = measure(strategy, examples, args.rounds if label.startswith("pytest_batch") else 1)
            except Exception as exc:  # noqa: BLE001
                results.append({"variant": label, "api_version": version, "target": name, "error": repr(exc)[:300]})
                rows.append([label, f"{version} {name}", "error", "", "", "", type(exc).__name__])
                continue
            values = got.pop("values")
            checked = validity(version, name, values, compiled, overlay, spec)
            results.append({"variant": label, "api_version": version, "target": name, **got, **checked})
            rows.append(
                [
                    label,
                    f"{version} {name}",
                    got["per_s_wall_best"],
                    got["per_s_cpu_best"],
                    checked["schema_valid_pct"],
                    checked["valid_pct"],
                    checked["mean_json_bytes"],
                ]
            )
    table(["variant", "target", "ex/s wall", "ex/s cpu", "% schema ok", "% valid", "mean bytes"], rows)
    print(f"\ntarget: >= {TARGET_PER_SECOND}/s for pool create, 100 % valid. Anchor: {ANCHOR}.")
    if wheel is None:
        print(
            "hypothesis-jsonschema not measured: pip download hypothesis-jsonschema==0.23.1 --no-deps -d bench/out/hjs"
        )
    path = write_json(
        "bench_strategies",
        {
            "machine": machine(),
            "code": code_fingerprint(),
            "settings": vars(args) | {"hjs_wheel": str(wheel) if wheel else None},
            "hypothesis": __import__("hypothesis").__version__,
            "anchor": ANCHOR,
            "results": results,
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
