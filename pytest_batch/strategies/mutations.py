"""Invalid values that break exactly one named thing: an overlay rule, or one schema keyword.

A labelled draw starts from a valid draw (so everything else already holds),
makes sure a place the label can break exists (drawing the missing parents
along the shortest path to it), and then breaks the label there:

- a value rule gets a value outside it that every other rule and the schema
  still accept (checked statically against the position first); a rule with a
  `when` gets its condition made true;
- an object rule gets its condition made true and its consequence undone;
- an aggregate rule gets a repeated, overlapping or extra item;
- a schema keyword gets the classic mutation (wrong type, missing required
  property, bad format text, out-of-range number, read-only property in a request…).

Every other overlay rule is then repaired again (`Repairer(..., skip=label)`),
and the engine itself (`CompiledSpec` + `check_constraints`) confirms that the
result breaks the label and nothing else; the first candidate it confirms is
drawn, so a label never lies. A draw with no confirmable candidate is rejected
(rare: the candidates are chosen to pass).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ..compiled import CompiledSpec
from ..constraints import (
    AGGREGATE_KINDS,
    OBJECT_KINDS,
    VALUE_KINDS,
    Constraint,
    check_constraints,
    path_tokens,
    value_problems,  # the checker's own value test
)
from ..pointers import escape
from .candidates import array_keyword, keyword_candidates, rule_candidates, wrong_types
from .nodes import REQUEST, RESPONSE, Array, Obj, StrategyError, Union_, array_of, node_at, resolved, scalar_of
from .repair import Repairer, choose, present, run_all, select
from .scalars import Scalar
from .walk import edges, get_at, node_and_value, positions, reachable, replaced, rules_of, set_at

PREFIX = "schema:"
SCHEMA_KEYWORDS = (
    "type",
    "required",
    "format",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "readOnly",
    "additionalProperties",
)
SITE_PATHS = 4  # shortest paths kept per label, to places the label can break
SUPPORTED_RULES = VALUE_KINDS | AGGREGATE_KINDS | OBJECT_KINDS


@dataclass(frozen=True, slots=True)
class Labelled:
    """An invalid value, what it breaks (`label`: an overlay rule id or `schema:<keyword>`) and where (`pointer`)."""

    value: Any
    label: str
    pointer: str

    @property
    def is_rule(self) -> bool:
        return not self.label.startswith(PREFIX)

    @property
    def keyword(self) -> str | None:
        return self.label[len(PREFIX) :] if not self.is_rule else None

    @property
    def rule_id(self) -> str | None:
        return self.label if self.is_rule else None


@dataclass(frozen=True)
class Root:
    """What a value is drawn for: a definition or an operation's request body, with its compiled node."""

    name: str  # definition name or operation id (check_constraints takes both)
    schema: Any  # the schema CompiledSpec validates against
    node: Any


