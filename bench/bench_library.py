#!/usr/bin/env python
"""`pytest-batch check` on a 100,000-interaction library: throughput and peak memory.

    python bench/bench_library.py [--regenerate] [--package-root DIR] [--cpu N]

1. Builds (once; reused while the inputs are unchanged) a library of vcrpy
   cassettes under bench/out/library/: the Batch interactions of
   ../shared/real-traffic/azure-batch-cli-extensions/*/*.yaml plus every
   x-ms-examples interaction, replicated round-robin into 500 files x 200
   interactions, in vcrpy's JSON layout and (same content) in vcrpy's YAML
   layout, both written with vcrpy's own serializers' settings. The files sit in
   ten slices of 10,000 interactions, so the 10k / 50k / 100k runs are the
   first 1 / 5 / 10 slices.
2. Runs the real CLI in a subprocess pinned to one CPU:
       python -m pytest_batch.cli check SLICE... --format json --no-progress
   and measures wall time (-> interactions/s) and the child's peak RSS
   (ru_maxrss from os.wait4, i.e. the per-child value of
   getrusage(RUSAGE_CHILDREN)). JSON at 10k, 50k and 100k (memory should be
   flat), YAML at 100k. Target: >= 20,000 interactions/s on one core.

Results: a table on stdout and bench/out/bench_library.json.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml
from _common import OUT, PACKAGE_ROOT, REAL_TRAFFIC, code_fingerprint, machine, spec_file, table, write_json

from pytest_batch.errors import RecordingError
from pytest_batch.examples import corpus
from pytest_batch.readers import read_recording
from pytest_batch.spec import SpecLibrary
from pytest_batch.validation import Validator

TARGET_RATE = 20_000
FILES, PER_FILE, SLICES = 500, 200, 10
TOTAL = FILES * PER_FILE
LIBRARY = OUT / "library"
LAYOUT_VERSION = 1

try:  # vcrpy's YAML dumper (libyaml based) so the files are what vcrpy writes
    from vcr.serializers.yamlserializer import _CassetteDumper as _Dumper
except ImportError:  # pragma: no cover
    _Dumper = getattr(yaml, "CDumper", yaml.Dumper)


# --------------------------------------------------------------------------- library


def interaction_pool() -> list:
    """Batch interactions of the real-traffic cassettes, then every example interaction."""
    validator = Validator(SpecLibrary())
    pool = []
    for path in sorted(glob.glob(str(REAL_TRAFFIC / "*" / "*.yaml"))):
        for item in read_recording(path):
            if isinstance(item, RecordingError) or validator.check(item).skipped:
                continue
            pool.append(("real-traffic", item))
    library = validator.library
    for version in library.versions:
        if spec_file(version).is_file():
            pool.extend(("examples", i) for i in corpus(spec_file(version), library.get(version))
                        if not isinstance(i, RecordingError))
    return pool


def _headers(headers) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name, []).append(value)
    return out


def _text(body: bytes) -> str | None:
    return body.decode("utf-8") if body else None


def vcr_interaction(i) -> dict:
    """The vcrpy cassette form of one Interaction (headers as lists of strings)."""
    return {
        "request": {
            "body": _text(i.request_body),
            "headers": _headers(i.request_headers),
            "method": i.method,
            "uri": i.url,
        },
        "response": {
            "body": {"string": i.response_body.decode("utf-8")},
            "headers": _headers(i.response_headers),
            "status": {"code": i.status, "message": "OK" if i.status and i.status < 400 else "Error"},
        },
    }


def _json_fragment(item: dict) -> str:
    return textwrap.indent(json.dumps(item, indent=4), " " * 8)


def _yaml_fragment(item: dict) -> str:
    return yaml.dump([item], Dumper=_Dumper)


def _json_file(fragments: list[str]) -> str:
    # == vcr.serializers.jsonserializer.serialize({"interactions": [...], "version": 1})
    return '{\n    "interactions": [\n' + ",\n".join(fragments) + '\n    ],\n    "version": 1\n}\n'


def _yaml_file(fragments: list[str]) -> str:
    # == vcr.serializers.yamlserializer.serialize({"interactions": [...], "version": 1})
    return "interactions:\n" + "".join(fragments) + "version: 1\n"


def _check_layout(items: list[dict]) -> None:
    """The fragment-concatenation shortcut must give exactly what vcrpy's serializers write."""
    from vcr.serializers import jsonserializer, yamlserializer

    whole = {"interactions": items, "version": 1}
    assert _json_file([_json_fragment(i) for i in items]) == jsonserializer.serialize(whole)
    assert _yaml_file([_yaml_fragment(i) for i in items]) == yamlserializer.serialize(whole)


