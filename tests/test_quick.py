"""The quick path (kbgen/quick.py) decides what the full path would.

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

import kbgen.quick
import kbgen.quickbuild
from kbgen.report import Report

STEPS = 18
SETTLE = 0.12  # beyond the racy window: stats taken after it are trusted (kbgen/state.py)

# (table, the columns compared: every one but the files' stats, which differ between copies)
_TABLES = {
    "notes": "id, path, base, written, orphaned, pinned, next_path, next_base, next_written,"
    " edited, aliases",
    "sources": "path, digest, id, title, feeds, published, publisher",
    "contrib": "source, note, mentions, data, lines",
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
        load = kbgen.quick.load
        full_vault = self.vault("full")
        monkeypatch.setattr(kbgen.quick, "load", lambda v: None if v == full_vault else load(v))
        build_changed = kbgen.quickbuild.build_changed

        def counted(*args: object, **kwargs: object) -> object:
            ending = build_changed(*args, **kwargs)  # type: ignore[arg-type]
            self.quick_builds += ending is not None
            return ending

        monkeypatch.setattr(kbgen.quickbuild, "build_changed", counted)

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
    plan = report.plan
    actions = sorted((a.kind, a.kbgen_id, a.path, a.detail) for a in plan.actions)
    return (
        actions,
        plan.unlisted_unchanged,
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
         "user", "add", "delete"],
        weights=[6, 6, 3, 2, 2, 1, 1, 1, 1, 2, 1, 1],
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
    }
    return others[kind]


@pytest.mark.parametrize("seed", [1, 2])
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
