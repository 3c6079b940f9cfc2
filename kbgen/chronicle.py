"""The Timeline notes: dated statements from every source, in date order, one note per year.

`Timeline.md` lists the years with how many statements each has; each year's
note (`Timeline/Timeline 2016.md`) lists its statements by date: the date
(`~` when worked out from the article's date), the sentence with its
mentions in bold, the source, the actors and issues the sentence links, and
a link to its paragraph. A source feeds the year notes its statements fall
in, so an edit renders those years only.
"""

from __future__ import annotations

from collections.abc import Mapping

from .markdown import frontmatter, wikilink
from .model import Note
from .notes import SourceRef
from .timeline import FOLDER, TIMELINE


def render_years(counts: Mapping[str, int], stems: Mapping[str, str]) -> Note:
    """`counts`: statements per year; `stems`: each year's note."""
    fields = {"type": "timeline", "kbgen_id": TIMELINE, "statements": sum(counts.values())}
    intro = (
        "Sentences in the sources that say when something happened, one note per year. "
        "A date with `~` was worked out from the article's own date (“last year”, “on Dec 14”)."
    )
    rows = [
        f"- {wikilink(stems[year], year)} — {n} statement{'s' if n != 1 else ''}"
        for year, n in sorted(counts.items())
        if n > 0 and year in stems
    ]
    listed = "\n".join(rows) if rows else "No dated statements yet."
    body = f"{intro}\n\n## Years\n\n{listed}\n"
    return Note(TIMELINE, "", "Timeline", frontmatter(fields) + "\n" + body)


def render_year(
    kbgen_id: str,
    year: str,
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
            rows.append(((when, ref.sort_key), row))
    rows.sort(key=lambda r: r[0])
    fields = {"type": "timeline", "kbgen_id": kbgen_id, "year": year, "statements": len(rows)}
    body = f"[[Timeline]] · {year}\n\n" + "\n".join(r for _, r in rows) + "\n"
    return Note(kbgen_id, FOLDER, stem, frontmatter(fields) + "\n" + body)
