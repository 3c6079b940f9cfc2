"""Rendering the notes made of many sources: actor, issue, author and Home notes, from the
mention index and the vault-wide totals (pure)."""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from kbgen.core.keys import AUTHOR, HOME, day_page
from kbgen.core.markdown import escape, frontmatter, wikilink
from kbgen.core.model import Entity, Note
from kbgen.core.plural import counted
from kbgen.link.catalog import author_id, slug
from kbgen.link.index import SOURCE_NOTE, SOURCE_REF
from kbgen.render.source import ACTORS, AUTHORS, ISSUES, SOURCES, Targets

TOP_RELATED = 10


class SourceRef(NamedTuple):
    """What the reduced notes show of a source note (kept in the state, so no re-reading).

    A tuple: a build makes one per source; sorted by `newest_first`.
    """

    stem: str
    title: str | None
    published: str | None
    publisher: str | None


@functools.lru_cache(maxsize=1 << 16)
def newest_first(ref: SourceRef) -> tuple[int, str, str]:
    """A source's sort key: newest first, undated sources last, by title. Remembered: a big
    month page sorts hundreds of sources, and `kbgen watch` renders the same pages again on
    every save (10,000 keys a sync at 5,000 articles)."""
    return (*_date_key(ref.published or ""), ref.stem.casefold())


def _date_key(date: str) -> tuple[int, str]:
    return (0 if date else 1, _invert(date))


def newest(refs: Iterable[SourceRef], count: int) -> list[SourceRef]:
    """The first `count` sources by `newest_first`. Only the sources of the newest days are
    keyed: at 10,000 sources, keying every one took Home 15 ms of a one-edit build."""
    by_date: dict[str, list[SourceRef]] = {}
    for ref in refs:
        by_date.setdefault(ref.published or "", []).append(ref)
    picked: list[SourceRef] = []
    for date in sorted(by_date, key=_date_key):
        if len(picked) >= count:
            break  # every later day's source comes after all of these
        picked += by_date[date]
    return heapq.nsmallest(count, picked, key=newest_first)


_DESCENDING = str.maketrans("0123456789-", "9876543210:")


def _invert(date: str) -> str:
    """A key that sorts dates newest first (ISO dates: digits and dashes, mapped in C)."""
    if date.strip("0123456789-"):
        return "".join(chr(0x10FFFF - ord(c)) for c in date)
    return date.translate(_DESCENDING)


def _related(together: Mapping[str, int], targets: Targets, type_: str) -> list[str]:
    ranked = sorted(
        ((n, key) for key, n in together.items() if key.startswith(type_ + ":")),
        key=lambda item: (-item[0], item[1]),  # ties by key: a note renamed does not move
    )
    return [
        f"- {wikilink(targets.entities[key])} — {counted(n, 'paragraph')}"
        for n, key in ranked[:TOP_RELATED]
        if key in targets.entities
    ]


QUOTES_SHOWN = 100  # quotations in the note of an entity whose mentions are paged
PAGED_FROM = 100  # sources naming an entity from which its mentions get one note per month
# mentions of an entity in one month from which that month gets one note per day (a month note
# of Russia at 10,000 articles of one year held 12,000 mentions, 2.7 MB, rewritten by any edit)
DAYS_FROM = 1000
MENTIONS = "Mentions"  # the subfolder of Actors/ and Issues/ that holds those notes


@dataclass(frozen=True)
class Page:
    """One month (or day) of an entity's mentions, as its summary note lists it."""

    period: str  # YYYY-MM, YYYY, "undated", or a day's YYYY-MM-DD
    stem: str  # by day: the note of the sources that give the month and no day ("": none)
    mentions: int
    sources: int
    days: tuple[tuple[str, str], ...] = ()  # by day: (YYYY-MM-DD, stem) of each day's note


def paged(totals: Sequence[Any]) -> bool:
    """Whether an entity's mentions are spread over monthly notes (`keys.Totals` entry)."""
    return int(totals[1]) >= PAGED_FROM


def by_day(month: Sequence[Any]) -> bool:
    """Whether a month page (its `keys.Totals` entry) is shown as one note per day."""
    return int(month[0]) >= DAYS_FROM and bool(month[3])


def without_day(entry: Sequence[Any]) -> int:
    """The mentions a page's sources give that state no day (a month's or a year's only):
    what its totals entry counts beyond its days."""
    return int(entry[0]) - int(sum(entry[3].values()))


def notes_of_month(month: str, entry: Sequence[Any]) -> list[str]:
    """The kbgen_ids of the notes showing a month page's mentions: its own, or by day, one
    per day and its own for the sources that give the month and no day, if any."""
    if not by_day(entry):
        return [month]
    days = [day_page(month, d) for d in sorted(entry[3])]
    return [*days, month] if without_day(entry) else days


