"""Draw, then repair: make a freshly drawn object satisfy the overlay rules that anchor at it.

Rules that tie several properties together (mutually exclusive groups,
"required if", "forbidden if", spans, orderings, uniqueness across a list)
cannot be expressed per property, and filtering on them would reject most
draws. So an object is drawn from its schema alone and then edited until the
checker (`constraints`' own rule functions, so both always agree) finds
nothing: delete what is forbidden, add (by drawing from the right node) what
is required, move a number into range, drop a list item that repeats or
overlaps. Choices a repair must make (which exclusive group to keep) are drawn
too, so they shrink like everything else.

The same edits serve `mutations`: to break one rule on purpose it makes that
rule's condition hold and then repairs every *other* rule.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from hypothesis import strategies as st

# The checker's own rule functions and helpers, so a repair and the check can never disagree.
# (They are private names of `constraints`; the report proposes public aliases.)
from ..constraints import (
    AGGREGATE_CHECKS,
    OBJECT_CHECKS,
    Constraint,
    condition,
    holds,
    path_tokens,
    port_range,
    value_problems,
)
from .nodes import Array, Obj, array_of, node_at, object_of, resolved, scalar_of

ROUNDS = 4  # repair passes over an object's rules; one is almost always enough


def select(value: Any, path: tuple[str, ...], prefix: tuple = ()) -> Iterator[tuple[Any, tuple]]:
    """(value, concrete path) for every non-null value at `path`; `*` fans out over list items (as the checker)."""
    if not path:
        if value is not None:
            yield value, prefix
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from select(item, rest, (*prefix, i))
    elif isinstance(value, dict) and head in value:
        yield from select(value[head], rest, (*prefix, head))


def present(value: Any, path: str) -> bool:
    return next(select(value, path_tokens(path)), None) is not None


def broken(rule: Constraint, value: dict) -> bool:
    """True when the object rule `rule` finds a problem with `value` (the object it anchors at)."""
    return next(iter(OBJECT_CHECKS[rule.kind](rule.value, value, "")), None) is not None


def aggregate_broken(rule: Constraint, path: tuple[str, ...], value: Any) -> bool:
    """True when the aggregate rule `rule` (anchored at `value`, selecting `path`) finds a problem."""
    if isinstance(value, dict) and not holds(value, rule.value.get("when", ())):
        return False
    selected = [(v, "") for v, _ in select(value, path)]
    return next(iter(AGGREGATE_CHECKS[rule.kind](rule.value, selected, "")), None) is not None


def attempt(value: Any, edit: Callable[[Any], bool]) -> bool:
    """Apply `edit` to a copy of `value` and keep the result only if it reports success."""
    trial = copy.deepcopy(value)
    if not edit(trial):
        return False
    if isinstance(value, dict):
        value.clear()
        value.update(trial)
    else:
        value[:] = trial
    return True


def get(value: Any, path: tuple) -> Any:
    for token in path:
        value = value[token]
    return value


def trim_array(node: Array, value: list) -> list:
    """Drop trailing items while a total-length or serialized-size rule on the list is broken."""
    while len(value) > node.min_items and any(next(iter(value_problems(rule, value)), None) for rule in node.rules):
        value = value[:-1]
    return value


class RecordDraw:
    """`draw` for a repair, with the repair's small decisions read from bytes reserved in the object's record."""

    __slots__ = ("buf", "draw", "end", "pos")

    def __init__(self, draw, buf: bytes, pos: int, width: int) -> None:
        self.draw, self.buf, self.pos, self.end = draw, buf, pos, pos + width

    def __call__(self, strategy) -> Any:
        return self.draw(strategy)

    def index(self, n: int) -> int:
        if self.pos < self.end:
            self.pos += 1
            return self.buf[self.pos - 1] % n
        return self.draw(st.integers(0, n - 1))


class Repairer:
    """Edits on drawn values, guided by the nodes they were drawn from (the `Builder` supplies strategies)."""

    def __init__(self, builder) -> None:
        self.builder = builder
        self._scope: dict[str, tuple[tuple[str, ...], bool]] = {}
        # (id(container), key) pairs no repair may delete: the way to a place a mutation is about to use,
        # so repairs of the rules above it make their conditions false instead of deleting it
        self.pinned: set[tuple[int, Any]] = set()

    def pin(self, value: Any, path: tuple) -> None:
        """Protect every step of the concrete `path` below `value` from deletion (until `pinned` is cleared)."""
        for token in path:
            self.pinned.add((id(value), token))
            try:
                value = value[token]
            except (KeyError, IndexError, TypeError):
                return

    def scope(self, rule: Constraint, path: tuple[str, ...] = ()) -> tuple[frozenset[str], bool]:
        """(top-level properties the rule reads, whether it is broken on `{}`), computed once per rule.

        A rule reads only the paths it names, so with all of them absent it answers as on `{}`,
        and a fix edits only what its rule reads (the properties it names or their `when` conditions).
        """
        found = self._scope.get(rule.id)
        if found is None:
            if rule.kind in _FIXES:
                found = (frozenset(_first_tokens(rule)), broken(rule, {}))
            else:  # an aggregate rule reads the values at its path (and its `when`)
                names = {path[0]} if path else set()
                names.update(path_tokens(c["property"])[0] for c in rule.value.get("when", ()))
                found = (frozenset(names), False)
            self._scope[rule.id] = found
        return found

    # -- the repair loop -------------------------------------------------------------

    def __call__(
        self, node: Obj, value: dict, draw, depth: int, skip: str | None = None, trusted: frozenset[str] = frozenset()
    ) -> None:
        """Edit `value` (an instance of `node`) in place until none of node's rules but `skip` is broken.

        `trusted` rules hold by construction (generation planned them) and are checked only after an
        edit; after the first pass only rules that read a property some fix edited are checked again.
        """
        touched: frozenset[str] | None = None
        for _ in range(ROUNDS):
            edited: set[str] = set()
            for rule in node.object_rules:
                if rule.id == skip:
                    continue
                names, on_empty = self.scope(rule)
                if (not names & touched) if touched is not None else rule.id in trusted:
                    continue
                may_break = on_empty or any(name in value for name in names)
                if may_break and broken(rule, value) and self.fix(node, rule, value, draw, depth):
                    edited |= names
            for rule, path in node.aggregate_rules:
                if rule.id == skip:
                    continue
                names = self.scope(rule, path)[0]
                if touched is not None and not names & touched:
                    continue
                if aggregate_broken(rule, path, value) and self.fix_aggregate(node, rule, path, value):
                    edited |= names
            if not edited:
                return
            touched = frozenset(edited)

    def fix(self, node: Obj, rule: Constraint, value: dict, draw, depth: int) -> bool:
        return _FIXES[rule.kind](self, node, rule.value, value, draw, depth)

    # -- edits -----------------------------------------------------------------------

    def draw_for(self, node: Any, draw, depth: int) -> Any:
        """A fresh valid value for `node` (a nullable node draws its non-null form)."""
        target = object_of(node) or array_of(node) or scalar_of(node) or resolved(node)
        return self.builder.draw_value(target, depth, draw)

    def add(self, node: Any, value: Any, path: tuple[str, ...], draw, depth: int, settle: bool = True) -> bool:
        """Make `path` present below `value`, drawing whatever is missing; False when the schema has no such place.

        Objects edited on the way are repaired again (`settle`) unless the caller does that itself.
        """
        head, rest = path[0], path[1:]
        if head == "*":
            array = array_of(node)
            if array is None or not isinstance(value, list):
                return False
            if not value:
                if array.max_items == 0:
                    return False
                value.append(self.draw_for(array.items, draw, depth + 1))
            if not rest:
                return True
            return run_all(self.add(array.items, item, rest, draw, depth + 1, settle) for item in value)
        obj = object_of(node)
        if obj is None or not isinstance(value, dict) or head not in obj.properties:
            return False
        sub = obj.properties[head]
        if value.get(head) is None:
            value[head] = self.draw_for(sub, draw, depth + 1)
        if not rest:
            return True
        if not self.add(sub, value[head], rest, draw, depth + 1, settle):
            return False
        if settle:
            self.settle(sub, value[head], draw, depth + 1)
        return next(select(value[head], rest), None) is not None

    def deletable(self, node: Any, value: Any, path: tuple[str, ...]) -> bool:
        """True when `delete` can remove every value at `path` (no required property, no list minimum in the way)."""
        head, rest = path[0], path[1:]
        if head == "*":
            array = array_of(node)
            if not isinstance(value, list) or array is None:
                return True
            failing = 0
            for i, item in enumerate(value):
                if not (rest and self.deletable(array.items, item, rest)):
                    if (id(value), i) in self.pinned:
                        return False
                    failing += 1
            return len(value) - failing >= array.min_items
        if not isinstance(value, dict) or value.get(head) is None:
            return True
        obj = object_of(node)
        sub = obj.properties.get(head) if obj is not None else None
        if rest and sub is not None and self.deletable(sub, value[head], rest):
            return True
        return (obj is None or head not in obj.required) and (id(value), head) not in self.pinned

    def delete(self, node: Any, value: Any, path: tuple[str, ...], draw=None, depth: int = 0) -> bool:
        """Remove every value at `path` below `value`; False (and nothing changed) when `deletable` says no."""
        if not self.deletable(node, value, path):
            return False
        head, rest = path[0], path[1:]
        if head == "*":
            array = array_of(node)
            if not isinstance(value, list) or array is None:
                return True
            keep = [item for item in value if rest and self.deletable(array.items, item, rest)]
            for item in keep:
                self.delete(array.items, item, rest, draw, depth + 1)
            value[:] = keep
            return True
        if not isinstance(value, dict) or value.get(head) is None:
            return True
        obj = object_of(node)
        sub = obj.properties.get(head) if obj is not None else None
        if rest and sub is not None and self.deletable(sub, value[head], rest):
            self.delete(sub, value[head], rest, draw, depth + 1)
            if draw is not None:
                self.settle(sub, value[head], draw, depth + 1)
            return True
        del value[head]
        return True

    def assign(self, node: Any, value: dict, path: tuple[str, ...], new: Any, draw, depth: int) -> bool:
        """Set the value at `path` to `new`, creating the objects above it when they are absent."""
        if len(path) > 1 and not self.add(node, value, path[:-1], draw, depth):
            return False
        targets = [parent for parent, _ in select(value, path[:-1])] if len(path) > 1 else [value]
        if not targets or "*" in path:
            return False
        for parent in targets:
            if not isinstance(parent, dict):
                return False
            parent[path[-1]] = copy.deepcopy(new)
        return True

    def settle(self, node: Any, value: Any, draw, depth: int) -> None:
        """Re-run the repairs of the object `value` after an edit inside it."""
        obj = object_of(node)
        if obj is not None and obj.has_rules and isinstance(value, dict) and draw is not None:
            self(obj, value, draw, depth)

    def make_condition(self, node: Obj, value: dict, cond, want: bool, draw, depth: int) -> bool:
        """Edit `value` so that the `when` condition `cond` is `want`; False when no edit gets there."""
        if condition(value, cond) == want:
            return True
        path = path_tokens(cond["property"])
        target = node_at(node, path)
        if target is None:
            return False
        scalar, array = scalar_of(target), array_of(target)
        candidates: list[Callable[[Any], bool]] = [lambda c: self.delete(node, c, path, draw, depth)]
        values = [cond["equals"]] if "equals" in cond else []
        values += list(cond.get("in", ()))
        if scalar is not None:
            values += list(scalar.choices() or ())
            values += [True, False] if scalar.kind == "boolean" else []
            values = [x for x in values if scalar.accepts(x)]
        if array is not None and "contains" in cond:
            item = scalar_of(array.items)
            wanted = [x for x in ((item.choices() or []) if item else []) if _same(x, cond["contains"])]
            others = [x for x in ((item.choices() or []) if item else []) if not _same(x, cond["contains"])]
            values = [wanted[:1], others[:1], []]
        for x in values:
            candidates.append(lambda c, x=x: self.assign(node, c, path, x, draw, depth))
        candidates.append(lambda c: self.add(node, c, path, draw, depth))
        for edit in candidates:
            if attempt(value, lambda c, edit=edit: edit(c) and condition(c, cond) == want):
                return True
        return False

    def falsify(self, node: Obj, value: dict, conditions, draw, depth: int) -> bool:
        """Make one of the (and-ed) `conditions` false."""
        return any(self.make_condition(node, value, cond, False, draw, depth) for cond in conditions)

    # -- aggregate rules -------------------------------------------------------------

    def fix_aggregate(self, node: Obj, rule: Constraint, path: tuple[str, ...], value: dict) -> bool:
        """Drop the list items that repeat, overlap or overflow, innermost list first."""
        selected = list(select(value, path))
        if rule.kind == "total_count":
            inner = array_of(node_at(node, path))
            floor = inner.min_items if inner is not None else 0
            lists = [v for v, _ in selected if isinstance(v, list)]
            total = sum(len(v) for v in lists)
            for items in reversed(lists):
                while total > rule.value["max"] and len(items) > floor:
                    items.pop()
                    total -= 1
            return True
        if "*" not in path:
            return False
        star = max(i for i, token in enumerate(path) if token == "*")
        array = array_of(node_at(node, path[:star]))
        doomed: set[tuple] = set()
        seen: list[Any] = []
        changed = False
        for item, where in selected:
            key = _aggregate_key(rule, item)
            if key is None:
                continue
            if any(_clashes(rule, key, other) for other in seen):
                moved = _move_clear(node, path, rule, item, where, seen)
                if moved is None:
                    doomed.add(where[: star + 1])
                    continue
                get(value, where[:-1])[where[-1]] = moved
                key = _aggregate_key(rule, moved)
                changed = True
            seen.append(key)
        removed = changed
        for where in sorted(doomed, key=lambda w: (w[:-1].__repr__(), -w[-1])):
            container = get(value, where[:-1])
            floor = array.min_items if array is not None else 0
            pinned = (id(container), where[-1]) in self.pinned
            if isinstance(container, list) and len(container) > floor and where[-1] < len(container) and not pinned:
                del container[where[-1]]
                removed = True
        return removed


def _move_clear(node: Obj, path: tuple[str, ...], rule: Constraint, item: Any, where: tuple, seen: list) -> Any:
    """A replacement for a repeated or overlapping value that clashes with nothing in `seen`, or None.

    Items are kept where possible (another key, a shifted range): deleting them would starve rules
    that count items and lists that need several.
    """
    target = node_at(node, path)
    if rule.kind == "unique":
        scalar = scalar_of(target)
        if scalar is None:
            return None
        if scalar.kind == "integer":
            candidate = item
            for _ in range(64):
                candidate = scalar.domain().at_least(candidate + 1)
                if candidate is None:
                    return None
                if not any(_clashes(rule, _aggregate_key(rule, candidate), other) for other in seen):
                    return candidate if scalar.accepts(candidate) else None
            return None
        if scalar.kind == "string":
            taken = set(seen)
            for suffix in range(1, 4 * len(seen) + 32):
                tail = str(suffix)
                for candidate in (f"{item}{tail}", f"{item[: -len(tail)]}{tail}" if item else tail):
                    if _aggregate_key(rule, candidate) not in taken and scalar.accepts(candidate):
                        return candidate
        return None
    obj = object_of(target)
    if rule.value.get("parse") == "port-range" or obj is None or not isinstance(item, dict):
        return None
    start_name, end_name = rule.value["start"], rule.value["end"]
    starts, ends = scalar_of(obj.properties.get(start_name)), scalar_of(obj.properties.get(end_name))
    if starts is None or ends is None:
        return None
    width = item[end_name] - item[start_name]
    for after in sorted(high for _, high in seen):
        start = starts.domain().at_least(after + 1)
        if start is None or (start + width) not in ends.domain():
            continue
        span = (start, start + width)
        if not any(_clashes(rule, span, other) for other in seen):
            return {**item, start_name: span[0], end_name: span[1]}
    return None


def _first_tokens(rule: Constraint) -> tuple[str, ...]:
    """The top-level properties an object rule reads (the first token of every path in it)."""
    v = rule.value
    paths: list[str] = []
    for key in ("properties", "any_of", "counts"):
        paths.extend(v.get(key, ()))
    for group in v.get("groups", ()):
        paths.extend(group)
    for key in ("property", "start", "end", "lesser", "greater", "items"):
        if isinstance(v.get(key), str):
            paths.append(v[key])
    paths.extend(c["property"] for c in v.get("when", ()))
    return tuple(dict.fromkeys(path_tokens(p)[0] for p in paths if p))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return a == b and type(a) is type(b)


def _aggregate_key(rule: Constraint, item: Any) -> Any:
    if rule.kind == "unique":
        if isinstance(item, bool) or not isinstance(item, str | int):
            return None
        return item.casefold() if isinstance(item, str) and rule.value.get("ignore_case") else item
    if rule.value.get("parse") == "port-range":
        span = port_range(item)
    elif isinstance(item, dict):
        start, end = item.get(rule.value["start"]), item.get(rule.value["end"])
        ok = all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end))
        span = (start, end) if ok else None
    else:
        span = None
    return (min(span), max(span)) if span is not None else None


def _clashes(rule: Constraint, key: Any, other: Any) -> bool:
    if rule.kind == "unique":
        return key == other
    return key[0] <= other[1] and other[0] <= key[1]


# -- object rule fixes: (repairer, node, rule value, object, draw, depth) -> changed? --------


def run_all(results) -> bool:
    """`all` that runs every edit (no short cut after a failure): each edit must happen."""
    return all(list(results))


def _pick(draw, items: list) -> Any:
    return items[0] if len(items) == 1 else items[choose(draw, len(items))]


def choose(draw, n: int) -> int:
    """An index below `n`: from the object's own record bytes when the draw carries them, else a new choice."""
    index = getattr(draw, "index", None)
    return index(n) if index is not None else draw(st.integers(0, n - 1))


