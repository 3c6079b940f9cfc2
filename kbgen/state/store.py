"""What kbgen last wrote, kept in the vault at `.kbgen/state.sqlite`.

Why SQLite (the standard library's, no server): a merge needs the full text
kbgen last rendered for every note, and for ten thousand articles that is
far too much to rewrite as one JSON file on every build. SQLite updates only
the rows that changed, commits atomically, and survives a killed process
with its own journal.

Tables:
- `notes`: per kbgen_id, the note's path, the hash of the merge base (what
  kbgen last rendered), the hash of the bytes kbgen last wrote, whether it
  is an orphan — and a journal (`next_*`) filled in *before* a batch of
  writes, so a build killed half-way can tell its own writes from the
  user's edits on the next run;
- `texts`: merge bases by hash (notes that render the same share a row);
- `sources`: per source path, its content hash, its note's kbgen_id, what
  the reduced notes show of it (title, date, publisher);
- `contrib`: per (source, note), what that source gives that actor, issue
  or author note (`model.Contribution`), so a changed source costs its own
  work, not the whole vault's;
- `words`: per source path, every word of the text it links from
  (`extract.words_of`): a catalog change reads again only the sources that
  have the words of an alias it changes (`relink`);
- `meta`: the schema version, the fingerprint of the code and honorifics
  the contributions were made with, the catalog's entries (`entities`),
  and vault-wide totals (`totals`).

Files are recognised as unchanged by their stat (size, mtime, ctime, inode),
the way git's index does it: a stat taken within `RACY_SECONDS` of the
file's mtime is not trusted (a second write in the same clock tick would not
change it), so such a file is read and hashed again next time.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import operator
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from kbgen.core.errors import KbgenError
from kbgen.core.filestat import StatKey, file_identity, sha

if TYPE_CHECKING:  # a build the snapshot answers never loads the data model
    from kbgen.core.keys import Totals
    from kbgen.core.model import Contribution
    from kbgen.state.staged import Staged

STATE_DIR = ".kbgen"
DB_NAME = "state.sqlite"
LEGACY_JSON = "state.json"
SCHEMA_VERSION = 3
# Long texts (merge bases, mention lines) are bound as UTF-8 bytes and stored with
# CAST(? AS TEXT): a str bound as it is keeps a cached UTF-8 copy of itself for as long as it
# lives, which doubled the memory of a cold build's notes and lines (500 MB at 10,000).
_AS_TEXT = "CAST(? AS TEXT)"
UNKNOWN_BASE = ""  # the hash of a note whose last rendering kbgen no longer has
LINES_CACHED = 8_000_000  # characters of lines kept for the next build (1–4 bytes each)
TEXTS_KEPT = 8_000_000  # characters of merge bases a build keeps once read (a part's worth)

_Record = TypeVar("_Record")

# By note, and within a note the rows with lines apart: an entity note has a row from every
# source naming it (5,000 for Russia at 5,000 articles) and lines (quotes) in a few, which
# `lines_of` then finds without reading every row (12 ms → 0.02 ms for an entity with none).
# Queries ask `(lines != '') = 1`, the form by which SQLite matches the indexed expression.
_INDEX = "CREATE INDEX IF NOT EXISTS contrib_by_note_lines ON contrib (note, lines != '')"
_OLD_INDEXES = ("contrib_by_note",)  # what older states have instead
# The sources of a day: a day's note of a busy month reads its lines from them, not from every
# source of the month (`lines_published_on`: 2 → 0.2 ms a note at 5,000 articles). Made once
# the `published` column is there (added to older states by `_migrate`).
_DATE_INDEX = "CREATE INDEX IF NOT EXISTS sources_by_date ON sources (published)"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY,
    path TEXT,
    base TEXT,
    written TEXT,
    orphaned INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    next_path TEXT,
    next_base TEXT,
    next_written TEXT
);
CREATE TABLE IF NOT EXISTS texts (sha TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT,
    feeds TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS words (source TEXT PRIMARY KEY, words TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contrib (
    source TEXT NOT NULL,
    note TEXT NOT NULL,
    mentions INTEGER NOT NULL,
    data BLOB NOT NULL,
    lines TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (source, note)
);
{_INDEX};
"""


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