def render_entity(
    entity: Entity,
    stem: str,
    totals: Sequence[Any],
    targets: Targets,
    *,
    lines: Mapping[str, str] | None = None,
    sources: Mapping[str, SourceRef] | None = None,
    pages: Sequence[Page] = (),
    said: Mapping[str, str] | None = None,
    span: tuple[str | None, str | None] = (None, None),
) -> Note:
    """`totals`: as in `keys.Totals`. Mentions inline (`lines` per source), or `pages` listed;
    `said`: per source, the quotations attributed to the entity; `span`: the dates of the
    first and last dated sources that mention it (`dates_of`), for Dataview queries."""
    mentions, n_sources, _, together = totals
    if not pages:
        quoted = lines or {}
        span = dates_of((sources or {})[s] for s in quoted if quoted[s])
    fields = {
        "type": entity.type,
        "kind": entity.kind,
        "kbgen_id": entity.key,
        "aliases": list(entity.aliases),
        "description": entity.description,
        "mentions": mentions,
        "sources": n_sources,
        "first_mentioned": span[0],
        "last_mentioned": span[1],
    }
    parts = [escape(entity.description)] if entity.description else []
    if said and any(said.values()):
        parts.append(_said(said, sources or {}, QUOTES_SHOWN if pages else None))
    parts.append("## Mentions")
    if pages:
        parts.append(_page_list(mentions, n_sources, pages))
    else:
        parts += _quoted(lines or {}, sources or {})
    for heading, type_ in (
        ("Actors it appears with", "actor"),
        ("Issues it appears with", "issue"),
    ):
        related = _related(together, targets, type_)
        if related:
            parts.append(f"## {heading}\n\n" + "\n".join(related))
    folder = ACTORS if entity.type == "actor" else ISSUES
    return Note(entity.key, folder, stem, frontmatter(fields) + "\n" + "\n\n".join(parts) + "\n")


def render_page(
    entity: Entity,
    entity_stem: str,
    page: Page,
    kbgen_id: str,
    lines: Mapping[str, str],
    sources: Mapping[str, SourceRef],
) -> Note:
    """One month (or day) of a much-mentioned entity's quotes, newest source first."""
    when = "with no date" if page.period == "undated" else f"in {page.period}"
    if len(page.period) == 10:
        when = f"on {page.period}"
    elif page.days:
        when += " that give no day"
    fields = {
        "type": "mentions",
        "of": wikilink(entity_stem),
        "period": page.period,
        "kbgen_id": kbgen_id,
        "mentions": page.mentions,
        "sources": page.sources,
    }
    intro = f"Mentions of {wikilink(entity_stem)} in the sources published {when}."
    parts = [intro, *_quoted(lines, sources)]
    folder = f"{ACTORS if entity.type == 'actor' else ISSUES}/{MENTIONS}"
    return Note(kbgen_id, folder, page.stem, frontmatter(fields) + "\n" + "\n\n".join(parts) + "\n")


def dates_of(refs: Iterable[SourceRef]) -> tuple[str | None, str | None]:
    """The earliest and latest publication dates among these sources (None when none has one)."""
    dates = sorted(r.published for r in refs if r.published)
    return (dates[0], dates[-1]) if dates else (None, None)


def _said(said: Mapping[str, str], sources: Mapping[str, SourceRef], shown: int | None) -> str:
    """The entity's quotations, newest source first; the newest `shown` only, for a paged one."""
    out: list[str] = []
    quoting = sorted((s for s in said if said[s]), key=lambda s: newest_first(sources[s]))
    for source in quoting:
        if shown is not None and len(out) >= shown:
            break  # the rest are counted, not written out
        ref = sources[source]
        where = wikilink(ref.stem, ref.title) + (f", {ref.published}" if ref.published else "")
        text = said[source].replace(SOURCE_NOTE, ref.stem).replace(SOURCE_REF, where)
        out += text.split("\n")
    head = "## Quotes"
    if shown is not None:
        total = sum(said[s].count("\n") + 1 for s in quoting)
        if total > shown:
            head += f"\n\nThe {shown} newest of {total}; every one is also in the month notes."
            out = out[:shown]
    return head + "\n\n" + "\n".join(out)


def _quoted(lines: Mapping[str, str], sources: Mapping[str, SourceRef]) -> list[str]:
    """One section per source, newest first: its title, date and quote lines."""
    parts = []
    for source in sorted((s for s in lines if lines[s]), key=lambda s: newest_first(sources[s])):
        ref = sources[source]
        date = f" ({ref.published})" if ref.published else ""
        link = wikilink(ref.stem, ref.title)
        parts.append(f"### {link}{date}\n\n" + lines[source].replace(SOURCE_NOTE, ref.stem))
    return parts


def _page_list(mentions: int, n_sources: int, pages: Sequence[Page]) -> str:
    """The months, newest first and the undated last, each with its counts."""
    ordered = sorted(pages, key=lambda p: (p.period == "undated", _invert(p.period)))
    rows = [f"- {_month_link(p)} — {_mentions(p.mentions, p.sources)}{_days(p)}" for p in ordered]
    head = f"{_mentions(mentions, n_sources)}, one note per month of publication:"
    if any(p.days for p in pages):
        head = head[:-1] + f" (per day for a month of {DAYS_FROM} mentions or more):"
    return head + "\n\n" + "\n".join(rows)


