"""Hook specifications pytest-batch adds to pytest (implement them in a `conftest.py` or a plugin)."""

from __future__ import annotations

from typing import Any


def pytest_batch_sanitize_rules(config: Any) -> Any:
    """Return extra `pytest_batch.sanitize.Rule`s (a sequence) applied after the default rules.

    Every implementation is called; their rules are added in plugin order. For per-test rules override
    the `batch_sanitize_rules` fixture instead.
    """