def _mutually_exclusive(r: Repairer, node: Obj, v, value: dict, draw, depth: int) -> bool:
    groups = [list(group) for group in v["groups"]]
    used = [i for i, group in enumerate(groups) if any(present(value, p) for p in group)]
    if len(used) > 1:
        order = [used[choose(draw, len(used))], *used]
        for keep in order:
            doomed = [path_tokens(p) for i in used if i != keep for p in groups[i]]
            if all(r.deletable(node, value, path) for path in doomed):
                for path in doomed:
                    r.delete(node, value, path, draw, depth)
                return True
        return False
    if not used and v.get("exactly_one"):
        addable = [i for i, group in enumerate(groups) if all(node_at(node, path_tokens(p)) is not None for p in group)]
        if not addable:
            return False
        return run_all(r.add(node, value, path_tokens(p), draw, depth) for p in groups[_pick(draw, addable)])
    return False


def _all_or_none(r: Repairer, node: Obj, v, value: dict, draw, depth: int) -> bool:
    paths = [path_tokens(p) for p in v["properties"]]
    can_delete = all(r.deletable(node, value, path) for path in paths)
    can_add = all(node_at(node, path) is not None for path in paths)
    if can_delete and (not can_add or choose(draw, 2)):
        return run_all(r.delete(node, value, path, draw, depth) for path in paths)
    return can_add and run_all(r.add(node, value, path, draw, depth) for path in paths)


