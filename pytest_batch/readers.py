"""Read recording files (vcrpy cassettes, Azure SDK test-proxy recordings) into `Interaction`s.

Recorded traffic is the input of every offline check, and it arrives in three
serialisations that are told apart by content, never by file name: vcrpy YAML,
vcrpy's JSON (usually still called `.yaml`) and the test-proxy's JSON
`{"Entries": [...]}`. Each has its own idea of headers, status and, above all,
bodies (text, `{string: ...}`, `!!binary`, JSON documents stored as objects,
lists of lines, base64). This module hides all of that behind one generator
that yields `Interaction`s with raw `bytes` bodies.

Bad content never raises: a file that cannot be read at all yields one
`RecordingError`; a single broken interaction yields a `RecordingError` with
its index and reading goes on. Each file is parsed once, by `json` or by
libyaml's event parser feeding an iterative builder (faster than PyYAML's
constructor, and immune to the C-stack overflow that deeply nested YAML
causes in libyaml's composer); only one file's data is alive at a time.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import MappingProxyType

import orjson
import yaml

from .errors import RecordingError
from .interaction import Headers, Interaction, Source

__all__ = ["RECORDING_SUFFIXES", "iter_recording_files", "read_recording"]

RECORDING_SUFFIXES = (".yaml", ".yml", ".json")

_YAML_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PY = "tag:yaml.org,2002:python/"


# --------------------------------------------------------------------------- YAML loader


def _construct_tuple(loader: yaml.SafeLoader, node: yaml.Node) -> tuple:
    return tuple(loader.construct_sequence(node))


def _construct_bytesio(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    # vcrpy once pickled file-like request bodies as `!!python/object/new:_io.BytesIO`
    # with the content in `state[0]`. Only that content is read; no object is built.
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a mapping for BytesIO", node.start_mark)
    state = loader.construct_mapping(node, deep=True).get("state")
    data = state[0] if isinstance(state, (list, tuple)) and state else b""
    return data.encode("utf-8") if isinstance(data, str) else data


def _construct_iter(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    # vcrpy once stored iterator request bodies as `!!python/object/apply:builtins.iter`
    # with the chunks in `args[0]`; the chunks are joined, nothing is called.
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a mapping for iter", node.start_mark)
    args = loader.construct_mapping(node, deep=True).get("args")
    chunks = args[0] if isinstance(args, (list, tuple)) and args else []
    if isinstance(chunks, (list, tuple)) and all(isinstance(c, (bytes, str)) for c in chunks):
        return b"".join(c.encode("utf-8") if isinstance(c, str) else c for c in chunks)
    return chunks


_SAFE = yaml.SafeLoader
_CONSTRUCTORS = MappingProxyType(
    {
        **_SAFE.yaml_constructors,
        # Python 2 era vcrpy wrote these for plain values; `bytes` is base64 like `!!binary`.
        _PY + "str": _SAFE.construct_yaml_str,
        _PY + "unicode": _SAFE.construct_yaml_str,
        _PY + "bytes": _SAFE.construct_yaml_binary,
        _PY + "int": _SAFE.construct_yaml_int,
        _PY + "long": _SAFE.construct_yaml_int,
        _PY + "float": _SAFE.construct_yaml_float,
        _PY + "bool": _SAFE.construct_yaml_bool,
        _PY + "none": _SAFE.construct_yaml_null,
        _PY + "tuple": _construct_tuple,
        _PY + "object/new:_io.BytesIO": _construct_bytesio,
        _PY + "object/apply:builtins.iter": _construct_iter,
    }
)


class _CassetteLoader(_YAML_BASE):  # type: ignore[misc, valid-type]
    """Safe (libyaml when available) loader that also reads the harmless Python tags of old vcrpy files.

    The extra constructors live on this subclass only; no `!!python/object` tag
    is honoured beyond the two vcrpy body shapes, which are read as plain data.
    """

    yaml_constructors = _CONSTRUCTORS


class _PureCassetteLoader(yaml.SafeLoader):
    """The same loader in pure Python: its recursion ends in `RecursionError`, never a crash."""

    yaml_constructors = _CONSTRUCTORS


_STR = "tag:yaml.org,2002:str"
_PLAIN_COLLECTIONS = frozenset({None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_SPECIAL_KEYS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
_NO_KEY = object()


class _NeedsFullLoader(Exception):
    """The document uses a YAML feature the fast builder leaves to PyYAML."""


class _TooDeep(Exception):
    """Nesting beyond `_MAX_DEPTH`; carries the 1-based line where it happened."""


# About what `json.loads` accepts under the default recursion limit. Also bounds
# libyaml's scanner, whose cost grows with the square of flow nesting depth.
_MAX_DEPTH = 1000


def _load_yaml(text: str) -> object:
    """Parse YAML with the (C) safe loader and build plain data straight from its events.

    Cassettes are mostly strings, maps and lists. Building those from parser
    events, with an explicit stack, skips PyYAML's node tree and generic
    constructors (about twice as fast) and cannot overflow the C stack on
    absurdly deep nesting, which libyaml's recursive composer does (segfault).
    Tagged collections, merge keys and complex keys are rare; for those the
    whole document goes to the pure-Python loader.
    """
    try:
        return _build_from_events(_CassetteLoader(text))
    except _NeedsFullLoader:
        return yaml.load(text, Loader=_PureCassetteLoader)


def _build_from_events(loader: yaml.SafeLoader) -> object:
    """Equivalent of `loader.get_single_data()` for plain documents, with an explicit stack."""
    events = yaml.events
    scalar_event, alias_event = events.ScalarEvent, events.AliasEvent
    mapping_start, sequence_start = events.MappingStartEvent, events.SequenceStartEvent
    mapping_end, sequence_end = events.MappingEndEvent, events.SequenceEndEvent
    get = loader.get_event
    resolve = loader.resolve
    plain: dict[str, object] = {}  # an untagged plain scalar's value depends on its text only
    anchors: dict[str, object] = {}
    stack: list[tuple[list | dict | None, object]] = []  # enclosing (collection, pending key)
    top: list | dict | None = None  # innermost open collection
    key: object = _NO_KEY  # pending key while `top` is a map
    try:
        get()  # StreamStartEvent
        event = get()
        if event.__class__ is events.StreamEndEvent:
            return None
        document_mark = event.start_mark
        while True:
            event = get()
            kind = event.__class__
            if kind is scalar_event:
                tag = event.tag
                if tag is None or tag == "!":
                    if not event.implicit[0]:  # quoted: always a string
                        value = event.value
                    elif event.value in plain:
                        value = plain[event.value]
                    else:
                        tag = resolve(yaml.ScalarNode, event.value, event.implicit)
                        value = plain[event.value] = _scalar(loader, event, tag)
                else:
                    value = _scalar(loader, event, tag)
                if event.anchor is not None:
                    anchors[event.anchor] = value
            elif kind is mapping_start or kind is sequence_start:
                if event.tag not in _PLAIN_COLLECTIONS:
                    raise _NeedsFullLoader
                value = {} if kind is mapping_start else []
                if event.anchor is not None:
                    anchors[event.anchor] = value
                if top.__class__ is list:
                    top.append(value)
                elif top is not None:
                    if key is _NO_KEY:  # a collection as a key
                        raise _NeedsFullLoader
                    top[key] = value
                    key = _NO_KEY
                if len(stack) >= _MAX_DEPTH:
                    raise _TooDeep(event.start_mark.line + 1)
                stack.append((top, key))
                top, key = value, _NO_KEY
                continue
            elif kind is mapping_end or kind is sequence_end:
                value = top
                top, key = stack.pop()
                if top is None:
                    break
                continue
            elif kind is alias_event:
                if event.anchor not in anchors:
                    raise yaml.composer.ComposerError(
                        None, None, f"found undefined alias {event.anchor!r}", event.start_mark
                    )
                value = anchors[event.anchor]
                if key is _NO_KEY and top.__class__ is dict and isinstance(value, (list, dict)):
                    raise _NeedsFullLoader  # a collection as a key
            else:  # pragma: no cover - the parser emits nothing else inside a document
                raise _NeedsFullLoader
            if top is None:  # the document is a single scalar
                break
            if top.__class__ is list:
                top.append(value)
            elif key is _NO_KEY:
                key = value
            else:
                top[key] = value
                key = _NO_KEY
        get()  # DocumentEndEvent
        event = get()
        if event.__class__ is not events.StreamEndEvent:
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                document_mark,
                "but found another document",
                event.start_mark,
            )
        return value
    finally:
        loader.dispose()


def _scalar(loader: yaml.SafeLoader, event: yaml.ScalarEvent, tag: str) -> object:
    if tag == _STR:
        return event.value
    if tag in _SPECIAL_KEYS:  # `<<` merge and `=` value keys: PyYAML flattens those
        raise _NeedsFullLoader
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, IndexError, AttributeError, TypeError):  # PyYAML's constructors on bad text
        shown = tag.replace("tag:yaml.org,2002:", "!!")
        raise yaml.constructor.ConstructorError(
            None, None, f"{event.value[:40]!r} is not a valid {shown} value", event.start_mark
        ) from None


# --------------------------------------------------------------------------- files


def iter_recording_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Expand files and folders into recording files, in a deterministic order.

    A file is yielded as given, whatever its name. A folder is walked
    recursively for `*.yaml`, `*.yml` and `*.json` (any case), skipping hidden
    folders and files, sorted by path. All paths are checked before anything is
    yielded: a missing one raises `RecordingError`. A file reached twice is
    yielded once.
    """
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise RecordingError(
                str(root),
                "no such file or folder",
                hint="check the path (relative paths start at the current directory)",
            )
    seen: set[str] = set()
    for root in roots:
        files = [root] if not root.is_dir() else _walk(root)
        for file in files:
            key = os.path.realpath(file)
            if key not in seen:
                seen.add(key)
                yield file


