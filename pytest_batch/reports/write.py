"""Render the report document in a format and write it where asked (atomically: a reader never sees half).

JSON goes through orjson straight to bytes: a session report lists every test (a summary each), which can
be many MB for a large suite, and the standard library's indenting encoder is pure Python.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import BatchContractError
from . import format_for, known_extensions

_SURROGATES = re.compile("[\ud800-\udfff]")


def render(document: Mapping[str, Any], fmt: str) -> str:
    """The document as text in `fmt` (json, junit, markdown, html, text)."""
    if fmt == "json":
        return render_bytes(document, fmt).decode("utf-8")
    if fmt == "junit":
        from .junit import render_junit

        return render_junit(document)
    if fmt == "markdown":
        from .markdown import render_markdown

        return render_markdown(document)
    if fmt == "html":
        from .page import render_html

        return render_html(document)
    if fmt == "text":
        from .text import render_text

        return render_text(document)
    raise BatchContractError(f"unknown report format {fmt!r}", hint=f"use one of {known_extensions()}")


def render_bytes(document: Mapping[str, Any], fmt: str) -> bytes:
    """`render` as UTF-8 bytes; lone surrogates (JSON bodies can hold them) become U+FFFD."""
    if fmt == "json":
        import orjson

        try:
            return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # a lone surrogate somewhere: the slow path cleans the text
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            return _SURROGATES.sub("\ufffd", text).encode("utf-8")
    return utf8_safe(render(document, fmt)).encode("utf-8")


def write_reports(
    paths: Sequence[str], document: Mapping[str, Any], *, root: Path | None = None, fmt: str | None = None
) -> list[Path]:
    """Write the document to each path (format from `fmt` or the extension; `-` is stdout). Each format is
    rendered once however many paths ask for it."""
    rendered: dict[str, bytes] = {}
    written = []
    for path in paths:
        chosen = format_for(path, fmt) if path != "-" else (fmt or "text")
        if chosen is None:
            raise BatchContractError(
                f"{path}: unknown report format {Path(path).suffix or '(no extension)'}",
                hint=f"use {known_extensions()} or --format",
            )
        if chosen not in rendered:
            rendered[chosen] = render_bytes(document, chosen)
        if path == "-":
            _to_stdout(rendered[chosen])
            continue
        target = Path(path)
        if root is not None and not target.is_absolute():
            target = root / target
        try:
            _atomic_write(target, rendered[chosen])
        except OSError as exc:
            raise BatchContractError(
                f"{target}: cannot write the report ({exc.strerror or exc})",
                hint="check the folder and its permissions",
            ) from None
        written.append(target)
    return written


def write_text(path: str, text: str) -> None:
    """Write `text` to `path` (`-`: stdout) as UTF-8, atomically; one-line error when it cannot be written."""
    data = utf8_safe(text).encode("utf-8")
    if path == "-":
        _to_stdout(data)
        return
    try:
        _atomic_write(Path(path), data)
    except OSError as exc:
        raise BatchContractError(
            f"{path}: cannot write ({exc.strerror or exc})", hint="check the folder and its permissions"
        ) from None


def utf8_safe(text: str) -> str:
    """`text` with lone surrogates (JSON bodies can hold them) as U+FFFD, so that it encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    return text


def _to_stdout(data: bytes) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        buffer.write(data)
        buffer.flush()


def _atomic_write(path: Path, data: bytes) -> None:
    """A temporary file next to `path`, fsynced, then renamed over it: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
