"""The steps of a commit, each one table's part of it (`Store.commit` runs them in one
transaction)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from kbgen.state import given, packs
from kbgen.state.records import NOTE_COLUMNS, SOURCE_COLUMNS, State, changed, note_row, source_row

if TYPE_CHECKING:  # a build the snapshot answers never loads the data model
    from kbgen.core.model import Contribution
    from kbgen.state.staged import Staged

Contributions = Mapping[str, Mapping[str, "Contribution"] | None]
STAGED = "staged"  # the name a cold build's staging file is attached under


def replace_contributions(
    db: sqlite3.Connection, contributions: Contributions, replace_all: bool, staged: bool
) -> None:
    """Each source's pack and rows replaced by its new ones (everyone's, `replace_all`, and
    the words with them); a `Staged` attached (`staged`) copied inside SQLite."""
    from kbgen.state.staged import Replacing  # here: a snapshot's build never loads the model

    if replace_all:
        for table in ("words", "given", "contrib"):
            db.execute(f"DELETE FROM {table}")
    else:
        given.drop(db, sorted(contributions))
    if staged:
        given.copy_staged(db, STAGED)
        return
    for source in sorted(contributions):
        now = contributions[source]
        if not now:
            continue  # gone, or giving nothing
        if isinstance(contributions, Replacing):  # packed as the source was parsed
            packed, feeds = contributions.packed(source)
        else:
            packed, feeds = packs.pack(
                source, [(c.note, c.mentions, c.data, c.lines) for c in now.values()]
            )
        given.put(db, source, packed, feeds)


def write_notes(
    db: sqlite3.Connection, before: State, after: State, dirty: AbstractSet[str]
) -> None:
    """The notes' records; the journal entries of `dirty` notes cleared, by writing them
    again (or deleting them)."""
    gone = (set(before.notes) | dirty) - set(after.notes)
    db.executemany("DELETE FROM notes WHERE id = ?", [(i,) for i in sorted(gone)])
    db.executemany(
        f"INSERT OR REPLACE INTO notes (id, {NOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [note_row(i, r) for i, r in changed(before.notes, after.notes, dirty)],
    )


def write_sources(
    db: sqlite3.Connection, before: State, after: State, words: Iterable[tuple[str, str]]
) -> None:
    """The sources' records, and the words of those read; a source gone loses its words."""
    dropped = [(p,) for p in sorted(set(before.sources) - set(after.sources))]
    db.executemany("DELETE FROM sources WHERE path = ?", dropped)
    db.executemany("DELETE FROM words WHERE source = ?", dropped)
    db.executemany("INSERT OR REPLACE INTO words VALUES (?, ?)", words)
    db.executemany(
        f"INSERT OR REPLACE INTO sources (path, {SOURCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [source_row(p, s) for p, s in changed(before.sources, after.sources)],
    )


def drop_unused_texts(
    db: sqlite3.Connection,
    before: State,
    after: State,
    journaled: AbstractSet[str],
    *,
    sweep: bool,
    partial: bool,
) -> None:
    """Merge bases no note has any more: those this commit let go of (and those `journaled`
    for a note the build then left alone), or, with `sweep` (after a full build, a killed one
    or an upgrade from kbgen 0.1), every one: a scan of both tables. `partial`: `after`
    holds only some notes (`Store.load_some`), and bases are shared with the others."""
    if sweep:
        db.execute(
            "DELETE FROM texts WHERE sha NOT IN (SELECT base FROM notes WHERE base IS NOT NULL)"
        )
        return
    let_go = {r.base for i, r in before.notes.items() if after.notes.get(i) != r} | journaled
    unused = let_go - {r.base for r in after.notes.values()}  # bases are shared
    if partial:  # one pass over the table
        for chunk in chunks(sorted(unused)):
            db.execute(
                f"DELETE FROM texts WHERE sha IN ({','.join('?' * len(chunk))})"
                " AND sha NOT IN (SELECT base FROM notes WHERE base IS NOT NULL)",
                chunk,
            )
        return
    db.executemany("DELETE FROM texts WHERE sha = ?", [(t,) for t in sorted(unused)])


@contextlib.contextmanager
def attached(db: sqlite3.Connection, staged: Staged | None) -> Iterator[None]:
    """The staging file attached to the state for the time of a commit (SQLite attaches
    and detaches outside a transaction only)."""
    if staged is None:
        yield
        return
    staged.ready()
    db.execute(f"ATTACH DATABASE ? AS {STAGED}", (str(staged.path),))
    try:
        yield
    finally:
        db.execute(f"DETACH DATABASE {STAGED}")


def chunks(keys: list[str], size: int = 500) -> Iterator[list[str]]:
    """Keys a few hundred at a time: SQLite binds at most 999 values in older builds."""
    for i in range(0, len(keys), size):
        yield keys[i : i + size]
