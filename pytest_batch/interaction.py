"""The `Interaction` value object: one HTTP request/response pair, wherever it came from.

Readers (vcrpy YAML/JSON, test-proxy JSON), the live plugin and the emulator all
produce this one shape, so validation and reporting never care about the source.
Every interaction remembers its `Source` so that a finding can point back to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import FrozenInstanceError, dataclass


@dataclass(frozen=True, slots=True)
class Source:
    """Where an interaction was read from: file path and 0-based index in that file."""

    file: str
    index: int

    def __str__(self) -> str:
        return f"{self.file}#{self.index}"


class Headers:
    """Immutable, case-insensitive, multi-valued HTTP headers.

    HTTP header names are case-insensitive and recordings spell them every way
    (`ETag`, `etag`, `Etag`), so lookups fold case once, at construction.
    A value object like a frozen dataclass (equality, hash and repr by `items`), written
    out so that a reader can hand over a recording's own `{name: [value]}` map and the
    index it folded while checking it: `items` is then made only when asked for.
    """

    __slots__ = ("_index", "_items", "_single")
    __match_args__ = ("items",)

    def __init__(self, items: tuple[tuple[str, str], ...] = ()) -> None:
        index: dict[str, str] = {}
        for name, value in items:
            index.setdefault(name.lower(), value)
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_single", None)
        object.__setattr__(self, "_index", index)

    @classmethod
    def _of_single_values(cls, single: dict[str, list[str]], index: dict[str, str]) -> Headers:
        """Over `{name: [value]}` (every list one text, never changed afterwards) and its folded
        index (`{name.lower(): value}`, first spelling wins), both built by the caller."""
        headers = object.__new__(cls)
        object.__setattr__(headers, "_items", None)
        object.__setattr__(headers, "_single", single)
        object.__setattr__(headers, "_index", index)
        return headers

    @property
    def items(self) -> tuple[tuple[str, str], ...]:
        """(name, value) pairs in recorded order, names as spelled."""
        items = self._items
        if items is None:
            items = tuple([(name, values[0]) for name, values in self._single.items()])
            object.__setattr__(self, "_items", items)
            object.__setattr__(self, "_single", None)
        return items

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.items == other.items  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.items,))

    def __repr__(self) -> str:
        return f"Headers(items={self.items!r})"

    def __reduce__(self) -> tuple:
        return (Headers, (self.items,))

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]] | dict[str, object] | None) -> Headers:
        """Build from pairs or from a mapping whose values are strings or lists of strings."""
        if not pairs:
            return _EMPTY_HEADERS
        if isinstance(pairs, dict):
            flat: list[tuple[str, str]] = []
            for name, value in pairs.items():
                if isinstance(value, (list, tuple)):
                    flat.extend((str(name), _text(v)) for v in value)
                elif value is not None:
                    flat.append((str(name), _text(value)))
            return cls(tuple(flat))
        return cls(tuple((str(n), _text(v)) for n, v in pairs))

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of header `name` (any case), or `default`."""
        return self._index.get(name.lower(), default)

    def lookup(self, folded_name: str) -> str | None:
        """Like `get` for a name already lower-cased (saves the fold on hot paths)."""
        return self._index.get(folded_name)

    def folded(self) -> Iterable[tuple[str, str]]:
        """(lower-cased name, first value) for each distinct header: one pass, no copies."""
        return self._index.items()

    def count(self) -> int:
        """How many distinct header names (any case) there are: no copies."""
        return len(self._index)

    def get_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [v for n, v in self.items if n.lower() == lowered]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def names(self) -> list[str]:
        """Distinct header names in first-seen spelling."""
        seen: dict[str, str] = {}
        for name, _ in self.items:
            seen.setdefault(name.lower(), name)
        return list(seen.values())


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


_EMPTY_HEADERS = Headers()


@dataclass(frozen=True, slots=True)
class Interaction:
    """One request and (optionally) its response, bodies as raw bytes.

    Bodies stay bytes: parsing is the validator's job, done once and only when
    the operation says the body is JSON.
    """

    method: str
    url: str
    request_headers: Headers = _EMPTY_HEADERS
    request_body: bytes = b""
    status: int | None = None
    response_headers: Headers = _EMPTY_HEADERS
    response_body: bytes = b""
    source: Source | None = None

    @property
    def has_response(self) -> bool:
        return self.status is not None
