"""The quick path (kbgen/build/quick.py) decides what the full path would.

Two copies of the same sources and vault go through the same random edits:
one builds as `kbgen build` does, taking the quick path whenever it may, the
other always takes the full path. After every step their vaults, their states
(but for the stats, which are the files' own) and their reports are compared.
"""

from __future__ import annotations

import random
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_build, vault_tree
from corpus import article, seed_paragraphs, write_corpus

import kbgen.build.quick
import kbgen.build.quickbuild
import kbgen.state.store
from kbgen.build.report import Declined, Report

STEPS = 24
SETTLE = 0.12  # beyond the racy window: stats taken after it are trusted (kbgen/state.py)

# (table, the columns compared: every one but the files' stats, which differ between copies)
_TABLES = {
    "notes": "id, path, base, written, orphaned, pinned, next_path, next_base, next_written,"
    " edited, aliases",
    "sources": "path, digest, id, title, published, publisher",
    "given": "source, pack",
    "contrib": "note, said, source, mentions, at, size, data",
    "words": "source, words",
    "texts": "sha, text",
    "meta": "key, value",
}


class _Pair:
    """Two sides: `quick` builds the way `kbgen build` does, `full` never takes the quick path."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.sides = {name: root / name for name in ("quick", "full")}
        self.quick_builds = 0
        load = kbgen.build.quick.load
        full_vault = self.vault("full")
        monkeypatch.setattr(
            kbgen.build.quick, "load", lambda v: None if v == full_vault else load(v)
        )
        build_changed = kbgen.build.quickbuild.build_changed

        def counted(*args: object, **kwargs: object) -> object:
            ending = build_changed(*args, **kwargs)  # type: ignore[arg-type]
            self.quick_builds += not isinstance(ending, Declined)
            return ending

        monkeypatch.setattr(kbgen.build.quickbuild, "build_changed", counted)

    def sources(self, side: str) -> Path:
        return self.sides[side] / "sources"

    def vault(self, side: str) -> Path:
        return self.sides[side] / "vault"

    def each(self, change: Callable[[Path, Path], None]) -> None:
        for side in self.sides:
            change(self.sources(side), self.vault(side))
        time.sleep(SETTLE)

    def build_and_compare(self) -> None:
        reports = {}
        for side in self.sides:
            reports[side] = run_build(self.sources(side), self.vault(side), parallel=False)
            assert reports[side].ok, reports[side].errors
        time.sleep(SETTLE)
        assert vault_tree(self.vault("quick")) == vault_tree(self.vault("full"))
        assert _state(self.vault("quick")) == _state(self.vault("full"))
        assert _told(reports["quick"]) == _told(reports["full"])


def _state(vault: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(vault / ".kbgen" / "state.sqlite")
    try:
        return {
            t: db.execute(f"SELECT {cols} FROM {t} ORDER BY {cols.split(',')[0]}").fetchall()
            for t, cols in _TABLES.items()
        }
    finally:
        db.close()


def _told(report: Report) -> tuple[object, ...]:
    """What a build reports, but for which unchanged notes it lists: a note is listed when it
    was read, and a note is read when its stat was too recent to trust, which depends on when
    each side's build ran (CI once saw one side list a note the other only counted)."""
    plan = report.plan
    actions = sorted((a.kind, a.kbgen_id, a.path, a.detail) for a in plan.actions)
    return (
        [a for a in actions if a[0] != "unchanged"],
        plan.count("unchanged") + plan.unlisted_unchanged,
        plan.notices,
        report.catalog_notes,
        report.sources,
        report.map_written,
        report.rendered,
    )


# -- edits, each made the same way on both sides ----------------------------------


def _body(text: str) -> tuple[str, list[str]]:
    head, _, body = text.partition("\n---\n\n")
    return head + "\n---\n\n", body.split("\n\n")


def _edit_source(
    rng: random.Random, how: Callable[[random.Random, list[str]], None]
) -> Callable[[Path, Path], None]:
    """One source chosen, and changed by `how`, the same on both sides (the same seed)."""
    seed = rng.random()

    def change(sources: Path, vault: Path) -> None:
        local = random.Random(seed)
        path = local.choice(sorted(sources.glob("*.md")))
        head, blocks = _body(path.read_text(encoding="utf-8"))
        how(local, blocks)
        path.write_text(head + "\n\n".join(blocks), encoding="utf-8")

    return change


