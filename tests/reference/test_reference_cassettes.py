"""The committed reference cassettes as a whole: they cover 2025-06-01, pass `pytest-batch check`, leak nothing.

The scenario tests next to this file replay each cassette on its own; these checks read the files directly,
the way the README's main command (`pytest-batch check cassettes/`) and a reviewer of a re-recording do.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pytest_batch.emulator.server import DEFAULT_ACCOUNT, default_key
from pytest_batch.errors import RecordingError
from pytest_batch.readers import read_recording
from pytest_batch.sanitize import scan
from pytest_batch.spec import SpecLibrary
from pytest_batch.validation import Validator

REPO = Path(__file__).resolve().parents[2]
CASSETTES = REPO / "cassettes"
SCENARIO = Path(__file__).with_name("test_azure_batch_sdk.py")
VERSION = "2025-06-01"
_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _cassettes() -> list[Path]:
    return sorted(CASSETTES.rglob("*.yaml"))


@pytest.fixture(scope="module")
def outcomes() -> dict[Path, list]:
    """Every interaction of every cassette, checked against the spec of the api-version it names."""
    validator = Validator()
    found = {}
    for path in _cassettes():
        items = list(read_recording(path))
        unusable = [str(item) for item in items if isinstance(item, RecordingError)]
        assert not unusable, unusable
        found[path] = [validator.check(item) for item in items]
    assert found, f"no cassettes under {CASSETTES}"
    return found


def test_the_cassettes_are_the_scenario_tests():
    """One cassette per scenario test and nothing else, so no stale recording lingers after a test is renamed."""
    tree = ast.parse(SCENARIO.read_text(encoding="utf-8"))
    tests = {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    assert {p.relative_to(CASSETTES).as_posix() for p in _cassettes()} == {
        f"{SCENARIO.stem}/{name}.yaml" for name in tests
    }


def test_together_they_exercise_every_operation_of_2025_06_01(outcomes):
    every = set(SpecLibrary().get(VERSION).operations)
    assert len(every) == 72
    seen = {o.operation_id for found in outcomes.values() for o in found}
    assert every - seen == set()
    assert {o.api_version for found in outcomes.values() for o in found} == {VERSION}
    findings = [
        (o.interaction.source, v.describe()) for found in outcomes.values() for o in found for v in o.violations
    ]
    assert findings == []


def test_no_secret_and_no_loopback_address_is_recorded():
    """The scanner finds nothing, and neither the recording emulator's address nor its account key is left."""
    for path in _cassettes():
        text = path.read_text(encoding="utf-8")
        assert scan(yaml.load(text, Loader=_SAFE)) == [], path
        assert default_key(DEFAULT_ACCOUNT) not in text, path
        assert "127.0.0.1" not in text and "localhost" not in text, path
        assert "https://ACCOUNT.REGION.batch.azure.com/" in text, path  # the placeholder account, not the emulator's


def test_pytest_batch_check_passes_on_the_cassette_folder(outcomes):
    """The README's main command, as CI runs it (exit 0, no errors or warnings, every interaction a Batch one)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest_batch.cli", "check", "cassettes/", "--format", "json", "--no-progress"],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    total = sum(len(found) for found in outcomes.values())
    assert summary["files"] == len(outcomes) and summary["batch_interactions"] == total
    assert summary["interactions_with"] == {"error": 0, "warning": 0} and summary["unusable"]["count"] == 0
    assert summary["api_versions"] == {VERSION: {"interactions": total, "operations": 72}}
