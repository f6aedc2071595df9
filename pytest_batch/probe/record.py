"""Probe runs as cassettes: record a run (sanitised, atomic) and replay it with no network.

One cassette per run, `<dir>/probe-<api-version>.yaml`, written through the plugin's own recording
machinery (`recording.CassetteRecording`: vcrpy, the sanitiser, the secret scan, atomic writes), plus a
small manifest (`probe.json`) saying what was planned (api-version, rules, operations, node-free), so the
replay plans the same cases and sends byte-identical requests. A request the cassette does not hold stops
the replay with one line naming the cassette and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import RecordingError

MANIFEST = "probe.json"
MANIFEST_FORMAT = "pytest-batch-probe-run/1"


@dataclass(frozen=True)
class RunSettings:
    """What a run planned: enough to plan the same cases again when it is replayed."""

    api_version: str
    rules: tuple[str, ...] | None
    operations: tuple[str, ...] | None
    node_free: bool
    allow_billable: bool

    def data(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "api_version": self.api_version,
            "rules": list(self.rules) if self.rules is not None else None,
            "operations": list(self.operations) if self.operations is not None else None,
            "node_free": self.node_free,
            "allow_billable": self.allow_billable,
        }


def cassette_path(directory: Path, api_version: str) -> Path:
    from ..recording import safe_name

    return directory / f"probe-{safe_name(api_version)}.yaml"


def write_manifest(directory: Path, settings: RunSettings) -> None:
    from ..cassettes import atomic_write

    atomic_write(directory / MANIFEST, json.dumps(settings.data(), indent=2, sort_keys=True) + "\n")


def read_manifest(directory: Path) -> RunSettings:
    """The settings of a recorded run; a missing or damaged manifest is a `RecordingError` naming the fix."""
    path = directory / MANIFEST
    hint = f"record it first: pytest-batch probe --target emulator --record {directory}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordingError(str(path), "no recorded probe run here", hint=hint) from None
    except (OSError, ValueError) as exc:
        raise RecordingError(str(path), f"cannot be read: {exc}", hint=hint) from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not data.get("api_version"):
        raise RecordingError(str(path), f"not a {MANIFEST_FORMAT} manifest", hint=hint)
    rules, operations = data.get("rules"), data.get("operations")
    return RunSettings(
        str(data["api_version"]),
        tuple(rules) if isinstance(rules, list) else None,
        tuple(operations) if isinstance(operations, list) else None,
        bool(data.get("node_free")),
        bool(data.get("allow_billable")),
    )


def plan_for(path: Path, *, record: bool, url: str | None = None, key: str | None = None) -> Any:
    """The `CassettePlan` of a probe run: record afresh (rewrite) with the target's URL and key redacted, or replay."""
    from ..recording import CassettePlan
    from ..sanitize import PLACEHOLDER_HOST, Sanitizer, literal_rule
    from ..targets import REPLAY

    sanitizer = Sanitizer()
    if record and url:
        rules = [literal_rule("endpoint", url, REPLAY.url), literal_rule("endpoint host", urlsplit(url).netloc,
                                                                          PLACEHOLDER_HOST)]  # fmt: skip
        if key:
            rules.append(literal_rule("account key", key))
        sanitizer = sanitizer.with_rules(*rules)
    return CassettePlan(path, "rewrite" if record else "none", sanitizer, str(path))


@contextmanager
def cassette(plan: Any) -> Iterator[Any]:
    """The run's cassette, active around the block; a failed block writes nothing (the old file stays)."""
    from ..recording import CassetteRecording

    if plan.record_mode == "none" and not plan.path.is_file():
        raise RecordingError(
            str(plan.path), "no such probe cassette", hint="record it first with --record (against the emulator)"
        )
    recording = CassetteRecording(plan).start()
    failed = True
    try:
        yield recording
        failed = False
    finally:
        recording.stop(failed=failed)


def replay_miss(error: BaseException, plan: Any) -> str | None:
    """One line when `error` is a request the cassette does not hold (which one, what differed, the fix)."""
    from ..recording import miss_message

    message = miss_message(error, plan)
    if message is None:
        return None
    return message.replace("(fix: correct the request, or re-record with --batch-record-mode=new_episodes or rewrite)",
                           "(fix: record the probe run again with --record)")  # fmt: skip
