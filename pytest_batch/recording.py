"""One test's cassette: where it lives, the vcrpy cassette around the test, and what the test sent and got.

The plugin's `batch_cassette` fixture is a thin shell around `CassetteRecording`. Sanitising happens in
vcrpy's `before_record_*` hooks, so nothing unsanitised is ever held in the cassette; the persister scans
the final cassette and refuses to write when a secret-shaped value is left (fail closed).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from .cassettes import (
    AtomicPersister,
    ReplayMatcher,
    atomic_write,
    decode_if_compressed,
    explain_miss,
    vcr_config,
)
from .errors import SecretLeakError
from .interaction import Interaction, Source
from .readers import interaction_from_vcr
from .sanitize import Sanitizer, assert_clean, scan

CASSETTE_SUFFIX = ".yaml"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120  # bytes of a file name before the hash suffix; well under every file system's 255


def safe_name(text: str) -> str:
    """`text` as a portable file name: runs of other characters become `_`, long names keep a hash suffix.

    Distinct parametrisations stay distinct: `test_x[a/b]` and `test_x[a b]` differ only in what was
    replaced, so a name that had to change carries a short hash of the original.
    """
    cleaned = _UNSAFE.sub("_", text).lstrip(".-") or "_"  # no hidden files, nothing that reads as an option
    if cleaned == text and len(cleaned) <= _MAX_NAME + 9:  # 9: room for the suffix, so a safe name stays as is
        return cleaned
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned[:_MAX_NAME]}-{digest}"


def cassette_path(cassette_dir: Path, module: str, test: str, name: str | None = None) -> Path:
    """`<cassette_dir>/<module>/<test>.yaml`, or `<cassette_dir>/<module>/<name>.yaml` when a marker names it.

    `test` is the test's id within its module (`TestJobs::test_add[2]` → `TestJobs.test_add-2`, made safe).
    """
    stem = name if name is not None else test.replace("::", ".")
    stem = stem.removesuffix(CASSETTE_SUFFIX)
    return cassette_dir / safe_name(module) / f"{safe_name(stem)}{CASSETTE_SUFFIX}"


# -- the vcrpy side -------------------------------------------------------------------------------------------------


class SanitizingFilters:
    """vcrpy `before_record_request` / `before_record_response` hooks backed by a `Sanitizer`.

    vcrpy runs the request hook on live requests before matching them too, so replay compares a sanitised
    live request with a sanitised recording: sanitising never breaks matching.
    """

    def __init__(self, sanitizer: Sanitizer) -> None:
        self.sanitizer = sanitizer

    def request(self, request: Any) -> Any:
        from vcr.request import Request

        plain = {"method": request.method, "uri": request.uri, "headers": dict(request.headers), "body": request.body}
        clean = self.sanitizer.request(plain)
        if clean["uri"] == plain["uri"] and clean["headers"] == plain["headers"] and clean["body"] is plain["body"]:
            return request
        return Request(clean["method"], clean["uri"], clean["body"], clean["headers"])

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        return self.sanitizer.response(response)


class ScanningPersister(AtomicPersister):
    """`AtomicPersister` that scans the cassette it is about to write and refuses when a secret is left.

    An instance, not the class, is registered with vcrpy (it only calls `load_cassette`/`save_cassette`),
    so each test's persister knows whether it may write at all.
    """

    def __init__(self, *, writable: bool, fresh: bool = False) -> None:
        self.writable = writable
        self.fresh = fresh  # rewrite: start empty; the old file stays in place until the new one replaces it
        self.on_disk: SecretLeakError | None = None

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: Any) -> tuple[Any, ...]:  # type: ignore[override]
        """Scan the file as it is on disk: vcrpy runs the sanitising hooks over what it loads, so a secret edited
        into the file would be redacted in memory and the file silently rewritten; refuse to write instead."""
        if self.fresh:
            from vcr.persisters.filesystem import CassetteNotFoundError

            raise CassetteNotFoundError()
        loaded = super().load_cassette(cassette_path, serializer)
        if self.writable:
            leaks = scan([{"request": q._to_dict(), "response": r} for q, r in zip(loaded[0], loaded[1])])
            if leaks:
                first, more = leaks[0], f" and {len(leaks) - 1} more" if len(leaks) > 1 else ""
                self.on_disk = SecretLeakError(
                    os.fspath(cassette_path),
                    first.location,
                    f"{first.kind} ({first.excerpt}){more} is already in the file",
                    leaks=tuple(leaks),
                    hint="remove it from the cassette (rotate the key if it was ever committed), then record again",
                )
        return loaded

    def save_cassette(
        self, cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any
    ) -> None:  # type: ignore[override]
        if not self.writable:
            return
        if self.on_disk is not None:  # never write over a file that already holds a secret: leave it as it is
            raise self.on_disk
        from vcr.serialize import serialize

        interactions = [
            {"request": request._to_dict(), "response": response}
            for request, response in zip(cassette_dict["requests"], cassette_dict["responses"])
        ]
        assert_clean(interactions, os.fspath(cassette_path))  # raises SecretLeakError: nothing is written
        atomic_write(Path(cassette_path), serialize(cassette_dict, serializer))


@dataclass(frozen=True, slots=True)
class CassettePlan:
    """What one test records to or replays from, and how."""

    path: Path
    record_mode: str  # none, once, new_episodes, all, rewrite
    sanitizer: Sanitizer
    shown: str | None = None  # the name findings use (relative to the project), else the path

    @property
    def replays_only(self) -> bool:
        """True when no request can reach a server: `none`, or `once` with the cassette already there."""
        return self.record_mode == "none" or (self.record_mode == "once" and self.path.is_file())


class CassetteRecording:
    """The vcrpy cassette active around one test, and the interactions the test made through it.

    `start()` loads (or prepares) the cassette and patches the HTTP libraries; `stop(failed)` saves
    (atomically, after the secret scan) and unpatches; in `rewrite` mode the old cassette stays in place
    until the new one atomically replaces it, and a failed test writes nothing. `take()` returns the
    interactions made since the last `take()`.
    """

    def __init__(self, plan: CassettePlan) -> None:
        self.plan = plan
        self._context: Any = None
        self._cassette: Any = None
        self._persister: ScanningPersister | None = None
        self._lock: Any = None
        self._loaded = 0
        self._taken: set[int] = set()

    def start(self) -> CassetteRecording:
        plan = self.plan
        writable = plan.record_mode != "none"
        if writable:
            self._lock = _cassette_lock(plan.path)
            self._lock.__enter__()
        try:
            if writable:
                _remove_stale_temporaries(plan.path)
            if plan.replays_only:  # nothing can be recorded: no before_record_* hooks, a caching matcher
                recorder = vcr_config(
                    plan.path.parent,
                    plan.record_mode,
                    before_record_response=decode_if_compressed,
                    decode_compressed_response=False,
                )
                recorder.register_matcher("batch", ReplayMatcher(plan.sanitizer.request))
            else:
                filters = SanitizingFilters(plan.sanitizer)
                recorder = vcr_config(
                    plan.path.parent,
                    "all" if plan.record_mode == "rewrite" else plan.record_mode,
                    before_record_request=filters.request,
                    before_record_response=filters.response,
                )
            self._persister = ScanningPersister(writable=writable, fresh=plan.record_mode == "rewrite")
            recorder.register_persister(self._persister)
            self._context = recorder.use_cassette(plan.path.name)
            self._cassette = self._context.__enter__()
        except BaseException:
            self._release()
            raise
        self._loaded = len(self._cassette.data)
        return self

    @property
    def cassette(self) -> Any:
        """The live `vcr.cassette.Cassette` (for callers that need vcrpy's own view)."""
        return self._cassette

    def take(self) -> list[Interaction]:
        """Interactions played or recorded since the last call, in cassette order, as `Interaction`s."""
        cassette = self._cassette
        if cassette is None:
            return []
        indexes = [i for i in sorted(cassette.play_counts) if i < self._loaded]
        indexes += range(self._loaded, len(cassette.data))
        fresh = [i for i in indexes if i not in self._taken]
        self._taken.update(fresh)
        file = self.plan.shown or os.fspath(self.plan.path)
        out = []
        for index in fresh:
            request, response = cassette.data[index]
            item = {"request": request._to_dict(), "response": response}
            out.append(interaction_from_vcr(item, Source(file, index)))
        return out

    def stop(self, *, failed: bool) -> None:
        """Save (unless replay-only) and unpatch; a failed `rewrite` writes nothing, so the old cassette stays."""
        context, self._context = self._context, None
        if failed and self.plan.record_mode == "rewrite" and self._persister is not None:
            self._persister.writable = False
        try:
            if context is not None:
                context.__exit__(None, None, None)
        finally:
            self._release()

    def _release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.__exit__(None, None, None)


def _remove_stale_temporaries(path: Path) -> None:
    """Delete `atomic_write` temporaries of this cassette left by a killed process.

    Called with the cassette's lock held, and every writer holds it, so no live process owns one of them.
    """
    for stale in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)


