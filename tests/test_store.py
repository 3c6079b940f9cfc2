"""The state database's own promises: what it stores comes back as it was, packed, and no copy
of it is left behind in the caller's strings."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS, run_build, vault_tree

from kbgen.core.errors import KbgenError
from kbgen.core.model import Contribution
from kbgen.state import packs
from kbgen.state.staged import Staged, as_rows
from kbgen.state.store import NoteRecord, Pending, SourceRecord, State, Store


def test_storing_texts_leaves_no_second_copy_in_the_callers_strings(tmp_path: Path) -> None:
    """sqlite3 binds a str through its cached UTF-8 form, which then lives as long as the str:
    a cold build of 10,000 articles held 500 MB of such copies of its notes and lines."""
    base = "---\ntype: actor\n---\n“Quoted” — Lavrov’s words, Moscow " + "é" * 2000 + "\n"
    lines = "- “Said” — Путин ↗\n" * 100
    base_size, lines_size = sys.getsizeof(base), sys.getsizeof(lines)
    store = Store(tmp_path)
    store.journal([("actor:x", "Actors/X.md", "sha-x", "sha-x")], {"sha-x": base.encode()})
    after = State(notes={"actor:x": NoteRecord("Actors/X.md", "sha-x", "sha-x")})
    store.commit(
        after, contributions={"a.md": {"actor:x": Contribution("actor:x", 1, lines, b"{}")}}
    )
    store.close()

    assert (sys.getsizeof(base), sys.getsizeof(lines)) == (base_size, lines_size)
    db = sqlite3.connect(tmp_path / ".kbgen" / "state.sqlite")
    try:
        ((kind, packed),) = db.execute("SELECT typeof(text), text FROM texts").fetchall()
        assert kind == "blob" and packs.unpack_text(packed) == base
        assert len(packed) < len(base.encode()) // 4  # compressed
    finally:
        db.close()
    store = Store(tmp_path)
    assert store.text("sha-x") == base
    assert store.lines_of("actor:x") == {"a.md": lines}
    assert store.contributions_of(["a.md"])["a.md"]["actor:x"].lines == lines
    store.close()


def test_staged_contributions_answer_by_source_and_by_note() -> None:
    """What a build stages answers as the in-memory dicts it replaced did: by source, turned
    around by note in the order of the sources' paths, a source staged again replaced; a
    note's lines as the state answers them (an entity note's 10,000 rows at 10,000 articles
    have none: reading them took a cold build 0.5 s of 1.7)."""

    def given(*notes: str, lines: str = "") -> dict[str, Contribution]:
        return {n: Contribution(n, 1, lines, b'{"t":{}}') for n in notes}

    def add(source: str, contributions: dict[str, Contribution]) -> None:
        staged.add(source, as_rows(contributions))

    staged = Staged()
    try:
        add("b.md", given("actor:x", "actor:x@2017-01", lines="- “b” ↗"))
        add("a.md", given("actor:x"))
        add("c.md", given("issue:y"))
        add("c.md", given("actor:x", lines="again"))  # parsed twice: the last one stands

        assert list(staged) == ["a.md", "b.md", "c.md"] and len(staged) == 3
        assert "a.md" in staged and "d.md" not in staged
        assert staged["b.md"] == given("actor:x", "actor:x@2017-01", lines="- “b” ↗")
        assert list(staged.by_note("actor:x")) == ["a.md", "b.md", "c.md"]
        assert staged.by_note("actor:x")["c.md"] == Contribution("actor:x", 1, "again", b'{"t":{}}')
        assert staged.by_note("issue:y") == {}
        # as `Store.lines_of` answers: the sources that give the note no lines left out
        assert staged.lines_for("actor:x") == {"b.md": "- “b” ↗", "c.md": "again"}
        assert staged.feeding("actor:x@2017-01") == {"b.md"}
        add("d.md", given("issue:y"))  # after the first question: still answered
        assert staged.by_note("issue:y") == {"d.md": given("issue:y")["issue:y"]}
        assert list(staged.words()) == [(s, "") for s in ("a.md", "b.md", "c.md", "d.md")]
        with pytest.raises(KeyError):
            staged["e.md"]
    finally:
        staged.close()


def test_a_full_commit_copies_every_staged_row_and_word(tmp_path: Path) -> None:
    """A cold build's commit copies what it staged into the state inside SQLite (the staging
    file attached), not row by row through Python: 558,000 rows at 10,000 articles took the
    commit 4.2–6.7 s that way, 1.6–3.0 s attached. What it stores is what was staged, packed by
    source as it was staged, and nothing of the sources it replaced."""
    store = Store(tmp_path)
    store.commit(
        State(sources={"old.md": SourceRecord("d0", "src-old")}),
        contributions={"old.md": {"actor:x": Contribution("actor:x", 1, "old", b"{}")}},
        words=[("old.md", "old words")],
    )
    staged = Staged()
    try:
        data = b'{"t":{"2017":1}}'
        said = {"b.md": "- “Said” — Путин ↗", "a.md": "", "c.md": "x\n\0y"}
        for source, lines in said.items():
            given = {n: Contribution(n, 2, lines, data) for n in ("issue:y", "actor:x")}
            staged.add(source, as_rows(given), words=f"words of {source}")
        expected = {
            s: {n: Contribution(n, 2, said[s], data) for n in ("actor:x", "issue:y")}
            for s in sorted(said)
        }
        records = {s: SourceRecord("d", f"src-{s}") for s in ("a.md", "b.md", "c.md")}
        store.commit(State(sources=records), contributions=staged, replace_all=True)
    finally:
        staged.close()
    store.close()
    db = sqlite3.connect(tmp_path / ".kbgen" / "state.sqlite")
    try:
        assert db.execute("SELECT source FROM given ORDER BY source").fetchall() == [
            ("a.md",),
            ("b.md",),
            ("c.md",),
        ]
        assert db.execute("SELECT source, words FROM words ORDER BY source").fetchall() == [
            ("a.md", "words of a.md"),
            ("b.md", "words of b.md"),
            ("c.md", "words of c.md"),
        ]
    finally:
        db.close()
    store = Store(tmp_path)
    assert store.contributions_of(["a.md", "b.md", "c.md", "old.md"]) == {**expected, "old.md": {}}
    assert store.lines_of("actor:x") == {"b.md": "- “Said” — Путин ↗", "c.md": "x\n\0y"}
    assert store.feeders("issue:y") == {s: expected[s]["issue:y"] for s in said}
    assert store.sources_feeding("actor:x") == set(said)
    store.close()


def test_the_staging_file_goes_when_the_build_ends_or_the_next_one_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staging file is a named file in SQLite's temporary folder, so that the state can
    attach it: closed, it is deleted; one left by a killed build (its process gone) is
    deleted by the next build to stage, not one of a build still running."""
    monkeypatch.setenv("SQLITE_TMPDIR", str(tmp_path))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    left = tmp_path / f"kbgen-staged-{int(dead.stdout)}-abc.sqlite"
    running = tmp_path / f"kbgen-staged-{os.getppid()}-abc.sqlite"
    mine = tmp_path / "mine.sqlite"
    for path in (left, running, mine):
        path.write_bytes(b"x")
    staged = Staged()
    try:
        staged.add("a.md", as_rows({"actor:x": Contribution("actor:x", 1, "", b"{}")}))
        assert staged.path.parent == tmp_path and staged.path.exists()
        assert not left.exists() and running.exists() and mine.exists()
    finally:
        staged.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, mine.name])


