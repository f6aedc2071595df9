"""The documented Job rules, as pure functions over what a client saw, so one rule set serves two masters.

The Batch documentation states how a job behaves over time: which states follow which, which operation is
refused in which state, that PATCH merges and PUT replaces, that the ETag moves on every update and
`If-Match` guards writes, that task counts add up, that only a job with a preparation task has a
preparation/release status. No single request shows any of this; a *sequence* does. This module folds a
sequence of job interactions into per-job knowledge (`JobObservation`) and checks every step with
`check(previous, action, response, current)`. The state machine (`stateful.py`) feeds it the exchanges it
makes against a live target; `check_sequence` feeds it a cassette. Both see the same rules.

Knowledge is deliberately humble: between two requests time passes and the service settles transitional
states (`disabling` → `disabled`) or ends a job on its own (`onAllTasksComplete`, `maxWallClockTime`, a job
manager, a job schedule), so an observation holds the set of states the job *may* be in, and a rule fires
only when every possible state forbids what was seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

from .interaction import Interaction, Source

GONE = "gone"  # not a Batch state: the job answers 404 JobNotFound
JOB_STATES = ("active", "disabling", "disabled", "enabling", "terminating", "completed", "deleting")
LIVE = frozenset(("active", "disabling", "disabled", "enabling"))
ANY_STATE = frozenset((*JOB_STATES, GONE))
UNLIMITED_SECONDS = 10 * 365 * 86400.0  # a wall clock this long is the service's "no limit" (TimeSpan.MaxValue)

# transitions the service makes on its own, given time
_SETTLES = MappingProxyType(
    {"disabling": "disabled", "enabling": "active", "terminating": "completed", "deleting": GONE}
)
# what a successful request does to each state it is accepted in
_EFFECTS = MappingProxyType(
    {
        "disable": MappingProxyType({"active": "disabling", "disabling": "disabling", "disabled": "disabled"}),
        "enable": MappingProxyType({"disabled": "enabling", "enabling": "enabling"}),
        "terminate": MappingProxyType({state: "terminating" for state in LIVE}),
        "delete": MappingProxyType({state: "deleting" for state in JOB_STATES}),
    }
)
# canonical (2025-06-01) operation id → the verb the rules speak of
VERBS = MappingProxyType(
    {
        "Jobs_CreateJob": "create",
        "Jobs_GetJob": "get",
        "Jobs_ListJobs": "list",
        "Jobs_ListJobsFromSchedule": "list",
        "Jobs_UpdateJob": "update",
        "Jobs_ReplaceJob": "replace",
        "Jobs_DeleteJob": "delete",
        "Jobs_DisableJob": "disable",
        "Jobs_EnableJob": "enable",
        "Jobs_TerminateJob": "terminate",
        "Jobs_GetJobTaskCounts": "task_counts",
        "Jobs_ListJobPreparationAndReleaseTaskStatus": "preparation_status",
        "Tasks_CreateTask": "add_task",
        "Tasks_CreateTaskCollection": "add_tasks",
        "Tasks_DeleteTask": "delete_task",
    }
)
WRITES = frozenset(("update", "replace", "delete", "disable", "enable", "terminate"))
CHANGES = frozenset(("update", "replace", "disable", "enable", "terminate", "add_task", "add_tasks"))
TASK_WRITES = frozenset(("add_task", "add_tasks", "delete_task"))

# the properties a job update touches, and the values a job has when nobody set them
DEFAULTS = MappingProxyType(
    {
        "priority": 0,
        "maxParallelTasks": -1,
        "allowTaskPreemption": False,
        "onAllTasksComplete": "noaction",
        "onTaskFailure": "noaction",
        "usesTaskDependencies": False,
        "metadata": (),
        "constraints": MappingProxyType({"maxWallClockTime": None, "maxTaskRetryCount": 0}),
    }
)
UPDATABLE = ("priority", "maxParallelTasks", "allowTaskPreemption", "onAllTasksComplete", "constraints", "metadata")
# what PUT returns to its default when the request leaves it out (the Replace Job description)
RESETTABLE = UPDATABLE
# job-level data an ETag versions (statistics and execution details are not the job's own data)
VERSIONED = (
    "state", "stateTransitionTime", "previousState", "previousStateTransitionTime", "lastModified", "displayName",
    "priority", "maxParallelTasks", "allowTaskPreemption", "onAllTasksComplete", "onTaskFailure", "constraints",
    "metadata", "poolInfo", "usesTaskDependencies",
)  # fmt: skip


# -- value objects -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """One documented rule broken at one step of a sequence."""

    rule: str
    message: str
    step: int
    job_id: str
    operation_id: str | None = None
    source: Source | None = None

    def describe(self) -> str:
        where = f" ({self.source})" if self.source else ""
        return f"[{self.rule}] step {self.step} {self.operation_id or '?'} job {self.job_id!r}{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class JobAction:
    """What the client asked for, in the rules' terms (`operation` is a verb of `VERBS`)."""

    step: int
    operation: str
    job_id: str
    operation_id: str = ""
    api_version: str = ""
    body: Any = None
    if_match: str | None = None
    selected: bool = False  # a `$select` clause: documents are partial
    resets: frozenset[str] = frozenset(RESETTABLE)  # PUT: the properties its version's body can reset
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class JobResponse:
    """What the service answered, reduced to what the rules read."""

    status: int | None
    code: str | None = None
    etag: str | None = None
    document: Mapping[str, Any] | None = None  # the job (get, one item of a list)
    body: Any = None  # other JSON bodies (task counts, add-collection results)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def unknown(self) -> bool:
        """No answer or a server error: the request may or may not have been applied."""
        return self.status is None or self.status >= 500

    @property
    def added(self) -> int:
        """Tasks this response says were added."""
        if not self.ok:
            return 0
        if isinstance(self.body, Mapping) and isinstance(self.body.get("value"), list):
            return sum(1 for r in self.body["value"] if isinstance(r, Mapping) and r.get("status") == "success")
        return 1