def _walk(root: Path) -> list[Path]:
    found: list[tuple[tuple[str, ...], Path]] = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        base = Path(folder)
        rel = base.relative_to(root).parts
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(RECORDING_SUFFIXES):
                found.append(((*rel, name), base / name))
    found.sort(key=lambda item: item[0])
    return [path for _, path in found]


# --------------------------------------------------------------------------- reading


class _Bad(Exception):
    """One interaction is malformed; carries the one-line problem."""


def read_recording(path: str | os.PathLike) -> Iterator[Interaction | RecordingError]:
    """Yield every interaction of one recording file, or `RecordingError`s; never raises for content.

    A file that cannot be read as a whole yields exactly one `RecordingError`
    and nothing else. A malformed interaction yields a `RecordingError` with
    its index and the rest of the file is still read.
    """
    file = str(path)
    document, bent = _load(file)
    if bent:
        # orjson's document (numbers beyond 64 bits bent to floats) holds for text bodies, the vcrpy norm;
        # the file is converted up front and read again exactly if a structured body turns up
        try:
            yield from list(_converted(file, document, exact=False))
            return
        except _Inexact:
            document, _ = _load(file, exact=True)
    yield from _converted(file, document, exact=True)


class _Inexact(Exception):
    """A structured body met in a document orjson parsed: its numbers must be read exactly."""


