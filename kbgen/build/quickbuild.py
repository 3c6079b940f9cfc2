"""The quick path's build proper (`build/quick.py` says when it runs): the edited sources read,
the notes they reach rendered, planned, written and committed, with the full path's own
functions, over only the records of those notes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kbgen.build.catalog_change import fingerprint_of, matcher_for, promotions_of
from kbgen.build.changes import (
    Inputs,
    digests_of,
    notes_to_render,
    owners_showing,
    ref_of,
    related_of,
    replaced,
    showing_of,
    taken_away,
)
from kbgen.build.finish import Commit, Finish, finish
from kbgen.build.listings import Listing
from kbgen.build.naming import folders_of, named_in, staying_put, targets_of, wanted_notes
from kbgen.build.quick import Ending, Record
from kbgen.build.reading import Reading, parse_all, read_if_changed, removal_lines, take_parsed
from kbgen.build.report import Declined, Report
from kbgen.core.config import Config
from kbgen.core.errors import SourceError
from kbgen.core.filestat import StatKey
from kbgen.core.keys import CANDIDATES, HOME, Totals
from kbgen.core.names import Wanted, stem_of
from kbgen.link import relink
from kbgen.link.catalog import Catalog, author_id
from kbgen.link.index import Tally
from kbgen.read.sources import SourceFile
from kbgen.render import promotion
from kbgen.render.notes import SourceRef
from kbgen.render.source import Prepared
from kbgen.state.staged import Staged
from kbgen.state.store import SourceRecord, State, Store
from kbgen.vault.actions import Plan
from kbgen.vault.execute import after_of
from kbgen.vault.locate import OnDisk, locate
from kbgen.vault.plan import pinned_notes


def build_changed(
    config: Config,
    store: Store,
    report: Report,
    listing: Listing,
    record: Record,
    changed: list[SourceFile],
    listed: dict[str, StatKey],
) -> Ending | Declined:
    """The build of the sources whose stat changed, or why not (nothing written) when it
    finds what only the full path may do: a source that fails or is shown differently, a note
    that appears or goes, a note not where or as the last build left it."""
    catalog = catalog_of(record)
    if catalog is None or store.meta("fingerprint") != fingerprint_of(catalog):
        return _declined("the catalog is not the last build's")
    if store.meta("entities") != record.entities:
        return _declined("the catalog's entries are not the last build's")
    before = store.load_some([], [f.rel for f in changed]).sources
    if len(before) != len(changed):
        return _declined("a changed source has no record in the state")
    try:
        same, todo, stats = read_changed(changed, before)
    except SourceError:
        return _declined("a changed source cannot be read")
    new = Staged()
    try:
        edits = _edits(store, catalog, before, same, todo, stats, new)
        if isinstance(edits, Declined):
            return edits
        report.lap("read")
        found = _reached_notes(store, config.vault, listing, record, edits)
        if isinstance(found, Declined):
            return found
        report.lap("vault")
        ending = _written(config.vault, store, report, listing, record, edits, *found)
        return dataclasses.replace(ending, listed=listed, unsure=frozenset(record.racy))
    finally:
        new.close()


@dataclass
class _Edits:
    """The changed sources, read and linked: what they give each note now and gave before."""

    catalog: Catalog
    parsed: dict[str, Prepared]  # rendering lets go of each (`render_each`): see `changed`
    records: dict[str, SourceRecord]  # of every source whose stat changed
    before: Mapping[str, SourceRecord]
    new: Staged
    old: dict[str, dict[str, str]]  # per source parsed, its contributions' digests, then
    now: dict[str, dict[str, str]]  # and now
    totals: Totals
    old_totals: Totals
    wanted: set[str]  # the ids of the notes the vault holds, but other sources' notes

    def __post_init__(self) -> None:
        self.changed = frozenset(self.parsed)  # the sources read and linked anew
        self.entities, self.authors = named_in(self.catalog, self.totals)

    @property
    def ids(self) -> dict[str, str]:
        return {p: r.id for p, r in self.records.items()}

    def inputs(self) -> Inputs:
        changed = set(self.changed)
        old_refs = {p: ref_of(self.before[p], {}) for p in changed}
        new_refs = {p: ref_of(self.records[p], {}) for p in changed}
        moved = self.totals != self.old_totals
        return Inputs(changed, set(), self.old, self.now, old_refs, new_refs, {}, {}, moved)

    def reached(self, located: dict[str, OnDisk]) -> set[str]:
        """The notes the edits reach (`changes.notes_to_render`, where no name changes)."""
        totals, old_totals, inputs = self.totals, self.old_totals, self.inputs()
        render = notes_to_render(
            inputs,
            located,
            self.ids,
            feeds=_no_names_change,
            feeders=_no_names_change,
            related=related_of(totals, old_totals),
            showing=showing_of(inputs, self.records, totals, old_totals),
        )
        render |= owners_showing(render, totals, old_totals)
        return render & (self.wanted | set(self.ids.values()))


def _edits(
    store: Store,
    catalog: Catalog,
    before: Mapping[str, SourceRecord],
    same: dict[str, SourceRecord],
    todo: list[tuple[SourceFile, bytes]],
    stats: dict[str, StatKey | None],
    new: Staged,
) -> _Edits | Declined:
    """The sources parsed and their contributions staged in `new`, or why not: one fails, is
    shown differently (title, date, publisher), or makes a note appear or go."""
    old_totals: Totals = store.totals()
    tally = Tally(old_totals)
    errors: list[SourceError] = []
    matcher = lambda: matcher_for(catalog)  # noqa: E731
    parsed = parse_all(todo, matcher, False, errors, False, lambda p: take_parsed(p, tally, new))
    if errors:
        return _declined("a changed source fails to read")
    records = dict(same)
    for path, prepared in parsed.items():
        meta, rec = prepared.meta, before[path]
        shown = (meta.title, meta.published, meta.publisher)
        if shown != (rec.title, rec.published, rec.publisher):
            # shown differently in every note that lists it
            return _declined("a changed source's title, date or publisher is not the same")
        records[path] = SourceRecord(prepared.digest, rec.id, *shown, stats[path])
    old = taken_away(store, set(parsed), tally)
    now = {source: digests_of(new[source]) for source in new}
    totals = tally.totals()
    wanted = _wanted(catalog, totals)
    if wanted != _wanted(catalog, old_totals):
        # names may change
        return _declined("a note appears or goes (an entity, author, month, day or period)")
    ids = {w.kbgen_id for w in wanted}
    return _Edits(catalog, parsed, records, before, new, old, now, totals, old_totals, ids)


def _wanted(catalog: Catalog, totals: Totals) -> list[Wanted]:
    """The notes the totals make the vault hold, but the sources' own."""
    return wanted_notes(*named_in(catalog, totals), {}, totals)


