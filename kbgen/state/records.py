"""What the state remembers of each note and source, as plain records, and their rows.

Records are tuples: a build loads one per note and source, ten thousand and
more, and compares the state before and after by them. The columns they are
stored in are named here, next to the conversions, so that the two cannot
drift apart.
"""

from __future__ import annotations

import json
import re
import sqlite3
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from kbgen.core.filestat import StatKey, sha

_Record = TypeVar("_Record")


class NoteRecord(NamedTuple):  # tuples: a build loads one per note, ten thousand and more
    path: str
    base: str  # sha of the last rendering (its text is in `texts`, unless an older kbgen wrote it)
    written: str  # sha of the bytes kbgen last wrote there
    orphaned: bool = False
    pinned: bool = False  # the user moved or renamed it: kbgen never moves it again
    stat: StatKey | None = None  # the file's stat when kbgen last read or wrote it
    edited: bool = False  # at that stat, the note held edits of the user's
    aliases: tuple[str, ...] | None = None  # at that stat, the aliases property of an edited note


@dataclass(frozen=True)
class Pending:
    """A write announced in the journal, not yet confirmed."""

    path: str
    base: str
    written: str


class SourceRecord(NamedTuple):
    digest: str
    id: str
    title: str | None = None
    published: str | None = None
    publisher: str | None = None
    stat: StatKey | None = None  # the source file's stat when it was last read


@dataclass
class State:
    notes: dict[str, NoteRecord] = field(default_factory=dict)
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    pending: dict[str, Pending] = field(default_factory=dict)

    def owned_paths(self) -> set[str]:
        paths = {n.path for n in self.notes.values()}
        return paths | {p.path for p in self.pending.values()}

    def copy(self) -> State:
        return State(dict(self.notes), dict(self.sources), dict(self.pending))


NOTE_COLUMNS = "path, base, written, orphaned, pinned, stat, edited, aliases"  # of a record
SOURCE_COLUMNS = "digest, id, title, published, publisher, stat"  # of a source's record


def note_record(row: tuple[Any, ...]) -> NoteRecord:
    """A note's record from its `NOTE_COLUMNS`."""
    path, base, written, orphaned, pinned, stat, edited, aliases = row
    return NoteRecord(
        path,
        base,
        written,
        bool(orphaned),
        bool(pinned),
        stat_in(stat),
        bool(edited),
        tuple(json.loads(aliases)) if aliases is not None else None,
    )


def note_row(kbgen_id: str, r: NoteRecord) -> tuple[Any, ...]:
    """`id` and the `NOTE_COLUMNS` of a note's record."""
    aliases = json.dumps(list(r.aliases)) if r.aliases is not None else None
    return (
        kbgen_id,
        r.path,
        r.base,
        r.written,
        int(r.orphaned),
        int(r.pinned),
        stat_out(r.stat),
        int(r.edited),
        aliases,
    )


def source_record(row: tuple[Any, ...]) -> SourceRecord:
    """A source's record from its `SOURCE_COLUMNS`."""
    digest, kbgen_id, title, published, publisher, stat = row
    return SourceRecord(digest, kbgen_id, title, published, publisher, stat_in(stat))


def source_row(path: str, s: SourceRecord) -> tuple[Any, ...]:
    """`path` and the `SOURCE_COLUMNS` of a source's record."""
    return (path, s.digest, s.id, s.title, s.published, s.publisher, stat_out(s.stat))


_STAT = struct.Struct("<qqqQ")  # size, mtime_ns, ctime_ns, inode: unpacked in C, 10,000 a build


def stat_in(stored: bytes | str | None) -> StatKey | None:
    if not stored:
        return None
    if isinstance(stored, bytes):
        size, mtime, ctime, ino = _STAT.unpack(stored)
    else:  # "size:mtime:ctime:ino", as kbgen stored it before 2026-11-30
        size, mtime, ctime, ino = map(int, stored.split(":"))
    return (size, mtime, ctime, ino)


def stat_out(key: StatKey | None) -> bytes | None:
    return None if key is None else _STAT.pack(*key)


def changed(
    before: Mapping[str, _Record],
    after: Mapping[str, _Record],
    dirty: AbstractSet[str] = frozenset(),
) -> list[tuple[str, _Record]]:
    """The records `after` adds or changes (or that `dirty` says to write again), in key order."""
    return sorted((k, r) for k, r in after.items() if k in dirty or before.get(k) != r)