def _converted(file: str, document: object, *, exact: bool) -> Iterator[Interaction | RecordingError]:
    if isinstance(document, RecordingError):
        yield document
        return
    if isinstance(document, dict) and "interactions" in document:
        items, convert, what = document["interactions"], _from_vcr, "interactions"
    elif isinstance(document, dict) and "Entries" in document:
        if not exact:
            raise _Inexact  # test-proxy bodies are JSON documents
        items, convert, what = document["Entries"], _from_proxy, "Entries"
    else:
        yield _error(file, _shape_problem(document), hint=_SHAPE_HINT)
        return
    del document
    if items is None:
        return
    if not isinstance(items, list):
        yield _error(file, f"{what} is {_kind(items)}, expected a list", hint=_SHAPE_HINT)
        return
    for index, item in enumerate(items):
        try:
            result: Interaction | RecordingError = convert(item, Source(file, index), exact, True)
        except _Inexact:
            raise
        except _Bad as bad:
            if not exact and _has_structured_body(item):
                raise _Inexact from None
            result = _error(file, str(bad), index=index, hint=f"re-record the cassette or fix interaction {index}")
        except Exception as exc:  # noqa: BLE001 - last guard: content must never crash a run
            if not exact and _has_structured_body(item):
                raise _Inexact from None
            result = _error(
                file,
                f"cannot be read ({type(exc).__name__}: {exc})",
                index=index,
                hint=f"re-record the cassette or fix interaction {index}; please report this case",
            )
        yield result


