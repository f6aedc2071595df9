"""Shared test helpers: where the read-only input data lives, and skipping when it is absent.

`../shared` (next to the checkout) holds the upstream Batch specs with their
x-ms-examples and the recorded real traffic. It is input data that is never
copied into the project, so tests that read it skip with a clear reason when it
is not there; the package's own tests run without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SPECS = SHARED / "specs" / "batch"
REAL_TRAFFIC = SHARED / "real-traffic"


def require(path: Path) -> Path:
    """Return `path`, or skip the calling test/fixture when it does not exist."""
    if not path.exists():
        pytest.skip(f"input data not available: {path} (the shared data folder sits next to the checkout)")
    return path


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    """`../shared/specs/batch`: one folder per api-version with BatchService.json and examples/."""
    return require(SPECS)


@pytest.fixture(scope="session")
def real_traffic_dir() -> Path:
    """`../shared/real-traffic`: recorded cassettes of the real service (README.md describes them)."""
    return require(REAL_TRAFFIC)
