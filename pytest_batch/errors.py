"""One exception tree so callers can catch everything from us with one clause.

Every message is one line that names what was wrong, where (file, interaction)
and what to do about it, because these errors end up in CI logs.
"""

from __future__ import annotations


class BatchContractError(Exception):
    """Root of every error pytest-batch raises on purpose."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.hint = hint
        super().__init__(f"{message} (fix: {hint})" if hint else message)


class SpecError(BatchContractError):
    """A Swagger spec or a schema bundle cannot be read or converted."""

    def __init__(self, path: str, problem: str, *, hint: str = "") -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}", hint=hint)


class UnknownApiVersion(BatchContractError):
    """No bundle exists for a requested api-version and none can stand in."""

    def __init__(self, api_version: str, known: tuple[str, ...]) -> None:
        self.api_version = api_version
        self.known = known
        super().__init__(
            f"no schema bundle for api-version {api_version!r}",
            hint=f"use one of {', '.join(known)}",
        )


class RecordingError(BatchContractError):
    """A cassette or recording file cannot be read (not YAML/JSON, wrong shape, truncated)."""

    def __init__(self, path: str, problem: str, *, index: int | None = None, hint: str = "") -> None:
        self.path = path
        self.index = index
        self.problem = problem
        where = path if index is None else f"{path} [interaction {index}]"
        super().__init__(f"{where}: {problem}", hint=hint)


class SecretLeakError(BatchContractError):
    """A cassette (about to be written or on disk) still holds a secret-shaped value: fail closed."""

    def __init__(self, path: str, location: str, problem: str, *, leaks: tuple = (), hint: str = "") -> None:
        self.path = path
        self.location = location
        self.leaks = leaks
        super().__init__(f"{path}: secret-shaped value at {location}: {problem}", hint=hint)