def interaction_from_vcr(item: object, source: Source) -> Interaction:
    """One vcrpy interaction (`{request: {...}, response: {...}}`, as vcrpy holds it in memory) as an
    `Interaction`; a malformed one raises `RecordingError` naming `source`."""
    try:
        return _from_vcr(item, source)
    except _Bad as bad:
        raise _error(source.file, str(bad), index=source.index, hint="re-record the cassette") from None


_SHAPE_HINT = (
    'pass a vcrpy cassette ({interactions: [...]}) or a test-proxy recording ({"Entries": [...]}), or re-record it'
)


def _load(file: str, *, exact: bool = False) -> tuple[object, bool]:
    """Parse the whole file once: (the document or a `RecordingError`, whether orjson parsed it).

    orjson is ~1.7x faster than json on cassette files but reads integers beyond 64 bits as
    floats; `exact` parses JSON with `json` (for documents whose bodies are JSON values).
    """
    try:
        with open(file, "rb") as handle:
            raw = handle.read()
    except IsADirectoryError:
        return _error(file, "is a folder, not a file", hint="expand folders with iter_recording_files()"), False
    except FileNotFoundError:
        return _error(file, "no such file", hint="check the path"), False
    except OSError as exc:
        return _error(file, f"cannot be opened ({exc.strerror or exc})", hint="check the file's permissions"), False
    if not exact and raw[:1] == b"{":
        try:
            return orjson.loads(raw), True  # UTF-8 checked by orjson: no decoded copy of the file
        except orjson.JSONDecodeError:
            pass  # the text path below words the error (or reads YAML flow style, NaN and the like)
    return _load_text(file, raw, exact), False


def _load_text(file: str, raw: bytes, exact: bool) -> object:
    text = _decode(file, raw)
    del raw
    if isinstance(text, RecordingError):
        return text
    start = _LEADING_SPACE.match(text).end()
    if start == len(text):
        return _error(file, "is empty", hint="re-record the cassette or delete the empty file")

    json_error: json.JSONDecodeError | None = None
    if text[start] == "{":
        if not exact:
            try:
                document = orjson.loads(text)
            except orjson.JSONDecodeError:
                pass  # json.loads below words the error (or accepts NaN and the like)
            else:
                if not _has_structured_bodies(document):
                    return document
                # orjson reads integers beyond 64 bits as floats: structured bodies are re-read exactly
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            json_error = exc  # may still be YAML flow style; try YAML below
        except RecursionError:
            return _error(file, "is nested too deeply to read", hint="re-record the cassette")
        except ValueError as exc:  # e.g. an integer longer than Python's int-digits limit
            return _error(file, f"cannot be read as JSON ({exc})", hint="re-record the cassette")

    try:
        document = _load_yaml(text)
    except yaml.YAMLError as exc:
        if json_error is not None and _JSON_LIKE.match(text):
            return _json_problem(file, text, json_error)
        return _yaml_problem(file, exc)
    except RecursionError:
        return _error(file, "is nested too deeply to read", hint="re-record the cassette")
    except _TooDeep as exc:
        return _error(
            file,
            f"is nested too deeply to read (more than {_MAX_DEPTH} levels at line {exc.args[0]})",
            hint="re-record the cassette",
        )
    except Exception as exc:  # noqa: BLE001 - e.g. int() overflow inside a constructor
        return _error(file, f"cannot be read as YAML ({type(exc).__name__}: {exc})", hint="re-record the cassette")
    if document is None:
        return _error(file, "holds no document (only comments, `---` or null)", hint="re-record the cassette")
    return document