def state_dir(vault: Path) -> Path:
    return vault / STATE_DIR


class Store:
    """The state database of one vault. Read-only for dry runs: opening it changes nothing.

    `kbgen watch` keeps one open between builds: a build then starts from the
    state the last one committed, held in memory, unless another process
    changed the database since (SQLite's `data_version` says so) or the file
    was replaced — loading ten thousand records is a tenth of a second.
    """

    def __init__(self, vault: Path, *, readonly: bool = False) -> None:
        self.vault = vault
        self.path = state_dir(vault) / DB_NAME
        self.readonly = readonly
        self._db: sqlite3.Connection | None = None
        self._texts: dict[str, str] = {}
        self._texts_size = 0  # their characters, kept under TEXTS_KEPT
        self._in_db = State()  # what the database holds, which commit() brings up to date
        self._journaled: set[str] = set()  # rows whose next_* columns this build filled in
        self._journaled_texts: set[str] = set()  # merge bases this build stored
        self._lines: dict[str, dict[str, str]] = {}  # `lines_of` answers, oldest first
        self._lines_size = 0  # their characters, kept under LINES_CACHED
        self._version: int | None = None  # the database's data_version when `_in_db` was true
        self._totals: Totals | None = None  # as `commit` stored them, while `_in_db` is true
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file opened
        self.lacks_texts = False  # True when the state came without base texts (kbgen 0.1)
        self._partial = False  # `_in_db` holds only the records `load_some` loaded

    # -- opening -----------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        try:
            if self.readonly:
                if not self.path.exists():
                    return None
                self._db = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path)
                # not the SECURE_DELETE some SQLite builds default to (this machine's Python's):
                # zeroing every page a delete frees took a full rebuild 3 s at 10,000 articles
                self._db.execute("PRAGMA secure_delete = FAST")
                self._db.executescript(_SCHEMA)
                self._identity = file_identity(self.path)
                _migrate(self._db)
            self._check_version(self._db)
        except sqlite3.Error as exc:
            raise KbgenError(
                f"{self.path}: unreadable kbgen state ({exc}); move it aside to rebuild "
                "(notes you edited will then be kept as they are, not merged)"
            ) from exc
        return self._db

    def _check_version(self, db: sqlite3.Connection) -> None:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            if not self.readonly:
                with db:
                    db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"written by a newer kbgen (schema {row[0]}); upgrade kbgen"
            )

    def close(self) -> None:
        """Also what a build stopped half-way does: the next one loads the state afresh."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._version = None
        self._in_db = State()
        self._partial = False
        self._totals = None
        self._texts.clear()
        self._texts_size = 0
        self._forget_all_lines()

    # -- reading -----------------------------------------------------------------

    def load(self) -> State:
        if self._still_current():
            self._texts.clear()  # merge bases are read again when needed, not kept for ever
            self._texts_size = 0
            in_db = self._in_db  # in key order, as `commit` left it
            return State(dict(in_db.notes), dict(in_db.sources))
        db = self._connect()
        self.lacks_texts = False
        self._partial = False
        self._forget_all_lines()  # another process may have changed every row
        self._totals = None
        if db is None or not self._has_rows(db):
            legacy = _load_legacy_json(self.vault)
            if legacy is not None:
                self.lacks_texts = True
                return legacy  # the database is empty: commit() will write all of it
        if db is None:
            return State()
        state = State()
        for row in db.execute(
            f"SELECT id, next_path, next_base, next_written, {_NOTE_COLUMNS} FROM notes ORDER BY id"
        ):
            kbgen_id, n_path, n_base, n_written, path = row[:5]
            if path is not None:
                state.notes[kbgen_id] = _note_record(row[4:])
            if n_path is not None:
                state.pending[kbgen_id] = Pending(n_path, n_base, n_written)
        for row in db.execute(f"SELECT path, {_SOURCE_COLUMNS} FROM sources ORDER BY path"):
            state.sources[row[0]] = _source_record(row[1:])
        self._in_db = state.copy()
        self._version = self._data_version(db)
        return state

    def load_some(self, notes: Iterable[str], sources: Iterable[str]) -> State:
        """Only these notes' and sources' records, for a build that visits no other
        (kbgen/quick.py): its commit then changes only rows among them. The state it leaves in
        memory is never taken for the whole database (`_still_current`)."""
        db = self._connect()
        self._partial = True
        self._version = None
        self._totals = None
        state = State()
        if db is None:
            return state
        query = (
            f"SELECT id, {_NOTE_COLUMNS} FROM notes"
            " WHERE id IN (%s) AND path IS NOT NULL ORDER BY id"
        )
        for row in _rows_in(db, query, notes):
            state.notes[row[0]] = _note_record(row[1:])
        query = f"SELECT path, {_SOURCE_COLUMNS} FROM sources WHERE path IN (%s) ORDER BY path"
        for row in _rows_in(db, query, sources):
            state.sources[row[0]] = _source_record(row[1:])
        self._in_db = state.copy()
        return state

    def paths_of(self, ids: Iterable[str]) -> dict[str, str]:
        """Where the state says each of these notes is (those it knows)."""
        db = self._connect()
        out: dict[str, str] = {}
        if db is None:
            return out
        query = "SELECT id, path FROM notes WHERE id IN (%s) AND path IS NOT NULL"
        out.update(_rows_in(db, query, ids))
        return out

    def note_paths(self) -> dict[str, str]:
        db = self._connect()
        if db is None:
            return {}
        return dict(db.execute("SELECT id, path FROM notes WHERE path IS NOT NULL"))

    def count_sources(self) -> int:
        db = self._connect()
        return 0 if db is None else int(db.execute("SELECT count(*) FROM sources").fetchone()[0])

    def source_record(self, path: str) -> SourceRecord | None:
        db = self._connect()
        if db is None:
            return None
        query = f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE path = ?"
        row = db.execute(query, (path,)).fetchone()
        return None if row is None else _source_record(row)

    def sources_with_notes(self) -> Iterator[tuple[str, SourceRecord, str]]:
        """Every source's record with its note's path, by source path (those with a note)."""
        db = self._connect()
        if db is None:
            return
        columns = ", ".join(f"s.{c}" for c in _SOURCE_COLUMNS.split(", "))
        for row in db.execute(
            f"SELECT s.path, {columns}, n.path FROM sources AS s JOIN notes AS n ON n.id = s.id"
            " WHERE n.path IS NOT NULL ORDER BY s.path"
        ):
            yield row[0], _source_record(row[1:-1]), row[-1]

    def _still_current(self) -> bool:
        """The state in memory is the database's: nobody else committed or replaced the file."""
        if self._version is None or self._db is None or self.readonly:
            return False
        if file_identity(self.path) != self._identity:
            self.close()  # deleted, restored from a backup, moved aside
            return False
        return self._data_version(self._db) == self._version

    @staticmethod
    def _data_version(db: sqlite3.Connection) -> int:
        """Changes when another connection commits (never for this one's own commits)."""
        return int(db.execute("PRAGMA data_version").fetchone()[0])

    def totals(self) -> Totals:
        """The vault-wide totals per note, as the last build committed them. Not to be changed:
        `kbgen watch` keeps them between builds (400 KB of JSON at 5,000 articles, 8–12 ms to
        parse at every sync) for as long as the state in memory is the database's."""
        if self._totals is not None and self._still_current():
            return self._totals
        totals: Totals = json.loads(self.meta("totals") or "{}")
        return totals

    def meta(self, key: str) -> str | None:
        db = self._connect()
        if db is None:
            return None
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def contributions_of(self, sources: Iterable[str]) -> dict[str, dict[str, Contribution]]:
        """What each of `sources` gave the reduced notes when it was last built."""
        return dict(self.each_contribution_of(sources))

    def each_contribution_of(
        self, sources: Iterable[str]
    ) -> Iterator[tuple[str, dict[str, Contribution]]]:
        """`contributions_of`, one source at a time: for a caller that keeps only a digest."""
        from kbgen.core.model import Contribution

        db = self._connect()
        if db is None:
            return
        wanted = sorted(set(sources))
        if len(wanted) > 256:  # one scan of the table, by source, beats thousands of lookups
            chosen, seen = set(wanted), set()
            rows = db.execute(
                "SELECT source, note, mentions, lines, data FROM contrib ORDER BY source"
            )
            for source, group in itertools.groupby(rows, key=operator.itemgetter(0)):
                if source in chosen:
                    seen.add(source)
                    yield source, {r[1]: Contribution(r[1], r[2], r[3], r[4]) for r in group}
            yield from ((s, {}) for s in wanted if s not in seen)  # sources that gave nothing
            return
        for source in wanted:
            rows = db.execute(
                "SELECT note, mentions, lines, data FROM contrib WHERE source = ?", (source,)
            )
            yield (
                source,
                {note: Contribution(note, m, lines, data) for note, m, lines, data in rows},
            )

    def sources_with_words(
        self, wanted: Iterable[AbstractSet[str]], known: Iterable[str]
    ) -> set[str]:
        """Those of the `known` sources that have every word of at least one of `wanted`, or
        whose words the state lacks: either may hold an alias."""
        looked_for, sources = list(wanted), set(known)
        db = self._connect()
        if db is None:
            return sources
        out, kept = set(), set()
        for source, words in db.execute("SELECT source, words FROM words"):
            kept.add(source)
            if source in sources and looked_for:
                have = set(words.split(" "))
                if any(w <= have for w in looked_for):
                    out.add(source)
        return out | (sources - kept)

    def feeders(self, note: str) -> dict[str, Contribution]:
        """Every source's contribution to one note, by source path."""
        from kbgen.core.model import Contribution

        db = self._connect()
        if db is None:
            return {}
        return {
            source: Contribution(note, mentions, lines, data)
            for source, mentions, lines, data in db.execute(
                "SELECT source, mentions, lines, data FROM contrib WHERE note = ?", (note,)
            )
        }

    def lines_of(self, note: str) -> dict[str, str]:
        """Every source's lines for one note, sources that gave it none left out (do not change
        the answer: it is kept, until a commit changes that note's rows, for the next build of
        `kbgen watch`, where the same big notes are rendered again and again)."""
        cached = self._lines.pop(note, None)
        if cached is not None:
            self._lines[note] = cached  # the most recently used last
            return cached
        db = self._connect()
        if db is None:
            return {}
        query = "SELECT source, lines FROM contrib WHERE note = ? AND (lines != '') = 1"
        lines = dict(db.execute(query, (note,)))
        self._lines[note] = lines
        self._lines_size += _size(lines)
        while self._lines_size > LINES_CACHED and len(self._lines) > 1:
            self._lines_size -= _size(self._lines.pop(next(iter(self._lines))))
        return lines

    def _forget_all_lines(self) -> None:
        self._lines.clear()
        self._lines_size = 0

    def _update_lines(
        self, db: sqlite3.Connection, sources: Mapping[str, Mapping[str, Contribution] | None]
    ) -> None:
        """Before a commit replaces these sources' rows: the lines kept for notes they gave lines
        to, or now give, brought up to date (a replaced row comes last, as in the database)."""
        if not self._lines:
            return
        for source in sorted(sources):  # each fetched in turn: `sources` may be read lazily
            given = sources[source] or {}
            rows = db.execute("SELECT note FROM contrib WHERE source = ?", (source,))
            notes = {n for (n,) in rows} | set(given)
            for note in sorted(notes & self._lines.keys()):
                lines = self._lines[note]
                self._lines_size -= len(lines.pop(source, ""))
                now = given[note].lines if note in given else ""
                if now:
                    lines[source] = now
                    self._lines_size += len(now)

    def lines_published_on(self, note: str, published: str) -> dict[str, str]:
        """The lines one note has from the sources published on a date (as last committed):
        a day's note of a month page reads its day's sources, not its month's (30 sources of
        800 in a month of Russia at 10,000 articles)."""
        db = self._connect()
        if db is None:
            return {}
        query = (  # the day's sources first (CROSS JOIN keeps that order), then each one's row
            "SELECT c.source, c.lines FROM sources AS s CROSS JOIN contrib AS c"
            " ON c.source = s.path WHERE s.published = ? AND c.note = ? AND c.lines != ''"
        )
        return dict(db.execute(query, (published, note)))

    def lines_of_pages(self, entity: str) -> dict[str, str]:
        """Every source's quote lines for an entity, from its mention pages (one per source)."""
        db = self._connect()
        if db is None:
            return {}
        rows = db.execute(
            "SELECT source, lines FROM contrib WHERE note >= ? AND note < ?",
            (f"{entity}@", f"{entity}A"),  # "A" follows "@": every `entity@period`, by the index
        )
        return dict(rows)

    def sources_feeding(self, note: str) -> set[str]:
        db = self._connect()
        if db is None:
            return set()
        return {row[0] for row in db.execute("SELECT source FROM contrib WHERE note = ?", (note,))}

    @staticmethod
    def _has_rows(db: sqlite3.Connection) -> bool:
        return db.execute("SELECT 1 FROM notes LIMIT 1").fetchone() is not None

    def text(self, digest: str) -> str | None:
        """A merge base by its hash (texts of this build's journal included)."""
        if digest in self._texts:
            return self._texts[digest]
        db = self._connect()
        if db is None:
            return None
        row = db.execute("SELECT text FROM texts WHERE sha = ?", (digest,)).fetchone()
        if row is None:
            return None
        text = str(row[0])
        if self._texts_size + len(text) > TEXTS_KEPT:  # a rebuild of every note reads them all
            self._texts.clear()
            self._texts_size = 0
        self._texts[digest] = text  # judged in `locate`, merged in `plan`: read once
        self._texts_size += len(text)
        return text

    # -- writing -----------------------------------------------------------------

    def journal(
        self, writes: Iterable[tuple[str, str, str, str]], texts: Mapping[str, bytes]
    ) -> None:
        """Before writing: store the new merge bases (`texts`, UTF-8, by hash) and record
        (kbgen_id, path, merge base hash, hash of the bytes) for every note about to change.

        One transaction: each commit costs the disk a few fsyncs, and a build killed before
        it finds neither, after it both.
        """
        db = self._writable()
        with db:
            # not kept in `_texts`: a build writes part by part so as never to hold them all
            for digest, text in texts.items():
                self._journaled_texts.add(digest)
                db.execute(f"INSERT OR IGNORE INTO texts VALUES (?, {_AS_TEXT})", (digest, text))
            for kbgen_id, path, base_sha, written_sha in writes:
                db.execute(
                    "INSERT INTO notes (id, next_path, next_base, next_written)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                    " next_path = excluded.next_path, next_base = excluded.next_base,"
                    " next_written = excluded.next_written",
                    (kbgen_id, path, base_sha, written_sha),
                )
                self._journaled.add(kbgen_id)

    def commit(
        self,
        after: State,
        contributions: Mapping[str, Mapping[str, Contribution] | None] | None = None,
        meta: Mapping[str, str] | None = None,
        *,
        replace_all: bool = False,
        words: Iterable[tuple[str, str]] = (),
        totals: Totals | None = None,
    ) -> None:
        """Make `after` the state, in one transaction; nothing is written when nothing changed.

        `contributions` replaces, per source path, what it gives the reduced
        notes (None: the source is gone); `words`, per source path read, the
        words it links from; `meta` sets keys of the meta table. With
        `replace_all`, every other source's contributions and words are
        dropped; a source no longer in `after` loses its words. `totals` replace the totals
        (`totals()`), the caller's to let go of.

        A `Staged` (a cold build's, with `replace_all`) brings its words with it, and its
        rows are copied inside SQLite, its file attached: 558,000 rows at 10,000 articles
        took 4.2–6.7 s through Python, 1.6–3.0 s so (bench/RESULTS.md).
        """
        from kbgen.state.staged import (
            Staged,  # here: a build the snapshot answers never loads the model
        )

        before = self._in_db
        contributions = contributions or {}
        meta = {"schema": str(SCHEMA_VERSION), **(meta or {})}
        if totals is not None and totals != self._totals:
            meta["totals"] = json.dumps(totals, sort_keys=True)
        meta = {k: v for k, v in meta.items() if self.meta(k) != v}
        if before == after and not self._journaled and not contributions and not meta:
            return  # `words` come with a change: a source read again (content or catalog)
        db = self._writable()
        staged = contributions if isinstance(contributions, Staged) else None
        with _attached(db, staged), db:
            if replace_all:  # an index is built faster once, after the rows (6.8 → 3.5 s at 10,000)
                db.execute("DELETE FROM words")
                db.execute("DELETE FROM contrib")
                db.execute("DROP INDEX IF EXISTS contrib_by_note_lines")
                self._forget_all_lines()
            else:
                self._update_lines(db, contributions)
                db.executemany(
                    "DELETE FROM contrib WHERE source = ?", [(s,) for s in sorted(contributions)]
                )
            if staged is not None:
                db.execute(
                    "INSERT INTO contrib (source, note, mentions, data, lines) SELECT source,"
                    f" note, mentions, data, lines FROM {_STAGED}.c ORDER BY source, note"
                )
                db.execute(
                    "INSERT OR REPLACE INTO words (source, words)"
                    f" SELECT source, words FROM {_STAGED}.w ORDER BY source"
                )
            else:
                db.executemany(  # lines bound as bytes: see _AS_TEXT
                    "INSERT INTO contrib (source, note, mentions, data, lines)"
                    f" VALUES (?, ?, ?, ?, {_AS_TEXT})",
                    (
                        (source, c.note, c.mentions, c.data, c.lines.encode("utf-8"))
                        for source in sorted(contributions)
                        for c in sorted(
                            (contributions[source] or {}).values(), key=lambda c: c.note
                        )
                    ),
                )
            if replace_all:
                db.execute(_INDEX)
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(meta.items()))
            dirty = set(before.pending) | self._journaled
            gone = (set(before.notes) | dirty) - set(after.notes)
            db.executemany("DELETE FROM notes WHERE id = ?", [(i,) for i in sorted(gone)])
            db.executemany(
                "INSERT OR REPLACE INTO notes (id, path, base, written, orphaned, pinned, stat,"
                " edited, aliases) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        i,
                        r.path,
                        r.base,
                        r.written,
                        int(r.orphaned),
                        int(r.pinned),
                        _stat_out(r.stat),
                        int(r.edited),
                        json.dumps(list(r.aliases)) if r.aliases is not None else None,
                    )
                    for i, r in _changed(before.notes, after.notes, dirty)
                ],
            )
            dropped = [(p,) for p in sorted(set(before.sources) - set(after.sources))]
            db.executemany("DELETE FROM sources WHERE path = ?", dropped)
            db.executemany("DELETE FROM words WHERE source = ?", dropped)
            db.executemany("INSERT OR REPLACE INTO words VALUES (?, ?)", words)
            db.executemany(
                "INSERT OR REPLACE INTO sources (path, digest, id, title, feeds, published,"
                " publisher, stat) VALUES (?, ?, ?, ?, '[]', ?, ?, ?)",
                [
                    (p, s.digest, s.id, s.title, s.published, s.publisher, _stat_out(s.stat))
                    for p, s in _changed(before.sources, after.sources)
                ],
            )
            sweep = replace_all or bool(before.pending) or self.lacks_texts
            self._drop_unused_texts(db, before, after, sweep)
        # in key order, as loading makes it: sorted here, after the notes are written, and not
        # when `kbgen watch` loads it again at the start of the next build
        self._in_db = State(
            dict(sorted(after.notes.items())),
            dict(sorted(after.sources.items())),
            dict(after.pending),
        )
        self._journaled = set()
        self._journaled_texts = set()
        if totals is not None:
            self._totals = totals
        if self._version is not None:  # (`load_some` leaves none)
            self._version = self._data_version(db)
        _drop_legacy_json(self.vault)

    def _drop_unused_texts(
        self, db: sqlite3.Connection, before: State, after: State, sweep: bool
    ) -> None:
        """Merge bases no note has any more: those this commit let go of, or, after a full
        build, a killed one or an upgrade from kbgen 0.1, every one (a scan of both tables)."""
        if sweep:
            db.execute(
                "DELETE FROM texts WHERE sha NOT IN (SELECT base FROM notes WHERE base IS NOT NULL)"
            )
            return
        let_go = {r.base for i, r in before.notes.items() if after.notes.get(i) != r}
        let_go |= self._journaled_texts  # written for a note this build then left alone
        unused = let_go - {r.base for r in after.notes.values()}  # bases are shared
        if self._partial:  # and with notes this build did not load: one pass over the table
            for chunk in _chunks(sorted(unused)):
                db.execute(
                    f"DELETE FROM texts WHERE sha IN ({','.join('?' * len(chunk))})"
                    " AND sha NOT IN (SELECT base FROM notes WHERE base IS NOT NULL)",
                    chunk,
                )
            return
        db.executemany("DELETE FROM texts WHERE sha = ?", [(t,) for t in sorted(unused)])

    def _writable(self) -> sqlite3.Connection:
        if self.readonly:
            raise RuntimeError("the state of a dry run is read-only")
        db = self._connect()
        assert db is not None
        return db


