"""The plugin's settings and their fixed precedence: command line > ini > `batch_config` fixture > marker.

Pure: `resolve` takes the four layers as plain mappings (a layer leaves out what it does not
set) and returns a frozen `BatchSettings`, or raises `SettingsError` naming the option, the
layer it came from and the allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import BatchContractError

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
CONTRACT_MODES = ("strict", "warn", "off")
TARGETS = ("emulator", "azure")
LAYERS = ("command line", "ini", "batch_config fixture", "marker")


class SettingsError(BatchContractError):
    """A setting with a value outside its allowed set."""

    def __init__(self, name: str, value: Any, layer: str, allowed: tuple[str, ...]) -> None:
        self.name, self.value, self.layer, self.allowed = name, value, layer, allowed
        super().__init__(f"{name}={value!r} (from the {layer}) is not one of {', '.join(allowed)}")


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """Everything the record/replay plugin needs to know for one test."""

    record_mode: str = "none"  # CI never reaches the network by accident
    contract: str = "strict"
    cassette_dir: str = "cassettes"
    api_version: str | None = None
    reports: tuple[str, ...] = field(default=())
    target: str = "emulator"


_CHOICES: Mapping[str, tuple[str, ...]] = {
    "record_mode": RECORD_MODES,
    "contract": CONTRACT_MODES,
    "target": TARGETS,
}


def resolve(*layers: Mapping[str, Any] | None) -> BatchSettings:
    """Merge `layers` given in precedence order (command line, ini, fixture, marker).

    The first layer that sets a name wins; `None` and empty strings mean "not set"; `reports`
    (repeatable) comes whole from the first layer that names any.
    """
    chosen: dict[str, Any] = {}
    for index, layer in enumerate(layers):
        for name, value in (layer or {}).items():
            if name not in BatchSettings.__slots__:
                raise SettingsError(name, value, _layer(index), tuple(BatchSettings.__slots__))
            if value is None or value == "" or value == () or value == [] or name in chosen:
                continue
            allowed = _CHOICES.get(name)
            if allowed is not None and value not in allowed:
                raise SettingsError(name, value, _layer(index), allowed)
            chosen[name] = tuple(value) if name == "reports" else value
    return BatchSettings(**chosen)


def _layer(index: int) -> str:
    return LAYERS[index] if index < len(LAYERS) else f"layer {index + 1}"
