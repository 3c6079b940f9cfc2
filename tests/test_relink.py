"""A catalog change reads again only the sources an alias it changes may appear in.

Equivalence first: after every change to the catalog — an alias added or
dropped, an entry added, dropped, renamed or made a person, an alias handed
to a second entry, a user's note declaring an actor — the vault is byte for
byte what a cold build with that catalog makes. Then the counts: the sources
read again are those holding every word of a changed alias, not all of them.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS, vault_tree
from corpus import write_corpus
from test_incremental import _build, _comparable, _settle

from kbgen.build.pipeline import build
from kbgen.core.config import Config
from kbgen.link import relink
from kbgen.link.catalog import load_builtin
from kbgen.link.extract import Matcher, alias_words, fold, link_article, words_of
from kbgen.read.sources import parse
from kbgen.state.store import Store

PUTIN = """\
actors:
  - name: Vladimir Putin
    kind: person
    aliases: [Putin, Vladimir Vladimirovich Putin{extra}]
"""
HARVARD = "  - name: Graham Allison\n    kind: person\n    aliases: [Harvard professor]\n"


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path, Path]:
    sources, vault = tmp_path / "sources", tmp_path / "vault"
    write_corpus(sources, 40, seed=5)
    for seed in SEEDS.glob("*.txt"):
        shutil.copy(seed, sources / seed.name)
    catalog = tmp_path / "extra.yaml"
    catalog.write_text(PUTIN.format(extra=""), "utf-8")
    _build(sources, vault, catalog)
    _settle()
    return sources, vault, catalog


def _cold(sources: Path, catalog: Path, tmp: Path) -> dict[str, bytes]:
    cold = tmp / "cold"
    shutil.rmtree(cold, ignore_errors=True)
    _build(sources, cold, catalog)
    return _comparable(vault_tree(cold))


def _holding(sources: Path, *words: str) -> set[str]:
    """The sources whose linked text has every one of `words` (folded)."""
    matcher = Matcher(load_builtin())
    out = set()
    for path in sorted(sources.iterdir()):
        article = parse(path.name, path.read_bytes())
        have = set(words_of(link_article(article, matcher)).split(" "))
        if set(words) <= have:
            out.add(path.name)
    return out


def test_an_alias_added_reads_only_the_sources_with_its_words(
    corpus: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    sources, vault, catalog = corpus
    catalog.write_text(PUTIN.format(extra="") + HARVARD, "utf-8")
    report = _build(sources, vault, catalog)
    holding = _holding(sources, "harvard", "professor")
    assert 0 < report.parsed == len(holding) < len(list(sources.iterdir())) / 4
    assert "Actors/Graham Allison.md" in {a.path for a in report.plan.writes}
    said = f"relink  {len(holding)} of 45 sources: 1 catalog entry changed (Graham Allison)"
    assert said in report.plan.lines()  # with -v
    assert not any(line.startswith("relink") for line in report.plan.lines(routine=False))
    assert _comparable(vault_tree(vault)) == _cold(sources, catalog, tmp_path)


def test_a_change_most_sources_may_show_rebuilds_them_all(
    corpus: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Past `RELINK_AT_MOST` of the sources, comparing what each gave costs more than it saves."""
    sources, vault, catalog = corpus
    catalog.write_text(PUTIN.format(extra=", Russian President"), "utf-8")
    assert len(_holding(sources, "russian", "president")) > 0.5 * 45
    report = _build(sources, vault, catalog)
    assert report.parsed == 45
    said = "relink  45 of 45 sources: 1 catalog entry changed (Vladimir Putin)"
    assert said in report.plan.lines()
    assert _comparable(vault_tree(vault)) == _cold(sources, catalog, tmp_path)


DESCRIBED = "    description: President of Russia.\n"
CHANGES = [  # each differs from the one before by what it says, and by nothing else
    ("an alias added", PUTIN.format(extra=", Russian President")),
    ("a description", PUTIN.format(extra=", Russian President") + DESCRIBED),
    (
        "an alias dropped",
        PUTIN.format(extra=", Russian President").replace("Putin, ", "") + DESCRIBED,
    ),
    (
        "an entry added",
        PUTIN.format(extra="")
        + "  - name: Moscow officials\n    kind: organisation\n    aliases: [Moscow]\n",
    ),
    (
        "an entry renamed (a new key: its old note goes)",
        PUTIN.format(extra="")
        + "  - name: Officials in Moscow\n    kind: organisation\n    aliases: [Moscow]\n",
    ),
    (  # "President Putin" was Putin's by his honorific; the entry listed first takes it
        "an alias shared with a second entry, listed first",
        "actors:\n  - name: Russian presidency\n    kind: organisation\n"
        "    aliases: [President Putin]\n" + PUTIN.format(extra="").removeprefix("actors:\n"),
    ),
    ("an entry made an organisation", PUTIN.format(extra="").replace("person", "organisation")),
    ("the entries dropped", "actors: []\n"),
]


