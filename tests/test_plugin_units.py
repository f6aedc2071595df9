"""Pure parts of the plugin: cassette names, target choice, allowances, report totals."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_batch.contract import Allowance, TestContract, report_record
from pytest_batch.interaction import Headers, Interaction, Source
from pytest_batch.recording import cassette_path, safe_name
from pytest_batch.session_report import check_report_paths, session_document, summary_line, totals
from pytest_batch.targets import REPLAY, TargetError, choose_target
from pytest_batch.validation import Validator

SAFE = re.compile(r"[A-Za-z0-9._-]+")


@given(st.text(min_size=1, max_size=300))
def test_safe_names_are_portable_and_keep_distinct_tests_apart(text):
    name = safe_name(text)
    assert SAFE.fullmatch(name) and len(name.encode()) <= 200
    assert not name.startswith(".")  # never a hidden file
    assert safe_name(name) == name  # stable: a safe name stays as it is


@given(st.text(min_size=1, max_size=60), st.text(min_size=1, max_size=60))
def test_different_test_ids_never_share_a_cassette(a, b):
    if a != b:
        assert safe_name(a) != safe_name(b)


def test_cassette_path_layout():
    root = Path("/p/cassettes")
    assert cassette_path(root, "test_jobs", "test_add") == root / "test_jobs" / "test_add.yaml"
    assert cassette_path(root, "test_jobs", "TestJobs::test_add") == root / "test_jobs" / "TestJobs.test_add.yaml"
    assert cassette_path(root, "test_jobs", "test_add", "shared.yaml") == root / "test_jobs" / "shared.yaml"
    param = cassette_path(root, "test_jobs", "test_add[a/b]")
    assert param.parent == root / "test_jobs" and "/" not in param.name and param.name.startswith("test_add_a_b")


def test_replay_needs_no_account_and_recording_reads_the_environment():
    assert choose_target("azure", True, {}) is REPLAY
    assert choose_target("emulator", False, {}) == "emulator"
    with pytest.raises(TargetError, match="AZURE_BATCH_ENDPOINT"):
        choose_target("azure", False, {})
    key = base64.b64encode(b"k" * 64).decode()
    shared = choose_target("azure", False, {
        "AZURE_BATCH_ENDPOINT": "myacct.westus.batch.azure.com/", "AZURE_BATCH_ACCOUNT_KEY": key})
    assert (shared.url, shared.account, shared.key, shared.kind) == (
        "https://myacct.westus.batch.azure.com", "myacct", key, "azure")
    assert key not in repr(shared)
    entra = choose_target("azure", False, {"AZURE_BATCH_ENDPOINT": "https://a.b.batch.azure.com"})
    assert entra.key is None and entra.account == "a"
    with pytest.raises(TargetError, match="not base64"):
        choose_target("azure", False, {"AZURE_BATCH_ENDPOINT": "https://a.b.batch.azure.com",
                                       "AZURE_BATCH_ACCOUNT_KEY": "not a key!"})


def test_signed_headers_verify_against_the_emulators_check():
    from pytest_batch.emulator.auth import AuthPolicy, verify

    url = f"{REPLAY.url}/jobs?api-version=2025-06-01&timeout=30"
    headers = REPLAY.signed_headers("POST", url, {"Content-Type": "application/json"}, b'{"id":"j"}')
    policy = AuthPolicy(REPLAY.account, REPLAY.key)
    assert verify(policy, "POST", "/jobs", "api-version=2025-06-01&timeout=30", headers.items()) is None
    assert verify(policy, "POST", "/jobs", "api-version=2025-06-01&timeout=31", headers.items()) is not None


def _broken_get_job() -> Interaction:
    return Interaction(
        "GET", "https://ACCOUNT.REGION.batch.azure.com/jobs/j1?api-version=2025-06-01",
        status=200, response_headers=Headers.of({"Content-Type": "application/json"}),
        response_body=b'{"id": "j1", "priority": "high"}', source=Source("cassettes/m/t.yaml", 3),
    )  # fmt: skip


def test_allowances_messages_and_records():
    outcome = Validator().check(_broken_get_job())
    assert outcome.errors
    contract = TestContract("strict")
    contract.add([outcome])
    message = contract.message()
    assert message.startswith("1 of 1 Batch interactions break the spec (")
    assert "cassettes/m/t.yaml#3 GET /jobs/j1 -> 200" in message and outcome.best.message in message
    with pytest.raises(AssertionError, match="Batch interactions break the spec"):
        contract.assert_conforms()
    checks = {v.check for v in outcome.violations}
    pointers = {v.schema_pointer for v in outcome.violations}
    for allow in (tuple(checks), tuple(pointers), ("*",)):
        allowed = TestContract("strict", Allowance(allow), [outcome])
        assert allowed.errors == [] and allowed.message() == ""
        allowed.assert_conforms()
    assert TestContract("strict", Allowance(("no_such_check",)), [outcome]).errors

    record = report_record("t.py::test", "cassettes/m/t.yaml", contract)
    assert record["interactions"][0]["index"] == 3
    assert totals([record])["error"] == outcome.errors
    assert summary_line([record]).startswith("1 Batch interaction checked in 1 test")
    import json

    json.dumps(session_document([record]))  # plain data all the way down


def test_report_paths_need_a_known_format():
    assert check_report_paths(["out/report.json", "r.xml", "r.md", "r.html", "r.txt"]) is None
    assert "unknown report format .pdf" in check_report_paths(["r.pdf"])


def test_entra_id_credential_needs_azure_identity_or_says_so():
    from pytest_batch.targets import BatchEndpoint, credential_for

    endpoint = BatchEndpoint("https://a.b.batch.azure.com", "a", None, "azure")
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        with pytest.raises(TargetError, match="pip install azure-identity"):
            credential_for(endpoint)
    else:
        assert type(credential_for(endpoint)).__name__ == "DefaultAzureCredential"
    assert type(credential_for(REPLAY)).__name__ == "AzureNamedKeyCredential"
