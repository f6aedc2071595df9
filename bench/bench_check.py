#!/usr/bin/env python
"""Per-interaction check cost on the x-ms-examples corpus, against two peers.

    python bench/bench_check.py [--rounds 7] [--quick]

On the same interactions, in one run:

  A  `Validator(SpecLibrary()).check(i)`: the full per-interaction check (URL,
     operation match, parameters, headers, request + response bodies).
  B  a cached pure-Python `jsonschema.Draft4Validator` per (version, body schema)
     with the Batch format checker, validating the same bodies, already parsed.
  C  a cached jsonschema-rs validator per (version, body schema) (Draft 4, the
     Batch string formats as callbacks), `json.loads` of the raw body included.

All timings are warm (one untimed pass first), median of >= 5 rounds, and are
given per *interaction* (B and C: the cost of that interaction's bodies).
Targets: B/A >= 20x, A/C <= 4x. Also: bundle load time per version
(`SpecLibrary().get(v)` on a fresh library, median of 5, target <= 50 ms) and
the first-use compile cost of the fast validators.

Results: a table on stdout and bench/out/bench_check.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from urllib.parse import parse_qsl, urlsplit

import jsonschema_rs
from _common import code_fingerprint, machine, median, spec_file, table, timed_rounds, write_json
from jsonschema import Draft4Validator

from pytest_batch import formats as fmt
from pytest_batch.errors import RecordingError
from pytest_batch.examples import corpus
from pytest_batch.spec import SpecLibrary
from pytest_batch.validation import Validator

TARGET_B_OVER_A = 20.0
TARGET_A_OVER_C = 4.0
TARGET_LOAD_MS = 50.0
DRAFT4 = "http://json-schema.org/draft-04/schema#"


def load_corpus(library: SpecLibrary) -> dict[str, list]:
    """version -> interactions of that spec's examples (broken example files skipped)."""
    out: dict[str, list] = {}
    for version in library.versions:
        path = spec_file(version)
        if not path.is_file():
            continue
        items = [i for i in corpus(path, library.get(version)) if not isinstance(i, RecordingError)]
        if items:
            out[version] = items
    return out


def bodies_of(library: SpecLibrary, interaction) -> list[tuple[str, dict, bytes]]:
    """(api-version, body schema, raw JSON) of every body `check` validates against a schema.

    Mirrors validation.py: the version the request resolves to, the matched
    operation's body parameter, and the documented response for the status
    (or `default` for an undocumented error status); no HEAD, no file bodies.
    """
    parts = urlsplit(interaction.url)
    query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    spec = library.get(library.resolve(query.get("api-version")).used)
    match = spec.match(interaction.method, parts.path, query)
    if match is None:
        return []
    op, found = match.operation, []
    raw = interaction.request_body
    if op.body is not None and raw and not raw.isspace():
        found.append((spec.api_version, op.body.schema, raw))
    status = interaction.status
    if status is None or interaction.method == "HEAD":
        return found
    response = op.responses.get(str(status))
    if response is None and status >= 400:
        response = op.responses.get("default")
    raw = interaction.response_body
    if response is not None and not response.file and response.schema is not None and raw and not raw.isspace():
        found.append((spec.api_version, response.schema, raw))
    return found


def schema_key(version: str, schema) -> tuple[str, str]:
    return (version, json.dumps(schema, sort_keys=True))


def build_peers(library: SpecLibrary, bodies: list[tuple[str, dict, bytes]]):
    """B: one jsonschema Draft4Validator per (version, schema); C: one jsonschema-rs validator per key."""
    definitions = {}
    b_validators, c_validators, c_maps = {}, {}, {}
    string_formats = {n: p for n, p in fmt.FORMATS.items() if n not in fmt.INTEGER_BOUNDS}
    for version, schema, _ in bodies:
        key = schema_key(version, schema)
        if key in b_validators:
            continue
        defs = definitions.get(version)
        if defs is None:
            defs = definitions[version] = dict(library.get(version).definitions)
        root = {"allOf": [dict(schema)], "definitions": defs}
        b_validators[key] = Draft4Validator(root, format_checker=fmt.format_checker())
        ref = schema.get("$ref") if len(schema) == 1 else None
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            rs_map = c_maps.get(version)
            if rs_map is None:
                rs_map = c_maps[version] = jsonschema_rs.validator_map_for(
                    {"$schema": DRAFT4, "definitions": defs},
                    formats=string_formats, validate_formats=True, ignore_unknown_formats=True,
                )
            c_validators[key] = rs_map.get(ref)
        else:
            c_validators[key] = jsonschema_rs.validator_for(
                {"$schema": DRAFT4, **root}, formats=string_formats, validate_formats=True, ignore_unknown_formats=True
            )
    return b_validators, c_validators


