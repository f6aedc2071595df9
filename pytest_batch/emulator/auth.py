"""Batch request authentication: SharedKey (the exact Batch string-to-sign) and Bearer tokens.

Pure functions: the emulator recomputes the signature the client should have sent and
compares it in constant time. The canonical form is the one Batch documents and the
`azure-batch` SDK's `BatchSharedKeyAuthPolicy` produces: the verb, eleven standard headers
(`Content-Length` is "0" for a body-less write), the `ocp-*` headers sorted by name, then
`/account/path` and the query parameters sorted by name (first value, empty ones omitted).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request was refused: status 401 (no usable credentials) or 403 (wrong ones)."""

    status: int
    detail: str


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """What the emulator accepts. `bearer` is None (Bearer refused), or a predicate on the token."""

    account: str
    key: str
    bearer: Callable[[str], bool] | None = None

    def check(
        self, method: str, path: str, query: str, headers: Iterable[tuple[str, str]]
    ) -> AuthFailure | None:
        return verify(self, method, path, query, headers)


def string_to_sign(
    method: str, path: str, query: str, headers: Iterable[tuple[str, str]], account: str
) -> str:
    """The canonical request text that a SharedKey signature covers.

    `path` is the raw (percent-encoded) request path as sent; `query` the raw query string.
    """
    folded: dict[str, str] = {}
    ocp: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if not value:
            continue
        folded.setdefault(lower, value)
        if "ocp-" in lower:
            ocp.append((lower, value))
    if method.upper() not in ("GET", "HEAD"):
        folded.setdefault("content-length", "0")
    lines = [method.upper(), *(folded.get(name, "") for name in SIGNED_HEADERS)]
    text = "\n".join(lines) + "\n"
    text += "".join(f"{name}:{value}\n" for name, value in sorted(ocp))
    text += f"/{account}{path}"
    params = parse_qs(query, keep_blank_values=False)
    for name in sorted(params):
        value = params[name][0]
        if value:
            text += f"\n{name}:{value}"
    return text


def sign(key: str, text: str) -> str:
    """Base64 HMAC-SHA256 of `text` under the base64 account `key`."""
    secret = base64.b64decode(key.encode("utf-8"))
    digest = hmac.new(secret, text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def shared_key_header(
    account: str, key: str, method: str, path: str, query: str, headers: Iterable[tuple[str, str]]
) -> str:
    """The `Authorization` value a client must send (used by tests and raw-HTTP helpers)."""
    return f"SharedKey {account}:{sign(key, string_to_sign(method, path, query, list(headers), account))}"


def verify(
    policy: AuthPolicy, method: str, path: str, query: str, headers: Iterable[tuple[str, str]]
) -> AuthFailure | None:
    """None when the request is authenticated, else the failure to report."""
    pairs = list(headers)
    lookup: Mapping[str, str] = {name.lower(): value for name, value in reversed(pairs)}
    authorization = lookup.get("authorization", "").strip()
    if not authorization:
        return AuthFailure(401, "The request has no Authorization header (SharedKey or Bearer).")
    scheme, _, credentials = authorization.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        if policy.bearer is None:
            return AuthFailure(401, "Bearer tokens are not enabled on this emulator (configure bearer=...).")
        if not policy.bearer(credentials.strip()):
            return AuthFailure(401, "The Bearer token was not accepted.")
        return None
    if scheme != "sharedkey":
        return AuthFailure(401, f"Unsupported authorization scheme {scheme!r}; use SharedKey or Bearer.")
    account, _, signature = credentials.strip().rpartition(":")
    if account != policy.account:
        return AuthFailure(403, f"The SharedKey account {account!r} is not this emulator's account {policy.account!r}.")
    try:
        expected = sign(policy.key, string_to_sign(method, path, query, pairs, policy.account))
    except (binascii.Error, ValueError):
        return AuthFailure(403, "The emulator's account key is not valid base64.")
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        return AuthFailure(
            403,
            "The MAC signature found in the HTTP request is not the same as any computed signature.",
        )
    return None
