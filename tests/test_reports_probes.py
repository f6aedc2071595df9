"""Probe verdicts in the reports, and the session fold that keeps no records.

A known verdict set (two hand-built `pytest-batch-probe/1` documents, counts worked out by hand below) goes
through `pytest-batch report`: every format must show the same numbers (JSON validated against the schema,
JUnit counted with xml.etree, the Markdown tables, the HTML rows, the text lines). The fold must not depend
on the order verdicts or test records arrive in; a saved report must merge back to what the records give;
a real pytest session whose records carry `"probe"` must report them, the same serially and under xdist.
"""

from __future__ import annotations

import json
import random
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_reports import CASSETTES, LIBRARY, _markdown_table

from pytest_batch.cli import main
from pytest_batch.contract import Allowance, TestContract, report_record
from pytest_batch.readers import read_recording
from pytest_batch.reports import report_schema
from pytest_batch.reports.aggregate import ReportBuilder
from pytest_batch.reports.probes import VERDICTS, ProbeFold, parse_verdict
from pytest_batch.reports.write import render, write_reports
from pytest_batch.session_report import session_builder, session_document, summary_line
from pytest_batch.validation import Validator

pytest_plugins = ["pytester"]

V25, V18 = "2025-06-01", "2018-08-01.7.0"


def verdict(rule, op, target, outcome, detail="", *, kind="length", codes=("InvalidPropertyValue",)):
    return {
        "rule": rule,
        "kind": kind,
        "operation_id": op,
        "target": target,
        "verdict": outcome,
        "detail": detail or f"{outcome} by hand",
        "valid": {"status": 400 if outcome == "stricter" else 201, "code": None},
        "invalid": [{"label": f"{rule} broken", "status": 400 if outcome != "lenient" else 201, "code": c}
                    for c in codes],
        "source_pointer": f"/definitions/{target.split('/')[0]}/properties/{target.split('/')[-1]}",
    }  # fmt: skip


KNOWN_25 = [
    verdict("job-id-length", "Jobs_CreateJob", "BatchJobCreateOptions/id", "enforced"),
    verdict("pool-id-length", "Pools_CreatePool", "BatchPoolCreateOptions/id", "enforced"),
    verdict("task-id-chars", "Tasks_CreateTask", "BatchTaskCreateOptions/id", "lenient", "accepted 'a/b' <b>"),
    verdict("job-priority-range", "Jobs_CreateJob", "BatchJobCreateOptions/priority", "stricter", "refused 1000"),
    verdict("schedule-id-length", "JobSchedules_CreateJobSchedule", "BatchJobScheduleCreateOptions/id", "error",
            "503 ServerBusy"),
    verdict("pool-vm-size", "Pools_CreatePool", "BatchPoolCreateOptions/vmSize", "skipped", "billable"),
]  # fmt: skip
KNOWN_18 = [
    verdict("job-id-length", "Job_Add", "JobAddParameter/id", "enforced"),
    verdict("task-id-chars", "Task_Add", "TaskAddParameter/id", "lenient", "accepted 'a/b'"),
]
# worked out by hand: rows by verdict per version, and the order of the per-rule table (worst first, then
# oldest version first, then rule id)
COUNTS = {V18: {"error": 0, "stricter": 0, "lenient": 1, "enforced": 1, "skipped": 0},
          V25: {"error": 1, "stricter": 1, "lenient": 1, "enforced": 2, "skipped": 1}}  # fmt: skip
ORDER = [("error", V25, "schedule-id-length"), ("stricter", V25, "job-priority-range"),
         ("lenient", V18, "task-id-chars"), ("lenient", V25, "task-id-chars"), ("enforced", V18, "job-id-length"),
         ("enforced", V25, "job-id-length"), ("enforced", V25, "pool-id-length"), ("skipped", V25, "pool-vm-size")]  # fmt: skip


def probe_document(version, verdicts, target="emulator") -> dict:
    return {"format": "pytest-batch-probe/1", "api_version": version, "target": target, "verdicts": verdicts}


def _write(path: Path, data) -> str:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("probes")
    docs = [_write(folder / "p25.json", probe_document(V25, KNOWN_25)),
            _write(folder / "p18.json", probe_document(V18, KNOWN_18, "https://acct.invalid"))]  # fmt: skip
    outs = {ext: folder / f"r.{ext}" for ext in ("json", "xml", "md", "html", "txt")}
    code = main(["report", *docs, *[arg for out in outs.values() for arg in ("-o", str(out))]])
    assert code == 1  # lenient, stricter and error verdicts fail the run
    return outs


