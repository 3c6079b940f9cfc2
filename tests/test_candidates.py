"""Candidate actors: names that look like actors but are in no catalog entry (issue 7)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
from conftest import SEEDS, frontmatter_of, run_build

from kbgen.link.candidates import find_candidates
from kbgen.link.catalog import load
from kbgen.link.extract import Matcher
from kbgen.render.promotion import promoted_in, render_candidates


@functools.cache
def _matcher() -> Matcher:
    return Matcher(load([], []))


def _found(text: str) -> list[tuple[str, str, str | None]]:
    return [(c.name, c.kind, c.alias) for c in find_candidates(text, _matcher().find(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Kremlin spokesman Oleg Volkov said on Monday that talks would continue.",
            [("Oleg Volkov", "person", None)],
        ),
        (
            "The talks were hosted by the Organization for Security and Co-operation in Europe "
            "(OSCE) in Vienna.",
            [("Organization for Security and Co-operation in Europe", "organisation", "OSCE")],
        ),
        (
            "Analysts at the Atlantic Council warned of escalation.",
            [("Atlantic Council", "organisation", None)],
        ),
        ("Mr. Navalny was detained again on Monday in the capital.", [("Navalny", "person", None)]),
        (
            "Fiona Hill, who served at the Hudson Institute, testified for hours.",
            [("Fiona Hill", "", None), ("Hudson Institute", "organisation", None)],
        ),
        (
            "Sanctions were discussed at length with Angela Merkel’s advisers in Berlin.",
            [("Angela Merkel", "", None)],
        ),
        ("A report by Jane Q. Public followed a few weeks later.", [("Jane Q. Public", "", None)]),
    ],
)
def test_names_that_look_like_actors_are_found(
    text: str, expected: list[tuple[str, str, str | None]]
) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "In January, the committee debated the bill.",  # a sentence-initial word, a month
        "On Tuesday 14 March nothing happened.",
        "However, officials disagreed.",
        "The Minister spoke briefly.",  # a title with no name
        "The meeting took place in New York and on Long Island.",  # places
        "Backfire: Obama Sanctions Allow Trump to Pursue Closer Relations with Russia.",  # headline
        "Vladimir Putin met Donald Trump and Rex Tillerson.",  # all in the catalog
        "The Western European powers and the Russian President disagreed.",  # adjectives, a title
        "THE KREMLIN SAID NOTHING.",  # shouting
        "He spoke to the National Security Advisor.",  # a role, not a name
    ],
)
def test_words_that_only_look_capitalised_are_not_candidates(text: str) -> None:
    assert _found(text) == []


def test_a_titled_name_is_found_even_when_the_catalog_knows_the_title(tmp_path: Path) -> None:
    assert _found("Foreign Minister Wang Yi visited the capital last week.") == [
        ("Wang Yi", "person", None)
    ]


ARTICLE = """\
New voices on the Russia question

By Ann Weller

Kremlin spokesman Oleg Volkov said the sanctions would not change Moscow's course.

Fiona Hill, a former adviser, argued that Vladimir Putin reads every move as a test.

Meanwhile Oleg Volkov repeated that talks with Washington were possible.
"""

SECOND = """\
Another view

By Boris Kagan