def _required_if(r: Repairer, node: Obj, v, value: dict, draw, depth: int) -> bool:
    candidates = [p for p in v["any_of"] if node_at(node, path_tokens(p)) is not None]
    if candidates and r.add(node, value, path_tokens(_pick(draw, candidates)), draw, depth):
        return True
    return r.falsify(node, value, v.get("when", ()), draw, depth)


def _forbidden_if(r: Repairer, node: Obj, v, value: dict, draw, depth: int) -> bool:
    paths = [path_tokens(p) for p in v["properties"]]
    if all(r.deletable(node, value, path) for path in paths):
        return run_all(r.delete(node, value, path, draw, depth) for path in paths)
    return r.falsify(node, value, v.get("when", ()), draw, depth)


def _value_if(r: Repairer, node: Obj, v, value: dict, draw, depth: int) -> bool:
    path = path_tokens(v["property"])
    scalar = scalar_of(node_at(node, path))
    allowed = [x for x in v["values"] if scalar is None or scalar.accepts(x)]
    if allowed and r.assign(node, value, path, _pick(draw, allowed), draw, depth):
        return True
    if r.delete(node, value, path, draw, depth):
        return True
    return r.falsify(node, value, v.get("when", ()), draw, depth)


def _span(r: Repairer, node: Obj, v, value: dict, draw, depth: int) -> bool:
    start_scalar, end_scalar = scalar_of(node.properties.get(v["start"])), scalar_of(node.properties.get(v["end"]))
    if start_scalar is None or end_scalar is None:
        return False
    starts, ends, need = start_scalar.domain(), end_scalar.domain(), v["min"] - 1
    start, end = value[v["start"]], value[v["end"]]
    moved_end = ends.at_least(start + need)
    if moved_end is not None:
        value[v["end"]] = moved_end
        return True
    moved_start = starts.at_most(end - need)
    if moved_start is not None:
        value[v["start"]] = moved_start
        return True
    for low, _ in starts.intervals:  # both ends move: the lowest start that leaves room
        fitting_end = ends.at_least(low + need)
        if fitting_end is not None:
            value[v["start"]], value[v["end"]] = low, fitting_end
            return True
    return False


