"""Presence rules settled while an object chooses its optional properties.

Some overlay rules only say which properties may appear together: at most (or
exactly) one of a group, all or none, "x is required / forbidden when y". An
object reads its optional-property bits first, so it can make such a rule true
there and then (one record byte picks the group to keep) instead of reading
values and repairing them afterwards. A plan that no other plan touches holds
by construction, so the repair loop does not check it again unless an edit
touches its properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..constraints import path_tokens
from .nodes import Obj, Union_, resolved
from .scalars import Scalar


@dataclass(frozen=True, slots=True)
class Plan:
    """A presence rule settled while choosing which optional properties to read, so it never needs repair.

    `groups` are optional-field indexes; a `mutually_exclusive` rule keeps at most (or exactly) one group,
    picked by the record byte at `selector`; an `all_or_none` rule (one group) keeps all or none.
    """

    rule_id: str
    groups: tuple[tuple[int, ...], ...]
    exactly_one: bool
    together: bool
    selector: int
    when: tuple = ()  # conditions (read from already-read properties) for "required if" / "forbidden if"
    forbid: bool = False  # a `forbidden_if` plan: clear the group when `when` holds


def settle_condition(plan: Plan, bits: int, selector: int) -> int:
    """Optional-property bits once a conditional plan's `when` is known to hold."""
    group = plan.groups[0]
    if plan.forbid:
        for i in group:
            bits &= ~(1 << i)
    elif not any(bits >> i & 1 for i in group):
        bits |= 1 << group[selector % len(group)]
    return bits


def settle_plan(plan: Plan, bits: int, selector: int) -> int:
    """Optional-property bits with `plan`'s rule made true."""
    groups = plan.groups
    if plan.together:
        for i in groups[0]:
            bits = bits | (1 << i) if selector & 1 else bits & ~(1 << i)
        return bits
    keep = selector % (len(groups) + (0 if plan.exactly_one else 1))
    for g, group in enumerate(groups):
        for i in group:
            if g != keep:
                bits &= ~(1 << i)
    if keep < len(groups) and not any(bits >> i & 1 for i in groups[keep]):
        bits |= 1 << groups[keep][0]
    return bits


def plans_for(
    node: Obj, optional: list[str], first_selector: int
) -> tuple[tuple[Plan, ...], frozenset[str], frozenset[int]]:
    """Plans for the node's presence rules over its optional top-level properties.

    Returns the plans (exclusive groups and all-or-none first, then "forbidden if" before "required if"),
    the rules they make true by construction (plans sharing no property with another plan), and the
    optional properties conditional plans read.
    """
    index = {name: i for i, name in enumerate(optional)}
    plain, conditional = [], []
    for rule in node.object_rules:
        v = rule.value
        if rule.kind in ("mutually_exclusive", "all_or_none") and not v.get("when"):
            groups = [list(g) for g in v["groups"]] if rule.kind == "mutually_exclusive" else [list(v["properties"])]
            if all(name in index for group in groups for name in group):
                plain.append((rule, groups, frozenset(n for g in groups for n in g), frozenset()))
        elif rule.kind in ("required_if", "forbidden_if") and v.get("when"):
            targets = list(v["any_of"] if rule.kind == "required_if" else v["properties"])
            reads = frozenset(path_tokens(c["property"])[0] for c in v["when"])
            if (
                all(name in index for name in targets)
                and all(
                    len(path_tokens(c["property"])) == 1 and path_tokens(c["property"])[0] in node.properties
                    for c in v["when"]
                )
                and not reads & set(targets)
            ):
                conditional.append((rule, [targets], frozenset(targets), reads))
    conditional.sort(key=lambda item: item[0].kind != "forbidden_if")
    chosen, owners = [], {}
    for item in plain + conditional:
        rule, groups, names, reads = item
        if item in plain and any(name in owners for name in names):
            continue  # two exclusive plans over one property cannot both hold by construction
        chosen.append(item)
        for name in names:
            owners.setdefault(name, []).append(rule.id)
    written = {name for _, _, names, _ in chosen for name in names}
    plans, trusted, early = [], set(), set()
    for rule, groups, names, reads in chosen:
        if reads & written:
            continue  # a condition on a property another plan may change: leave it to the repairs
        plans.append(
            Plan(
                rule.id,
                tuple(tuple(index[name] for name in group) for group in groups),
                bool(rule.value.get("exactly_one")),
                rule.kind == "all_or_none",
                first_selector + len(plans),
                tuple(rule.value.get("when", ())),
                rule.kind == "forbidden_if",
            )
        )
        early.update(index[name] for name in reads if name in index)
        # a nullable property may be read as null, which rules count as absent: such plans are checked
        needs_presence = rule.kind in ("required_if", "all_or_none") or rule.value.get("exactly_one")
        if all(owners[name] == [rule.id] for name in names) and not (
            needs_presence and any(_nullable(node.properties[name]) for name in names)
        ):
            trusted.add(rule.id)
    return tuple(plans), frozenset(trusted), frozenset(early)


def _nullable(node: Any) -> bool:
    node = resolved(node)
    return _is_null(node) or (isinstance(node, Union_) and any(_is_null(option) for option in node.options))


def _is_null(node: Any) -> bool:
    node = resolved(node)
    return isinstance(node, Scalar) and node.kind == "null"
