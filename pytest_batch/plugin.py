"""pytest entry point (`pytest11`): fixtures and, later, the record/replay options.

Kept import-light: pytest loads it in every session of every project that has
pytest-batch installed, so heavy modules are imported inside the fixtures that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from .emulator import Emulator


@pytest.fixture(scope="session")
def batch_emulator() -> Iterator["Emulator"]:
    """An emulated Batch account on a free loopback port for the whole session.

    Yields the running `Emulator`: `endpoint`, `account` and `key` to configure a client
    (`batch_emulator.client()` builds an azure-batch `BatchClient`), `state`, `faults`.
    """
    from .emulator import Emulator

    with Emulator() as emulator:
        yield emulator