def _reached_notes(
    store: Store, vault: Path, listing: Listing, record: Record, edits: _Edits
) -> tuple[State, dict[str, OnDisk], set[str]] | Declined:
    """The records of the notes the edits reach (and of every entity note, which Map.canvas
    shows), where each is, and which to render; or why not: one is not where or as the last
    build left it."""
    reach = edits.reached({})
    entities = {e.key for e in edits.entities if not e.user_note}
    written = {kbgen_id for kbgen_id, _ in record.racy.values()}
    state = store.load_some(reach | entities | {CANDIDATES, HOME} | written, edits.records)
    if not reach <= state.notes.keys() or len(state.sources) != len(edits.records):
        return _declined("a note the edits reach has no record in the state")
    located = locate(state, vault, {}, store, listing.notes)
    if any(d.path is None or d.moved or d.damaged for d in located.values()):
        return _declined("a note the edits reach is not where or as the last build left it")
    return state, located, edits.reached(located)


def _declined(reason: str) -> Declined:
    return Declined("quick", reason)


def _written(
    vault: Path,
    store: Store,
    report: Report,
    listing: Listing,
    record: Record,
    edits: _Edits,
    state: State,
    located: dict[str, OnDisk],
    render: set[str],
) -> Ending:
    """The notes rendered, planned and written, then committed: by the full path's own
    `finish`, over the records of the notes the edits reach."""
    from kbgen.build.reduce import Reduction

    catalog, totals, parsed = edits.catalog, edits.totals, edits.parsed
    entities, authors = edits.entities, edits.authors
    stems = Stems(store, state)
    author_ids = {n: author_id(n) for p in parsed.values() for n in p.meta.authors}
    stems.fetch([*authors, *author_ids.values()])
    targets = targets_of(entities, authors, author_ids, stems)
    promoted = promotions_of(store, located)
    refs = Refs(store, stems, edits.records)
    reduction = Reduction(store, edits.new, set(), totals, refs, stems, targets, catalog, promoted)
    wanted = edits.wanted | set(edits.ids.values())
    report.parsed = len(parsed)
    report.removed = removal_lines(parsed)
    report.sources = len(listing.sources)
    report.catalog_notes = list(record.catalog_notes)
    plan = Plan(pinned=pinned_notes(state, located), notices=list(record.notices))
    after = after_of(state)
    job = Finish(
        vault, store, report, state, after, located, plan, Reading(parsed=parsed), edits.ids,
        render, stems, targets, reduction, folders_of(staying_put(state, located), wanted),
        set(state.notes), record.wanted, entities, totals, totals != edits.old_totals,
        edits.records, _commit_of(record, edits, promoted),
    )  # fmt: skip
    finish(job)
    sources = {**record.sources, **{p: r.stat for p, r in edits.records.items()}}
    return Ending(
        catalog, record.entities, list(record.notices), list(record.catalog_notes), record.wanted,
        after, sources,
    )  # fmt: skip