def test_staging_files_are_swept_only_where_signal_0_asks_whether_a_process_lives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows `os.kill(pid, 0)` sends CTRL_C_EVENT (0) instead of asking: there no other
    build's staging file is touched, and no process is signalled."""
    import kbgen.state.staged as staged_mod

    left = tmp_path / "kbgen-staged-999999-abc.sqlite"
    left.write_bytes(b"x")
    signalled: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signalled.append(pid))
    monkeypatch.setattr(staged_mod, "_SIGNAL_0_ASKS", False)  # as on Windows
    staged_mod._sweep.__wrapped__(str(tmp_path))
    assert signalled == [] and left.exists()


def test_no_room_to_stage_contributions_is_a_clear_error_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staging file lives in SQLite's temporary folder, which can be full or unwritable:
    the build stops with a message saying where and what to do, and the vault is untouched."""
    sources = tmp_path / "sources"
    sources.mkdir()
    for seed in sorted(SEEDS.glob("*.md"))[:2]:
        shutil.copy(seed, sources / seed.name)
    vault = tmp_path / "vault"
    assert run_build(sources, vault).ok
    before = vault_tree(vault)
    said = "Vladimir Putin spoke about sanctions at length, as several newspapers reported."
    (sources / "new.md").write_text(f"---\ntitle: New\n---\n\n{said}\n", encoding="utf-8")

    class Full(sqlite3.Connection):
        def executemany(self, *args: object) -> sqlite3.Cursor:
            raise sqlite3.OperationalError("database or disk is full")

    real_connect = sqlite3.connect

    def connect(name: str, **options: Any) -> sqlite3.Connection:
        if Path(name).name.startswith("kbgen-staged-"):  # the staging file, not the state
            options["factory"] = Full
        connection: sqlite3.Connection = real_connect(name, **options)
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect)
    with pytest.raises(KbgenError, match=r"temporary folder \(database or disk is full\).*TMPDIR"):
        run_build(sources, vault)
    assert vault_tree(vault) == before


def test_digests_of_contributions_are_equal_exactly_when_they_are() -> None:
    a = Contribution("actor:x@2017-01", 2, "- a line [[\x00#^p1|↗]]", b"{}")
    same = Contribution("actor:x@2017-01", 2, "- a line [[\x00#^p1|↗]]", b"{}")
    others = [
        Contribution("actor:x@2017-01", 2, "- a line [[\x00#^p2|↗]]", b"{}"),
        Contribution("actor:x@2017-01", 3, "- a line [[\x00#^p1|↗]]", b"{}"),
        Contribution("actor:x@2017-01", 2, "- a line [[\x00#^p1|↗]]", b'{"t":{}}'),
        Contribution("actor:x@2017-02", 2, "- a line [[\x00#^p1|↗]]", b"{}"),
        Contribution("actor:x@2017-01", 2, "", "{}- a line [[\x00#^p1|↗]]".encode()),  # shifted
    ]
    assert a.digest() == same.digest()
    assert len({a.digest(), *(o.digest() for o in others)}) == 1 + len(others)


def _plans(vault: Path) -> list[str]:
    """How SQLite finds the lines of a note (`lines_of`) and of a note's day
    (`lines_published_on`): the plan of each query they make."""
    store = Store(vault)
    db = store._connect()
    assert db is not None
    queries: list[str] = []
    db.set_trace_callback(queries.append)
    store.lines_of("a@2017-03")
    store.lines_published_on("a@2017-03", "2017-03-01")
    db.set_trace_callback(None)
    try:
        return [
            " / ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {q}")) for q in queries
        ]
    finally:
        store.close()


def test_a_notes_lines_are_found_without_visiting_the_rows_that_have_none(tmp_path: Path) -> None:
    """An entity note has a row from each source naming it (5,000 for Russia at 5,000
    articles), and lines in a few: those few are found by the primary key, not by reading them
    all (12 ms → 0.02 ms for an entity with no quotes). A day's lines are found from the sources
    of that day (not from every source of the month)."""
    store = Store(tmp_path)
    lines = "- “Said” ↗"
    store.commit(
        State(sources={"a.md": SourceRecord("d", "src-a", "A", "2017-03-01")}),
        contributions={"a.md": {"a@2017-03": Contribution("a@2017-03", 1, lines, b"{}")}},
        replace_all=True,
    )
    assert store.lines_of("a@2017-03") == {"a.md": lines}
    assert store.lines_published_on("a@2017-03", "2017-03-01") == {"a.md": lines}
    assert store.lines_published_on("a@2017-03", "2017-03-02") == {}
    store.close()
    lines_of, on_day = _plans(tmp_path)
    assert "PRIMARY KEY (note=? AND said=?)" in lines_of
    assert "INDEX sources_by_date (published=?)" in on_day.split(" / ")[0]
    assert "PRIMARY KEY (note=? AND said=? AND source=?)" in on_day.split(" / ")[1]


def test_the_state_does_not_overwrite_what_it_deletes_with_zeros(tmp_path: Path) -> None:
    """Some SQLite builds (this machine's Python's: SECURE_DELETE) zero every page a delete
    frees: a rebuild of every source at 10,000 articles spent 3 s deleting the old
    contributions, 0.1 s without. FAST zeroes deleted content only in pages written anyway."""
    store = Store(tmp_path)
    store.commit(
        State(), contributions={"a.md": {"actor:x": Contribution("actor:x", 1, "", b"{}")}}
    )
    db = store._writable()
    assert db.execute("PRAGMA secure_delete").fetchone() == (2,)  # FAST
    store.close()


# The tables of schema 3 (kbgen until 2026-12-07), as its `_SCHEMA` made them and its
# `_ADDED_COLUMNS` completed them; schema 1 lacked the added columns.
_SCHEMA_3 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE notes (id TEXT PRIMARY KEY, path TEXT, base TEXT, written TEXT,
    orphaned INTEGER NOT NULL DEFAULT 0, pinned INTEGER NOT NULL DEFAULT 0,
    next_path TEXT, next_base TEXT, next_written TEXT);
CREATE TABLE texts (sha TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE sources (path TEXT PRIMARY KEY, digest TEXT NOT NULL, id TEXT NOT NULL,
    title TEXT, feeds TEXT NOT NULL);
CREATE TABLE words (source TEXT PRIMARY KEY, words TEXT NOT NULL);
CREATE TABLE contrib (source TEXT NOT NULL, note TEXT NOT NULL, mentions INTEGER NOT NULL,
    data BLOB NOT NULL, lines TEXT NOT NULL DEFAULT '', PRIMARY KEY (source, note));
CREATE INDEX contrib_by_note_lines ON contrib (note, lines != '');
ALTER TABLE notes ADD COLUMN stat TEXT;
ALTER TABLE notes ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notes ADD COLUMN aliases TEXT;
ALTER TABLE sources ADD COLUMN published TEXT;
ALTER TABLE sources ADD COLUMN publisher TEXT;
ALTER TABLE sources ADD COLUMN stat TEXT;
CREATE INDEX sources_by_date ON sources (published);
"""
_SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE notes (id TEXT PRIMARY KEY, path TEXT, base TEXT, written TEXT,
    orphaned INTEGER NOT NULL DEFAULT 0, next_path TEXT, next_base TEXT, next_written TEXT);
