"""What each source gives the notes, as the state keeps it: packed by source (`given`), found
by note (`contrib`).

A build reads contributions both ways: by source, to see what a changed source gave before
(`contributions`), and by note, to render a note again from the lines its sources give it
(`lines`, `feeders`). The packs serve the first whole; the second reads from each source's
pack only the note's lines, unpacking it as far as they go (`packs.lines_in`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from kbgen.state import packs
from kbgen.state.schema import FEED_COLUMNS

if TYPE_CHECKING:  # a build the snapshot answers never loads the data model
    from kbgen.core.model import Contribution

SCANNED_FROM = 256  # sources asked at once from which one scan of the packs beats lookups

# a note's lines, with the pack they are in: `FROM contrib AS f` joined to its pack
_LINES = (
    "SELECT f.source, f.at, f.size, g.pack FROM contrib AS f JOIN given AS g ON g.source = f.source"
)


def contributions(
    db: sqlite3.Connection, sources: Iterable[str]
) -> Iterator[tuple[str, dict[str, Contribution]]]:
    """Per source asked, in path order, what it gives each note ({} when nothing)."""
    wanted = sorted(set(sources))
    if len(wanted) > SCANNED_FROM:  # one scan of the table, by source
        chosen, seen = set(wanted), set()
        for source, packed in db.execute("SELECT source, pack FROM given ORDER BY source"):
            if source in chosen:
                seen.add(source)
                yield source, packs.unpack(packed)
        yield from ((s, {}) for s in wanted if s not in seen)
        return
    for source in wanted:
        row = db.execute("SELECT pack FROM given WHERE source = ?", (source,)).fetchone()
        yield source, {} if row is None else packs.unpack(row[0])


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
            continue
        (packed,) = db.execute("SELECT pack FROM given WHERE source = ?", (source,)).fetchone()
        out[source] = packs.unpack(packed)[note]
    return out


def lines(db: sqlite3.Connection, where: str, *args: str) -> dict[str, str]:
    """Per source, the lines of the `contrib` rows `where` picks (f.… its columns)."""
    out = {}
    for source, at, size, packed in db.execute(f"{_LINES} WHERE {where}", args):
        out[source] = packs.lines_in(packed, at, size) if size else ""
    return out


def lines_on(db: sqlite3.Connection, note: str, published: str) -> dict[str, str]:
    """A note's lines from the sources published on a date: the day's sources first (CROSS
    JOIN keeps that order), then each one's row."""
    query = (
        "SELECT f.source, f.at, f.size, g.pack FROM sources AS s"
        " CROSS JOIN contrib AS f ON f.note = ? AND f.said = 1 AND f.source = s.path"
        " JOIN given AS g ON g.source = f.source WHERE s.published = ?"
    )
    return {
        source: packs.lines_in(packed, at, size)
        for source, at, size, packed in db.execute(query, (note, published))
    }


def notes_of(db: sqlite3.Connection, source: str) -> list[tuple[str, int]]:
    """The notes a source gives something, each with 1 when it gives lines."""
    row = db.execute("SELECT pack FROM given WHERE source = ?", (source,)).fetchone()
    return [] if row is None else packs.notes_in(row[0])


def drop(db: sqlite3.Connection, sources: Iterable[str]) -> None:
    """These sources' contributions gone, pack and rows."""
    for source in sources:
        keys = [(note, said, source) for note, said in notes_of(db, source)]
        db.executemany("DELETE FROM contrib WHERE note = ? AND said = ? AND source = ?", keys)
        db.execute("DELETE FROM given WHERE source = ?", (source,))


def put(db: sqlite3.Connection, source: str, packed: bytes, feeds: list[packs.Feed]) -> None:
    db.execute("INSERT INTO given VALUES (?, ?)", (source, packed))
    db.executemany(f"INSERT INTO contrib ({FEED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", feeds)


def copy_staged(db: sqlite3.Connection, staged: str) -> None:
    """Every pack, feed and word of the staging file attached as `staged`, copied inside
    SQLite: 558,000 contributions at 10,000 articles took 4.2–6.7 s through Python."""
    db.execute(f"INSERT INTO given SELECT source, pack FROM {staged}.g ORDER BY source")
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