def _word(rng: random.Random, blocks: list[str]) -> None:
    i = rng.randrange(len(blocks))
    words = blocks[i].split(" ")
    words[rng.randrange(len(words))] = f"edited{rng.randrange(1000)}"
    blocks[i] = " ".join(words)


def _mention(rng: random.Random, blocks: list[str]) -> None:
    who = rng.choice(["Vladimir Putin", "NATO", "Angela Merkel", "sanctions", "Rex Tillerson"])
    i = rng.randrange(len(blocks))
    blocks[i] = blocks[i].rstrip() + f" {who} was named again in take {rng.randrange(1000)}."


def _unmention(rng: random.Random, blocks: list[str]) -> None:
    i = rng.randrange(len(blocks))
    blocks[i] = re.sub(r"\bPutin\b", "the president", blocks[i])


def _drop(rng: random.Random, blocks: list[str]) -> None:
    if len(blocks) > 2:
        del blocks[rng.randrange(len(blocks))]


def _touch(sources: Path, vault: Path) -> None:
    path = sorted(sources.glob("*.md"))[0]
    path.write_bytes(path.read_bytes())


def _retitle(rng: random.Random) -> Callable[[Path, Path], None]:
    k = rng.randrange(1000)

    def change(sources: Path, vault: Path) -> None:
        path = sorted(sources.glob("*.md"))[-1]
        text = path.read_text(encoding="utf-8")
        path.write_text(
            re.sub(r"^title: .*$", f"title: Retitled {k}", text, count=1, flags=re.M), "utf-8"
        )

    return change


def _redate(rng: random.Random) -> Callable[[Path, Path], None]:
    day = rng.randint(1, 28)

    def change(sources: Path, vault: Path) -> None:
        path = sorted(sources.glob("*.md"))[1]
        text = path.read_text(encoding="utf-8")
        path.write_text(
            re.sub(r"^date: .*$", f"date: 2017-05-{day:02d}", text, count=1, flags=re.M), "utf-8"
        )

    return change


def _user_writes(rng: random.Random) -> Callable[[Path, Path], None]:
    seed = rng.random()

    def change(sources: Path, vault: Path) -> None:
        notes = sorted(p for p in (vault / "Actors").glob("*.md"))
        path = random.Random(seed).choice(notes)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"\nMy own line {seed}.\n")

    return change


def _in_vault(rng: random.Random, what: str) -> Callable[[Path, Path], None]:
    """The user moves, renames, deletes or writes in one of kbgen's notes."""
    seed = rng.random()

    def change(sources: Path, vault: Path) -> None:
        notes = sorted(p for p in vault.rglob("*.md") if ".kbgen" not in p.parts)
        note = random.Random(seed).choice(notes)
        if what == "move":
            (vault / "Mine").mkdir(exist_ok=True)
            note.rename(vault / "Mine" / note.name)
        elif what == "rename":
            note.rename(note.with_name(f"{note.stem} (mine).md"))
        elif what == "delete":
            note.unlink()
        else:
            text = note.read_text(encoding="utf-8")
            note.write_text(text.replace("\n\n", f"\n\nMy note {seed}.\n\n", 1), "utf-8")

    return change


def _declare(sources: Path, vault: Path) -> None:
    """The user makes a note of their own an actor: links to that name go to it from now on."""
    (vault / "Mine").mkdir(exist_ok=True)
    (vault / "Mine" / "Sergey Lavrov.md").write_text(
        "---\ntype: actor\naliases: [Lavrov, Russia's foreign minister]\n---\n\nMy notes.\n",
        "utf-8",
    )


def _tick(sources: Path, vault: Path) -> None:
    """The user ticks the first candidate: it becomes an actor of the catalog."""
    path = vault / "Candidates.md"
    if path.exists():
        path.write_text(path.read_text("utf-8").replace("- [ ]", "- [x]", 1), "utf-8")


def _add_source(rng: random.Random) -> Callable[[Path, Path], None]:
    k = 500 + rng.randrange(1000)

    def change(sources: Path, vault: Path) -> None:
        (sources / f"article-{k:05d}.md").write_text(
            article(k, seed_paragraphs(), seed=7), encoding="utf-8"
        )

    return change


