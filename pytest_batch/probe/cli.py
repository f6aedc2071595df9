"""`pytest-batch probe`: argument glue over `probe.session`.

    pytest-batch probe --target emulator|URL [--api-version V] [--operations OP,...] [--rules ID,...]
                       [--record DIR | --replay DIR] [--allow-billable] [-o FILE.json] [--format text|json]

Exit codes: 0 every verdict enforced or skipped, 1 some verdict lenient, stricter or error, 2 usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

DEFAULT_API_VERSION = "2025-06-01"
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
INSTALL_HINT = 'pip install "pytest-batch[probe]"'


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    probe = subparsers.add_parser("probe", help="probe the documented constraints of a Batch account")
    probe.add_argument("--target", metavar="emulator|URL",
                       help="the embedded emulator, or a Batch account URL (AZURE_BATCH_ACCOUNT_NAME / _KEY)")  # fmt: skip
    probe.add_argument("--api-version", default=DEFAULT_API_VERSION, help=f"default: {DEFAULT_API_VERSION}")
    probe.add_argument("--operations", metavar="OP,...", help="only probe through these operations")
    probe.add_argument("--rules", metavar="ID,...", help="only these rules (ids from schemas/constraints.json)")
    where = probe.add_mutually_exclusive_group()
    where.add_argument("--record", metavar="DIR", help="record the run as a sanitised cassette in DIR")
    where.add_argument("--replay", metavar="DIR", help="replay a recorded run from DIR with no network")
    probe.add_argument("--allow-billable", action="store_true",
                       help="against a real account, also create pools with nodes (billable)")  # fmt: skip
    probe.add_argument("-o", "--output", metavar="FILE.json", help="write the JSON document here")
    probe.add_argument("--format", choices=("text", "json"), default="text", help="stdout format (default: text)")
    probe.set_defaults(handler=run)
    return probe


def run(args: argparse.Namespace) -> int:
    missing = _missing_dependency(need_vcr=bool(args.record or args.replay))
    if missing:
        return _usage(f"the prober needs {missing}: {INSTALL_HINT}")
    from ..errors import BatchContractError
    from .document import exit_code, text_lines, verdicts_of, write_document
    from .session import check_selection, probe_emulator, probe_url, replay, settings_for

    if args.replay:
        if args.target or args.rules or args.operations:
            return _usage("--replay takes the target, rules and operations from the recorded run; drop the others")
        directory = Path(args.replay)
        try:
            document = replay(directory)
        except BatchContractError as exc:
            return _usage(str(exc))
    else:
        if not args.target:
            return _usage("--target is required: emulator, or the URL of a Batch account")
        emulator = args.target == "emulator"
        if not emulator and not args.target.startswith(("http://", "https://")):
            return _usage(f"--target {args.target!r}: use emulator or an http(s) URL")
        settings = settings_for(
            args.api_version, rules=_split(args.rules), operations=_split(args.operations),
            node_free=not emulator, allow_billable=args.allow_billable,
        )  # fmt: skip
        problems = check_selection(settings)
        if problems:
            for problem in problems:
                print(f"pytest-batch probe: {problem}", file=sys.stderr)
            return EXIT_USAGE
        record = Path(args.record) if args.record else None
        try:
            if emulator:
                document = probe_emulator(settings, record=record)
            else:
                credential, key = _credential(args.target)
                document = probe_url(args.target, credential, settings, key=key, record=record)
        except BatchContractError as exc:
            return _usage(str(exc))
    if args.output:
        write_document(Path(args.output), document)
    if args.format == "json":
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print("\n".join(text_lines(document)))
    return exit_code(verdicts_of(document))


def _credential(url: str) -> tuple[Any, str | None]:
    """The account credential for a URL target, read like the plugin reads it (targets.choose_target)."""
    from ..targets import ENDPOINT_VARIABLE, choose_target, credential_for

    endpoint = choose_target("azure", False, {**os.environ, ENDPOINT_VARIABLE: url})
    return credential_for(endpoint), endpoint.key


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _usage(message: str) -> int:
    print(f"pytest-batch probe: {message}", file=sys.stderr)
    return EXIT_USAGE


def _missing_dependency(*, need_vcr: bool) -> str | None:
    import importlib.util

    for module, package in (("hypothesis", "hypothesis"), ("requests", "requests"), ("azure.core", "azure-core")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a missing parent package (azure)
            found = False
        if not found:
            return package
    if need_vcr and importlib.util.find_spec("vcr") is None:
        return "vcrpy"
    return None


def main(argv: list[str] | None = None) -> int:
    """`python -m pytest_batch.probe.cli ...`: the probe command on its own (the same as `pytest-batch probe`)."""
    parser = argparse.ArgumentParser(prog="pytest-batch")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["probe", *(sys.argv[1:] if argv is None else argv)])
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
