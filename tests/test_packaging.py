"""The wheel carries the schema bundles: build it, install it into a fresh venv, run the command."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "cassettes" / "test_azure_batch_sdk" / "test_account.yaml"


def _run(*args, cwd, timeout=600):
    result = subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, timeout=timeout)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result


@pytest.mark.slow
def test_wheel_ships_bundles_and_runs_check_from_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(REPO), cwd=tmp_path)
    (wheel,) = dist.glob("pytest_batch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    bundles = sorted(n for n in names if n.startswith("pytest_batch/schemas/2") and n.endswith(".json"))
    assert len(bundles) == 18 and "pytest_batch/schemas/2025-06-01.json" in bundles
    assert "pytest_batch/schemas/constraints.json" in names  # the documented-constraints overlay

    # A fresh venv; dependencies come from the running interpreter's site-packages so the test
    # needs no registry, but pytest-batch itself comes only from the wheel (checked below).
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _run(str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel), cwd=tmp_path)
    where = _run(str(python), "-c", "import pytest_batch.spec as s; print(s.__file__); print(s.default_bundle_dir())", cwd=tmp_path)
    module_file, bundle_dir = where.stdout.split()
    assert module_file.startswith(str(env_dir)) and bundle_dir.startswith(str(env_dir))

    result = subprocess.run([str(env_dir / "bin" / "pytest-batch"), "check", str(SAMPLE), "--format", "json", "--no-progress"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["batch_interactions"] == 3 and summary["skipped"] == {} and summary["interactions_with"]["error"] == 0
