"""Reports: one aggregation, five formats, the same numbers in each.

A hand-built set of observations (known findings, counts and coverage worked out by hand below) is folded
into a report document; the JSON must validate against the packaged schema, the JUnit XML must parse and
count the same, the Markdown must show the same numbers, the text the same lines. The pytest path (test
records) and the CLI path (outcomes) must give the same document; Hypothesis checks that the formats agree
on any mix of observations. The HTML page is driven in Chromium in `test_reports_browser.py`.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_batch.cli import main
from pytest_batch.constraints import load_overlay
from pytest_batch.contract import Allowance, TestContract, report_record
from pytest_batch.readers import read_recording
from pytest_batch.reports import check_report_paths, format_for, report_schema
from pytest_batch.reports.aggregate import ReportBuilder
from pytest_batch.reports.junit import render_junit
from pytest_batch.reports.markdown import code, render_markdown, text
from pytest_batch.reports.observations import Finding, Observation, from_outcome, from_record
from pytest_batch.reports.page import render_html
from pytest_batch.reports.text import render_text, terminal_lines
from pytest_batch.reports.write import render, write_reports
from pytest_batch.session_report import session_document
from pytest_batch.spec import SpecLibrary
from pytest_batch.validation import Validator

REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes" / "test_azure_batch_sdk"
V = "2025-06-01"
SCRIPT = '<script>alert("pwned")</script> | `tick` *bold* [link](http://x) & </td>'
LIBRARY = SpecLibrary()
OVERLAY = load_overlay()


def _finding(check, severity, op, location, pointer, schema_pointer, message, *, actual=None, allowed=False):
    return Finding(
        check, severity, op, V, location, pointer, schema_pointer, "expected", actual, message, None, allowed
    )


PRIORITY = _finding("response_schema_conformance", "error", "Jobs_GetJob", "response.body", "/priority",
                    "/definitions/BatchJob/properties/priority/type", "'7' is not of type 'integer'", actual="7")  # fmt: skip
DRIFT = _finding("undocumented_property", "warning", "Jobs_GetJob", "response.body", "/newThing",
                 "/definitions/BatchJob/properties", "property 'newThing' is not documented", actual="newThing")  # fmt: skip
XSS = _finding("request_body_schema", "error", "Jobs_CreateJob", "request.body", "/id",
               "/definitions/BatchJobCreateOptions/properties/id/type", SCRIPT, actual=SCRIPT)  # fmt: skip
ALLOWED = _finding("unknown_enum_value", "warning", "Pools_GetPool", "response.body", "/state",
                   "/definitions/BatchPoolState/enum", "'frozen' is not one of [...]", actual="frozen", allowed=True)  # fmt: skip
UNMATCHED = _finding("unknown_operation", "error", None, "request", "", "/paths",
                     "no operation of api-version 2025-06-01 has the path '/nope'", actual="GET /nope")  # fmt: skip


def known_observations() -> list[Observation]:
    """8 interactions: 3 documented operations of 2025-06-01 exercised, one unmatched call, one other service."""
    return [
        Observation("GET", "/jobs/j1", 200, V, "Jobs_GetJob", findings=(PRIORITY, DRIFT), source="a.yaml#0"),
        Observation("GET", "/jobs/j1", 200, V, "Jobs_GetJob", findings=(PRIORITY,), source="a.yaml#1"),
        Observation("GET", "/jobs/j2", 404, V, "Jobs_GetJob", source="a.yaml#2"),
        Observation("POST", "/jobs", 201, V, "Jobs_CreateJob", findings=(XSS,), source="b.yaml#0"),
        Observation("GET", "/pools/p1", 200, V, "Pools_GetPool", findings=(ALLOWED,), source="b.yaml#1"),
        Observation("GET", "/pools/p1", 200, V, "Pools_GetPool", source="b.yaml#2"),
        Observation("GET", "/nope", 404, V, None, findings=(UNMATCHED,), source="b.yaml#3"),
        Observation("GET", "/outputs", 200, skipped="Azure Storage (blob)", source="b.yaml#4"),
    ]


def known_document() -> dict:
    builder = ReportBuilder(library=LIBRARY, overlay=OVERLAY)
    builder.files = 2
    builder.add_all(known_observations())
    builder.add_unusable("c.yaml: not YAML or JSON (fix: re-record the cassette)")
    return builder.document()


@pytest.fixture(scope="module")
def document() -> dict:
    return known_document()


def test_totals_and_findings_of_the_known_case(document):
    assert document["format"] == "pytest-batch-report/2"
    assert document["totals"] == {
        "interactions": 8, "batch": 7, "skipped": 1, "unusable": 1,
        "interactions_with_errors": 4,  # a#0, a#1, b#0, b#3 (the allowed warning of b#1 does not count)
        "interactions_with_warnings": 1,  # a#0
        "errors": 4, "warnings": 1, "allowed": 1, "distinct_findings": 5, "api_versions": 1,
        "operations_exercised": 3,
    }  # fmt: skip
    # errors first, then by occurrences, then the more fundamental check; allowed-only last
    ids = [(f["id"], f["check"], f["count"], f["allowed"], f["first_source"]) for f in document["findings"]]
    assert ids == [
        ("F1", "response_schema_conformance", 2, 0, "a.yaml#0"),
        ("F2", "unknown_operation", 1, 0, "b.yaml#3"),
        ("F3", "request_body_schema", 1, 0, "b.yaml#0"),
        ("F4", "undocumented_property", 1, 0, "a.yaml#0"),
        ("F5", "unknown_enum_value", 0, 1, "b.yaml#1"),
    ]
    assert [(r["check"], r["count"], r["distinct"], r["allowed"]) for r in document["by_check"]] == [
        ("response_schema_conformance", 2, 1, 0),
        ("unknown_operation", 1, 1, 0),
        ("request_body_schema", 1, 1, 0),
        ("undocumented_property", 1, 1, 0),
        ("unknown_enum_value", 0, 1, 1),
    ]
    pointer = document["by_spec_pointer"][0]
    assert (pointer["schema_pointer"], pointer["count"], pointer["operations"], pointer["first_source"]) == (
        "/definitions/BatchJob/properties/priority/type", 2, ["Jobs_GetJob"], "a.yaml#0",
    )  # fmt: skip
    assert document["drift"]["undocumented_properties"][0]["name"] == "newThing"
    assert document["drift"]["unknown_enum_values"][0]["value"] == "frozen"
    assert document["skipped"] == [{"reason": "Azure Storage (blob)", "count": 1}]


def test_coverage_numbers_of_the_known_case(document):
    """3 of the 72 operations of 2025-06-01; 3 of its 74 documented (operation, status) pairs (70 operations
    document one status, Pools_PoolExists and Jobs_JobScheduleExists two); the 404 of Jobs_GetJob is seen
    but undocumented (answered by `default`)."""
    [version] = document["api_versions"]
    assert version["operations"] == {"documented": 72, "exercised": 3, "coverage": round(3 / 72, 6)}
    assert version["status_codes"] == {"documented": 74, "seen": 3, "coverage": round(3 / 74, 6)}
    assert (version["interactions"], version["unmatched_interactions"], version["known"]) == (7, 1, True)
    rows = {r["operation_id"]: r for r in document["operations"]}
    assert len(rows) == 73  # every documented operation, plus the unmatched row
    get_job = rows["Jobs_GetJob"]
    assert get_job["status_codes"] == {"seen": {"200": 2, "404": 1}, "documented": ["200"],
                                       "undocumented_seen": ["404"], "coverage": 1.0}  # fmt: skip
    assert (get_job["calls"], get_job["interactions_with_errors"], get_job["errors"], get_job["warnings"]) == (
        3,
        2,
        2,
        1,
    )
    assert rows["Pools_GetPool"]["allowed"] == 1 and rows["Pools_GetPool"]["errors"] == 0
    assert rows["Nodes_StartNode"]["calls"] == 0 and rows["Nodes_StartNode"]["status_codes"]["coverage"] == 0.0
    # worst first: 2 failing calls, then one each (ties: more calls, then the operation's name), then the rest
    order = [r["operation_id"] for r in document["operations"][:4]]
    assert order == ["Jobs_GetJob", None, "Jobs_CreateJob", "Pools_GetPool"]


def test_constraint_coverage_counts_the_rules_in_reach():
    """Jobs_GetJob reaches one rule (its client-request-id parameter) of the 112 for 2025-06-01; creating a job
    reaches the job's own rules and, through autoPoolSpecification, pool rules, but never pool creation's id."""
    only_get = ReportBuilder(library=LIBRARY, overlay=OVERLAY).add_all(known_observations()[2:3]).document()
    constraints = only_get["api_versions"][0]["constraints"]
    assert constraints == {"rules": 112, "in_reach": 1, "coverage": round(1 / 112, 6), "broken": 0}
    create = ReportBuilder(library=LIBRARY, overlay=OVERLAY).add_all(known_observations()[3:4])
    facts = create.facts(V).operations["Jobs_CreateJob"].constraints
    assert {"job-id-length", "client-request-id-guid", "pool-display-name-length"} <= facts
    assert "pool-id-length" not in facts
    assert create.document()["api_versions"][0]["constraints"]["in_reach"] == len(facts)


def test_a_version_without_a_bundle_has_unknown_coverage():
    doc = ReportBuilder(library=LIBRARY).add_all([Observation("GET", "/x", 200, "1999-01-01", "X_Get")]).document()
    [version] = doc["api_versions"]
    assert version["known"] is False and version["operations"]["coverage"] is None
    assert version["constraints"] is None
    jsonschema.validate(doc, report_schema())


def test_json_validates_against_the_packaged_schema(document):
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    parsed = json.loads(render(document, "json"))
    jsonschema.validate(parsed, schema)
    assert parsed == document
    broken = json.loads(render(document, "json"))
    broken["totals"]["interactions"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_junit_parses_and_counts_match(document):
    root = ET.fromstring(render_junit(document))
    assert root.tag == "testsuites"
    [suite, inputs] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 73 == int(suite.get("tests"))
    failing = [c for c in cases if c.find("failure") is not None]
    assert len(failing) == 3 == int(suite.get("failures"))
    assert len(suite.findall("testcase/failure")) == 3  # one per distinct error finding
    assert len(suite.findall("testcase/skipped")) == 69 == int(suite.get("skipped"))
    names = {c.get("name").split()[0] for c in failing}
    assert names == {"Jobs_GetJob", "Jobs_CreateJob", "(no"}
    [xss] = [c.find("failure") for c in failing if c.get("name").startswith("Jobs_CreateJob")]
    assert xss.get("type") == "request_body_schema" and SCRIPT in xss.get("message")  # data, not markup
    get_job = next(c for c in cases if c.get("name").startswith("Jobs_GetJob"))
    assert "undocumented_property" in get_job.find("system-out").text  # the warning goes to the output
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["operation_coverage"] == "4.2%" and props["status_code_coverage"] == "4.1%"
    assert inputs.find("testcase/error").get("type") == "unusable_input"
    totals = {k: int(root.get(k)) for k in ("tests", "failures", "errors", "skipped")}
    assert totals == {"tests": 74, "failures": 3, "errors": 1, "skipped": 69}


def test_junit_survives_characters_xml_cannot_carry():
    bad = _finding("request_body_schema", "error", "Jobs_CreateJob", "request.body", "/id", "/x", "nul\x00 bell\x07")
    doc = ReportBuilder(library=LIBRARY).add_all(
        [Observation("POST", "/jobs", 201, V, "Jobs_CreateJob", findings=(bad,))]
    )
    failure = ET.fromstring(render_junit(doc.document())).find(".//failure")
    assert failure.get("message").endswith("nul  bell ")  # one line: control characters as spaces
    assert "message: nul\ufffd bell\ufffd" in failure.text  # the detail keeps the text, minus what XML forbids


def _markdown_table(markdown: str, first_header: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_shows_the_same_numbers(document):
    markdown = render_markdown(document)
    t = document["totals"]
    assert (f"**{t['batch']}** Batch interactions from 2 files ({t['skipped']} other calls skipped, "
            f"{t['unusable']} unusable inputs): **{t['interactions_with_errors']}** with errors, "
            f"**{t['interactions_with_warnings']}** with warnings") in markdown  # fmt: skip
    [row] = _markdown_table(markdown, "api-version")
    constraints = document["api_versions"][0]["constraints"]
    in_reach = f"{constraints['in_reach']}/112 ({constraints['coverage'] * 100:.1f}%)"
    assert row == ["`2025-06-01`", "7", "3/72 (4.2%)", "3/74 (4.1%)", in_reach, "4", "1"]
    worst = _markdown_table(markdown, "operation")
    assert [(r[0], r[2], r[4], r[5]) for r in worst] == [
        (f"`{r['operation_id'] or '(no documented operation)'}`", str(r["calls"]),
         str(r["interactions_with_errors"]), str(r["interactions_with_warnings"]))
        for r in document["operations"] if r["interactions_with_errors"] or r["interactions_with_warnings"]
    ]  # fmt: skip
    findings = _markdown_table(markdown, "id")
    assert [(r[0], int(r[1])) for r in findings] == [(f["id"], f["count"]) for f in document["findings"]]
    assert "<script>" not in markdown  # the message is escaped, so GitHub shows it as text
    assert (
        '\\<script\\>alert("pwned")\\</script\\> \\| \\`tick\\` \\*bold\\* \\[link\\](http://x) \\& \\</td\\>'
        in markdown
    )
    assert "69 operations of 2025-06-01 not exercised" in markdown


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a|b", "`a\\|b`"),
        ("has `tick`", "`` has `tick` ``"),
        ("a `b` c", "``a `b` c``"),
        ("`x`", "`` `x` ``"),
        ("", ""),
        ("a\nb", "`a b`"),
    ],
)
def test_markdown_code_spans_hold_any_text(value, expected):
    assert code(value) == expected


def test_markdown_text_escapes_every_active_character():
    assert text("<b>*x*_|[y]&~`") == "\\<b\\>\\*x\\*\\_\\|\\[y\\]\\&\\~\\`"


def test_text_report_and_terminal_lines(document):
    report = render_text(document)
    assert report.startswith("pytest-batch report: 8 interactions from 2 files: 7 Batch, 1 skipped, 1 unusable\n")
    assert "  2025-06-01: 7 interactions, 3/72 (4.2%) operations, 3/74 (4.1%) documented status codes" in report
    assert "result: 4 interactions with errors, 1 with warnings" in report
    lines = terminal_lines(document)
    assert lines[0].startswith("2025-06-01: 7 interactions, 3/72 (4.2%) operations")
    assert lines[1:4] == [
        "worst operations (3 with findings):",
        "  Jobs_GetJob (2025-06-01): 2 of 3 calls with errors, 1 with warnings",
        "  (no documented operation) (2025-06-01): 1 of 1 calls with errors, 0 with warnings",
    ]
    assert lines[5] == "top findings (5 distinct):"
    assert "2x error response_schema_conformance Jobs_GetJob (2025-06-01) at response.body/priority" in lines[6]
    assert len(lines) == 9  # short: fits a CI log


def test_html_escapes_every_piece_of_data_and_loads_nothing(document):
    page = render_html(document)
    assert page.count("<script") == 1  # ours only; the finding's <script> is text
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert not re.search(r"""(?:src|href)\s*=|@import|url\(|<link|<img|<iframe""", page, re.IGNORECASE)
    assert "default-src 'none'" in page  # and the policy forbids anything the escaping might have missed


def test_formats_by_extension_and_bad_paths():
    assert [format_for(p) for p in ("r.json", "r.XML", "r.md", "r.htm", "r.txt", "r.pdf")] == [
        "json", "junit", "markdown", "html", "text", None,
    ]  # fmt: skip
    assert format_for("r.pdf", "html") == "html"
    assert check_report_paths(["ok.html", "r.pdf"]) == (
        "--batch-report r.pdf: unknown report format .pdf; use .json (json), .xml (junit), .md (markdown), "
        ".html (html), .txt (text)"
    )


def test_write_reports_renders_each_format_once_and_writes_atomically(tmp_path, document):
    written = write_reports(["a/r.json", "b/r.json", "r.html"], document, root=tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["a/r.json", "b/r.json", "r.html"]
    assert (tmp_path / "a/r.json").read_bytes() == (tmp_path / "b/r.json").read_bytes()
    assert not list(tmp_path.rglob("*.tmp"))


def test_lone_surrogates_in_findings_are_written_as_replacement_characters(tmp_path):
    odd = _finding("response_schema_conformance", "error", "Jobs_GetJob", "response.body", "/x", "/y", "bad \udc00")
    doc = ReportBuilder(library=LIBRARY).add_all(
        [Observation("GET", "/jobs/j", 200, V, "Jobs_GetJob", findings=(odd,))]
    )
    for name in ("r.json", "r.xml", "r.md", "r.html", "r.txt"):
        write_reports([name], doc.document(), root=tmp_path)
        assert "bad \ufffd" in (tmp_path / name).read_text(encoding="utf-8")


# -- the pytest path and the CLI path give the same document ------------------------------------------------------


def test_session_records_and_outcomes_fold_to_the_same_document():
    """Validate the reference cassettes against 2018-08-01.7.0 (many findings of many kinds); the document built
    from `Outcome`s equals the one built from the test records (through JSON, as xdist carries them)."""
    validator = Validator(LIBRARY, api_version="2018-08-01.7.0")
    from_outcomes = ReportBuilder(library=LIBRARY, overlay=OVERLAY)
    records = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        outcomes = [validator.check(i) for i in read_recording(path)]
        from_outcomes.add_all(from_outcome(o) for o in outcomes)
        contract = TestContract("off", Allowance(()), outcomes)
        records.append(json.loads(json.dumps(report_record(f"t.py::{path.stem}", str(path), contract))))
    a = from_outcomes.document()
    b = session_document(records, library=LIBRARY)
    assert a["totals"]["errors"] > 10 and a["totals"]["warnings"] > 100
    for key in ("totals", "api_versions", "operations", "by_check", "by_spec_pointer", "drift", "skipped"):
        assert a[key] == b[key], key
    strip = [{k: v for k, v in f.items() if k != "first_test"} for f in b["findings"]]
    assert [{k: v for k, v in f.items() if k != "first_test"} for f in a["findings"]] == strip
    assert b["input"] == {"kind": "pytest", "files": 0, "tests": len(records), "probe_documents": 0}
    assert b["findings"][0]["first_test"] == "t.py::test_jobs"
    # each test keeps a summary, not its records: its counts, and the distinct findings it hit
    assert [t["nodeid"] for t in b["tests"]] == sorted(r["nodeid"] for r in records)
    for test, record in zip(b["tests"], sorted(records, key=lambda r: r["nodeid"])):
        assert test["interactions"] == len(record["interactions"])
        assert test["errors"] == sum(v["severity"] == "error" for i in record["interactions"] for v in i["violations"])
    for finding in b["findings"]:
        assert sum(t["findings"].get(finding["id"], 0) for t in b["tests"]) == finding["count"] + finding["allowed"]


def test_allowed_findings_stay_apart_from_the_counts():
    outcome = Validator(LIBRARY, api_version="2018-08-01.7.0").check(next(read_recording(CASSETTES / "test_jobs.yaml")))
    assert outcome.violations
    record = report_record("t.py::x", "c.yaml", TestContract("strict", Allowance(("*",)), [outcome]))
    doc = ReportBuilder(library=LIBRARY).add_all(from_record(record)).document()
    assert doc["totals"]["allowed"] == len(outcome.violations)
    assert doc["totals"]["errors"] == doc["totals"]["warnings"] == doc["totals"]["interactions_with_errors"] == 0


# -- any mix of observations: the formats agree --------------------------------------------------------------------

_OPS = [("Jobs_GetJob", "GET", "/jobs/j"), ("Jobs_CreateJob", "POST", "/jobs"), ("Pools_GetPool", "GET", "/pools/p"),
        (None, "GET", "/nope")]  # fmt: skip
_POOL = [PRIORITY, DRIFT, XSS, UNMATCHED,
         _finding("response_headers_conformance", "warning", "Pools_GetPool", "response.headers.ETag", "", "/h", "m")]  # fmt: skip


@st.composite
def observations(draw):
    op_id, method, path = draw(st.sampled_from(_OPS))
    if draw(st.integers(0, 9)) == 0:
        return Observation(method, path, 200, skipped="Azure Storage (blob)", source=f"s#{draw(st.integers(0, 9))}")
    picked = draw(st.lists(st.sampled_from(_POOL), max_size=3))
    findings = tuple(
        replace(f, operation_id=op_id if f.operation_id else None, allowed=draw(st.booleans())) for f in picked
    )
    status = draw(st.sampled_from([200, 201, 404, 500, None]))
    return Observation(method, path, status, V, op_id, findings=findings, source=f"f#{draw(st.integers(0, 99))}")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(observations(), max_size=25), shuffle=st.randoms(use_true_random=False))
def test_any_observations_give_a_valid_document_whose_formats_agree(items, shuffle):
    doc = ReportBuilder(library=LIBRARY, overlay=OVERLAY).add_all(items).document()
    jsonschema.validate(doc, report_schema())
    t = doc["totals"]
    assert t["interactions"] == len(items) and t["batch"] + t["skipped"] == len(items)
    assert sum(r["calls"] for r in doc["operations"]) == t["batch"]
    assert sum(f["count"] for f in doc["findings"]) == t["errors"] + t["warnings"]
    assert sum(f["allowed"] for f in doc["findings"]) == t["allowed"]
    assert sum(r["interactions_with_errors"] for r in doc["operations"]) == t["interactions_with_errors"]
    root = ET.fromstring(render_junit(doc))
    error_findings = [f for f in doc["findings"] if f["severity"] == "error" and f["count"]]
    assert len(root.findall(".//failure")) == len(error_findings)
    failing_ops = {(f["api_version"], f["operation_id"]) for f in error_findings}
    assert int(root.get("failures")) == len(failing_ops)
    if doc["findings"]:
        rows = _markdown_table(render_markdown(doc, limit=1000), "id")
        assert [(r[0], int(r[1])) for r in rows] == [(f["id"], f["count"]) for f in doc["findings"]]
    # the counts do not depend on the order the interactions came in (only "first seen" does)
    again = list(items)
    shuffle.shuffle(again)
    other = ReportBuilder(library=LIBRARY, overlay=OVERLAY).add_all(again).document()
    assert other["totals"] == t and other["api_versions"] == doc["api_versions"]
    assert {(f["check"], f["operation_id"], f["count"]) for f in other["findings"]} == {
        (f["check"], f["operation_id"], f["count"]) for f in doc["findings"]
    }


# -- the command line ----------------------------------------------------------------------------------------------


def test_report_command_writes_every_format_with_the_same_numbers(tmp_path, capsys):
    outs = [str(tmp_path / f"r.{ext}") for ext in ("json", "xml", "md", "html", "txt")]
    code = main(
        ["report", str(CASSETTES), "--api-version", "2018-08-01.7.0", *[arg for o in outs for arg in ("-o", o)]]
    )
    assert code == 1  # 2025 traffic breaks the 2018 contract
    doc = json.loads(Path(outs[0]).read_text())
    jsonschema.validate(doc, report_schema())
    assert doc["input"] == {"kind": "files", "files": 6, "tests": None, "probe_documents": 0}
    assert doc["totals"]["batch"] == 159
    root = ET.parse(outs[1]).getroot()
    assert int(root.get("failures")) == len({f["operation_id"] for f in doc["findings"] if f["severity"] == "error"})
    [row] = _markdown_table(Path(outs[2]).read_text(), "api-version")
    v = doc["api_versions"][0]
    assert row[1] == str(v["interactions"]) and row[2].startswith(f"{v['operations']['exercised']}/77 ")
    assert "Batch API conformance" in Path(outs[3]).read_text()
    assert Path(outs[4]).read_text() == render_text(doc)
    assert capsys.readouterr().out == ""


def test_report_to_stdout_and_format_override(tmp_path, capsys):
    assert main(["report", str(CASSETTES / "test_account.yaml")]) == 0
    assert capsys.readouterr().out.startswith("pytest-batch report: 3 interactions from 1 files")
    out = tmp_path / "summary.txt"
    assert main(["report", str(CASSETTES / "test_account.yaml"), "-o", str(out), "--format", "markdown"]) == 0
    assert out.read_text().startswith("## pytest-batch: Batch API conformance")


def test_report_command_refuses_an_unknown_extension_in_one_line(tmp_path, capsys):
    assert main(["report", str(CASSETTES), "-o", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown report format .pdf" in err[0]
    assert not (tmp_path / "r.pdf").exists()


def test_report_renders_a_saved_session_report_again(tmp_path):
    validator = Validator(LIBRARY, api_version="2018-08-01.7.0")
    outcomes = [validator.check(i) for i in read_recording(CASSETTES / "test_jobs.yaml")]
    record = report_record("t.py::test_jobs", "c.yaml", TestContract("off", Allowance(()), outcomes))
    saved = tmp_path / "session.json"
    write_reports([str(saved)], session_document([record], library=LIBRARY))
    again = tmp_path / "again.json"
    assert main(["report", str(saved), "-o", str(again), "-o", str(tmp_path / "again.html")]) == 1
    assert json.loads(again.read_text()) == json.loads(saved.read_text())
    from_files = ReportBuilder(library=LIBRARY)
    files_document = from_files.add_all(from_outcome(o) for o in outcomes).document()
    write_reports([str(tmp_path / "files.json")], files_document)
    # a report built from recordings is an aggregate too: it renders again to the same document
    assert main(["report", str(tmp_path / "files.json"), "-o", str(tmp_path / "x.json")]) == 1
    assert json.loads((tmp_path / "x.json").read_text()) == json.loads(json.dumps(files_document))


def test_check_gains_report_and_keeps_its_own_output(tmp_path, capsys):
    target = CASSETTES / "test_pools.yaml"
    assert main(["check", str(target), "--no-progress"]) == 0
    plain = capsys.readouterr().out
    md, js = tmp_path / "r.md", tmp_path / "r.json"
    assert main(["check", str(target), "--no-progress", "--report", str(md), "--report", str(js)]) == 0
    assert capsys.readouterr().out == plain  # the summary on stdout is unchanged
    doc = json.loads(js.read_text())
    assert doc["totals"]["batch"] == int(re.search(r"(\d+) Batch", plain).group(1))
    assert md.read_text().startswith("## pytest-batch")
    assert main(["check", str(target), "--no-progress", "--report", str(tmp_path / "r.doc")]) == 2