def _has_structured_bodies(document: object) -> bool:
    """True when a parsed recording carries a body as a JSON object or array (test-proxy style).

    Only such bodies hold numbers whose exact value matters; vcrpy keeps bodies as text.
    """
    if not isinstance(document, dict):
        return False
    if "Entries" in document:
        return True
    items = document.get("interactions")
    if not isinstance(items, list):
        return False
    return any(_has_structured_body(item) for item in items)


def _has_structured_body(item: object) -> bool:
    """True when one vcrpy interaction carries a body as a JSON object or array."""
    if not isinstance(item, dict):
        return False
    for side in ("request", "response"):
        message = item.get(side)
        body = message.get("body") if isinstance(message, dict) else None
        if isinstance(body, dict):
            body = body.get("string", body if set(body) - {"string"} else None)
        if isinstance(body, (dict, list)):
            return True
    return False


_LEADING_SPACE = re.compile(r"\s*")
_JSON_LIKE = re.compile(r'\s*\{\s*["}]')


def _decode(file: str, raw: bytes) -> str | RecordingError:
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return _error(
            file,
            f"is not {encoding.removesuffix('-sig').upper()} text "
            f"(byte 0x{raw[exc.start]:02x} at offset {exc.start}); it looks like a binary file",
            hint="pass only recording files (.yaml, .yml, .json) or re-record the cassette",
        )


def _json_problem(file: str, text: str, exc: json.JSONDecodeError) -> RecordingError:
    where = f"line {exc.lineno} column {exc.colno}"
    if exc.pos >= len(text.rstrip()):
        return _error(
            file,
            f"is truncated JSON: the document ends at {where} before it is complete ({exc.msg})",
            hint="the file was cut short (interrupted write?); re-record the cassette",
        )
    return _error(
        file,
        f"is not valid JSON: {exc.msg} at {where}",
        hint=f"re-record the cassette or fix the JSON at line {exc.lineno}",
    )


