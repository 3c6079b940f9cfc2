"""The contributions of the sources a build parses, staged in a temporary database.

A cold build of 10,000 articles makes 290,000 contributions (their lines
are each mention's sentence, once per entity in it): 550 MB held in memory
until the notes were rendered and the state committed. Staged on disk as
each source arrives from the workers, they cost the build a few megabytes
of SQLite's cache; the reduced notes read theirs by note, the commit by
source, both through an index.

Each source's contributions are also packed as they arrive (`packs.pack`), while the workers
parse the next sources: a state keeps them packed, and the commit copies the packs.

The staging file is a named one in SQLite's temporary folder, so that a
cold build's commit can attach it to the state and copy every row inside
SQLite (`Store.commit`). SQLite deletes its own temporary files even when
the process is killed; this one is deleted on `close`, and one left by a
killed build is deleted by the next build to stage (`_sweep`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kbgen.core.errors import KbgenError
from kbgen.core.model import Contribution
from kbgen.state import packs
from kbgen.state.schema import FEED_COLUMNS

_SCHEMA = """
CREATE TABLE c (source TEXT NOT NULL, note TEXT NOT NULL, mentions INTEGER NOT NULL,
                data BLOB NOT NULL, lines TEXT NOT NULL);
CREATE TABLE w (source TEXT PRIMARY KEY, words TEXT NOT NULL);
CREATE TABLE g (source TEXT NOT NULL, part INTEGER NOT NULL, pack BLOB NOT NULL);
CREATE TABLE f (note TEXT NOT NULL, said INTEGER NOT NULL, source TEXT NOT NULL,
                mentions INTEGER NOT NULL, part INTEGER NOT NULL, at INTEGER NOT NULL,
                size INTEGER NOT NULL, data BLOB);
"""
_INDEXES = """
CREATE INDEX c_by_source ON c (source, note);
CREATE INDEX g_by_source ON g (source, part);
CREATE INDEX c_by_note ON c (note, lines != '', source);
CREATE INDEX f_by_source ON f (source);
"""
_CACHE_KIB = 32 * 1024  # SQLite's page cache for the staged rows
_ROWS_HELD = 5_000  # rows added and held before they are inserted (a few MB)


Row = packs.Row  # a contribution: note, mentions, data, lines


def as_rows(given: Mapping[str, Contribution]) -> list[Row]:
    return [(c.note, c.mentions, c.data, c.lines) for c in given.values()]


class Staged(Mapping[str, dict[str, Contribution]]):
    """Per source parsed in this build, what it gives each note now (as `Store.contributions_of`
    answers for the sources of earlier builds); `by_note` turns it around."""

    def __init__(self) -> None:
        with _reported():
            self.path = _new_file()
            self._db = self._connect()
            self._db.executescript(_SCHEMA)
        self._sources: set[str] = set()
        self._rows: list[tuple[str, str, int, bytes, str]] = []  # added, not yet inserted
        self._words: list[tuple[str, str]] = []
        self._packs: list[tuple[str, int, bytes]] = []
        self._feeds: list[packs.Feed] = []
        self._indexed = False

    def add(self, source: str, given: Iterable[Row], words: str = "") -> None:
        """A source's contributions (as `as_rows` makes them) and the words it links from
        (`extract.words_of`), replacing any staged for it."""
        if source in self._sources:
            self._flush()
            with _reported(), self._db:
                for table in ("c", "g", "f"):
                    self._db.execute(f"DELETE FROM {table} WHERE source = ?", (source,))
        rows = list(given)
        self._rows += [(source, *row) for row in rows]
        self._words.append((source, words))
        if rows:
            parts, feeds = packs.pack(source, rows)
            self._packs += [(source, i, part) for i, part in enumerate(parts)]
            self._feeds += feeds
        self._sources.add(source)
        if len(self._rows) >= _ROWS_HELD:
            self._flush()

    def _flush(self) -> None:
        """Rows are inserted a few thousand at a time: one transaction per source cost a cold
        build's main process 1 ms a source, taken from the workers it shares the cores with."""
        if self._rows or self._words or self._packs:
            with _reported(), self._db:
                self._db.executemany("INSERT INTO c VALUES (?, ?, ?, ?, ?)", self._rows)
                self._db.executemany("INSERT OR REPLACE INTO w VALUES (?, ?)", self._words)
                self._db.executemany("INSERT INTO g VALUES (?, ?, ?)", self._packs)
                self._db.executemany(
                    f"INSERT INTO f ({FEED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._feeds
                )
            self._rows, self._words, self._packs, self._feeds = [], [], [], []

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path)
        db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            f" PRAGMA cache_size = -{_CACHE_KIB};"
        )
        return db

    def reopen(self) -> None:
        """In a forked child (`reducer`): a connection of its own, to read what was staged
        (`ready` first, in the parent). The parent's is left as it is, unused: SQLite's
        connections must not cross a fork."""
        with _reported():
            self._db = self._connect()

    def by_note(self, note: str) -> dict[str, Contribution]:
        """Per staged source, what it gives `note`, in the order of the sources' paths."""
        rows = self._query(
            "SELECT source, mentions, data, lines FROM c WHERE note = ? ORDER BY source", note
        )
        return {s: Contribution(note, m, lines, data) for s, m, data, lines in rows}

    def lines_for(self, note: str) -> dict[str, str]:
        """`by_note`'s lines alone: what a mention page is made of, read without the rest, and
        as `Store.lines_of` answers, without the sources that give the note none (an entity
        note's own rows have none: 10,000 of them for Russia at 10,000 articles)."""
        return dict(
            self._query(
                "SELECT source, lines FROM c WHERE note = ? AND (lines != '') = 1 ORDER BY source",
                note,
            )
        )

    def feeding(self, note: str) -> set[str]:
        """The staged sources that give `note` something."""
        return {s for (s,) in self._query("SELECT source FROM c WHERE note = ?", note)}

    def __getitem__(self, source: str) -> dict[str, Contribution]:
        if source not in self._sources:
            raise KeyError(source)
        rows = self._query(
            "SELECT note, mentions, data, lines FROM c WHERE source = ? ORDER BY note", source
        )
        return {n: Contribution(n, m, lines, data) for n, m, data, lines in rows}

    def packed(self, source: str) -> tuple[list[bytes], list[packs.Feed]]:
        """A staged source's pack (its parts) and `contrib` rows, as `packs.pack` made them."""
        parts = [
            p for (p,) in self._query("SELECT pack FROM g WHERE source = ? ORDER BY part", source)
        ]
        rows = self._query(f"SELECT {FEED_COLUMNS} FROM f WHERE source = ?", source)
        return parts, [packs.Feed(*row) for row in rows]

    def words(self) -> Iterator[tuple[str, str]]:
        """(source, words) for every staged source, by source: for the state to keep."""
        self._flush()
        with _reported():
            yield from self._db.execute("SELECT source, words FROM w ORDER BY source")

    def __contains__(self, source: object) -> bool:
        return source in self._sources

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._sources))

    def __len__(self) -> int:
        return len(self._sources)

    def close(self) -> None:
        self._db.close()
        self.path.unlink(missing_ok=True)

    def _query(self, sql: str, key: str) -> list[Any]:
        self.ready()
        with _reported():
            return self._db.execute(sql, (key,)).fetchall()

    def ready(self) -> None:
        """Every row added inserted, and the indexes there to ask them (or for a commit that
        attaches the file)."""
        self._flush()
        if not self._indexed:  # built once all sources are in: faster than row by row
            with _reported():
                self._db.executescript(_INDEXES)
            self._indexed = True