def test_json_counts_and_orders_the_known_verdicts(outputs):
    doc = json.loads(outputs["json"].read_text())
    jsonschema.validate(doc, report_schema())
    probes = doc["probes"]
    assert doc["input"]["probe_documents"] == 2 and probes["verdicts"] == 8
    assert {v["api_version"]: v["by_verdict"] for v in probes["api_versions"]} == COUNTS
    assert [v["rules"] for v in probes["api_versions"]] == [2, 6]
    assert [(r["verdict"], r["api_version"], r["rule"]) for r in probes["rules"]] == ORDER
    [lenient] = [r for r in probes["rules"] if r["rule"] == "task-id-chars" and r["api_version"] == V25]
    assert lenient["detail"] == "accepted 'a/b' <b>" and lenient["services"] == ["emulator"]
    assert lenient["first_source"].endswith("p25.json") and lenient["invalid"][0]["status"] == 201
    assert lenient["source_pointer"] == "/definitions/BatchTaskCreateOptions/properties/id"


def test_junit_has_a_case_per_probed_rule_failing_the_disagreements(outputs):
    root = ET.parse(outputs["xml"]).getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite") if s.get("name").startswith("pytest-batch probe")}
    assert sorted(suites) == [f"pytest-batch probe {V18}", f"pytest-batch probe {V25}"]
    for version, counts in COUNTS.items():
        suite = suites[f"pytest-batch probe {version}"]
        cases = suite.findall("testcase")
        assert len(cases) == int(suite.get("tests")) == sum(counts.values())
        failures = [f.get("type") for c in cases for f in c.findall("failure")]
        assert sorted(failures) == sorted(v for v in ("error", "stricter", "lenient") for _ in range(counts[v]))
        assert int(suite.get("failures")) == len(failures)
        assert (
            int(suite.get("skipped")) == len([c for c in cases if c.find("skipped") is not None]) == counts["skipped"]
        )
    assert int(root.get("failures")) == sum(int(s.get("failures")) for s in root.findall("testsuite")) == 4


def test_markdown_shows_the_counts_and_the_rules_not_enforced(outputs):
    markdown = outputs["md"].read_text()
    rows = _markdown_table(markdown, "api-version")  # the first such table is the traffic's: none here
    counts = _markdown_table(markdown[markdown.index("### Constraint probes") :], "api-version")
    assert rows == counts  # no traffic, so the probe table is the only one
    assert [[r[0].strip("`"), *map(int, r[1:])] for r in counts] == [
        [version, sum(c.values()), *(c[v] for v in VERDICTS)] for version, c in sorted(COUNTS.items())
    ]
    others = _markdown_table(markdown, "verdict")
    assert [(r[0], r[1].strip("`")) for r in others] == [(v, rule) for v, _, rule in ORDER if v != "enforced"]
    assert "accepted 'a/b' \\<b\\>" in markdown  # prose escaped


def test_html_and_text_list_the_same_rules(outputs):
    page = outputs["html"].read_text()
    section = page[page.index('<section id="probes">') :]
    assert re.findall(r'<tr class="[a-z]*" data-verdict="([a-z]+)">', section) == [v for v, _, _ in ORDER]
    versions = re.findall(r'<td class="n" data-verdict="([a-z]+)">(\d+)</td>', section)
    assert [int(n) for _, n in versions] == [COUNTS[v][name] for v in sorted(COUNTS) for name in VERDICTS]
    assert "accepted &#x27;a/b&#x27; &lt;b&gt;" in section and "<b>" not in section
    text = outputs["txt"].read_text()
    assert f"probed {V25}: 6 rules: 1 error, 1 stricter, 1 lenient, 2 enforced, 1 skipped" in text
    assert f"probed {V18}: 2 rules: 1 lenient, 1 enforced" in text
    listed = re.findall(r"^  (error|stricter|lenient|skipped) (\S+) ", text, re.MULTILINE)
    assert listed == [(v, rule) for v, _, rule in ORDER if v != "enforced"]
    assert text.rstrip().endswith("result: conformant; 4 probed rules lenient, stricter or error")


