"""One deterministic, minimal draw from a Hypothesis strategy: the same value in every run.

A probe run is replayed from its cassette, so its requests must be byte-identical run after run.
`hypothesis.find` runs with `derandomize=True` (the seed comes from the condition's code, not the clock)
and no example database, and shrinks what it finds: the prober sends the smallest body that carries the
target, so a refusal is about the rule and not about some exotic optional property drawn alongside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_EXAMPLES = 200


def draw_one(
    strategy: Any, condition: Callable[[Any], bool] = lambda value: True, *, shrink: bool = True
) -> Any | None:
    """The minimal value of `strategy` meeting `condition` in a derandomized search, or None when none is found.

    `shrink=False` keeps the first value found (Hypothesis tries the simplest example first, so a condition
    the simplest value meets costs one draw).
    """
    import warnings

    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    config = settings(
        derandomize=True,
        database=None,
        max_examples=MAX_EXAMPLES,
        phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return find(strategy, condition, settings=config)
        except (NoSuchExample, Unsatisfiable):
            return None