def miss_message(error: BaseException, plan: CassettePlan) -> str | None:
    """The closest-miss explanation when `error` (or its cause/context chain) is vcrpy's "can't play back";
    None for any other error."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    shown, record_mode = plan.shown or os.fspath(plan.path), plan.record_mode
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, CannotOverwriteExistingCassetteException):
            cassette = current.cassette
            if not len(cassette) and not Path(cassette._path).is_file():
                return (
                    f"{shown}: no such cassette in record mode {record_mode!r} "
                    "(fix: record it once with --batch-record-mode=once)"
                )
            live = SanitizingFilters(plan.sanitizer).request(current.failed_request)  # compared as it would be kept
            explained = explain_miss(live, cassette.requests)
            return (
                f"{shown}: {explained} (fix: correct the request, or re-record with "
                "--batch-record-mode=new_episodes or rewrite)"
            )
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


@contextmanager
def _cassette_lock(path: Path) -> Iterator[None]:
    """Serialise writers of one cassette across processes (pytest-xdist workers), outside the cassette folder.

    The lock file lives in the system temp folder under a hash of the cassette's absolute path, so
    nothing extra appears next to the cassettes; on platforms without `fcntl` this is a no-op.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    folder = Path(tempfile.gettempdir()) / "pytest-batch-locks"
    folder.mkdir(exist_ok=True)
    key = hashlib.sha1(os.fsencode(path.resolve())).hexdigest()
    with open(folder / f"{key}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