class Mutator:
    """Labelled invalid values for one (api-version, flavour); see the module docstring."""

    def __init__(self, strategies, api_version: str, flavor: str) -> None:
        self.strategies = strategies
        self.api_version = api_version
        self.flavor = flavor
        self.builder = strategies.builder(api_version, flavor)
        self.repairer = Repairer(self.builder)  # its own: it pins the way to the place being mutated
        self.spec = self.builder.compiler.spec
        self.overlay = strategies.overlay
        self._compiled: CompiledSpec | None = None
        self._paths: dict[tuple[str, str], list[tuple]] = {}
        self._strategies: dict[tuple[str, str], Any] = {}

    # -- public ----------------------------------------------------------------------

    def root(self, definition: str | None, operation: str | None) -> Root:
        _, node = self.strategies.root(self.api_version, definition, operation, self.flavor)
        if definition is not None:
            return Root(definition, {"$ref": f"#/definitions/{escape(definition)}"}, node)
        return Root(operation, self.spec.operations[operation].body.schema, node)

    def labels(self, definition: str | None, operation: str | None) -> tuple[str, ...]:
        """Labels some place of the value can break (rules first, then schema keywords)."""
        root = self.root(definition, operation)
        rules, keywords = set(), set()
        for node in reachable(root.node):
            for rule in rules_of(node):
                if rule.kind in SUPPORTED_RULES and self._breakable(rule, node):
                    rules.add(rule.id)
            keywords.update(self._keywords(node))
        return (*sorted(rules), *(PREFIX + k for k in SCHEMA_KEYWORDS if k in keywords))

    def strategy(self, definition: str | None, operation: str | None, *, rule: str | None, keyword: str | None):
        root = self.root(definition, operation)
        if rule is not None and keyword is not None:
            raise StrategyError("pass rule= or keyword=, not both")
        if rule is not None or keyword is not None:
            label = rule if rule is not None else PREFIX + keyword
            if label not in self.labels(definition, operation):
                what = f"{definition or operation} ({self.api_version}, {self.flavor})"
                raise StrategyError(
                    f"{label!r} cannot be broken alone in {what}",
                    hint=f"use one of labels(...): {', '.join(self.labels(definition, operation)) or 'none'}",
                )
            return self._label_strategy(root, label)
        labels = self.labels(definition, operation)
        if not labels:
            raise StrategyError(f"{definition or operation} ({self.api_version}) has nothing invalid to draw")
        return st.one_of([self._label_strategy(root, label) for label in labels])

    # -- the label strategy ----------------------------------------------------------

    def _label_strategy(self, root: Root, label: str):
        key = (root.name, label)
        found = self._strategies.get(key)
        if found is None:
            paths = self._site_paths(root, label)

            @st.composite
            def labelled(draw):
                value = self.builder.draw_value(root.node, 0, draw)
                path = paths[choose(draw, len(paths))] if paths else ()
                try:
                    if path:  # make the place exist, pin the way to it, then repair what it upset
                        self.repairer.add(root.node, value, path, draw, 0, settle=False)
                        places = [where for _, where in select(value, path)]
                        for where in places:
                            self.repairer.pin(value, where)
                        for where in places:
                            self._finish(root, value, where[:-1], None, draw)
                    found = self._first_confirmed(root, value, label, draw)
                finally:
                    self.repairer.pinned.clear()
                if found is None:
                    from hypothesis import reject

                    reject()
                return found

            found = self._strategies[key] = labelled()
        return found

    def _pinned_copy(self, value: Any, path: tuple) -> Any:
        """A deep copy of `value` with the way to `path` pinned against the repairs that follow an edit."""
        trial = copy.deepcopy(value)
        self.repairer.pinned.clear()
        self.repairer.pin(trial, path)
        return trial

    def _first_confirmed(self, root: Root, value: Any, label: str, draw) -> Labelled | None:
        """The first candidate mutation (sites in a drawn rotation) the engine confirms."""
        sites = [s for s in positions(root.node, value) if self._hosts(s.node, label)]
        if not sites:
            return None
        start = choose(draw, len(sites))
        for site in sites[start:] + sites[:start]:
            for candidate in self._candidates(root, value, site, label, draw):
                where = self.confirm(root, candidate, label)
                if where is not None:
                    return Labelled(candidate, label, where)
        return None

    def confirm(self, root: Root, value: Any, label: str) -> str | None:
        """The pointer the engine reports when `value` breaks exactly `label`, else None."""
        if self._compiled is None:
            self._compiled = CompiledSpec(self.spec)
        compiled = self._compiled
        flavor = REQUEST if self.flavor == REQUEST else RESPONSE
        errors = [] if compiled.is_valid(root.schema, value, flavor) else compiled.explain(root.schema, value, flavor)
        findings = check_constraints(self.overlay, self.spec, root.name, value) if self.overlay is not None else []
        if label.startswith(PREFIX):
            keyword = label[len(PREFIX) :]
            if (
                findings
                or not errors
                or any(e.keyword != keyword or e.kind not in ("error", "read_only") for e in errors)
            ):
                return None
            return errors[0].instance_pointer
        if errors or not findings or any(f.rule_id != label for f in findings):
            return None
        return findings[0].pointer

    # -- which labels a node can break -------------------------------------------------

    def _hosts(self, node: Any, label: str) -> bool:
        if label.startswith(PREFIX):
            return label[len(PREFIX) :] in self._keywords(node)
        return any(rule.id == label and self._breakable(rule, node) for rule in rules_of(node))

    def _keywords(self, node: Any) -> set[str]:
        node = resolved(node)
        found: set[str] = set()
        if isinstance(node, Union_):
            return found
        if isinstance(node, Obj):
            found.add("type")
            if node.schema_required:
                found.add("required")
            if node.read_only and self.flavor == REQUEST:
                found.add("readOnly")
            if node.closed:
                found.add("additionalProperties")
            return found
        if isinstance(node, Array):
            found.add("type")
            found.update(k for k in ("minItems", "maxItems", "uniqueItems") if array_keyword(node, k))
            if any(rule.kind == "collection_size" for rule in node.rules):  # the rule would break too
                found -= {"minItems", "maxItems"}
            return found
        if isinstance(node, Scalar) and node.kind not in ("any", "null"):
            if node.enum is None:  # a wrong type also fails `enum` (an error, or drift for open enums)
                found.add("type")
            for keyword in ("format", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern"):
                if any(self._value_ok(node, c) for c in keyword_candidates(node, keyword)):
                    found.add(keyword)
        return found

    def _breakable(self, rule: Constraint, node: Any) -> bool:
        """Whether a value at `node` can break `rule` without breaking the schema there too."""
        node = resolved(node)
        if rule.kind in VALUE_KINDS and isinstance(node, Scalar):
            return any(self._breaks_only(node, rule, c) for c in rule_candidates(node, rule, None))
        if rule.kind == "collection_size" and isinstance(node, Array):
            v = rule.value
            above = "max" in v and (node.schema_max is None or v["max"] < node.schema_max)
            return above or v.get("min", 0) > node.schema_min
        return True

    def _value_ok(self, scalar: Scalar, candidate: Any) -> bool:
        """A keyword mutation stays clear of every overlay rule on the position."""
        return all(next(iter(value_problems(rule, candidate)), None) is None for rule in scalar.rules)

    def _breaks_only(self, scalar: Scalar, rule: Constraint, candidate: Any) -> bool:
        """`candidate` breaks `rule` and nothing else the position knows (schema, other rules)."""
        if not scalar.accepts_schema(candidate) or next(iter(value_problems(rule, candidate)), None) is None:
            return False
        others = (r for r in scalar.rules if r.id != rule.id)
        return all(next(iter(value_problems(r, candidate)), None) is None for r in others)

    # -- where to break it ---------------------------------------------------------------

    def _site_paths(self, root: Root, label: str) -> list[tuple]:
        """Up to SITE_PATHS shortest paths (tokens, `*` for list items) from the root to nodes that host `label`."""
        key = (root.name, label)
        found = self._paths.get(key)
        if found is None:
            found = []
            seen: set[int] = set()
            queue = [(resolved(root.node), ())]
            while queue and len(found) < SITE_PATHS:
                node, path = queue.pop(0)
                if id(node) in seen or len(path) > 24:
                    continue
                seen.add(id(node))
                if self._hosts(node, label):
                    found.append(path)
                for token, sub in edges(node):
                    queue.append((resolved(sub), (*path, token)))
            if not found:
                raise StrategyError(f"no place in {root.name} can break {label!r}")
            self._paths[key] = found
        return found

    # -- candidates ------------------------------------------------------------------

    def _candidates(self, root: Root, value: Any, site, label: str, draw) -> Iterator[Any]:
        if label.startswith(PREFIX):
            yield from self._keyword_mutations(root, value, site, label[len(PREFIX) :], draw)
            return
        rule = next(r for r in rules_of(site.node) if r.id == label)
        if rule.kind in VALUE_KINDS:
            yield from self._value_rule_mutations(root, value, site, rule, draw)
        elif rule.kind in AGGREGATE_KINDS:
            yield from self._aggregate_mutations(root, value, site, rule, draw)
        else:
            yield from self._object_mutations(root, value, site, rule, draw)

    def _finish(self, root: Root, value: Any, anchor: tuple | None, rule_id: str | None, draw) -> Any:
        """Repair every rule but `rule_id` on the anchor object and its ancestors, after an edit."""
        if anchor is not None:
            for cut in range(len(anchor), -1, -1):
                try:
                    node, sub = node_and_value(root.node, value, anchor[:cut])
                except (KeyError, IndexError, TypeError):  # an earlier repair removed part of the way
                    continue
                obj = resolved(node)
                if isinstance(obj, Obj) and obj.has_rules and isinstance(sub, dict):
                    self.repairer(obj, sub, draw, cut, skip=rule_id)
        return value

    # value rules

    def _value_rule_mutations(self, root: Root, value: Any, site, rule: Constraint, draw) -> Iterator[Any]:
        scalar = scalar_of(site.node)
        array = array_of(site.node)
        anchor = self._anchor(root, value, site.path, rule)
        if array is not None and rule.kind == "collection_size" and "max" in rule.value:
            grown = self._grow(root, value, site.path, rule, rule.value["max"] + 1, draw, anchor)
            if grown is not None:
                yield grown
            return
        if scalar is not None:
            options = [c for c in rule_candidates(scalar, rule, site.value) if self._breaks_only(scalar, rule, c)]
        elif array is not None:
            options = list(self._array_rule_values(array, rule, site.value, draw, len(site.path)))
        else:
            options = []
        for candidate in options[:6]:
            trial = self._pinned_copy(value, site.path)
            if anchor is not None and rule.value.get("when"):
                node, obj = node_and_value(root.node, trial, anchor)
                if not all(
                    self.repairer.make_condition(resolved(node), obj, cond, True, draw, len(anchor))
                    for cond in rule.value["when"]
                ):
                    continue
            if not set_at(trial, site.path, candidate):
                continue
            yield self._finish(root, trial, anchor, rule.id, draw)

    def _grow(self, root: Root, value: Any, path: tuple, rule: Constraint | None, count: int, draw, anchor) -> Any:
        """A copy of `value` whose list at `path` holds `count` items, each added and then repaired into place."""
        trial = self._pinned_copy(value, path)
        node, _ = node_and_value(root.node, trial, path)
        array = array_of(node)
        if array is None:
            return None
        for _ in range(2 * count + 10):
            try:
                items = get_at(trial, path)
            except (KeyError, IndexError, TypeError):
                return None
            if not isinstance(items, list):
                return None
            if len(items) >= count:
                return trial
            if not items:
                items.append(self.builder.draw_value(array.items, len(path) + 1, draw))
            # copies of what is there (repairs re-key what must be unique): no record per item, so a
            # hundred items do not overrun Hypothesis's buffer
            items.extend(copy.deepcopy(items[i % len(items)]) for i in range(count - len(items)))
            self._finish(root, trial, anchor if anchor is not None else path[:-1], rule.id if rule else None, draw)
        return None

    def _array_rule_values(self, array: Array, rule: Constraint, current: list, draw, depth: int) -> Iterator[list]:
        v = rule.value
        if rule.kind == "collection_size":
            if v.get("min", 0) > 0:
                yield current[: v["min"] - 1]
        elif rule.kind == "total_length" and "max" in v:
            yield [*current, "x" * (v["max"] + 1)]
        elif rule.kind == "serialized_size":
            if scalar_of(array.items) is not None:
                yield [*current, "x" * (v["max_bytes"] + 1)]
                return
            padded = self._padded(array, current, v["max_bytes"] + 1, draw, depth)
            if padded is not None:
                yield padded

    def _padded(self, array: Array, current: list, size: int, draw, depth: int) -> list | None:
        """`current` with one free-text property of its first item long enough to reach `size` bytes."""
        items = copy.deepcopy(current) or [self.builder.draw_value(array.items, depth + 1, draw)]
        obj = resolved(array.items)
        if not isinstance(obj, Obj) or not isinstance(items[0], dict):
            return None
        for name, sub in obj.properties.items():
            scalar = resolved(sub)
            free = isinstance(scalar, Scalar) and scalar.kind == "string" and not scalar.rules
            if free and not {"format", "enum", "pattern", "maxLength"} & set(scalar.schema):
                items[0][name] = "x" * size
                return items
        return None

    def _anchor(self, root: Root, value: Any, path: tuple, rule: Constraint) -> tuple | None:
        """The path of the object a value rule is anchored at (its definition + target path)."""
        targets = [t for t in rule.targets_for(self.api_version) if t.definition is not None]
        for cut in range(len(path), -1, -1):
            node, _ = node_and_value(root.node, value, path[:cut])
            obj = resolved(node)
            if not isinstance(obj, Obj):
                continue
            rest = tuple("*" if isinstance(t, int) else t for t in path[cut:])
            if any(t.definition in obj.names and t.path == rest for t in targets):
                return path[:cut]
        return None

    # aggregate rules

    def _aggregate_mutations(self, root: Root, value: Any, site, rule: Constraint, draw) -> Iterator[Any]:
        placed = next(p for r, p in resolved(site.node).aggregate_rules if r.id == rule.id)
        for _ in range(2):
            trial = self._pinned_copy(value, site.path)
            _, obj = node_and_value(root.node, trial, site.path)
            anchor_node = resolved(site.node)
            if rule.kind == "total_count":
                if self._overfill(root, trial, site.path, anchor_node, placed, rule, draw):
                    yield trial
            elif self._duplicate(anchor_node, obj, placed, rule, draw, len(site.path)):
                yield self._finish(root, trial, site.path, rule.id, draw)

    def _duplicate(self, node: Obj, obj: dict, path: tuple, rule: Constraint, draw, depth: int) -> bool:
        """Make two selected values equal (unique) or two spans overlap (no_overlap)."""
        star = max(i for i, t in enumerate(path) if t == "*")
        for _ in range(3):
            if len(list(select(obj, path))) >= 2:
                break
            if not self.repairer.add(node, obj, path, draw, depth):
                return False
            lists = [lst for lst, _ in select(obj, path[:star]) if isinstance(lst, list)]
            if not lists:
                return False
            array = array_of(node_at(node, path[:star]))
            lists[0].append(self.builder.draw_value(array.items, depth + 1, draw))
        selected = list(select(obj, path))
        if len(selected) < 2:
            return False
        (first, _), (_, where) = selected[0], selected[1]
        parent = obj
        for token in where[:-1]:
            parent = parent[token]
        if rule.kind == "no_overlap" and isinstance(first, dict):
            parent[where[-1]] = {
                **parent[where[-1]],
                rule.value["start"]: first[rule.value["start"]],
                rule.value["end"]: first[rule.value["end"]],
            }
        else:
            parent[where[-1]] = copy.deepcopy(first)
        return True

    def _overfill(self, root: Root, trial: Any, anchor: tuple, node: Obj, path: tuple, rule: Constraint, draw) -> bool:
        """More items in total than `max`, each still valid on its own (added one by one, repaired into place)."""
        array = array_of(node_at(node, path))
        if array is None:
            return False
        for _ in range(2 * rule.value["max"] + 20):
            try:
                obj = get_at(trial, anchor)
            except (KeyError, IndexError, TypeError):
                return False
            if not self.repairer.add(node, obj, path, draw, len(anchor)):
                return False
            lists = [lst for lst, _ in select(obj, path) if isinstance(lst, list)]
            if sum(len(lst) for lst in lists) > rule.value["max"]:
                return True
            min(lists, key=len).append(self.builder.draw_value(array.items, len(anchor) + 1, draw))
            self._finish(root, trial, anchor, rule.id, draw)
        return False

    # object rules

    def _object_mutations(self, root: Root, value: Any, site, rule: Constraint, draw) -> Iterator[Any]:
        for attempt in range(2):
            trial = self._pinned_copy(value, site.path)
            node, obj = node_and_value(root.node, trial, site.path)
            obj_node = resolved(node)
            if _break_object_rule(self, obj_node, obj, rule, draw, len(site.path), attempt):
                yield self._finish(root, trial, site.path, rule.id, draw)

    # schema keywords

    def _keyword_mutations(self, root: Root, value: Any, site, keyword: str, draw) -> Iterator[Any]:
        node = resolved(site.node)
        if keyword == "required":
            present_required = [name for name in node.schema_required if name in site.value]
            if present_required:
                name = present_required[choose(draw, len(present_required))]
                trial = copy.deepcopy(value)
                del get_at(trial, site.path)[name]
                yield trial
            return
        if keyword == "readOnly":
            names = sorted(node.read_only)
            name = names[choose(draw, len(names))]
            response = self.strategies.builder(self.api_version, RESPONSE)
            sample = response.draw_value(response.compiler.compile(node.read_only[name], (), node.pointer), 1, draw)
            trial = copy.deepcopy(value)
            get_at(trial, site.path)[name] = sample
            yield trial
            return
        if keyword == "additionalProperties":
            trial = copy.deepcopy(value)
            get_at(trial, site.path)["undocumentedProperty"] = "x"
            yield trial
            return
        if isinstance(node, Array):
            yield from self._array_keyword_mutations(root, value, site, keyword, draw)
            return
        candidates = list(wrong_types(node)) if keyword == "type" else list(keyword_candidates(node, keyword))
        for candidate in candidates[:6]:
            if isinstance(node, Scalar) and not self._value_ok(node, candidate):
                continue
            yield replaced(value, site.path, candidate)

    def _array_keyword_mutations(self, root: Root, value: Any, site, keyword: str, draw) -> Iterator[Any]:
        node: Array = resolved(site.node)
        current = list(site.value)
        if keyword == "type":
            options = [{}, "not a list"]
        elif keyword == "minItems":
            options = [current[: node.schema_min - 1]]
        elif keyword == "maxItems":
            grown = self._grow(root, value, site.path, None, node.schema_max + 1, draw, None)
            if grown is not None:
                yield grown
            return
        elif keyword == "uniqueItems":
            item = current[0] if current else self.builder.draw_value(node.items, len(site.path) + 1, draw)
            options = [[item, copy.deepcopy(item), *current[1:]]]
        else:
            options = []
        for candidate in options:
            yield replaced(value, site.path, candidate)


# ---------------------------------------------------------------------------
# breaking one object rule in place


def _break_object_rule(m: Mutator, node: Obj, obj: dict, rule: Constraint, draw, depth: int, attempt: int) -> bool:
    r, v = m.repairer, rule.value
    kind = rule.kind
    if kind in ("required_if", "forbidden_if", "value_if") and not all(
        r.make_condition(node, obj, cond, True, draw, depth) for cond in v.get("when", ())
    ):
        return False
    if kind == "mutually_exclusive":
        groups = [list(group) for group in v["groups"]]
        used = [i for i, group in enumerate(groups) if any(present(obj, p) for p in group)]
        if v.get("exactly_one") and attempt == 1:  # none of them
            paths = [path_tokens(p) for group in groups for p in group]
            return all(r.deletable(node, obj, p) for p in paths) and run_all(r.delete(node, obj, p) for p in paths)
        others = [i for i in range(len(groups)) if i not in used]
        need = 2 - len(used)
        if need > len(others):
            return False
        picks = others[choose(draw, len(others)) :] + others
        for i in picks[:need]:
            if not all(r.add(node, obj, path_tokens(p), draw, depth) for p in groups[i][:1]):
                return False
        return True
    if kind == "all_or_none":
        paths = [path_tokens(p) for p in v["properties"]]
        missing = [p for p in paths if next(select(obj, p), None) is None]
        if missing and len(missing) < len(paths):
            return True
        if not missing:
            return r.delete(node, obj, paths[-1])
        return r.add(node, obj, paths[0], draw, depth)
    if kind == "required_if":
        paths = [path_tokens(p) for p in v["any_of"]]
        if rule in node.promoted:  # required for generation only: the schema lets it go
            return all(obj.pop(p[0], None) is not None or True for p in paths)
        return all(r.deletable(node, obj, p) for p in paths) and run_all(r.delete(node, obj, p) for p in paths)
    if kind == "forbidden_if":
        paths = [path_tokens(p) for p in v["properties"]]
        return r.add(node, obj, paths[attempt % len(paths)], draw, depth)
    if kind == "value_if":
        path = path_tokens(v["property"])
        scalar = scalar_of(node_at(node, path))
        if scalar is None:
            return False
        listed = {str(x).casefold() if isinstance(x, str) else x for x in v["values"]}
        options = [x for x in (scalar.choices() or [True, False, 0, 2, "other"]) if scalar.accepts(x)]
        options = [x for x in options if (x.casefold() if isinstance(x, str) else x) not in listed]
        return bool(options) and r.assign(node, obj, path, options[attempt % len(options)], draw, depth)
    if kind == "span":
        start_scalar = scalar_of(node.properties.get(v["start"]))
        end_scalar = scalar_of(node.properties.get(v["end"]))
        if start_scalar is None or end_scalar is None:
            return False
        for low, high in start_scalar.domain().intervals:
            for start in (low, min(high, low + 100)):
                end = end_scalar.domain().at_least(start)
                if end is not None and end - start + 1 < v["min"]:
                    obj[v["start"]], obj[v["end"]] = start, end
                    return True
        return False
    if kind == "ordered":
        lesser, greater = v["lesser"], v["greater"]
        low_scalar, high_scalar = scalar_of(node.properties.get(lesser)), scalar_of(node.properties.get(greater))
        if low_scalar is None or high_scalar is None:
            return False
        for high in (high_scalar.domain().at_least(0), high_scalar.domain().at_least(-(2**31))):
            low = None if high is None else low_scalar.domain().at_least(high + 1)
            if low is not None and high is not None:
                obj[lesser], obj[greater] = low, high
                return True
        return False
    if kind == "capacity":
        items = path_tokens(v["items"])
        if not r.add(node, obj, items, draw, depth):
            return False
        lists = [x for x, _ in select(obj, items) if isinstance(x, list)]
        if not lists or not lists[0]:
            return False
        limit = v["per_item"] * len(lists[0])
        for prop in v["counts"]:
            scalar = scalar_of(node_at(node, path_tokens(prop)))
            if scalar is not None and (limit + 1) in scalar.domain():
                return r.assign(node, obj, path_tokens(prop), limit + 1, draw, depth)
        return False
    return False
