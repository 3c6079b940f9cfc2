"""A state kept open between builds (as `kbgen watch` keeps it) gives exactly what a fresh load
gives: the same vault, the same database, and a fresh load whenever someone else touched it."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import vault_tree
from corpus import write_corpus

import kbgen.state.store
import kbgen.vault.files
import kbgen.vault.locate
from kbgen.build.listings import Kept
from kbgen.build.pipeline import build
from kbgen.core.config import Config
from kbgen.state.store import State, Store

Edit = Callable[[Path], object]


def _loads_from_disk(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts, from here on, the loads that read the records from the database."""
    loads: list[int] = []
    original = Store._has_rows

    def counting(db: object) -> bool:
        loads.append(1)
        return original(db)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "_has_rows", staticmethod(counting))
    return loads


def _database(vault: Path) -> State:
    store = Store(vault, readonly=True)
    try:
        return store.load()
    finally:
        store.close()


def _totals_stored(vault: Path) -> object:
    """The totals as the database holds them (`Store.totals` may answer from memory)."""
    db = sqlite3.connect(vault / ".kbgen" / "state.sqlite")
    try:
        (text,) = db.execute("SELECT value FROM meta WHERE key = 'totals'").fetchone()
        return json.loads(text)
    finally:
        db.close()


def _texts_kept(vault: Path) -> set[str]:
    """The merge bases the state database holds (`texts`), which must be exactly the notes'."""
    db = sqlite3.connect(vault / ".kbgen" / "state.sqlite")
    try:
        return {sha for (sha,) in db.execute("SELECT sha FROM texts")}
    finally:
        db.close()


def _say(path: Path, sentence: str) -> None:
    """A paragraph of its own, long enough not to be taken for a subheading."""
    said = f"{sentence} So it was reported at length by several newspapers that week."
    before = path.read_text(encoding="utf-8") if path.exists() else "---\ntitle: New\n---\n"
    path.write_text(f"{before}\n{said}\n", encoding="utf-8")


EDITS: list[Edit] = [
    lambda s: _say(
        s / "article-00001.md",
        'On 3 March 2017 Vladimir Putin said "we will answer these sanctions in kind" to NATO.',
    ),
    lambda s: (s / "article-00002.md").unlink(),
    lambda s: (s / "article-00003.md").rename(s / "moved.md"),
    lambda s: _say(s / "new.md", "Rex Tillerson spoke on Ukraine and on the sanctions."),
    lambda s: _say(s / "article-00004.md", "Donald Trump and Vladimir Putin spoke again."),
    lambda s: _say(s / "article-00001.md", 'Vladimir Putin said "we will not answer at all" then.'),
]


def test_builds_with_a_kept_state_make_what_fresh_builds_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = tmp_path / "sources"
    write_corpus(sources, 12)
    shutil.copytree(sources, tmp_path / "sources2")
    kept_config = Config(sources=sources, vault=tmp_path / "kept")
    fresh_config = Config(sources=tmp_path / "sources2", vault=tmp_path / "fresh")
    store = Store(kept_config.vault)
    build(kept_config, store=store, parallel=False)
    build(fresh_config, parallel=False)
    for edit in EDITS:
        edit(kept_config.sources)
        edit(fresh_config.sources)
        with monkeypatch.context() as patch:
            loads = _loads_from_disk(patch)
            kept = build(kept_config, store=store, parallel=False)
        assert loads == []  # started from the state in memory
        fresh = build(fresh_config, parallel=False)
        assert kept.plan.writes
        assert kept.plan.lines(routine=True) == fresh.plan.lines(routine=True)
        assert vault_tree(kept_config.vault) == vault_tree(fresh_config.vault)
        assert store.load() == _database(kept_config.vault)
        assert store.totals() == _totals_stored(kept_config.vault)
        for vault in (kept_config.vault, fresh_config.vault):
            assert _texts_kept(vault) == {r.base for r in _database(vault).notes.values()}
        assert (
            _database(kept_config.vault).notes.keys() == _database(fresh_config.vault).notes.keys()
        )
    store.close()


def _watched(tmp_path: Path) -> tuple[Config, Store]:
    """Six articles built with a state kept open, as `kbgen watch` keeps it."""
    write_corpus(tmp_path / "sources", 6)
    config = Config(sources=tmp_path / "sources", vault=tmp_path / "vault")
    store = Store(config.vault)
    build(config, store=store, parallel=False)
    return config, store


