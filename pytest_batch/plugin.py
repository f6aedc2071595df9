"""pytest entry point (`pytest11`): options, markers, fixtures and the hooks that check each test's traffic.

Glue only: settings, cassettes, targets, validation and reports live in their own modules. Kept
import-light, since pytest loads it in every session of every project that has pytest-batch installed:
heavy modules (vcrpy, the validator, azure-batch) are imported inside the fixtures and hooks that need them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from .contract import TestContract
    from .emulator import Emulator
    from .probe.fixture import BatchProbe
    from .recording import CassetteRecording
    from .sanitize import Sanitizer
    from .settings import BatchSettings
    from .targets import BatchEndpoint

# (option name, ini name, settings field, help)
_OPTIONS = (
    ("--batch-record-mode", "batch_record_mode", "record_mode",
     "none (default: replay only), once, new_episodes, all, rewrite"),
    ("--batch-contract", "batch_contract", "contract", "strict (default), warn or off"),
    ("--batch-cassette-dir", "batch_cassette_dir", "cassette_dir", "folder for cassettes (default: cassettes)"),
    ("--batch-api-version", "batch_api_version", "api_version", "validate every interaction against this api-version"),
    ("--batch-target", "batch_target", "target", "emulator (default) or azure, when recording"),
)  # fmt: skip

_RECORDING = pytest.StashKey["CassetteRecording"]()
_CONTRACT = pytest.StashKey["TestContract"]()
_FAILED = pytest.StashKey[bool]()
_ENDPOINT = pytest.StashKey["BatchEndpoint"]()
_SETTINGS = pytest.StashKey["BatchSettings"]()
_CASSETTE_PATH = pytest.StashKey[str]()
_PROBE = pytest.StashKey["BatchProbe"]()
_VALIDATORS = pytest.StashKey[dict]()  # api-version override (or None) -> Validator, built on first use


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("batch", "Azure Batch contract testing (pytest-batch)")
    for flag, ini, _, text in _OPTIONS:
        group.addoption(flag, dest=ini, default=None, help=text)
        parser.addini(ini, text, default=None)
    group.addoption(
        "--batch-report", dest="batch_report", action="append", default=[], metavar="PATH",
        help="write a conformance report (repeatable; format from the extension: .json, .xml (JUnit), .md, "
        ".html, .txt)",
    )  # fmt: skip
    parser.addini("batch_report", "conformance report paths", type="linelist", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "batch_cassette(name=None, record_mode=None): the cassette this test records to / replays from"
    )
    config.addinivalue_line("markers", "batch_contract(mode=None, allow=()): contract mode and allowed checks or rules")
    from .settings import SettingsError, resolve

    try:  # a bad command-line or ini value is a usage error, reported once, before any test runs
        settings = resolve(*_session_layers(config))
    except SettingsError as exc:
        raise pytest.UsageError(f"pytest-batch: {exc}") from None
    from .session_report import check_report_paths

    problem = check_report_paths(settings.reports)
    if problem:
        raise pytest.UsageError(f"pytest-batch: {problem}")
    config.stash[_VALIDATORS] = {}
    config.pluginmanager.register(_SessionCollection(config), "pytest-batch-session")


def _session_layers(config: pytest.Config) -> tuple[dict[str, Any], dict[str, Any]]:
    command_line = {field: config.getoption(ini) for _, ini, field, _ in _OPTIONS}
    command_line["reports"] = config.getoption("batch_report")
    ini_values = {field: config.getini(ini) for _, ini, field, _ in _OPTIONS}
    ini_values["reports"] = config.getini("batch_report")
    return command_line, ini_values


# -- settings and sanitising ---------------------------------------------------------------------------------------


@pytest.fixture
def batch_config() -> dict[str, Any]:
    """Override to set defaults for a module or folder, e.g. `{"record_mode": "once", "contract": "warn"}`.

    Precedence: command line > ini > this fixture > markers.
    """
    return {}


@pytest.fixture
def batch_settings(request: pytest.FixtureRequest, batch_config: dict[str, Any]) -> BatchSettings:
    """This test's resolved `BatchSettings` (record mode, contract mode, cassette folder, ...)."""
    from .settings import SettingsError, resolve

    marker_layer: dict[str, Any] = {}
    cassette_marker = request.node.get_closest_marker("batch_cassette")
    if cassette_marker is not None and cassette_marker.kwargs.get("record_mode") is not None:
        marker_layer["record_mode"] = cassette_marker.kwargs["record_mode"]
    contract_marker = request.node.get_closest_marker("batch_contract")
    if contract_marker is not None:
        mode = contract_marker.kwargs.get("mode", contract_marker.args[0] if contract_marker.args else None)
        marker_layer["contract"] = mode
    try:
        return resolve(*_session_layers(request.config), batch_config, marker_layer)
    except SettingsError as exc:
        problem = f"pytest-batch: {exc}"
    raise pytest.fail.Exception(problem, pytrace=False)  # outside the except: the message is shown once


