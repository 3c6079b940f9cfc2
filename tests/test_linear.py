"""Every stage of reading one source is linear in its size.

Transcripts and PDF exports put thousands of sentences in one paragraph. Each stage that
walks a paragraph's sentences must not walk all of its mentions (or quotations, or the text
after a quotation) again for each one. The test counts that work rather than timing it: it
makes `sentence_spans` and the mention lists of a paragraph count how often they are read
element by element, for a paragraph of N and of 4 N sentences, and the count must grow
about 4 times, not 16.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import kbgen.link.extract
from kbgen.link.catalog import load_builtin
from kbgen.link.extract import Matcher, link_article
from kbgen.link.index import contributions
from kbgen.read.sources import parse
from kbgen.render.source import prepare_source

_SENTENCE = (
    'Putin told Trump on 3 March 2017 that sanctions would stay, and "we will not give up '
    'Crimea for relief," Peskov said of sentence {i}. '
)


class _Counted(tuple):  # type: ignore[type-arg]
    """A tuple that counts the elements read through it."""

    reads = 0

    def __iter__(self) -> Iterator[Any]:
        for item in super().__iter__():
            _Counted.reads += 1
            yield item

    def __getitem__(self, index: Any) -> Any:
        got = super().__getitem__(index)
        _Counted.reads += len(got) if isinstance(index, slice) else 1
        return got


def _work(n: int, matcher: Matcher, monkeypatch: pytest.MonkeyPatch) -> int:
    text = "A long transcript\n\n" + "".join(_SENTENCE.format(i=i) for i in range(n)) + "\n"
    article = parse("long.txt", text.encode("utf-8"))
    spans = kbgen.link.extract.sentence_spans
    monkeypatch.setattr(kbgen.link.extract, "sentence_spans", lambda t: _Counted(spans(t)))
    for module in ("kbgen.link.index", "kbgen.link.quotes"):
        monkeypatch.setattr(f"{module}.sentence_spans", kbgen.link.extract.sentence_spans)
    linked = link_article(article, matcher)
    linked = tuple(
        type(lb)(lb.section, lb.block, lb.block_id, _Counted(lb.matches)) for lb in linked
    )
    _Counted.reads = 0
    contributions(article, linked)
    prepare_source(article, linked)
    return _Counted.reads


def test_one_long_paragraph_costs_work_linear_in_its_sentences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    matcher = Matcher(load_builtin())
    small, large = _work(400, matcher, monkeypatch), _work(1600, matcher, monkeypatch)
    assert small > 0
    assert large / small < 6, (small, large)  # linear: 4; quadratic: 16