CREATE TABLE texts (sha TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE sources (path TEXT PRIMARY KEY, digest TEXT NOT NULL, id TEXT NOT NULL,
    feeds TEXT NOT NULL);
CREATE TABLE words (source TEXT PRIMARY KEY, words TEXT NOT NULL);
CREATE TABLE contrib (source TEXT NOT NULL, note TEXT NOT NULL, mentions INTEGER NOT NULL,
    data BLOB NOT NULL, PRIMARY KEY (source, note));
CREATE INDEX contrib_by_note ON contrib (note);
"""


def _as_older_kbgen_left_it(vault: Path, version: int) -> dict[str, Any]:
    """The vault's state rewritten as kbgen of schema `version` (3 or 1) stored it, by hand:
    merge bases as text, contributions a row each; what it holds, read back before."""
    store = Store(vault)
    state = store.load()
    texts = {r.base: store.text(r.base) for r in state.notes.values()}
    given = store.contributions_of(state.sources)
    db_path = vault / ".kbgen" / "state.sqlite"
    db = store._connect()
    assert db is not None
    meta = dict(db.execute("SELECT key, value FROM meta"))
    words = db.execute("SELECT source, words FROM words").fetchall()
    store.close()
    db_path.unlink()
    db = sqlite3.connect(db_path)
    try:
        db.executescript(_SCHEMA_3 if version == 3 else _SCHEMA_1)
        with db:
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)", {**meta, "schema": str(version)}.items()
            )
            db.executemany("INSERT INTO texts VALUES (?, ?)", texts.items())
            db.executemany("INSERT INTO words VALUES (?, ?)", words)
            for i, r in state.notes.items():
                db.execute(
                    "INSERT INTO notes (id, path, base, written, orphaned) VALUES (?, ?, ?, ?, ?)",
                    (i, r.path, r.base, r.written, int(r.orphaned)),
                )
            for p, s in state.sources.items():
                db.execute(
                    "INSERT INTO sources (path, digest, id, feeds) VALUES (?, ?, ?, '[]')",
                    (p, s.digest, s.id),
                )
            for source, notes in given.items():
                for c in notes.values():
                    db.execute(
                        "INSERT INTO contrib (source, note, mentions, data) VALUES (?, ?, ?, ?)",
                        (source, c.note, c.mentions, c.data),
                    )
                    if version == 3:
                        db.execute(
                            "UPDATE contrib SET lines = ? WHERE source = ? AND note = ?",
                            (c.lines, source, c.note),
                        )
            # the journal of a build killed half-way
            db.execute(
                "INSERT INTO notes (id, next_path, next_base, next_written)"
                " VALUES ('actor:killed', 'Actors/K.md', 'b', 'w')"
            )
            if version == 3:  # what schema 3 added: the rest of every record
                for i, r in state.notes.items():
                    db.execute(
                        "UPDATE notes SET pinned = ?, stat = ?, edited = ?, aliases = ? WHERE id = ?",
                        (int(r.pinned), _stat_out(r.stat), int(r.edited), _aliases(r.aliases), i),
                    )
                for p, s in state.sources.items():
                    db.execute(
                        "UPDATE sources SET title = ?, published = ?, publisher = ?, stat = ?"
                        " WHERE path = ?",
                        (s.title, s.published, s.publisher, _stat_out(s.stat), p),
                    )
    finally:
        db.close()
    return {"state": state, "texts": texts, "given": given, "words": sorted(words)}


def _aliases(aliases: tuple[str, ...] | None) -> str | None:
    import json

    return None if aliases is None else json.dumps(list(aliases))


def _stat_out(key: tuple[int, int, int, int] | None) -> bytes | None:
    from kbgen.state.store import _stat_out as out

    return out(key)


@pytest.mark.parametrize("version", [3, 1])
def test_a_state_an_older_kbgen_left_is_upgraded_keeping_every_record_and_merge_base(
    seed_sources: Path, tmp_path: Path, version: int
) -> None:
    """A vault built by kbgen of schema 3 (or 1) goes on building incrementally: its records,
    journal, merge bases, contributions and words are rewritten in today's tables, and the
    user's edits made before the upgrade are merged with the sources' changes after it."""
    vault = tmp_path / "vault"
    assert run_build(seed_sources, vault).ok
    note = next(vault.glob("Sources/*.md"))
    mine = "My own remark, written before kbgen was upgraded."
    note.write_text(note.read_text(encoding="utf-8") + f"\n{mine}\n", encoding="utf-8")
    held = _as_older_kbgen_left_it(vault, version)
    old_size = (vault / ".kbgen" / "state.sqlite").stat().st_size
    dry = Store(vault, readonly=True)  # a dry run upgrades a copy, and leaves the file alone
    assert {i: r.base for i, r in dry.load().notes.items()} == {
        i: r.base for i, r in held["state"].notes.items()
    }
    dry.close()
    assert (vault / ".kbgen" / "state.sqlite").stat().st_size == old_size

    store = Store(vault)
    state = store.load()
    assert state.pending == {"actor:killed": Pending("Actors/K.md", "b", "w")}
    if version == 3:
        assert state.notes == held["state"].notes and state.sources == held["state"].sources
    else:  # what schema 1 did not keep is not made up
        assert {i: (r.path, r.base, r.written) for i, r in state.notes.items()} == {
            i: (r.path, r.base, r.written) for i, r in held["state"].notes.items()
        }
    assert {b: store.text(b) for b in held["texts"]} == held["texts"]
    given = held["given"]
    if version == 1:  # lines came with schema 2
        given = {
            s: {n: c.__class__(n, c.mentions, "", c.data) for n, c in g.items()}
            for s, g in given.items()
        }
    assert store.contributions_of(given) == given
    assert store.meta("schema") == "4"
    db = store._connect()
    assert db is not None
    tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"meta", "notes", "texts", "sources", "given", "contrib", "words"}
    assert "feeds" not in {row[1] for row in db.execute("PRAGMA table_info(sources)")}
    assert sorted(db.execute("SELECT source, words FROM words").fetchall()) == held["words"]
    store.close()
    assert (vault / ".kbgen" / "state.sqlite").stat().st_size < old_size  # vacuumed

    source = seed_sources / next(
        p
        for p, s in held["state"].sources.items()
        if held["state"].notes[s.id].path == note.relative_to(vault).as_posix()
    )
    added = "An opening sentence added at the source after the upgrade."
    head, sep, rest = source.read_text(encoding="utf-8").partition("\n\n")
    source.write_text(head + sep + added + "\n\n" + rest, encoding="utf-8")
    report = run_build(seed_sources, vault)
    assert report.ok  # schema 1 kept no stat nor title: its sources are read again
    assert report.parsed == 1 or version == 1
    merged = note.read_text(encoding="utf-8")
    assert mine in merged and added in merged


def test_a_state_a_newer_kbgen_wrote_is_neither_read_nor_changed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit(State(sources={"a.md": SourceRecord("d", "src-a")}))
    store.close()
    path = tmp_path / ".kbgen" / "state.sqlite"
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = '5' WHERE key = 'schema'")
        db.execute("DROP TABLE given")  # whatever schema 5 may be
        db.execute("ALTER TABLE contrib RENAME COLUMN said TO lines")
    db.close()
    before = path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(KbgenError, match="newer kbgen"):
            Store(tmp_path, readonly=readonly).load()
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("on_disk", "base"),
    [
        (b"kbgen wrote NEW words here, and the user added MINE", "new"),  # the write landed
        (b"kbgen wrote OLD words here, and the user added MINE", "old"),  # it never did
        (b"kbgen wrote NEW words here", "new"),  # exactly what the killed build wrote
        (b"kbgen wrote OLD words here", "old"),  # exactly what was there before
    ],
)
def test_settle_takes_as_base_the_write_the_user_edited(on_disk: bytes, base: str) -> None:
    """A build killed after writing a note, then the user's edit: the journalled write is the
    merge base when the note is nearer to it than to what was there before."""
    from kbgen.core.filestat import sha
    from kbgen.state.records import NoteRecord, Pending, State, settle

    texts = {"o": "kbgen wrote OLD words here", "n": "kbgen wrote NEW words here"}
    old = NoteRecord("a.md", "o", sha(texts["o"].encode()))
    state = State(notes={"x": old}, pending={"x": Pending("a.md", "n", sha(texts["n"].encode()))})
    settled, _ = settle(state, {"a.md": on_disk}, texts.get)
    assert settled.notes["x"].base == base[0]
    assert not settled.pending
