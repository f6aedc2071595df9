"""The `batch_probe` fixture's object: probe documented rules through the test's endpoint and cassette.

`plugin.py` wraps `make_batch_probe` (see the fixture there). The probe sends its requests through the
test's `batch_endpoint` while the test's `batch_cassette` is active, so `--batch-record-mode` records them
and the default replays them. Requests are always node-free (never a pool with nodes) unless
`allow_billable=True`: the plan has to be the same when recorded and when replayed, and a replay cannot
know what was reached when it was recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from .verdict import Verdict


class BatchProbe:
    """`run(rules=..., operations=...) -> list[Verdict]`; `records` holds every verdict as document records."""

    def __init__(
        self,
        endpoint: Any,
        *,
        api_version: str = "2025-06-01",
        wait: Any = None,
        before: Callable[[], Any] | None = None,
        after: Callable[[], Any] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.api_version = api_version
        self._wait = wait
        self._before = before  # the plugin: validate the test's own traffic so far
        self._after = after  # the plugin: take the probe's exchanges out of the contract (verdicts judge them)
        self.verdicts: list[Verdict] = []
        self._versions: list[str] = []

    def run(
        self,
        rules: Iterable[str] | None = None,
        operations: Iterable[str] | None = None,
        *,
        allow_billable: bool = False,
        api_version: str | None = None,
    ) -> list[Verdict]:
        from ..stateful import HttpTarget
        from ..targets import credential_for
        from .session import ProbeError, check_selection, execute, settings_for

        settings = settings_for(api_version or self.api_version, rules=rules, operations=operations,
                                node_free=True, allow_billable=allow_billable)  # fmt: skip
        problems = check_selection(settings)
        if problems:
            raise ProbeError("; ".join(problems))
        wait = self._wait or (time.sleep if self.endpoint.live else (lambda seconds: None))
        target = HttpTarget(self.endpoint.url, credential_for(self.endpoint), api_version=settings.api_version,
                            wait=wait)  # fmt: skip
        if self._before is not None:
            self._before()
        try:
            verdicts = execute(target, settings)
        finally:
            target.close()
            if self._after is not None:
                self._after()
        self.verdicts.extend(verdicts)
        self._versions.extend([settings.api_version] * len(verdicts))
        return verdicts

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every verdict as the document holds it, plus its `api_version` (a test's record has no document)."""
        pairs = sorted(zip(self._versions, self.verdicts), key=lambda p: (p[0], p[1].key))
        return [{**verdict.record(), "api_version": version} for version, verdict in pairs]


def make_batch_probe(
    endpoint: Any,
    *,
    api_version: str | None = None,
    emulator: Any = None,
    before: Callable[[], Any] | None = None,
    after: Callable[[], Any] | None = None,
) -> BatchProbe:
    """The object `batch_probe` yields; `emulator` (the session's `batch_emulator`, when recording against it)
    lets transitional states settle by moving its clock when it has a manual one, else by sleeping. The probe
    sends invalid requests on purpose: `before`/`after` let the plugin validate the test's own traffic first
    and keep the probe's exchanges out of the test's contract (the verdicts are their judgement)."""
    wait = None
    if emulator is not None and getattr(getattr(emulator, "state", None), "clock", None) is not None:
        from ..emulator.clock import ManualClock

        if isinstance(emulator.state.clock, ManualClock):
            wait = emulator.advance
    return BatchProbe(endpoint, api_version=api_version or "2025-06-01", wait=wait, before=before, after=after)