def test_every_kind_of_catalog_change_leaves_what_a_cold_build_makes(
    corpus: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    sources, vault, catalog = corpus
    total = len(list(sources.iterdir()))
    for what, text in CHANGES:
        catalog.write_text(text, "utf-8")
        report = _build(sources, vault, catalog)
        assert _comparable(vault_tree(vault)) == _cold(sources, catalog, tmp_path), what
        assert report.parsed <= total, what
        _settle()
        assert _build(sources, vault, catalog).plan.writes == [], what  # and it stays so


def test_a_user_note_declaring_an_actor_relinks_its_aliases(
    corpus: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    sources, vault, catalog = corpus
    note = vault / "People" / "Atlantic Council.md"
    note.parent.mkdir()
    note.write_text(
        "---\ntype: actor\nkind: organisation\naliases: [Harvard professor]\n---\nMine.\n", "utf-8"
    )
    report = _build(sources, vault, catalog)
    assert report.parsed < len(list(sources.iterdir()))
    cold = tmp_path / "cold"
    shutil.copytree(vault / "People", cold / "People")
    _build(sources, cold, catalog)
    assert _comparable(vault_tree(vault)) == _comparable(vault_tree(cold))
    _settle()
    # the same entry (its key comes from the name, case aside), its links go to the new name
    note.rename(note.with_name("Atlantic council.md"))
    _build(sources, vault, catalog)
    shutil.rmtree(cold)
    shutil.copytree(vault / "People", cold / "People")
    _build(sources, cold, catalog)
    assert _comparable(vault_tree(vault)) == _comparable(vault_tree(cold))


def test_a_state_without_words_reads_those_sources_again(
    corpus: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """As after an upgrade from a kbgen that kept no words: better read than missed."""
    sources, vault, catalog = corpus
    with sqlite3.connect(vault / ".kbgen" / "state.sqlite") as db:
        db.execute("DELETE FROM words WHERE source LIKE 'article-0000%'")
    db.close()
    catalog.write_text(PUTIN.format(extra="") + HARVARD, "utf-8")
    report = _build(sources, vault, catalog)
    holding = _holding(sources, "harvard", "professor")
    unknown = {p.name for p in sources.glob("article-0000*")}
    assert report.parsed >= len(holding | unknown)
    assert _comparable(vault_tree(vault)) == _cold(sources, catalog, tmp_path)


def test_a_change_to_the_honorifics_reads_everything(
    corpus: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    sources, vault, catalog = corpus
    catalog.write_text("honorifics: [Comrade]\n" + PUTIN.format(extra=""), "utf-8")
    report = _build(sources, vault, catalog)
    assert report.parsed == len(list(sources.iterdir()))
    assert _comparable(vault_tree(vault)) == _cold(sources, catalog, tmp_path)


def test_every_mention_is_made_of_words_the_source_is_said_to_have(tmp_path: Path) -> None:
    """What makes the filter safe: a match's words are all among the source's words."""
    sources = tmp_path / "sources"
    write_corpus(sources, 30, seed=2)
    paths = [*sorted(sources.iterdir()), *sorted(SEEDS.iterdir())]
    fixtures = Path(__file__).parent / "fixtures"
    paths += [p for p in sorted(fixtures.rglob("*")) if p.suffix in (".html", ".md", ".txt")]
    matcher = Matcher(load_builtin())
    checked = 0
    for path in paths:
        try:
            article = parse(path.name, path.read_bytes())
        except Exception:  # fixtures of bad input: not articles
            continue
        linked = link_article(article, matcher)
        have = set(words_of(linked).split(" "))
        for lb in linked:
            for m in lb.matches:
                surface = fold(lb.block.text[m.start : m.end])
                assert alias_words(surface) <= have, (path.name, surface)
                checked += 1
    assert checked > 1000


def test_the_entries_kept_read_back_as_they_were_and_unreadable_ones_rebuild() -> None:
    entries = load_builtin().entities
    assert relink.loads(relink.dumps(entries)) == list(entries)
    for stored in (None, "", "not json", "[]", '[["key", "name"]]', '{"a": 1}'):
        assert relink.loads(stored) is None, stored


def _quoting(vault: Path, stem: str) -> list[str]:
    """The reduced notes (actors, issues, their pages) that quote a source note by its name."""
    return sorted(
        str(p.relative_to(vault))
        for folder in ("Actors", "Issues")
        for p in (vault / folder).rglob("*.md")
        if f"[[{stem}#^" in p.read_text(encoding="utf-8")
    )


def test_a_rebuild_of_every_source_reads_no_lines_back(
    corpus: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every source read again, every stored line would be replaced by its source's new one:
    reading them (1.4 s of a 10,000-article rebuild, profiled) is work thrown away."""
    sources, vault, catalog = corpus
    asked: list[str] = []
    for name in ("lines_of", "lines_of_pages", "lines_published_on", "feeders"):
        real = getattr(Store, name)

        def spy(self: Store, *args: object, _name: str = name, _real: Any = real) -> Any:
            asked.append(_name)
            return _real(self, *args)

        monkeypatch.setattr(Store, name, spy)
    catalog.write_text(PUTIN.format(extra=", Russian President"), "utf-8")
    assert _build(sources, vault, catalog).parsed == 45
    assert asked == []
    assert _comparable(vault_tree(vault)) == _cold(sources, catalog, tmp_path)


def test_a_source_failing_in_a_rebuild_of_every_source_keeps_its_quotes(
    corpus: tuple[Path, Path, Path],
) -> None:
    """Its note is left as it is, and so are its contributions: the actors' notes still
    quote it, from the stored lines."""
    sources, vault, catalog = corpus
    seed = sources / "003_ae3987c8e33255af.txt"
    stem = "A New ‘Reset’ Can the Trump Administration Normalise Relations with Russia"
    quoting = _quoting(vault, stem)
    assert quoting
    seed.write_bytes(b"\x00" + seed.read_bytes())  # binary now: it cannot be read
    catalog.write_text(PUTIN.format(extra=", Russian President"), "utf-8")
    report = build(Config(sources=sources, vault=vault, catalogs=(catalog,)))
    assert [e.path for e in report.errors] == [seed.name]
    assert report.parsed == 44
    assert _quoting(vault, stem) == quoting
