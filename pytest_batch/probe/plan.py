"""The probe cases of one api-version: for each rule and target, a valid request and labelled invalid ones.

Pure: the overlay, the spec and the strategies in, frozen `ProbeCase`s out. A definition target is
reached through the cheapest operation whose body holds it (fewest prerequisites, then the shallowest
place, then the name); an operation + parameter target through the cheapest operation it names. The
valid body is drawn so that it holds the target; the invalid one breaks the rule exactly there (checked
with a one-target copy of the rule) and nothing else. Draws are derandomized and ids derive from the
case (`probe-<hash>`), so the same version and rules give byte-identical requests in every run.

Against anything but the emulator (`node_free=True`) bodies are made node-free (target node counts 0,
autoscale formulas that ask for 0 nodes); a case whose request no longer says what it must once node-free,
or whose operation needs compute nodes, is skipped as billable unless `allow_billable`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from ..constraints import Constraint, Overlay, Refusal, Target, check_constraints, refusals, select_values
from ..spec import Spec
from .draw import draw_one
from .needs import BILLABLE, cost, needs_of, unsupported
from .reach import anchors, carriers, replaced_at, target_sites, value_at

ZERO_NODES_FORMULA = "$TargetDedicatedNodes = 0; $TargetLowPriorityNodes = 0;"
_COLLECTIONS = ("/jobs", "/pools", "/jobschedules", "/tasks")
_TRIES = 3  # carrier operations tried per target before giving up
# at equal cost, parameters are probed on the most common calls (every Batch service and emulator serves them)
PREFERRED = frozenset({"Jobs_ListJobs", "Job_List", "Pools_ListPools", "Pool_List"})


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """One request of a case. `label` is `valid` or what the invalid one breaks; `body` is JSON text or None."""

    label: str
    method: str
    path: str  # the operation's path template; prerequisites fill it in at run time
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    pointer: str | None = None  # where an invalid request breaks the rule

    @property
    def data(self) -> Any:
        return json.loads(self.body) if self.body is not None else None


@dataclass(frozen=True, slots=True)
class ProbeCase:
    """One (rule, target, operation) to probe, or to skip (`skipped` says why)."""

    rule_id: str
    kind: str
    operation_id: str
    target: str
    location: str
    source_pointer: str
    prefix: str
    needs: tuple[str, ...] = ()
    valid: ProbeRequest | None = None
    invalid: tuple[ProbeRequest, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    skipped: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule_id, self.operation_id, self.target)

    @property
    def billable(self) -> bool:
        return bool(set(self.needs) & BILLABLE)


@dataclass(frozen=True)
class PlanOptions:
    rules: frozenset[str] | None = None  # None: every rule of the version
    operations: frozenset[str] | None = None  # None: any operation
    node_free: bool = False
    allow_billable: bool = False


def plan_cases(
    api_version: str,
    *,
    strategies: Any = None,
    rules: Iterable[str] | None = None,
    operations: Iterable[str] | None = None,
    node_free: bool = False,
    allow_billable: bool = False,
) -> tuple[ProbeCase, ...]:
    """Every probe case of `api_version` (sorted by rule, operation, target); see the module docstring."""
    if strategies is None:
        from ..strategies import default_strategies

        strategies = default_strategies()
    options = PlanOptions(
        frozenset(rules) if rules is not None else None,
        frozenset(operations) if operations is not None else None,
        node_free,
        allow_billable,
    )
    planner = _Planner(strategies, api_version, options)
    cases = [case for rule in planner.rules() for case in planner.cases(rule)]
    return tuple(sorted(cases, key=lambda c: c.key))


def case_prefix(api_version: str, rule_id: str, target: str, operation_id: str) -> str:
    digest = hashlib.sha1(f"{api_version}|{rule_id}|{target}|{operation_id}".encode()).hexdigest()
    return f"probe-{digest[:10]}"


def one_target(rule: Constraint, api_version: str, target: Target) -> Overlay:
    """An overlay holding `rule` with `target` alone, to tell whether a body breaks the rule at that target."""
    single = replace(rule, targets=MappingProxyType({api_version: (target,)}))
    by_definition = {(api_version, target.definition): ((single, target),)} if target.definition else {}
    by_operation = {(api_version, target.operation): ((single, target),)} if target.operation else {}
    return Overlay((single,), MappingProxyType(by_definition), MappingProxyType(by_operation))


def node_free(value: Any) -> Any:
    """A copy of a body with every target node count 0 and every autoscale formula asking for 0 nodes."""
    if isinstance(value, dict):
        out = {}
        for key, sub in value.items():
            if key in ("targetDedicatedNodes", "targetLowPriorityNodes") and isinstance(sub, int):
                out[key] = 0
            elif key == "autoScaleFormula" and isinstance(sub, str):
                out[key] = ZERO_NODES_FORMULA
            else:
                out[key] = node_free(sub)
        return out
    if isinstance(value, list):
        return [node_free(item) for item in value]
    return value


class _Planner:
    """Plans the cases of one api-version (holds the spec, the compiled schemas and the options)."""

    def __init__(self, strategies: Any, api_version: str, options: PlanOptions) -> None:
        self.strategies = strategies
        self.version = api_version
        self.options = options
        self.overlay: Overlay = strategies.overlay
        self.spec: Spec = strategies.library.get(api_version)
        self._compiled: Any = None

    def rules(self) -> list[Constraint]:
        chosen = self.overlay.rules_for(self.version)
        if self.options.rules is not None:
            chosen = tuple(r for r in chosen if r.id in self.options.rules)
        return sorted(chosen, key=lambda r: r.id)

    def cases(self, rule: Constraint) -> list[ProbeCase]:
        targets = rule.targets_for(self.version)
        body_targets = [t for t in targets if t.definition is not None]
        param_targets = [t for t in targets if t.operation is not None]
        out = [self._body_case(rule, t) for t in body_targets]
        if param_targets:
            out.append(self._parameter_case(rule, param_targets))
        return out

    # -- shared -----------------------------------------------------------------------

    def _allowed(self, operation_id: str) -> bool:
        return self.options.operations is None or operation_id in self.options.operations

    def _skip(self, rule: Constraint, target: str, operation_id: str, location: str, why: str) -> ProbeCase:
        return ProbeCase(
            rule.id, rule.kind, operation_id, target, location, rule.source.pointer,
            case_prefix(self.version, rule.id, target, operation_id), skipped=why,
        )  # fmt: skip

    def _billable_skip(self, op_id: str) -> str | None:
        op = self.spec.operations[op_id]
        if self.options.node_free and not self.options.allow_billable and needs_of(op) & BILLABLE:
            return f"billable: {op_id} needs compute nodes (pass --allow-billable to probe it)"
        return None

    def _engine_accepts(self, op_id: str, body: Any) -> bool:
        compiled = self._compiled_spec()
        schema = self.spec.operations[op_id].body.schema
        return compiled.is_valid(schema, body, "request") and not check_constraints(
            self.overlay, self.spec, op_id, body
        )

    def _through_schema(self, rule: Constraint, target: Target, op_id: str, breaks: Any) -> Any:
        """A labelled case breaking `rule` together with the schema keyword that covers it (an enum narrower
        than the rule's values, a `maxItems` equal to its size), or None. Such a rule is still probed: a
        service that skipped the schema check would accept what the docs forbid."""
        from ..strategies import Labelled

        schema = self.spec.operations[op_id].body.schema

        def breakable(b: Any) -> bool:
            return any(
                _beyond(rule, value_at(b, site)) is not _NOTHING for site in target_sites(self.spec, schema, b, target)
            )

        body = draw_one(self.strategies.valid(self.version, operation=op_id), breakable)
        if body is None:
            return None
        for site in target_sites(self.spec, schema, body, target):
            broken = _beyond(rule, value_at(body, site))
            if broken is not _NOTHING:
                case = Labelled(value=replaced_at(body, site, broken), label=rule.id, pointer=site)
                if breaks(case):
                    return case
        return None

    def _breaks_only(
        self, op_id: str, body: Any, rule: Constraint, target: Target, *, schema_too: bool = False
    ) -> bool:
        compiled = self._compiled_spec()
        schema = self.spec.operations[op_id].body.schema
        if compiled.is_valid(schema, body, "request") == schema_too:
            return False
        findings = check_constraints(self.overlay, self.spec, op_id, body)
        if not findings or any(f.rule_id != rule.id for f in findings):
            return False
        return bool(check_constraints(one_target(rule, self.version, target), self.spec, op_id, body))

    def _compiled_spec(self) -> Any:
        if self._compiled is None:
            from ..compiled import CompiledSpec

            self._compiled = CompiledSpec(self.spec)
        return self._compiled

    # -- a definition target, through an operation's body ------------------------------

    def _body_case(self, rule: Constraint, target: Target) -> ProbeCase:
        label = target.label
        found = [(op_id, depth) for op_id, depth in carriers(self.spec, target.definition) if self._allowed(op_id)]
        if not found:
            why = "no operation carries this target" + (" among --operations" if self.options.operations else "")
            return self._skip(rule, label, "-", "body", why)
        ranked = sorted(found, key=lambda item: (cost(self.spec.operations[item[0]]), item[1], item[0]))
        reachable = [op_id for op_id, _ in ranked if cost(self.spec.operations[op_id]) != float("inf")]
        if not reachable:
            why = unsupported(self.spec.operations[ranked[0][0]]) or "no operation carrying it can be called"
            return self._skip(rule, label, ranked[0][0], "body", why)
        failures = []
        for op_id in reachable[:_TRIES]:
            billable = self._billable_skip(op_id)
            if billable is not None:
                return self._skip(rule, label, op_id, "body", billable)
            case = self._draw_body_case(rule, target, op_id)
            if isinstance(case, ProbeCase):
                return case
            failures.append(case)
        return self._skip(rule, label, reachable[0], "body", failures[0])

    def _draw_body_case(self, rule: Constraint, target: Target, op_id: str) -> ProbeCase | str:
        from ..strategies import StrategyError

        spec, op = self.spec, self.spec.operations[op_id]
        schema = op.body.schema
        single = one_target(rule, self.version, target)

        def breaks(case: Any) -> bool:
            return bool(check_constraints(single, spec, op_id, case.value))

        covered = False  # whether the schema forbids what the rule forbids, so the invalid body breaks both
        try:
            invalid_strategy = self.strategies.invalid(self.version, operation=op_id, rule=rule.id)
            invalid = draw_one(invalid_strategy, breaks, shrink=False)
        except StrategyError:  # the schema forbids what the rule forbids: break both
            covered, invalid = True, self._through_schema(rule, target, op_id, breaks)
            if invalid is None:
                return f"no value breaks this rule in {op_id}'s body, alone or with the schema keyword that covers it"
        valid = None if invalid is None else self._grafted(op_id, target, invalid)
        if valid is None:  # the slow way: search (and shrink) whole bodies until one holds the target
            valid = draw_one(
                self.strategies.valid(self.version, operation=op_id),
                lambda body: bool(target_sites(spec, schema, body, target)),
            )
        if valid is None:
            return f"no valid {op_id} body holding the target was found"
        if invalid is None:
            return f"the strategies did not break this rule at this target in {op_id}'s body"
        prefix = case_prefix(self.version, rule.id, target.label, op_id)
        valid_body = self._finish(op_id, valid, f"{prefix}-v", lambda b: self._engine_accepts(op_id, b))
        invalid_body = self._finish(
            op_id, invalid.value, f"{prefix}-i0",
            lambda b: self._breaks_only(op_id, b, rule, target, schema_too=covered),
        )  # fmt: skip
        if valid_body is None or invalid_body is None:
            why = "valid" if valid_body is None else "invalid"
            return f"billable: the {why} {op_id} body needs nodes (pass --allow-billable to probe it)"
        return ProbeCase(
            rule.id, rule.kind, op_id, target.label, "body", rule.source.pointer, prefix,
            needs=tuple(sorted(needs_of(op) | ({"package"} if _package_references(valid_body) else set()))),
            valid=ProbeRequest("valid", op.method, op.path, tuple(op.fixed_query.items()), body=_text(valid_body)),
            invalid=(
                ProbeRequest(
                    f"{rule.id} (the schema forbids it too)" if covered else rule.id, op.method, op.path,
                    tuple(op.fixed_query.items()), body=_text(invalid_body), pointer=invalid.pointer,
                ),
            ),
            refusals=refusals(rule, "body"),
        )  # fmt: skip

    def _grafted(self, op_id: str, target: Target, invalid: Any) -> Any | None:
        """The invalid body with the object the rule broke replaced by a minimal valid one holding the target.

        The invalid body is small (drawn from the simplest valid body, with the way to the target added), so
        this valid twin differs from it only where the rule lives; None when the graft is not valid.
        """
        schema = self.spec.operations[op_id].body.schema
        places = [
            a for a in anchors(self.spec, schema, invalid.value, target.definition) if _within(invalid.pointer, a)
        ]
        if not places:
            return None
        anchor = max(places, key=len)
        if anchor:
            sub = draw_one(
                self.strategies.valid(self.version, target.definition),
                lambda obj: bool(list(select_values(obj, target.path, ""))),
                shrink=False,  # the first definition value holding the path: shrinking it costs more than it saves
            )
        else:  # the body itself: the simplest valid body holding the target
            sub = draw_one(
                self.strategies.valid(self.version, operation=op_id),
                lambda body: bool(target_sites(self.spec, schema, body, target)),
            )  # shrunk: a whole random body would bring exotic properties the service may refuse for other reasons
        if sub is None:
            return None
        body = replaced_at(invalid.value, anchor, sub)
        if not target_sites(self.spec, schema, body, target) or not self._engine_accepts(op_id, body):
            return None
        return body

    def _finish(self, op_id: str, body: Any, ident: str, still_ok: Any) -> Any | None:
        """The body with the case's own ids (and node-free when asked); None when node-free spoils it."""
        out = copy.deepcopy(body)
        op = self.spec.operations[op_id]
        if isinstance(out, dict) and "id" in out and op.method == "POST" and op.path.endswith(_COLLECTIONS):
            renamed = {**out, "id": ident}
            if still_ok(renamed):
                out = renamed
        if isinstance(out, dict) and op.path.endswith("/certificates") and "thumbprint" in out:
            named = {**out, "thumbprint": hashlib.sha1(ident.encode()).hexdigest(), "thumbprintAlgorithm": "sha1"}
            if still_ok(named):  # the service takes only a sha1 thumbprint: 40 hex digits
                out = named
        renamed = _auto_pool_prefixes(out, "pb" + hashlib.sha1(ident.encode()).hexdigest()[:8])
        if renamed != out and still_ok(renamed):
            out = renamed
        if self.options.node_free:
            free = node_free(out)
            if free != out:
                if still_ok(free):
                    return free
                return out if self.options.allow_billable else None
        return out

    # -- operation + parameter targets (query and header parameters) --------------------

    def _parameter_case(self, rule: Constraint, targets: list[Target]) -> ProbeCase:
        usable = [t for t in targets if t.operation in self.spec.operations and self._allowed(t.operation)]
        if not usable:
            label = targets[0].label
            why = "no operation carries this target" + (" among --operations" if self.options.operations else "")
            return self._skip(rule, label, targets[0].operation or "-", "query", why)
        ranked = sorted(
            usable, key=lambda t: (cost(self.spec.operations[t.operation]), t.operation not in PREFERRED, t.operation)
        )
        target = ranked[0]
        op = self.spec.operations[target.operation]
        param = next(p for p in op.parameters if p.name.lower() == target.parameter.lower())
        location = param.location
        reason = unsupported(op) or self._billable_skip(op.operation_id)
        if reason is not None:
            return self._skip(rule, target.label, op.operation_id, location, reason)
        parts = draw_one(
            self.strategies.request(self.version, op.operation_id),
            lambda p: param.name in (p.query if location == "query" else p.headers),
        )
        if parts is None:
            return self._skip(rule, target.label, op.operation_id, location, "no valid value was drawn")
        good = (parts.query if location == "query" else parts.headers)[param.name]
        bad = [v for v in _parameter_candidates(rule) if self._breaks_parameter(rule, op.operation_id, location, v)]
        if not self._parameter_ok(op.operation_id, location, param.name, good) or not bad:
            why = "the prober cannot break this rule alone in the parameter"
            return self._skip(rule, target.label, op.operation_id, location, why)
        fixed = tuple(op.fixed_query.items())

        def request(label: str, value: str, pointer: str | None) -> ProbeRequest:
            if location == "query":
                return ProbeRequest(label, op.method, op.path, (*fixed, (param.name, value)), pointer=pointer)
            return ProbeRequest(label, op.method, op.path, fixed, ((param.name, value),), pointer=pointer)

        return ProbeCase(
            rule.id, rule.kind, op.operation_id, target.label, location, rule.source.pointer,
            case_prefix(self.version, rule.id, target.label, op.operation_id),
            needs=tuple(sorted(needs_of(op))),
            valid=request("valid", good, None),
            invalid=tuple(request(rule.id, value, "/" + param.name) for value in bad[:2]),
            refusals=refusals(rule, location),
        )  # fmt: skip

    def _parameter_ok(self, op_id: str, location: str, name: str, value: str) -> bool:
        key = "query" if location == "query" else "headers"
        return not check_constraints(self.overlay, self.spec, op_id, **{key: {name: value}})

    def _breaks_parameter(self, rule: Constraint, op_id: str, location: str, value: str) -> bool:
        target = next(t for t in rule.targets_for(self.version) if t.operation == op_id)
        key = "query" if location == "query" else "headers"
        findings = check_constraints(self.overlay, self.spec, op_id, **{key: {target.parameter: value}})
        return bool(findings) and all(f.rule_id == rule.id for f in findings)


def _parameter_candidates(rule: Constraint) -> list[str]:
    """Parameter texts that may break `rule` (the checker confirms which do): just outside bounds, wrong forms."""
    v = rule.value
    if rule.kind == "range":
        return [str(v["max"] + 1)] * ("max" in v) + [str(v["min"] - 1)] * ("min" in v)
    if rule.kind == "length":
        return ["x" * (v["max"] + 1)] if "max" in v else []
    if rule.kind == "pattern":
        return ["not-a-valid-value", "0-10", "x"]
    if rule.kind in ("allowed_values", "forbidden_values"):
        return [str(x) for x in v.get("values", ())] + ["not-a-listed-value"]
    return []


def _auto_pool_prefixes(value: Any, prefix: str) -> Any:
    """Every auto pool named `<prefix>...`, so the run can find (and delete) the pools its jobs created."""
    if isinstance(value, dict):
        out = {k: _auto_pool_prefixes(s, prefix) for k, s in value.items()}
        if isinstance(out.get("autoPoolSpecification"), dict):
            out["autoPoolSpecification"] = {**out["autoPoolSpecification"], "autoPoolIdPrefix": prefix}
        return out
    if isinstance(value, list):
        return [_auto_pool_prefixes(item, prefix) for item in value]
    return value


def _text(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, sort_keys=False, separators=(",", ":"))


def _within(pointer: str, anchor: str) -> bool:
    return pointer == anchor or pointer.startswith(anchor + "/") or anchor == ""


def _package_references(value: Any) -> bool:
    """Whether a body names application packages (which must exist in the account to be accepted)."""
    if isinstance(value, dict):
        refs = value.get("applicationPackageReferences")
        return (isinstance(refs, list) and bool(refs)) or any(_package_references(v) for v in value.values())
    if isinstance(value, list):
        return any(_package_references(item) for item in value)
    return False


_NOTHING = object()


def _beyond(rule: Constraint, value: Any) -> Any:
    """A value just outside `rule` where it meets `value`: a word the allowed values lack, one item over a
    size limit (copies of the last item, ids kept distinct); `_NOTHING` for kinds not covered here."""
    v = rule.value
    if rule.kind == "allowed_values" and isinstance(value, str):
        return f"{v['values'][0]}-not"
    if rule.kind == "collection_size" and isinstance(value, list) and value and "max" in v:
        last = value[-1]
        extra = [
            {**last, "id": f"{last['id']}-{n}"} if isinstance(last, dict) and isinstance(last.get("id"), str) else last
            for n in range(v["max"] + 1 - len(value))
        ]
        return [*value, *extra]
    return _NOTHING