def _commit_of(record: Record, edits: _Edits, promoted: list[promotion.Promoted]) -> Commit:
    totals = edits.totals
    return Commit(
        replaced(set(edits.changed), set(), edits.old, edits.now, edits.new),
        {
            "fingerprint": fingerprint_of(edits.catalog),
            "entities": record.entities,
            "promoted": promotion.dumps(promoted),
        },
        edits.new.words(),
        totals if totals != edits.old_totals else None,  # 430 KB of JSON at 10,000
    )


def _no_names_change(_: str) -> set[str]:
    raise AssertionError("asked only when a note's name changes, never on the quick path")


def read_changed(
    changed: list[SourceFile], records: Mapping[str, SourceRecord]
) -> tuple[dict[str, SourceRecord], list[tuple[SourceFile, bytes]], dict[str, StatKey | None]]:
    """As `reading.read_sources` reads them (`read_if_changed`): the sources whose content is
    the same get their new stat; the others are to parse. Raises SourceError for one that
    cannot be read."""
    now = time.time_ns()
    same: dict[str, SourceRecord] = {}
    todo: list[tuple[SourceFile, bytes]] = []
    stats: dict[str, StatKey | None] = {}
    for f in changed:
        got = read_if_changed(f, records[f.rel], now)
        if isinstance(got, SourceRecord):
            same[f.rel] = got
            continue
        stats[f.rel], data = got
        todo.append((f, data))
    return same, todo, stats


def catalog_of(record: Record) -> Catalog | None:
    entities = relink.loads(record.entities)
    if entities is None:
        return None
    return Catalog(tuple(entities), tuple(record.honorifics))


class Stems(Mapping[str, str]):
    """Every note's name, as the state records its path: asked for by id, a few at a time."""

    def __init__(self, store: Store, state: State) -> None:
        self._store = store
        self._known: dict[str, str | None] = {i: stem_of(r.path) for i, r in state.notes.items()}

    def fetch(self, ids: Iterable[str]) -> None:
        wanted = [i for i in ids if i not in self._known]
        paths = self._store.paths_of(wanted)
        self._known.update({i: stem_of(paths[i]) if i in paths else None for i in wanted})

    def __getitem__(self, kbgen_id: str) -> str:
        if kbgen_id not in self._known:
            self.fetch([kbgen_id])
        stem = self._known[kbgen_id]
        if stem is None:
            raise KeyError(kbgen_id)
        return stem

    def __iter__(self) -> Iterator[str]:  # every note: not on the quick path's way
        self._known.update({i: stem_of(p) for i, p in self._store.note_paths().items()})
        return (i for i, s in self._known.items() if s is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


# Sources a reduced note may look up one query at a time before all are read in one: Candidates
# cites nearly every source of a corpus no catalog entry covers (9,916 of 10,000 BBC articles:
# 20,000 queries, 1.8 s of a one-edit build)
ONE_BY_ONE_AT_MOST = 200


class Refs(Mapping[str, SourceRef]):
    """Every source as the reduced notes show it, from the state; the changed ones as now."""

    def __init__(self, store: Store, stems: Stems, records: Mapping[str, SourceRecord]) -> None:
        self._store, self._stems, self._records = store, stems, records
        self._count = store.count_sources()
        self._known: dict[str, SourceRef] = {}
        self._asked = 0  # sources looked up one by one

    def __getitem__(self, path: str) -> SourceRef:
        ref = self._known.get(path)
        if ref is None and self._asked == ONE_BY_ONE_AT_MOST:
            self._known.update(self._all())
            ref = self._known.get(path)
        if ref is None:
            self._asked += 1
            rec = self._records.get(path) or self._store.source_record(path)
            if rec is None:
                raise KeyError(path)
            ref = SourceRef(self._stems[rec.id], rec.title, rec.published, rec.publisher)
            self._known[path] = ref
        return ref

    def __iter__(self) -> Iterator[str]:
        return (path for path, _, _ in self._store.sources_with_notes())

    def __len__(self) -> int:
        return self._count

    def values(self) -> list[SourceRef]:  # type: ignore[override]
        """All of them, in path order (Home lists the newest): one query, not one a source."""
        return list(self._all().values())

    def _all(self) -> dict[str, SourceRef]:
        out = {}
        for path, rec, note_path in self._store.sources_with_notes():
            rec = self._records.get(path, rec)
            out[path] = SourceRef(stem_of(note_path), rec.title, rec.published, rec.publisher)
        return out
