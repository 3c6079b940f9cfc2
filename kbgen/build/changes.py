"""Which notes a build must render: the ones whose inputs changed, and no others.

A note is a pure function of its inputs, so a note none of whose inputs
changed would render to the same bytes: it is left unread and unwritten.
The inputs, and how a change to each is traced to the notes it reaches:

- a source's content: its own note, and every actor, issue or author note
  whose `Contribution` from that source differs (compared by digest);
- what the reduced notes show of a source (title, date, publisher, note
  name): every note it feeds, and the home note;
- a note's name: the note itself, and every note that links to it;
- vault-wide totals (mentions and sources per entity): the home note;
- the vault: a note deleted, emptied, truncated, moved or edited since
  kbgen last read it is planned again;
- a catalog entry (`relink`): the sources that may hold an alias that matches
  differently are read again, and traced as changed sources; the entry's
  note, Home and Candidates; where its links go, when that changed, every
  note linking to it;
- kbgen's own code or the honorifics (`fingerprint`): everything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kbgen.core.keys import (
    CANDIDATES,
    HOME,
    Totals,
    day_page,
    is_author,
    is_entity,
    is_page,
    month_page,
    page_owner,
)
from kbgen.core.model import Contribution, Entity
from kbgen.link import relink
from kbgen.link.index import Tally, day_of, tallied
from kbgen.render.notes import (
    by_day,
    paged,
)
from kbgen.state.staged import Replacing, Staged
from kbgen.state.store import (
    SourceRecord,
    State,
    Store,
)
from kbgen.vault.locate import OnDisk

Ref = tuple[str, str | None, str | None, str | None, str | None]  # id, title, date, publisher, stem


@dataclass(frozen=True)
class Inputs:
    changed: set[str]  # source paths read and linked anew
    gone: set[str]  # source paths no longer in sources/
    # per changed or gone source, as last built, and per changed source, now: the digest of
    # what it gives each note (`Contribution.digest`), equal exactly when the contributions are
    old: Mapping[str, Mapping[str, str]]
    new: Mapping[str, Mapping[str, str]]
    old_refs: Mapping[str, Ref]  # per source path, as last built
    new_refs: Mapping[str, Ref]
    old_stems: Mapping[str, str]  # kbgen_id → stem, as last built
    new_stems: Mapping[str, str]
    totals_changed: bool


def notes_to_render(
    inputs: Inputs,
    located: Mapping[str, OnDisk],
    source_note: Mapping[str, str],
    feeds: Callable[[str], set[str]],
    feeders: Callable[[str], set[str]],
    related: Callable[[str], set[str]],
    showing: Callable[[str, str], set[str]] = lambda note, source: {note},
) -> set[str]:
    """kbgen_ids of the notes to render (callers intersect with the notes wanted).

    `source_note`: source path → its note's id; `feeds(path)`: the notes a
    source contributes to; `feeders(note)`: the sources contributing to a
    note; `related(entity)`: the entities listed in its "appears with";
    `showing(note, source)`: the notes that show what a source gives a note
    (itself, but for a month shown day by day: the source's day's, before
    and after).
    """
    out: set[str] = set()
    for source in sorted(inputs.changed | inputs.gone):
        before, after = inputs.old.get(source, {}), inputs.new.get(source, {})
        shown_differently = inputs.old_refs.get(source) != inputs.new_refs.get(source)
        for n in before.keys() | after.keys():
            if shown_differently or before.get(n) != after.get(n):
                out |= showing(n, source)
        if shown_differently:
            out.add(HOME)
        if source in inputs.changed:
            out.add(source_note[source])
    for kbgen_id, stem in inputs.new_stems.items():
        old = inputs.old_stems.get(kbgen_id)
        if stem == old:
            continue
        out.add(kbgen_id)
        if old is None:
            continue  # a new note: whatever links to it changed itself, and is traced above
        out.add(HOME)
        if is_entity(kbgen_id) or is_author(kbgen_id):
            out |= {source_note[s] for s in feeders(kbgen_id) if s in source_note}
            out |= related(kbgen_id)
        else:
            out |= {
                shown
                for s, n in source_note.items()
                if n == kbgen_id
                for feeds_note in feeds(s)
                for shown in showing(feeds_note, s)
            }
    if inputs.totals_changed:
        out.add(HOME)
    out |= {i for i, disk in located.items() if disk.path is None or disk.damaged or disk.moved}
    out |= {i for i, disk in located.items() if _edited_since(disk)}
    return out


def _edited_since(disk: OnDisk) -> bool:
    """Changed by the user since kbgen last looked: merged again (a removed key comes back)."""
    return not disk.unread and disk.path is not None and not disk.pristine


def refs_shown(
    paths: set[str],
    state: State,
    records: Mapping[str, SourceRecord],
    old_stems: Mapping[str, str],
    stems: Mapping[str, str],
) -> tuple[dict[str, Ref], dict[str, Ref]]:
    """How these sources showed in the notes that list them, and how they show now."""
    return (
        {p: ref_of(state.sources[p], old_stems) for p in paths if p in state.sources},
        {p: ref_of(records[p], stems) for p in paths if p in records},
    )


def changed_notes(
    inputs: Inputs,
    new: Staged,
    records: Mapping[str, SourceRecord],
    located: dict[str, OnDisk],
    store: Store,
    totals: Totals,
    old_totals: Totals,
) -> set[str]:
    """The notes an incremental build renders: `changes.notes_to_render`, told where to find
    what feeds what (the state for earlier builds' sources, `new` for this one's)."""
    return notes_to_render(
        inputs,
        located,
        {p: r.id for p, r in records.items()},
        feeds=lambda path: set(store.contributions_of([path])[path]) | {HOME},
        feeders=feeders(store, new),
        related=related_of(totals, old_totals),
        showing=showing_of(inputs, records, totals, old_totals),
    )


def showing_of(
    inputs: Inputs, records: Mapping[str, SourceRecord], totals: Totals, old_totals: Totals
) -> Callable[[str, str], set[str]]:
    """The notes showing what a source gives a note: the note itself, but for a month shown
    day by day, the note of the source's day (or of the sources with no day), as last built
    and now."""

    def showing(note: str, source: str) -> set[str]:
        if not is_page(note) or month_page(note) != note:
            return {note}
        old_ref, record = inputs.old_refs.get(source), records.get(source)
        now = record.published if record is not None else None
        was = old_ref[2] if old_ref is not None else now  # a source read again, same date
        out = set()
        for entry, published in ((old_totals.get(note), was), (totals.get(note), now)):
            if entry is None or not by_day(entry):
                out.add(note)
            else:
                day = day_of(published)
                out.add(day_page(note, day) if day is not None else note)
        return out

    return showing


def feeders(store: Store, new: Staged) -> Callable[[str], set[str]]:
    """The sources that give a note something: as stored, and those parsed in this build."""
    return lambda note: store.sources_feeding(note) | new.feeding(note)


def related_of(totals: Totals, old_totals: Totals) -> Callable[[str], set[str]]:
    """The entities an entity note lists among those it appears with (as last built, if it is
    gone)."""
    return lambda key: set(totals.get(key, old_totals.get(key, [0, 0, None, {}]))[3])


def showing_entries(
    old: list[Entity],
    new: tuple[Entity, ...],
    ids: Mapping[str, str],
    feeders: Callable[[str], set[str]],
    related: Callable[[str], set[str]],
) -> set[str]:
    """What shows a catalog entry that changed: its note, Home and Candidates (which list the
    entries), and, when its links go to another note now, every note linking to it (the
    source notes that mention it, the entries it appears with)."""
    out = relink.changed_entries(old, new) | {HOME, CANDIDATES}
    for key in relink.moved_targets(old, new):
        out |= {ids[s] for s in feeders(key) if s in ids} | related(key)
    return out


def owners_showing(render: set[str], totals: Totals, old_totals: Totals) -> set[str]:
    """The entity notes that show what changed on a mention page about to be rendered.

    Below the paging threshold an entity note lists its mentions itself; above
    it, it lists each month's counts only, so a month whose counts are the
    same (a word edited) leaves it as it is.
    """
    owners = set()
    for page in render:
        if not is_page(page):
            continue
        owner, month = page_owner(page), month_page(page)
        own = totals.get(owner)
        if own is None or not paged(own) or totals.get(month) != old_totals.get(month):
            owners.add(owner)
    return owners


def ref_of(rec: SourceRecord, stems: Mapping[str, str]) -> Ref:
    return (rec.id, rec.title, rec.published, rec.publisher, stems.get(rec.id))


def taken_away(store: Store, sources: set[str], tally: Tally) -> dict[str, dict[str, str]]:
    """What these sources gave each note when last built, taken away from the totals, and
    kept as digests only (`Contribution.digest`): a build compares them, and holding them
    whole, for thousands of sources (a catalog change), took hundreds of megabytes."""
    out = {}
    for source, given in store.each_contribution_of(sources):
        tally.add(tallied(given), -1)
        out[source] = digests_of(given)
    return out


def digests_of(given: Mapping[str, Contribution]) -> dict[str, str]:
    return {note: c.digest() for note, c in given.items()}


def replaced(
    changed: set[str],
    gone: set[str],
    old: Mapping[str, Mapping[str, str]],
    now: Mapping[str, Mapping[str, str]],
    new: Staged,
) -> Replacing:
    """Per source whose contributions the commit must replace, its new ones, read from `new`
    as the commit comes to them (None: gone); `old` and `now` compared as digests."""
    return Replacing(new, [p for p in sorted(changed) if old.get(p) != now[p]], gone)