def _yaml_problem(file: str, exc: yaml.YAMLError) -> RecordingError:
    if isinstance(exc, yaml.reader.ReaderError):
        char = exc.character
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        return _error(
            file,
            f"is not a text file: unacceptable character {shown} at offset {exc.position}",
            hint="pass only recording files (.yaml, .yml, .json) or re-record the cassette",
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and context != problem:
        problem = f"{problem} ({context})"
    if mark is None:
        return _error(file, f"is not valid YAML: {problem}", hint="re-record the cassette or fix the YAML")
    line, column = mark.line + 1, mark.column + 1
    if "constructor for the tag" in problem:
        hint = f"only plain-data YAML tags are read; re-record the cassette or remove the tag at line {line}"
    elif "end of stream" in problem:
        hint = f"the file looks cut short at line {line}; re-record the cassette"
    else:
        hint = f"re-record the cassette or fix the YAML at line {line}"
    return _error(file, f"is not valid YAML: {problem} at line {line} column {column}", hint=hint)


def _shape_problem(document: object) -> str:
    if isinstance(document, dict):
        if not document:
            return "top level is an empty map, expected `interactions` (vcrpy) or `Entries` (test-proxy)"
        keys = ", ".join(repr(k) for k in list(document)[:5])
        return f"top level has no `interactions` (vcrpy) or `Entries` (test-proxy) key; found keys {keys}"
    return f"top level is {_kind(document)}, expected a map with `interactions` (vcrpy) or `Entries` (test-proxy)"


def _error(file: str, problem: str, *, index: int | None = None, hint: str = "") -> RecordingError:
    return RecordingError(file, _one_line(problem), index=index, hint=_one_line(hint))


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


# --------------------------------------------------------------------------- vcrpy


def _from_vcr(item: object, source: Source, exact: bool = True, private: bool = False) -> Interaction:
    """`private`: the item is the reader's own (parsed from a file), so `Headers` may keep its header maps."""
    if not isinstance(item, dict):
        raise _Bad(f"interaction is {_kind(item)}, expected a map with `request` and `response`")
    request = item.get("request")
    if request is None:
        raise _Bad("interaction has no `request`")
    if not isinstance(request, dict):
        raise _Bad(f"request is {_kind(request)}, expected a map")
    method = _required_text(request.get("method"), "request.method")
    url = _required_text(request.get("uri"), "request.uri")
    request_headers = _headers(request.get("headers"), "request.headers", private)
    request_body = _vcr_body(request.get("body"), "request.body", exact)

    response = item.get("response")
    if response is None:
        return Interaction(method.upper(), url, request_headers, request_body, None, source=source)
    if not isinstance(response, dict):
        raise _Bad(f"response is {_kind(response)}, expected a map")
    status = _vcr_status(response.get("status"))
    response_headers = _headers(response.get("headers"), "response.headers", private)
    response_body = _vcr_body(response.get("body"), "response.body", exact)
    return Interaction(
        method.upper(), url, request_headers, request_body, status, response_headers, response_body, source
    )


def _vcr_status(status: object) -> int:
    if isinstance(status, dict):
        if "code" not in status:
            raise _Bad("response.status has no `code`")
        return _status_code(status["code"], "response.status.code")
    if status is None:
        raise _Bad("response has no `status`")
    return _status_code(status, "response.status")


_BODY_EXPECTED = "expected text, bytes, a {string: ...} map, JSON object or list of lines"


def _vcr_body(body: object, field: str, exact: bool) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8", "surrogatepass")
    if isinstance(body, dict):
        if "string" in body:
            inner = body["string"]
            if inner is None:
                return b""
            if isinstance(inner, str):
                return inner.encode("utf-8", "surrogatepass")
            if isinstance(inner, (bytes, bytearray)):
                return bytes(inner)
            if not exact and isinstance(inner, (dict, list)):
                raise _Inexact
            raise _Bad(f"{field}.string is {_kind(inner)}, expected text or bytes")
        if not body:
            return b""
        if not exact:
            raise _Inexact
        return _json_bytes(body, field)
    if not exact and isinstance(body, list):
        raise _Inexact
    return _common_body(body, field)


# --------------------------------------------------------------------------- test-proxy


def _from_proxy(entry: object, source: Source, exact: bool = True, private: bool = False) -> Interaction:
    if not isinstance(entry, dict):
        raise _Bad(f"entry is {_kind(entry)}, expected a map with RequestUri, RequestMethod, ...")
    method = _required_text(entry.get("RequestMethod"), "RequestMethod")
    url = _required_text(entry.get("RequestUri"), "RequestUri")
    request_headers = _headers(entry.get("RequestHeaders"), "RequestHeaders")
    request_body = _proxy_body(entry.get("RequestBody"), "RequestBody", request_headers)
    code = entry.get("StatusCode")
    status = None if code is None else _status_code(code, "StatusCode")
    response_headers = _headers(entry.get("ResponseHeaders"), "ResponseHeaders")
    response_body = _proxy_body(entry.get("ResponseBody"), "ResponseBody", response_headers)
    return Interaction(
        method.upper(), url, request_headers, request_body, status, response_headers, response_body, source
    )


def _proxy_body(body: object, field: str, headers: Headers) -> bytes:
    """Test-proxy bodies: JSON documents as objects, text as string or lines, binary as base64."""
    if body is None:
        return b""
    if isinstance(body, str):
        if body and not _is_text_type(headers.get("content-type")):
            try:
                return base64.b64decode(body, validate=True)
            except ValueError:
                pass  # not base64 after all: keep the text
        return body.encode("utf-8", "surrogatepass")
    if isinstance(body, dict):
        return _json_bytes(body, field)
    if isinstance(body, (int, float)):
        # The proxy writes any non-array, non-string JSON root as is, so `true` or `42` is a JSON body.
        return _json_bytes(body, field)
    return _common_body(body, field)


def _is_text_type(content_type: str | None) -> bool:
    """The test-proxy's rule: text/*, *json, *xml, *-urlencoded or an explicit charset is text."""
    if content_type is None:
        return False
    lowered = content_type.lower()
    media = lowered.split(";", 1)[0].strip()
    return media.startswith("text/") or media.endswith(("json", "xml", "-urlencoded")) or "charset=" in lowered


# --------------------------------------------------------------------------- shared pieces


def _common_body(body: object, field: str) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, (list, tuple)):
        if all(isinstance(line, str) for line in body):
            return _join_lines(body).encode("utf-8", "surrogatepass")
        return _json_bytes(body, field)
    raise _Bad(f"{field} is {_kind(body)}, {_BODY_EXPECTED}")


