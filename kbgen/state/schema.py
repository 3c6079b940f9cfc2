"""The state database's tables, and the upgrade of a state an older kbgen made.

Tables:
- `notes`: per kbgen_id, the note's path, the hash of the merge base (what
  kbgen last rendered), the hash of the bytes kbgen last wrote, whether it
  is an orphan or pinned, its stat when last seen — and a journal (`next_*`)
  filled in *before* a batch of writes, so a build killed half-way can tell
  its own writes from the user's edits on the next run;
- `texts`: merge bases by hash, compressed (`packs.pack_text`; notes that
  render the same share a row);
- `sources`: per source path, its content hash, its note's kbgen_id, what
  the reduced notes show of it (title, date, publisher), its stat;
- `given`: per source path, what it gives every actor, issue, author or mention
  note, packed (`packs.pack`), so a changed source costs its own work, not
  the whole vault's;
- `contrib`: the same by note, without the data and lines: which sources give
  a note something, and where its lines are in their packs (a note rendered
  again reads its lines from there, not every contribution of its sources);
- `words`: per source path, every word of the text it links from
  (`extract.words_of`): a catalog change reads again only the sources that
  have the words of an alias it changes (`relink`);
- `meta`: the schema version, the fingerprint of the code and honorifics
  the contributions were made with, the catalog's entries (`entities`),
  and vault-wide totals (`totals`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from kbgen.state import packs

VERSION = 4  # 3: merge bases as text, contributions a row each (kbgen before 2026-12-07)
# Pages of 16 KB, not SQLite's 4: the rows are mostly packs and merge bases of 1–4 KB, of which
# a 4 KB page held one, a third of it left empty (at 2,000 articles: 52 MB → 45 MB).
PAGE_SIZE = 16384

# Small rows are kept in their key's order (WITHOUT ROWID): notes and sources are read in it,
# with no index beside them (the quick path's join of the two: 35 → 27 ms at 10,000), and a
# note's contributions are found by it, those with lines asked apart (`said`): an entity note
# has a row from every source naming it (10,000 for Russia at 10,000 articles) and lines
# (quotes) in a few. Packs, merge bases and words, of kilobytes each, keep rowid tables.
# The sources of a day: a day's note of a busy month reads its lines from them, not from every
# source of the month (`lines_published_on`: 2 → 0.2 ms a note at 5,000 articles).
DATE_INDEX = "CREATE INDEX IF NOT EXISTS sources_by_date ON sources (published)"
TABLES = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY,
    path TEXT,
    base TEXT,
    written TEXT,
    orphaned INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    stat BLOB,
    edited INTEGER NOT NULL DEFAULT 0,
    aliases TEXT,
    next_path TEXT,
    next_base TEXT,
    next_written TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS texts (sha TEXT PRIMARY KEY, text BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT,
    published TEXT,
    publisher TEXT,
    stat BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS given (
    source TEXT NOT NULL,
    part INTEGER NOT NULL,
    pack BLOB NOT NULL,
    PRIMARY KEY (source, part)
);
CREATE TABLE IF NOT EXISTS contrib (
    note TEXT NOT NULL,
    said INTEGER NOT NULL,
    source TEXT NOT NULL,
    mentions INTEGER NOT NULL,
    part INTEGER NOT NULL,
    at INTEGER NOT NULL,
    size INTEGER NOT NULL,
    data BLOB,
    PRIMARY KEY (note, said, source)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS words (source TEXT PRIMARY KEY, words TEXT NOT NULL);
{DATE_INDEX};
"""
FEED_COLUMNS = "note, said, source, mentions, part, at, size, data"


def connect(path: Path, readonly: bool) -> sqlite3.Connection | None:
    """The state database at `path`, its tables made or upgraded; None for a dry run's when
    there is none. Raises sqlite3.Error for a file that is no state kbgen can read."""
    db = _open_readonly(path) if readonly else _open(path)
    if db is not None and not readonly:
        with db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(VERSION),))
    return db


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    _check_version(db)  # before anything is made or upgraded
    db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a new file's, and an upgraded one's (VACUUM)
    # not the SECURE_DELETE some SQLite builds default to (this machine's Python's):
    # zeroing every page a delete frees took a full rebuild 3 s at 10,000 articles
    db.execute("PRAGMA secure_delete = FAST")
    if prepare(db):
        db.execute("VACUUM")  # once, after an upgrade: the old tables' room given back
    return db


