"""Handlers for the schedules family (being written)."""

from __future__ import annotations

from types import MappingProxyType

HANDLERS = MappingProxyType({})