_STAGED = "staged"  # the name a cold build's staging file is attached under


@contextlib.contextmanager
def _attached(db: sqlite3.Connection, staged: Staged | None) -> Iterator[None]:
    """The staging file attached to the state for the time of a commit (SQLite attaches
    and detaches outside a transaction only)."""
    if staged is None:
        yield
        return
    staged.ready()
    db.execute(f"ATTACH DATABASE ? AS {_STAGED}", (str(staged.path),))
    try:
        yield
    finally:
        db.execute(f"DETACH DATABASE {_STAGED}")


def _rows_in(db: sqlite3.Connection, query: str, keys: Iterable[str]) -> Iterator[Any]:
    """The rows `query` gives for these keys, asked a chunk of them at a time (the chunks in
    key order): its `%s` is where their placeholders go (SQLite caps a statement's parameters)."""
    for chunk in _chunks(sorted(set(keys))):
        yield from db.execute(query % ",".join("?" * len(chunk)), chunk)


def _chunks(keys: list[str], size: int = 500) -> Iterator[list[str]]:
    """Keys a few hundred at a time: SQLite binds at most 999 values in older builds."""
    for i in range(0, len(keys), size):
        yield keys[i : i + size]


_NOTE_COLUMNS = "path, base, written, orphaned, pinned, stat, edited, aliases"  # of a record


