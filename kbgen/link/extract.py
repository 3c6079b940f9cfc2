"""Finding mentions: one Aho–Corasick pass over each block, whatever the catalog size.

The automaton is built once per catalog over case-folded aliases; case rules
are checked only on the few candidates it reports. A regex alternation of
thousands of aliases is orders of magnitude slower (bench/peer.py compares another matcher).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import ahocorasick

from kbgen.core.markdown import block_id
from kbgen.core.model import Article, Block, Match
from kbgen.link.catalog import Catalog

# Length-preserving normalisation, applied to aliases and text alike.
_FOLD = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "–": "-", "—": "-", "‐": "-", "\u00a0": " "})
_FOLD_PAIRS = tuple((chr(k), v) for k, v in _FOLD.items())
_ACRONYM = re.compile(r"^(?:[A-Z]\.?){2,}$|^[A-Z]{2,}[a-z]?$")
_SKIP_PLAIN = re.compile(r"https?://\S+|www\.\S+")
_SKIP_MARKUP = re.compile(
    r"`[^`]*`|\[\[.*?\]\]|!?\[[^\]]*\]\([^)]*\)|<[^>]+>|https?://\S+|www\.\S+|\$[^$]+\$|%%.*?%%"
)


def fold(text: str) -> str:
    """Lowercase without changing length, so offsets map back to the original."""
    if not text.isascii():  # str.translate looks up every character; replace scans in C
        for char, plain in _FOLD_PAIRS:
            if char in text:
                text = text.replace(char, plain)
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


@dataclass(frozen=True)
class _Pattern:
    alias: str
    entity: str


def _variants(catalog: Catalog) -> list[_Pattern]:
    patterns: list[_Pattern] = []
    for entity in catalog.entities:
        names = (entity.name, *entity.aliases)
        patterns += [_Pattern(n, entity.key) for n in names]
        if entity.kind == "person":
            patterns += [
                _Pattern(f"{h} {n}", entity.key)
                for h in catalog.honorifics
                for n in names
                if not _ACRONYM.match(n)
            ]
    return patterns


def _word_ok(alias_word: str, text_word: str) -> bool:
    if _ACRONYM.match(alias_word.replace("'", "")):
        return alias_word == text_word
    if alias_word[:1].isupper():
        return text_word[:1].isupper()
    return True


@functools.lru_cache(maxsize=65536)
def case_ok(alias: str, surface: str) -> bool:
    """Capitalised alias words need capitals; acronyms match exactly; ALL-CAPS text passes.

    "US" never matches "us"; "Trump" never matches "trump card"; lowercase
    issue phrases ("arms control") match at the start of a sentence too.
    """
    alias, surface = alias.translate(_FOLD), surface.translate(_FOLD)
    a_words, s_words = alias.split(), surface.split()
    if len(a_words) != len(s_words):
        return False
    shouting = surface.isupper() and any(c.isalpha() for c in surface)
    if shouting and not all(_ACRONYM.match(w) for w in a_words):
        return True
    return all(_word_ok(a, s) for a, s in zip(a_words, s_words, strict=True))


def pattern_table(catalog: Catalog) -> dict[str, tuple[_Pattern, ...]]:
    """Per folded alias, the patterns it stands for, the first whose case fits winning."""
    table: dict[str, list[_Pattern]] = {}
    for pattern in _variants(catalog):
        table.setdefault(fold(pattern.alias), []).append(pattern)
    return {key: tuple(patterns) for key, patterns in table.items()}


class Matcher:
    """Leftmost-longest whole-word alias matching over a catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self._automaton = ahocorasick.Automaton()
        table = pattern_table(catalog)
        for key, patterns in table.items():
            self._automaton.add_word(key, (len(key), patterns))
        self._empty = not table
        if table:
            self._automaton.make_automaton()

    def find(self, text: str, markup: bool = False) -> list[Match]:
        """Every mention in `text`, non-overlapping, leftmost-longest."""
        if self._empty or not text:
            return []
        folded = fold(text)
        skip = [m.span() for m in (_SKIP_MARKUP if markup else _SKIP_PLAIN).finditer(text)]
        candidates: list[Match] = []
        size = len(text)
        for end_index, (length, patterns) in self._automaton.iter(folded):
            start, end = end_index - length + 1, end_index + 1
            before = text[start - 1] if start else " "
            after = text[end] if end < size else " "
            if before.isalnum() or before == "_" or after.isalnum() or after == "_":
                continue  # not a whole word (inlined: this runs for every raw hit)
            if skip and any(s < end and start < e for s, e in skip):
                continue
            surface = text[start:end]
            for pattern in patterns:
                if case_ok(pattern.alias, surface):
                    candidates.append(Match(start, end, pattern.entity))
                    break
        return _leftmost_longest(candidates)


