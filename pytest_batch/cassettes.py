"""vcrpy glue for recording and replaying Batch traffic: a matcher, an atomic persister, a configured `VCR`.

Everything here plugs into vcrpy's own extension points (a matcher that raises `AssertionError`, a persister
class, `before_record_*` filters) instead of patching it. vcrpy costs ~190 ms to import, so it is imported only
inside the functions that need it; the matcher and `explain_miss` are pure and never import it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import RecordingError

if TYPE_CHECKING:  # pragma: no cover
    import vcr

# Query parameters that do not change what the service answers. `timeout` is the server-side time limit
# (clients vary it); `$skiptoken` is NOT here: it selects the page, so paging replays in order.
VOLATILE_QUERY = frozenset({"timeout"})

# The only request headers compared: they make the service answer differently (304/412, a byte range).
# Everything else is ignored, notably ocp-date, client-request-id, return-client-request-id, Authorization,
# User-Agent, x-ms-* ids, Host, Content-Length, Accept-Encoding (they vary per run, client or account).
MATCHED_HEADERS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "ocp-range")

RECORD_MODES = ("none", "once", "new_episodes", "all")

_MISSING = object()
_DAMAGED_HINT = "restore it from version control, or delete it and record again"


# -- matching ------------------------------------------------------------------------------------------------------


def _body_bytes(request: Any) -> bytes:
    body = getattr(request, "body_bytes", _MISSING)
    if body is _MISSING:
        body = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "getvalue"):
        return body.getvalue()
    return bytes(body)


def _json_or_bytes(body: bytes) -> Any:
    """The body as JSON data, or the raw bytes when it is not JSON (so the two are never confused)."""
    if not body.strip():
        return b""
    try:
        return json.loads(body)
    except ValueError:
        return body


def _pointer_token(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _same_leaf(a: Any, b: Any) -> bool:
    # bool is an int in Python; in JSON `true` and `1` are different values
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def first_difference(a: Any, b: Any, pointer: str = "") -> str | None:
    """The JSON pointer of the first place where two JSON documents differ (keys in sorted order), else None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys(), key=str):
            here = f"{pointer}/{_pointer_token(key)}"
            if key not in a or key not in b:
                return here
            found = first_difference(a[key], b[key], here)
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{pointer}/{index}")
            if found is not None:
                return found
        return None if len(a) == len(b) else f"{pointer}/{min(len(a), len(b))}"
    return None if _same_leaf(a, b) else pointer


@dataclass(frozen=True)
class _Key:
    """What identifies a request for replay, computed once per request."""

    method: str
    path: str
    api_version: str | None
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: Any


def _key(request: Any) -> _Key:
    parts = urlsplit(request.uri)
    api_version = None
    query = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "api-version":
            api_version = value
        elif name.lower() not in VOLATILE_QUERY:
            query.append((name, value))
    headers = {str(k).lower(): str(v) for k, v in request.headers.items()}
    return _Key(
        method=request.method.upper(),
        path=unquote(parts.path) or "/",
        api_version=api_version,
        query=tuple(sorted(query)),
        headers=tuple((h, headers[h]) for h in MATCHED_HEADERS if h in headers),
        body=_json_or_bytes(_body_bytes(request)),
    )