_SOURCE_COLUMNS = "digest, id, title, published, publisher, stat"  # of a source's record


def _source_record(row: tuple[Any, ...]) -> SourceRecord:
    """A source's record from its `_SOURCE_COLUMNS`."""
    digest, kbgen_id, title, published, publisher, stat = row
    return SourceRecord(digest, kbgen_id, title, published, publisher, _stat_in(stat))


def _note_record(row: tuple[Any, ...]) -> NoteRecord:
    """A note's record from its `_NOTE_COLUMNS`."""
    path, base, written, orphaned, pinned, stat, edited, aliases = row
    return NoteRecord(
        path,
        base,
        written,
        bool(orphaned),
        bool(pinned),
        _stat_in(stat),
        bool(edited),
        tuple(json.loads(aliases)) if aliases is not None else None,
    )


def _size(lines: Mapping[str, str]) -> int:
    return sum(map(len, lines.values()))


def _changed(
    before: Mapping[str, _Record],
    after: Mapping[str, _Record],
    dirty: AbstractSet[str] = frozenset(),
) -> list[tuple[str, _Record]]:
    """The records `after` adds or changes (or that `dirty` says to write again), in key order."""
    return sorted((k, r) for k, r in after.items() if k in dirty or before.get(k) != r)


_ADDED_COLUMNS = (
    ("notes", "pinned", "INTEGER NOT NULL DEFAULT 0"),
    ("sources", "title", "TEXT"),
    ("notes", "stat", "TEXT"),
    ("notes", "edited", "INTEGER NOT NULL DEFAULT 0"),
    ("notes", "aliases", "TEXT"),
    ("sources", "published", "TEXT"),
    ("sources", "publisher", "TEXT"),
    ("sources", "stat", "TEXT"),
    ("contrib", "lines", "TEXT NOT NULL DEFAULT ''"),
)


