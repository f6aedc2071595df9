"""One probe run end to end: plan, pick the target (emulator, URL, or a recorded run), send, document.

The CLI and the `batch_probe` fixture are thin shells over these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import BatchContractError
from .document import build_document, public_url
from .plan import plan_cases
from .record import RunSettings, cassette, cassette_path, plan_for, read_manifest, replay_miss, write_manifest
from .run import run_cases
from .verdict import Verdict

SETTLE_SECONDS = 60.0  # emulator time let pass after a run, so deletions finish


class ProbeError(BatchContractError):
    """A probe run could not be carried out (an unknown rule, a replay that misses...)."""


def check_selection(settings: RunSettings, strategies: Any = None) -> list[str]:
    """One line per unknown api-version, rule id or operation id in `settings` (empty when all are known)."""
    strategies = strategies or _default_strategies()
    if settings.api_version not in strategies.library.versions:
        return [f"unknown api-version {settings.api_version!r} (known: {', '.join(strategies.library.versions)})"]
    problems = []
    if settings.api_version not in strategies.overlay.versions:
        problems.append(
            f"api-version {settings.api_version} has no documented-constraint rules "
            f"(the overlay covers {', '.join(strategies.overlay.versions)})"
        )
    known_rules = {r.id for r in strategies.overlay.rules_for(settings.api_version)}
    for rule in settings.rules or ():
        if rule not in known_rules:
            problems.append(
                f"unknown rule {rule!r} for api-version {settings.api_version} (see schemas/constraints.json)"
            )
    spec = strategies.library.get(settings.api_version)
    for op in settings.operations or ():
        if op not in spec.operations:
            problems.append(f"unknown operation {op!r} in api-version {settings.api_version}")
    return problems


def execute(
    target: Any, settings: RunSettings, *, strategies: Any = None, cassette_plan: Any = None, settle: float = 0.0
) -> list[Verdict]:
    """Plan `settings` and send the cases to `target`, inside `cassette_plan`'s cassette when given."""
    cases = plan_cases(
        settings.api_version,
        strategies=strategies,
        rules=settings.rules,
        operations=settings.operations,
        node_free=settings.node_free,
        allow_billable=settings.allow_billable,
    )
    if cassette_plan is None:
        return run_cases(target, cases, settle=settle)
    try:
        with cassette(cassette_plan):
            return run_cases(target, cases, settle=settle)
    except Exception as error:
        miss = replay_miss(error, cassette_plan)
        if miss is None:
            raise
        raise ProbeError(miss) from None


def probe_emulator(
    settings: RunSettings, *, record: Path | None = None, strategies: Any = None, **emulator_options: Any
) -> dict[str, Any]:
    """Probe a fresh embedded emulator (manual clock) and return the output document."""
    from ..emulator import Emulator, ManualClock
    from ..stateful import HttpTarget

    emulator_options.setdefault("clock", ManualClock())
    with Emulator(**emulator_options) as emulator:
        target = HttpTarget(emulator.endpoint, emulator.credential(), api_version=settings.api_version,
                            wait=emulator.advance)  # fmt: skip
        plan = _recording_plan(record, settings, emulator.endpoint, emulator.key)
        try:
            verdicts = execute(target, settings, strategies=strategies, cassette_plan=plan, settle=SETTLE_SECONDS)
        finally:
            target.close()
    return build_document(verdicts, api_version=settings.api_version, target="emulator")


def probe_url(
    url: str,
    credential: Any,
    settings: RunSettings,
    *,
    key: str | None = None,
    record: Path | None = None,
    strategies: Any = None,
    wait: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Probe the Batch account at `url` (a real account: node-free unless `allow_billable`)."""
    import time

    from ..stateful import HttpTarget

    target = HttpTarget(url, credential, api_version=settings.api_version, wait=wait or time.sleep)
    plan = _recording_plan(record, settings, url, key)
    try:
        verdicts = execute(target, settings, strategies=strategies, cassette_plan=plan)
    finally:
        target.close()
    return build_document(verdicts, api_version=settings.api_version, target=public_url(url))


def replay(directory: Path, *, strategies: Any = None) -> dict[str, Any]:
    """Replay a recorded run from `directory` with no network; the verdicts equal the recorded run's."""
    from azure.core.credentials import AzureNamedKeyCredential

    from ..stateful import HttpTarget
    from ..targets import REPLAY

    settings = read_manifest(directory)
    credential = AzureNamedKeyCredential(REPLAY.account, REPLAY.key)
    target = HttpTarget(REPLAY.url, credential, api_version=settings.api_version, wait=lambda seconds: None)
    plan = plan_for(cassette_path(directory, settings.api_version), record=False)
    try:
        verdicts = execute(target, settings, strategies=strategies, cassette_plan=plan)
    finally:
        target.close()
    return build_document(verdicts, api_version=settings.api_version, target=f"replay:{directory}")


def _recording_plan(record: Path | None, settings: RunSettings, url: str, key: str | None) -> Any:
    if record is None:
        return None
    record.mkdir(parents=True, exist_ok=True)
    write_manifest(record, settings)
    return plan_for(cassette_path(record, settings.api_version), record=True, url=url, key=key)


def settings_for(
    api_version: str,
    *,
    rules: Iterable[str] | None = None,
    operations: Iterable[str] | None = None,
    node_free: bool,
    allow_billable: bool = False,
) -> RunSettings:
    return RunSettings(
        api_version,
        tuple(sorted(set(rules))) if rules is not None else None,
        tuple(sorted(set(operations))) if operations is not None else None,
        node_free,
        allow_billable,
    )


def _default_strategies() -> Any:
    from ..strategies import default_strategies

    return default_strategies()