def _differences(new: _Key, recorded: _Key) -> list[str]:
    """One short phrase per part that differs, in the order a reader checks them."""
    found = []
    if new.method != recorded.method:
        found.append(f"method {new.method} != recorded {recorded.method}")
    if new.path != recorded.path:
        found.append(f"path {new.path} != recorded {recorded.path}")
    if new.api_version != recorded.api_version:
        found.append(f"api-version {new.api_version} != recorded {recorded.api_version}")
    if new.query != recorded.query:
        mine, theirs = dict(new.query), dict(recorded.query)
        names = sorted(n for n in mine.keys() | theirs.keys() if mine.get(n) != theirs.get(n))
        found.append(f"query parameters differ: {', '.join(names)}")
    if new.headers != recorded.headers:
        mine, theirs = dict(new.headers), dict(recorded.headers)
        names = sorted(n for n in mine.keys() | theirs.keys() if mine.get(n) != theirs.get(n))
        found.append(f"headers differ: {', '.join(names)}")
    if isinstance(new.body, bytes) or isinstance(recorded.body, bytes):
        if type(new.body) is not type(recorded.body) or new.body != recorded.body:
            found.append("body differs (not both JSON; compared as bytes)")
    else:
        pointer = first_difference(new.body, recorded.body)
        if pointer is not None:
            found.append(f"body differs at {pointer or '/'}")
    return found


def batch_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: same Batch operation call, ignoring host, volatile query and per-call headers.

    Compares method, percent-decoded path, `api-version`, the other query parameters except `timeout`, the
    conditional/range headers, and the body as JSON data (key order and whitespace do not matter).
    """
    found = _differences(_key(r1), _key(r2))
    if found:
        raise AssertionError("; ".join(found))


class ReplayMatcher:
    """`batch_matcher` for replay-only cassettes, with keys cached: vcrpy calls a matcher ~6 times per live
    request, each time with a fresh copy of it, and recomputing both keys was most of replay's overhead.

    Recorded keys are cached by request identity; live keys by the parts a key reads. With no
    `before_record_request` hook in replay (the recordings were sanitised when written), the live request is
    passed through `sanitize` once here, as its recording was, so a secret in it still matches its placeholder.
    """

    __name__ = "batch"  # vcrpy names matchers in its messages

    def __init__(self, sanitize: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.sanitize = sanitize
        self._recorded: dict[int, tuple[Any, _Key]] = {}
        self._live: dict[tuple, _Key] = {}

    def __call__(self, live: Any, recorded: Any) -> None:
        found = _differences(self.live_key(live), self.recorded_key(recorded))
        if found:
            raise AssertionError("; ".join(found))

    def recorded_key(self, request: Any) -> _Key:
        cached = self._recorded.get(id(request))
        if cached is None or cached[0] is not request:  # the identity check guards against a reused id
            cached = self._recorded[id(request)] = (request, _key(request))
        return cached[1]

    def live_key(self, request: Any) -> _Key:
        headers = request.headers
        matched = tuple((name, headers[name]) for name in MATCHED_HEADERS if name in headers)
        body = _body_bytes(request)
        ident = (request.method, request.uri, body, matched)
        key = self._live.get(ident)
        if key is None:
            clean = self.sanitize(
                {"method": request.method, "uri": request.uri, "headers": dict(matched), "body": body}
            )
            key = self._live[ident] = _key(SimpleNamespace(**clean))
        return key


def decode_if_compressed(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy's `decode_response`, called only for a compressed body (vcrpy's filter deep-copies every response)."""
    if any(str(name).lower() == "content-encoding" for name in (response.get("headers") or {})):
        from vcr.filters import decode_response

        return decode_response(response)
    return response


def explain_miss(request: Any, recorded_requests: Sequence[Any]) -> str:
    """Which recorded request came closest to `request` and what differed, in one or two lines.

    Closest is a request with the same method and path first, then the one with the fewest differences.
    """
    if not recorded_requests:
        return f"no match for {request.method} {urlsplit(request.uri).path}: the cassette has no recorded requests"
    key = _key(request)
    ranked = []
    for index, recorded in enumerate(recorded_requests):
        other = _key(recorded)
        found = _differences(key, other)
        same_call = other.method == key.method and other.path == key.path
        ranked.append((not same_call, len(found), index, other, found))
    _, _, index, other, found = min(ranked, key=lambda row: row[:3])
    if not found:
        return (
            f"no unplayed match for {key.method} {key.path}: recorded request #{index} matches but was already played"
        )
    return (
        f"no match for {key.method} {key.path}; closest recorded request #{index} "
        f"({other.method} {other.path}): " + "; ".join(found)
    )


