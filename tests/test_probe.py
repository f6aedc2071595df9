"""`pytest_batch.probe`: the constraint prober, against real emulators (no mocks).

* the whole 2025-06-01 and 2018-08-01.7.0 overlays probed against the emulator: every rule `enforced`
  (rules the schema already covers are broken together with it, and say so in their label);
* everything a probe creates is gone afterwards (jobs, pools, schedules, certificates);
* a recorded run replays with the emulator stopped, verdict for verdict, and a missing request is one line;
* a lenient service (validation switched off) and a stricter one (a rule the emulator does not share) are
  detected; a target that is not the emulator never gets a pool with nodes;
* the classification is a pure function with a Hypothesis property; the plan is byte-identical across
  processes; the CLI's exit codes and one-line usage errors; the fixture object records and replays.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_batch.constraints import Refusal, load_overlay, overlay_from_data
from pytest_batch.emulator import Emulator, ManualClock
from pytest_batch.probe import cli
from pytest_batch.probe.document import FORMAT, build_document, text_lines
from pytest_batch.probe.plan import plan_cases
from pytest_batch.probe.record import cassette, cassette_path, plan_for
from pytest_batch.probe.session import ProbeError, execute, probe_emulator, probe_url, replay, settings_for
from pytest_batch.probe.verdict import ENFORCED, ERROR, LENIENT, STRICTER, Exchange, Verdict, classify
from pytest_batch.spec import SpecLibrary, default_bundle_dir
from pytest_batch.stateful import HttpTarget
from pytest_batch.strategies import Strategies

V2025, V2018 = "2025-06-01", "2018-08-01.7.0"

# The schema's enum (access: ["job"]) and maxItems (2018 task collections: 100) already forbid what these forbid:
# their invalid requests break the schema too.
COVERED = {
    V2025: {"auth-token-access-values"},
    V2018: {"auth-token-access-values", "task-collection-size"},
}
SUBSET = (  # one rule of most kinds, with every prerequisite: job, pool, schedule, task, nodes, files, packages
    "job-id-length", "pool-info-exclusive", "inbound-nat-pool-name-unique", "task-collection-size",
    "maxresults-range", "client-request-id-guid", "ocp-range-form", "remove-nodes-list-size",
    "upload-logs-container-url-needs-sas", "pool-application-package-count", "job-priority-range",
    "schedule-start-window-min", "linux-user-uid-gid-together", "task-collection-serialized-size",
)  # fmt: skip


class Tap:
    """Every exchange the emulator served, as `Interaction`s (the emulator's own tap)."""

    def __init__(self) -> None:
        self.seen = []

    def __call__(self, interaction) -> None:
        self.seen.append(interaction)

    def bodies(self, method: str, suffix: str) -> list:
        out = []
        for i in self.seen:
            path = i.url.split("?", 1)[0]
            if i.method == method and path.endswith(suffix) and i.request_body:
                out.append(json.loads(i.request_body))
        return out


def _full_run(version: str):
    tap = Tap()
    with Emulator(clock=ManualClock(), tap=tap) as emulator:
        target = HttpTarget(emulator.endpoint, emulator.credential(), api_version=version, wait=emulator.advance)
        verdicts = execute(target, settings_for(version, node_free=False), settle=60)
        state = emulator.state
        left = {
            "jobs": [r.data["id"] for r in state.jobs],
            "pools": [r.data["id"] for r in state.pools if r.data.get("state") != "deleting"],
            "schedules": [r.data["id"] for r in state.job_schedules],
            "certificates": [r.data.get("thumbprint") for r in state.certificates if r.data.get("state") != "deleting"],
        }
    return verdicts, left, tap


@pytest.fixture(scope="module")
def run_2025():
    return _full_run(V2025)


@pytest.fixture(scope="module")
def run_2018():
    return _full_run(V2018)


# -- the whole overlay against the emulator ---------------------------------------------------------------------


def _check_all_enforced(verdicts, version):
    rules = {r.id for r in load_overlay().rules_for(version)}
    assert {v.rule for v in verdicts} == rules  # every rule of the version has a verdict
    skipped = [(v.rule, v.detail) for v in verdicts if v.verdict == "skipped"]
    assert skipped == []
    covered = {v.rule for v in verdicts for e in v.invalid if e.label.endswith("(the schema forbids it too)")}
    assert covered == COVERED[version]
    other = [(v.rule, v.operation_id, v.verdict, v.detail) for v in verdicts if v.verdict not in (ENFORCED, "skipped")]
    assert other == []
    for v in verdicts:
        if v.verdict == ENFORCED:
            assert v.valid.accepted and v.invalid and all(e.status in (400, 413) for e in v.invalid)


def test_every_2025_rule_is_enforced_by_the_emulator(run_2025):
    verdicts, _, _ = run_2025
    _check_all_enforced(verdicts, V2025)
    assert len([v for v in verdicts if v.verdict == ENFORCED]) >= 170


def test_every_2018_rule_is_enforced_by_the_emulator(run_2018):
    verdicts, _, _ = run_2018
    _check_all_enforced(verdicts, V2018)
    assert len([v for v in verdicts if v.verdict == ENFORCED]) >= 70


def test_a_probe_leaves_nothing_behind(run_2025, run_2018):
    for verdicts, left, tap in (run_2025, run_2018):
        assert left == {"jobs": [], "pools": [], "schedules": [], "certificates": []}
        created = [i for i in tap.seen if i.method == "POST" and i.status == 201]
        assert len(created) > 50  # the probe did create things (so the check above could fail)
        assert any(i.url.split("?")[0].endswith("/pools") for i in created)


def test_prerequisites_needing_nodes_and_files_were_really_used(run_2025):
    verdicts, _, tap = run_2025
    by_rule = {v.rule: v for v in verdicts}
    assert by_rule["ocp-range-form"].operation_id == "Tasks_GetTaskFile"
    assert by_rule["ocp-range-form"].valid.status == 200  # a task ran on a node and wrote stdout.txt
    assert by_rule["upload-logs-container-url-needs-sas"].valid.status == 200
    assert any(i.status == 200 and "/files/stdout.txt" in i.url for i in tap.seen)


# -- the output document -------------------------------------------------------------------------------------------


def test_the_document_holds_every_verdict_sorted_with_the_agreed_keys(run_2025):
    verdicts, _, _ = run_2025
    document = build_document(reversed(verdicts), api_version=V2025, target="emulator")
    assert document["format"] == FORMAT and document["target"] == "emulator"
    records = document["verdicts"]
    assert [(r["rule"], r["operation_id"], r["target"]) for r in records] == sorted(v.key for v in verdicts)
    keys = {"rule", "kind", "operation_id", "target", "verdict", "detail", "valid", "invalid", "source_pointer"}
    assert all(set(r) == keys for r in records)
    job = next(r for r in records if r["rule"] == "job-id-length")
    assert job["target"] == "BatchJobCreateOptions/id" and job["operation_id"] == "Jobs_CreateJob"
    assert job["valid"] == {"status": 201, "code": None}
    assert job["invalid"] == [{"label": "job-id-length", "status": 400, "code": "InvalidPropertyValue"}]
    assert job["source_pointer"].startswith("/definitions/BatchJobCreateOptions")
    json.dumps(document)  # plain JSON
    lines = text_lines(document)
    assert lines == [f"pytest-batch probe: {len(verdicts)} verdict(s) for api-version {V2025} against emulator: {len(verdicts)} enforced"]


# -- record, replay -------------------------------------------------------------------------------------------------


def test_a_recorded_run_replays_offline_with_the_same_verdicts(tmp_path):
    settings = settings_for(V2025, rules=SUBSET, node_free=False)
    recorded = probe_emulator(settings, record=tmp_path)  # the emulator is stopped when this returns
    assert {r["verdict"] for r in recorded["verdicts"]} == {ENFORCED}
    text = cassette_path(tmp_path, V2025).read_text()
    assert "http://127.0.0.1" not in text and "SharedKey ACCOUNT:REDACTED" in text  # sanitised URL, signature
    replayed = replay(tmp_path)
    assert replayed["target"] == f"replay:{tmp_path}"
    assert replayed["verdicts"] == recorded["verdicts"]


def test_a_replay_that_misses_a_request_says_which_cassette_and_the_fix(tmp_path):
    probe_emulator(settings_for(V2025, rules=["job-id-length"], node_free=False), record=tmp_path)
    path = cassette_path(tmp_path, V2025)
    path.write_text(path.read_text().replace("/jobs", "/jobz"))  # the recording no longer holds the requests
    with pytest.raises(ProbeError) as caught:
        replay(tmp_path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "record the probe run again with --record" in message


def test_the_plan_is_byte_identical_in_another_process():
    code = (
        "import hashlib; from pytest_batch.probe.plan import plan_cases; "
        f"print(hashlib.sha1(repr(plan_cases({V2025!r}, rules={list(SUBSET)!r})).encode()).hexdigest())"
    )
    import hashlib

    here = hashlib.sha1(repr(plan_cases(V2025, rules=SUBSET)).encode()).hexdigest()
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert here == there


# -- lenient, stricter, billable ------------------------------------------------------------------------------------


def test_a_service_that_does_not_validate_is_found_lenient():
    settings = settings_for(V2025, rules=["job-id-length", "job-id-charset", "pool-id-length"], node_free=False)
    document = probe_emulator(settings, validate_requests=False)
    verdicts = {r["rule"]: r for r in document["verdicts"]}
    assert {r["verdict"] for r in verdicts.values()} == {LENIENT}
    assert verdicts["job-id-length"]["invalid"][0]["status"] == 201
    assert cli.EXIT_FINDINGS == 1


def test_a_rule_the_service_does_not_share_is_found_stricter():
    """The prober's overlay says a job priority is 1001..5000; the emulator (the shipped overlay) refuses that."""
    raw = json.loads((default_bundle_dir() / "constraints.json").read_text())
    for rule in raw["rules"]:
        if rule["id"] == "job-priority-range":
            rule["value"] = {"min": 1001, "max": 5000}
    strategies = Strategies(SpecLibrary(), overlay_from_data(raw))
    settings = settings_for(V2025, rules=["job-priority-range"], operations=["Jobs_CreateJob"], node_free=False)
    document = probe_emulator(settings, strategies=strategies)
    by_operation = {r["operation_id"]: r for r in document["verdicts"]}
    record = by_operation["Jobs_CreateJob"]
    assert record["verdict"] == STRICTER
    assert record["valid"] == {"status": 400, "code": "InvalidPropertyValue"}
    others = [r for r in document["verdicts"] if r["operation_id"] != "Jobs_CreateJob"]  # other targets: not asked
    assert others and all(r["verdict"] == "skipped" and "--operations" in r["detail"] for r in others)


def test_a_target_that_is_not_the_emulator_never_gets_a_pool_with_nodes():
    tap = Tap()
    rules = ["pool-fixed-size-requires-target-nodes", "pool-autoscale-requires-formula", "pool-public-ip-capacity",
             "ocp-range-form", "remove-nodes-list-size", "resize-pool-timeout-min", "pool-id-length"]  # fmt: skip
    with Emulator(clock=ManualClock(), tap=tap) as emulator:  # reached by URL, so not treated as the emulator
        document = probe_url(
            emulator.endpoint, emulator.credential(), settings_for(V2025, rules=rules, node_free=True),
            wait=emulator.advance,
        )  # fmt: skip
        assert all(len(nodes) == 0 for nodes in emulator.state.nodes.values())
        url = emulator.endpoint
    counts = [b.get(k) for b in tap.bodies("POST", "/pools") + tap.bodies("POST", "/resize")
              for k in ("targetDedicatedNodes", "targetLowPriorityNodes") if k in b]  # fmt: skip
    assert counts and all(n == 0 for n in counts)
    formulas = [b["autoScaleFormula"] for b in tap.bodies("POST", "/pools") if "autoScaleFormula" in b]
    assert all("= 0" in f for f in formulas)
    verdicts = {(r["rule"], r["operation_id"]): r for r in document["verdicts"]}
    for key in (("ocp-range-form", "Tasks_GetTaskFile"), ("remove-nodes-list-size", "Pools_RemoveNodes")):
        assert verdicts[key]["verdict"] == "skipped" and verdicts[key]["detail"].startswith("billable:")
    assert verdicts[("pool-id-length", "Pools_CreatePool")]["verdict"] == ENFORCED
    assert document["target"] == url


# -- classification --------------------------------------------------------------------------------------------------

FITS = (Refusal(400, "InvalidPropertyValue"), Refusal(400, "MissingRequiredProperty"))
statuses = st.sampled_from([None, 200, 201, 202, 204, 304, 400, 404, 409, 412, 413, 500, 503])
codes = st.sampled_from([None, "InvalidPropertyValue", "MissingRequiredProperty", "InvalidRequestBody", "Other"])
exchanges = st.builds(Exchange, st.just("rule-x"), statuses, codes)


@given(valid=st.builds(Exchange, st.just("valid"), statuses, codes), invalid=st.lists(exchanges, max_size=3))
def test_enforced_iff_valid_accepted_and_every_invalid_refused_with_a_fitting_refusal(valid, invalid):
    verdict, detail = classify(valid, invalid, FITS)
    fitting = {(r.status, r.code) for r in FITS}
    expected = valid.accepted and bool(invalid) and all((e.status, e.code) in fitting for e in invalid)
    assert (verdict == ENFORCED) == expected
    assert detail and "\n" not in detail


@pytest.mark.parametrize(
    ("valid", "invalid", "verdict", "words"),
    [
        (Exchange("valid", 201), [Exchange("r", 400, "InvalidPropertyValue")], ENFORCED, "400 InvalidPropertyValue"),
        (Exchange("valid", 201), [Exchange("r", 201)], LENIENT, "accepted with 201"),
        (Exchange("valid", 400, "InvalidPropertyValue"), [Exchange("r", 400, "X")], STRICTER, "valid request was"),
        (Exchange("valid", 201), [Exchange("r", 400, "Other")], ERROR, "unfitting code 400 Other"),
        (Exchange("valid", 201), [Exchange("r", 409, "Conflict")], ERROR, "unexpected status 409"),
        (Exchange("valid", None), [Exchange("r", 400, "InvalidPropertyValue")], ERROR, "transport failure"),
        (Exchange("valid", 201), [Exchange("r", 503, "ServerBusy")], ERROR, "server error 503"),
        (Exchange("valid", 404, "JobNotFound"), [Exchange("r", 400, "InvalidPropertyValue")], ERROR, "got 404"),
        (Exchange("valid", 400, "X"), [Exchange("r", 201)], STRICTER, "refused"),  # both: stricter first
    ],
)
def test_classification_examples(valid, invalid, verdict, words):
    got, detail = classify(valid, invalid, FITS)
    assert got == verdict and words in detail


def test_a_verdict_record_round_trips():
    v = Verdict("r", "length", "Op", "D/p", ENFORCED, "d", Exchange("valid", 201), (Exchange("r", 400, "C"),), "/x")
    assert Verdict.from_record(json.loads(json.dumps(v.record()))) == v


# -- the command line -----------------------------------------------------------------------------------------------


def test_cli_usage_errors_are_one_line_and_exit_2(tmp_path, capsys):
    cases = [
        ([], "--target is required"),
        (["--target", "ftp://x"], "use emulator or an http(s) URL"),
        (["--target", "emulator", "--rules", "no-such-rule"], "unknown rule 'no-such-rule'"),
        (["--target", "emulator", "--operations", "Nope_Nope"], "unknown operation 'Nope_Nope'"),
        (["--target", "emulator", "--api-version", "1999-01-01"], "unknown api-version"),
        (["--replay", str(tmp_path)], "no recorded probe run here"),
    ]
    for argv, words in cases:
        assert cli.main(argv) == cli.EXIT_USAGE, argv
        err = capsys.readouterr().err.strip()
        assert words in err and err.count("\n") == 0 and err.startswith("pytest-batch"), (argv, err)


def test_cli_records_replays_and_writes_the_document(tmp_path, capsys):
    rules = "job-id-length,maxresults-range"
    assert cli.main(["--target", "emulator", "--rules", rules, "--record", str(tmp_path / "rec")]) == 0
    assert "2 enforced" in capsys.readouterr().out
    out = tmp_path / "probe.json"
    assert cli.main(["--replay", str(tmp_path / "rec"), "-o", str(out), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text()) == printed and printed["format"] == FORMAT
    assert [r["verdict"] for r in printed["verdicts"]] == [ENFORCED, ENFORCED]


def test_cli_against_a_lenient_url_target_exits_1(monkeypatch, capsys):
    with Emulator(clock=ManualClock(), validate_requests=False) as emulator:
        monkeypatch.setenv("AZURE_BATCH_ACCOUNT_NAME", emulator.account)
        monkeypatch.setenv("AZURE_BATCH_ACCOUNT_KEY", emulator.key)
        code = cli.main(["--target", emulator.endpoint, "--rules", "job-id-length"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_FINDINGS and "lenient" in out and emulator.key not in out


# -- the fixture object ---------------------------------------------------------------------------------------------


def test_the_fixture_object_records_through_the_endpoint_and_replays(tmp_path):
    from pytest_batch.probe.fixture import make_batch_probe
    from pytest_batch.targets import REPLAY, BatchEndpoint

    path = tmp_path / "test_x.yaml"
    with Emulator(clock=ManualClock()) as emulator:
        endpoint = BatchEndpoint(emulator.endpoint, emulator.account, emulator.key, "emulator")
        with cassette(plan_for(path, record=True, url=emulator.endpoint, key=emulator.key)):
            probe = make_batch_probe(endpoint, emulator=emulator)
            first = probe.run(rules=["job-id-length", "pool-id-length"])
    assert [v.verdict for v in first] == [ENFORCED, ENFORCED]
    assert [(r["rule"], r["api_version"]) for r in probe.records] == [
        ("job-id-length", V2025),
        ("pool-id-length", V2025),
    ]
    with cassette(plan_for(path, record=False)):
        again = make_batch_probe(REPLAY).run(rules=["job-id-length", "pool-id-length"])
    assert again == first