def _ordered(r: Repairer, node: Obj, v, value: dict, draw, depth: int) -> bool:
    lesser, greater = v["lesser"], v["greater"]
    low_scalar, high_scalar = scalar_of(node.properties.get(lesser)), scalar_of(node.properties.get(greater))
    low, high = value[lesser], value[greater]
    if high_scalar is not None and high_scalar.accepts(low):
        value[greater] = low
        return True
    if low_scalar is not None and low_scalar.accepts(high):
        value[lesser] = high
        return True
    return False


def _capacity(r: Repairer, node: Obj, v, value: dict, draw, depth: int) -> bool:
    items = [x for x, _ in select(value, path_tokens(v["items"]))]
    if not items or not isinstance(items[0], list):
        return False
    limit = v["per_item"] * len(items[0])
    changed = False
    for prop in v["counts"]:
        scalar = scalar_of(node_at(node, path_tokens(prop)))
        if scalar is None or scalar.kind != "integer":
            continue
        for current, where in list(select(value, path_tokens(prop))):
            if isinstance(current, int) and current > limit:
                fixed = scalar.domain().at_most(limit)
                if fixed is not None:
                    get(value, where[:-1])[where[-1]] = fixed
                    changed = True
    return changed


_FIXES: Mapping[str, Callable[..., bool]] = MappingProxyType(
    {
        "mutually_exclusive": _mutually_exclusive,
        "all_or_none": _all_or_none,
        "required_if": _required_if,
        "forbidden_if": _forbidden_if,
        "value_if": _value_if,
        "span": _span,
        "ordered": _ordered,
        "capacity": _capacity,
    }
)