_STAT = struct.Struct("<qqqQ")  # size, mtime_ns, ctime_ns, inode: unpacked in C, 10,000 a build


def _stat_in(stored: bytes | str | None) -> StatKey | None:
    if not stored:
        return None
    if isinstance(stored, bytes):
        size, mtime, ctime, ino = _STAT.unpack(stored)
    else:  # "size:mtime:ctime:ino", as kbgen stored it before 2026-11-30
        size, mtime, ctime, ino = map(int, stored.split(":"))
    return (size, mtime, ctime, ino)


def _stat_out(key: StatKey | None) -> bytes | None:
    return None if key is None else _STAT.pack(*key)


def _migrate(db: sqlite3.Connection) -> None:
    """A state file made by an older kbgen brought up to date: columns added since (SQLite adds
    them in place), the index on the date they hold, and indexes replaced since (the schema
    script has made the new one)."""
    for table, column, decl in _ADDED_COLUMNS:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            with db:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
    with db:
        db.execute(_DATE_INDEX)
        for index in _OLD_INDEXES:
            db.execute(f"DROP INDEX IF EXISTS {index}")


def settle(state: State, on_disk: dict[str, bytes | None]) -> tuple[State, list[str]]:
    """Finish the journal of a killed build: a write that reached the disk is kbgen's.

    `on_disk` maps each pending note's announced path (and its previous path)
    to the bytes there now. Returns the settled state and previous paths left
    behind by a move that was interrupted, holding bytes kbgen wrote.
    """
    settled = state.copy()
    leftovers: list[str] = []
    for kbgen_id, pending in sorted(state.pending.items()):
        data = on_disk.get(pending.path)
        before = state.notes.get(kbgen_id)
        if data is not None and sha(data) == pending.written:
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


def _load_legacy_json(vault: Path) -> State | None:
    """Read the state.json of kbgen 0.1 builds.

    kbgen 0.1 only ever wrote pure renderings, so what it wrote is the merge
    base by hash; the base texts themselves were not kept, so a note edited
    under 0.1 is kept as it is once, and merges from the next build on.
    """
    path = state_dir(vault) / LEGACY_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise KbgenError(
            f"{path}: unreadable kbgen state ({exc}); move it aside to rebuild"
        ) from exc
    state = State()
    for kbgen_id, note in data.get("notes", {}).items():
        state.notes[kbgen_id] = NoteRecord(note["path"], note["sha"], note["sha"])
    for rel, source in data.get("sources", {}).items():
        state.sources[rel] = SourceRecord(source["digest"], source["id"])
    return state


def _drop_legacy_json(vault: Path) -> None:
    (state_dir(vault) / LEGACY_JSON).unlink(missing_ok=True)