def test_a_build_by_another_process_in_between_is_seen(tmp_path: Path) -> None:
    config, store = _watched(tmp_path)
    sources = config.sources
    _say(sources / "article-00003.md", 'Vladimir Putin said "this will not stand for long".')
    build(config, store=store, parallel=False)  # it keeps the lines of the notes it rendered
    _say(sources / "article-00001.md", 'Vladimir Putin said "we will answer these sanctions".')
    assert build(config, parallel=False).plan.writes  # `kbgen build` by hand while watching
    assert store.load() == _database(config.vault)
    assert store.totals() == _totals_stored(config.vault)
    assert not build(config, store=store, parallel=False).plan.writes
    _say(sources / "article-00002.md", "Vladimir Putin spoke of NATO.")
    shutil.copytree(config.vault, tmp_path / "copy")
    build(config, store=store, parallel=False)
    build(Config(sources=sources, vault=tmp_path / "copy"), parallel=False)
    assert vault_tree(config.vault) == vault_tree(tmp_path / "copy")
    store.close()


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_state_database_deleted_or_replaced_in_between_is_seen(tmp_path: Path, how: str) -> None:
    sources = tmp_path / "sources"
    write_corpus(sources, 6)
    config = Config(sources=sources, vault=tmp_path / "vault")
    db = config.vault / ".kbgen" / "state.sqlite"
    build(config, parallel=False)
    shutil.copy(db, tmp_path / "backup.sqlite")
    store = Store(config.vault)
    _say(sources / "article-00001.md", "Vladimir Putin spoke of sanctions.")
    assert build(config, store=store, parallel=False).plan.writes
    if how == "deleted":
        db.unlink()
    else:  # the user put back an older copy
        shutil.copy(tmp_path / "backup.sqlite", tmp_path / "restored.sqlite")
        (tmp_path / "restored.sqlite").replace(db)
    assert store.load() == _database(config.vault)
    build(config, store=store, parallel=False)
    assert store.load() == _database(config.vault)
    store.close()


def test_a_build_that_fails_half_way_leaves_the_next_one_to_load_the_state_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, store = _watched(tmp_path)
    _say(config.sources / "article-00001.md", "Vladimir Putin spoke of sanctions.")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(
            kbgen.vault.files.Writer, "write", disk_full
        )  # after the journal, before any write
        with pytest.raises(Exception, match="No space left"):
            build(config, store=store, parallel=False)
    assert _database(config.vault).pending  # the journal a killed build leaves
    assert store.load() == _database(config.vault)  # read again, journal included
    report = build(config, store=store, parallel=False)
    assert report.ok and not _database(config.vault).pending
    assert store.load() == _database(config.vault)
    store.close()


def test_locating_again_with_the_same_records_and_stats_sees_every_change(tmp_path: Path) -> None:
    """`locate.locate` takes a note's place from the last build when its record and its stat are
    the very objects it saw then; a new stat or a new record is looked at afresh."""
    config, store = _watched(tmp_path)
    time.sleep(0.2)  # stats taken right after a write are not trusted: the next build records them
    build(config, store=store, parallel=False)
    kept = Kept()
    listing = kept.listing(config, time.time_ns() + 10**9)  # stats old enough to trust
    state = store.load()
    first = kbgen.vault.locate.locate(state, config.vault, {}, store, listing.notes)
    assert kbgen.vault.locate.locate(state, config.vault, {}, store, listing.notes) == first
    note = next(i for i, d in first.items() if i.startswith("src-") and d.unread)
    path = state.notes[note].path
    with (config.vault / path).open("a", encoding="utf-8") as f:
        f.write("\nMy own line.\n")
    kept.look_again("vault", path)
    listed = kept.listing(config, time.time_ns() + 10**9).notes
    again = kbgen.vault.locate.locate(state, config.vault, {}, store, listed)
    assert not again[note].unread and not again[note].pristine
    assert {i: d for i, d in again.items() if i != note} == {
        i: d for i, d in first.items() if i != note
    }
    other = next(i for i, d in again.items() if i != note and d.unread)
    state.notes[other] = state.notes[other]._replace(stat=None)  # a record of another build
    assert not kbgen.vault.locate.locate(state, config.vault, {}, store, listed)[other].unread
    store.close()