def test_a_malformed_probe_document_is_one_line_naming_the_file(tmp_path, capsys):
    good = _write(tmp_path / "good.json", probe_document(V25, KNOWN_25[:1]))
    bad = {
        "truncated.json": '{"format": "pytest-batch-probe/1", "verdicts": [',
        "future.json": probe_document(V25, []) | {"format": "pytest-batch-probe/9"},
        "notalist.json": probe_document(V25, {"rule": "x"}),
        "badverdict.json": probe_document(V25, [verdict("r", "Op", "A/b", "enforced") | {"verdict": "maybe"}]),
    }
    paths = [_write(tmp_path / name, data) for name, data in bad.items()]
    out = tmp_path / "r.json"
    assert main(["report", good, *paths, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == len(bad)
    for line, name in zip(err, bad):
        assert line.startswith(f"pytest-batch: {tmp_path / name}: ") and "(fix: " in line
    assert "verdict #0: rule 'r': verdict 'maybe' is not one of" in err[3]
    doc = json.loads(out.read_text())
    assert doc["totals"]["unusable"] == 4 and doc["probes"]["verdicts"] == 1  # the good one still counts


def test_probe_documents_and_saved_reports_are_found_inside_a_folder(tmp_path):
    """A folder given to `report` is walked like `check` walks it; probe documents and saved reports in it are
    read as what they are, not as broken recordings."""
    folder = tmp_path / "results"
    (folder / "nested").mkdir(parents=True)
    _write(folder / "a.json", probe_document(V25, KNOWN_25[:2]))
    _write(folder / "nested" / "b.json", probe_document(V18, KNOWN_18[:1]))
    out = tmp_path / "r.json"
    assert main(["report", str(folder), "-o", str(out)]) in (0, 1)
    doc = json.loads(out.read_text())
    assert (doc["totals"]["unusable"], doc["probes"]["verdicts"]) == (0, 3)
    again = tmp_path / "again"
    again.mkdir()
    (again / "r.json").write_text(out.read_text())
    out2 = tmp_path / "r2.json"
    main(["report", str(again), "-o", str(out2)])
    assert json.loads(out2.read_text())["probes"] == doc["probes"]


# -- the fold does not depend on arrival order ------------------------------------------------------------------

_VERDICT_POOL = [parse_verdict(v, V25) for v in KNOWN_25] + [
    parse_verdict(verdict("job-id-length", "Jobs_CreateJob", "BatchJobCreateOptions/id", o, f"{o} elsewhere"), V25)
    for o in VERDICTS
]


@settings(max_examples=40, deadline=None)
@given(
    picks=st.lists(st.tuples(st.sampled_from(_VERDICT_POOL), st.sampled_from(["a.json", "b.json", None])), max_size=12),
    seed=st.integers(0, 1000),
)
def test_probe_rows_are_the_worst_verdict_whatever_the_order(picks, seed):
    fold = ProbeFold()
    for item, source in picks:
        fold.add(item, source=source, service="emulator" if source else None)
    section = fold.section()
    shuffled = list(picks)
    random.Random(seed).shuffle(shuffled)
    again = ProbeFold()
    for item, source in shuffled:
        again.add(item, source=source, service="emulator" if source else None)
    assert again.section() == section
    assert section["verdicts"] == len(picks) == sum(r["probes"] for r in section["rules"])
    for row in section["rules"]:
        given_here = [i.verdict for i, _ in picks if (i.rule, i.operation_id, i.target) ==
                      (row["rule"], row["operation_id"], row["target"])]  # fmt: skip
        assert row["verdict"] == min(given_here, key=VERDICTS.index)
        assert row["by_verdict"] == {v: given_here.count(v) for v in VERDICTS if v in given_here}
    ranks = [VERDICTS.index(r["verdict"]) for r in section["rules"]]
    assert ranks == sorted(ranks)


def _records() -> list[dict]:
    """The reference cassettes checked against 2018-08-01.7.0 (many findings), as test records through JSON;
    some carry probe verdicts, as the `batch_probe` fixture leaves them."""
    validator = Validator(LIBRARY, api_version=V18)
    records = []
    for n, path in enumerate(sorted(CASSETTES.glob("*.yaml"))):
        outcomes = [validator.check(i) for i in read_recording(path)]
        half = len(outcomes) // 2  # two tests per cassette, each replaying part of it
        for part, chosen in enumerate((outcomes[:half], outcomes[half:])):
            record = report_record(f"t.py::{path.stem}[{part}]", str(path), TestContract("off", Allowance(()), chosen))
            if n % 2 == 0:
                record["probe"] = [KNOWN_25[(n + part) % len(KNOWN_25)] | {"api_version": V25}]
            records.append(json.loads(json.dumps(record)))
    return records


RECORDS = _records()


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_session_document_does_not_depend_on_the_order_tests_end_in(seed):
    expected = session_document(RECORDS, library=LIBRARY)
    shuffled = list(RECORDS)
    random.Random(seed).shuffle(shuffled)
    assert session_document(shuffled, library=LIBRARY) == expected  # first_source/first_test included


def test_the_session_fold_keeps_summaries_and_probes_not_records():
    builder = session_builder(LIBRARY)
    for record in RECORDS:
        builder.add_record(record)
    doc = builder.document()
    jsonschema.validate(doc, report_schema())
    assert doc["input"] == {"kind": "pytest", "files": 0, "tests": len(RECORDS), "probe_documents": 0}
    assert doc["totals"]["batch"] == 159 and doc["totals"]["errors"] > 10
    assert all("interactions" in t and isinstance(t["interactions"], int) for t in doc["tests"])
    assert sum(t["interactions"] for t in doc["tests"]) == doc["totals"]["interactions"]
    assert sum(t["errors"] for t in doc["tests"]) == doc["totals"]["errors"]
    carried = [v for r in RECORDS for v in r.get("probe", ())]
    assert doc["probes"]["verdicts"] == len(carried) == sum(sum(t["probes"].values()) for t in doc["tests"])
    assert {r["rule"] for r in doc["probes"]["rules"]} == {v["rule"] for v in carried}
    assert all(r["services"] == [] and r["first_source"].startswith("t.py::") for r in doc["probes"]["rules"])
    # the terminal line comes from the fold
    t = doc["totals"]
    assert summary_line(builder) == (
        f"{t['batch']} Batch interactions checked in {len(RECORDS)} tests (0 other calls skipped): "
        f"{t['errors']} errors, {t['warnings']} warnings"
    )
    text = render(doc, "text")
    assert f"probed {V25}: " in text and "probed rules not enforced" in text


def test_saved_session_reports_merge_to_what_all_their_records_give(tmp_path):
    """Two halves of a session saved apart, merged by `pytest-batch report`, equal the whole session's report;
    one saved report rendered again equals itself."""
    whole = session_document(RECORDS, library=LIBRARY)
    halves = [RECORDS[::2], RECORDS[1::2]]
    paths = []
    for i, half in enumerate(halves):
        paths.append(tmp_path / f"half{i}.json")
        write_reports([str(paths[-1])], session_document(half, library=LIBRARY))
    merged = tmp_path / "merged.json"
    assert main(["report", *map(str, paths), "-o", str(merged)]) == 1
    assert json.loads(merged.read_text()) == json.loads(json.dumps(whole))
    again = tmp_path / "again.json"
    assert main(["report", str(merged), "-o", str(again)]) == 1
    assert again.read_bytes() == merged.read_bytes()


def test_a_legacy_v1_session_report_is_folded_again_from_its_records(tmp_path):
    legacy = {"format": "pytest-batch-report/1", "tests": RECORDS[:3]}  # what /1 embedded: the full records
    path = _write(tmp_path / "old.json", legacy)
    out = tmp_path / "new.json"
    main(["report", path, "-o", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(session_document(RECORDS[:3], library=LIBRARY)))
    broken = _write(tmp_path / "broken.json", {"format": "pytest-batch-report/2", "totals": {}})
    assert main(["report", broken, "-o", str(out)]) == 2
    assert json.loads(out.read_text())["unusable"]["messages"][0].startswith(f"{broken}: not a valid ")


def test_builder_add_verdicts_names_a_malformed_verdict():
    builder = ReportBuilder(library=LIBRARY)
    builder.add_verdicts([KNOWN_25[0], {"rule": "x"}, "nope"], api_version=V25, source="mine.json")
    doc = builder.document()
    assert doc["probes"]["verdicts"] == 1 and doc["probes"]["api_versions"][0]["api_version"] == V25
    assert doc["unusable"]["messages"] == [
        "mine.json: verdict #1: rule 'x': verdict None is not one of error, stricter, lenient, enforced, skipped",
        "mine.json: verdict #2: a verdict must be an object, not str",
    ]
    assert builder.exit_code("error") == 2


# -- a real session: records with "probe" through the plugin, serial and under xdist ---------------------------

PROBE_CONFTEST = f"""
import json
import pytest

VERDICTS = json.loads({json.dumps(json.dumps([v | {"api_version": V25} for v in KNOWN_25]))})

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    record = getattr(report, "batch_contract", None)
    n = int(item.name.rsplit("_", 1)[-1])
    if record is not None and n % 2 == 0:  # what the batch_probe fixture leaves in its test's record
        record["probe"] = VERDICTS[n % len(VERDICTS) : n % len(VERDICTS) + 2]
    return report

def pytest_sessionfinish(session):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    kept = [r for reports in reporter.stats.values() for r in reports if getattr(r, "batch_contract", None)]
    print("records still held:", len(kept))
"""


def test_a_session_reports_probe_verdicts_from_its_records_the_same_under_xdist(pytester):
    pytester.makeconftest(PROBE_CONFTEST)
    pytester.makepyfile(test_probed="".join(f"def test_rule_{n}(batch_contract):\n    pass\n\n" for n in range(8)))
    runs = {}
    for name, extra in (("serial", ()), ("n2", ("-n", "2"))):
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--batch-report={name}.json", *extra)
        result.assert_outcomes(passed=8)
        runs[name] = json.loads((pytester.path / f"{name}.json").read_text())
        if not extra:
            result.stdout.fnmatch_lines(["*records still held: 0", f"probed {V25}: 6 rules: *"])
    doc = runs["serial"]
    jsonschema.validate(doc, report_schema())
    assert runs["n2"] == doc
    assert doc["input"]["tests"] == 8 and doc["probes"]["verdicts"] == 8  # tests 0, 2, 4, 6: two verdicts each
    probed = {t["nodeid"].split("::")[1]: sum(t["probes"].values()) for t in doc["tests"]}
    assert probed == {f"test_rule_{n}": 2 if n % 2 == 0 else 0 for n in range(8)}
    assert {v["api_version"]: v["by_verdict"] for v in doc["probes"]["api_versions"]} == {V25: COUNTS[V25]}


def test_a_real_probe_run_reads_into_every_format(tmp_path):
    """End to end: the prober's own output document against the emulator (lenient: validation switched off,
    so the verdicts differ by rule) is what `pytest-batch report` renders, in the same numbers everywhere."""
    from xml.etree import ElementTree

    from pytest_batch.probe.session import probe_emulator, settings_for

    rules = ("job-id-length", "job-priority-range", "maxresults-range")
    strict = probe_emulator(settings_for(V25, rules=rules, node_free=False))
    lenient = probe_emulator(settings_for(V18, rules=rules, node_free=False), validate_requests=False)
    paths = [_write(tmp_path / "strict.json", strict), _write(tmp_path / "lenient.json", lenient)]
    outs = {ext: tmp_path / f"r.{ext}" for ext in ("json", "xml", "md", "html", "txt")}
    assert main(["report", *paths, *(x for out in outs.values() for x in ("-o", str(out)))]) == 1  # lenient ones
    doc = json.loads(outs["json"].read_text())
    expected = {d["api_version"]: dict(Counter(v["verdict"] for v in d["verdicts"])) for d in (strict, lenient)}
    assert expected[V25] == {"enforced": len(strict["verdicts"])} and expected[V18].get("lenient")
    got = {
        row["api_version"]: {k: n for k, n in row["by_verdict"].items() if n} for row in doc["probes"]["api_versions"]
    }
    assert got == expected
    cases = ElementTree.parse(outs["xml"]).getroot().iter("testcase")
    failed = [c for c in cases if c.find("failure") is not None and c.get("classname").startswith("pytest-batch.probe.")]
    assert len(failed) == expected[V18]["lenient"]
    text = outs["txt"].read_text()
    assert f"probed {V18}: {len(lenient['verdicts'])} rules: {expected[V18]['lenient']} lenient" in text
    assert all(rule in outs["html"].read_text() for rule in rules)  # the page lists every row
    loose = {v["rule"] for v in lenient["verdicts"] if v["verdict"] == "lenient"}
    assert all(f"`{rule}`" in outs["md"].read_text() for rule in loose)  # Markdown lists the rules not enforced
