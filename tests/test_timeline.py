"""Dated statements and the Timeline notes (issue 7)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SEEDS, frontmatter_of, run_build

from kbgen.link.extract import sentence_spans
from kbgen.link.timeline import find_dated
from kbgen.render import chronicle
from kbgen.render.notes import SourceRef


def _when(text: str, published: str | None = "2017-01-16") -> list[str]:
    return [d.label for d in find_dated(text, sentence_spans(text), published)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On December 29, 2016, Obama expelled 35 diplomats.", ["2016-12-29"]),
        ("The talks of 29 December 2016 failed.", ["2016-12-29"]),
        ("Sanctions followed in Dec. 29, 2016 and again later.", ["2016-12-29"]),
        ("In September 2016 the agreement collapsed.", ["2016-09"]),
        ("Russia has annexed Crimea since 2014.", ["2014"]),
        ("On Dec 14, Peskov said nothing.", ["~2016-12-14"]),  # after the article's day: last year
        ("On Jan 10, Peskov said nothing.", ["~2017-01-10"]),
        ("The deal of September last year collapsed.", ["~2016-09"]),
        ("Growth slowed last year.", ["~2016"]),
        ("Trade rose last month.", ["~2016-12"]),
        ("In March 2016 Putin spoke, and on May 5 he replied.", ["2016-03"]),  # the first only
        ("Talks stopped on February 30, 2016 or so.", []),  # no such day
    ],
)
def test_dates_are_read_and_resolved_against_the_article(text: str, expected: list[str]) -> None:
    assert _when(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "On Dec 14, Peskov said nothing.",
        "The deal of September last year collapsed.",
        "Growth slowed last year.",
    ],
)
def test_relative_dates_are_left_alone_when_the_article_has_no_date(text: str) -> None:
    assert _when(text, published=None) == []


@pytest.mark.parametrize(
    "text",
    [
        "Trump may also become a partner.",  # "may" is not May
        "Russia has 1800 nuclear warheads.",
        "The 2016 campaign was long.",  # a year as an adjective, no "in" or "since"
        "Between 2014-2016 relations soured.",
        "He visited Mar-a-Lago twice.",
    ],
)
def test_words_that_are_not_dates(text: str) -> None:
    assert _when(text) == []


def test_the_timeline_lists_months_and_each_month_its_statements_in_order(
    tmp_path: Path,
) -> None:
    vault = tmp_path / "vault"
    assert run_build(SEEDS, vault).ok
    summary = (vault / "Timeline.md").read_text(encoding="utf-8")
    assert "- [[Timeline 2014|2014]] — 1 statement\n" in summary  # "since 2014": the year only
    assert "- [[Timeline 2016-12|2016-12]] — 6 statements" in summary
    year = vault / "Timeline" / "Timeline 2016-12.md"
    assert frontmatter_of(year)["statements"] == 6
    rows = [
        line for line in year.read_text(encoding="utf-8").splitlines() if line.startswith("- **")
    ]
    dates = [row[4:].split("**")[0].lstrip("~") for row in rows]
    assert dates == sorted(dates)
    peskov = next(row for row in rows if "on Dec 14" in row)
    assert peskov.startswith("- **~2016-12-14** ")  # the article is of 2017-01-16
    assert "[[Dmitry Peskov]]" in peskov and "#^p" in peskov


def test_an_edit_rewrites_only_the_months_it_touches(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    vault = tmp_path / "vault"
    run_build(sources, vault)
    path = sources / "001_9de591f704b0e99d.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("on Dec 21, Peskov", "on Dec 22, Peskov"), encoding="utf-8")
    report = run_build(sources, vault)
    written = {a.path for a in report.plan.writes}
    assert "Timeline/Timeline 2016-12.md" in written
    assert (
        not {"Timeline/Timeline 2016-11.md", "Timeline/Timeline 2014.md", "Timeline.md"} & written
    )


def test_a_month_renders_what_it_rendered_afresh_whatever_it_rendered_before() -> None:
    """`render_period` remembers each source's rows (`kbgen watch` renders the same big months
    again on many saves): a new note name for an entity or a source, a new title or date, new
    lines, are all shown as a first rendering would show them."""
    line_a = "2016-12\t0\tactor:russia,issue:sanctions\tIn December 2016 **Russia** …\tp1a2b3c"
    line_b = "2016-12-14\t1\tactor:russia\tOn Dec 14 **Russia** …\tp4d5e6f"
    refs = {
        "a.md": SourceRef("A", "A", "2017-01-02", None),
        "b.md": SourceRef("B", "B", "2017-01-03", None),
    }
    stems = {"actor:russia": "Russia", "issue:sanctions": "Sanctions against Russia"}
    lines = {"a.md": line_a, "b.md": f"{line_b}\n{line_a}"}

    def rendered(lines: dict[str, str], refs: dict[str, SourceRef], stems: dict[str, str]) -> str:
        return chronicle.render_period("timeline@2016-12", "2016-12", "T", lines, refs, stems).text

    first = rendered(lines, refs, stems)
    assert rendered(lines, refs, stems) == first
    assert rendered(lines, refs, {**stems, "actor:usa": "United States"}) == first
    for changed in (
        (lines, refs, {**stems, "actor:russia": "Russia (country)"}),
        (lines, refs, {"actor:russia": "Russia"}),  # an entity gone from the catalog
        (lines, {**refs, "a.md": SourceRef("A (2)", "A", "2017-01-02", None)}, stems),
        (lines, {**refs, "a.md": SourceRef("A", "A", "2017-01-04", None)}, stems),
        ({**lines, "a.md": line_b}, refs, stems),
    ):
        chronicle._rows_kept.clear()
        afresh = rendered(*changed)
        assert rendered(lines, refs, stems) == first
        assert rendered(*changed) == afresh != first