# -- persisting ----------------------------------------------------------------------------------------------------


def _describe(error: BaseException) -> str:
    mark = getattr(error, "problem_mark", None)
    if mark is not None:  # a YAML syntax error: say where
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    if isinstance(error, KeyError):
        return f"not a vcrpy cassette: missing key {error.args[0]!r}"
    if isinstance(error, (TypeError, AttributeError, IndexError)):
        return "not a vcrpy cassette: expected a mapping with 'interactions' of request/response pairs"
    text = " ".join(str(error).split())
    return f"cannot be read: {text[:200]}"


def atomic_write(path: Path, data: str) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one, never a part.

    The text goes to a temporary file in the same directory (same file system), is fsynced, then replaces
    `path` with `os.replace`; on any failure the temporary file is removed and `path` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not every platform lets a directory be opened
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


class AtomicPersister:
    """vcrpy persister: atomic saves, and loads that refuse a damaged cassette instead of re-recording over it.

    vcrpy's own persister raises `CassetteDecodeError` for a bad file, which vcrpy treats as an empty cassette
    that recording then overwrites; this one raises `RecordingError` (file, problem, fix), which vcrpy lets
    through, so the file is left as it is.
    """

    @classmethod
    def load_cassette(cls, cassette_path: str | os.PathLike[str], serializer: Any) -> tuple[Any, ...]:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        try:
            data = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise RecordingError(str(path), "not UTF-8 text", hint=_DAMAGED_HINT) from None
        if not data.strip():  # as vcrpy does: an empty file is a cassette still to be recorded
            raise CassetteNotFoundError()
        try:
            return tuple(deserialize(data, serializer))
        except Exception as error:  # yaml, json, KeyError, TypeError... all mean "damaged"
            raise RecordingError(str(path), _describe(error), hint=_DAMAGED_HINT) from error

    @staticmethod
    def save_cassette(cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any) -> None:
        from vcr.serialize import serialize

        data = serialize(cassette_dict, serializer)  # before touching the disk: a failure here writes nothing
        atomic_write(Path(cassette_path), data)


class ReadOnlyPersister(AtomicPersister):
    """For record mode `none`: loads like `AtomicPersister`, never writes (the cassette's bytes and mtime stay)."""

    @staticmethod
    def save_cassette(cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any) -> None:
        return None


# -- configuration -------------------------------------------------------------------------------------------------


def vcr_config(
    cassette_dir: str | os.PathLike[str],
    record_mode: str,
    *,
    before_record_request: Any = None,
    before_record_response: Any = None,
    decode_compressed_response: bool = True,
) -> vcr.VCR:
    """A `vcr.VCR` for Batch cassettes: `batch` matcher, atomic (or read-only) persister, YAML, decoded bodies.

    `record_mode` is one of `none`, `once`, `new_episodes`, `all`. For `rewrite` (record afresh) the plugin
    records with `all` through a persister that starts empty (`recording.ScanningPersister(fresh=True)`), so
    the old file stays in place until the new one atomically replaces it.
    """
    if record_mode not in RECORD_MODES:
        raise ValueError(
            f"record mode {record_mode!r}: use one of {', '.join(RECORD_MODES)}"
            + (" (rewrite is 'all' with a persister that starts empty)" if record_mode == "rewrite" else "")
        )
    import vcr

    recorder = vcr.VCR(
        cassette_library_dir=os.fspath(cassette_dir),
        record_mode=record_mode,
        match_on=["batch"],
        serializer="yaml",
        decode_compressed_response=decode_compressed_response,
        before_record_request=before_record_request,
        before_record_response=before_record_response,
    )
    recorder.register_matcher("batch", batch_matcher)
    recorder.register_persister(ReadOnlyPersister if record_mode == "none" else AtomicPersister)
    return recorder
