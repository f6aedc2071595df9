"""Real Azure Batch traffic (ten vcrpy cassettes of Azure/azure-batch-cli-extensions) through reader and validator.

Everything here is pinned: how much is read, how it is classified, which
operation each Batch call matches and what the validator finds. A regression
in either direction (a new finding, or a finding that disappears) fails.
docs/real-traffic-findings.md explains the numbers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from pytest_batch.errors import RecordingError
from pytest_batch.interaction import Interaction
from pytest_batch.readers import iter_recording_files, read_recording
from pytest_batch.validation import ERROR, UNKNOWN_API_VERSION, UNKNOWN_OPERATION, WARNING, Outcome, Validator

CASSETTES = "azure-batch-cli-extensions"

BATCH_CALLS_PER_VERSION = {
    "2017-05-01.5.0": 46,
    "2017-06-01.5.1": 44,
    "2017-09-01.6.0": 43,
    "2018-03-01.6.1": 43,
    "2018-08-01.7.0": 44,
    "2018-12-01.8.0": 133,
    "2019-06-01.9.0": 86,
    "2019-08-01.10.0": 192,
    "2020-03-01.11.0": 179,
    "2022-01-01.15.0": 135,
}

SKIPPED = {
    "Azure Storage (blob)": 421,
    "Azure Resource Manager": 64,
    "Microsoft Entra token endpoint": 1,
}

FINDINGS_BY_CHECK = {("unknown_enum_value", WARNING): 656}

# (location, schema pointer, value on the wire, documented value) -> count. All differ only in case.
FINDINGS_BY_CAUSE = {
    ("response.body", "/definitions/TaskSchedulingPolicy/properties/nodeFillType/enum", "Spread", "spread"): 309,
    ("response.body", "/definitions/TaskAddResult/properties/status/enum", "Success", "success"): 121,
    ("response.body", "/definitions/OutputFileUploadCondition/enum", "TaskSuccess", "tasksuccess"): 99,
    ("response.body", "/definitions/TaskExecutionResult/enum", "Success", "success"): 49,
    ("response.body", "/definitions/OutputFileUploadCondition/enum", "TaskSuccess", "taskSuccess"): 26,
    ("response.body", "/definitions/ElevationLevel/enum", "nonadmin", "nonAdmin"): 26,
    ("response.body", "/definitions/OnAllTasksComplete/enum", "noaction", "noAction"): 8,
    ("response.body", "/definitions/OnTaskFailure/enum", "noaction", "noAction"): 8,
    ("request.body", "/definitions/OutputFileUploadCondition/enum", "taskSuccess", "tasksuccess"): 8,
    ("response.body", "/definitions/ErrorCategory/enum", "UserError", "userError"): 1,
    ("response.body", "/definitions/TaskExecutionResult/enum", "Failure", "failure"): 1,
}

# Storage URLs that carry a non-empty SAS signature, by (traffic kind, where in the interaction).
# The Storage calls themselves authenticate with SharedKey (or the header was dropped), so no
# interaction URL carries `sig=`; SAS URLs travel inside bodies.
SAS_URLS = {
    ("Batch", "request body"): 182,
    ("Batch", "response body"): 114,
    ("Azure Storage (blob)", "request body"): 4,
}
# SHA-256 of known `sig=` values (the values themselves are secrets and stay out of the repo):
# a real SAS of account sdkteststore2, sent in a Batch request body (278daae_2018-12-01.8.0 #9) ...
KNOWN_BATCH_SIG = "9d4a2d2b03ad37cdab548724bc1ff7c1c2e99da566c8d98a7b0c07b0baf43893"
# ... and the documentation sample SAS inside a template file uploaded by a skipped Storage PUT
# (49dcd2f_2022-01-01.15.0 #159): proof that skipped traffic is read in full, not dropped.
KNOWN_STORAGE_SIG = "c3ebd5e9b404fa0a92656d1982ffd8897bb1c92779af7002a692c7c1531a0d49"

_STORAGE_URL = re.compile(r"https?://[A-Za-z0-9-]+\.blob\.core\.windows\.net(?::\d+)?/[^\s\"'<>\\]*")
_SIG = re.compile(r"[?&]sig=([^&]+)")
_VERSION = re.compile(r"\b\d{4}-\d{2}-\d{2}\.\d+\.\d+\b")


@dataclass
class Traffic:
    files: list[Path] = field(default_factory=list)
    errors: list[RecordingError] = field(default_factory=list)
    checked: list[tuple[str, Interaction, Outcome]] = field(default_factory=list)  # (cassette folder, ...)

    @property
    def batch(self) -> list[tuple[str, Interaction, Outcome]]:
        return [item for item in self.checked if item[2].skipped is None]

    @property
    def skipped(self) -> list[tuple[str, Interaction, Outcome]]:
        return [item for item in self.checked if item[2].skipped is not None]

    def violations(self):
        return [v for _, _, outcome in self.batch for v in outcome.violations]


def _api_version(url: str) -> str | None:
    return dict((k.lower(), v) for k, v in parse_qsl(urlsplit(url).query)).get("api-version")


@pytest.fixture(scope="module")
def traffic(real_traffic_dir: Path) -> Traffic:
    validator = Validator()
    result = Traffic()
    for file in iter_recording_files([real_traffic_dir / CASSETTES]):
        result.files.append(file)
        for item in read_recording(file):
            if isinstance(item, RecordingError):
                result.errors.append(item)
            else:
                result.checked.append((file.parent.name, item, validator.check(item)))
    return result


def test_all_interactions_are_read(traffic: Traffic) -> None:
    assert len(traffic.files) == 10
    assert [str(e) for e in traffic.errors] == []
    assert len(traffic.checked) == 1431


def test_batch_calls_are_matched_to_an_operation_of_their_version(traffic: Traffic) -> None:
    batch = traffic.batch
    assert len(batch) == 945
    unmatched = [str(i.source) for _, i, o in batch if o.operation_id is None]
    assert unmatched == []
    assert not [v for v in traffic.violations() if v.check in (UNKNOWN_OPERATION, UNKNOWN_API_VERSION)]
    # Validated against the very version the request named (no fallback to another bundle).
    assert [str(i.source) for _, i, o in batch if o.api_version != _api_version(i.url)] == []
    assert all(i.status is not None for _, i, _ in batch)


def test_non_batch_calls_are_skipped_with_a_reason(traffic: Traffic) -> None:
    skipped = traffic.skipped
    assert len(skipped) == 486
    assert Counter(o.skipped for _, _, o in skipped) == SKIPPED
    assert all(not o.violations and o.operation_id is None for _, _, o in skipped)


def test_batch_calls_per_api_version_match_the_readme(traffic: Traffic, real_traffic_dir: Path) -> None:
    readme = (real_traffic_dir / "README.md").read_text(encoding="utf-8")
    named = set(_VERSION.findall(readme))
    per_version = Counter(_api_version(i.url) for _, i, _ in traffic.batch)
    assert set(per_version) == named
    assert dict(per_version) == BATCH_CALLS_PER_VERSION
    # Each cassette folder (`<commit>_<api-version>`) holds Batch calls of its own version only.
    per_folder = {(folder, _api_version(i.url)) for folder, i, _ in traffic.batch}
    assert {folder.split("_", 1)[1] for folder, _ in per_folder} == named
    assert all(folder.endswith("_" + version) for folder, version in per_folder)


def test_findings_by_check(traffic: Traffic) -> None:
    violations = traffic.violations()
    assert sum(1 for v in violations if v.severity == ERROR) == 0
    assert dict(Counter((v.check, v.severity) for v in violations)) == FINDINGS_BY_CHECK


def test_findings_by_cause(traffic: Traffic) -> None:
    violations = traffic.violations()
    by_cause = Counter((v.location, v.schema_pointer, v.actual, v.expected) for v in violations)
    assert dict(by_cause) == FINDINGS_BY_CAUSE
    # Decision (b): every one of them differs from the documented value only in case.
    assert all(isinstance(v.actual, str) and v.actual.lower() == str(v.expected).lower() for v in violations)


def test_odata_control_information_is_not_reported(traffic: Traffic) -> None:
    """Decision (a): `odata.metadata` in every JSON response body, never reported as undocumented."""
    with_metadata = 0
    for _, interaction, _ in traffic.batch:
        body = interaction.response_body
        if body.strip().startswith(b"{") and "odata.metadata" in json.loads(body):
            with_metadata += 1
    assert with_metadata == 834
    assert not [v for v in traffic.violations() if "odata." in v.instance_pointer]


def _sas_signatures(traffic: Traffic) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for _, interaction, outcome in traffic.checked:
        kind = outcome.skipped or "Batch"
        parts = (
            ("url", interaction.url),
            ("request body", interaction.request_body.decode("utf-8", "replace")),
            ("response body", interaction.response_body.decode("utf-8", "replace")),
        )
        for part, text in parts:
            for url in _STORAGE_URL.findall(text):
                match = _SIG.search(url)
                if match:
                    found.setdefault((kind, part), []).append(hashlib.sha256(match.group(1).encode()).hexdigest())
    return found


def test_sas_signatures_in_storage_urls_are_read(traffic: Traffic) -> None:
    found = _sas_signatures(traffic)
    assert {key: len(hashes) for key, hashes in found.items()} == SAS_URLS
    assert KNOWN_BATCH_SIG in found[("Batch", "request body")]
    assert KNOWN_BATCH_SIG in found[("Batch", "response body")]  # the service echoes it back
    assert KNOWN_STORAGE_SIG in found[("Azure Storage (blob)", "request body")]
