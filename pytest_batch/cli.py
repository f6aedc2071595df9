"""The `pytest-batch` command: thin argument glue over the library.

    pytest-batch check PATH... [--api-version V] [--format text|json] [--fail-on error|warning]
    pytest-batch schemas build --specs DIR --out DIR
    pytest-batch emulator [--port 8080] [--account NAME] [--key KEY] [--bearer-token T]...

Exit codes of `check`: 0 conformant, 1 findings at or above --fail-on,
2 some input unusable (the run still checks everything else).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from . import __version__
from .errors import BatchContractError, RecordingError

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_UNUSABLE
    try:
        return args.handler(args)
    except BatchContractError as exc:
        print(f"pytest-batch: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("pytest-batch: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pytest-batch", description="Contract testing for the Azure Batch REST API.")
    parser.add_argument("--version", action="version", version=f"pytest-batch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="validate recorded interactions against the Batch spec")
    check.add_argument("paths", nargs="+", metavar="PATH", help="cassette / recording files or folders")
    check.add_argument("--api-version", help="validate every request against this api-version instead of its own")
    check.add_argument("--format", choices=("text", "json"), default="text", help="summary format (default: text)")
    check.add_argument(
        "--fail-on",
        choices=("error", "warning"),
        default="error",
        help="lowest severity that makes the exit code 1 (default: error)",
    )
    check.add_argument("--limit", type=int, default=20, help="distinct findings to list in text output (default: 20)")
    progress = check.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="always show a progress line on stderr"
    )
    progress.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="never show a progress line (default: only on a terminal)",
    )
    check.add_argument(
        "--schemas", metavar="DIR", help="schema bundle folder (default: the bundles shipped with pytest-batch)"
    )
    check.set_defaults(handler=_check)

    emulator = commands.add_parser("emulator", help="serve an emulated Batch account on loopback (Ctrl-C stops)")
    emulator.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    emulator.add_argument("--port", type=int, default=8080, help="port to listen on, 0 for any free one (default: 8080)")
    emulator.add_argument("--account", default="emulator", help="Batch account name (default: emulator)")
    emulator.add_argument("--key", help="base64 account key for SharedKey (default: derived from the account name)")
    emulator.add_argument(
        "--bearer-token", action="append", default=[], metavar="TOKEN", help="accept this Bearer token (repeatable)"
    )
    emulator.add_argument("--verbose", action="store_true", help="log every request to stderr")
    emulator.set_defaults(handler=_emulator)

    schemas = commands.add_parser("schemas", help="schema bundle tools")
    schema_commands = schemas.add_subparsers(dest="schemas_command", metavar="SUBCOMMAND")
    build = schema_commands.add_parser("build", help="convert Swagger specs into schema bundles")
    build.add_argument("--specs", required=True, metavar="DIR", help="folder with <api-version>/BatchService.json")
    build.add_argument("--out", required=True, metavar="DIR", help="folder to write <api-version>.json bundles to")
    build.set_defaults(handler=_schemas_build)
    return parser


def _check(args: argparse.Namespace) -> int:
    from .readers import read_recording
    from .spec import SpecLibrary
    from .summary import CheckSummary
    from .validation import Validator

    library = SpecLibrary(args.schemas) if args.schemas else SpecLibrary()
    if args.api_version:
        library.get(args.api_version)  # fail fast, exit 2, on an unknown override
    validator = Validator(library, api_version=args.api_version)
    summary = CheckSummary()
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    progress = _Progress(sys.stderr) if show_progress else None
    for path in _expand(args.paths, summary):
        summary.files += 1
        for item in read_recording(path):
            if isinstance(item, RecordingError):
                summary.add_unusable(item)
                print(f"pytest-batch: {item}", file=sys.stderr)
                continue
            try:
                outcome = validator.check(item)
            except BatchContractError as exc:
                summary.add_unusable(
                    RecordingError(str(path), str(exc), index=item.source.index if item.source else None)
                )
                continue
            summary.add(outcome)
            if progress is not None:
                progress.tick(summary)
    if progress is not None:
        progress.done(summary)
    sys.stdout.write(summary.render_json() if args.format == "json" else summary.render_text(limit=args.limit))
    return summary.exit_code(args.fail_on)


def _expand(paths, summary):
    from .readers import iter_recording_files

    for path in paths:
        try:
            yield from iter_recording_files([path])
        except RecordingError as exc:
            summary.add_unusable(exc)
            print(f"pytest-batch: {exc}", file=sys.stderr)


def _schemas_build(args: argparse.Namespace) -> int:
    from .build import build_directory

    written = build_directory(args.specs, args.out)
    for path in written:
        print(path)
    print(f"wrote {len(written)} bundle(s) to {args.out}", file=sys.stderr)
    return EXIT_OK


def _emulator(args: argparse.Namespace) -> int:
    import logging

    from .emulator import Emulator

    tokens = frozenset(args.bearer_token)
    try:
        batch = Emulator(
            account=args.account,
            key=args.key,
            host=args.host,
            port=args.port,
            bearer=(tokens.__contains__ if tokens else None),
        )
        batch.bind()
    except ValueError as exc:
        print(f"pytest-batch emulator: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except OSError as exc:
        print(
            f"pytest-batch emulator: cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
            "pick another --port",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(message)s")
    print(
        f"Batch emulator: account {batch.account} at {batch.endpoint} (key {batch.key}); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    import signal

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (service managers, CI) stops as cleanly as Ctrl-C

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        batch.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("Batch emulator stopped", file=sys.stderr)
    return EXIT_OK


class _Progress:
    """A single self-overwriting status line, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.start = time.perf_counter()
        self.last = 0.0

    def tick(self, summary) -> None:
        now = time.perf_counter()
        if now - self.last >= 0.1:
            self.last = now
            self._draw(summary, now)

    def done(self, summary) -> None:
        self._draw(summary, time.perf_counter())
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, summary, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        self.stream.write(
            f"\rchecked {summary.interactions:,} interactions in {summary.files:,} file(s), "
            f"{summary.interactions / elapsed:,.0f}/s"
        )
        self.stream.flush()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
