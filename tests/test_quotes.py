"""Quotations attributed to the actor who said them, and only then (issue 7)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
from conftest import SEEDS, run_build

from kbgen.link.catalog import load
from kbgen.link.extract import Matcher
from kbgen.link.quotes import find_quotes


@functools.cache
def _matcher() -> Matcher:
    return Matcher(load([], []))


def _said(text: str) -> list[tuple[str, str]]:
    return [(q.speaker, q.text) for q in find_quotes(text, _matcher().find(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "“We will not expel anyone from the country,” Peskov said on Friday.",
            [("actor:dmitry-peskov", "We will not expel anyone from the country,")],
        ),
        (
            "“We will not expel anyone from the country,” said Peskov.",
            [("actor:dmitry-peskov", "We will not expel anyone from the country,")],
        ),
        (
            "Trump explained: “I don’t like Assad at all, but Assad is killing ISIS.”",
            [("actor:donald-trump", "I don’t like Assad at all, but Assad is killing ISIS.")],
        ),
        (
            "Putin has since responded that Russia will not expel any US diplomats, stating, "
            "“We will make further steps to help resurrect relations.”",
            [("actor:vladimir-putin", "We will make further steps to help resurrect relations.")],
        ),
        (
            "The press secretary, Dmitry Peskov, said on Dec 14, “It’s absolutely illogical to make "
            "any forecasts.”",
            [("actor:dmitry-peskov", "It’s absolutely illogical to make any forecasts.")],
        ),
        (
            'According to Lavrov, "the door to dialogue remains open for now."',
            [("actor:sergey-lavrov", "the door to dialogue remains open for now.")],
        ),
    ],
)
def test_quotations_are_attributed_to_the_actor_who_said_them(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert _said(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "He said: “We will make further steps to help resurrect relations.”",  # a pronoun
        "Relations, which Peskov described as “frozen”, did not thaw.",  # a scare quote
        "Trump’s campaign promised “a new era of cooperation with Moscow” in vain.",  # no verb
        "An article by the institute said, “Some say the biggest challenge is China.”",  # unknown
        "“We will not expel anyone from the country,” the officials said.",  # nobody known
        "Putin met Trump. Later, a reporter wrote: “Nothing was agreed at all today.”",
        "Asked about the threat from North Korea, he responded that “China controls North Korea.”",
    ],
)
def test_quotations_without_a_known_speaker_are_not_attributed(text: str) -> None:
    assert _said(text) == []


def test_an_actor_note_collects_its_quotes_with_links_to_their_paragraphs(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    assert run_build(SEEDS, vault).ok
    peskov = (vault / "Actors" / "Dmitry Peskov.md").read_text(encoding="utf-8")
    quotes = peskov[peskov.index("## Quotes") :]
    assert "It’s absolutely illogical to make any forecasts" in quotes
    assert "President Putin has never had any contact with Trump" in quotes
    assert "[[What’s Next for US-Russia Relations#^" in quotes
    putin = (vault / "Actors" / "Vladimir Putin.md").read_text(encoding="utf-8")
    assert "We will make further steps to help resurrect" in putin[putin.index("## Quotes") :]


def test_a_paged_actor_keeps_its_quotes_in_its_own_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbgen.render import notes

    monkeypatch.setattr(notes, "PAGED_FROM", 2)
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    vault = tmp_path / "vault"
    assert run_build(sources, vault).ok
    putin = (vault / "Actors" / "Vladimir Putin.md").read_text(encoding="utf-8")
    assert "one note per month" in putin
    assert "We will make further steps to help resurrect" in putin