def build_library(regenerate: bool) -> dict:
    pool = interaction_pool()
    items = [vcr_interaction(i) for _, i in pool]
    digest = hashlib.sha256(json.dumps([items, FILES, PER_FILE, SLICES, LAYOUT_VERSION]).encode()).hexdigest()[:16]
    manifest_path = LIBRARY / "manifest.json"
    if not regenerate and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("digest") == digest:
            manifest["reused"] = True
            return manifest
    start = time.perf_counter()
    _check_layout(items[:3] + items[-3:])
    if LIBRARY.exists():
        shutil.rmtree(LIBRARY)
    json_frags = [_json_fragment(i) for i in items]
    yaml_frags = [_yaml_fragment(i) for i in items]
    sizes = {"json": 0, "yaml": 0}
    per_slice = FILES // SLICES
    for f in range(FILES):
        picks = [(f * PER_FILE + k) % len(items) for k in range(PER_FILE)]
        slice_name = f"s{f // per_slice:02d}"
        for fmt, frags, render, suffix in (("json", json_frags, _json_file, ".json"),
                                           ("yaml", yaml_frags, _yaml_file, ".yaml")):
            folder = LIBRARY / fmt / slice_name
            folder.mkdir(parents=True, exist_ok=True)
            text = render([frags[p] for p in picks])
            (folder / f"cassette-{f:04d}{suffix}").write_text(text, encoding="utf-8")
            sizes[fmt] += len(text.encode("utf-8"))
    kinds = {}
    for kind, _ in pool:
        kinds[kind] = kinds.get(kind, 0) + 1
    manifest = {
        "digest": digest, "files": FILES, "per_file": PER_FILE, "slices": SLICES, "interactions": TOTAL,
        "pool": {"size": len(pool), **kinds}, "bytes": sizes,
        "generated_s": time.perf_counter() - start, "reused": False,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


# --------------------------------------------------------------------------- runs


def run_cli(paths: list[Path], *, package_root: Path, cpu: int | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(package_root), PYTHONHASHSEED="0")
    cmd = [sys.executable, "-m", "pytest_batch.cli", "check", *map(str, paths), "--format", "json", "--no-progress"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=str(package_root))
        if cpu is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(proc.pid, {cpu})  # at once, before the interpreter has even started up
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    try:
        summary = json.loads(stdout)
    except ValueError:
        raise SystemExit(f"CLI failed (exit {proc.returncode}):\n{stderr[-2000:]}")
    return {
        "exit_code": proc.returncode,
        "wall_s": wall,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux: KiB
        "interactions": summary["interactions"],
        "batch_interactions": summary["batch_interactions"],
        "interactions_with": summary["interactions_with"],
        "unusable": summary["unusable"]["count"],
        "rate": summary["interactions"] / wall,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="rebuild the library even if it is up to date")
    parser.add_argument("--package-root", type=Path, default=PACKAGE_ROOT,
                        help="folder holding the pytest_batch package to run (default: $BENCH_PACKAGE_ROOT or this checkout)")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin the CLI to (default: the last one)")
    parser.add_argument("--skip-yaml", action="store_true", help="JSON runs only")
    args = parser.parse_args(argv)
    cpu = args.cpu if args.cpu is not None else (max(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None)
    t0 = time.perf_counter()

    manifest = build_library(args.regenerate)
    print(f"library: {manifest['interactions']:,} interactions in {manifest['files']} files x {manifest['per_file']} "
          f"(pool of {manifest['pool']['size']}: {manifest['pool'].get('real-traffic', 0)} real-traffic Batch + "
          f"{manifest['pool'].get('examples', 0)} example interactions); JSON {manifest['bytes']['json'] / 1e6:.0f} MB, "
          f"YAML {manifest['bytes']['yaml'] / 1e6:.0f} MB; "
          + ("reused" if manifest["reused"] else f"generated in {manifest['generated_s']:.1f} s"))

    def slices(fmt: str, n: int) -> list[Path]:
        return [LIBRARY / fmt / f"s{k:02d}" for k in range(n)]

    plan = [("json", 10_000, 1), ("json", 50_000, 5), ("json", 100_000, 10)]
    if not args.skip_yaml:
        plan.append(("yaml", 100_000, 10))
    runs = []
    for fmt, n, k in plan:
        result = run_cli(slices(fmt, k), package_root=args.package_root.resolve(), cpu=cpu)
        if result["interactions"] != n:
            raise SystemExit(f"expected {n} interactions, the CLI checked {result['interactions']}")
        runs.append({"format": fmt, "n": n, **result})
        print(f"  {fmt} {n:>7,}: {result['wall_s']:.1f} s, {result['rate']:,.0f}/s, peak RSS {result['peak_rss_mb']:.0f} MB",
              flush=True)

    by = {(r["format"], r["n"]): r for r in runs}
    j10, j100 = by[("json", 10_000)], by[("json", 100_000)]
    steady = (j100["n"] - j10["n"]) / max(j100["wall_s"] - j10["wall_s"], 1e-9)
    fixed = j10["wall_s"] - j10["n"] / steady

    def verdict(rate):
        return "met" if rate >= TARGET_RATE else "MISSED"

    print()
    table(
        ["run", "interactions", "wall s", "interactions/s", "peak RSS MB", "target >= 20,000/s", "with errors", "with warnings"],
        [[f"{r['format']} {r['n'] // 1000}k", f"{r['n']:,}", f"{r['wall_s']:.1f}", f"{r['rate']:,.0f}",
          f"{r['peak_rss_mb']:.0f}", verdict(r["rate"]), f"{r['interactions_with'].get('error', 0):,}",
          f"{r['interactions_with'].get('warning', 0):,}"] for r in runs],
    )
    rss = [by[("json", n)]["peak_rss_mb"] for n in (10_000, 50_000, 100_000)]
    print(f"JSON steady-state rate (100k-10k difference): {steady:,.0f}/s; fixed start-up cost ≈ {fixed:.2f} s")
    print(f"JSON peak RSS 10k/50k/100k: {rss[0]:.0f} / {rss[1]:.0f} / {rss[2]:.0f} MB "
          f"(spread {max(rss) - min(rss):.0f} MB: {'flat' if max(rss) - min(rss) <= 0.1 * min(rss) else 'NOT flat'})")
    elapsed = time.perf_counter() - t0
    print(f"total bench time {elapsed:.1f} s (pinned to CPU {cpu})")
    path = write_json("bench_library", {
        "benchmark": "bench_library",
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "code": code_fingerprint(args.package_root.resolve()),
        "cpu_pinned": cpu,
        "package_root": str(args.package_root.resolve()),
        "library": manifest,
        "target_rate": TARGET_RATE,
        "runs": runs,
        "json_steady_rate": steady,
        "json_fixed_cost_s": fixed,
        "json_peak_rss_mb": {"10k": rss[0], "50k": rss[1], "100k": rss[2]},
        "elapsed_s": elapsed,
    })
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
