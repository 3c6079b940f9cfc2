"""The mention index: every mention of every entity, with its sentence and paragraph.

Actor, issue, author and home notes are all reductions of this index, so
they never need to look at an article's text again. The index is the sum of
one `Contribution` per (source, note): what that source gives that note.
Contributions are kept in the state database, so when one article changes
only its own contributions are recomputed, and only the notes whose
contributions changed are rendered again (issue 5: work proportional to the
change).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .catalog import author_id
from .extract import LinkedBlock, sentence_spans
from .markdown import escape, neutralise_wikilinks
from .model import Article, Match

SOURCE_NOTE = "\x00"  # in a quote line, stands for the source note's name (never in text)


@dataclass(frozen=True)
class Contribution:
    """What one source gives one actor, issue or author note, as canonical JSON.

    Two contributions are equal exactly when their JSON is: that is how a
    build tells whether a note must be rendered again.
    """

    note: str  # kbgen_id of the note it feeds
    mentions: int
    data: bytes  # UTF-8 JSON: {"lines": quote lines, "t": {key: paragraphs}} or author info

    @property
    def values(self) -> dict[str, Any]:
        """The data parsed; not kept (a cold build holds hundreds of thousands of these)."""
        loaded: dict[str, Any] = json.loads(self.data)
        return loaded

    @classmethod
    def of(cls, note: str, mentions: int, values: dict[str, Any]) -> Contribution:
        return cls(note, mentions, _json(values).encode("utf-8"))


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def contributions(article: Article, linked: tuple[LinkedBlock, ...]) -> dict[str, Contribution]:
    """Everything one source gives the reduced notes, by the kbgen_id of the note."""
    quotes: dict[str, list[str]] = defaultdict(list)
    counts: Counter[str] = Counter()
    together: dict[str, Counter[str]] = defaultdict(Counter)
    for lb in linked:
        if lb.block_id is None or not lb.matches:
            continue
        for entity, sentence in _quotes(lb):
            quotes[entity].append(f"- {sentence} [[{SOURCE_NOTE}#^{lb.block_id}|↗]]")
        keys = {m.entity for m in lb.matches}
        counts.update(m.entity for m in lb.matches)
        for key in keys:
            together[key].update(k for k in keys if k != key)
    out = {
        key: Contribution.of(
            key, counts[key], {"lines": "\n".join(quotes[key]), "t": dict(together[key])}
        )
        for key in sorted(counts)
    }
    affiliations: dict[str, list[str]] = defaultdict(list)
    for name, aff in article.meta.affiliations:
        affiliations[name].append(aff)
    for name in article.meta.authors:
        note = author_id(name)
        out[note] = Contribution.of(note, 0, {"name": name, "aff": affiliations[name]})
    return out


@dataclass
class MentionIndex:
    """Per entity: quote lines by source (see `SOURCE_NOTE`), mentions, sources, neighbours."""

    lines: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    counts: Counter[str] = field(default_factory=Counter)
    sources: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    together: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, source: str, contribution: Contribution) -> None:
        key = contribution.note
        values = contribution.values
        if values.get("lines"):
            self.lines[key][source] = values["lines"]
        self.counts[key] += contribution.mentions
        self.sources[key].add(source)
        self.together[key].update(values.get("t", {}))

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, Contribution]]) -> MentionIndex:
        index = cls()
        for source, contribution in pairs:
            index.add(source, contribution)
        return index


def _quotes(lb: LinkedBlock) -> list[tuple[str, str]]:
    """(entity, the sentence with its mentions in bold) for each sentence that mentions one."""
    text, markup = lb.block.text, lb.block.markup
    out: list[tuple[str, str]] = []
    for start, end in sentence_spans(text):
        inside = [m for m in lb.matches if start <= m.start < end]
        for entity in dict.fromkeys(m.entity for m in inside):
            mine = [m for m in inside if m.entity == entity]
            out.append((entity, _bold(text, start, end, mine, markup)))
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
