"""The mention index: every mention of every entity, with its sentence and paragraph.

Actor, issue, author and home notes are all reductions of this index, so
they never need to look at an article's text again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .extract import LinkedBlock, sentence_spans
from .markdown import escape, neutralise_wikilinks
from .model import Article, Match


@dataclass(frozen=True)
class Quote:
    """One sentence that mentions an entity, ready to print, and where it is."""

    source: str
    block_id: str
    sentence: str  # Markdown, the mention in bold
    count: int  # mentions of the entity in this sentence


@dataclass
class MentionIndex:
    quotes: dict[str, list[Quote]] = field(default_factory=lambda: defaultdict(list))
    counts: Counter[str] = field(default_factory=Counter)
    sources: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    together: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, article: Article, linked: tuple[LinkedBlock, ...]) -> None:
        for lb in linked:
            if lb.block_id is None or not lb.matches:
                continue
            for entity, quote in _quotes(article.source, lb):
                self.quotes[entity].append(quote)
            keys = {m.entity for m in lb.matches}
            for m in lb.matches:
                self.counts[m.entity] += 1
                self.sources[m.entity].add(article.source)
            for key in keys:
                self.together[key].update(k for k in keys if k != key)


def _quotes(source: str, lb: LinkedBlock) -> list[tuple[str, Quote]]:
    text, markup = lb.block.text, lb.block.markup
    assert lb.block_id is not None
    out: list[tuple[str, Quote]] = []
    for start, end in sentence_spans(text):
        inside = [m for m in lb.matches if start <= m.start < end]
        for entity in dict.fromkeys(m.entity for m in inside):
            mine = [m for m in inside if m.entity == entity]
            sentence = _bold(text, start, end, mine, markup)
            out.append((entity, Quote(source, lb.block_id, sentence, len(mine))))
    return out


def _bold(text: str, start: int, end: int, matches: list[Match], markup: bool) -> str:
    plain = neutralise_wikilinks if markup else escape
    parts: list[str] = []
    pos = start
    for m in matches:
        parts.append(plain(text[pos : m.start]))
        parts.append(f"**{plain(text[m.start : min(m.end, end)])}**")
        pos = m.end
    parts.append(plain(text[pos:end]))
    return "".join(parts).strip()