@dataclass(frozen=True, slots=True)
class Belief:
    """A property value the client may rely on, and the rule (with its step) that promises it."""

    value: Any
    rule: str | None = None  # None: merely seen in a document, nothing promised since
    step: int = -1


@dataclass(frozen=True, slots=True)
class JobObservation:
    """Everything the client knows about one job after a step."""

    job_id: str
    step: int
    possible: frozenset[str] = ANY_STATE  # states the job may be in now (closed under what time does)
    document: Mapping[str, Any] | None = None  # the last job document seen
    etag: str | None = None  # the newest ETag seen
    old_etags: frozenset[str] = frozenset()
    beliefs: Mapping[str, Belief] = field(default_factory=lambda: MappingProxyType({}))
    self_ending: bool = True  # the service may terminate it on its own
    external: bool = False  # a job schedule owns it (may terminate or delete it)
    tasks: int | None = None  # tasks it holds, when every add and delete was seen
    preparation: bool | None = None  # whether it has a job preparation task
    since_document: tuple[str, ...] = ()  # successful changes since the last document

    @property
    def settled(self) -> bool:
        """One possible state, and nothing the service does by itself can change it."""
        return len(self.possible) == 1


Check = Callable[[JobObservation | None, JobAction, JobResponse, JobObservation], list[RuleViolation]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    summary: str
    check: Check


# -- small readers -------------------------------------------------------------------------------------

_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:?\d\d)?$")
_DURATION = re.compile(
    r"(-)?P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
_DURATION_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)


def parse_time(text: Any) -> datetime | None:
    """An ISO 8601 body date (7 fractional digits allowed) as aware UTC; None when absent or unreadable."""
    match = _TIME.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0")[:6].ljust(6, "0")),
        )
    except ValueError:
        return None
    if zone and zone not in ("Z", "z"):
        from datetime import timedelta

        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment.replace(tzinfo=timezone.utc)


