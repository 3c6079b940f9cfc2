"""The mention index: every mention of every entity, with its sentence and paragraph.

Actor, issue, author and home notes are all reductions of this index, so
they never need to look at an article's text again. The index is the sum of
one `Contribution` per (source, note): what that source gives that note.
Contributions are kept in the state database, so when one article changes
only its own contributions are recomputed, and only the notes whose
contributions changed are rendered again (issue 5: work proportional to the
change).

A source gives an actor or issue two contributions: its counts and
co-mentions to the entity's note (`actor:x`), and its quote lines to the
entity's page for the month the source was published (`actor:x@2017-03`,
`actor:x@undated`). An entity named in few sources shows its pages' lines
inline; one named in many gets one note per month, so that an edit renders
that month's page and a short summary, not every quote in the vault. A
month page's contribution also says the day of the month the source was
published, so that the totals count each month's mentions by day: a month
with very many mentions is shown as one note per day (`notes.by_day`),
made from the same contributions.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from kbgen.core.keys import CANDIDATES, TIMELINE, Totals, page_id, page_period, period_page
from kbgen.core.markdown import plain_text
from kbgen.core.model import Article, Contribution, Match
from kbgen.link.candidates import find_candidates, line_of
from kbgen.link.catalog import author_id
from kbgen.link.extract import LinkedBlock, sentence_at, sentence_spans, within_each
from kbgen.link.quotes import find_quotes
from kbgen.link.timeline import find_dated, statement_line

NO_DATA = b"{}"  # a contribution whose lines and counts say it all (no day to tell, no names)
SOURCE_REF = "\x01"  # in a quotation's line, stands for the source's title, linked, and date
SOURCE_NOTE = "\x00"  # in a quote line, stands for the source note's name (never in text)


# made once: `json.dumps` with options makes an encoder at every call, 54 calls an article
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _json(value: object) -> bytes:
    return _ENCODER.encode(value).encode()


def contributions(
    article: Article, linked: tuple[LinkedBlock, ...]
) -> tuple[dict[str, Contribution], Tallied]:
    """Everything one source gives the reduced notes, by the kbgen_id of the note; and what
    the totals take from it (as `tallied` would read it back), made from the same values
    rather than by parsing the JSON just written: that was a twentieth of a worker's time."""
    quotes: dict[str, list[str]] = defaultdict(list)
    said: dict[str, list[str]] = defaultdict(list)
    counts: Counter[str] = Counter()
    together: dict[str, Counter[str]] = defaultdict(Counter)
    for lb in linked:
        if lb.block_id is None or not lb.matches:
            continue
        for entity, sentence in _quotes(lb):
            quotes[entity].append(f"- {sentence} [[{SOURCE_NOTE}#^{lb.block_id}|↗]]")
        for q in find_quotes(lb.block.text, lb.matches):
            link = f"[[{SOURCE_NOTE}#^{lb.block_id}|↗]]"
            quote = plain_text(q.text, lb.block.markup, line_start=False)
            said[q.speaker].append(f"- “{quote}” — {SOURCE_REF} {link}")
        keys = {m.entity for m in lb.matches}
        counts.update(m.entity for m in lb.matches)
        for key in keys:
            together[key].update(k for k in keys if k != key)
    period = period_of(article.meta.published)
    day = day_of(article.meta.published)
    out = _Given()
    for key in sorted(counts):
        out.add(key, counts[key], "\n".join(said[key]), {"t": together[key]})
        on_day = {"t": {day: counts[key]}} if day else None
        out.add(page_id(key, period), counts[key], "\n".join(quotes[key]), on_day)
    _timeline(article, linked, out)
    seen = _candidate_lines(article, linked)
    if seen:
        names = {line.split("\t", 1)[0] for line in seen}
        out.add(CANDIDATES, len(seen), "\n".join(seen), {"t": dict.fromkeys(sorted(names), 1)})
    affiliations: dict[str, list[str]] = defaultdict(list)
    for name, aff in article.meta.affiliations:
        affiliations[name].append(aff)
    for name in article.meta.authors:
        out.add(author_id(name), 0, "", {"name": name, "aff": affiliations[name]})
    return out.given, out.tallied


class _Given:
    """A source's contributions as they are made, each with its row of the totals."""

    def __init__(self) -> None:
        self.given: dict[str, Contribution] = {}
        self.tallied: Tallied = []

    def add(self, note: str, mentions: int, lines: str, values: dict[str, Any] | None) -> None:
        """`values` None: a contribution whose lines and counts say it all (`NO_DATA`)."""
        data = NO_DATA if values is None else _json(values)
        self.given[note] = Contribution(note, mentions, lines, data)  # no two share an id
        self.tallied.append(_tally_row(note, mentions, values or {}))


def period_of(published: str | None) -> str:
    """The month of a date (its year, when that is all it says), or "undated": the month page a
    source's mentions go to, the Timeline note a statement goes to."""
    return published[:7] if published else "undated"


def day_of(published: str | None) -> str | None:
    """The day of the month of a full date ("14" for 2017-03-14); None for a month, a year or
    no date: such a source has no day note in a month shown day by day."""
    return published[8:10] if published and len(published) == 10 else None


