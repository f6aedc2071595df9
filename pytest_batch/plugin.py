"""pytest entry point (`pytest11`): options, markers and fixtures; the work happens elsewhere.

Kept import-light: pytest loads it in every session of every project that has
pytest-batch installed, so heavy modules are imported inside the fixtures that need them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .emulator import Emulator

# (option name, ini name, settings field, help)
_OPTIONS = (
    ("--batch-record-mode", "batch_record_mode", "record_mode",
     "none (default: replay only), once, new_episodes, all, rewrite"),
    ("--batch-contract", "batch_contract", "contract", "strict (default), warn or off"),
    ("--batch-cassette-dir", "batch_cassette_dir", "cassette_dir", "folder for cassettes (default: cassettes)"),
    ("--batch-api-version", "batch_api_version", "api_version", "validate every interaction against this api-version"),
    ("--batch-target", "batch_target", "target", "emulator (default) or azure, when recording"),
)  # fmt: skip


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("batch", "Azure Batch contract testing (pytest-batch)")
    for flag, ini, _, text in _OPTIONS:
        group.addoption(flag, dest=ini, default=None, help=text)
        parser.addini(ini, text, default=None)
    group.addoption(
        "--batch-report", dest="batch_report", action="append", default=[], metavar="PATH",
        help="write a conformance report (repeatable; format from the extension)",
    )  # fmt: skip
    parser.addini("batch_report", "conformance report paths", type="linelist", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "batch_cassette(name=None): the cassette this test records to / replays from")
    config.addinivalue_line("markers", "batch_contract(mode=None, allow=()): contract mode and allowed checks or rules")
    from .settings import SettingsError, resolve

    try:  # a bad command-line or ini value is a usage error, reported once, before any test runs
        resolve(*_session_layers(config))
    except SettingsError as exc:
        raise pytest.UsageError(f"pytest-batch: {exc}") from None


def _session_layers(config: pytest.Config) -> tuple[dict[str, Any], dict[str, Any]]:
    command_line = {field: config.getoption(ini) for _, ini, field, _ in _OPTIONS}
    command_line["reports"] = config.getoption("batch_report")
    ini_values = {field: config.getini(ini) for _, ini, field, _ in _OPTIONS}
    ini_values["reports"] = config.getini("batch_report")
    return command_line, ini_values


@pytest.fixture(scope="session")
def batch_emulator() -> Iterator[Emulator]:
    """An emulated Batch account on a free loopback port for the whole session.

    Yields the running `Emulator`: `endpoint`, `account` and `key` to configure a client
    (`batch_emulator.client()` builds an azure-batch `BatchClient`), `state`, `faults`.
    """
    from .emulator import Emulator

    with Emulator() as emulator:
        yield emulator
