"""Reading sources: only the changed ones, on every core when there are many."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from kbgen.build.report import progress_bar
from kbgen.core import forked, pool
from kbgen.core.config import Config
from kbgen.core.errors import SourceError
from kbgen.core.filestat import StatKey, key_of, stat_key
from kbgen.link.extract import Matcher, link_article, words_of
from kbgen.link.index import Tallied, Tally, contributions
from kbgen.read.sources import SourceFile, digest, read_bytes
from kbgen.render.source import Prepared, prepare_source
from kbgen.state.staged import Row, Staged, as_rows
from kbgen.state.store import SourceRecord, State


@dataclass(frozen=True)
class Parsed:
    """A source as the rest of the build needs it: its note prepared, its contributions."""

    prepared: Prepared
    contributions: list[Row]  # as plain tuples: a dataclass each cost 3 × the time to unpickle
    tallied: Tallied  # what the totals take from them, read in the worker
    words: str  # every word it links from (`extract.words_of`), for catalog changes to come


@dataclass
class Reading:
    """The sources folder as this build found it."""

    kept: dict[str, SourceRecord] = field(default_factory=dict)  # unchanged, or failed now
    parsed: dict[str, Prepared] = field(default_factory=dict)  # read and linked this build
    stats: dict[str, StatKey | None] = field(default_factory=dict)  # of the parsed ones
    present: set[str] = field(default_factory=set)  # every source file found, failed or not


def read_sources(
    found: tuple[list[SourceFile], list[SourceError]],
    state: State,
    full: bool,
    matcher: Callable[[], Matcher],
    progress: bool,
    errors: list[SourceError],
    parallel: bool,
    on_parsed: Callable[[Parsed], None] = lambda parsed: None,
    relink: AbstractSet[str] = frozenset(),
) -> Reading:
    """Read and link only the sources whose stat, then content, changed (all of them if `full`,
    and those in `relink`, which the catalog may now link differently).

    `on_parsed` sees each source as it is parsed, while the workers go on with the next ones;
    its contributions are that function's to keep, the `Reading` holds only its note prepared.
    """
    files, discover_errors = found
    errors.extend(discover_errors)
    reading = Reading(present={f.rel for f in files})
    now = time.time_ns()
    todo: list[tuple[SourceFile, bytes]] = []
    known = {} if full else state.sources
    for f in files:
        rec, st = known.get(f.rel), f.stat
        if f.rel in relink:
            rec = None  # read again whatever its stat and content say
        if rec is not None and st is not None and rec.stat == key_of(st):
            reading.kept[f.rel] = rec
            continue
        try:
            got = read_if_changed(f, rec, now)
        except SourceError as exc:
            errors.append(exc)
            continue
        if isinstance(got, SourceRecord):
            reading.kept[f.rel] = got
            continue
        reading.stats[f.rel], data = got
        todo.append((f, data))
    reading.parsed = parse_all(todo, matcher, progress, errors, parallel, on_parsed)
    for error in errors:
        if error.path in state.sources:
            reading.kept[error.path] = state.sources[error.path]  # its note is left as it is
    return reading


def read_if_changed(
    f: SourceFile, rec: SourceRecord | None, now_ns: int
) -> SourceRecord | tuple[StatKey | None, bytes]:
    """A source whose stat changed: `rec` with its new stat when its content is still the one
    `rec` records; else that stat (as the state keeps it) and its bytes, to parse. Raises
    SourceError when it cannot be read."""
    data = read_bytes(f)
    stat = stat_key(f.stat, now_ns) if f.stat is not None else None
    if rec is not None and rec.digest == digest(data):
        return rec._replace(stat=stat)
    return stat, data


def parse_all(
    todo: list[tuple[SourceFile, bytes]],
    matcher: Callable[[], Matcher],
    progress: bool,
    errors: list[SourceError],
    parallel: bool,
    on_parsed: Callable[[Parsed], None] = lambda parsed: None,
) -> dict[str, Prepared]:
    """Parse and link sources, on every core when there are many (a cold build)."""
    out: dict[str, Prepared] = {}
    if not todo:
        return out
    global _MATCHER
    _MATCHER = matcher()  # the workers inherit it through fork
    jobs = [(f.rel, data) for f, data in todo]
    bar = progress_bar(len(jobs), "reading", "source") if progress else None
    if parallel and len(jobs) >= _PARALLEL_FROM and forked.can_fork():
        results = pool.ordered_map(_parse_one, jobs, _lost, forked.cores())
    else:
        results = map(_parse_one, jobs)
    for result in results:
        if bar is not None:
            bar.update()
        if isinstance(result, SourceError):
            errors.append(result)
        else:
            out[result.prepared.source] = result.prepared
            on_parsed(result)
    if bar is not None:
        bar.close()
    return out


def removal_lines(parsed: Mapping[str, Prepared]) -> list[str]:
    """A line for each prose-like block cleaning removed from a source (`kbgen build -v`)."""
    return [
        f"removed {path} ({rule}): {_excerpt(text)}"
        for path in sorted(parsed)
        for rule, text in parsed[path].dropped
    ]


def _excerpt(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")


_MATCHER: Matcher | None = None  # the worker processes' matcher, inherited through fork
_PARALLEL_FROM = 200  # fewer sources than this are parsed faster than a pool starts


def _lost(job: tuple[str, bytes], why: str) -> SourceError:
    """A source whose worker died, or whose result could not be sent back."""
    if why == pool.DIED:
        return SourceError(job[0], f"the process reading it {why}; please report it")
    return SourceError(job[0], f"kbgen bug while reading it ({why}); please report it")


def _parse_one(job: tuple[str, bytes]) -> Parsed | SourceError:
    """One source, read to what the rest of the build needs (runs in a worker)."""
    from kbgen.read.sources import parse

    rel, data = job
    assert _MATCHER is not None
    try:
        article = parse(rel, data)
        linked = link_article(article, _MATCHER)
        given, rows = contributions(article, linked)
        return Parsed(prepare_source(article, linked), as_rows(given), rows, words_of(linked))
    except SourceError as exc:
        return exc
    except Exception as exc:  # a bug of kbgen's on one article must not stop the others
        return SourceError(
            rel, f"kbgen bug while reading it ({type(exc).__name__}: {exc}); please report it"
        )


# What `warm_up` parses: a source for each reader (`readers.READERS`)
_PROSE = "Warm-up\n\nBy Ann Weller\n\nVladimir Putin spoke of sanctions on 3 March 2017.\n"
_MARKDOWN = f"---\ntitle: Warm-up\n---\n\n{_PROSE}"
_HTML = f"<html><head><title>Warm-up</title></head><body><p>{_PROSE}</p></body></html>"


def warm_up(suffixes: AbstractSet[str]) -> None:
    """Import and compile what parsing sources of these kinds (".md", …) needs, as the first
    parse would. `kbgen watch` does it once its start-up build is over (its sources, if any,
    were parsed by workers), so that the user's first save does not wait for it: 0.19 s of
    the first sync at 5,000 articles (markdown-it and the cleaning patterns)."""
    from kbgen.read.readers import READERS, read_html, read_markdown, read_text
    from kbgen.read.sources import parse

    samples: dict[Callable[[str], Any], str] = {
        read_text: _PROSE,
        read_markdown: _MARKDOWN,
        read_html: _HTML,
    }
    # one suffix per reader: ".md" and ".markdown" warm up the same
    suffix_of: dict[Callable[[str], Any], str] = {}
    for suffix in sorted(suffixes & READERS.keys()):
        suffix_of.setdefault(READERS[suffix], suffix)
    for reader, suffix in suffix_of.items():
        # only a head start: whatever goes wrong here is met, and reported, on a real source
        with contextlib.suppress(Exception):
            parse(f"warm-up{suffix}", samples[reader].encode("utf-8"))


def parse_paths(
    config: Config,
    paths: set[str],
    matcher: Callable[[], Matcher],
    errors: list[SourceError],
    parallel: bool,
) -> dict[str, Prepared]:
    """Sources whose content did not change but whose note must be rendered again."""
    todo: list[tuple[SourceFile, bytes]] = []
    for rel in sorted(paths):
        f = SourceFile(rel, str(config.sources / rel))
        try:
            todo.append((f, read_bytes(f)))
        except SourceError as exc:
            errors.append(exc)
    return parse_all(todo, matcher, False, errors, parallel)


def take_parsed(parsed: Parsed, tally: Tally, staged: Staged) -> None:
    """A source just parsed: added to the totals, its contributions and words put aside."""
    tally.add(parsed.tallied)
    staged.add(parsed.prepared.source, parsed.contributions, parsed.words)
