"""The `kbgen` command: argument parsing and reporting, nothing else."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kbgen import __version__
from kbgen.core.errors import KbgenError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kbgen.core.config import Config


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
    _add_common(build)
    build.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be created, updated, merged, flagged as a conflict, orphaned "
        "or deleted; write nothing",
    )
    _add_verbosity(build)

    watch = sub.add_parser(
        "watch",
        help="keep the vault in sync until Ctrl-C",
        description="Build once, then follow changes to the sources and to the vault and run "
        "the same build after each burst of changes. Notes you edit in Obsidian meanwhile are "
        "never overwritten. Ctrl-C or SIGTERM lets the current build finish, then exits 0.",
    )
    _add_common(watch)
    watch.add_argument(
        "--quiet-period",
        type=_positive,
        default=100,
        metavar="MS",
        help="milliseconds without changes before a sync (default: 100)",
    )
    watch.add_argument(
        "--rescan",
        type=_positive,
        default=60,
        metavar="SECONDS",
        help="full check this often, for changes the OS did not report (default: 60)",
    )
    watch.add_argument(
        "--polling",
        action="store_true",
        help="poll for changes instead of using native events (used anyway on network "
        "and VM mounts, which give none)",
    )
    _add_verbosity(watch)

    init = sub.add_parser(
        "init",
        help="create an empty vault from the template",
        description="Create VAULT with kbgen's .obsidian settings (graph colours, wikilinks). "
        "An existing .obsidian folder is left untouched.",
    )
    init.add_argument("vault", type=Path, metavar="VAULT")
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sources", type=Path, help="folder of articles (default: sources/)")
    parser.add_argument(
        "--vault", type=Path, help="vault folder (default: vault/; created if missing)"
    )
    parser.add_argument(
        "--config", type=Path, help="config file (default: ./kbgen.yaml if present)"
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        action="append",
        dest="catalogs",
        help="extra catalog YAML file (repeatable)",
    )
    parser.add_argument(
        "--follow-symlinks",
        action="store_true",
        default=None,
        help="follow symlinks that point outside the sources folder",
    )


def _add_verbosity(parser: argparse.ArgumentParser) -> None:
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="one line per change")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="errors only")


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _config(args: argparse.Namespace) -> Config:
    from kbgen.core import config as config_mod

    overrides = {
        "sources": args.sources,
        "vault": args.vault,
        "follow_symlinks": args.follow_symlinks,
        "catalogs": tuple(args.catalogs) if args.catalogs else None,
    }
    return config_mod.load(args.config, overrides)


def _build(args: argparse.Namespace) -> int:
    from kbgen.build.pipeline import build

    config = _config(args)
    with _collector_paused(give_back=not args.process_ends):
        progress = not args.quiet and sys.stderr.isatty()
        report = build(config, dry_run=args.dry_run, progress=progress)
    for error in report.errors:
        print(f"kbgen: error: {error.path}: {error.reason}", file=sys.stderr)
    if not args.quiet:
        for line in report.plan.lines(routine=args.dry_run or args.verbose):
            print(line)
        if args.dry_run or args.verbose:
            for line in report.removed:
                print(line)
        if report.vault_created:
            print(f"kbgen: created vault {config.vault} from the template")
        print(report.summary())
        if args.verbose:
            print(report.path_line())
            print(report.timing_line())
    return 0 if report.ok else 1


@contextlib.contextmanager
def _collector_paused(give_back: bool) -> Iterator[None]:
    """Python's cyclic collector off for one build, then as it was.

    A build makes next to no cyclic garbage (about 600 objects in a cold build of 5,000
    articles; everything else is freed as its last reference goes), but the collector's
    passes over the records a build holds took a tenth of a one-edit build at 10,000
    articles (0.05 s of its two full passes, 0.05 s of the others). `kbgen watch` manages
    it its own way (`watcher.collect_between_syncs`), and the parsing workers collect as
    usual. When the process ends after the build, it is not given back: turned on, it would
    first walk all the build made (15 ms of a one-edit build at 10,000).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was and give_back:
            gc.enable()


def _watch(args: argparse.Namespace) -> int:
    """Runs until SIGINT or SIGTERM; the first lets the current build finish, a second one
    interrupts it (kbgen's writes are crash-safe either way)."""
    import signal

    from kbgen.watch.watcher import Watcher, WatchOptions

    options = WatchOptions(
        quiet=args.quiet_period / 1000,
        max_wait=max(2.0, 10 * args.quiet_period / 1000),
        rescan=args.rescan,
        polling=args.polling,
        verbose=args.verbose,
        quiet_log=args.quiet,
    )
    watcher = Watcher(
        _config(args),
        options,
        log=lambda line: print(line, flush=True),
        log_error=lambda line: print(line, file=sys.stderr, flush=True),
    )

    def stop(signum: int, frame: object) -> None:
        if watcher.stopping:
            raise KeyboardInterrupt
        print("kbgen: stopping after the current build", file=sys.stderr, flush=True)
        watcher.stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    watcher.run()
    return 0


def _init(args: argparse.Namespace) -> int:
    from kbgen.vault.files import init

    copied = init(args.vault)
    print(f"kbgen: {'created' if copied else 'kept existing settings in'} {args.vault}")
    return 0


def main(argv: list[str] | None = None, *, process_ends: bool = False) -> int:
    """`process_ends`: the process ends when this returns (`run`), so nothing is given back."""
    args = _parser().parse_args(argv)
    args.process_ends = process_ends
    try:
        commands = {"build": _build, "watch": _watch, "init": _init}
        return commands[args.command](args)
    except KbgenError as exc:
        print(f"kbgen: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kbgen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of the report is gone (`kbgen build | head`); what was built stays built.
        # As Python's documentation advises for SIGPIPE: nothing more to stdout, exit 1.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run() -> None:
    """The `kbgen` command: `main`, then out without freeing what the build held.

    Python frees every object still alive at exit one by one: after a one-edit build of
    10,000 articles that took 0.13–0.18 s, a sixth of the build. Nothing is lost by leaving
    early: every note and the state were written and closed by the build (the files the
    kernel holds are the files), and the output is flushed here. An exception leaves the
    normal way, traceback and all. As mypy's `hard_exit` does.
    """
    code = main(process_ends=True)
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # cProfile, pyinstrument, coverage: they write their report at exit
    for stream in (sys.stdout, sys.stderr):
        # a reader gone (`kbgen build | head`), a stream closed: nothing more to say
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
