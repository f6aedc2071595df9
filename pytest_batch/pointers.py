"""JSON Pointer (RFC 6901) text, written in one place for the converter and the explainers."""

from __future__ import annotations

from collections.abc import Iterable


def escape(token: object) -> str:
    """One reference token: `~` → `~0`, `/` → `~1`."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(tokens: Iterable[object]) -> str:
    """`/a/b~1c` from `["a", "b/c"]`; the empty pointer for no tokens."""
    return "".join(f"/{escape(token)}" for token in tokens)
