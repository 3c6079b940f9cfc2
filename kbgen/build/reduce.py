"""The notes made of many sources, each handed to its renderer with what it is made of.

Actor, issue, author, mention-page, timeline, candidates and home notes are
rendered from what each source contributed to them: the contributions kept
in the state, with those of the sources changed in this build (`new`)
instead of their stored ones, and none of the sources gone. Which notes to
render is `changes.notes_to_render`'s business; this module only knows what
each one is made of.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from kbgen.core.keys import (
    CANDIDATES,
    HOME,
    TIMELINE,
    Totals,
    is_author,
    is_entity,
    is_page,
    is_timeline_period,
    month_page,
    page_owner,
    page_period,
    period_page,
    timeline_period,
)
from kbgen.core.model import Entity, Note
from kbgen.link.catalog import Catalog
from kbgen.link.index import day_of
from kbgen.render import promotion
from kbgen.render.chronicle import render_period, render_periods
from kbgen.render.notes import (
    Page,
    SourceRef,
    by_day,
    notes_of_month,
    paged,
    render_author,
    render_entity,
    render_home,
    render_page,
    without_day,
)
from kbgen.render.source import Targets
from kbgen.state.staged import Staged
from kbgen.state.store import Store

_T = TypeVar("_T")


@dataclass
class Reduction:
    """What the reduced notes of one build are rendered from."""

    store: Store
    new: Staged  # per changed source, what it gives each note now
    gone: set[str]  # sources no longer there
    totals: Totals
    refs: Mapping[str, SourceRef]  # every source, as reduced notes show it
    stems: Mapping[str, str]  # every note's name
    targets: Targets
    catalog: Catalog
    promoted: list[promotion.Promoted]
    # every source the state holds was parsed in this build or is gone (a full rebuild), so no
    # stored line or contribution would be shown: none is read (1.4 s of a 10,000-article
    # rebuild, profiled)
    all_new: bool = False
    # the lines a month page has from the sources parsed in this build, for the last month
    # rendered by day: its days are rendered one after the other, and a cold build would read
    # the whole month from the staged contributions for each (2.7 MB for a month of Russia)
    _month: tuple[str, dict[str, str]] = field(default=("", {}), init=False, repr=False)

    @functools.cached_property
    def pages(self) -> dict[str, list[str]]:
        """Every mention page that has mentions, by the entity it belongs to."""
        return pages_by_entity(self.totals)

    @functools.cached_property
    def _entities(self) -> dict[str, Entity]:
        return self.catalog.by_key()

    def weight(self, note: str) -> int:
        """How big a note is, roughly, in lines: a mention page or a period of the timeline
        holds one per mention; an entity's note a hundred at most (`notes.PAGED_FROM`)."""
        entry = self.totals.get(note)
        mentions = int(entry[0]) if entry else 0
        if is_page(note) or is_timeline_period(note):
            return 1 + mentions
        return 1 + min(mentions, 100)

    def render(self, note: str) -> Note | None:
        """One reduced note by its kbgen_id (None for a source note: not made here)."""
        if is_author(note):
            return self._author(note)
        if note == TIMELINE:
            counts = self._shared(TIMELINE)
            stems = self.stems
            found = {p: stems[period_page(p)] for p in counts if period_page(p) in stems}
            return render_periods(counts, found)
        if is_timeline_period(note):
            lines = self._lines(self._stored(self.store.lines_of, note), [note])
            period = timeline_period(note)
            stem = self.stems[note]
            return render_period(note, period, stem, lines, self.refs, self.targets.entities)
        if is_page(note):
            entity = self._entities[page_owner(note)]
            month, period = month_page(note), page_period(note)
            if by_day(self.totals[month]):  # a day's note (or the month's: sources with no day)
                lines = self._lines_on(month, period)
                mentions = self._on_day(month, day_of(period))
                page = Page(period, self.stems[note], mentions, len(lines))
            else:
                lines = self._lines(self._stored(self.store.lines_of, month), [month])
                page = self._page(note)
            return render_page(entity, self.stems[entity.key], page, note, lines, self.refs)
        if is_entity(note):
            return self._entity(note)
        if note == HOME:
            return self._home()
        if note == CANDIDATES:
            return self._candidates()
        return None

    def _stored(self, read: Callable[..., Mapping[str, _T]], *args: str) -> Mapping[str, _T]:
        """What the state holds, per source, for a note: nothing when every source is new."""
        return {} if self.all_new else read(*args)

    def _author(self, note: str) -> Note:
        stored = self._stored(self.store.feeders, note).items()
        feed = {s: c for s, c in stored if s not in self.new and s not in self.gone}
        feed.update(self.new.by_note(note))
        feed = dict(sorted(feed.items()))
        affiliations = [a for c in feed.values() for a in c.values.get("aff", [])]
        name = str(self.totals[note][2])
        sources = [self.refs[s] for s in feed]
        return render_author(name, self.stems[note], sources, affiliations)

    def _entity(self, note: str) -> Note:
        entity, own, stem = self._entities[note], self.totals[note], self.stems[note]
        said = self._lines(self._stored(self.store.lines_of, note), [note])
        pages = self.pages.get(note, [])
        if paged(own):
            listed = [self._page(p) for p in pages]
            return render_entity(
                entity, stem, own, self.targets, pages=listed, said=said, sources=self.refs,
                span=self._span(pages),
            )  # fmt: skip
        lines = self._lines(self._stored(self.store.lines_of_pages, note), pages)
        return render_entity(
            entity, stem, own, self.targets, lines=lines, sources=self.refs, said=said
        )

    def _home(self) -> Note:
        entities = [e for e in self.catalog.entities if e.key in self.totals]
        counts = {k: (int(v[0]), int(v[1])) for k, v in self.totals.items()}
        refs = list(self.refs.values())
        return render_home(self.stems[HOME], refs, entities, counts, self.targets)

    def _candidates(self) -> Note:
        lines = self._lines(self._stored(self.store.lines_of, CANDIDATES), [CANDIDATES])
        counts = self._shared(CANDIDATES)
        names = [p.name for p in self.promoted]
        keys = {p.name: promotion.entity_of(p).key for p in self.promoted}
        notes = self.targets.entities
        stems = {n: notes[k] for n, k in keys.items() if k in notes}
        return promotion.render_candidates(lines, self.refs, counts, names, stems)

    def _shared(self, note: str) -> dict[str, int]:
        """The per-name counts a note's totals carry (years of the timeline, candidates)."""
        entry = self.totals.get(note)
        return dict(entry[3]) if entry else {}

    def _page(self, page: str) -> Page:
        """A month as the entity's note lists it (by day: with its days' notes)."""
        counts = self.totals[page]
        period, stem, mentions = page_period(page), self.stems.get(page, ""), int(counts[0])
        if not by_day(counts):
            return Page(period, stem, mentions, int(counts[1]))
        notes = notes_of_month(page, counts)
        days = tuple((page_period(n), self.stems.get(n, "")) for n in notes if n != page)
        return Page(period, stem if page in notes else "", mentions, int(counts[1]), days)

    def _lines_on(self, month: str, published: str) -> dict[str, str]:
        """A month page's lines from the sources published on that date (a day, or the month)."""
        stored = self._stored(self.store.lines_published_on, month, published)
        lines = {s: t for s, t in stored.items() if s not in self.new and s not in self.gone}
        if self._month[0] != month:
            self._month = ("", {})  # the last one let go before the next is read
            self._month = (month, self.new.lines_for(month))
        new = self._month[1].items()
        lines.update((s, t) for s, t in new if self.refs[s].published == published)
        return lines

    def _on_day(self, month: str, day: str | None) -> int:
        """Mentions a month page's sources published on that day give (None: on no day)."""
        entry = self.totals[month]
        return int(entry[3][day]) if day is not None else without_day(entry)

    def _span(self, pages: list[str]) -> tuple[str | None, str | None]:
        """First and last mention dates of a paged entity: the first and last days of its first
        and last months, which the totals count (no source of theirs read: 800 a month of
        Russia at 10,000 articles)."""
        dated = sorted(p for p in pages if page_period(p) != "undated")
        if not dated:
            return (None, None)
        return (self._dates(dated[0])[0], self._dates(dated[-1])[-1])

    def _dates(self, page: str) -> list[str]:
        """The publication dates of a month (or year) page's sources, in order: its days, and
        the period itself for sources that give no day ("2017-03" sorts before its days)."""
        entry, period = self.totals[page], page_period(page)
        dates = [f"{period}-{d}" for d in sorted(entry[3])]
        return [period, *dates] if without_day(entry) else dates

    def _lines(self, stored: Mapping[str, str], notes: list[str]) -> dict[str, str]:
        """Lines per source: as stored, with the changed sources' new ones for `notes`."""
        lines = {s: t for s, t in stored.items() if s not in self.new and s not in self.gone}
        for note in notes:
            lines.update(self.new.lines_for(note))
        return lines


def pages_by_entity(totals: Totals) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in totals:
        if is_page(key):
            out.setdefault(page_owner(key), []).append(key)
    return out
