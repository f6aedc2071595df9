"""The x-ms-examples of every upstream spec version, checked against their own operation and version.

The examples beside each BatchService.json are the service owners' own picture
of valid traffic. Each one is turned into interactions (one per documented
response, see `pytest_batch.examples.corpus`) and checked by the `Validator`
pinned to the example's own api-version. Every finding must be listed, with a
reason and a class (`example defect` / `spec defect`), in `known_findings.json`;
an unlisted finding fails, and so does a listed one that no longer occurs.

The corpus runs once per module (a few seconds) in the `run` fixture.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from pytest_batch.errors import RecordingError
from pytest_batch.examples import ExampleRef, corpus, example_refs
from pytest_batch.spec import SpecLibrary
from pytest_batch.validation import UNKNOWN_API_VERSION, WARNING, Validator, Violation

KNOWN_FINDINGS = Path(__file__).with_name("known_findings.json")
CLASSES = ("example defect", "spec defect")
KEY_FIELDS = ("api_version", "example", "check", "location", "instance_pointer", "schema_pointer")

# A known api-version other than the spec's own: the example would silently be checked
# against another version's contract, so the corpus reports it (the validator cannot know).
API_VERSION_MISMATCH = "api_version_mismatch"

NO_EXAMPLES = "2025-06-01"  # upstream examples deliberately not stored (specs README)
BROKEN_EXAMPLE = ("2024-07-01.20.0", "NodeStart.json")  # a trailing comma upstream
MISSING = "example file is missing"


@dataclass
class VersionRun:
    version: str
    refs: list[ExampleRef]
    interactions: int = 0
    documented_responses: int = 0  # counted from the example files, independently of `corpus`
    errors: list[RecordingError] = field(default_factory=list)
    findings: list[Violation] = field(default_factory=list)
    wrong_operation: list[str] = field(default_factory=list)
    checked_files: set[str] = field(default_factory=set)


@dataclass
class CorpusRun:
    library: SpecLibrary
    versions: dict[str, VersionRun]

    def all_errors(self) -> list[tuple[str, RecordingError]]:
        return [(v.version, e) for v in self.versions.values() for e in v.errors]

    def missing(self) -> list[tuple[str, RecordingError]]:
        return [(version, e) for version, e in self.all_errors() if e.problem == MISSING]


def finding_key(version: str, v: Violation) -> tuple[str, ...]:
    """Stable identity of a finding: no absolute path, no message text."""
    example = Path(v.source.file).name if v.source else ""
    return (version, example, v.check, v.location, v.instance_pointer, v.schema_pointer)


def _api_version_finding(version: str, library: SpecLibrary, interaction, operation_id) -> Violation | None:
    query = {k.lower(): val for k, val in parse_qsl(urlsplit(interaction.url).query, keep_blank_values=True)}
    requested = query.get("api-version")
    if requested == version:
        return None
    check = API_VERSION_MISMATCH if requested in library.versions else UNKNOWN_API_VERSION
    return Violation(
        check, WARNING, operation_id, version, "request.query.api-version", "", "/info/version", version,
        requested, f"the example sends api-version {requested!r}, but belongs to the {version} spec",
        interaction.source,
    )


def _count_documented_responses(ref: ExampleRef) -> int:
    try:
        data = json.loads(ref.path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return 0  # missing or broken: `corpus` must report it as a RecordingError instead
    return len(data.get("responses") or {}) if isinstance(data, dict) else 0


def _run_version(library: SpecLibrary, version_dir: Path) -> VersionRun:
    version = version_dir.name
    spec_file = version_dir / "BatchService.json"
    refs = example_refs(spec_file)
    run = VersionRun(version, refs)
    if version not in library.versions:
        return run  # reported by test_every_spec_version_has_a_bundle
    spec = library.get(version)
    validator = Validator(library, api_version=version)  # always the example's own version
    operation_of = {}
    for ref in refs:
        operation_of.setdefault(str(ref.path), set()).add(ref.operation_id)
        run.documented_responses += _count_documented_responses(ref)
    for item in corpus(spec_file, spec):
        if isinstance(item, RecordingError):
            run.errors.append(item)
            continue
        run.interactions += 1
        run.checked_files.add(item.source.file)
        outcome = validator.check(item)
        if outcome.api_version != version or outcome.operation_id not in operation_of.get(item.source.file, ()):
            run.wrong_operation.append(
                f"{item.source}: matched {outcome.operation_id} ({outcome.api_version}), "
                f"linked from {sorted(operation_of.get(item.source.file, ()))} ({version})"
            )
        run.findings.extend(outcome.violations)
        extra = _api_version_finding(version, library, item, outcome.operation_id)
        if extra is not None:
            run.findings.append(extra)
    return run


@pytest.fixture(scope="module")
def run(specs_dir: Path) -> CorpusRun:
    library = SpecLibrary()
    versions = {}
    for version_dir in sorted(p for p in specs_dir.iterdir() if (p / "BatchService.json").is_file()):
        versions[version_dir.name] = _run_version(library, version_dir)
    return CorpusRun(library, versions)


@pytest.fixture(scope="module")
def known() -> dict:
    return json.loads(KNOWN_FINDINGS.read_text(encoding="utf-8"))


def _known_keys(known: dict) -> dict[tuple[str, ...], dict]:
    return {tuple(entry[f] for f in KEY_FIELDS): entry for entry in known["findings"]}


def _swagger_example_links(spec_file: Path) -> list[str]:
    """x-ms-examples links of a Swagger file, read without the code under test."""
    swagger = json.loads(spec_file.read_text(encoding="utf-8-sig"))
    links = []
    for section in ("paths", "x-ms-paths"):
        for item in (swagger.get(section) or {}).values():
            for op in item.values():
                if isinstance(op, dict):
                    links.extend(link["$ref"] for link in (op.get("x-ms-examples") or {}).values())
    return links


# --------------------------------------------------------------------------- coverage


def test_every_spec_version_has_a_bundle(run: CorpusRun) -> None:
    assert len(run.versions) == 18
    assert sorted(run.versions) == sorted(run.library.versions)


def test_every_example_operation_exists_in_its_bundle(run: CorpusRun) -> None:
    absent = [
        f"{v.version}: {ref.operation_id} ({ref.path.name})"
        for v in run.versions.values()
        for ref in v.refs
        if ref.operation_id not in run.library.get(v.version).operations
    ]
    assert absent == []
    assert not [str(e) for _, e in run.all_errors() if "not in the bundle" in e.problem]
    assert sum(len(v.refs) for v in run.versions.values()) > 1400


def test_examples_are_checked_against_their_own_operation_and_version(run: CorpusRun) -> None:
    wrong = [line for v in run.versions.values() for line in v.wrong_operation]
    assert wrong == []


def test_interactions_checked_per_version(run: CorpusRun) -> None:
    totals = {v.version: v.interactions for v in run.versions.values()}
    with_examples = {version: n for version, n in totals.items() if version != NO_EXAMPLES}
    assert len(with_examples) == 17
    assert all(n > 0 for n in with_examples.values()), totals
    assert totals[NO_EXAMPLES] == 0
    # One interaction per documented response of every readable example.
    assert {v.version: v.documented_responses for v in run.versions.values()} == totals
    # Every linked example file that can be read was checked.
    for v in run.versions.values():
        unreadable = {e.path for e in v.errors}
        expected = {str(ref.path) for ref in v.refs} - unreadable
        assert v.checked_files == expected, v.version


# --------------------------------------------------------------------------- broken and missing files


def test_broken_example_is_reported_cleanly(run: CorpusRun) -> None:
    broken = [(version, e) for version, e in run.all_errors() if e.problem != MISSING]
    assert len(broken) == 1, [str(e) for _, e in broken]
    version, error = broken[0]
    assert (version, Path(error.path).name) == BROKEN_EXAMPLE
    assert Path(error.path).parent.name == "examples"
    assert "not valid JSON" in error.problem
    assert "line 9 column 3" in error.problem  # the trailing comma closes the parameters object
    assert "NodeStart.json" in str(error) and error.hint
    # The run went on: every other example of that version was checked.
    v = run.versions[version]
    assert v.interactions == v.documented_responses > 0
    assert len(v.checked_files) == len(v.refs) - 1


def test_missing_examples_are_counted_not_failed(run: CorpusRun, specs_dir: Path) -> None:
    missing = run.missing()
    links = _swagger_example_links(specs_dir / NO_EXAMPLES / "BatchService.json")
    assert len(links) == 101
    assert len(missing) == len(links)
    assert {version for version, _ in missing} == {NO_EXAMPLES}
    assert sorted(Path(e.path).name for _, e in missing) == sorted(Path(link).name for link in links)
    assert not (specs_dir / NO_EXAMPLES / "examples").exists()
    assert run.versions[NO_EXAMPLES].findings == []


def test_unlinked_example_files_are_known(run: CorpusRun, specs_dir: Path, known: dict) -> None:
    """Files in examples/ that no operation links to cannot be checked against "their" operation."""
    unlinked = set()
    for v in run.versions.values():
        folder = specs_dir / v.version / "examples"
        linked = {ref.path.name for ref in v.refs}
        if folder.is_dir():
            unlinked |= {(v.version, p.name) for p in folder.iterdir() if p.name not in linked}
    listed = {(e["api_version"], e["example"]) for e in known["unlinked_examples"]}
    assert unlinked == listed


# --------------------------------------------------------------------------- findings


def test_known_findings_file_is_well_formed(known: dict, specs_dir: Path) -> None:
    keys = [tuple(entry[f] for f in KEY_FIELDS) for entry in known["findings"]]
    assert len(keys) == len(set(keys)), "duplicate entries"
    for entry in known["findings"] + known["unlinked_examples"]:
        assert entry["class"] in CLASSES, entry
        assert entry["reason"].strip(), entry
        assert "/" not in entry["example"] and "\\" not in entry["example"], entry
        assert (specs_dir / entry["api_version"] / "examples" / entry["example"]).is_file(), entry


def test_no_unknown_findings(run: CorpusRun, known: dict) -> None:
    listed = _known_keys(known)
    unknown = sorted(
        {finding_key(v.version, f): f for v in run.versions.values() for f in v.findings
         if finding_key(v.version, f) not in listed}.items()
    )
    assert not unknown, "findings not in known_findings.json:\n" + "\n".join(
        f"{json.dumps(dict(zip(KEY_FIELDS, key)))}\n    {f.describe()}" for key, f in unknown
    )


def test_no_stale_known_findings(run: CorpusRun, known: dict) -> None:
    found = {finding_key(v.version, f) for v in run.versions.values() for f in v.findings}
    stale = [entry for key, entry in _known_keys(known).items() if key not in found]
    assert not stale, "entries in known_findings.json that no longer occur:\n" + "\n".join(
        json.dumps(e) for e in stale
    )


def test_known_findings_summary(run: CorpusRun, known: dict) -> None:
    """Findings by check and severity, so a change of either is visible in review."""
    by_check = Counter((f.check, f.severity) for v in run.versions.values() for f in v.findings)
    assert dict(by_check) == {
        (UNKNOWN_API_VERSION, WARNING): 67,  # 2017-05-01.5.0: one per interaction
        (API_VERSION_MISMATCH, WARNING): 86,  # 2020-03-01.11.0: 84 files, two with two responses
        ("request_body_schema", "error"): 11,
        ("response_schema_conformance", "error"): 7,
        ("unknown_enum_value", WARNING): 2,
    }
    assert Counter(e["class"] for e in known["findings"]) == {"example defect": 171}
