"""What kbgen last wrote, kept in the vault at `.kbgen/state.sqlite`.

Why SQLite (the standard library's, no server): a merge needs the full text
kbgen last rendered for every note, and for ten thousand articles that is
far too much to rewrite as one file on every build. SQLite updates only
the rows that changed, commits atomically, and survives a killed process
with its own journal. The tables are described in `schema`; the records
in `records`; how merge bases and contributions are packed in `packs`.

Files are recognised as unchanged by their stat (size, mtime, ctime, inode),
the way git's index does it: a stat taken within `RACY_SECONDS` of the
file's mtime is not trusted (a second write in the same clock tick would not
change it), so such a file is read and hashed again next time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING

from kbgen.core.errors import KbgenError
from kbgen.core.filestat import file_identity
from kbgen.state import given, packs, records, schema, writing
from kbgen.state.kept import KeptLines
from kbgen.state.legacy import LEGACY_JSON as LEGACY_JSON
from kbgen.state.legacy import drop_legacy_json, load_legacy_json
from kbgen.state.records import SOURCE_COLUMNS, source_record
from kbgen.state.records import NoteRecord as NoteRecord
from kbgen.state.records import Pending as Pending
from kbgen.state.records import SourceRecord as SourceRecord
from kbgen.state.records import State as State
from kbgen.state.records import settle as settle
from kbgen.state.records import stat_in as _stat_in  # noqa: F401  (as tests read a stat)
from kbgen.state.records import stat_out as _stat_out  # noqa: F401

if TYPE_CHECKING:  # a build the snapshot answers never loads the data model
    from kbgen.core.keys import Totals
    from kbgen.core.model import Contribution

STATE_DIR = ".kbgen"
DB_NAME = "state.sqlite"
SCHEMA_VERSION = schema.VERSION
UNKNOWN_BASE = ""  # the hash of a note whose last rendering kbgen no longer has
TEXTS_KEPT = 8_000_000  # characters of merge bases a build keeps once read (a part's worth)

Contributions = writing.Contributions


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
        self._lines = KeptLines()  # `lines_of` answers, for the next build of `kbgen watch`
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
            self._db = schema.connect(self.path, self.readonly)
            self._identity = None if self.readonly else file_identity(self.path)
        except sqlite3.Error as exc:
            raise KbgenError(
                f"{self.path}: unreadable kbgen state ({exc}); move it aside to rebuild "
                "(notes you edited will then be kept as they are, not merged)"
            ) from exc
        return self._db

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
        self._lines.forget()

    # -- reading records -----------------------------------------------------------

    def load(self) -> State:
        if self._still_current():
            self._texts.clear()  # merge bases are read again when needed, not kept for ever
            self._texts_size = 0
            in_db = self._in_db  # in key order, as `commit` left it
            return State(dict(in_db.notes), dict(in_db.sources))
        db = self._connect()
        self.lacks_texts = False
        self._partial = False
        self._lines.forget()  # another process may have changed every row
        self._totals = None
        if db is None or not self._has_rows(db):
            legacy = load_legacy_json(state_dir(self.vault))
            if legacy is not None:
                self.lacks_texts = True
                return legacy  # the database is empty: commit() will write all of it
        if db is None:
            return State()
        state = records.read_all(db)
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
        if db is None:
            return State()
        state = records.read_some(db, notes, sources)
        self._in_db = state.copy()
        return state

    def paths_of(self, ids: Iterable[str]) -> dict[str, str]:
        """Where the state says each of these notes is (those it knows)."""
        db = self._connect()
        out: dict[str, str] = {}
        if db is None:
            return out
        query = "SELECT id, path FROM notes WHERE id IN (%s) AND path IS NOT NULL"
        out.update(records.rows_in(db, query, ids))
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
        query = f"SELECT {SOURCE_COLUMNS} FROM sources WHERE path = ?"
        row = db.execute(query, (path,)).fetchone()
        return None if row is None else source_record(row)

    def sources_with_notes(self) -> Iterator[tuple[str, SourceRecord, str]]:
        """Every source's record with its note's path, by source path (those with a note)."""
        db = self._connect()
        if db is None:
            return
        columns = ", ".join(f"s.{c}" for c in SOURCE_COLUMNS.split(", "))
        for row in db.execute(
            f"SELECT s.path, {columns}, n.path FROM sources AS s JOIN notes AS n ON n.id = s.id"
            " WHERE n.path IS NOT NULL ORDER BY s.path"
        ):
            yield row[0], source_record(row[1:-1]), row[-1]

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

    @staticmethod
    def _has_rows(db: sqlite3.Connection) -> bool:
        return db.execute("SELECT 1 FROM notes LIMIT 1").fetchone() is not None

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
        text = packs.unpack_text(row[0])
        if self._texts_size + len(text) > TEXTS_KEPT:  # a rebuild of every note reads them all
            self._texts.clear()
            self._texts_size = 0
        self._texts[digest] = text  # judged in `locate`, merged in `plan`: read once
        self._texts_size += len(text)
        return text

    # -- reading contributions -------------------------------------------------------

    def contributions_of(self, sources: Iterable[str]) -> dict[str, dict[str, Contribution]]:
        """What each of `sources` gave the reduced notes when it was last built."""
        return dict(self.each_contribution_of(sources))

    def each_contribution_of(
        self, sources: Iterable[str]
    ) -> Iterator[tuple[str, dict[str, Contribution]]]:
        """`contributions_of`, one source at a time: for a caller that keeps only a digest."""
        db = self._connect()
        if db is not None:
            yield from given.contributions(db, sources)

    def sources_with_words(
        self, wanted: Iterable[AbstractSet[str]], known: Iterable[str]
    ) -> set[str]:
        """Those of the `known` sources that have every word of at least one of `wanted`, or
        whose words the state lacks: either may hold an alias."""
        db = self._connect()
        return set(known) if db is None else given.sources_with_words(db, wanted, known)

    def feeders(self, note: str) -> dict[str, Contribution]:
        """Every source's contribution to one note, by source path."""
        db = self._connect()
        return {} if db is None else given.feeders(db, note)

    def lines_of(self, note: str) -> dict[str, str]:
        """Every source's lines for one note, sources that gave it none left out (do not change
        the answer: it is kept, until a commit changes that note's rows, for the next build of
        `kbgen watch`, where the same big notes are rendered again and again)."""
        db = self._connect()
        if db is None:
            return {}
        return self._lines.get(note, lambda n: given.lines(db, "f.note = ? AND f.said = 1", n))

    def lines_published_on(self, note: str, published: str) -> dict[str, str]:
        """The lines one note has from the sources published on a date (as last committed):
        a day's note of a month page reads its day's sources, not its month's (30 sources of
        800 in a month of Russia at 10,000 articles)."""
        db = self._connect()
        return {} if db is None else given.lines_on(db, note, published)

    def lines_of_pages(self, entity: str) -> dict[str, str]:
        """Every source's quote lines for an entity, from its mention pages (one per source)."""
        db = self._connect()
        if db is None:
            return {}
        # "A" follows "@": every `entity@period`, by the primary key
        return given.lines(db, "f.note >= ? AND f.note < ?", f"{entity}@", f"{entity}A")

    def sources_feeding(self, note: str) -> set[str]:
        db = self._connect()
        if db is None:
            return set()
        return {row[0] for row in db.execute("SELECT source FROM contrib WHERE note = ?", (note,))}

    def _update_lines(self, db: sqlite3.Connection, sources: Contributions) -> None:
        """Before a commit replaces these sources' rows: the lines kept brought up to date."""
        if not self._lines:
            return
        for source in sorted(sources):  # each fetched in turn: `sources` may be read lazily
            before = [n for n, said in given.notes_of(db, source).items() if said]
            now = {n: c.lines for n, c in (sources[source] or {}).items()}
            self._lines.update(source, before, now)

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
                if digest not in self._journaled_texts:
                    self._journaled_texts.add(digest)
                    packed = packs.pack_text(text)
                    db.execute("INSERT OR IGNORE INTO texts VALUES (?, ?)", (digest, packed))
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
        contributions: Contributions | None = None,
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
        packs are copied inside SQLite, its file attached (`given.copy_staged`).
        """
        from kbgen.state.staged import Staged  # here: a snapshot's build never loads the model

        before = self._in_db
        contributions = contributions or {}
        meta = self._meta_to_set(meta, totals)
        if before == after and not self._journaled and not contributions and not meta:
            return  # `words` come with a change: a source read again (content or catalog)
        db = self._writable()
        staged = contributions if isinstance(contributions, Staged) else None
        with writing.attached(db, staged), db:
            if replace_all:
                self._lines.forget()
            else:
                self._update_lines(db, contributions)
            writing.replace_contributions(db, contributions, replace_all, staged is not None)
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(meta.items()))
            writing.write_notes(db, before, after, set(before.pending) | self._journaled)
            writing.write_sources(db, before, after, words)
            sweep = replace_all or bool(before.pending) or self.lacks_texts
            writing.drop_unused_texts(
                db, before, after, self._journaled_texts, sweep=sweep, partial=self._partial
            )
        self._committed(db, after, totals)

    def _meta_to_set(self, meta: Mapping[str, str] | None, totals: Totals | None) -> dict[str, str]:
        """The meta keys a commit changes: the schema's, the caller's, the totals."""
        wanted = {"schema": str(SCHEMA_VERSION), **(meta or {})}
        if totals is not None and totals != self._totals:
            wanted["totals"] = json.dumps(totals, sort_keys=True)
        return {k: v for k, v in wanted.items() if self.meta(k) != v}

    def _committed(self, db: sqlite3.Connection, after: State, totals: Totals | None) -> None:
        """What the store remembers of a commit, for the next build of `kbgen watch`: `after`,
        in key order, as loading makes it (sorted here, after the notes are written, and not
        when the next build loads it), and the totals."""
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
        drop_legacy_json(state_dir(self.vault))

    def _writable(self) -> sqlite3.Connection:
        if self.readonly:
            raise RuntimeError("the state of a dry run is read-only")
        db = self._connect()
        assert db is not None
        return db
