"""Matching: the traps a naive linker falls into."""

from __future__ import annotations

import pytest

from kbgen.link.catalog import Catalog, load_builtin, parse_catalog
from kbgen.link.extract import Matcher, sentence_spans

TEST_CATALOG = """
honorifics: [Mr., Gen., President]
actors:
  - {name: Donald Trump, kind: person, aliases: [Trump]}
  - {name: Vladimir Putin, kind: person, aliases: [Putin]}
  - {name: Barack Obama, kind: person, aliases: [Obama]}
  - {name: United States, kind: state, aliases: [US, U.S.]}
  - {name: Washington, kind: place, aliases: []}
  - {name: Washington Post, kind: organisation, aliases: []}
  - {name: Republican Party, kind: organisation, aliases: [Republican, Republicans]}
  - {name: NATO, kind: organisation, aliases: []}
issues:
  - {name: Sanctions, aliases: [sanctions, economic sanctions]}
  - {name: NATO expansion, aliases: [NATO expansion, NATO's eastward expansion]}
"""


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(parse_catalog(TEST_CATALOG, "test"))


def found(matcher: Matcher, text: str, markup: bool = False) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.entity) for m in matcher.find(text, markup)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Washington Post reported it.", [("Washington Post", "actor:washington-post")]),
        ("She flew to Washington.", [("Washington", "actor:washington")]),
        ("the Republic of Tatarstan", []),
        ("Republicans in Congress", [("Republicans", "actor:republican-party")]),
        ("Let us talk about us.", []),
        (
            "The US and the U.S. agree.",
            [("US", "actor:united-states"), ("U.S.", "actor:united-states")],
        ),
        (
            "Trump's and Trump’s plans",
            [("Trump", "actor:donald-trump"), ("Trump", "actor:donald-trump")],
        ),
        ("DONALD TRUMP'S surprise victory", [("DONALD TRUMP", "actor:donald-trump")]),
        ("He played his trump card.", []),
        ("Obamacare was repealed.", []),
        (
            "Mr. Putin and Gen. Trump met.",
            [("Mr. Putin", "actor:vladimir-putin"), ("Gen. Trump", "actor:donald-trump")],
        ),
        ("Economic sanctions bite.", [("Economic sanctions", "issue:sanctions")]),
        (
            "NATO’s eastward expansion worries Moscow",
            [("NATO’s eastward expansion", "issue:nato-expansion")],
        ),
        ("US-Russia relations", [("US", "actor:united-states")]),
        ("See https://example.org/Trump/US for more", []),
    ],
)
def test_matching(matcher: Matcher, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(matcher, text) == expected


def test_nothing_is_linked_inside_code_links_or_urls(matcher: Matcher) -> None:
    text = "`Trump` and [Putin](https://x.org) and [[Obama notes]] but Trump here"
    assert found(matcher, text, markup=True) == [("Trump", "actor:donald-trump")]


def test_shipped_catalog_is_large_enough_and_consistent() -> None:
    catalog: Catalog = load_builtin()
    actors = [e for e in catalog.entities if e.type == "actor"]
    issues = [e for e in catalog.entities if e.type == "issue"]
    assert len(actors) >= 60 and len(issues) >= 12
    assert all(e.description and (e.kind or e.type == "issue") for e in catalog.entities)
    from kbgen.link.catalog import check_aliases

    check_aliases(catalog)  # no alias belongs to two entries


def test_two_entries_sharing_an_alias_is_an_error() -> None:
    from kbgen.core.errors import KbgenError
    from kbgen.link.catalog import check_aliases

    catalog = parse_catalog(
        "actors:\n  - {name: A, aliases: [X]}\n  - {name: B, aliases: [X]}\n", "t"
    )
    with pytest.raises(KbgenError, match="'X' belongs to both"):
        check_aliases(catalog)


def test_sentences_do_not_break_at_honorifics() -> None:
    text = "Mr. Trump met Gen. Flynn in the U.S. capital. Then he left. “Why?” he asked."
    spans = [text[a:b].strip() for a, b in sentence_spans(text)]
    assert spans == [
        "Mr. Trump met Gen. Flynn in the U.S. capital.",
        "Then he left.",
        "“Why?” he asked.",
    ]


def test_block_ids_of_a_paragraph_repeated_thousands_of_times_cost_linear_time() -> None:
    """A source repeating one paragraph n times must not cost n² lookups (hostile input)."""
    from kbgen.core.model import Article, Block, Metadata, Section
    from kbgen.link.extract import link_article

    class CountingSet(set[str]):
        lookups = 0

        def __contains__(self, item: object) -> bool:
            CountingSet.lookups += 1
            return super().__contains__(item)

    n = 3000
    blocks = tuple(Block("para", "The same paragraph, again and again.") for _ in range(n))
    article = Article("x.txt", "0" * 64, Metadata(), (Section("body", blocks),))
    ids = [lb.block_id for lb in link_article(article, Matcher(load_builtin()))]
    assert len(set(ids)) == n
    from kbgen.core.names import numbered

    used = CountingSet()
    counters: dict[str, int] = {}
    for _ in range(n):
        numbered("p000000", used, counters)
    assert CountingSet.lookups <= 2 * n