class Replacing(Mapping[str, Mapping[str, Contribution] | None]):
    """Per source whose contributions a commit replaces, its new ones read from the staging
    when the commit comes to it (None: the source is gone), not all held at once."""

    def __init__(self, staged: Staged, changed: Iterable[str], gone: Iterable[str]) -> None:
        self._staged = staged
        self._gone = set(gone)
        self._paths = sorted({*changed, *self._gone})

    def __getitem__(self, source: str) -> Mapping[str, Contribution] | None:
        if source in self._gone:
            return None
        if source not in self._paths:
            raise KeyError(source)
        return self._staged[source]

    def packed(self, source: str) -> tuple[list[bytes], list[packs.Feed]]:
        """A changed source's pack and rows, as staged."""
        return self._staged.packed(source)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


_PREFIX = "kbgen-staged-"
_LEFT = re.compile(rf"{_PREFIX}(\d+)-.*\.sqlite")


def _new_file() -> Path:
    """An empty file of this process's in SQLite's temporary folder, to stage in."""
    folder = _temporary_folder()
    _sweep(folder)
    fd, name = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=".sqlite", dir=folder)
    os.close(fd)
    return Path(name)


def _temporary_folder() -> str:
    """Where SQLite puts its own temporary files (os_unix.c): `$SQLITE_TMPDIR`, `$TMPDIR`,
    /var/tmp, /usr/tmp, /tmp, the first that is a folder this process can write to."""
    candidates = [os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR")]
    candidates += ["/var/tmp", "/usr/tmp", "/tmp"]
    for folder in candidates:
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return folder
    return "."


@functools.cache  # once per folder and process: `kbgen watch` stages at every sync
def _sweep(folder: str) -> None:
    """The staging files of builds killed before they could delete them (their process is
    gone): 25 KB per article they had parsed."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if (left := _LEFT.fullmatch(name)) and not _alive(int(left[1])):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))


# `os.kill(pid, 0)` asks whether a process lives on POSIX; on Windows it sends CTRL_C_EVENT
_SIGNAL_0_ASKS = os.name == "posix"


def _alive(pid: int) -> bool:
    """Whether process `pid` may still be running (where that cannot be asked: yes)."""
    if not _SIGNAL_0_ASKS:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


@contextlib.contextmanager
def _reported() -> Iterator[None]:
    """A staging file that cannot be written or read (a full or read-only temporary folder)
    stops the build, saying where it was; notes written before are journaled, as after any
    failed write, and the next build finishes the job."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise KbgenError(
            f"cannot stage this build's mention index in SQLite's temporary folder ({exc}); "
            "point SQLITE_TMPDIR at a folder with room (about 25 KB per article)"
        ) from exc