def _open_readonly(path: Path) -> sqlite3.Connection | None:
    """The file opened as it is; one an older kbgen made, upgraded in a copy in memory (a dry
    run changes nothing on disk)."""
    if not path.exists():
        return None
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    _check_version(db)
    if _has_table(db, "given"):
        return db
    copy = sqlite3.connect(":memory:")
    db.backup(copy)
    db.close()
    prepare(copy)
    return copy


def _check_version(db: sqlite3.Connection) -> None:
    """A state a newer kbgen wrote is neither read nor upgraded (downgraded)."""
    if not _has_table(db, "meta"):
        return
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is not None and int(row[0]) > VERSION:
        raise sqlite3.DatabaseError(f"written by a newer kbgen (schema {row[0]}); upgrade kbgen")


def prepare(db: sqlite3.Connection) -> bool:
    """The tables made, or brought up to date from an older kbgen's; True when upgraded (the
    caller then gives back the room the old tables took: VACUUM, outside a transaction)."""
    old = _has_table(db, "contrib") and "said" not in _columns(db, "contrib")
    with db:  # one transaction: DDL begins none by itself (nor may `executescript` be used)
        db.execute("BEGIN")
        if old:
            _upgrade(db)
        else:
            _create(db)
    return old


def _create(db: sqlite3.Connection) -> None:
    for statement in TABLES.split(";"):
        if statement.strip():
            db.execute(statement)


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return db.execute(query, (name,)).fetchone() is not None


# What a state of schema 3 holds, and what schemas 1 and 2 lacked of it (SQLite had added
# these columns in place, at the end of their tables).
_V3_ADDED = (
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
_NOTE_V3 = (
    "id, path, base, written, orphaned, pinned, stat, edited, aliases,"
    " next_path, next_base, next_written"
)
_SOURCE_V3 = "path, digest, id, title, published, publisher, stat"


def _upgrade(db: sqlite3.Connection) -> None:
    """A state of schema 1 to 3 rewritten in today's tables, in one transaction: every record,
    journal entry and merge base kept (the merge bases are what lets the next build merge the
    user's edits), merge bases compressed and contributions packed by source."""
    for table, column, decl in _V3_ADDED:
        if column not in _columns(db, table):
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
    for table in ("notes", "texts", "sources", "words", "contrib"):
        db.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
    for index in ("sources_by_date", "contrib_by_note_lines", "contrib_by_note"):
        db.execute(f"DROP INDEX IF EXISTS {index}")  # their names are taken, or no use
    _create(db)
    db.execute(f"INSERT INTO notes ({_NOTE_V3}) SELECT {_NOTE_V3} FROM old_notes")
    db.execute(f"INSERT INTO sources ({_SOURCE_V3}) SELECT {_SOURCE_V3} FROM old_sources")
    db.execute("INSERT INTO words (source, words) SELECT source, words FROM old_words")
    texts = db.execute("SELECT sha, CAST(text AS BLOB) FROM old_texts ORDER BY sha")
    db.executemany("INSERT INTO texts VALUES (?, ?)", ((s, packs.pack_text(t)) for s, t in texts))
    feeds: list[packs.Feed] = []
    for source, rows in _contributions_v3(db):
        parts, given = packs.pack(source, rows)
        db.executemany(
            "INSERT INTO given VALUES (?, ?, ?)", [(source, i, p) for i, p in enumerate(parts)]
        )
        feeds += given
    feeds.sort()
    db.executemany(f"INSERT INTO contrib ({FEED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", feeds)
    for table in ("notes", "texts", "sources", "words", "contrib"):
        db.execute(f"DROP TABLE old_{table}")
    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(VERSION),))


def _contributions_v3(db: sqlite3.Connection) -> Iterator[tuple[str, list[packs.Row]]]:
    """Schema 3's contributions, a source at a time."""
    rows = db.execute(
        "SELECT source, note, mentions, data, lines FROM old_contrib ORDER BY source, note"
    )
    source: str | None = None
    given: list[packs.Row] = []
    for row in rows:
        if row[0] != source:
            if source is not None:
                yield source, given
            source, given = row[0], []
        data, lines = row[3], row[4]  # as bound: `data` bytes, `lines` text
        data = data if isinstance(data, bytes) else str(data).encode("utf-8")
        lines = lines.decode("utf-8") if isinstance(lines, bytes) else str(lines)
        given.append((row[1], row[2], data, lines))
    if source is not None:
        yield source, given