def _join_lines(lines: list[str] | tuple[str, ...]) -> str:
    """Join a test-proxy text body stored as lines.

    The proxy keeps each line's end ("a\\r\\n", "b"), so those are concatenated;
    lines without ends (hand-written or other tools) are joined with "\\n".
    """
    if all(line.endswith(("\n", "\r")) for line in lines[:-1]):
        return "".join(lines)
    return "\n".join(lines)


def _json_bytes(value: object, field: str) -> bytes:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _Bad(f"{field} is {_kind(value)} that cannot be written as JSON ({exc})") from None
    return text.encode("utf-8", "surrogatepass")


def _required_text(value: object, field: str) -> str:
    if isinstance(value, str) and value:
        return value
    if value is None or value == "":
        raise _Bad(f"{field} is missing")
    raise _Bad(f"{field} is {_kind(value)}, expected text")


_STATUS_TEXT = re.compile(r"[0-9]{1,3}")


def _status_code(value: object, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _STATUS_TEXT.fullmatch(value.strip()):
        return int(value)
    raise _Bad(f"{field} is {_kind(value)}, expected an HTTP status code such as 200")


def _headers(raw: object, field: str, private: bool = False) -> Headers:
    """Flatten `{name: value | [values]}` into `Headers`; an empty list keeps the name but no value.

    Same result as `Headers.of(raw)`, built in one pass that also rejects nested
    maps and lists (the common one-string list costs a single type check). A `private`
    map (the reader's own) of one-text lists, vcrpy's layout, is kept as it is, with
    the folded index built in the same pass that checks it.
    """
    if raw is None:
        return _NO_HEADERS
    if type(raw) is not dict:
        raise _Bad(f"{field} is {_kind(raw)}, expected a map of header names to values")
    if private:
        index: dict[str, str] = {}
        for name, value in raw.items():
            if type(value) is list and len(value) == 1 and type(name) is str:
                text = value[0]
                if type(text) is str:
                    folded = name.lower()
                    if folded not in index:
                        index[folded] = text
                    continue
            break
        else:
            return Headers._of_single_values(raw, index) if index else _NO_HEADERS
    flat: list[tuple[str, str]] = []
    append = flat.append
    for name, value in raw.items():
        if type(name) is not str:
            name = _header_text(name, field, name)
        if type(value) is list and len(value) == 1 and type(value[0]) is str:
            append((name, value[0]))
        elif type(value) is str:
            append((name, value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                if item is not None:
                    append((name, _header_text(item, field, name)))
        elif value is not None:
            append((name, _header_text(value, field, name)))
    return Headers(tuple(flat)) if flat else _NO_HEADERS


_NO_HEADERS = Headers.of(None)


def _header_text(value: object, field: str, name: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, (dict, list, tuple, set)):
        raise _Bad(f"{field}[{str(name)!r}] holds {_kind(value)}, expected text or a list of text")
    return str(value)


def _kind(value: object) -> str:
    """How a value's type reads in a message: 'a bool', 'a number', 'text', 'a map'..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"
