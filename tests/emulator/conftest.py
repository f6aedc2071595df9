"""Fixtures for the emulator tests: a fresh emulator per test on a manual clock, an SDK client,
a raw SharedKey-signing HTTP helper, and a contract check of every exchange at teardown.

Every response the emulator sends in a test is validated by the project's engine against
the api-version the request named; any finding on the response side fails the test.
Findings on the request side fail it too, unless the test is marked `bad_input` (it sends
invalid requests on purpose and asserts on the 400s itself).
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from pytest_batch.emulator import Emulator, ManualClock
from pytest_batch.emulator.auth import shared_key_header
from pytest_batch.interaction import Interaction
from pytest_batch.validation import Validator

REQUEST_SIDE = ("request.",)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bad_input: the test sends invalid requests on purpose")


@pytest.fixture(scope="session")
def contract() -> Validator:
    return Validator()


@dataclass
class Exchanges:
    items: list[Interaction]

    def append(self, interaction: Interaction) -> None:
        self.items.append(interaction)


@pytest.fixture
def exchanges() -> Exchanges:
    return Exchanges([])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(request: pytest.FixtureRequest, clock: ManualClock, exchanges: Exchanges, contract: Validator):
    with Emulator(account="testaccount", clock=clock, tap=exchanges.append) as batch:
        yield batch
    allow_request_findings = request.node.get_closest_marker("bad_input") is not None
    problems = []
    for interaction in exchanges.items:
        for v in contract.check(interaction).violations:
            request_side = v.location == "request" or v.location.startswith(REQUEST_SIDE)
            if request_side and allow_request_findings:
                continue
            if request_side and v.rule is not None and interaction.status in (400, 413):
                continue  # a documented rule broken on purpose and refused: what the test is about
            problems.append(f"{interaction.method} {interaction.url} → {interaction.status}: {v.describe()}")
    assert not problems, "emulator exchanges break the contract:\n" + "\n".join(problems[:20])


@pytest.fixture
def client(emulator: Emulator):
    pytest.importorskip("azure.batch")
    batch_client = emulator.client()
    yield batch_client
    batch_client.close()


class Raw:
    """Signed raw HTTP against the emulator (what a client without the SDK sends)."""

    def __init__(self, emulator: Emulator) -> None:
        import requests

        self.emulator = emulator
        self.session = requests.Session()

    def __call__(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        api_version: str | None = "2025-06-01",
        sign: bool = True,
    ):
        query = dict(params or {})
        if api_version is not None:
            query = {"api-version": api_version, **query}
        url = self.emulator.endpoint + path + (("?" + urlencode(query)) if query else "")
        sent = dict(headers or {})
        body = data
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent.setdefault("Content-Type", "application/json; odata=minimalmetadata")
        if method.upper() not in ("GET", "HEAD"):
            sent.setdefault("Content-Length", str(len(body or b"")))
        sent.setdefault("ocp-date", "Wed, 01 Jan 2025 00:00:00 GMT")
        if sign:
            parts = urlsplit(url)
            sent["Authorization"] = shared_key_header(
                self.emulator.account, self.emulator.key, method, parts.path, parts.query, sent.items()
            )
        return self.session.request(method, url, data=body, headers=sent)


@pytest.fixture
def raw(emulator: Emulator) -> Raw:
    return Raw(emulator)