def bench_bundle_load(library_versions: tuple[str, ...], rounds: int = 5) -> dict[str, dict]:
    out = {}
    for version in library_versions:
        times, json_times = [], []
        for _ in range(rounds):
            gc.collect()
            library = SpecLibrary()
            start = time.perf_counter()
            library.get(version)
            times.append(time.perf_counter() - start)
            path = library.directory / f"{version}.json"
            start = time.perf_counter()
            json.loads(path.read_text(encoding="utf-8"))
            json_times.append(time.perf_counter() - start)
        out[version] = {"ms": median(times) * 1e3, "json_loads_ms": median(json_times) * 1e3,
                        "rounds_ms": [t * 1e3 for t in times]}
    return out


def bench_compile(library: SpecLibrary, corpus_by_version: dict[str, list], rounds: int = 3) -> dict[str, dict]:
    """Fast-validator compile cost per version, bundles already loaded (fresh Validator each round).

    first_check: the first `check` of the version's first example (compiles what it needs);
    compile_request/response: the first `CompiledSpec.is_valid` per flavour, i.e. whatever
    that flavour compiles on first use; first_pass_overhead: a cold pass over the version's
    examples minus a warm pass (every lazy cache, explainers included).
    """
    from pytest_batch.compiled import REQUEST, RESPONSE

    out = {}
    for version, interactions in corpus_by_version.items():
        spec = library.get(version)
        probe = {"$ref": "#/definitions/" + next(iter(spec.definitions))}
        first_check, req, resp, first_pass = [], [], [], []
        for _ in range(rounds):
            gc.collect()
            validator = Validator(library)
            start = time.perf_counter()
            validator.check(interactions[0])
            first_check.append(time.perf_counter() - start)

            validator = Validator(library)
            compiled = validator.compiled(spec)
            start = time.perf_counter()
            compiled.is_valid(probe, None, REQUEST)
            req.append(time.perf_counter() - start)
            start = time.perf_counter()
            compiled.is_valid(probe, None, RESPONSE)
            resp.append(time.perf_counter() - start)

            validator = Validator(library)
            start = time.perf_counter()
            for i in interactions:
                validator.check(i)
            cold = time.perf_counter() - start
            start = time.perf_counter()
            for i in interactions:
                validator.check(i)
            warm = time.perf_counter() - start
            first_pass.append(cold - warm)
        out[version] = {
            "first_check_ms": median(first_check) * 1e3,
            "compile_request_ms": median(req) * 1e3,
            "compile_response_ms": median(resp) * 1e3,
            "first_pass_overhead_ms": median(first_pass) * 1e3,
        }
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per variant (median reported; >= 5)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else max(5, args.rounds)
    t0 = time.perf_counter()

    library = SpecLibrary()
    by_version = load_corpus(library)
    interactions = [i for items in by_version.values() for i in items]
    n = len(interactions)
    bodies = [b for i in interactions for b in bodies_of(library, i)]
    print(f"corpus: {n} interactions from {len(by_version)} api-versions with examples, {len(bodies)} JSON bodies")

    # --- A: full check ------------------------------------------------------------
    validator = Validator(library)
    check = validator.check
    outcomes = [check(i) for i in interactions]  # warm-up: compiles every cache
    with_findings = sum(1 for o in outcomes if o.violations)
    body_findings = sum(1 for o in outcomes if any(v.location.endswith(".body") for v in o.violations))
    reps_a = 3

    def run_a():
        for _ in range(reps_a):
            for i in interactions:
                check(i)

    a_rounds = [t / (reps_a * n) * 1e6 for t in timed_rounds(run_a, rounds)]
    a_us = median(a_rounds)

    clean = [i for i, o in zip(interactions, outcomes) if not o.violations]
    dirty = [i for i, o in zip(interactions, outcomes) if o.violations]

    def run_subset(subset):
        def run():
            for i in subset:
                check(i)
        return median(timed_rounds(run, rounds)) / max(1, len(subset)) * 1e6

    a_clean_us, a_dirty_us = run_subset(clean), run_subset(dirty)

    # A without the documented-constraints overlay: what the `documented_constraints` check costs
    bare = Validator(library, constraints=False)
    check_bare = bare.check
    bare_findings = sum(1 for i in interactions if check_bare(i).violations)  # warm-up

    def run_a_bare():
        for _ in range(reps_a):
            for i in interactions:
                check_bare(i)

    a_bare_us = median([t / (reps_a * n) * 1e6 for t in timed_rounds(run_a_bare, rounds)])

    # --- B and C: peers on the same bodies -------------------------------------------
    b_validators, c_validators = build_peers(library, bodies)
    b_items = [(b_validators[schema_key(v, s)], json.loads(raw)) for v, s, raw in bodies]
    c_items = [(c_validators[schema_key(v, s)], raw) for v, s, raw in bodies]
    b_rejects = sum(1 for val, doc in b_items if not val.is_valid(doc))  # also the warm-up
    loads = json.loads
    c_rejects = sum(1 for val, raw in c_items if not val.is_valid(loads(raw)))

    def run_b():
        for val, doc in b_items:
            val.is_valid(doc)

    reps_c = 5

    def run_c():
        for _ in range(reps_c):
            for val, raw in c_items:
                val.is_valid(loads(raw))

    b_rounds = [t / n * 1e6 for t in timed_rounds(run_b, rounds)]
    c_rounds = [t / (reps_c * n) * 1e6 for t in timed_rounds(run_c, rounds)]
    b_us, c_us = median(b_rounds), median(c_rounds)
    b_over_a, a_over_c = b_us / a_us, a_us / c_us

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    print()
    table(
        ["variant", "µs/interaction", "notes"],
        [
            ["A pytest-batch check (all)", f"{a_us:.1f}", f"{n} interactions, {with_findings} with findings"],
            ["A   clean interactions", f"{a_clean_us:.1f}", f"{len(clean)} (fast path only)"],
            ["A   interactions with findings", f"{a_dirty_us:.1f}", f"{len(dirty)} ({body_findings} body findings → slow path)"],
            ["A   constraints=False", f"{a_bare_us:.1f}", f"{bare_findings} with findings; the overlay costs {a_us - a_bare_us:+.1f}"],
            ["B jsonschema Draft4Validator", f"{b_us:.1f}", f"bodies only, pre-parsed; rejects {b_rejects}/{len(bodies)}"],
            ["C jsonschema-rs + json.loads", f"{c_us:.1f}", f"bodies only; rejects {c_rejects}/{len(bodies)}"],
        ],
    )
    print()
    table(
        ["ratio", "value", "target", "verdict"],
        [
            ["B/A", f"{b_over_a:.1f}x", f">= {TARGET_B_OVER_A:.0f}x", verdict(b_over_a >= TARGET_B_OVER_A)],
            ["A/C", f"{a_over_c:.2f}x", f"<= {TARGET_A_OVER_C:.0f}x", verdict(a_over_c <= TARGET_A_OVER_C)],
        ],
    )
    print(f"(B/C = {b_us / c_us:.1f}x is the ceiling of B/A: a check that did nothing but C's body work)")

    # --- bundle load and compile ------------------------------------------------------
    load = bench_bundle_load(library.versions)
    load_ms = [r["ms"] for r in load.values()]
    print()
    table(
        ["api-version", "load ms", "json.loads ms", "verdict"],
        [[v, f"{r['ms']:.1f}", f"{r['json_loads_ms']:.1f}", verdict(r["ms"] <= TARGET_LOAD_MS)] for v, r in load.items()],
    )
    print(f"bundle load: max {max(load_ms):.1f} ms, median {median(load_ms):.1f} ms (target <= {TARGET_LOAD_MS:.0f} ms each: "
          f"{verdict(max(load_ms) <= TARGET_LOAD_MS)})")

    compile_ = bench_compile(library, by_version, rounds=3 if not args.quick else 1)
    print()
    table(
        ["api-version", "first check ms", "1st is_valid req ms", "1st is_valid resp ms", "first-pass overhead ms"],
        [[v, f"{r['first_check_ms']:.1f}", f"{r['compile_request_ms']:.1f}", f"{r['compile_response_ms']:.1f}",
          f"{r['first_pass_overhead_ms']:.1f}"] for v, r in compile_.items()],
    )
    both = [r["compile_request_ms"] + r["compile_response_ms"] for r in compile_.values()]
    first = [r["first_check_ms"] for r in compile_.values()]
    print(f"compile (both flavours): median {median(both):.1f} ms, max {max(both):.1f} ms; "
          f"first check: median {median(first):.1f} ms, max {max(first):.1f} ms")

    elapsed = time.perf_counter() - t0
    print(f"\ntotal bench time {elapsed:.1f} s")
    path = write_json("bench_check", {
        "benchmark": "bench_check",
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "code": code_fingerprint(),
        "rounds": rounds,
        "corpus": {"interactions": n, "versions": list(by_version), "bodies": len(bodies),
                   "with_findings": with_findings, "with_body_findings": body_findings},
        "us_per_interaction": {"A": a_us, "A_clean": a_clean_us, "A_with_findings": a_dirty_us,
                               "A_without_constraints": a_bare_us, "B": b_us, "C": c_us},
        "us_per_interaction_rounds": {"A": a_rounds, "B": b_rounds, "C": c_rounds},
        "ratios": {"B_over_A": b_over_a, "A_over_C": a_over_c, "B_over_C_ceiling": b_us / c_us},
        "targets": {"B_over_A": TARGET_B_OVER_A, "A_over_C": TARGET_A_OVER_C, "bundle_load_ms": TARGET_LOAD_MS},
        "met": {"B_over_A": b_over_a >= TARGET_B_OVER_A, "A_over_C": a_over_c <= TARGET_A_OVER_C,
                "bundle_load": max(load_ms) <= TARGET_LOAD_MS},
        "peer_rejects": {"B": b_rejects, "C": c_rejects},
        "bundle_load_ms": {"per_version": load, "max": max(load_ms), "median": median(load_ms)},
        "compile_ms": {"per_version": compile_, "both_flavours_median": median(both), "both_flavours_max": max(both),
                       "first_check_median": median(first), "first_check_max": max(first)},
        "elapsed_s": elapsed,
    })
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
