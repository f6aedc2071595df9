"""Which Batch account a test talks to: a replay placeholder, the embedded emulator, or Azure.

`choose_target` is pure (settings, whether the test only replays, the environment) so every branch is
testable without an account; the plugin turns its answer into an endpoint and an azure-core credential.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import BatchContractError
from .sanitize import ACCOUNT_PLACEHOLDER, PLACEHOLDER_HOST

ENDPOINT_VARIABLE = "AZURE_BATCH_ENDPOINT"
ACCOUNT_VARIABLE = "AZURE_BATCH_ACCOUNT_NAME"
KEY_VARIABLE = "AZURE_BATCH_ACCOUNT_KEY"

REPLAY_ENDPOINT = f"https://{PLACEHOLDER_HOST}"
# Valid base64 of 64 bytes (the size Azure issues) so SharedKey signing works; it signs nothing real.
REPLAY_KEY = base64.b64encode(b"pytest-batch replay placeholder, not a key".ljust(64, b".")).decode("ascii")


class TargetError(BatchContractError):
    """Recording was asked for against Azure but the account is not configured."""


@dataclass(frozen=True, slots=True)
class BatchEndpoint:
    """The `batch_endpoint` fixture: where requests go and how they are signed.

    `kind` is `replay` (placeholders matching the sanitised cassettes; nothing is reached), `emulator`
    or `azure`. `key` is None when Azure is reached with an Entra ID token (`DefaultAzureCredential`).
    """

    url: str
    account: str
    key: str | None
    kind: str

    @property
    def live(self) -> bool:
        return self.kind != "replay"

    @property
    def polling_interval(self) -> float:
        """For azure-batch `begin_*` pollers: no waiting in replay, the SDK's 5 s default against Azure."""
        return {"replay": 0.0, "emulator": 0.05}.get(self.kind, 5.0)

    def signed_headers(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> dict[str, str]:
        """`headers` plus `ocp-date`, `Content-Length` and a SharedKey `Authorization`, for raw HTTP clients
        (requests, httpx, aiohttp, urllib3). Send exactly `body` with them: the signature covers its length."""
        if self.key is None:
            raise TargetError(
                "signed_headers needs an account key", hint="use batch_credentials with an azure-core pipeline"
            )
        from email.utils import formatdate

        from .emulator.auth import shared_key_header

        out = dict(headers or {})
        out.setdefault("ocp-date", formatdate(usegmt=True))
        if body or method.upper() not in ("GET", "HEAD"):
            out["Content-Length"] = str(len(body))
        parts = urlsplit(url)
        out["Authorization"] = shared_key_header(
            self.account, self.key, method, parts.path or "/", parts.query, out.items()
        )
        return out

    def __repr__(self) -> str:  # never show the key in a traceback or a log
        return f"BatchEndpoint(url={self.url!r}, account={self.account!r}, kind={self.kind!r})"


REPLAY = BatchEndpoint(REPLAY_ENDPOINT, ACCOUNT_PLACEHOLDER, REPLAY_KEY, "replay")


def choose_target(target: str, replays_only: bool, environ: Mapping[str, str]) -> BatchEndpoint | str:
    """The endpoint for a test, or `"emulator"` when the embedded emulator has to be started for it.

    Replay-only tests get the placeholders whatever the target, so CI needs neither an account nor a
    running emulator. Recording against `azure` needs `AZURE_BATCH_ENDPOINT`; with an account name and
    key it signs with SharedKey, with the endpoint alone it uses `DefaultAzureCredential`.
    """
    if replays_only:
        return REPLAY
    if target == "emulator":
        return "emulator"
    url = environ.get(ENDPOINT_VARIABLE, "").strip().rstrip("/")
    if not url:
        raise TargetError(
            f"--batch-target=azure needs {ENDPOINT_VARIABLE} to record",
            hint=f"set {ENDPOINT_VARIABLE} (and {ACCOUNT_VARIABLE}/{KEY_VARIABLE} for SharedKey), "
            "or record against the emulator with --batch-target=emulator",
        )
    if "://" not in url:
        url = f"https://{url}"
    host = urlsplit(url).hostname or ""
    account = environ.get(ACCOUNT_VARIABLE, "").strip() or host.split(".", 1)[0]
    key = environ.get(KEY_VARIABLE, "").strip() or None
    if key is not None:
        try:
            base64.b64decode(key, validate=True)
        except ValueError:
            raise TargetError(
                f"{KEY_VARIABLE} is not base64", hint="copy the account's primary or secondary key as Azure shows it"
            ) from None
    return BatchEndpoint(url, account, key, "azure")


def credential_for(endpoint: BatchEndpoint):  # -> azure.core.credentials.TokenCredential | AzureNamedKeyCredential
    """The azure-core credential for `endpoint` (imports azure-core / azure-identity only when called)."""
    if endpoint.key is not None:
        from azure.core.credentials import AzureNamedKeyCredential

        return AzureNamedKeyCredential(endpoint.account, endpoint.key)
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise TargetError(
            f"recording against Azure without {KEY_VARIABLE} needs azure-identity",
            hint=f"pip install azure-identity, or set {ACCOUNT_VARIABLE} and {KEY_VARIABLE}",
        ) from None
    return DefaultAzureCredential()