def _delete_source(sources: Path, vault: Path) -> None:
    files = sorted(sources.glob("*.md"))
    if len(files) > 6:
        files[len(files) // 2].unlink()


def _step(rng: random.Random) -> Callable[[Path, Path], None]:
    """Mostly the edits the quick path takes; now and then one it must leave to the full path."""
    kind = rng.choices(
        ["word", "mention", "unmention", "drop", "two", "touch", "none", "retitle", "redate",
         "user", "add", "delete", "move", "rename", "unlink", "write", "declare", "tick"],
        weights=[6, 6, 3, 2, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1],
    )[0]  # fmt: skip
    simple = {"word": _word, "mention": _mention, "unmention": _unmention, "drop": _drop}
    if kind in simple:
        return _edit_source(rng, simple[kind])
    if kind == "two":
        first, second = _edit_source(rng, _mention), _edit_source(rng, _word)

        def both(sources: Path, vault: Path) -> None:
            first(sources, vault)
            second(sources, vault)

        return both
    others: dict[str, Callable[[Path, Path], None]] = {
        "touch": _touch,
        "none": lambda s, v: None,
        "retitle": _retitle(rng),
        "redate": _redate(rng),
        "user": _user_writes(rng),
        "add": _add_source(rng),
        "delete": _delete_source,
        "move": _in_vault(rng, "move"),
        "rename": _in_vault(rng, "rename"),
        "unlink": _in_vault(rng, "delete"),
        "write": _in_vault(rng, "write"),
        "declare": _declare,
        "tick": _tick,
    }
    return others[kind]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_quick_and_full_paths_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    pair = _Pair(tmp_path, monkeypatch)
    write_corpus(pair.sources("quick"), 12, seed=seed)
    shutil.copytree(pair.sources("quick"), pair.sources("full"))
    time.sleep(SETTLE)
    pair.build_and_compare()
    rng = random.Random(seed)
    for _ in range(STEPS):
        pair.each(_step(rng))
        pair.build_and_compare()
    assert pair.quick_builds >= STEPS // 3, "the quick path was hardly taken: nothing compared"


# -- when it is taken, and when not ------------------------------------------------


@pytest.fixture
def settled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, list[int]]:
    """A vault built twice from 40 articles, its stats settled: the record is there."""
    sources, vault = tmp_path / "sources", tmp_path / "vault"
    write_corpus(sources, 40, seed=3)
    taken: list[int] = []
    build_changed = kbgen.build.quickbuild.build_changed

    def counted(*args: object, **kwargs: object) -> object:
        ending = build_changed(*args, **kwargs)  # type: ignore[arg-type]
        taken.append(not isinstance(ending, Declined))
        return ending

    monkeypatch.setattr(kbgen.build.quickbuild, "build_changed", counted)
    for _ in range(2):
        run_build(sources, vault, parallel=False)
        time.sleep(SETTLE)
    assert kbgen.build.quick.load(vault) is not None
    taken.clear()  # with every stat trusted, the second build took it already
    return sources, vault, taken


def _edit(sources: Path, k: int = 0) -> None:
    path = sorted(sources.glob("*.md"))[k]
    head, blocks = _body(path.read_text(encoding="utf-8"))
    blocks[-1] += " Vladimir Putin was named once more."
    path.write_text(head + "\n\n".join(blocks), encoding="utf-8")


