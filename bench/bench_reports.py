#!/usr/bin/env python
"""Reports on 100,000 interactions: aggregation and every format, time and peak memory.

    python bench/bench_reports.py [--interactions 100000] [--rounds 3]

Each measurement runs in a fresh child process (peak RSS is the child's own `ru_maxrss`), on the same
stream of `Outcome`s: the reference cassettes checked against 2025-06-01, 2024-07-01.20.0 and
2018-08-01.7.0 (the last two give thousands of findings of every kind), repeated with fresh
`file#index` sources until the count is reached. The outcomes are validated once, up front, in
each child (validation is `bench_check.py`'s subject); the stream then folds them one at a time.

  report    `ReportBuilder` fold + `document()` + JSON, JUnit, Markdown, HTML and text written to files
  peer      `CheckSummary` fold + its JSON and text (what `pytest-batch check` prints): the cost of the
            old summary on the same stream, for scale
  session   the pytest path as the plugin runs it: the same outcomes as 1,000 test records, each built
            when its test "ends" (`report_record`), sent through JSON (as pytest-xdist carries it), folded
            into the session's `ReportBuilder` and dropped; then the document and the five formats. Its
            "fold" time includes building and JSON-round-tripping the records (the plugin's per-test cost)

Target (issue 6): report and session each <= 10 s and <= 200 MB peak RSS for 100k interactions.
Results: a table on stdout and bench/out/bench_reports.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from _common import ROOT, code_fingerprint, machine, median, table, write_json

VERSIONS = ("2025-06-01", "2024-07-01.20.0", "2018-08-01.7.0")
FORMATS = ("r.json", "r.xml", "r.md", "r.html", "r.txt")
TARGET_S, TARGET_MB = 10.0, 200.0


def _pool():
    from pytest_batch.readers import read_recording
    from pytest_batch.spec import SpecLibrary
    from pytest_batch.validation import Validator

    library = SpecLibrary()
    pool = []
    for version in VERSIONS:
        validator = Validator(library, api_version=version)
        for path in sorted((ROOT / "cassettes").rglob("*.yaml")):
            pool.extend(validator.check(i) for i in read_recording(path))
    return library, pool


def _stream(pool, count: int):
    """`count` outcomes cycling through the pool, each with its own source (as if read from 500 files)."""
    from pytest_batch.interaction import Source

    for i in range(count):
        outcome = pool[i % len(pool)]
        source = Source(f"bench/cassette-{i // 200:04d}.yaml", i % 200)
        interaction = replace(outcome.interaction, source=source)
        yield replace(
            outcome, interaction=interaction, violations=tuple(replace(v, source=source) for v in outcome.violations)
        )


def _child(mode: str, count: int, out: Path) -> dict:
    started = time.perf_counter()
    library, pool = _pool()
    setup_s = time.perf_counter() - started
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    findings = 0
    t0 = time.perf_counter()
    if mode == "report":
        from pytest_batch.reports.aggregate import ReportBuilder
        from pytest_batch.reports.write import write_reports

        builder = ReportBuilder(library=library)
        for outcome in _stream(pool, count):
            findings += len(outcome.violations)
            builder.add(outcome)
        fold_s = time.perf_counter() - t0
        document = builder.document()
        write_reports([str(out / name) for name in FORMATS], document)
        distinct = document["totals"]["distinct_findings"]
    elif mode == "peer":
        from pytest_batch.summary import CheckSummary

        summary = CheckSummary()
        for outcome in _stream(pool, count):
            findings += len(outcome.violations)
            summary.add(outcome)
        fold_s = time.perf_counter() - t0
        (out / "check.json").write_text(summary.render_json())
        (out / "check.txt").write_text(summary.render_text())
        distinct = len(summary.findings)
    else:
        from pytest_batch.contract import Allowance, TestContract, report_record
        from pytest_batch.reports.write import write_reports
        from pytest_batch.session_report import session_builder

        # as the plugin does: each test's record is built when the test ends, crosses a process boundary as
        # JSON (pytest-xdist), is folded into the session's builder and dropped; nothing holds the records
        builder = session_builder(library)
        per_test, batch, tests = max(1, count // 1000), [], 0
        for i, outcome in enumerate(_stream(pool, count)):
            findings += len(outcome.violations)
            batch.append(outcome)
            if len(batch) == per_test or i == count - 1:
                contract = TestContract("off", Allowance(()), batch)
                record = json.loads(json.dumps(report_record(f"t.py::test_{tests:04d}", None, contract)))
                builder.add_record(record)
                tests, batch = tests + 1, []
        fold_s = time.perf_counter() - t0
        document = builder.document()
        write_reports([str(out / name) for name in FORMATS], document)
        distinct = document["totals"]["distinct_findings"]
    total_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    return {
        "mode": mode,
        "interactions": count,
        "findings": findings,
        "distinct_findings": distinct,
        "setup_s": round(setup_s, 3),
        "fold_s": round(fold_s, 3),
        "total_s": round(total_s, 3),
        "rss_before_mb": round(base_mb, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "bytes": sizes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=("report", "peer", "session"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.interactions, Path(args.out))))
        return 0
    runs: dict[str, list[dict]] = {}
    for _ in range(args.rounds):
        for mode in ("report", "peer", "session"):
            with tempfile.TemporaryDirectory() as out:
                done = subprocess.run(
                    [sys.executable, __file__, "--child", mode, "--interactions", str(args.interactions), "--out", out],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                runs.setdefault(mode, []).append(json.loads(done.stdout.splitlines()[-1]))
    rows, summary = [], {}
    for mode, results in runs.items():
        pick = {k: median([r[k] for r in results]) for k in ("fold_s", "total_s", "peak_rss_mb", "rss_before_mb")}
        summary[mode] = {**pick, "runs": results}
        cells = [pick["fold_s"], pick["total_s"], pick["rss_before_mb"], pick["peak_rss_mb"]]
        rows.append(
            [
                mode,
                *(f"{c:.2f}" if k < 2 else f"{c:.0f}" for k, c in enumerate(cells)),
                results[0]["findings"],
                results[0]["distinct_findings"],
            ]
        )
    print(f"{args.interactions:,} interactions, median of {args.rounds} fresh processes")
    table(["mode", "fold s", "fold+render s", "RSS before MB", "peak RSS MB", "findings", "distinct"], rows)
    verdict = True
    for mode in ("report", "session"):
        met = summary[mode]["total_s"] <= TARGET_S and summary[mode]["peak_rss_mb"] <= TARGET_MB
        verdict = verdict and met
        print(f"target ({mode}): <= {TARGET_S:.0f} s and <= {TARGET_MB:.0f} MB: {'met' if met else 'NOT met'}")
    path = write_json(
        "bench_reports",
        {
            "machine": machine(),
            "code": code_fingerprint(),
            "interactions": args.interactions,
            "results": summary,
            "target": {"seconds": TARGET_S, "peak_rss_mb": TARGET_MB, "met": verdict},
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
