"""Shared helpers for the benchmarks in bench/ (plain scripts, no pytest).

Not part of the package: only the scripts next to this file import it.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
SPECS = ROOT.parent / "shared" / "specs" / "batch"
REAL_TRAFFIC = ROOT.parent / "shared" / "real-traffic" / "azure-batch-cli-extensions"

# The pytest_batch to measure: this checkout, or another copy (a snapshot, a patched scratch copy)
# named by BENCH_PACKAGE_ROOT (a folder that holds pytest_batch/ and schemas/).
PACKAGE_ROOT = Path(os.environ.get("BENCH_PACKAGE_ROOT") or ROOT).resolve()
if str(PACKAGE_ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(PACKAGE_ROOT))


def spec_file(version: str) -> Path:
    return SPECS / version / "BatchService.json"


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def code_fingerprint(package_root: Path = PACKAGE_ROOT) -> dict:
    """Which code was measured: HEAD, and a hash of the pytest_batch sources as they were (tree may be dirty)."""
    import hashlib
    import subprocess

    digest = hashlib.sha256()
    for path in sorted((package_root / "pytest_batch").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    head = dirty = None
    if package_root.resolve() == ROOT.resolve():
        try:
            head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                  text=True, check=True).stdout.strip()
            dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "pytest_batch"],
                                        capture_output=True, text=True, check=True).stdout.strip())
        except (OSError, subprocess.CalledProcessError):
            pass
    return {"git_head": head, "pytest_batch_dirty": dirty, "pytest_batch_sources_sha256": digest.hexdigest()[:16], "package_root": str(package_root)}


def median(values) -> float:
    return statistics.median(values)


def timed_rounds(fn, rounds: int) -> list[float]:
    """Run `fn` `rounds` times; seconds per round."""
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def write_json(name: str, data: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def table(headers: list[str], rows: list[list], file=sys.stdout) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    print(line, file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for row in cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))), file=file)
    file.flush()