@pytest.fixture
def batch_sanitize_rules() -> tuple[Any, ...]:
    """Override to add `pytest_batch.sanitize.Rule`s for this test's cassettes (after the default rules)."""
    return ()


@pytest.fixture
def batch_sanitizer(request: pytest.FixtureRequest, batch_sanitize_rules: tuple[Any, ...]) -> Sanitizer:
    """The `Sanitizer` applied before anything is written: default rules, hook rules, then fixture rules."""
    from .sanitize import Sanitizer

    from_hooks = [
        rule for rules in request.config.hook.pytest_batch_sanitize_rules(config=request.config) for rule in rules or ()
    ]
    return Sanitizer().with_rules(*from_hooks, *batch_sanitize_rules)


# -- the cassette, the account and the clients ---------------------------------------------------------------------


@pytest.fixture
def batch_contract(request: pytest.FixtureRequest, batch_settings: BatchSettings) -> TestContract:
    """The findings of this test's interactions so far (validated when read); `assert_conforms()`."""
    from .contract import Allowance, TestContract

    marker = request.node.get_closest_marker("batch_contract")
    allow = tuple(marker.kwargs.get("allow", ())) if marker is not None else ()
    item = request.node
    contract = TestContract(batch_settings.contract, Allowance(tuple(str(a) for a in allow)))
    contract.refresh = lambda: _check(item)
    item.stash[_CONTRACT] = contract
    item.stash[_SETTINGS] = batch_settings
    return contract


@pytest.fixture
def batch_cassette(
    request: pytest.FixtureRequest,
    batch_settings: BatchSettings,
    batch_sanitizer: Sanitizer,
    batch_contract: TestContract,
) -> Iterator[CassetteRecording]:
    """This test's vcrpy cassette, `<cassette dir>/<test module>/<test name>.yaml`, active for the whole test.

    Works for any HTTP client vcrpy patches (requests, urllib3, httpx, aiohttp, azure-core's transports).
    Every interaction is sanitised before it is kept and validated against the Batch spec when the test
    ends; `--batch-record-mode` decides whether anything may be recorded.
    """
    from .recording import CassettePlan, CassetteRecording, cassette_path
    from .sanitize import PLACEHOLDER_HOST, literal_rule
    from .targets import REPLAY, TargetError, choose_target

    item = request.node
    marker = item.get_closest_marker("batch_cassette")
    name = None
    if marker is not None:
        name = marker.kwargs.get("name", marker.args[0] if marker.args else None)
    folder = Path(batch_settings.cassette_dir)
    if not folder.is_absolute():
        folder = Path(request.config.rootpath) / folder
    test_id = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
    path = cassette_path(folder, Path(str(item.path)).stem, test_id, name)
    shown = _relative(path, Path(request.config.rootpath))
    plan = CassettePlan(path, batch_settings.record_mode, batch_sanitizer, shown)
    try:
        endpoint = choose_target(batch_settings.target, plan.replays_only, os.environ)
    except TargetError as exc:
        raise pytest.fail.Exception(f"pytest-batch: {exc}", pytrace=False) from None
    if endpoint == "emulator":
        emulator = request.getfixturevalue("batch_emulator")
        from .targets import BatchEndpoint

        endpoint = BatchEndpoint(emulator.endpoint, emulator.account, emulator.key, "emulator")
    assert not isinstance(endpoint, str)
    if endpoint.live:  # recordings read as if made against the placeholder account, whatever was reached
        rules = [
            literal_rule("endpoint", endpoint.url, REPLAY.url),
            literal_rule("endpoint host", urlsplit(endpoint.url).netloc, PLACEHOLDER_HOST),  # httpx's Host header
        ]
        if endpoint.key:
            rules.append(literal_rule("account key", endpoint.key))
        plan = CassettePlan(path, plan.record_mode, batch_sanitizer.with_rules(*rules), shown)
    item.stash[_ENDPOINT] = endpoint
    item.stash[_CASSETTE_PATH] = shown
    from .errors import BatchContractError

    try:
        recording = CassetteRecording(plan).start()
    except BatchContractError as exc:  # a damaged cassette, a stale rewrite backup: one line, file named
        raise pytest.fail.Exception(f"pytest-batch: {exc}", pytrace=False) from None
    item.stash[_RECORDING] = recording
    failed = True
    try:
        yield recording
        failed = item.stash.get(_FAILED, False)
    finally:
        leftover = _validate(item)  # interactions made while other fixtures tore down
        del item.stash[_RECORDING]
        try:
            recording.stop(failed=failed)
        except BatchContractError as exc:  # a secret left in the cassette: refused, nothing written
            raise pytest.fail.Exception(f"pytest-batch: {exc}", pytrace=False) from None
    if leftover is not None:
        _judge(item, leftover)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return os.fspath(path)


