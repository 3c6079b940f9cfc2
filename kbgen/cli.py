"""The `kbgen` command: argument parsing and reporting, nothing else."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import KbgenError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kbgen",
        description="Turn a folder of articles into a linked Obsidian vault.",
        epilog="Options may also come from kbgen.yaml in the current directory (or --config).",
    )
    parser.add_argument("--version", action="version", version=f"kbgen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser(
        "build",
        help="bring the vault up to date with the sources",
        description="Read every source, render every note, and write only the notes whose "
        "bytes changed. Notes you edited are merged, never overwritten. Exit status 1 when any "
        "source failed (the others are still built), 2 on a fatal error.",
    )
    build.add_argument("--sources", type=Path, help="folder of articles (default: sources/)")
    build.add_argument(
        "--vault", type=Path, help="vault folder (default: vault/; created if missing)"
    )
    build.add_argument("--config", type=Path, help="config file (default: ./kbgen.yaml if present)")
    build.add_argument(
        "--catalog",
        type=Path,
        action="append",
        dest="catalogs",
        help="extra catalog YAML file (repeatable)",
    )
    build.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be created, updated, merged, flagged as a conflict, orphaned "
        "or deleted; write nothing",
    )
    build.add_argument(
        "--follow-symlinks",
        action="store_true",
        default=None,
        help="follow symlinks that point outside the sources folder",
    )
    verbosity = build.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="one line per change")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="errors only")

    init = sub.add_parser(
        "init",
        help="create an empty vault from the template",
        description="Create VAULT with kbgen's .obsidian settings (graph colours, wikilinks). "
        "An existing .obsidian folder is left untouched.",
    )
    init.add_argument("vault", type=Path, metavar="VAULT")
    return parser


def _build(args: argparse.Namespace) -> int:
    from . import config as config_mod
    from .pipeline import build

    overrides = {
        "sources": args.sources,
        "vault": args.vault,
        "follow_symlinks": args.follow_symlinks,
        "catalogs": tuple(args.catalogs) if args.catalogs else None,
    }
    config = config_mod.load(args.config, overrides)
    report = build(config, dry_run=args.dry_run, progress=not args.quiet and sys.stderr.isatty())
    for error in report.errors:
        print(f"kbgen: error: {error.path}: {error.reason}", file=sys.stderr)
    if not args.quiet:
        for line in report.plan.lines(routine=args.dry_run or args.verbose):
            print(line)
        if report.vault_created:
            print(f"kbgen: created vault {config.vault} from the template")
        print(report.summary())
        if args.verbose:
            print(report.timing_line())
    return 0 if report.ok else 1


def _init(args: argparse.Namespace) -> int:
    from .vault import init

    copied = init(args.vault)
    print(f"kbgen: {'created' if copied else 'kept existing settings in'} {args.vault}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _build(args) if args.command == "build" else _init(args)
    except KbgenError as exc:
        print(f"kbgen: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kbgen: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
