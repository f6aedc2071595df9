"""The `pytest-batch` command: thin argument glue over the library.

    pytest-batch check PATH... [--api-version V] [--format text|json] [--fail-on error|warning] [--report FILE]...
    pytest-batch report PATH... [-o FILE]... [--format json|junit|markdown|html|text] [--api-version V]
    pytest-batch drift PATH... --versions A,B[,...] [--format text|json] [-o FILE]
    pytest-batch schemas build --specs DIR --out DIR
    pytest-batch emulator [--port 8080] [--account NAME] [--key KEY] [--bearer-token T]...
    pytest-batch probe --target emulator|URL [--api-version V] [--operations OP,...] [--rules ID,...]
                       [--record DIR | --replay DIR] [--allow-billable] [-o FILE.json] [--format text|json]

Exit codes of `check` and `report`: 0 conformant, 1 findings at or above --fail-on (`report`: or a
lenient, stricter or error probe verdict), 2 some input unusable (the run still checks everything
else). `drift`: 0 nothing would break,
1 some interaction would break on a target version, 2 some input unusable.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import __version__
from .errors import BatchContractError, RecordingError

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.own_process = argv is None  # the console script / `python -m`: process-wide settings are ours
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
    check.add_argument(
        "--report", action="append", default=[], metavar="FILE",
        help="also write a conformance report (repeatable; format from the extension: .json, .xml, .md, .html, .txt)",
    )  # fmt: skip
    check.set_defaults(handler=_check)

    report = commands.add_parser("report", help="write conformance reports for recorded interactions")
    report.add_argument("paths", nargs="+", metavar="PATH",
                        help="cassette / recording files or folders, JSON reports saved by --batch-report or -o, "
                             "or probe documents (pytest-batch probe -o)")  # fmt: skip
    report.add_argument("-o", "--output", action="append", default=[], metavar="FILE",
                        help="write the report here (repeatable; format from the extension; default: text on stdout)")  # fmt: skip
    report.add_argument("--format", choices=("json", "junit", "markdown", "html", "text"),
                        help="report format for every output, whatever its extension")  # fmt: skip
    report.add_argument("--api-version", help="validate every request against this api-version instead of its own")
    report.add_argument("--fail-on", choices=("error", "warning"), default="error",
                        help="lowest severity that makes the exit code 1 (default: error); a lenient, stricter or "
                             "error probe verdict always does")  # fmt: skip
    report.add_argument("--schemas", metavar="DIR", help="schema bundle folder (default: the shipped bundles)")
    report.set_defaults(handler=_report)

    drift = commands.add_parser("drift", help="show what would break if the traffic used other api-versions")
    drift.add_argument("paths", nargs="+", metavar="PATH", help="cassette / recording files or folders")
    drift.add_argument("--versions", required=True, metavar="A,B[,...]",
                       help="the baseline api-version, then the versions to compare with")  # fmt: skip
    drift.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    drift.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    drift.add_argument("--limit", type=int, default=20, help="interactions and items to list per section in text")
    drift.add_argument("--schemas", metavar="DIR", help="schema bundle folder (default: the shipped bundles)")
    drift.set_defaults(handler=_drift)

    emulator = commands.add_parser("emulator", help="serve an emulated Batch account on loopback (Ctrl-C stops)")
    emulator.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    emulator.add_argument(
        "--port", type=int, default=8080, help="port to listen on, 0 for any free one (default: 8080)"
    )
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

    from .probe.cli import add_parser as add_probe_parser  # light: argparse glue, the prober loads on use

    add_probe_parser(commands)
    return parser


def _check(args: argparse.Namespace) -> int:
    from .summary import CheckSummary

    library, validator = _validator(args)
    if args.report:
        _usable_report_paths(args.report, "--report")
    summary = CheckSummary()
    sinks: list = [summary]
    builder = None
    if args.report:
        from .reports.aggregate import ReportBuilder

        builder = ReportBuilder(library=library)
        sinks.append(builder)
    progress = _progress(args)
    _check_files(args.paths, validator, sinks, progress, freeze=getattr(args, "own_process", False))
    sys.stdout.write(summary.render_json() if args.format == "json" else summary.render_text(limit=args.limit))
    if builder is not None:
        from .reports.write import write_reports

        write_reports(args.report, builder.document())
    return summary.exit_code(args.fail_on)


def _report(args: argparse.Namespace) -> int:
    from .reports.aggregate import ReportBuilder
    from .reports.write import write_reports

    outputs = args.output or ["-"]
    _usable_report_paths([o for o in outputs if o != "-"], "-o", args.format)
    library, validator = _validator(args)
    builder = ReportBuilder(library=library)
    saved, probes, recordings = _split_saved_reports(args.paths, builder)
    if any(report.has_tests for report in saved):
        builder.kind = "pytest" if not recordings else "mixed"
    _check_files(recordings, validator, [builder], _progress(args))
    for report in sorted(saved, key=lambda r: r.path):
        report.merge_into(builder)
    for document in probes:
        builder.add_probe_document(document)
    write_reports(outputs, builder.document(), fmt=args.format)
    return builder.exit_code(args.fail_on)


def _drift(args: argparse.Namespace) -> int:
    from .drift import DriftRun
    from .spec import SpecLibrary

    library = SpecLibrary(args.schemas) if args.schemas else SpecLibrary()
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    if len(versions) < 2:
        print("pytest-batch drift: --versions needs at least two api-versions (baseline first), e.g. "
              "--versions 2025-06-01,2024-07-01.20.0", file=sys.stderr)  # fmt: skip
        return EXIT_UNUSABLE
    for version in versions:
        library.get(version)  # an unknown one fails here, exit 2, naming the known ones
    run = DriftRun(library, versions)
    files = _recording_files(args.paths, run.add_unusable)
    for path in files:
        run.files += 1
        for item in _read_items(path, run.add_unusable):
            run.add(item)
    document = run.document()
    if args.format == "json":
        import json

        text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    else:
        from .drift import render_text

        text = render_text(document, limit=args.limit)
    from .reports.write import write_text

    write_text(args.output or "-", text)
    return run.exit_code()


def _validator(args: argparse.Namespace):
    from .spec import SpecLibrary
    from .validation import Validator

    library = SpecLibrary(args.schemas) if args.schemas else SpecLibrary()
    if args.api_version:
        library.get(args.api_version)  # fail fast, exit 2, on an unknown override
    return library, Validator(library, api_version=args.api_version)


def _usable_report_paths(paths, option: str, fmt: str | None = None) -> None:
    from .reports import check_report_paths

    problem = check_report_paths(paths, option=option, explicit=fmt)
    if problem:
        raise BatchContractError(problem)


def _progress(args: argparse.Namespace):
    wanted = getattr(args, "progress", None)
    show = sys.stderr.isatty() if wanted is None else wanted
    return _Progress(sys.stderr) if show else None


def _check_files(paths, validator, sinks, progress, *, freeze: bool = False) -> None:
    """Validate every interaction under `paths` into each sink (`files`, `add(outcome)`, `add_unusable(error)`).

    Unusable files and interactions are named on stderr once and counted by every sink; the rest is checked."""

    def unusable(error: Exception) -> None:
        for sink in sinks:
            sink.add_unusable(error)

    from .readers import read_recording

    check = validator.check
    adds = [sink.add for sink in sinks]
    only = adds[0] if len(adds) == 1 and progress is None else None  # `check`'s usual case: one call per outcome
    for path in _recording_files(paths, unusable):
        if freeze:
            # What is alive between two files (bundles, compiled validators, the summary) lives to the end of
            # the run: frozen, the collector's full passes stop walking it (~7 % of a 100k-interaction run).
            gc.freeze()
        for sink in sinks:
            sink.files += 1
        for item in read_recording(path):  # `_read_items` written out: one generator less per interaction
            if isinstance(item, RecordingError):
                unusable(item)
                print(f"pytest-batch: {item}", file=sys.stderr)
                continue
            try:
                outcome = check(item)
            except BatchContractError as exc:
                unusable(RecordingError(str(path), str(exc), index=item.source.index if item.source else None))
                continue
            if only is not None:
                only(outcome)
                continue
            for add in adds:
                add(outcome)
            if progress is not None:
                progress.tick(sinks[0])
    if progress is not None:
        progress.done(sinks[0])


def _read_items(path, unusable):
    """The interactions of one recording; each unreadable part goes to `unusable` and is named on stderr."""
    from .readers import read_recording

    for item in read_recording(path):
        if isinstance(item, RecordingError):
            unusable(item)
            print(f"pytest-batch: {item}", file=sys.stderr)
            continue
        yield item


def _split_saved_reports(paths, builder) -> tuple[list, list, list]:
    """Saved reports (`--batch-report x.json`, `report -o x.json`) and probe documents (`probe -o x.json`),
    recognised by their `format`, apart from the recordings to check; an unusable one is named on stderr."""
    from .reports import probes as probe_documents
    from .reports import saved as saved_reports
    from .reports.common import marked_format

    saved, probes, recordings = [], [], []
    for path in _expand_folders(paths):
        mark = marked_format(path, (probe_documents.MARK, saved_reports.MARK))  # one peek; recordings need no more
        if mark == probe_documents.MARK:
            found, kind = probe_documents.read_probe_document(path), probes
        elif mark == saved_reports.MARK:
            found, kind = saved_reports.read_saved_report(path), saved
        else:
            found = None
        if found is None:
            recordings.append(path)
        elif isinstance(found, BatchContractError):
            builder.add_unusable(found)
            print(f"pytest-batch: {found}", file=sys.stderr)
        else:
            kind.append(found)  # a saved session is re-read as the session it was: its files count stays 0
    return saved, probes, recordings


def _expand_folders(paths):
    """Folders become their files (the same walk `check` makes), so reports and probe documents saved in a
    folder are recognised there too; a missing path stays as given, for the recording reader to name."""
    from .readers import iter_recording_files

    for path in paths:
        if Path(path).is_dir():
            yield from (str(file) for file in iter_recording_files([path]))
        else:
            yield path


def _recording_files(paths, unusable):
    from .readers import iter_recording_files

    for path in paths:
        try:
            yield from iter_recording_files([path])
        except RecordingError as exc:
            unusable(exc)
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
