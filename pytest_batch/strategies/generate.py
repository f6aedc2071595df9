"""Generation nodes → Hypothesis strategies (the build pass), cached per (node, depth).

What Hypothesis charges decides the shapes here. Measured on Hypothesis 6.155:
~280 µs per example whatever it draws, ~10-30 µs per further choice, ~0.25 µs
per byte of a bytes choice (more for big ones: its mutator works on them as
one huge integer). One choice per value would cap a pool-create body at ~100
examples/s. So each object is read from one `binary` *record*: a bit mask
saying which optional properties are present, then a fixed slot per property
(scalars, nullable selectors, list lengths, small child objects inline).
Children too big for the record, or a pattern Hypothesis must draw itself, are
drawn on their own (an optional child only when present). All-zero bytes mean
"no optional property, simplest values", so Hypothesis shrinks a record towards
the minimal object, field by field.

Below `MAX_DEPTH` levels an object reads only its required properties and a
list only its minimum length, which bounds recursive definitions. Presence
rules of the overlay are settled while the optional properties are chosen
(`plans`); the other rules are repaired right after the object is read
(`repair.Repairer`), so what leaves a node satisfies its own rules and those
of everything below it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ..constraints import holds  # the checker's own condition test
from .nodes import Array, Compiler, Obj, StrategyError, Union_, resolved
from .plans import Plan, plans_for, settle_condition, settle_plan
from .records import MISS, Packed
from .repair import RecordDraw, Repairer, trim_array
from .scalars import Scalar

MAX_DEPTH = 12  # deeper than any Batch definition nests; only recursive schemas reach it
MAX_ITEMS = 2  # list items drawn above MAX_DEPTH (more when the schema or a rule demands more)
DEEP_SPARSITY = 3  # from this depth on, an optional property is present with probability 1/4 instead of 1/2
WIDE = 8  # … and in objects with more optional properties than this (a pool has 20): still 5 of them on average
# A child that is always there is cheapest inside its parent's record; an optional one costs its bytes
# even when absent, so only small optional children are inlined and bigger ones get a record of their own,
# drawn when present. (The three sizes were tuned on pool and job create bodies: bench/bench_strategies.py.)
INLINE_REQUIRED = 320  # record bytes a required child may take inside its parent's record
INLINE_OPTIONAL = 32  # … and an optional child (or a list item)
RECORD_MAX = 640  # bytes of one record; wider children are drawn on their own
REPAIR_BYTES = 4  # record bytes an object with rules keeps for its repairs' decisions


# -- parts: how one position is read from its enclosing record ----------------------------


@dataclass(frozen=True, eq=False)
class DrawPart:
    """A position drawn on its own (width 0 in the record)."""

    strategy: Any
    width: int = 0

    def read(self, buf: bytes, pos: int, draw) -> Any:
        return draw(self.strategy)


@dataclass(frozen=True, eq=False)
class ScalarPart:
    scalar: Scalar
    packed: Packed
    width: int

    def read(self, buf: bytes, pos: int, draw) -> Any:
        value = self.packed.read(buf, pos)
        if value is MISS or not (self.packed.exact or self.scalar.accepts(value)):
            return draw(self.scalar.strategy())
        return value


@dataclass(frozen=True, eq=False)
class UnionPart:
    parts: tuple[Any, ...]  # non-null option first: zero bytes pick it
    width: int

    def read(self, buf: bytes, pos: int, draw) -> Any:
        return self.parts[buf[pos] % len(self.parts)].read(buf, pos + 1, draw)


@dataclass(frozen=True, eq=False)
class ArrayPart:
    node: Array
    item: Any
    low: int
    high: int
    width: int

    def read(self, buf: bytes, pos: int, draw) -> list:
        count = self.low + buf[pos] % (self.high - self.low + 1)
        step = self.item.width
        items = [self.item.read(buf, pos + 1 + i * step, draw) for i in range(count)]
        if self.node.unique:
            seen: dict[str, Any] = {}
            for item in items:
                seen.setdefault(json.dumps(item, sort_keys=True), item)
            if len(seen) >= self.low:
                items = list(seen.values())
        if self.node.rules:
            items = trim_array(self.node, items)
        return items


@dataclass(frozen=True, eq=False)
class ObjectPart:
    node: Obj
    fields: tuple[tuple[str, Any, int], ...]  # (name, part, offset), required first
    required: int  # how many of `fields` are required
    mask_bytes: int
    sparse: bool
    plans: tuple[Plan, ...]
    early: frozenset[int]  # optional-field indexes read before the plans (conditional plans look at them)
    extra: Any  # DictPart for additionalProperties / free-form entries, or None
    extra_at: int  # offset of `extra` in the record
    repairer: Any  # Repairer when the node carries rules
    trusted: frozenset[str]  # rules the plans satisfy by construction
    depth: int
    width: int

    def read(self, buf: bytes, pos: int, draw) -> dict:
        out = {}
        fields, required = self.fields, self.required
        for name, part, offset in fields[:required]:
            out[name] = part.read(buf, pos + offset, draw)
        if self.mask_bytes:
            optional = len(fields) - required
            bits = int.from_bytes(buf[pos : pos + self.mask_bytes], "little")
            if self.sparse:
                bits &= bits >> optional
            early = self.early
            for i in early:  # properties that conditional plans read: first, so the plans can see them
                if bits >> i & 1:
                    name, part, offset = fields[required + i]
                    out[name] = part.read(buf, pos + offset, draw)
            for plan in self.plans:
                if plan.when:
                    if holds(out, plan.when):
                        bits = settle_condition(plan, bits, buf[pos + plan.selector])
                else:
                    bits = settle_plan(plan, bits, buf[pos + plan.selector])
            for i, (name, part, offset) in enumerate(fields[required:]):
                if bits >> i & 1 and i not in early:
                    out[name] = part.read(buf, pos + offset, draw)
        if self.extra is not None:
            for key, value in self.extra.read(buf, pos + self.extra_at, draw).items():
                out.setdefault(key, value)
        if self.repairer is not None:
            decisions = RecordDraw(draw, buf, pos + self.width - REPAIR_BYTES, REPAIR_BYTES)
            self.repairer(self.node, out, decisions, self.depth, trusted=self.trusted)
        return out


@dataclass(frozen=True, eq=False)
class RecordPart:
    """A child read from a record of its own: one `binary` choice, no composite layer around it."""

    part: Any
    record: Any
    width: int = 0

    def read(self, buf: bytes, pos: int, draw) -> Any:
        return self.part.read(draw(self.record), 0, draw)


_KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
KEY_SLOTS = 8


@dataclass(frozen=True, eq=False)
class DictPart:
    """Free-form entries (additionalProperties, or an object that documents no properties): a count, then key/value slots."""

    value: Any
    high: int
    reserved: frozenset[str]
    width: int

    def read(self, buf: bytes, pos: int, draw) -> dict:
        out = {}
        step = 1 + KEY_SLOTS + self.value.width
        for i in range(buf[pos] % (self.high + 1)):
            at = pos + 1 + i * step
            chars = buf[at + 1 : at + 1 + 1 + buf[at] % KEY_SLOTS]
            key = "".join(_KEY_CHARS[c % len(_KEY_CHARS)] for c in chars)
            if key not in self.reserved and key not in out:
                out[key] = self.value.read(buf, at + 1 + KEY_SLOTS, draw)
        return out


def _own_record(part: Any) -> Any:
    if part.width == 0:
        return part
    return RecordPart(part, st.binary(min_size=part.width, max_size=part.width))


def _records(part: Any):
    """A strategy reading `part` from one fresh record."""
    if part.width == 0:
        return st.composite(lambda draw: part.read(b"", 0, draw))()
    record = st.binary(min_size=part.width, max_size=part.width)
    return st.composite(lambda draw: part.read(draw(record), 0, draw))()


class Builder:
    """Strategies for the nodes of one `Compiler`; the object to keep (and pass around) per flavour."""

    def __init__(self, compiler: Compiler) -> None:
        self.compiler = compiler
        self.repairer = Repairer(self)
        self._parts: dict[tuple[int, int], tuple[Any, Any]] = {}
        self._strategies: dict[tuple[int, int], tuple[Any, Any]] = {}
        self._building: set[tuple[int, int]] = set()
        self._bytes: dict[int, Any] = {}

    def draw_value(self, node: Any, depth: int, draw) -> Any:
        """One value of `node` from inside another draw (a repair adding a property): a record, no composite."""
        part = self.part(node, depth)
        if part.width == 0:
            return part.read(b"", 0, draw)
        record = self._bytes.get(part.width)
        if record is None:
            record = self._bytes[part.width] = st.binary(min_size=part.width, max_size=part.width)
        return part.read(draw(record), 0, draw)

    def strategy(self, node: Any, depth: int = 0):
        """Values of `node` drawn `depth` levels below the root value."""
        node = _target(node)
        key = (id(node), min(depth, MAX_DEPTH))
        hit = self._strategies.get(key)
        if hit is None:
            hit = (node, _records(self.part(node, depth)))
            self._strategies[key] = hit  # the node is kept beside its id so the id cannot be reused
        return hit[1]

    def part(self, node: Any, depth: int) -> Any:
        node = _target(node)
        depth = min(depth, MAX_DEPTH)
        key = (id(node), depth)
        hit = self._parts.get(key)
        if hit is not None:
            return hit[1]
        if key in self._building:
            if depth == MAX_DEPTH:  # at this depth only required properties are built: a required cycle
                where = getattr(node, "pointer", "") or repr(node)
                raise StrategyError(
                    f"{where}: the schema requires itself (a cycle of required properties), so no finite value exists",
                    hint="make one property of the cycle optional or nullable in the bundle",
                )
            return DrawPart(st.deferred(lambda: self.strategy(node, depth)))
        self._building.add(key)
        try:
            built = self._build(node, depth)
        finally:
            self._building.discard(key)
        self._parts[key] = (node, built)
        return built

    def _build(self, node: Any, depth: int) -> Any:
        if isinstance(node, Scalar):
            packed = node.packed()
            return ScalarPart(node, packed, packed.width) if packed.read is not None else DrawPart(node.strategy())
        if isinstance(node, Union_):
            options = sorted(node.options, key=_is_null)
            if depth >= MAX_DEPTH and any(_is_null(o) for o in options):
                options = [o for o in options if _is_null(o)]
            parts = tuple(self.part(option, depth) for option in options)
            return UnionPart(parts, 1 + max(p.width for p in parts))
        if isinstance(node, Array):
            return self._array(node, depth)
        if isinstance(node, Obj):
            if node.discriminator:
                return DrawPart(self._discriminated(node, depth))
            return self._object(node, depth)
        raise StrategyError(f"cannot build a strategy for {node!r}", hint="report this as a bug")

    def item_count(self, node: Array, depth: int) -> tuple[int, int]:
        low = node.min_items
        cap = MAX_ITEMS if node.max_items is None else min(node.max_items, MAX_ITEMS)
        return low, low if depth >= MAX_DEPTH else max(low, cap)

    def _array(self, node: Array, depth: int) -> ArrayPart:
        low, high = self.item_count(node, depth)
        item = self.part(node.items, depth + 1) if high else DrawPart(st.nothing())
        if item.width > INLINE_OPTIONAL:
            item = _own_record(item)
        return ArrayPart(node, item, low, high, 1 + high * item.width)

    def _object(self, node: Obj, depth: int) -> ObjectPart:
        deep = depth >= MAX_DEPTH
        names = list(node.required) + ([] if deep else list(node.optional))
        parts = {name: self.part(node.properties[name], depth + 1) for name in names}
        for name, part in parts.items():
            if part.width > (INLINE_REQUIRED if name in node.required else INLINE_OPTIONAL):
                parts[name] = _own_record(part)
        optional = len(names) - len(node.required)
        sparse = optional > 1 and (depth >= DEEP_SPARSITY or optional > WIDE)
        mask_bytes = (optional * (2 if sparse else 1) + 7) // 8 if optional else 0
        while mask_bytes + sum(p.width for p in parts.values()) > RECORD_MAX:
            widest = max(parts, key=lambda n: parts[n].width)
            parts[widest] = _own_record(parts[widest])
        no_plans = ((), frozenset(), frozenset())
        plans, trusted, early = plans_for(node, names[len(node.required) :], mask_bytes) if node.has_rules else no_plans
        fields, offset = [], mask_bytes + len(plans)
        for name in names:
            fields.append((name, parts[name], offset))
            offset += parts[name].width
        extra, extra_at = None, offset
        if node.additional is not None or node.free_form:
            value = self.part(node.additional, depth + 1) if node.additional is not None else _ANY_PART
            if value.width > INLINE_OPTIONAL:
                value = _own_record(value)
            high = 0 if deep else MAX_ITEMS
            extra = DictPart(value, high, frozenset(node.properties), 1 + high * (1 + KEY_SLOTS + value.width))
            offset += extra.width
        if node.has_rules:
            offset += REPAIR_BYTES
        return ObjectPart(
            node=node,
            fields=tuple(fields),
            required=len(node.required),
            mask_bytes=mask_bytes,
            sparse=sparse,
            plans=plans,
            early=early,
            extra=extra,
            extra_at=extra_at,
            repairer=self.repairer if node.has_rules else None,
            trusted=trusted,
            depth=depth,
            width=offset,
        )

    def _discriminated(self, node: Obj, depth: int):
        """A polymorphic base: the base itself or one of its subtypes, the discriminator property naming which."""
        prop, own, subtypes = node.discriminator
        base = _records(self._object(node, depth))
        options = [base.map(lambda v, value=value: {**v, prop: value}) for value in own] or [base]
        options += [
            self.strategy(ref, depth).map(lambda v, value=value: {**v, prop: value}) for value, ref in subtypes.items()
        ]
        return st.one_of(options)


_ANY = Scalar("any", {})
_ANY_PART = ScalarPart(_ANY, _ANY.packed(), _ANY.packed().width)


def _target(node: Any) -> Any:
    found = resolved(node)
    if found is None:
        raise StrategyError("a definition is used before it is compiled", hint="report this as a bug")
    return found


def _is_null(node: Any) -> bool:
    node = resolved(node)
    return isinstance(node, Scalar) and node.kind == "null"