def _mentions(mentions: int, sources: int) -> str:
    return f"{counted(mentions, 'mention')} in {counted(sources, 'source')}"


def _month_link(page: Page) -> str:
    return page.period if page.days else wikilink(page.stem, page.period)


def _days(page: Page) -> str:
    """A month shown day by day: its days' notes, newest first, then the one of the sources
    that give no day."""
    if not page.days:
        return ""
    links = [wikilink(stem, day[8:]) for day, stem in sorted(page.days, reverse=True)]
    if page.stem:
        links.append(wikilink(page.stem, "no day"))
    return ": " + " · ".join(links)


def render_author(
    name: str,
    stem: str,
    refs: Sequence[SourceRef],
    affiliations: Sequence[str],
) -> Note:
    kbgen_id = f"{AUTHOR}{slug(name)}"
    fields = {
        "type": "author",
        "kbgen_id": kbgen_id,
        "name": name if name != stem else None,
        "affiliations": list(dict.fromkeys(affiliations)),
        "articles": len(refs),
    }
    first, last = dates_of(refs)
    fields |= {"first_article": first, "last_article": last}
    lines = [_source_line(ref) for ref in sorted(refs, key=newest_first)]
    body = "## Articles\n\n" + "\n".join(lines)
    return Note(kbgen_id, AUTHORS, stem, frontmatter(fields) + "\n" + body + "\n")


def _home_authors(authors: Mapping[str, str], totals: Mapping[str, tuple[int, int]]) -> list[str]:
    """The authors with most articles, alphabetically; how many more are in Authors/."""
    stems = set(authors.values())
    articles = {stem: totals.get(author_id(name), (0, 0))[1] for name, stem in authors.items()}
    kept = heapq.nsmallest(HOME_AUTHORS, stems, key=lambda s: (-articles[s], s.casefold()))
    lines = [f"- {wikilink(a)}" for a in sorted(kept, key=str.casefold)]
    return _and_more(lines, len(stems), AUTHORS)


def _and_more(lines: list[str], total: int, folder: str) -> list[str]:
    """A list Home shortens, and a last line saying how many more are in `folder`."""
    if total > len(lines):
        return [*lines, f"- … and {total - len(lines)} more in `{folder}/`"]
    return lines


def _source_line(ref: SourceRef) -> str:
    details = [d for d in (ref.published, ref.publisher) if d]
    link = wikilink(ref.stem, ref.title)
    return f"- {link}" + (f" — {escape(', '.join(details))}" if details else "")


DATAVIEW = """\
> [!example]- Queries for the Dataview plugin (open with the plugin installed)
> Most-mentioned actors, and when they were last in the news:
> ```dataview
> TABLE mentions, sources, first_mentioned, last_mentioned FROM "Actors"
> WHERE type = "actor" SORT mentions DESC LIMIT 20
> ```
> Issues, the most recently discussed first:
> ```dataview
> TABLE mentions, sources, last_mentioned FROM "Issues" WHERE type = "issue"
> SORT last_mentioned DESC
> ```
> Sources by date:
> ```dataview
> TABLE published, authors, publisher FROM "Sources" WHERE type = "source" SORT published DESC
> ```
> Notes where your edits and a source's changes collided:
> ```dataview
> LIST WHERE kbgen_conflict = true
> ```"""


HOME_SOURCES = 50  # the newest sources Home lists; the rest are in Sources/ (and one query away)
HOME_AUTHORS = 100  # the authors with most articles Home lists; the rest are in Authors/


def render_home(
    stem: str,
    refs: Sequence[SourceRef],
    entities: Sequence[Entity],
    totals: Mapping[str, tuple[int, int]],
    targets: Targets,
) -> Note:
    """`totals`: per entity key, (mentions, sources) over the whole vault."""
    fields = {"type": "home", "kbgen_id": HOME, "sources": len(refs)}
    listed = _and_more([_source_line(r) for r in newest(refs, HOME_SOURCES)], len(refs), SOURCES)
    parts = [
        "Generated by kbgen. Each source note links the actors and issues it mentions; "
        "each actor and issue note quotes every mention with a link to its paragraph.",
        "## Sources\n\n" + "\n".join(listed),
    ]
    for heading, type_ in (("Actors", "actor"), ("Issues", "issue")):
        ranked = sorted(
            (e for e in entities if e.type == type_ and e.key in targets.entities),
            key=lambda e: (-totals.get(e.key, (0, 0))[0], e.name.casefold()),
        )
        lines = [
            f"- {wikilink(targets.entities[e.key])} — {_mentions(*totals.get(e.key, (0, 0)))}"
            for e in ranked
        ]
        if lines:
            parts.append(f"## {heading} by mentions\n\n" + "\n".join(lines))
    if targets.authors:
        parts.append("## Authors\n\n" + "\n".join(_home_authors(targets.authors, totals)))
    parts.append(DATAVIEW)
    return Note(HOME, "", stem, frontmatter(fields) + "\n" + "\n\n".join(parts) + "\n")