def duration_seconds(text: Any) -> float | None:
    """An ISO 8601 duration in seconds (years 365 days, months 30); None when absent (= no limit) or unreadable."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or not any(match.groups()[1:]):
        return None
    total = sum(float(part) * unit for part, unit in zip(match.groups()[1:], _DURATION_UNITS) if part)
    return -total if match.group(1) else total


def _unlimited(seconds: float | None) -> bool:
    return seconds is None or seconds >= UNLIMITED_SECONDS


def closure(states: Iterable[str], *, self_ending: bool, external: bool) -> frozenset[str]:
    """`states` and every state the service can move the job to on its own from them."""
    out = set(states)
    pending = list(out)
    while pending:
        state = pending.pop()
        nexts = [_SETTLES[state]] if state in _SETTLES else []
        if (self_ending or external) and state in LIVE:
            nexts.append("terminating")
        if external and state != GONE:
            nexts.append("deleting")
        for nxt in nexts:
            if nxt not in out:
                out.add(nxt)
                pending.append(nxt)
    return frozenset(out)


def _after_success(possible: frozenset[str], operation: str) -> frozenset[str]:
    """The states a job can be in right after `operation` succeeded on it."""
    effects = _EFFECTS[operation]
    moved = frozenset(effects[state] for state in possible if state in effects)
    return moved or (possible | frozenset(effects.values()))  # a rule already reported the impossible success


def _self_ending(values: Mapping[str, Any]) -> bool:
    """Whether the service may end this job on its own, judging from its (known) properties."""
    if values.get("onAllTasksComplete") == "terminatejob" or values.get("jobManagerTask"):
        return True
    if values.get("onTaskFailure") == "performexitoptionsjobaction":
        return True
    constraints = values.get("constraints")
    wall = constraints.get("maxWallClockTime") if isinstance(constraints, Mapping) else None
    return not _unlimited(duration_seconds(wall))


def _external(job_id: str) -> bool:
    """Jobs a job schedule creates are named `<schedule>:job-<n>`; a user cannot put `:` in an id."""
    return ":" in job_id


def _fmt(states: Iterable[str]) -> str:
    return "/".join(sorted(states))


def _violation(rule: str, action: JobAction, message: str) -> RuleViolation:
    return RuleViolation(
        rule, message, action.step, action.job_id, action.operation_id or action.operation, action.source
    )


# -- folding one step into knowledge ----------------------------------------------------------------


def observe(previous: JobObservation | None, action: JobAction, response: JobResponse) -> JobObservation:
    """What the client knows about the job after `action` got `response` (pure)."""
    base = previous if previous is not None else _unknown(action)
    base = replace(base, step=action.step)
    if response.status == 404 and response.code == "JobNotFound":
        return replace(base, possible=frozenset((GONE,)), document=None, tasks=0, beliefs=_seen(base.beliefs),
                       since_document=())  # fmt: skip
    operation = action.operation
    if operation == "create":
        if response.ok:
            return _created(action, response)
        if response.code == "JobExists":
            live = base.possible - {GONE}
            return replace(base, possible=live or closure(LIVE, self_ending=True, external=base.external))
        return base
    if operation in ("get", "list"):
        return _documented(base, action, response) if response.ok and response.document is not None else base
    if operation in WRITES:
        if response.ok:
            return _written(base, action, response)
        if response.unknown:
            return _maybe_written(base, action, response)
        return _refused(base, action)
    if operation in TASK_WRITES and (response.ok or response.unknown):
        tasks = base.tasks
        if response.unknown:
            tasks = None
        elif tasks is not None:
            tasks = tasks + response.added if operation != "delete_task" else max(0, tasks - 1)
        return replace(base, tasks=tasks, since_document=(*base.since_document, operation))
    return base


def _unknown(action: JobAction) -> JobObservation:
    external = _external(action.job_id)
    return JobObservation(action.job_id, action.step, ANY_STATE, self_ending=True, external=external)


def _created(action: JobAction, response: JobResponse) -> JobObservation:
    body = action.body if isinstance(action.body, Mapping) else {}
    given = {
        name: body[name] for name in (*UPDATABLE, "onTaskFailure", "usesTaskDependencies", "poolInfo") if name in body
    }
    values = {name: DEFAULTS[name] for name in DEFAULTS} | given
    values["constraints"] = _full_constraints(body.get("constraints"))
    beliefs = {name: Belief(value, "job-create-properties", action.step) for name, value in values.items()}
    external = _external(action.job_id)
    self_ending = _self_ending(body)
    return JobObservation(
        job_id=action.job_id,
        step=action.step,
        possible=closure(("active",), self_ending=self_ending, external=external),
        etag=response.etag,
        beliefs=MappingProxyType(beliefs),
        self_ending=self_ending,
        external=external,
        tasks=1 if body.get("jobManagerTask") else 0,
        preparation=bool(body.get("jobPreparationTask")),
    )


def _full_constraints(given: Any) -> Mapping[str, Any]:
    """Constraints as the job must show them: what was given, the documented defaults for the rest."""
    given = given if isinstance(given, Mapping) else {}
    return MappingProxyType({**DEFAULTS["constraints"], **{k: v for k, v in given.items() if v is not None}})


def _documented(base: JobObservation, action: JobAction, response: JobResponse) -> JobObservation:
    document = response.document
    partial = action.selected
    merged = {**(base.document or {}), **document} if partial else dict(document)
    state = document.get("state")
    self_ending = _self_ending(merged)
    possible = (
        closure((state,), self_ending=self_ending, external=base.external) if state in JOB_STATES else base.possible
    )
    etag = document.get("eTag") or response.etag or base.etag
    old = base.old_etags | {base.etag} if base.etag and base.etag != etag else base.old_etags
    beliefs = dict(_seen(base.beliefs)) if partial else {}
    for name in UPDATABLE:
        if name in document or not partial:
            beliefs[name] = Belief(_value(document, name), None, action.step)
    if "poolInfo" in document:
        beliefs["poolInfo"] = Belief(document["poolInfo"], None, action.step)
    if not partial or "jobPreparationTask" in document:
        preparation = bool(document.get("jobPreparationTask"))
    else:
        preparation = base.preparation
    return replace(
        base,
        possible=possible,
        document=MappingProxyType(merged),
        etag=etag,
        old_etags=old,
        beliefs=MappingProxyType(beliefs),
        self_ending=self_ending,
        preparation=preparation,
        since_document=(),
    )


def _seen(beliefs: Mapping[str, Belief]) -> Mapping[str, Belief]:
    """The same values with nothing promised about them any more."""
    return MappingProxyType({name: replace(b, rule=None) for name, b in beliefs.items()})


def _value(document: Mapping[str, Any], name: str) -> Any:
    value = document.get(name)
    return DEFAULTS.get(name) if value is None else value


def _written(base: JobObservation, action: JobAction, response: JobResponse) -> JobObservation:
    operation = action.operation
    etag = response.etag or base.etag
    old = base.old_etags | {base.etag} if base.etag and base.etag != etag else base.old_etags
    beliefs = dict(base.beliefs)
    possible = base.possible
    self_ending = base.self_ending
    body = action.body if isinstance(action.body, Mapping) else {}
    if operation == "update":
        beliefs = {name: replace(b, rule="job-patch-merges", step=action.step) for name, b in beliefs.items()}
        for name in (*UPDATABLE, "poolInfo"):
            if name in body and body[name] is not None:
                beliefs[name] = Belief(_given(name, body[name], full=False), "job-patch-merges", action.step)
        self_ending = self_ending or _self_ending(body)
    elif operation == "replace":
        beliefs = {name: replace(b, rule="job-put-replaces", step=action.step) for name, b in beliefs.items()}
        for name in (*UPDATABLE, "poolInfo"):
            if name in body and body[name] is not None:
                beliefs[name] = Belief(_given(name, body[name], full=True), "job-put-replaces", action.step)
            elif name in action.resets:
                beliefs[name] = Belief(DEFAULTS[name], "job-put-replaces", action.step)
        self_ending = self_ending or _self_ending(body)
    else:
        possible = _after_success(base.possible, operation)
    possible = closure(possible, self_ending=self_ending, external=base.external)
    return replace(
        base,
        possible=possible,
        etag=etag,
        old_etags=old,
        beliefs=MappingProxyType(beliefs),
        self_ending=self_ending,
        since_document=(*base.since_document, operation),
    )


def _given(name: str, value: Any, *, full: bool) -> Any:
    if name == "constraints":
        return _full_constraints(value) if full else MappingProxyType(dict(value) if isinstance(value, Mapping) else {})
    return value


def _maybe_written(base: JobObservation, action: JobAction, response: JobResponse) -> JobObservation:
    """A write without a usable answer: it may have happened, so nothing is promised either way."""
    possible = base.possible
    if action.operation in _EFFECTS:
        possible = possible | _after_success(possible, action.operation)
    possible = closure(possible, self_ending=True, external=base.external)
    return replace(base, possible=possible, beliefs=_seen(base.beliefs), self_ending=True,
                   since_document=(*base.since_document, action.operation))  # fmt: skip


def _refused(base: JobObservation, action: JobAction) -> JobObservation:
    """A refused write changes nothing: every property seen still holds (earlier promises stand)."""
    if action.operation not in ("update", "replace"):
        return base
    beliefs = {
        name: (b if b.rule else replace(b, rule="job-refused-write-changes-nothing", step=action.step))
        for name, b in base.beliefs.items()
    }
    return replace(base, beliefs=MappingProxyType(beliefs))


# -- the rules -------------------------------------------------------------------------------------


def _observed_state(response: JobResponse) -> str | None:
    if response.status == 404 and response.code == "JobNotFound":
        return GONE
    if response.ok and response.document is not None:
        state = response.document.get("state")
        return state if state in JOB_STATES else None
    return None


def _state_transition(previous, action, response, current) -> list[RuleViolation]:
    observed = _observed_state(response)
    if previous is None or observed is None or observed in previous.possible:
        return []
    return [
        _violation(
            "job-state-transition",
            action,
            f"the job is {observed}, but after step {previous.step} it could only be {_fmt(previous.possible)}: "
            "no documented transition (or request in between) leads there",
        )
    ]


def _precondition(rule: str, operation: str, accepted: frozenset[str], refused: frozenset[str], doc: str) -> Check:
    def check(previous, action, response, current) -> list[RuleViolation]:
        if action.operation != operation or previous is None or previous.possible & {"deleting", GONE}:
            return []
        if response.ok and previous.possible <= refused:
            return [_violation(rule, action, f"{operation} succeeded ({response.status}) on a job that was "
                                             f"{_fmt(previous.possible)}; {doc}")]  # fmt: skip
        if response.status == 409 and previous.possible <= accepted:
            return [_violation(rule, action, f"{operation} was refused (409 {response.code}) although the job was "
                                             f"{_fmt(previous.possible)}; {doc}")]  # fmt: skip
        return []

    return check


def _deleting_refuses(previous, action, response, current) -> list[RuleViolation]:
    if action.operation not in CHANGES or previous is None:
        return []
    if "deleting" not in previous.possible or not previous.possible <= {"deleting", GONE}:
        return []
    if response.ok and (action.operation != "add_tasks" or response.added):
        return [
            _violation("job-deleting-refuses-changes", action, f"{action.operation} succeeded on a job being deleted")
        ]
    if response.status == 409 and response.code != "JobBeingDeleted":
        return [_violation("job-deleting-refuses-changes", action,
                           f"a job being deleted refused {action.operation} with {response.code}, not JobBeingDeleted")]  # fmt: skip
    return []


def _completed_refuses(previous, action, response, current) -> list[RuleViolation]:
    if action.operation not in ("update", "replace") or previous is None or previous.possible != {"completed"}:
        return []
    if response.ok:
        return [_violation("job-completed-refuses-changes", action,
                           f"{action.operation} succeeded on a completed job, which takes no further changes")]  # fmt: skip
    return []


def _ended_refuses_tasks(previous, action, response, current) -> list[RuleViolation]:
    if action.operation not in ("add_task", "add_tasks") or previous is None:
        return []
    if not previous.possible <= {"terminating", "completed"}:
        return []
    if response.ok and response.added:
        return [_violation("job-ended-refuses-tasks", action,
                           f"{response.added} task(s) added to a job that was {_fmt(previous.possible)}")]  # fmt: skip
    return []


def _belief_rule(rule: str) -> Check:
    """The properties promised under `rule` (by a create, PATCH, PUT or a refused write) hold in the next document."""

    def check(previous, action, response, current) -> list[RuleViolation]:
        if previous is None or not response.ok or response.document is None:
            return []
        document = response.document
        found = []
        for name, belief in previous.beliefs.items():
            if belief.rule != rule or (action.selected and name not in document):
                continue
            problem = _differs(name, belief.value, document)
            if problem:
                found.append(_violation(rule, action, f"{problem} (promised by step {belief.step})"))
        return found

    return check


def _differs(name: str, expected: Any, document: Mapping[str, Any]) -> str | None:
    actual = document.get(name)
    if name == "constraints":
        actual = actual if isinstance(actual, Mapping) else {}
        expected = expected if isinstance(expected, Mapping) else {}
        for key, want in expected.items():
            have = actual.get(key)
            if key == "maxWallClockTime":
                a, b = duration_seconds(want), duration_seconds(have)
                same = (_unlimited(a) and _unlimited(b)) or (a is not None and b is not None and abs(a - b) < 1e-3)
            else:
                same = (have if have is not None else DEFAULTS["constraints"].get(key)) == want
            if not same:
                return f"constraints.{key} is {have!r}, expected {want!r}"
        return None
    if name == "poolInfo":
        want = (expected or {}).get("poolId") if isinstance(expected, Mapping) else None
        have = (actual or {}).get("poolId") if isinstance(actual, Mapping) else None
        return None if want is None or want == have else f"poolInfo.poolId is {have!r}, expected {want!r}"
    if name == "metadata":
        have, want = _pairs(actual), _pairs(expected)
        return None if have == want else f"metadata is {have!r}, expected {want!r}"
    have = DEFAULTS.get(name) if actual is None else actual
    return None if have == expected else f"{name} is {have!r}, expected {expected!r}"


def _pairs(value: Any) -> list[Any]:
    """Metadata as comparable (name, value) pairs; anything malformed compares as itself."""
    if not value:
        return []
    if not isinstance(value, (list, tuple)):
        return [value]
    return [(m.get("name"), m.get("value")) if isinstance(m, Mapping) else m for m in value]


def _etag_changes(previous, action, response, current) -> list[RuleViolation]:
    if action.operation not in ("update", "replace") or not response.ok or previous is None:
        return []
    if response.etag and previous.etag and response.etag == previous.etag:
        return [_violation("job-etag-changes-on-update", action,
                           f"the {action.operation} answered the ETag the job had before ({response.etag})")]  # fmt: skip
    return []


def _etag_identifies(previous, action, response, current) -> list[RuleViolation]:
    document = response.document
    if document is None or not response.ok:
        return []
    found = []
    body_etag = document.get("eTag")
    if action.operation == "get" and response.etag and body_etag and response.etag != body_etag:
        found.append(_violation("job-etag-identifies-version", action,
                                f"the ETag header {response.etag} differs from the document's eTag {body_etag}"))  # fmt: skip
    before = previous.document if previous is not None else None
    if before is not None and body_etag and before.get("eTag") == body_etag:
        changed = [name for name in VERSIONED if name in document and name in before and document[name] != before[name]]
        if changed:
            found.append(_violation("job-etag-identifies-version", action,
                                    f"eTag {body_etag} unchanged while {', '.join(changed)} changed"))  # fmt: skip
    return found


def _if_match(previous, action, response, current) -> list[RuleViolation]:
    tag = (action.if_match or "").strip().strip('"')
    if action.operation not in WRITES or not tag or tag == "*" or previous is None or response.unknown:
        return []
    if tag != previous.etag and tag in previous.old_etags and response.status != 412 and response.status != 404:
        return [_violation("job-if-match", action,
                           f"If-Match named an earlier ETag ({tag}, now {previous.etag}) and got {response.status}, "
                           "not 412")]  # fmt: skip
    if tag == previous.etag and response.status == 412 and previous.settled:
        return [_violation("job-if-match", action, f"If-Match named the current ETag {tag} and got 412")]
    return []


def _tasks_leave_job(previous, action, response, current) -> list[RuleViolation]:
    document = response.document
    if document is None or not response.ok or previous is None or action.selected:
        return []
    changes = previous.since_document
    if not changes or not set(changes) <= TASK_WRITES:
        return []
    before = previous.document
    if before is None:  # known from a create answer only: its ETag, on a job nothing else can move
        unmoved = document.get("eTag") in (None, previous.etag) or document.get("state") not in previous.possible
        if previous.settled and previous.etag and not unmoved:
            return [_violation("job-tasks-leave-job-unchanged", action,
                               f"only tasks changed since step {previous.step}, yet the job's eTag moved "
                               f"from {previous.etag} to {document.get('eTag')}")]  # fmt: skip
        return []
    if document.get("state") != before.get("state") or document.get("stateTransitionTime") != before.get(
        "stateTransitionTime"
    ):
        return []
    moved = [name for name in ("eTag", "lastModified") if document.get(name) != before.get(name)]
    if moved:
        return [_violation("job-tasks-leave-job-unchanged", action,
                           f"only tasks changed since step {previous.step}, yet the job's {' and '.join(moved)} moved")]  # fmt: skip
    return []


def _task_counts(previous, action, response, current) -> list[RuleViolation]:
    if action.operation != "task_counts" or not response.ok or not isinstance(response.body, Mapping):
        return []
    counts = response.body.get("taskCounts", response.body)
    if not isinstance(counts, Mapping):
        return []
    numbers = {k: counts.get(k) for k in ("active", "running", "completed", "succeeded", "failed")}
    if not all(isinstance(v, int) for v in numbers.values()):
        return []
    found = []
    if any(v < 0 for v in numbers.values()) or numbers["succeeded"] + numbers["failed"] != numbers["completed"]:
        found.append(_violation("job-task-counts", action, f"counts do not add up: {numbers}"))
    total = numbers["active"] + numbers["running"] + numbers["completed"]
    if previous is not None and previous.tasks is not None and total != previous.tasks:
        found.append(_violation("job-task-counts", action,
                                f"{total} tasks counted, {previous.tasks} were added (and not deleted)"))  # fmt: skip
    return found


def _preparation_status(previous, action, response, current) -> list[RuleViolation]:
    if action.operation != "preparation_status" or previous is None or previous.preparation is None:
        return []
    if response.status == 404 or response.unknown:
        return []
    missing = response.status == 409 and response.code == "JobPreparationTaskNotSpecified"
    if previous.preparation and missing:
        return [
            _violation("job-prep-release-status", action, "409 JobPreparationTaskNotSpecified for a job that has one")
        ]
    if not previous.preparation and not missing:
        return [_violation("job-prep-release-status", action,
                           f"a job without a preparation task answered {response.status} {response.code or ''}, "
                           "not 409 JobPreparationTaskNotSpecified".replace("  ", " "))]  # fmt: skip
    return []


def _times(previous, action, response, current) -> list[RuleViolation]:
    document = response.document
    if document is None or not response.ok or action.selected:
        return []
    created, changed = parse_time(document.get("creationTime")), parse_time(document.get("lastModified"))
    entered, before = (
        parse_time(document.get("stateTransitionTime")),
        parse_time(document.get("previousStateTransitionTime")),
    )
    problems = []
    if created and entered and entered < created:
        problems.append("stateTransitionTime is before creationTime")
    if entered and changed and changed < entered:
        problems.append("lastModified is before stateTransitionTime (a state change is a job-level change)")
    if before and entered and before > entered:
        problems.append("previousStateTransitionTime is after stateTransitionTime")
    if before and created and before < created:
        problems.append("previousStateTransitionTime is before creationTime")
    old = previous.document if previous is not None else None
    if old is not None and not _recreated(old, document):
        if parse_time(old.get("lastModified")) and changed and changed < parse_time(old.get("lastModified")):
            problems.append(f"lastModified went back from {old.get('lastModified')} to {document.get('lastModified')}")
        old_entered = parse_time(old.get("stateTransitionTime"))
        if old_entered and entered and entered < old_entered:
            problems.append("stateTransitionTime went back")
        left = parse_time(document.get("previousStateTransitionTime"))
        if old.get("state") != document.get("state") and old_entered and left and left < old_entered:
            problems.append("the state changed, yet the state it left was entered before the state seen earlier")
    return [_violation("job-times", action, problem) for problem in problems]


def _recreated(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return old.get("creationTime") != new.get("creationTime")


def _previous_state(previous, action, response, current) -> list[RuleViolation]:
    document = response.document
    if document is None or not response.ok or action.selected:
        return []
    state, prior = document.get("state"), document.get("previousState")
    problems = []
    if (prior is None) != (document.get("previousStateTransitionTime") is None):
        problems.append("previousState and previousStateTransitionTime are not set together")
    if prior is not None and prior == state:
        problems.append(f"previousState equals state ({state})")
    if prior is None and state not in (None, "active"):
        problems.append(f"previousState is missing although the job left its initial state (now {state})")
    old = previous.document if previous is not None else None
    if old is not None and not _recreated(old, document):
        if old.get("previousState") is not None and prior is None:
            problems.append("previousState disappeared: the job cannot return to its initial state")
        if (
            old.get("stateTransitionTime") == document.get("stateTransitionTime")
            and old.get("state") == state
            and (old.get("previousState") != prior)
        ):
            problems.append("previousState changed while the state and its transition time did not")
    return [_violation("job-previous-state", action, problem) for problem in problems]


def _end_info(previous, action, response, current) -> list[RuleViolation]:
    document = response.document
    if document is None or not response.ok or action.selected:
        return []
    info = document.get("executionInfo") if isinstance(document.get("executionInfo"), Mapping) else {}
    state = document.get("state")
    # a completed job that is being deleted still carries its completion record
    problems = [f"executionInfo.{name} is set while the job is {state}" for name in ("endTime", "terminateReason")
                if info.get(name) is not None and state not in ("completed", "deleting")]  # fmt: skip
    if state == "completed" and info.get("endTime") is None:
        problems.append("a completed job has no executionInfo.endTime")
    return [_violation("job-end-info", action, problem) for problem in problems]


def _id_unique(previous, action, response, current) -> list[RuleViolation]:
    if action.operation != "create" or previous is None:
        return []
    if response.ok and GONE not in previous.possible:
        return [_violation("job-id-unique", action,
                           f"a job with this id (ids are case-insensitive) existed ({_fmt(previous.possible)}), "
                           f"yet create answered {response.status}")]  # fmt: skip
    if response.code == "JobExists" and previous.possible == {GONE}:
        return [_violation("job-id-unique", action, "409 JobExists for an id whose job was gone")]
    return []


def _auto_termination_sticky(previous, action, response, current) -> list[RuleViolation]:
    if action.operation not in ("update", "replace") or not response.ok or previous is None:
        return []
    belief = previous.beliefs.get("onAllTasksComplete")
    if belief is None or belief.value != "terminatejob":
        return []
    body = action.body if isinstance(action.body, Mapping) else {}
    given = body.get("onAllTasksComplete")
    if given == "noaction" or (
        action.operation == "replace" and given is None and "onAllTasksComplete" in action.resets
    ):
        return [_violation("job-auto-termination-sticky", action,
                           "onAllTasksComplete went from terminatejob back to noaction and the request succeeded")]  # fmt: skip
    return []


def _pool_change(previous, action, response, current) -> list[RuleViolation]:
    if action.operation not in ("update", "replace") or not response.ok or previous is None:
        return []
    body = action.body if isinstance(action.body, Mapping) else {}
    wanted = (body.get("poolInfo") or {}).get("poolId") if isinstance(body.get("poolInfo"), Mapping) else None
    known = previous.beliefs.get("poolInfo")
    current_pool = (known.value or {}).get("poolId") if known is not None and isinstance(known.value, Mapping) else None
    if wanted is None or current_pool is None or wanted == current_pool or "disabled" in previous.possible:
        return []
    return [_violation("job-pool-change-needs-disabled", action,
                       f"the pool changed from {current_pool!r} to {wanted!r} while the job was "
                       f"{_fmt(previous.possible)}, not disabled")]  # fmt: skip


RULES: tuple[Rule, ...] = (
    Rule("job-state-transition", "an observed state (or 404) is reachable from the last knowledge through documented "
         "transitions: settling, automatic termination, or the requests made in between", _state_transition),
    Rule("job-disable-precondition", "disable is accepted from active, disabling or disabled and refused (409) otherwise",
         _precondition("job-disable-precondition", "disable", frozenset(("active", "disabling", "disabled")),
                       frozenset(("enabling", "terminating", "completed")),
                       "disable is documented for active, disabling or disabled jobs only")),
    Rule("job-enable-precondition", "enable moves a disabled job to enabling; a completed job refuses it",
         _precondition("job-enable-precondition", "enable", frozenset(("disabled",)), frozenset(("completed",)),
                       "enable is documented for disabled jobs; a completed job takes no changes")),
    Rule("job-terminate-precondition", "terminate is accepted for an active or disabled job; a completed job refuses it",
         _precondition("job-terminate-precondition", "terminate", frozenset(("active", "disabled")),
                       frozenset(("completed",)), "a completed job takes no further changes")),
    Rule("job-deleting-refuses-changes", "every change to a job being deleted fails with 409 JobBeingDeleted",
         _deleting_refuses),
    Rule("job-completed-refuses-changes", "a completed job accepts no PATCH or PUT", _completed_refuses),
    Rule("job-ended-refuses-tasks", "no task can be added to a terminating or completed job", _ended_refuses_tasks),
    Rule("job-create-properties", "a new job shows the properties it was created with and the documented defaults "
         "for the rest", _belief_rule("job-create-properties")),
    Rule("job-patch-merges", "PATCH changes only the properties it names; the others keep their values",
         _belief_rule("job-patch-merges")),
    Rule("job-put-replaces", "PUT sets what it names and returns the updatable properties it leaves out to their "
         "defaults", _belief_rule("job-put-replaces")),
    Rule("job-refused-write-changes-nothing", "a refused PATCH or PUT leaves every property as it was",
         _belief_rule("job-refused-write-changes-nothing")),
    Rule("job-etag-changes-on-update", "a successful PATCH or PUT answers a new ETag", _etag_changes),
    Rule("job-etag-identifies-version", "one ETag, one version: equal ETags carry equal job-level data, and a GET's "
         "ETag header is the document's eTag", _etag_identifies),
    Rule("job-if-match", "a write whose If-Match names an earlier ETag fails with 412; one naming the current ETag "
         "of a settled job does not", _if_match),
    Rule("job-tasks-leave-job-unchanged", "adding or deleting tasks changes neither the job's ETag nor its "
         "lastModified", _tasks_leave_job),
    Rule("job-task-counts", "task counts add up (succeeded + failed = completed) and total the tasks added",
         _task_counts),
    Rule("job-prep-release-status", "preparation/release status is listed only for a job with a preparation task, "
         "otherwise 409 JobPreparationTaskNotSpecified", _preparation_status),
    Rule("job-times", "creationTime <= stateTransitionTime <= lastModified, previousStateTransitionTime in between; "
         "times never go back", _times),
    Rule("job-previous-state", "previousState is absent only in the initial active state, differs from state and "
         "moves only with stateTransitionTime", _previous_state),
    Rule("job-end-info", "executionInfo.endTime and terminateReason are set only when completed (or being deleted "
         "after completing), and endTime always when completed",
         _end_info),
    Rule("job-id-unique", "creating an id that exists (case-insensitively) fails with 409 JobExists", _id_unique),
    Rule("job-auto-termination-sticky", "onAllTasksComplete cannot go from terminatejob back to noaction",
         _auto_termination_sticky),
    Rule("job-pool-change-needs-disabled", "a job's pool can be changed only while the job is disabled", _pool_change),
)  # fmt: skip
RULE_IDS = tuple(rule.id for rule in RULES)


def check(
    previous: JobObservation | None,
    action: JobAction,
    response: JobResponse,
    current: JobObservation,
    *,
    rules: Iterable[Rule] = RULES,
) -> list[RuleViolation]:
    """Every violation of `rules` that this step shows."""
    return [violation for rule in rules for violation in rule.check(previous, action, response, current)]


# -- from interactions to actions ---------------------------------------------------------------------


class Classifier:
    """Interactions → (JobAction, JobResponse) pairs. Holds the validator and per-version route tables."""

    def __init__(self, validator: Any = None) -> None:
        from .emulator.routing import CANONICAL_VERSION, routes_for  # a pure table: no server is started
        from .validation import Validator

        self.validator = validator if validator is not None else Validator()
        self._canonical_version = CANONICAL_VERSION
        self._routes_for = routes_for
        self._routes: dict[str, Mapping[str, Any]] = {}
        self._resets: dict[str, frozenset[str]] = {}

    def canonical(self, api_version: str, operation_id: str) -> str:
        table = self._routes.get(api_version)
        if table is None:
            library = self.validator.library
            table = self._routes_for(library.get(api_version), library.get(self._canonical_version))
            self._routes[api_version] = table
        route = table.get(operation_id)
        return route.operation_id if route is not None else operation_id

    def resets(self, api_version: str, operation_id: str) -> frozenset[str]:
        """The resettable properties the version's PUT body knows (older versions know fewer)."""
        key = f"{api_version} {operation_id}"
        found = self._resets.get(key)
        if found is None:
            spec = self.validator.library.get(api_version)
            body = spec.operations[operation_id].body
            schema = body.schema if body is not None else {}
            ref = schema.get("$ref", "") if isinstance(schema, Mapping) else ""
            definition = spec.definitions.get(ref.rsplit("/", 1)[-1], {}) if ref else schema
            names = set((definition or {}).get("properties", {}))
            found = self._resets[key] = frozenset(name for name in RESETTABLE if name in names)
        return found

    def events(self, interaction: Interaction, step: int) -> list[tuple[JobAction, JobResponse]]:
        """The job events in one interaction (a list answer holds one per job); [] for anything else."""
        outcome = self.validator.check(interaction)
        if not outcome.operation_id or not outcome.api_version or not interaction.has_response:
            return []
        canonical = self.canonical(outcome.api_version, outcome.operation_id)
        verb = VERBS.get(canonical)
        if verb is None:
            return []
        parts = urlsplit(interaction.url)
        query = parts.query.lower()
        request_body = _json(interaction.request_body)
        response_body = _json(interaction.response_body)
        code = _error_code(response_body) if interaction.status and interaction.status >= 400 else None
        etag = interaction.response_headers.get("ETag")
        common = {
            "step": step,
            "operation": verb,
            "operation_id": outcome.operation_id,
            "api_version": outcome.api_version,
            "body": request_body,
            "if_match": interaction.request_headers.get("If-Match"),
            "selected": "%24select=" in query or "$select=" in query,
            "source": interaction.source,
        }
        if verb == "replace":
            common["resets"] = self.resets(outcome.api_version, outcome.operation_id)
        if verb == "list":
            items = response_body.get("value") if isinstance(response_body, Mapping) else None
            if not isinstance(items, list):  # a malformed answer: no job events, not a crash
                items = ()
            return [
                (JobAction(job_id=str(doc["id"]), **common), JobResponse(interaction.status, None, None, doc))
                for doc in items
                if isinstance(doc, Mapping) and isinstance(doc.get("id"), str)
            ]
        if verb == "create":
            job_id = request_body.get("id") if isinstance(request_body, Mapping) else None
        else:
            segments = parts.path.split("/")
            job_id = unquote(segments[2]) if len(segments) > 2 and segments[1].lower() == "jobs" else None
        if not isinstance(job_id, str) or not job_id:
            return []
        document = (
            response_body
            if verb == "get" and isinstance(response_body, Mapping) and interaction.status == 200
            else None
        )
        other = None if document is not None else response_body
        return [(JobAction(job_id=job_id, **common), JobResponse(interaction.status, code, etag, document, other))]


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None


