"""Much-mentioned actors and issues: their quotes spread over one note per month.

An entity named in at least `notes.PAGED_FROM` sources keeps a short note
(counts, months, co-mentions) and gets one note per month of publication
with that month's quotes, so an edit renders one month, not every quote in
the vault. The tests lower the threshold so the small corpus pages.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SEEDS, frontmatter_of, vault_tree
from corpus import write_corpus
from test_incremental import _build, _same_as_cold, _settle, _written, random_changes
from test_vault_valid import BLOCK_ID, WIKILINK, _notes, _resolve

from kbgen.build.report import Report
from kbgen.render import notes as notes_mod

PUTIN = Path("Actors") / "Vladimir Putin.md"


@pytest.fixture
def paged_from(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(notes_mod, "PAGED_FROM", 8)
    return 8


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    sources = tmp_path / "sources"
    write_corpus(sources, 30, seed=11)
    for seed in SEEDS.glob("*.txt"):
        shutil.copy(seed, sources / seed.name)
    return sources, tmp_path / "vault"


def _quotes(text: str) -> list[str]:
    """The mention lines (an actor note's Quotes section aside)."""
    if "## Mentions" in text:
        text = text[text.index("## Mentions") :]
    return sorted(line for line in text.splitlines() if line.startswith("- ") and "|↗]]" in line)


def _pages(vault: Path, entity: str = "Vladimir Putin") -> list[Path]:
    return sorted((vault / "Actors" / "Mentions").glob(f"{entity}, *.md"))


def test_every_quote_is_on_a_month_page_and_every_link_resolves(
    corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources, vault = corpus
    inline = tmp_path / "inline"
    _build(sources, inline)  # the shipped threshold: the small corpus stays inline
    assert not (inline / "Actors" / "Mentions").exists()
    monkeypatch.setattr(notes_mod, "PAGED_FROM", 8)
    _build(sources, vault)
    summary = (vault / PUTIN).read_text(encoding="utf-8")
    pages = _pages(vault)
    assert len(pages) >= 3
    assert not _quotes(summary)
    paged = sorted(q for p in pages for q in _quotes(p.read_text(encoding="utf-8")))
    assert paged == _quotes((inline / PUTIN).read_text(encoding="utf-8"))
    for page in pages:
        fm = frontmatter_of(page)
        assert fm["type"] == "mentions" and fm["of"] == "[[Vladimir Putin]]"
        assert f"[[{page.stem}|{fm['period']}]] — {fm['mentions']} mention" in summary
    months = re.findall(r"^- \[\[Vladimir Putin, ([^|]+)\|", summary, re.M)
    assert months == sorted(m for m in months if m != "undated")[::-1] + ["undated"] * (
        "undated" in months
    )
    for key in ("mentions", "sources", "first_mentioned", "last_mentioned"):
        assert frontmatter_of(vault / PUTIN)[key] == frontmatter_of(inline / PUTIN)[key], key
    _all_links_resolve(vault)


def _all_links_resolve(vault: Path) -> None:
    table = _resolve(vault)
    ids = {p: set(BLOCK_ID.findall(p.read_text(encoding="utf-8"))) for p in table.values()}
    for note in _notes(vault):
        for link in WIKILINK.findall(note.read_text(encoding="utf-8")):
            name, _, sub = link.split("|")[0].partition("#")
            target = table.get(name.casefold())
            assert target is not None, f"{note.name}: [[{link}]]"
            assert not sub.startswith("^") or sub[1:] in ids[target], f"{note.name}: [[{link}]]"


SENTENCE = re.compile(r"[^.]*\bPutin\b[^.]*\bthe\b")


def _word_edited_near_putin(
    sources: Path, vault: Path, dated: Callable[[str], bool] = lambda date: True
) -> tuple[str, Report, set[str]]:
    """A word of a sentence naming Putin edited, in the first article whose date passes `dated`,
    and the vault built: that date, the build's report and the notes written."""
    article = next(
        p
        for p in sorted(sources.glob("article-*.md"))
        if dated(str(frontmatter_of(p)["date"])) and SENTENCE.search(p.read_text("utf-8"))
    )
    text = article.read_text(encoding="utf-8")
    sentence = SENTENCE.search(text)
    assert sentence is not None
    edited = sentence.group(0).replace(" the ", " this ", 1)
    article.write_text(text.replace(sentence.group(0), edited, 1), encoding="utf-8")
    before = vault_tree(vault)
    report = _build(sources, vault)
    return str(frontmatter_of(article)["date"]), report, _written(before, vault_tree(vault))


def test_an_edit_renders_one_month_not_every_quote(
    corpus: tuple[Path, Path], paged_from: int
) -> None:
    sources, vault = corpus
    _build(sources, vault)
    _settle()
    date, report, written = _word_edited_near_putin(sources, vault)
    month = date[:7]
    assert f"Actors/Mentions/Vladimir Putin, {month}.md" in written
    assert not any(
        w.startswith("Actors/Mentions/Vladimir Putin, ") and month not in w for w in written
    )
    assert str(PUTIN) not in written  # counts and co-mentions unchanged: the summary stays
    assert report.rendered <= 1 + 2 * len(written)
    summary = next(a for a in report.plan.actions if a.path == PUTIN.as_posix())
    assert summary.base is None, "the month's counts did not change: no need to render the summary"


def test_crossing_the_threshold_both_ways_gives_what_a_cold_build_gives(
    corpus: tuple[Path, Path], paged_from: int, tmp_path: Path
) -> None:
    sources, vault = corpus
    _build(sources, vault)
    assert _pages(vault)
    mentioning = [
        p for p in sorted(sources.glob("article-*.md")) if "Putin" in p.read_text(encoding="utf-8")
    ]
    for path in mentioning:  # down through the threshold, one source at a time
        path.unlink()
        before = vault_tree(vault)
        report = _build(sources, vault)
        touched = {a.path for a in report.plan.writes} | {a.path for a in report.plan.of("delete")}
        touched |= {"Map.canvas"} if report.map_written else set()
        assert touched == _written(before, vault_tree(vault))
    assert not _pages(vault)
    assert _quotes((vault / PUTIN).read_text(encoding="utf-8"))
    _same_as_cold(sources, vault, tmp_path)
    spare = tmp_path / "spare"
    write_corpus(spare, 30, seed=11)
    for path in sorted(spare.iterdir()):  # and up again
        shutil.copy(path, sources)
        _build(sources, vault)
    assert _pages(vault)
    _same_as_cold(sources, vault, tmp_path)


def test_a_user_note_in_a_month_page_survives_a_change_to_that_month(
    corpus: tuple[Path, Path], paged_from: int
) -> None:
    sources, vault = corpus
    _build(sources, vault)
    page = _pages(vault)[0]
    page.write_text(page.read_text(encoding="utf-8") + "\nMy reading of this month.\n", "utf-8")
    month = str(frontmatter_of(page)["period"])
    article = next(
        p
        for p in sorted(sources.glob("article-*.md"))
        if str(frontmatter_of(p)["date"]).startswith(month) and "Putin" in p.read_text("utf-8")
    )
    article.write_text(
        article.read_text(encoding="utf-8") + "\nVladimir Putin said more in a new paragraph.\n",
        "utf-8",
    )
    _settle()
    _build(sources, vault)
    text = page.read_text(encoding="utf-8")
    assert "My reading of this month." in text
    assert "said more in a new paragraph" in text


def _home_section(sources: Path, vault: Path, heading: str) -> list[str]:
    """The lines of one section of Home.md, after a build."""
    _build(sources, vault)
    home = (vault / "Home.md").read_text(encoding="utf-8")
    return home.split(f"## {heading}\n\n", 1)[1].split("\n\n", 1)[0].splitlines()


def test_home_lists_the_newest_sources_only_and_an_old_one_retitled_leaves_it_alone(
    corpus: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Home must not grow with the vault: at 10,000 articles it was 650 KB, rewritten on edits."""
    monkeypatch.setattr(notes_mod, "HOME_SOURCES", 5)
    sources, vault = corpus
    listed = _home_section(sources, vault, "Sources")
    _settle()
    notes = sorted((vault / "Sources").glob("*.md"), key=lambda p: p.stem.casefold())
    dated = [(str(frontmatter_of(p).get("published", "")), p) for p in notes]
    dated.sort(key=lambda dp: dp[0], reverse=True)  # newest first, ties by name (a stable sort)
    newest = [p.stem for _, p in dated[:5]]
    assert [re.search(r"\[\[([^]|]+)", line).group(1) for line in listed[:5]] == newest  # type: ignore[union-attr]
    assert listed[5] == f"- … and {len(dated) - 5} more in `Sources/`"
    assert len(listed) == 6
    oldest_note = [p for date, p in dated if date][-1]  # the seeds are undated: a corpus one
    oldest = sources / str(frontmatter_of(oldest_note)["source"])
    text = oldest.read_text(encoding="utf-8")
    oldest.write_text(re.sub(r"title: .*", "title: A New Title For An Old Piece", text, count=1))
    before = vault_tree(vault)
    _build(sources, vault)
    written = _written(before, vault_tree(vault))
    assert "Home.md" not in written and any(w.startswith("Sources/") for w in written)


def test_home_lists_the_authors_with_most_articles_when_there_are_many(
    corpus: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notes_mod, "HOME_AUTHORS", 2)
    sources, vault = corpus
    listed = _home_section(sources, vault, "Authors")
    articles = {
        p.stem: int(frontmatter_of(p)["articles"]) for p in (vault / "Authors").glob("*.md")
    }
    ranked = sorted(articles, key=lambda a: (-articles[a], a.casefold()))
    assert listed[:2] == [f"- [[{a}]]" for a in sorted(ranked[:2], key=str.casefold)]
    assert listed[2:] == [f"- … and {len(articles) - 2} more in `Authors/`"]


def test_a_paged_entity_shows_its_newest_quotes_and_counts_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The quotes past the ones shown are counted, not rendered: held to rendering them all."""
    monkeypatch.setattr(notes_mod, "QUOTES_SHOWN", 5)
    sources = {
        f"s{i}.md": notes_mod.SourceRef(
            f"Source {i}", f"Title {i}", f"2017-0{1 + i % 9}-1{i}", None
        )
        for i in range(7)
    }
    said = {
        s: "\n".join(f"- “Quote {k} of {s}” ({notes_mod.SOURCE_REF})" for k in range(1 + i % 3))
        for i, s in enumerate(sources)
    }
    said["s3.md"] = ""  # a source that quotes nobody
    shown = notes_mod._said(said, sources, 5)
    every = notes_mod._said(said, sources, None)
    assert shown.startswith("## Quotes\n\nThe 5 newest of 12; every one is also in the month")
    assert shown.split("\n\n", 2)[2].splitlines() == every.split("\n\n", 1)[1].splitlines()[:5]
    assert "Quote 0 of s6.md" in shown.splitlines()[4]  # the newest source first (2017-07-16)
    assert notes_mod._said(said, sources, 12) == every


@pytest.fixture
def days_from(monkeypatch: pytest.MonkeyPatch, paged_from: int) -> int:
    """Months of 4 mentions or more shown day by day: in the small corpus, some months are."""
    monkeypatch.setattr(notes_mod, "DAYS_FROM", 4)
    return 4


DAY = re.compile(r", (\d{4}-\d\d-\d\d)$")


def _by_day(vault: Path) -> list[Path]:
    return [p for p in _pages(vault) if DAY.search(p.stem)]


def test_a_busy_month_gets_one_note_per_day_and_every_quote_is_on_one_of_them(
    corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources, vault = corpus
    inline = tmp_path / "inline"
    _build(sources, inline)
    monkeypatch.setattr(notes_mod, "PAGED_FROM", 8)
    monkeypatch.setattr(notes_mod, "DAYS_FROM", 4)
    _build(sources, vault)
    days = _by_day(vault)
    assert days and len(days) < len(_pages(vault))  # busy months by day, the others whole
    paged = sorted(q for p in _pages(vault) for q in _quotes(p.read_text(encoding="utf-8")))
    assert paged == _quotes((inline / PUTIN).read_text(encoding="utf-8"))
    summary = (vault / PUTIN).read_text(encoding="utf-8")
    for page in days:
        fm = frontmatter_of(page)
        day = DAY.search(page.stem).group(1)  # type: ignore[union-attr]
        assert str(fm["period"]) == day
        assert f"[[{page.stem}|{day[8:]}]]" in summary
        assert re.search(rf"^- {day[:7]} — \d+ mentions? in \d+ sources?: ", summary, re.M)
        published = re.findall(r"^### \[\[.*\]\] \((\S+)\)$", page.read_text("utf-8"), re.M)
        assert published and set(published) == {day}
        assert fm["sources"] == len(published)
        assert fm["mentions"] >= len(published)
    for key in ("mentions", "sources", "first_mentioned", "last_mentioned"):
        assert frontmatter_of(vault / PUTIN)[key] == frontmatter_of(inline / PUTIN)[key], key
    _all_links_resolve(vault)


def test_the_notes_of_a_month_by_day_and_of_a_quiet_one(days_from: int) -> None:
    """A month shown by day has a note per day, and its own for sources that give no day (no
    reader gives such a date today: a model's `published` may still be YYYY-MM)."""
    month = "actor:x@2017-03"
    assert notes_mod.notes_of_month(month, [3, 2, None, {"14": 3}]) == [month]  # below the line
    by_day = [5, 3, None, {"14": 3, "02": 2}]
    assert notes_mod.notes_of_month(month, by_day) == [f"{month}-02", f"{month}-14"]
    with_no_day = [6, 4, None, {"14": 3, "02": 2}]
    assert notes_mod.notes_of_month(month, with_no_day) == [f"{month}-02", f"{month}-14", month]
    assert notes_mod.notes_of_month("actor:x@undated", [9, 9, None, {}]) == ["actor:x@undated"]


def test_an_edit_in_a_month_shown_by_day_writes_that_day_only(
    corpus: tuple[Path, Path], days_from: int
) -> None:
    sources, vault = corpus
    _build(sources, vault)
    _settle()
    busy = {DAY.search(p.stem).group(1) for p in _by_day(vault)}  # type: ignore[union-attr]
    day, report, written = _word_edited_near_putin(sources, vault, busy.__contains__)
    assert f"Actors/Mentions/Vladimir Putin, {day}.md" in written
    assert not any(
        w.startswith("Actors/Mentions/Vladimir Putin, ") and day not in w for w in written
    )
    assert str(PUTIN) not in written  # the counts did not change
    assert report.rendered <= 1 + 2 * len(written)


def test_days_come_and_go_as_a_cold_build_would_make_them(
    corpus: tuple[Path, Path], days_from: int, tmp_path: Path
) -> None:
    """Random edits, additions, deletions, renames, title and date changes; then a source moved
    from one day of a busy month to another, and busy months emptied below the line and back."""
    sources, vault = corpus
    _build(sources, vault)
    _settle()
    random_changes(sources, vault, tmp_path)
    assert _by_day(vault)
    page = _by_day(vault)[0]
    day = DAY.search(page.stem).group(1)  # type: ignore[union-attr]
    moved = next(
        p
        for p in sorted(sources.glob("*.md"))
        if str(frontmatter_of(p).get("date")) == day and "Putin" in p.read_text()
    )
    other = f"{day[:8]}{29 if day[8:] != '29' else 30}"  # the corpus uses days 1 to 28
    moved.write_text(moved.read_text(encoding="utf-8").replace(f"date: {day}", f"date: {other}"))
    before = vault_tree(vault)
    report = _build(sources, vault)
    written = _written(before, vault_tree(vault))
    assert f"Actors/Mentions/Vladimir Putin, {other}.md" in written
    assert {a.path for a in report.plan.writes} | {
        a.path for a in report.plan.of("delete")
    } <= written | {"Map.canvas"}
    _same_as_cold(sources, vault, tmp_path)
    mentioning = [p for p in sorted(sources.glob("*.md")) if "Putin" in p.read_text()]
    for path in mentioning[::2]:  # busy months become quiet ones
        path.unlink()
        _build(sources, vault)
    _same_as_cold(sources, vault, tmp_path)