def _leftmost_longest(candidates: list[Match]) -> list[Match]:
    chosen: list[Match] = []
    last_end = -1
    for m in sorted(candidates, key=lambda m: (m.start, -(m.end - m.start))):
        if m.start >= last_end:
            chosen.append(m)
            last_end = m.end
    return chosen


_ABBREVIATIONS = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Sen|Rep|Gov|Col|Lt|Sgt|Capt|St|Jr|Sr|No|Nos|Vol|vs|etc|e\.g|i\.e"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|U\.S|U\.K|U\.N|E\.U|Inc|Ltd|Co|Corp)"
    r"|\b[A-Z])\.$"
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9À-Ž])")


@functools.lru_cache(maxsize=256)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Sentence boundaries, good enough to quote a mention in context.

    Cached: the mention lines, the quotations, the timeline and the candidates
    all cut the same paragraph into sentences.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        # the longest abbreviation and its word boundary fit in the last 15 characters
        head = text[max(start, m.start() - 15) : m.start() + 1]
        if _ABBREVIATIONS.search(head.rstrip('"”’)] ')):
            continue
        spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return tuple(spans)


def spanned(matches: Sequence[Match], start: int, end: int) -> Sequence[Match]:
    """The matches that start in [start, end), found by bisection: `Matcher.find` gives them
    in order, and a paragraph of thousands of sentences must not filter them all for each."""
    lo = bisect.bisect_left(matches, start, key=_start)
    return matches[lo : bisect.bisect_left(matches, end, lo, key=_start)]


def within_each(
    matches: Sequence[Match], spans: Iterable[tuple[int, int]]
) -> Iterator[Sequence[Match]]:
    """For each of `spans` (in order, not overlapping), the matches that start inside it: one
    walk over both lists, however many sentences a paragraph has."""
    i = 0
    for start, end in spans:
        while i < len(matches) and matches[i].start < start:
            i += 1
        j = i
        while j < len(matches) and matches[j].start < end:
            j += 1
        yield matches[i:j]
        i = j


def sentence_at(spans: Sequence[tuple[int, int]], at: int) -> tuple[int, int] | None:
    """The sentence of `sentence_spans` that holds position `at`."""
    i = bisect.bisect_right(spans, at, key=_first) - 1
    return spans[i] if i >= 0 and spans[i][0] <= at < spans[i][1] else None


def _start(m: Match) -> int:
    return m.start


def _first(span: tuple[int, int]) -> int:
    return span[0]


@dataclass(frozen=True)
class LinkedBlock:
    """A block of an article with its id and the mentions found in it."""

    section: str
    block: Block
    block_id: str | None  # None for headings and code: they are not linked or cited
    matches: tuple[Match, ...]


_NOT_SEARCHED = ("heading", "code")  # kinds of block neither linked nor cited


def link_article(article: Article, matcher: Matcher) -> tuple[LinkedBlock, ...]:
    """Give every citable block a stable id and find its mentions."""
    used: set[str] = set()
    counters: dict[str, int] = {}
    out: list[LinkedBlock] = []
    for section in article.sections:
        for block in section.blocks:
            if block.kind in _NOT_SEARCHED:
                out.append(LinkedBlock(section.name, block, None, ()))
                continue
            found = tuple(matcher.find(block.text, block.markup))
            out.append(
                LinkedBlock(section.name, block, block_id(block.text, used, counters), found)
            )
    return tuple(out)


_WORD = re.compile(r"[^\W_]+")  # a run of what `Matcher.find` takes for word characters


def words_of(linked: Iterable[LinkedBlock]) -> str:
    """Every word of the blocks a matcher searches, folded, distinct, sorted, space-separated.

    An alias found at word boundaries is made of whole words of the text it is
    found in (the characters on either side of it, and between its own words,
    are not word characters), so a source lacking one of an alias's words
    cannot mention it: a catalog change relinks only the sources that have
    every word of an alias it adds, drops or gives to another entry.
    """
    found: set[str] = set()
    for lb in linked:
        if lb.block.kind not in _NOT_SEARCHED:
            found.update(_WORD.findall(fold(lb.block.text)))
    return " ".join(sorted(found))


def alias_words(folded_alias: str) -> frozenset[str]:
    """The words a source must have for `folded_alias` (a key of `pattern_table`) to match."""
    return frozenset(_WORD.findall(folded_alias))