def _error_code(body: Any) -> str | None:
    if isinstance(body, Mapping):
        code = body.get("code")
        if isinstance(code, str):
            return code
        inner = body.get("odata.error")
        if isinstance(inner, Mapping) and isinstance(inner.get("code"), str):
            return inner["code"]
    return None


# -- sequences ------------------------------------------------------------------------------------------

Ledger = Mapping[str, JobObservation]  # lower-cased job id → what is known (ids are case-insensitive)


def advance(
    ledger: Ledger,
    interaction: Interaction,
    step: int,
    classifier: Classifier,
    *,
    rules: Iterable[Rule] = RULES,
) -> tuple[Ledger, list[RuleViolation]]:
    """Fold one interaction into the ledger; returns the new ledger and what the step broke (pure but for
    the classifier's caches)."""
    rules = tuple(rules)
    found: list[RuleViolation] = []
    updated = dict(ledger)
    for action, response in classifier.events(interaction, step):
        key = action.job_id.lower()
        previous = updated.get(key)
        current = observe(previous, action, response)
        found.extend(check(previous, action, response, current, rules=rules))
        updated[key] = current
    return MappingProxyType(updated), found


def check_sequence(
    interactions: Iterable[Any],
    *,
    classifier: Classifier | None = None,
    rules: Iterable[Rule] = RULES,
) -> list[RuleViolation]:
    """Every documented-rule violation in a recorded sequence, in order (non-job traffic and unreadable
    entries — `RecordingError`s from `read_recording` — are skipped)."""
    classifier = classifier if classifier is not None else Classifier()
    rules = tuple(rules)
    ledger: Ledger = MappingProxyType({})
    found: list[RuleViolation] = []
    for step, interaction in enumerate(interactions):
        if not isinstance(interaction, Interaction):
            continue
        ledger, broken = advance(ledger, interaction, step, classifier, rules=rules)
        found.extend(broken)
    return found


def select_rules(skip: Iterable[str] = ()) -> tuple[Rule, ...]:
    """`RULES` without the ids in `skip`; an unknown id raises ValueError naming the known ones."""
    skip = frozenset(skip)
    unknown = skip - set(RULE_IDS)
    if unknown:
        raise ValueError(f"unknown job rule id(s) {sorted(unknown)}; known: {', '.join(RULE_IDS)}")
    return tuple(rule for rule in RULES if rule.id not in skip)
