"""Remove secrets from recorded traffic before it touches disk, and check afterwards that none are left.

Cassettes get committed, so a secret that reaches one is published. Two independent
layers guard against that:

- `Sanitizer`: a tuple of small pure `Rule`s applied to vcrpy's plain cassette data
  (request `{method, uri, headers, body}`, response `{status, headers, body}`). It
  returns new values and never mutates its input, so it is safe inside vcrpy's
  `before_record_*` hooks and before the persister writes. Replacements are fixed
  placeholders, so sanitising is idempotent and a live request sanitised at replay
  time still matches its sanitised recording (method + path + query).
- `scan`: a fail-closed detector of secret-shaped values (SharedKey signatures,
  bearer tokens/JWTs, SAS `sig`, account-key-sized base64, PKCS#12 blobs, private
  keys, sensitive properties) that knows nothing about the rules, so a gap in the
  rules shows up as a `Leak` instead of a published key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import SecretLeakError

__all__ = [
    "ACCOUNT_PLACEHOLDER",
    "PLACEHOLDER",
    "Leak",
    "Rule",
    "Sanitizer",
    "assert_clean",
    "default_rules",
    "literal_rule",
    "scan",
]

PLACEHOLDER = "REDACTED"
ACCOUNT_PLACEHOLDER = "ACCOUNT"
REGION_PLACEHOLDER = "REGION"

JsonPath = tuple["str | int", ...]
TextHook = Callable[[str], str]
HeaderHook = Callable[[str, str], str]
FieldHook = Callable[[JsonPath, Mapping[str, Any], str], str]


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Rule:
    """One named, pure redaction; it fills any of three hooks and the `Sanitizer` does the walking.

    - `text(s)`: every string: request URI, header values, non-JSON bodies, JSON string leaves.
    - `header(folded_name, value)`: each header value, name lower-cased.
    - `field(path, parent, value)`: each JSON string leaf, with its path and the object holding it,
      so a rule can decide by property name or by the shape around it.

    Hooks must be idempotent (a placeholder maps to itself), which keeps the whole
    sanitizer idempotent.
    """

    name: str
    text: TextHook | None = None
    header: HeaderHook | None = None
    field: FieldHook | None = None


# Authorization ---------------------------------------------------------------

_AUTH_HEADERS = frozenset({"authorization", "proxy-authorization", "x-ms-authorization-auxiliary"})
# App Service / Arc managed-identity endpoints authenticate the caller with these.
_SECRET_HEADERS = frozenset({"x-identity-header", "secret", "cookie", "set-cookie", "ocp-apim-subscription-key"})
_SHARED_KEY = re.compile(r"^\s*(SharedKey(?:Lite)?)\s+[^:\s]*:\S*\s*$", re.IGNORECASE)
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)\s+\S")


def _redact_authorization(name: str, value: str) -> str:
    if name in _SECRET_HEADERS:
        return value if not value else PLACEHOLDER
    if name not in _AUTH_HEADERS or not value.strip():
        return value
    shared = _SHARED_KEY.match(value)
    if shared:
        return f"{shared.group(1)} {ACCOUNT_PLACEHOLDER}:{PLACEHOLDER}"
    scheme = _SCHEME.match(value)
    return f"{scheme.group(1)} {PLACEHOLDER}" if scheme else PLACEHOLDER


# SAS -------------------------------------------------------------------------

# From "Create a service SAS" / "Create a user delegation SAS" (Azure Storage docs): `sig` is the
# HMAC, the secret. skoid/sktid/skdutid/saoid/suoid name the Entra principal and tenant the
# delegation key belongs to, so they are redacted too. skt/ske/sks/skv (key validity window,
# service, version), sv/se/st/sp/sr/sdd/ses/scid carry no key material and stay, which keeps
# expiry and permission problems debuggable from a cassette.
SAS_SECRET_PARAMETERS = ("sig", "skoid", "sktid", "skdutid", "saoid", "suoid")
# Also matches `&amp;sig=` (XML) and `%26sig%3D` (a SAS URL nested in another URL's query).
_SAS = re.compile(
    r"((?:[?&;]|%26|%3F)(?:" + "|".join(SAS_SECRET_PARAMETERS) + r")(?:=|%3D))([^&#\s\"'<>\\]*)",
    re.IGNORECASE,
)


def _redact_sas(text: str) -> str:
    if "=" not in text and "%3" not in text.upper():
        return text
    return _SAS.sub(lambda m: m.group(1) + (PLACEHOLDER if m.group(2) else ""), text)


# Account name ----------------------------------------------------------------

_BATCH_HOST = re.compile(
    r"(?<![A-Za-z0-9-])[A-Za-z0-9]{1,64}\.[A-Za-z0-9-]+\."
    r"(batch\.(?:azure\.com|chinacloudapi\.cn|usgovcloudapi\.net|cloudapi\.de))(?![A-Za-z0-9-])",
    re.IGNORECASE,
)
PLACEHOLDER_HOST = f"{ACCOUNT_PLACEHOLDER}.{REGION_PLACEHOLDER}.batch.azure.com"


def _redact_account(text: str) -> str:
    if "batch." not in text.lower():
        return text
    return _BATCH_HOST.sub(lambda m: f"{ACCOUNT_PLACEHOLDER}.{REGION_PLACEHOLDER}.{m.group(1).lower()}", text)


# Sensitive properties --------------------------------------------------------

# Generic by name: these never hold anything but a secret in Batch, Storage or token traffic.
# accountKey/sasKey: pool mountConfiguration (Azure Files, blobfuse); password: user accounts,
# node users, container registries, certificates, CIFS mounts.
SENSITIVE_PROPERTIES = frozenset(
    {
        "password",
        "accountkey",
        "saskey",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "client_assertion",
        "assertion",
    }
)
_CERTIFICATE_SIBLINGS = frozenset({"thumbprint", "thumbprintAlgorithm", "certificateFormat"})


def _is_certificate_data(path: JsonPath, parent: Mapping[str, Any]) -> bool:
    return bool(path) and path[-1] == "data" and not _CERTIFICATE_SIBLINGS.isdisjoint(parent)


def _is_key_listing(path: JsonPath, parent: Mapping[str, Any]) -> bool:
    # ARM: Batch `listKeys` {accountName, primary, secondary}; Storage `listKeys` {keys: [{keyName, value}]}.
    last = path[-1] if path else None
    return (last in ("primary", "secondary") and "accountName" in parent) or (last == "value" and "keyName" in parent)


def _is_sensitive(path: JsonPath, parent: Mapping[str, Any]) -> bool:
    """A JSON leaf that holds a secret by its name or by the object around it (scanner and rule agree)."""
    last = path[-1] if path else None
    if isinstance(last, str) and last.lower() in SENSITIVE_PROPERTIES:
        return True
    return _is_certificate_data(path, parent) or _is_key_listing(path, parent)


def _redact_field(path: JsonPath, parent: Mapping[str, Any], value: str) -> str:
    if not value or value == PLACEHOLDER:
        return value
    return PLACEHOLDER if _is_sensitive(path, parent) else value


# Token endpoints: form-encoded bodies (and query strings) of OAuth2 requests.
_FORM_SECRET = re.compile(
    r"((?:^|[&?])(?:access_token|refresh_token|id_token|client_secret|client_assertion|assertion|password)=)([^&]*)",
    re.IGNORECASE,
)
_CONNECTION_KEY = re.compile(r"((?:AccountKey|SharedAccessSignature|SharedAccessKey)=)([^;\"&\s]+)", re.IGNORECASE)


def _redact_form(text: str) -> str:
    if "=" not in text:
        return text
    text = _FORM_SECRET.sub(lambda m: m.group(1) + (PLACEHOLDER if m.group(2) else ""), text)
    return _CONNECTION_KEY.sub(lambda m: m.group(1) + PLACEHOLDER, text)


# Shapes that are secrets wherever they appear.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_ACCOUNT_KEY = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")


def _redact_shapes(text: str) -> str:
    if "eyJ" in text:
        text = _JWT.sub(PLACEHOLDER, text)
    if "==" in text:
        text = _ACCOUNT_KEY.sub(PLACEHOLDER, text)
    return text


def default_rules() -> tuple[Rule, ...]:
    """The rules every sanitizer starts from; users append theirs (`Sanitizer(default_rules() + (...,))`)."""
    return (
        Rule("authorization", header=_redact_authorization),
        Rule("sas", text=_redact_sas),
        Rule("batch_account", text=_redact_account),
        Rule("sensitive_properties", field=_redact_field),
        Rule("token_forms", text=_redact_form),
        Rule("secret_shapes", text=_redact_shapes),
    )


def literal_rule(name: str, secret: str, placeholder: str = PLACEHOLDER) -> Rule:
    """A rule replacing one known literal (an account name, a key from the environment) everywhere."""
    if not secret:
        raise ValueError("literal_rule needs a non-empty secret")
    return Rule(name, text=lambda text: text.replace(secret, placeholder) if secret in text else text)


# --------------------------------------------------------------------------- sanitizer


@dataclass(frozen=True, slots=True)
class Sanitizer:
    """Applies its rules, in order, to cassette data; returns new values, never mutates the input."""

    rules: tuple[Rule, ...] = field(default_factory=default_rules)

    def with_rules(self, *rules: Rule) -> Sanitizer:
        """A new sanitizer with `rules` appended."""
        return Sanitizer(self.rules + rules)

    def text(self, text: str) -> str:
        for rule in self.rules:
            if rule.text is not None:
                text = rule.text(text)
        return text

    def request(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Sanitise a vcrpy request dict (`{method, uri, headers, body}`, as in `Request._to_dict()`)."""
        out = dict(request)
        if isinstance(request.get("uri"), str):
            out["uri"] = self.text(request["uri"])
        self._message(request, out)
        return out

    def response(self, response: Mapping[str, Any]) -> dict[str, Any]:
        """Sanitise a vcrpy response dict (`{status, headers, body: {string}}`)."""
        out = dict(response)
        self._message(response, out)
        return out

    def interaction(self, interaction: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(interaction)
        if isinstance(interaction.get("request"), Mapping):
            out["request"] = self.request(interaction["request"])
        if isinstance(interaction.get("response"), Mapping):
            out["response"] = self.response(interaction["response"])
        return out

    def cassette(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Sanitise a whole cassette (`{interactions: [...], version}`)."""
        out = dict(data)
        interactions = data.get("interactions")
        if isinstance(interactions, list):
            out["interactions"] = [self.interaction(i) if isinstance(i, Mapping) else i for i in interactions]
        return out

    # -- parts

    def _message(self, original: Mapping[str, Any], out: dict[str, Any]) -> None:
        headers = original.get("headers")
        if isinstance(headers, Mapping):
            out["headers"] = self._headers(headers)
        if "body" not in original:
            return
        body = original["body"]
        if isinstance(body, Mapping) and "string" in body:
            new_inner = self._body(body["string"])
            changed = new_inner is not body["string"]
            out["body"] = {**body, "string": new_inner}
        else:
            new_body = self._body(body)
            changed = new_body is not body
            out["body"] = new_body
        if changed and isinstance(out.get("headers"), Mapping):
            out["headers"] = _fix_content_length(out["headers"], _body_length(out["body"]))

    def _headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in headers.items():
            folded = str(name).lower()
            if isinstance(value, (list, tuple)):
                out[name] = type(value)(self._header_value(folded, v) for v in value)
            else:
                out[name] = self._header_value(folded, value)
        return out

    def _header_value(self, folded: str, value: Any) -> Any:
        if isinstance(value, bytes):
            return self._header_value(folded, value.decode("latin-1")).encode("latin-1")
        if not isinstance(value, str):
            return value
        for rule in self.rules:
            if rule.header is not None:
                value = rule.header(folded, value)
        return self.text(value)

    def _body(self, body: Any) -> Any:
        """New body of the same type, or the very same object when nothing changed."""
        if isinstance(body, bytes):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return body  # binary (file download, gzip): nothing textual to redact
            new = self._text_body(text)
            return body if new is text else new.encode("utf-8")
        if isinstance(body, str):
            return self._text_body(body)
        if isinstance(body, (dict, list)):
            return self._json(body, ())
        return body

    def _text_body(self, text: str) -> str:
        document = _json_document(text)
        if document is not _NOT_JSON:
            new = self._json(document, ())
            if new is document:
                return text
            return json.dumps(new, ensure_ascii=False, separators=(",", ":"))
        new_text = self.text(text)
        return text if new_text == text else new_text

    def _json(self, value: Any, path: JsonPath, parent: Mapping[str, Any] | None = None) -> Any:
        if isinstance(value, str):
            new = value
            if parent is not None:
                for rule in self.rules:
                    if rule.field is not None:
                        new = rule.field(path, parent, new)
            new = self.text(new)
            return value if new == value else new
        if isinstance(value, dict):
            items = {k: self._json(v, (*path, k), value) for k, v in value.items()}
            return value if all(items[k] is v for k, v in value.items()) else items
        if isinstance(value, list):
            elements = [self._json(v, (*path, i), parent) for i, v in enumerate(value)]
            return value if all(a is b for a, b in zip(elements, value)) else elements
        return value


def _body_length(body: Any) -> int | None:
    inner = body.get("string") if isinstance(body, Mapping) else body
    if isinstance(inner, bytes):
        return len(inner)
    if isinstance(inner, str):
        return len(inner.encode("utf-8"))
    return None


def _fix_content_length(headers: Mapping[str, Any], length: int | None) -> dict[str, Any]:
    """Keep Content-Length true after a redaction changed the body, or replay clients cut or wait."""
    out = dict(headers)
    if length is None:
        return out
    for name, value in headers.items():
        if str(name).lower() == "content-length":
            out[name] = [str(length)] if isinstance(value, list) else str(length)
    return out


# --------------------------------------------------------------------------- scanner


@dataclass(frozen=True, slots=True)
class Leak:
    """A secret-shaped value found in cassette data; `excerpt` is itself redacted."""

    interaction: int
    side: str  # "request" | "response"
    where: str  # "url", "headers.Authorization", "body", "body#/resourceFiles/0/httpUrl"
    kind: str
    excerpt: str

    @property
    def location(self) -> str:
        return f"interactions[{self.interaction}].{self.side}.{self.where}"

    def __str__(self) -> str:
        return f"{self.location}: {self.kind} ({self.excerpt})"


# Order matters: earlier kinds claim their span, later ones skip overlapping matches.
_DETECTORS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("private_key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"), 0),
    ("shared_key", re.compile(r"SharedKey(?:Lite)?\s+[^:\s]*:([A-Za-z0-9+/]{43}=)", re.IGNORECASE), 1),
    ("bearer_token", re.compile(r"Bearer\s+([A-Za-z0-9._~+/-]{16,}=*)"), 1),
    ("jwt", _JWT, 0),
    ("sas_signature", re.compile(r"(?:[?&;]|%26|%3F)sig(?:=|%3D)([^&#\s\"'<>\\]+)", re.IGNORECASE), 1),
    ("pkcs12", re.compile(r"(?<![A-Za-z0-9+/])MII[A-Za-z0-9+/]{200,}={0,2}"), 0),
    ("account_key", _ACCOUNT_KEY, 0),
    ("form_secret", re.compile(_FORM_SECRET.pattern, re.IGNORECASE), 2),
    ("connection_string_key", _CONNECTION_KEY, 2),
)
# Public by definition: the .cer part of a certificate that Certificate_Get returns.
_PUBLIC_PROPERTIES = frozenset({"publicData"})


def _excerpt(value: str) -> str:
    return f"{value[:4]}…[{len(value)} chars]"


def _find_in_text(text: str, *, public: bool = False) -> Iterator[tuple[str, str]]:
    claimed: list[tuple[int, int]] = []
    for kind, pattern, group in _DETECTORS:
        if public and kind == "pkcs12":
            continue
        for match in pattern.finditer(text):
            secret = match.group(group)
            if not secret or secret == PLACEHOLDER:
                continue
            start, end = match.span()
            if any(start < e and s < end for s, e in claimed):
                continue
            claimed.append((start, end))
            yield kind, _excerpt(secret)


def _pointer(path: JsonPath) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _scan_json(value: Any, path: JsonPath, parent: Mapping[str, Any] | None) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, str):
        where = "body#" + _pointer(path)
        last = path[-1] if path else None
        if value and value != PLACEHOLDER and parent is not None and _is_sensitive(path, parent):
            yield where, "sensitive_property", f"{last}={_excerpt(value)}"
            return
        for kind, excerpt in _find_in_text(value, public=last in _PUBLIC_PROPERTIES):
            yield where, kind, excerpt
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _scan_json(item, (*path, key), value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _scan_json(item, (*path, index), parent)


def _scan_body(body: Any) -> Iterator[tuple[str, str, str]]:
    if isinstance(body, Mapping) and "string" in body:
        body = body["string"]
    if isinstance(body, (dict, list)):
        yield from _scan_json(body, (), None)
        return
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")  # binary bodies still show ASCII secrets
    if not isinstance(body, str) or not body:
        return
    document = _json_document(body)
    if document is not _NOT_JSON:
        yield from _scan_json(document, (), None)
        return
    for kind, excerpt in _find_in_text(body):
        yield "body", kind, excerpt


def _scan_message(message: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    uri = message.get("uri")
    if isinstance(uri, str):
        for kind, excerpt in _find_in_text(uri):
            yield "url", kind, excerpt
    headers = message.get("headers")
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            folded = str(name).lower()
            for item in values:
                if isinstance(item, bytes):
                    item = item.decode("latin-1")
                if not isinstance(item, str) or not item:
                    continue
                if folded in _SECRET_HEADERS and item != PLACEHOLDER:
                    yield f"headers.{name}", "secret_header", _excerpt(item)
                    continue
                for kind, excerpt in _find_in_text(item):
                    yield f"headers.{name}", kind, excerpt
    if "body" in message:
        yield from _scan_body(message["body"])


def scan(cassette_data: Mapping[str, Any] | list[Any]) -> list[Leak]:
    """Every secret-shaped value in a cassette (`{interactions: [...]}` or a list of interactions).

    Independent of the rules on purpose: it looks at URLs, all header values and
    bodies (JSON walked by pointer, other text as a whole) for shapes, not names.
    """
    interactions = cassette_data.get("interactions") if isinstance(cassette_data, Mapping) else cassette_data
    leaks: list[Leak] = []
    for index, interaction in enumerate(interactions or ()):
        if not isinstance(interaction, Mapping):
            continue
        for side in ("request", "response"):
            message = interaction.get(side)
            if isinstance(message, Mapping):
                leaks.extend(Leak(index, side, where, kind, excerpt) for where, kind, excerpt in _scan_message(message))
    return leaks


def assert_clean(cassette_data: Mapping[str, Any] | list[Any], path: str) -> None:
    """Raise `SecretLeakError` naming the first leak (and how many more) if `scan` finds anything."""
    leaks = scan(cassette_data)
    if leaks:
        first = leaks[0]
        more = f" and {len(leaks) - 1} more" if len(leaks) > 1 else ""
        raise SecretLeakError(
            path,
            first.location,
            f"{first.kind} ({first.excerpt}){more}",
            leaks=tuple(leaks),
            hint="add a sanitize Rule for this value (Sanitizer.with_rules) and re-record; do not commit this cassette",
        )


_NOT_JSON = object()


def _json_document(text: str) -> Any:
    """The JSON object or array a text body holds (a BOM and whitespace allowed), else `_NOT_JSON`."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] not in ("{", "["):
        return _NOT_JSON
    try:
        return json.loads(stripped)
    except ValueError:
        return _NOT_JSON
