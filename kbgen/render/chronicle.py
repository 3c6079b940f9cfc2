"""The Timeline notes: dated statements from every source, in date order, one note per month.

`Timeline.md` lists the periods with how many statements each has; each
month's note (`Timeline/Timeline 2016-12.md`; a year's, for statements dated
only by their year) lists its statements by date: the date (`~` when worked
out from the article's date), the sentence with its mentions in bold, the
source, the actors and issues the sentence links, and a link to its
paragraph. A source feeds only the periods its statements fall in, so an
edit renders those; a month's note still grows with the statements about
that month (2.4 MB for December 2016 in the benchmark's 10,000 articles).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from operator import itemgetter
from typing import NamedTuple

from kbgen.core.keys import TIMELINE
from kbgen.core.markdown import frontmatter, wikilink
from kbgen.core.model import Note
from kbgen.core.plural import counted
from kbgen.link.timeline import FOLDER
from kbgen.render.notes import SourceRef, newest_first


def render_periods(counts: Mapping[str, int], stems: Mapping[str, str]) -> Note:
    """`counts`: statements per period (YYYY-MM, or YYYY); `stems`: each period's note."""
    fields = {"type": "timeline", "kbgen_id": TIMELINE, "statements": sum(counts.values())}
    intro = (
        "Sentences in the sources that say when something happened, one note per month "
        "(and per year, for those that give only the year). "
        "A date with `~` was worked out from the article's own date (“last year”, “on Dec 14”)."
    )
    rows = [
        f"- {wikilink(stems[period], period)} — {counted(n, 'statement')}"
        for period, n in sorted(counts.items())
        if n > 0 and period in stems
    ]
    listed = "\n".join(rows) if rows else "No dated statements yet."
    body = f"{intro}\n\n## When\n\n{listed}\n"
    return Note(TIMELINE, "", "Timeline", frontmatter(fields) + "\n" + body)


def render_period(
    kbgen_id: str,
    period: str,
    stem: str,
    lines: Mapping[str, str],
    sources: Mapping[str, SourceRef],
    entities: Mapping[str, str],
) -> Note:
    """`lines` per source (`timeline.statement_line`); `entities`: key → note stem."""
    rows: list[_Row] = []
    named = set(entities.items())
    for source, text in lines.items():
        rows += _rows(text, sources[source], entities, named)
    rows.sort(key=itemgetter(0))
    fields = {"type": "timeline", "kbgen_id": kbgen_id, "period": period, "statements": len(rows)}
    body = f"[[Timeline]] · {period}\n\n" + "\n".join(r for _, r in rows) + "\n"
    return Note(kbgen_id, FOLDER, stem, frontmatter(fields) + "\n" + body)


_Row = tuple[tuple[str, tuple[int, str, str]], str]  # (sort key, the row)


class _Kept(NamedTuple):
    """A source's rows, and the entities they link (key, note stem) or name unlinked (key)."""

    linked: frozenset[tuple[str, str]]
    unlinked: frozenset[str]
    rows: list[_Row]


# Each source's rows, as last rendered: a busy month's note holds thousands of statements
# (December 2016: 5,000 from 3,050 sources at 10,000 articles, 35-48 ms to render), and
# `kbgen watch` renders it again on any save touching that month, though one source's rows
# changed (then 17-21 ms). Keyed by the source's lines and how it shows (by value); rows
# whose entities are now named otherwise, or now linked or not, are made again.
_rows_kept: dict[tuple[str, SourceRef], _Kept] = {}
_ROWS_KEPT = 50_000  # sources' rows at most; then forgotten, all at once


def _rows(
    text: str,
    ref: SourceRef,
    entities: Mapping[str, str],
    named: AbstractSet[tuple[str, str]],
) -> list[_Row]:
    """`named`: the items of `entities`, as a set."""
    kept = _rows_kept.get((text, ref))
    if kept is not None and kept.linked <= named and kept.unlinked.isdisjoint(entities):
        return kept.rows
    rows: list[_Row] = []
    keys: set[str] = set()
    for line in text.splitlines():
        when, approximate, listed, quote, block = line.split("\t", 4)
        label = f"~{when}" if approximate == "1" else when
        in_line = listed.split(",")
        keys.update(in_line)
        linked = [wikilink(entities[k]) for k in in_line if k in entities]
        where = wikilink(ref.stem, ref.title)
        tail = f" — {where}" + (f" · {', '.join(linked)}" if linked else "")
        row = f"- **{label}** {quote}{tail} {wikilink(f'{ref.stem}#^{block}', '↗')}"
        rows.append(((when, newest_first(ref)), row))
    if len(_rows_kept) >= _ROWS_KEPT:
        _rows_kept.clear()
    linked_now = frozenset((k, entities[k]) for k in keys if k in entities)
    _rows_kept[(text, ref)] = _Kept(linked_now, frozenset(keys - entities.keys()), rows)
    return rows