@pytest.fixture
def batch_endpoint(request: pytest.FixtureRequest, batch_cassette: CassetteRecording) -> BatchEndpoint:
    """Where this test's requests go: replay placeholders, the embedded emulator, or Azure (`kind`).

    Recording against Azure reads `AZURE_BATCH_ENDPOINT` with `AZURE_BATCH_ACCOUNT_NAME`/`_KEY`
    (or `DefaultAzureCredential` without a key); replay needs none of them.
    """
    return request.node.stash[_ENDPOINT]


@pytest.fixture
def batch_credentials(batch_endpoint: BatchEndpoint) -> Any:
    """The azure-core credential for `batch_endpoint` (SharedKey, or Entra ID via azure-identity)."""
    from .targets import credential_for

    return credential_for(batch_endpoint)


@pytest.fixture
def batch_client(batch_endpoint: BatchEndpoint, batch_credentials: Any) -> Iterator[Any]:
    """An azure-batch `BatchClient` wired to `batch_endpoint`, its traffic in this test's cassette."""
    from azure.batch import BatchClient

    with BatchClient(batch_endpoint.url, batch_credentials) as client:
        yield client


@pytest.fixture
def batch_async_client(batch_endpoint: BatchEndpoint, batch_credentials: Any) -> Iterator[Any]:
    """An `azure.batch.aio.BatchClient` for `async` tests; use it as `async with batch_async_client:` to
    close it on the test's own event loop (otherwise it is closed at teardown)."""
    from azure.batch.aio import BatchClient

    from .aio_transport import OneShotAioHttpTransport

    client = BatchClient(batch_endpoint.url, batch_credentials, transport=OneShotAioHttpTransport())
    yield client
    _close_async(client)


def _close_async(client: Any) -> None:
    """Close an aio client that the test left open, on a loop of our own (its own loop is gone by now)."""
    import asyncio
    import contextlib

    # a session bound to a closed loop raises here: then there is nothing left to release
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore", ResourceWarning)
        asyncio.run(client.close())


@pytest.fixture
def batch_probe(
    request: pytest.FixtureRequest, batch_endpoint: BatchEndpoint, batch_settings: BatchSettings
) -> BatchProbe:
    """Probe documented constraints through this test's endpoint, inside its cassette: `batch_probe.run(rules=[...],
    operations=[...]) -> [Verdict]`. Recorded with `--batch-record-mode`, replayed by default; never creates a pool
    with nodes unless `run(..., allow_billable=True)`. The verdicts go into the test's report record (`probe`)."""
    from .probe.fixture import make_batch_probe

    item = request.node
    emulator = request.getfixturevalue("batch_emulator") if batch_endpoint.kind == "emulator" else None

    def discard() -> None:  # the probe's exchanges are invalid on purpose: its verdicts judge them, not the contract
        recording = item.stash.get(_RECORDING, None)
        if recording is not None:
            recording.take()

    probe = make_batch_probe(
        batch_endpoint, api_version=batch_settings.api_version, emulator=emulator,
        before=lambda: _check(item), after=discard,
    )  # fmt: skip
    item.stash[_PROBE] = probe
    return probe


@pytest.fixture(scope="session")
def batch_emulator() -> Iterator[Emulator]:
    """An emulated Batch account on a free loopback port for the whole session.

    Yields the running `Emulator`: `endpoint`, `account` and `key` to configure a client
    (`batch_emulator.client()` builds an azure-batch `BatchClient`), `state`, `faults`.
    """
    from .emulator import Emulator

    with Emulator() as emulator:
        yield emulator


# -- validating each test's traffic --------------------------------------------------------------------------------


def _check(item: pytest.Item) -> None:
    """Validate the interactions the test made since the last check into its contract."""
    recording = item.stash.get(_RECORDING, None)
    contract = item.stash.get(_CONTRACT, None)
    if recording is None or contract is None:
        return
    validator = _validator(item.config, item.stash[_SETTINGS].api_version)
    contract.add(validator.check(interaction) for interaction in recording.take())


def _validate(item: pytest.Item) -> list[Any] | None:
    """The outcomes no phase has judged yet; None when the test has no cassette."""
    contract = item.stash.get(_CONTRACT, None)
    if contract is None or _RECORDING not in item.stash:
        return None
    return contract.unjudged()


