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

from .markdown import frontmatter, wikilink
from .model import Note
from .notes import SourceRef, newest_first
from .timeline import FOLDER, TIMELINE


def render_periods(counts: Mapping[str, int], stems: Mapping[str, str]) -> Note:
    """`counts`: statements per period (YYYY-MM, or YYYY); `stems`: each period's note."""
    fields = {"type": "timeline", "kbgen_id": TIMELINE, "statements": sum(counts.values())}
    intro = (
        "Sentences in the sources that say when something happened, one note per month "
        "(and per year, for those that give only the year). "
        "A date with `~` was worked out from the article's own date (“last year”, “on Dec 14”)."
    )
    rows = [
        f"- {wikilink(stems[period], period)} — {n} statement{'s' if n != 1 else ''}"
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
    rows = []
    for source, text in lines.items():
        ref = sources[source]
        for line in text.splitlines():
            when, approximate, keys, quote, block = line.split("\t", 4)
            label = f"~{when}" if approximate == "1" else when
            linked = [wikilink(entities[k]) for k in keys.split(",") if k in entities]
            where = wikilink(ref.stem, ref.title)
            tail = f" — {where}" + (f" · {', '.join(linked)}" if linked else "")
            row = f"- **{label}** {quote}{tail} {wikilink(f'{ref.stem}#^{block}', '↗')}"
            rows.append(((when, newest_first(ref)), row))
    rows.sort(key=lambda r: r[0])
    fields = {"type": "timeline", "kbgen_id": kbgen_id, "period": period, "statements": len(rows)}
    body = f"[[Timeline]] · {period}\n\n" + "\n".join(r for _, r in rows) + "\n"
    return Note(kbgen_id, FOLDER, stem, frontmatter(fields) + "\n" + body)