def settle(
    state: State,
    on_disk: dict[str, bytes | None],
    base_text: Callable[[str], str | None] = lambda digest: None,
) -> tuple[State, list[str]]:
    """Finish the journal of a killed build: a write that reached the disk is kbgen's.

    `on_disk` maps each pending note's announced path (and its previous path)
    to the bytes there now. Returns the settled state and previous paths left
    behind by a move that was interrupted, holding bytes kbgen wrote.

    A note the user edited after the killed build wrote it holds neither what kbgen wrote
    then nor before: the text it is nearer to (`base_text` gives each merge base's) tells
    which one the user edited, and so which is its merge base. Taking the old one would
    read kbgen's own write as the user's edit, and conflict with the next rendering.
    """
    settled = state.copy()
    leftovers: list[str] = []
    for kbgen_id, pending in sorted(state.pending.items()):
        data = on_disk.get(pending.path)
        before = state.notes.get(kbgen_id)
        if data is None:
            continue
        landed = sha(data) == pending.written
        if not landed and not _edited_after_the_write(data, before, pending, base_text):
            continue
        pinned = before.pinned if before is not None else False
        settled.notes[kbgen_id] = NoteRecord(
            pending.path, pending.base, pending.written, pinned=pinned
        )
        if before is not None and before.path != pending.path:
            old = on_disk.get(before.path)
            if old is not None and sha(old) == before.written:
                leftovers.append(before.path)
    settled.pending = {}
    return settled, leftovers


def _edited_after_the_write(
    data: bytes,
    before: NoteRecord | None,
    pending: Pending,
    base_text: Callable[[str], str | None],
) -> bool:
    """Whether a note that holds neither what the killed build wrote nor what was there before
    is the user's edit of the killed build's write: it shares more words with that write's
    base than with the base before (a note that was not there before: always)."""
    if before is None:
        return True
    if sha(data) == before.written or before.path != pending.path:
        return False
    new, old = base_text(pending.base), base_text(before.base)
    if new is None:
        return False
    if old is None:
        return True
    words = _words(data.decode("utf-8", errors="replace"))
    return _shared(words, _words(new)) > _shared(words, _words(old))


def _words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text))


def _shared(words: Counter[str], other: Counter[str]) -> int:
    """How many words a note shares with a text, counted with repetition (linear time)."""
    return sum((words & other).values())


_WORD = re.compile(r"\w+")


def read_all(db: sqlite3.Connection) -> State:
    """Every record and journal entry, in key order."""
    state = State()
    for row in db.execute(
        f"SELECT id, next_path, next_base, next_written, {NOTE_COLUMNS} FROM notes ORDER BY id"
    ):
        kbgen_id, n_path, n_base, n_written, path = row[:5]
        if path is not None:
            state.notes[kbgen_id] = note_record(row[4:])
        if n_path is not None:
            state.pending[kbgen_id] = Pending(n_path, n_base, n_written)
    for row in db.execute(f"SELECT path, {SOURCE_COLUMNS} FROM sources ORDER BY path"):
        state.sources[row[0]] = source_record(row[1:])
    return state


def read_some(db: sqlite3.Connection, notes: Iterable[str], sources: Iterable[str]) -> State:
    """These notes' and sources' records (those there are), in key order."""
    state = State()
    query = (
        f"SELECT id, {NOTE_COLUMNS} FROM notes WHERE id IN (%s) AND path IS NOT NULL ORDER BY id"
    )
    for row in rows_in(db, query, notes):
        state.notes[row[0]] = note_record(row[1:])
    query = f"SELECT path, {SOURCE_COLUMNS} FROM sources WHERE path IN (%s) ORDER BY path"
    for row in rows_in(db, query, sources):
        state.sources[row[0]] = source_record(row[1:])
    return state


def rows_in(db: sqlite3.Connection, query: str, keys: Iterable[str]) -> Iterator[Any]:
    """The rows `query` gives for these keys, asked a chunk of them at a time (the chunks in
    key order): its `%s` is where their placeholders go (SQLite caps a statement's parameters:
    999 values in older builds)."""
    ordered = sorted(set(keys))
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        yield from db.execute(query % ",".join("?" * len(chunk)), chunk)
