"""The documented Job rules, checked two ways: a Hypothesis state machine driving the emulator, and the
sequence checker over recorded cassettes. Each side is shown to catch a broken rule, not only to stay quiet.

The "broken" emulators swap one handler in the running service's handler table (`Service.handlers`, the
table `Service(handlers=...)` takes) for a copy with a realistic bug: disable accepted on a completed job, or
a PATCH that keeps the old ETag. Everything else is the real emulator over real HTTP.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from pytest_batch.emulator.handlers import HANDLERS
from pytest_batch.emulator.handlers.common import entity_reply
from pytest_batch.emulator.state import check_conditions
from pytest_batch.interaction import Headers, Interaction
from pytest_batch.job_rules import (
    ANY_STATE,
    GONE,
    JOB_STATES,
    RULE_IDS,
    RULES,
    Classifier,
    check_sequence,
    closure,
    duration_seconds,
    parse_time,
    select_rules,
)
from pytest_batch.readers import read_recording
from pytest_batch.stateful import SEED_JOBS, JobRulesBroken, emulator_target, job_lifecycle_machine

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes" / "test_azure_batch_sdk"
REFERENCE = sorted(CASSETTES.glob("*.yaml"))
VERBS_DRIVEN = {"create", "get", "update", "replace", "disable", "enable", "terminate", "delete", "task_counts",
                "preparation_status"}  # fmt: skip
CLEAN = settings(max_examples=30, stateful_step_count=15, deadline=None)
# a broken rule must be found, not minimised: no shrinking, a fixed seed so the search is the same every run
HUNT = settings(
    max_examples=300,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier()


# -- broken emulators ---------------------------------------------------------------------------------


def _disable_ignoring_completed(state, call):
    """The bug: a completed job accepts disable (202) instead of 409 (If-Match is still honoured)."""
    record = state.jobs.get(call.path["jobId"])
    check_conditions(call, record, write=True)
    if record.data["state"] == "completed":
        return entity_reply(record, 202)
    return HANDLERS["Jobs_DisableJob"](state, call)


def _update_keeping_etag(state, call):
    """The bug: PATCH changes the job but hands back (and keeps) the ETag it had before."""
    record = state.jobs.get(call.path["jobId"])
    before = record.etag
    reply = HANDLERS["Jobs_UpdateJob"](state, call)
    record.etag = record.data["eTag"] = before
    return entity_reply(record, reply.status)


def _broken(operation_id: str, handler: Callable) -> Callable:
    def factory():
        target = emulator_target()
        target.emulator.service.handlers = {**HANDLERS, operation_id: handler}
        return target

    return factory


class _Recording:
    """A target factory that keeps every exchange, so a clean run can prove what it exercised."""

    def __init__(self) -> None:
        self.exchanges: list[Interaction] = []

    def __call__(self):
        target = emulator_target()
        send = target.send

        def recorded(*args, **kwargs):
            interaction = send(*args, **kwargs)
            self.exchanges.append(interaction)
            return interaction

        target.send = recorded
        return target


# -- the state machine ----------------------------------------------------------------------------------


def _run_clean(classifier, run_settings) -> tuple[Counter, set]:
    """Run the machine on a healthy emulator (it raises on any violation); returns the verbs it drove and the
    states it saw, after replaying its exchanges through the sequence checker, which must agree."""
    recording = _Recording()
    run_state_machine_as_test(job_lifecycle_machine(recording), settings=run_settings)
    events = [event for step, i in enumerate(recording.exchanges) for event in classifier.events(i, step)]
    assert check_sequence(recording.exchanges, classifier=classifier) == []
    verbs = Counter(action.operation for action, _ in events)
    return verbs, {response.document.get("state") for _, response in events if response.document}


def test_machine_finds_no_violation_on_the_emulator(classifier):
    """A fresh random search every run (Hypothesis' default): new sequences, same rules."""
    verbs, states = _run_clean(classifier, CLEAN)
    assert sum(verbs.values()) >= 100 and len(VERBS_DRIVEN & set(verbs)) >= 6, verbs  # a real workout
    assert "active" in states


def test_machine_drives_the_whole_lifecycle(classifier):
    """The same on a fixed seed, which is known to reach every operation and the settled end states."""
    verbs, states = _run_clean(classifier, settings(CLEAN, derandomize=True, database=None))
    assert VERBS_DRIVEN <= set(verbs), f"the run never drove {VERBS_DRIVEN - set(verbs)}"
    assert verbs["add_task"] + verbs["add_tasks"] > 0
    assert {"active", "disabled", "completed", "deleting"} <= states, states


def test_machine_catches_disable_accepted_on_a_completed_job():
    machine = job_lifecycle_machine(_broken("Jobs_DisableJob", _disable_ignoring_completed))
    with pytest.raises(JobRulesBroken) as caught:
        run_state_machine_as_test(machine, settings=HUNT)
    assert caught.value.rules == ("job-disable-precondition",), str(caught.value)
    violation = caught.value.violations[0]
    assert violation.operation_id == "Jobs_DisableJob" and "completed" in violation.message


def test_machine_catches_a_stale_etag_after_patch():
    machine = job_lifecycle_machine(_broken("Jobs_UpdateJob", _update_keeping_etag))
    with pytest.raises(JobRulesBroken) as caught:
        run_state_machine_as_test(machine, settings=HUNT)
    assert caught.value.rules[0] == "job-etag-changes-on-update", str(caught.value)
    assert caught.value.violations[0].operation_id == "Jobs_UpdateJob"


def _drive(factory, *steps):
    """Run named machine rules in order (an explicit example); returns the machine after its invariant."""
    machine = job_lifecycle_machine(factory)()
    try:
        job = machine.add(seed=json.loads(json.dumps(dict(SEED_JOBS[0]))))
        for name, kwargs in steps:
            getattr(machine, name)(job=job, **kwargs)
        machine.documented_rules_hold()
        return machine
    finally:
        machine.teardown()


def test_pinned_completed_job_being_deleted_keeps_its_end_time():
    """Found by the machine: a completed job that is being deleted still shows executionInfo.endTime and
    terminateReason. That is the completion record, not a broken rule (job-end-info allows it)."""
    machine = _drive(
        emulator_target,
        ("terminate", {"reason": "done", "settle": True}),
        ("delete", {"settle": False, "condition": "none"}),
    )
    last = json.loads(machine.history[-1].response_body)
    assert last["state"] == "deleting" and last["executionInfo"]["terminateReason"] == "done"


def test_pinned_disable_after_completion_on_healthy_and_broken_emulators():
    steps = (("terminate", {"reason": None, "settle": True}),
             ("disable", {"option": "requeue", "settle": False, "condition": "none"}))  # fmt: skip
    healthy = _drive(emulator_target, *steps)
    assert healthy.history[-2].status == 409
    with pytest.raises(JobRulesBroken) as caught:
        _drive(_broken("Jobs_DisableJob", _disable_ignoring_completed), *steps)
    assert caught.value.rules == ("job-disable-precondition",)


def test_pinned_stale_if_match_is_refused():
    machine = _drive(
        emulator_target,
        ("patch", {"changes": {"priority": 5}, "condition": "current"}),
        ("patch", {"changes": {"priority": 6}, "condition": "earlier"}),
    )
    assert [i.status for i in machine.history if i.method == "PATCH"] == [200, 412]


def test_machine_rejects_bad_seeds_and_rule_ids():
    with pytest.raises(ValueError, match="seed job 0: give a job document with poolInfo"):
        job_lifecycle_machine(emulator_target, seeds=[{"id": "x", "poolInfo": {"poolId": "p"}}])
    with pytest.raises(ValueError, match="unknown job rule id"):
        job_lifecycle_machine(emulator_target, skip_rules=["job-no-such-rule"])


# -- the sequence checker over cassettes ----------------------------------------------------------------


@pytest.mark.parametrize("cassette", REFERENCE, ids=lambda p: p.stem)
def test_reference_cassettes_keep_every_job_rule(cassette, classifier):
    assert check_sequence(read_recording(cassette), classifier=classifier) == []


def test_the_jobs_cassette_is_read_as_a_job_lifecycle(classifier):
    interactions = list(read_recording(CASSETTES / "test_jobs.yaml"))
    verbs = [action.operation for step, i in enumerate(interactions) for action, _ in classifier.events(i, step)]
    assert {"create", "update", "replace", "disable", "enable", "terminate", "delete", "task_counts"} <= set(verbs)


def _body(interaction: dict) -> dict:
    return json.loads(interaction["response"]["body"]["string"])


def _set_body(interaction: dict, document: dict) -> None:
    interaction["response"]["body"]["string"] = json.dumps(document)


def _etag_kept_after_patch(items):
    items[4]["response"]["headers"]["ETag"] = items[1]["response"]["headers"]["ETag"]


def _completed_back_to_active(items):
    _set_body(items[16], {**_body(items[16]), "state": "active"})


def _patch_not_applied(items):
    _set_body(items[5], {**_body(items[5]), "priority": 0})


def _put_kept_a_property(items):
    _set_body(items[7], {**_body(items[7]), "maxParallelTasks": 4})


def _disable_accepted_when_completed(items):
    items[17]["request"]["method"] = "POST"
    items[17]["request"]["uri"] = items[17]["request"]["uri"].replace("/ref-job?", "/ref-job/disable?")


def _task_counted_twice(items):
    counts = _body(items[14])
    counts["taskCounts"]["completed"] += 1
    counts["taskCounts"]["succeeded"] += 1
    _set_body(items[14], counts)


def _preparation_status_refused(items):
    items[13]["response"]["status"] = {"code": 409, "message": "Conflict"}
    _set_body(items[13], {"code": "JobPreparationTaskNotSpecified", "message": {"lang": "en-US", "value": "x"}})


EDITS = [
    ("test_jobs", _etag_kept_after_patch, "job-etag-changes-on-update", {4}),
    ("test_jobs", _completed_back_to_active, "job-state-transition", {16}),
    ("test_jobs", _patch_not_applied, "job-patch-merges", {5}),
    ("test_jobs", _put_kept_a_property, "job-put-replaces", {7}),
    ("test_jobs", _disable_accepted_when_completed, "job-disable-precondition", {17, 18}),
    ("test_tasks", _task_counted_twice, "job-task-counts", {14}),
    ("test_tasks", _preparation_status_refused, "job-prep-release-status", {13}),
]


@pytest.mark.parametrize(("stem", "edit", "rule", "steps"), EDITS, ids=[e[1].__name__.strip("_") for e in EDITS])
def test_sequence_checker_finds_an_edited_cassette(tmp_path, classifier, stem, edit, rule, steps):
    document = yaml.safe_load((CASSETTES / f"{stem}.yaml").read_text(encoding="utf-8"))
    edited = copy.deepcopy(document)
    edit(edited["interactions"])
    assert edited != document
    path = tmp_path / f"{stem}-edited.yaml"
    path.write_text(yaml.safe_dump(edited), encoding="utf-8")
    found = check_sequence(read_recording(path), classifier=classifier)
    assert rule in {v.rule for v in found if v.step == min(steps)}, [v.describe() for v in found]
    assert {v.step for v in found} <= steps, [v.describe() for v in found]
    assert all(v.source is not None and v.source.file == str(path) for v in found)


# -- real traffic ---------------------------------------------------------------------------------------


def test_real_traffic_job_sequences(real_traffic_dir, classifier):
    """The real service's job sequences (create, add tasks, get, patch, delete; 2017-2022) keep every rule
    those operations can show. A finding here is about the service or the docs: report it, do not bend the rule."""
    files = sorted(real_traffic_dir.rglob("*.yaml"))
    assert files
    verbs: Counter = Counter()
    findings = []
    for path in files:
        interactions = list(read_recording(path))
        for step, interaction in enumerate(interactions):
            if isinstance(interaction, Interaction):
                verbs.update(action.operation for action, _ in classifier.events(interaction, step))
        findings += check_sequence(interactions, classifier=classifier)
    assert verbs["create"] >= 40 and verbs["get"] >= 40 and verbs["update"] >= 8, verbs
    assert findings == [], "\n".join(v.describe() for v in findings)


def test_real_traffic_edited_is_caught(real_traffic_dir, classifier):
    """The real sequences do reach the rules: make the service move a job's ETag when only tasks were added
    (create, add task collection, get) and the checker names it."""
    path = next(iter(sorted(real_traffic_dir.rglob("*2022-01-01.15.0/*.yaml"))), None)
    if path is None:
        pytest.skip(f"no 2022-01-01.15.0 recording under {real_traffic_dir}")
    interactions = [i for i in read_recording(path) if isinstance(i, Interaction)]
    kinds = [[a.operation for a, _ in classifier.events(i, n)] for n, i in enumerate(interactions)]
    index = next(n for n in range(2, len(kinds)) if kinds[n] == ["get"] and kinds[n - 1] == ["add_tasks"])
    target = interactions[index]
    document = json.loads(target.response_body)
    moved = "0x8D0000000000BAD"
    edited = replace(
        target,
        response_body=json.dumps({**document, "eTag": moved}).encode(),
        response_headers=Headers.of([(k, moved if k.lower() == "etag" else v) for k, v in target.response_headers]),
    )
    assert check_sequence(interactions, classifier=classifier) == []
    found = check_sequence([*interactions[:index], edited, *interactions[index + 1 :]], classifier=classifier)
    assert [(v.rule, v.step) for v in found] == [("job-tasks-leave-job-unchanged", index)], found


# -- the rules as pure functions ------------------------------------------------------------------------


def test_rule_catalogue_is_well_formed():
    assert len(RULE_IDS) == len(set(RULE_IDS)) == len(RULES) >= 20
    assert all(rule.id.startswith("job-") and rule.summary for rule in RULES)
    assert {r.id for r in select_rules(["job-times"])} == set(RULE_IDS) - {"job-times"}


@given(st.sets(st.sampled_from(sorted(ANY_STATE))), st.booleans(), st.booleans())
def test_closure_follows_only_documented_transitions(states, self_ending, external):
    reached = closure(states, self_ending=self_ending, external=external)
    assert reached >= states and closure(reached, self_ending=self_ending, external=external) == reached
    assert closure({GONE}, self_ending=self_ending, external=external) == {GONE}
    if "active" not in states and "enabling" not in states:
        assert "active" not in reached  # nothing comes back to active on its own
    if not external:
        assert ("deleting" in reached) == bool(states & {"deleting"})


def test_completed_never_settles_back_to_a_live_state():
    for external in (False, True):
        assert closure({"completed"}, self_ending=True, external=external) <= {"completed", "deleting", GONE}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT1H", 3600.0), ("P1DT2H", 93600.0), ("PT0.5S", 0.5), ("P10675199DT2H48M5.4775807S", 922337203685.4775807),
     ("", None), ("1H", None), (None, None), ("P", None)],
)  # fmt: skip
def test_duration_seconds(text, seconds):
    assert duration_seconds(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_parse_time_reads_service_dates():
    moment = parse_time("2022-09-06T23:45:28.2185577Z")
    assert moment is not None and moment.microsecond == 218557 and moment.utcoffset().total_seconds() == 0
    assert parse_time("2025-01-01T01:00:00+01:00") == parse_time("2025-01-01T00:00:00Z")
    assert parse_time("yesterday") is None and parse_time(42) is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.sampled_from(JOB_STATES),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ("state", "eTag", "id", "priority", "constraints", "metadata", "taskCounts", "value", "code", "poolInfo",
         "lastModified", "creationTime", "stateTransitionTime", "previousState", "executionInfo", "status")), inner,
        max_size=6),
    max_leaves=12,
)  # fmt: skip
_REQUESTS = st.sampled_from(
    [("POST", "/jobs"), ("GET", "/jobs/j"), ("GET", "/jobs"), ("PATCH", "/jobs/j"), ("PUT", "/jobs/j"),
     ("DELETE", "/jobs/j"), ("POST", "/jobs/j/disable"), ("POST", "/jobs/j/enable"), ("POST", "/jobs/j/terminate"),
     ("GET", "/jobs/j/taskcounts"), ("GET", "/jobs/j/jobpreparationandreleasetaskstatus"), ("POST", "/jobs/j/tasks"),
     ("POST", "/jobs/j/addtaskcollection")]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_REQUESTS, _JSON, st.sampled_from((200, 201, 202, 404, 409, 412, 500)), _JSON,
                          st.sampled_from((None, "0x1", "0x2"))), max_size=8))  # fmt: skip
@example(exchanges=[(("GET", "/jobs"), None, 200, {"state": None, "value": True}, None)])  # found in CI: a list
# answer whose `value` is not a list crashed the classifier
def test_checker_never_crashes_on_arbitrary_job_traffic(classifier, exchanges):
    interactions = [
        Interaction(
            method,
            f"https://a.b.batch.azure.com{path}?api-version=2025-06-01",
            Headers.of({"If-Match": etag} if etag else {}),
            json.dumps(request).encode(),
            status,
            Headers.of({"ETag": etag} if etag else {}),
            json.dumps(response).encode(),
        )
        for (method, path), request, status, response, etag in exchanges
    ]
    found = check_sequence(interactions, classifier=classifier)
    assert all(v.rule in RULE_IDS and v.job_id for v in found)