# Per note a source feeds: its mentions, the author's name (None for entities), and the
# per-name counts its data carries (paragraphs shared with each entity, years, candidates).
TallyRow = tuple[str, int, str | None, dict[str, int]]
Tallied = list[TallyRow]


def tallied(given: Mapping[str, Contribution]) -> Tallied:
    """What the totals take from a source's stored contributions (those an edit takes away).
    The sources a build parses have theirs made by the workers, from the values themselves
    (`contributions`): parsing the JSON of 290,000 contributions took a cold build's main
    process 18 s of CPU while the workers waited for it."""
    return [
        _tally_row(note, c.mentions, c.values if c.data != NO_DATA else {})
        for note, c in given.items()
    ]


def _tally_row(note: str, mentions: int, values: Mapping[str, Any]) -> TallyRow:
    """A contribution's row of the totals, from its data's values."""
    return (note, mentions, values.get("name"), dict(values.get("t", {})))


class Tally:
    """The totals with the old contributions of some sources replaced by their new ones.

    Only the changed sources are looked at, so an edit costs its own size; one source at a
    time, in any order (they are sums).

    A build adds each parsed source as it arrives, while the workers parse the next ones:
    a cold build spends no time of its own on it afterwards.
    """

    def __init__(self, before: Totals) -> None:
        self._totals = {k: [v[0], v[1], v[2], dict(v[3])] for k, v in before.items()}

    def add(self, rows: Tallied, sign: int = 1) -> None:
        """One source's contributions (as `tallied` reads them) added (`sign` 1) or taken
        away (-1)."""
        totals = self._totals
        for note, mentions, name, counts in rows:
            entry = totals.setdefault(note, [0, 0, name, {}])
            entry[0] += sign * mentions
            entry[1] += sign
            shared = entry[3]
            for key, n in counts.items():
                shared[key] = shared.get(key, 0) + sign * n
                if not shared[key]:
                    del shared[key]

    def totals(self) -> Totals:
        return {k: v for k, v in sorted(self._totals.items()) if v[1] > 0}


def _timeline(article: Article, linked: tuple[LinkedBlock, ...], out: _Given) -> None:
    """Each dated sentence of the body that links an actor or issue, for its period's note."""
    if article.meta.language not in (None, "en"):
        return
    periods: dict[str, list[str]] = defaultdict(list)
    for lb in linked:
        if lb.block_id is None or lb.section != "body" or not lb.matches:
            continue
        text = lb.block.text
        found = find_dated(text, sentence_spans(text), article.meta.published)
        spans = ((dated.start, dated.end) for dated in found)
        for dated, inside in zip(found, within_each(lb.matches, spans), strict=True):
            if not inside:
                continue
            keys = list(dict.fromkeys(m.entity for m in inside))
            quote = _bold(text, dated.start, dated.end, inside, lb.block.markup)
            line = statement_line(dated, keys, quote, lb.block_id)
            periods[period_page(period_of(dated.when))].append(line)
    counts: dict[str, int] = {}
    for page, lines in sorted(periods.items()):
        out.add(page, len(lines), "\n".join(lines), None)
        counts[page_period(page)] = len(lines)
    if counts:
        out.add(TIMELINE, sum(counts.values()), "", {"t": counts})


def _candidate_lines(article: Article, linked: tuple[LinkedBlock, ...]) -> list[str]:
    """Each name in the body that looks like an actor the catalog lacks, with its sentence.

    English only: other languages capitalise what English does not (German
    nouns), and the shapes looked for are English ones.
    """
    if article.meta.language not in (None, "en"):
        return []
    known = frozenset(article.meta.authors)
    out = []
    for lb in linked:
        if lb.block_id is None or lb.section != "body":
            continue
        text = lb.block.text
        found = find_candidates(text, lb.matches, known)
        if not found:
            continue
        spans = sentence_spans(text)
        for c in found:
            start, end = sentence_at(spans, c.start) or (0, len(text))
            quote = _bold(text, start, end, [Match(c.start, c.end, "")], lb.block.markup)
            out.append(line_of(c, f"- {quote} [[{SOURCE_NOTE}#^{lb.block_id}|↗]]"))
    return out


def _quotes(lb: LinkedBlock) -> list[tuple[str, str]]:
    """(entity, the sentence with its mentions in bold) for each sentence that mentions one."""
    text, markup = lb.block.text, lb.block.markup
    out: list[tuple[str, str]] = []
    spans = sentence_spans(text)
    for (start, end), inside in zip(spans, within_each(lb.matches, spans), strict=True):
        for entity in dict.fromkeys(m.entity for m in inside):
            mine = [m for m in inside if m.entity == entity]
            out.append((entity, _bold(text, start, end, mine, markup)))
    return out


def _bold(text: str, start: int, end: int, matches: Sequence[Match], markup: bool) -> str:
    """The sentence from `start` to `end` with `matches` in bold, for a list item: only its
    first piece can begin the item's text."""
    parts: list[str] = []
    pos = start
    for m in matches:
        parts.append(plain_text(text[pos : m.start], markup, line_start=pos == start))
        parts.append(f"**{plain_text(text[m.start : min(m.end, end)], markup, False)}**")
        pos = m.end
    parts.append(plain_text(text[pos:end], markup, line_start=pos == start))
    return "".join(parts).strip()
