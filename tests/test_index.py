"""The mention index's contributions, and what the totals take from them."""

from __future__ import annotations

from pathlib import Path

from conftest import SEEDS
from corpus import write_corpus

from kbgen.link.catalog import load_builtin
from kbgen.link.extract import Matcher, link_article
from kbgen.link.index import Tallied, contributions, tallied
from kbgen.read.sources import parse

MATCHER = Matcher(load_builtin())


def same_tally(made: Tallied, read_back: Tallied) -> bool:
    """Rows equal as the totals add them: per note, mentions, name and counts."""
    return sorted((n, m, a, sorted(c.items())) for n, m, a, c in made) == sorted(
        (n, m, a, sorted(c.items())) for n, m, a, c in read_back
    )


def test_what_a_source_gives_the_totals_is_what_its_stored_contributions_say(
    tmp_path: Path,
) -> None:
    """The workers make the totals' rows from the values they store, not by parsing the JSON
    they just wrote (a twentieth of a worker's time): the rows must be what the JSON says,
    which is what an edit later takes away."""
    paths = [*sorted(SEEDS.iterdir()), *write_corpus(tmp_path, 150, seed=7)]
    checked = 0
    for path in paths:
        article = parse(path.name, path.read_bytes())
        given, rows = contributions(article, link_article(article, MATCHER))
        assert same_tally(rows, tallied(given)), path.name
        checked += len(rows)
    assert checked > 1000  # entities, month pages, days, timeline, candidates and authors