def _validator(config: pytest.Config, api_version: str | None) -> Any:
    validators = config.stash[_VALIDATORS]
    validator = validators.get(api_version)
    if validator is None:
        from .validation import Validator

        validator = validators[api_version] = Validator(api_version=api_version)
    return validator


def _judge(item: pytest.Item, outcomes: list[Any]) -> None:
    """`strict`: fail on errors; `warn`: a warning for any finding; `off`: nothing (the report still has them).

    Warning-level findings (say, an enum value in another case) never fail a test; they warn in `strict` too.
    """
    contract = item.stash[_CONTRACT]
    if contract.mode == "off" or not outcomes:
        return
    from .contract import BatchContractWarning
    from .validation import ERROR, WARNING

    if contract.mode == "strict":
        errors = contract.message((ERROR,), outcomes)
        if errors:
            pytest.fail(f"pytest-batch contract (strict): {errors}", pytrace=False)
        severities: tuple[str, ...] = (WARNING,)
    else:
        severities = (ERROR, WARNING)
    message = contract.message(severities, outcomes)
    if message:
        lineno = (item.location[1] or 0) + 1  # point at the test, not at this hook
        warnings.warn_explicit(
            BatchContractWarning(f"pytest-batch contract ({contract.mode}): {message}"),
            BatchContractWarning,
            str(item.path),
            lineno,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After the test body: validate what it sent and got; a test that already failed keeps its own failure."""
    try:
        result = yield
    except BaseException as error:
        _validate(item)
        recording = item.stash.get(_RECORDING, None)
        if recording is not None and isinstance(error, Exception):
            from .recording import miss_message

            miss = miss_message(error, recording.plan)
            if miss is not None:  # vcrpy's own message cannot say what differed: our matcher is one unit
                raise pytest.fail.Exception(f"pytest-batch: {miss}", pytrace=False) from None
        raise
    outcomes = _validate(item)
    if outcomes is not None:
        _judge(item, outcomes)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Remember failures (a failed `rewrite` restores the old cassette) and attach the test's findings to its
    last report, which pytest-xdist carries to the controller as plain data."""
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    contract = item.stash.get(_CONTRACT, None)
    if call.when == "teardown" and contract is not None:
        from .contract import report_record

        cassette = item.stash.get(_CASSETTE_PATH, None)
        report.batch_contract = report_record(item.nodeid, cassette, contract)  # type: ignore[attr-defined]
        probe = item.stash.get(_PROBE, None)
        if probe is not None and probe.records:
            report.batch_contract["probe"] = probe.records  # type: ignore[attr-defined]
    return report


class _SessionCollection:
    """The session's report fold (registered as a plugin: pytest gives `pytest_runtest_logreport` no config).

    Each test's record is folded into one `ReportBuilder` when its report arrives, then dropped from the
    report (pytest's terminal reporter keeps every report to the end), so memory does not grow with the
    traffic. Under pytest-xdist the controller gets each worker's reports, so records land here exactly once
    (workers fold nothing). The document is built once, when the session finishes, for the files and the
    terminal alike; the fold is order-independent, so `-n 4` reports equal serial ones.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.fold: Any = None
        self.document: dict[str, Any] | None = None
        self.problem: str | None = None
        self.worker = hasattr(config, "workerinput")

    @pytest.hookimpl(trylast=True)  # after any conftest hook that reads the record
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = getattr(report, "batch_contract", None)
        if not isinstance(record, dict) or self.worker:  # a worker's record travels to the controller
            return
        if self.fold is None:
            from .session_report import session_builder

            self.fold = session_builder()
        self.fold.add_record(record)
        report.batch_contract = None  # type: ignore[attr-defined]  # folded: not kept twice

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.problem:
            terminalreporter.write_sep("-", "pytest-batch")
            terminalreporter.write_line(f"pytest-batch: {self.problem}", red=True)
        if self.fold is not None:
            from .session_report import terminal_lines

            if not self.problem:
                terminalreporter.write_sep("-", "pytest-batch")
            for line in terminal_lines(self.fold, self.document):
                terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.worker:  # an xdist worker: the controller writes the reports
            return
        from .errors import BatchContractError
        from .session_report import session_builder, write_reports
        from .settings import resolve

        settings = resolve(*_session_layers(self.config))
        fold = self.fold if self.fold is not None else session_builder()
        try:
            self.document = write_reports(settings.reports, fold, Path(self.config.rootpath))
        except BatchContractError as exc:  # a report that cannot be written fails the run, in one line
            self.problem = str(exc)
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
