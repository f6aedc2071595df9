"""SharedKey verification agrees with the signature the real azure-batch SDK computes."""

from __future__ import annotations

import string
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_batch.emulator.auth import AuthPolicy, shared_key_header, string_to_sign, verify

pytest.importorskip("azure.batch")

KEY = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="
POLICY = AuthPolicy("acct", KEY)

segments = st.text(alphabet=string.ascii_letters + string.digits + "-_.~ %é", min_size=1, max_size=12)
values = st.text(alphabet=string.ascii_letters + string.digits + " -_:/,'=", max_size=16)
queries = st.dictionaries(st.sampled_from(["api-version", "maxresults", "timeout", "$filter", "$select"]), values)
headers = st.dictionaries(
    st.sampled_from(["ocp-date", "client-request-id", "If-Match", "If-None-Match", "Content-Type", "ocp-range"]),
    st.text(alphabet=string.ascii_letters + string.digits + " -:,", min_size=1, max_size=20),
)


def _sdk_signed(method: str, url: str, sent: dict[str, str], body: bytes | None) -> dict[str, str]:
    """Headers after the SDK's own SharedKey policy ran on the request."""
    from azure.batch._patch import BatchSharedKeyAuthPolicy
    from azure.core.credentials import AzureNamedKeyCredential
    from azure.core.pipeline import PipelineContext, PipelineRequest
    from azure.core.rest import HttpRequest

    request = HttpRequest(method, url, headers=dict(sent), content=body)
    BatchSharedKeyAuthPolicy(AzureNamedKeyCredential("acct", KEY)).on_request(
        PipelineRequest(request, PipelineContext(None))
    )
    return dict(request.headers)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    path=st.lists(segments, min_size=1, max_size=4),
    query=queries,
    sent=headers,
    body=st.one_of(st.none(), st.binary(min_size=1, max_size=30)),
)
def test_requests_signed_by_the_sdk_verify_and_any_change_is_refused(method, path, query, sent, body):
    from urllib.parse import quote

    url = "http://127.0.0.1:1/" + "/".join(quote(s, safe="") for s in path) + (f"?{urlencode(query)}" if query else "")
    signed = _sdk_signed(method, url, sent, body)
    parts = urlsplit(url)
    assert verify(POLICY, method, parts.path, parts.query, signed.items()) is None
    tampered = dict(signed, **{"ocp-date": signed.get("ocp-date", "") + "1"})
    assert verify(POLICY, method, parts.path, parts.query, tampered.items()).status == 403
    assert verify(POLICY, method, parts.path + "x", parts.query, signed.items()).status == 403
    assert verify(AuthPolicy("acct", "b3RoZXIta2V5"), method, parts.path, parts.query, signed.items()).status == 403


def test_string_to_sign_layout():
    text = string_to_sign(
        "POST",
        "/jobs",
        "api-version=2025-06-01&timeout=30&empty=",
        [("Content-Type", "application/json"), ("ocp-date", "D"), ("client-request-id", "c")],
        "acct",
    )
    assert text.split("\n") == [
        "POST", "", "", "0", "", "application/json", "", "", "", "", "", "",
        "ocp-date:D", "/acct/jobs", "api-version:2025-06-01", "timeout:30",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "authorization, status, words",
    [
        (None, 401, "no Authorization"),
        ("Basic abc", 401, "Unsupported authorization scheme"),
        ("Bearer token", 401, "not enabled"),
        ("SharedKey other:abc", 403, "account"),
        ("SharedKey acct:abc", 403, "signature"),
    ],
)
def test_refusals_say_why(authorization, status, words):
    sent = [] if authorization is None else [("Authorization", authorization)]
    failure = verify(POLICY, "GET", "/jobs", "api-version=2025-06-01", sent)
    assert failure.status == status and words in failure.detail


def test_bearer_tokens_when_configured():
    policy = AuthPolicy("acct", KEY, bearer=lambda token: token == "good")
    assert verify(policy, "GET", "/jobs", "", [("Authorization", "Bearer good")]) is None
    assert verify(policy, "GET", "/jobs", "", [("Authorization", "Bearer bad")]).status == 401


def test_shared_key_header_is_what_verify_accepts():
    sent = [("ocp-date", "Wed, 01 Jan 2025 00:00:00 GMT")]
    value = shared_key_header("acct", KEY, "GET", "/pools", "api-version=2025-06-01", sent)
    assert verify(POLICY, "GET", "/pools", "api-version=2025-06-01", [*sent, ("Authorization", value)]) is None
