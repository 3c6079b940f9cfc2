"""The listings `kbgen watch` keeps between builds equal a full listing, when told every path that
changed — and a full listing is made whenever path by path cannot be trusted."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

import kbgen.core.filestat
import kbgen.state.store
from kbgen.build.listings import Area, Kept, Listing, list_all
from kbgen.build.pipeline import build
from kbgen.core.config import Config
from kbgen.core.errors import KbgenError
from kbgen.core.filestat import key_of

NAMES = ["a.md", "b.txt", "c.html", "d.markdown", "sub/e.md", "sub/f.txt", "x.docx", ".h.md"]
NOTES = ["N.md", "Actors/P.md", "Sources/S.md", "x.canvas", ".obsidian/w.md"]


def _plain(listing: Listing) -> tuple[object, ...]:
    """A listing with stats reduced to what kbgen compares (atime moves when a file is read)."""
    return (
        {rel: key_of(st) for rel, st in listing.notes.items()},
        list(listing.notes),
        [(f.rel, f.path, key_of(f.stat) if f.stat else None) for f in listing.sources],
        [(e.path, e.reason) for e in listing.errors],
        listing.temps,
    )


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """No racy window: every kept stat is trusted, so the path-by-path upkeep is what is tested."""
    monkeypatch.setattr(kbgen.core.filestat, "RACY_SECONDS", 0.0)
    monkeypatch.setattr(kbgen.core.filestat, "COARSE_RACY_SECONDS", 0.0)


def _step(rng: random.Random, config: Config, outside: Path) -> list[tuple[Area, str]]:
    """One change a user or an editor might make; returns the paths an observer reports."""
    area: Area = rng.choice(["sources", "vault"])
    root = config.sources if area == "sources" else config.vault
    rel = rng.choice(NAMES if area == "sources" else NOTES)
    path = root / rel
    action = rng.choice(["write", "write", "append", "delete", "rename", "link"])
    if action == "write" or (action == "append" and not path.exists()):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.write_text("x" * rng.randint(1, 50))
        return [(area, rel)]
    if action == "append" and path.is_file():
        with open(path, "a") as fh:
            fh.write("more")
        return [(area, rel)]
    if action == "delete" and (path.exists() or path.is_symlink()):
        path.unlink()
        return [(area, rel)]
    if action == "rename" and path.exists():
        other = rng.choice(NAMES if area == "sources" else NOTES)
        (root / other).parent.mkdir(parents=True, exist_ok=True)
        if (root / other).is_dir():
            return []
        path.replace(root / other)
        return [(area, rel), (area, other)]
    if action == "link" and area == "sources" and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(outside)  # leads out of the sources folder: an error, not a source
        return [(area, rel)]
    return []


@pytest.mark.parametrize("seed", range(6))
def test_kept_listings_equal_a_full_listing_when_told_every_change(
    tmp_path: Path, seed: int, trusted: None
) -> None:
    config = Config(sources=tmp_path / "sources", vault=tmp_path / "vault")
    config.sources.mkdir()
    config.vault.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text("elsewhere")
    rng = random.Random(seed)
    kept = Kept()
    kept.listing(config, time.time_ns())
    for _ in range(60):
        for area, rel in _step(rng, config, outside):
            kept.look_again(area, rel)
        assert _plain(kept.listing(config, time.time_ns())) == _plain(list_all(config))


def test_a_change_it_was_not_told_of_is_seen_while_the_stat_is_too_recent_to_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kbgen.core.filestat, "RACY_SECONDS", 5.0)  # (KBGEN_TRUST_STATS sets none)
    config = Config(sources=tmp_path / "sources", vault=tmp_path / "vault")
    config.sources.mkdir()
    config.vault.mkdir()
    source = config.sources / "a.md"
    source.write_text("one")
    kept = Kept()
    kept.listing(config, time.time_ns())
    source.write_text("two, longer")  # no event reported: within the racy window, it is seen
    assert _plain(kept.listing(config, time.time_ns())) == _plain(list_all(config))


def test_a_forgotten_listing_is_listed_in_full(tmp_path: Path, trusted: None) -> None:
    config = Config(sources=tmp_path / "sources", vault=tmp_path / "vault")
    (config.sources / "folder").mkdir(parents=True)
    config.vault.mkdir()
    kept = Kept()
    kept.listing(config, time.time_ns())
    (config.sources / "folder" / "moved-in.md").write_text("a folder moved in: one event")
    kept.forget()
    assert [f.rel for f in kept.listing(config, time.time_ns()).sources] == ["folder/moved-in.md"]


def test_a_sources_folder_gone_is_an_error_not_every_source_deleted(
    tmp_path: Path, trusted: None
) -> None:
    config = Config(sources=tmp_path / "sources", vault=tmp_path / "vault")
    config.sources.mkdir()
    for k in range(3):
        (config.sources / f"s{k}.md").write_text(
            f"# Article {k}\n\nVladimir Putin met Donald Trump, and they spoke for hours about "
            "the sanctions, as the newspapers reported that week.\n"
        )
    kept = Kept()
    assert build(config, parallel=False, kept=kept).ok
    before = sorted(p.relative_to(config.vault) for p in config.vault.rglob("*.md"))
    for k in range(3):
        kept.look_again("sources", f"s{k}.md")
    config.sources.rename(tmp_path / "unmounted")
    with pytest.raises(KbgenError, match="does not exist"):
        build(config, parallel=False, kept=kept)
    assert sorted(p.relative_to(config.vault) for p in config.vault.rglob("*.md")) == before


def test_builds_with_kept_listings_see_their_own_writes(tmp_path: Path, trusted: None) -> None:
    """The notes a build wrote are looked at again: the next build finds them as they are."""
    config = Config(sources=tmp_path / "sources", vault=tmp_path / "vault")
    config.sources.mkdir()
    source = config.sources / "s.md"
    source.write_text(
        "# One\n\nVladimir Putin met Donald Trump, and they spoke for hours about the "
        "sanctions, as the newspapers reported that week.\n"
    )
    kept = Kept()
    build(config, parallel=False, kept=kept)
    with open(source, "a") as fh:
        fh.write("\nNATO answered the next day, and the sanctions stayed as they were for years.\n")
    os.utime(source, ns=(time.time_ns(), time.time_ns()))
    kept.look_again("sources", "s.md")
    assert build(config, parallel=False, kept=kept).plan.writes
    assert _plain(kept.listing(config, time.time_ns())) == _plain(list_all(config))
    assert not build(config, parallel=False, kept=kept).plan.writes


def test_the_kinds_of_source_last_listed(tmp_path: Path) -> None:
    (tmp_path / "sources" / "deep").mkdir(parents=True)
    (tmp_path / "sources" / "a.md").write_text("A\n", encoding="utf-8")
    (tmp_path / "sources" / "deep" / "b.TXT").write_text("B\n", encoding="utf-8")
    kept = Kept()
    assert kept.suffixes() == set()
    kept.listing(Config(sources=tmp_path / "sources", vault=tmp_path / "vault"), time.time_ns())
    assert kept.suffixes() == {".md", ".txt"}