Oleg Volkov told reporters that the Kremlin saw no progress on arms control.
"""


def _vault_with_candidates(tmp_path: Path) -> tuple[Path, Path]:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    (sources / "voices.txt").write_text(ARTICLE, encoding="utf-8")
    (sources / "second.txt").write_text(SECOND, encoding="utf-8")
    vault = tmp_path / "vault"
    assert run_build(sources, vault).ok
    return sources, vault


def test_the_candidates_note_ranks_names_by_sources_with_their_sentences(tmp_path: Path) -> None:
    _, vault = _vault_with_candidates(tmp_path)
    note = vault / "Candidates.md"
    text = note.read_text(encoding="utf-8")
    assert frontmatter_of(note)["type"] == "candidates"
    peskov, hill = text.index("**Oleg Volkov**"), text.index("**Fiona Hill**")
    assert peskov < hill  # two sources before one
    assert "- [ ] **Oleg Volkov** — person · 2 sources" in text
    assert "said the sanctions would not change" in text
    assert "[[New voices on the Russia question#^" in text  # each sentence links its paragraph


def _edit(note: Path, old: str, new: str) -> None:
    """What the user does in Obsidian: one click on a checkbox."""
    text = note.read_text(encoding="utf-8")
    assert old in text
    note.write_text(text.replace(old, new), encoding="utf-8")


def test_ticking_a_candidate_makes_it_an_actor_linked_everywhere(tmp_path: Path) -> None:
    sources, vault = _vault_with_candidates(tmp_path)
    note = vault / "Candidates.md"
    _edit(note, "- [ ] **Oleg Volkov**", "- [x] **Oleg Volkov**")
    report = run_build(sources, vault)
    assert report.ok
    assert not report.plan.of("conflict")
    actor = vault / "Actors" / "Oleg Volkov.md"
    assert frontmatter_of(actor)["type"] == "actor"
    assert frontmatter_of(actor)["sources"] == 2
    voices = (vault / "Sources" / "New voices on the Russia question.md").read_text("utf-8")
    assert "[[Oleg Volkov]] said the" in voices
    candidates = note.read_text(encoding="utf-8")
    assert "- [ ] **Oleg Volkov**" not in candidates
    assert "- [x] [[Oleg Volkov]]" in candidates  # listed as promoted; untick to undo
    again = run_build(sources, vault)
    assert not again.plan.writes  # the promotion holds, and nothing is rewritten


def test_unticking_a_promoted_actor_makes_it_a_candidate_again(tmp_path: Path) -> None:
    sources, vault = _vault_with_candidates(tmp_path)
    note = vault / "Candidates.md"
    _edit(note, "- [ ] **Fiona Hill**", "- [x] **Fiona Hill**")
    run_build(sources, vault)
    assert (vault / "Actors" / "Fiona Hill.md").exists()
    _edit(note, "- [x] [[Fiona Hill]]", "- [ ] [[Fiona Hill]]")
    report = run_build(sources, vault)
    assert not report.plan.of("conflict")
    assert not (vault / "Actors" / "Fiona Hill.md").exists()
    assert "- [ ] **Fiona Hill**" in note.read_text("utf-8")


def test_promotions_are_read_back_from_the_note_when_the_state_is_lost(tmp_path: Path) -> None:
    sources, vault = _vault_with_candidates(tmp_path)
    note = vault / "Candidates.md"
    _edit(note, "- [ ] **Oleg Volkov**", "- [x] **Oleg Volkov**")
    run_build(sources, vault)
    shutil.rmtree(vault / ".kbgen")
    run_build(sources, vault)
    run_build(sources, vault)
    assert frontmatter_of(vault / "Actors" / "Oleg Volkov.md")["sources"] == 2


def test_ticks_are_read_from_the_promoted_and_candidate_lists_only() -> None:
    text = (
        "---\ntype: candidates\n---\n\n## Candidates\n\n- [x] **Oleg Volkov** — person · 2 sources\n"
        "  - a sentence [[S#^p1|↗]]\n- [ ] **Fiona Hill** — name · 1 source\n\n"
        "## Promoted\n\n- [x] [[Wang Yi]]\n- [ ] [[Navalny]]\n\nMy own list:\n- [x] **Not A Candidate**\n"
    )
    ticked, unticked = promoted_in(text)
    assert ticked == {"Oleg Volkov", "Wang Yi"}
    assert unticked == {"Navalny"}


def test_the_rendering_is_deterministic_and_empty_without_candidates() -> None:
    assert "No candidates" in render_candidates({}, {}, {}, [], {}).text