def test_an_edit_takes_the_quick_path_and_loads_no_whole_state(
    settled: tuple[Path, Path, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    sources, vault, taken = settled

    def no_whole_state(self: object) -> object:
        raise AssertionError("the quick path loaded every record")

    monkeypatch.setattr(kbgen.state.store.Store, "load", no_whole_state)
    _edit(sources, 3)
    time.sleep(SETTLE)
    report = run_build(sources, vault, parallel=False)
    assert taken == [True]
    assert report.path == "quick"
    assert report.parsed == 1
    written = {a.path for a in report.plan.writes}
    assert any(p.startswith("Sources/") for p in written)
    assert "Actors/Vladimir Putin.md" in written
    record = kbgen.build.quick.load(vault)
    assert record is not None  # and the next build may take it again
    assert report.plan.unlisted_unchanged + len(report.plan.actions) == record.wanted


def _retitle_first(sources: Path, vault: Path) -> None:
    path = sorted(sources.glob("*.md"))[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^title: .*$", "title: Another", text, count=1, flags=re.M), "utf-8")


def _new_source(sources: Path, vault: Path) -> None:
    (sources / "article-99999.md").write_text(article(99999, seed_paragraphs()), "utf-8")


def _user_line(sources: Path, vault: Path) -> None:
    _edit(sources)
    with (vault / "Actors" / "Vladimir Putin.md").open("a", encoding="utf-8") as fh:
        fh.write("\nMine.\n")


def _journal_left(sources: Path, vault: Path) -> None:
    """What a build killed between its journal and its commit leaves."""
    _edit(sources)
    store = kbgen.state.store.Store(vault)
    store.journal([("home", "Home.md", "0" * 64, "1" * 64)], {})
    store.close()


def _many(sources: Path, vault: Path) -> None:
    for k in range(kbgen.build.quick.AT_MOST + 1):
        _edit(sources, k)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_retitle_first, "a changed source's title, date or publisher is not the same"),
        (_new_source, "a source was added"),
        (_user_line, "a note is not as the last build left it"),
        (_journal_left, "kbgen's state changed since the last build"),
        (_many, f"{kbgen.build.quick.AT_MOST + 1} sources changed"),
    ],
)
def test_what_the_quick_path_leaves_to_the_full_one(
    settled: tuple[Path, Path, list[int]], change: Callable[[Path, Path], None], why: str
) -> None:
    sources, vault, taken = settled
    change(sources, vault)
    time.sleep(SETTLE)
    report = run_build(sources, vault, parallel=False)
    assert report.ok
    assert not any(taken), "the quick path went on where it could not be sure"
    assert report.path == "full"
    assert [d.shortcut for d in report.declined] == ["snapshot", "quick"]
    assert why in report.declined[-1].reason
    if change is _user_line:
        assert "Mine." in (vault / "Actors" / "Vladimir Putin.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("one_by_one", [200, 2])
def test_names_and_refs_looked_up_by_key_are_the_full_paths_own(
    seed_vault: Path, monkeypatch: pytest.MonkeyPatch, one_by_one: int
) -> None:
    """`Stems` and `Refs` answer from the state a key at a time, and in full when iterated,
    as the full path's dicts would; `Refs` reads every source at once after a few lookups."""
    monkeypatch.setattr(kbgen.build.quickbuild, "ONE_BY_ONE_AT_MOST", one_by_one)
    from kbgen.core.names import stem_of
    from kbgen.render.notes import SourceRef
    from kbgen.state.store import State, Store

    store = Store(seed_vault, readonly=True)
    try:
        whole = store.load()
        stems = kbgen.build.quickbuild.Stems(store, State())
        assert dict(stems) == {i: stem_of(r.path) for i, r in whole.notes.items()}
        assert len(stems) == len(whole.notes)
        with pytest.raises(KeyError):
            stems["actor:nobody"]
        refs = kbgen.build.quickbuild.Refs(store, kbgen.build.quickbuild.Stems(store, State()), {})
        expected = {
            p: SourceRef(stem_of(whole.notes[r.id].path), r.title, r.published, r.publisher)
            for p, r in whole.sources.items()
        }
        assert {p: refs[p] for p in refs} == expected
        assert refs.values() == list(expected.values()) and len(refs) == len(expected)
    finally:
        store.close()


def test_a_build_the_snapshot_answers_does_not_read_the_record(
    settled: tuple[Path, Path, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is for a build that has something to do: a no-op is answered before it."""
    sources, vault, _ = settled
    run_build(sources, vault, parallel=False)  # writes nothing: leaves the snapshot
    time.sleep(SETTLE)

    def unread(_: Path) -> None:
        raise AssertionError("the record was read by a build the snapshot answers")

    monkeypatch.setattr(kbgen.build.quick, "load", unread)
    report = run_build(sources, vault, parallel=False)
    assert "snapshot" in report.timings


def test_a_build_with_a_failing_source_leaves_no_record(
    settled: tuple[Path, Path, list[int]],
) -> None:
    """Its failing source's notes were left as they were: the next build is the full one."""
    sources, vault, taken = settled
    (sources / "broken.md").write_bytes(b"abc\x00def")
    time.sleep(SETTLE)
    report = run_build(sources, vault, parallel=False)
    assert [e.path for e in report.errors] == ["broken.md"]
    assert kbgen.build.quick.load(vault) is None
    (sources / "broken.md").unlink()
    _edit(sources)
    time.sleep(SETTLE)
    assert run_build(sources, vault, parallel=False).ok
    assert not any(taken)
