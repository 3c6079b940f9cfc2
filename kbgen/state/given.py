"""What each source gives the notes, as the state keeps it: packed by source (`given`), found
by note (`contrib`).

A build reads contributions both ways: by source, to see what a changed source gave before
(`contributions`), and by note, to render a note again from the lines its sources give it
(`lines`, `feeders`). A source's pack serves the first whole; the second reads, of each
source, the part of its pack that holds the note's lines (`packs.lines_in`).
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from kbgen.state import packs
from kbgen.state.schema import FEED_COLUMNS

if TYPE_CHECKING:  # a build the snapshot answers never loads the data model
    from kbgen.core.model import Contribution

SCANNED_FROM = 256  # sources asked at once from which one scan of the packs beats lookups

# a note's lines, with the part of the pack they are in (`contrib AS f`)
_LINES = (
    "SELECT f.source, f.at, f.size, g.pack FROM contrib AS f"
    " JOIN given AS g ON g.source = f.source AND g.part = f.part"
)


def contributions(
    db: sqlite3.Connection, sources: Iterable[str]
) -> Iterator[tuple[str, dict[str, Contribution]]]:
    """Per source asked, in path order, what it gives each note ({} when nothing)."""
    wanted = sorted(set(sources))
    if len(wanted) > SCANNED_FROM:  # one scan of the table, by source
        chosen, seen = set(wanted), set()
        rows = db.execute("SELECT source, pack FROM given ORDER BY source, part")
        for source, parts in itertools.groupby(rows, key=operator.itemgetter(0)):
            if source in chosen:
                seen.add(source)
                yield source, packs.unpack(p for _, p in parts)
        yield from ((s, {}) for s in wanted if s not in seen)
        return
    for source in wanted:
        yield source, _unpacked(db, source)


def _unpacked(db: sqlite3.Connection, source: str) -> dict[str, Contribution]:
    query = "SELECT pack FROM given WHERE source = ? ORDER BY part"
    parts = [p for (p,) in db.execute(query, (source,))]
    return packs.unpack(parts) if parts else {}


def feeders(db: sqlite3.Connection, note: str) -> dict[str, Contribution]:
    """Every source's contribution to one note, by source path: its data from the note's row
    when short (an author note's), else from the source's pack."""
    from kbgen.core.model import Contribution

    out = {}
    rows = db.execute(
        "SELECT source, mentions, size, data FROM contrib WHERE note = ? ORDER BY source", (note,)
    ).fetchall()
    for source, mentions, size, data in rows:
        if size == 0 and data is not None:
            out[source] = Contribution(note, mentions, "", data)
        else:
            out[source] = _unpacked(db, source)[note]
    return out


def lines(db: sqlite3.Connection, where: str, *args: str) -> dict[str, str]:
    """Per source, the lines of the `contrib` rows `where` picks (f.… its columns)."""
    out = {}
    for source, at, size, part in db.execute(f"{_LINES} WHERE {where}", args):
        out[source] = packs.lines_in(part, at, size) if size else ""
    return out


def lines_on(db: sqlite3.Connection, note: str, published: str) -> dict[str, str]:
    """A note's lines from the sources published on a date: the day's sources first (CROSS
    JOIN keeps that order), then each one's row."""
    query = (
        "SELECT f.source, f.at, f.size, g.pack FROM sources AS s"
        " CROSS JOIN contrib AS f ON f.note = ? AND f.said = 1 AND f.source = s.path"
        " JOIN given AS g ON g.source = f.source AND g.part = f.part WHERE s.published = ?"
    )
    return {
        source: packs.lines_in(part, at, size)
        for source, at, size, part in db.execute(query, (note, published))
    }


def notes_of(db: sqlite3.Connection, source: str) -> dict[str, str]:
    """The notes a source gives something, with the lines it gives each."""
    return {note: c.lines for note, c in _unpacked(db, source).items()}


def drop(db: sqlite3.Connection, sources: list[str]) -> None:
    """These sources' contributions gone, packs and rows: found through their packs, or for
    many sources, one scan of `contrib`."""
    if len(sources) > SCANNED_FROM:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS dropped (source TEXT PRIMARY KEY)")
        db.executemany("INSERT OR IGNORE INTO temp.dropped VALUES (?)", [(s,) for s in sources])
        db.execute("DELETE FROM contrib WHERE source IN (SELECT source FROM temp.dropped)")
        db.execute("DELETE FROM given WHERE source IN (SELECT source FROM temp.dropped)")
        db.execute("DELETE FROM temp.dropped")
        return
    for source in sources:
        keys = [(note, int(bool(said)), source) for note, said in notes_of(db, source).items()]
        db.executemany("DELETE FROM contrib WHERE note = ? AND said = ? AND source = ?", keys)
        db.execute("DELETE FROM given WHERE source = ?", (source,))


def put(db: sqlite3.Connection, source: str, parts: list[bytes], feeds: list[packs.Feed]) -> None:
    db.executemany(
        "INSERT INTO given VALUES (?, ?, ?)", [(source, i, p) for i, p in enumerate(parts)]
    )
    db.executemany(f"INSERT INTO contrib ({FEED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", feeds)


def copy_staged(db: sqlite3.Connection, staged: str) -> None:
    """Every pack, row and word of the staging file attached as `staged`, copied inside
    SQLite: 558,000 contributions at 10,000 articles took 4.2–6.7 s through Python."""
    db.execute(f"INSERT INTO given SELECT source, part, pack FROM {staged}.g ORDER BY source, part")
    db.execute(
        f"INSERT INTO contrib ({FEED_COLUMNS}) SELECT {FEED_COLUMNS} FROM {staged}.f"
        " ORDER BY note, said, source"
    )
    db.execute(f"INSERT OR REPLACE INTO words SELECT source, words FROM {staged}.w ORDER BY source")


def sources_with_words(
    db: sqlite3.Connection, wanted: Iterable[AbstractSet[str]], known: Iterable[str]
) -> set[str]:
    """Those of the `known` sources that have every word of at least one of `wanted`, or
    whose words the state lacks (`words`: what each source links from)."""
    looked_for, sources = list(wanted), set(known)
    out, kept = set(), set()
    for source, words in db.execute("SELECT source, words FROM words"):
        kept.add(source)
        if source in sources and looked_for:
            have = set(words.split(" "))
            if any(w <= have for w in looked_for):
                out.add(source)
    return out | (sources - kept)
