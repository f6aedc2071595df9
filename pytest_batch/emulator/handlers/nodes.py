"""Handlers for the nodes family (being written)."""

from __future__ import annotations

from types import MappingProxyType

HANDLERS = MappingProxyType({})
