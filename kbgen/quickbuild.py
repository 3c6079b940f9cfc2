"""The quick path's build proper (kbgen/quick.py says when it runs): the edited sources read,
the notes they reach rendered, planned, written and committed, with the full path's own
functions, over only the records of those notes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping

from . import promotion, relink
from .actions import Plan
from .catalog import Catalog, author_id
from .changes import Inputs, notes_to_render
from .config import Config
from .errors import SourceError
from .index import CANDIDATES, Tally, Totals
from .listings import Listing
from .names import stem_of
from .notes import SourceRef
from .plan import OnDisk, after_of, execute, locate, pinned_notes, plan_rest
from .quick import Ending, Record
from .reading import Reading, parse_all
from .report import Report
from .sources import SourceFile, digest, read_bytes
from .staged import Staged
from .state import SourceRecord, State, StatKey, Store, stat_key
from .update import (
    digests_of,
    draw_map,
    fingerprint_of,
    folders_of,
    in_parts,
    matcher_for,
    owners_showing,
    promotions_of,
    ref_of,
    related_of,
    render_each,
    replaced,
    showing_of,
    staying_put,
    take_parsed,
    taken_away,
    targets_of,
    wanted_notes,
)


def build_changed(
    config: Config,
    store: Store,
    report: Report,
    listing: Listing,
    record: Record,
    changed: list[SourceFile],
) -> Ending | None:
    catalog = catalog_of(record)
    if catalog is None or store.meta("fingerprint") != fingerprint_of(catalog):
        return None
    if store.meta("entities") != record.entities:
        return None
    before = store.load_some([], [f.rel for f in changed]).sources
    if len(before) != len(changed):
        return None
    try:
        same, todo, stats = read_changed(changed, before)
    except SourceError:
        return None
    new = Staged()
    try:
        return _build(
            config, store, report, listing, record, catalog, before, same, todo, stats, new
        )
    finally:
        new.close()


def _build(
    config: Config,
    store: Store,
    report: Report,
    listing: Listing,
    record: Record,
    catalog: Catalog,
    before: Mapping[str, SourceRecord],
    same: dict[str, SourceRecord],
    todo: list[tuple[SourceFile, bytes]],
    stats: dict[str, StatKey | None],
    new: Staged,
) -> Ending | None:
    vault = config.vault
    old_totals: Totals = store.totals()
    tally = Tally(old_totals)
    errors: list[SourceError] = []
    matcher = lambda: matcher_for(catalog)  # noqa: E731
    parsed = parse_all(todo, matcher, False, errors, False, lambda p: take_parsed(p, tally, new))
    if errors:
        return None
    records = dict(same)
    for path, prepared in parsed.items():
        meta, rec = prepared.meta, before[path]
        if (meta.title, meta.published, meta.publisher) != (
            rec.title,
            rec.published,
            rec.publisher,
        ):
            return None  # shown differently in every note that lists it: the full path
        records[path] = SourceRecord(
            prepared.digest, rec.id, meta.title, meta.published, meta.publisher, stats[path]
        )
    old = taken_away(store, set(parsed), tally)
    now = {source: digests_of(new[source]) for source in new}
    totals = tally.totals()
    entities = [e for e in catalog.entities if e.key in totals]
    authors = _authors(totals)
    wanted = wanted_notes(entities, authors, {}, totals)
    was = [e for e in catalog.entities if e.key in old_totals]
    if wanted != wanted_notes(was, _authors(old_totals), {}, old_totals):
        return None  # a note appears or goes: names may change
    report.lap("read")
    changed = set(parsed)
    ids = {p: r.id for p, r in records.items()}
    old_refs = {p: ref_of(before[p], {}) for p in changed}
    new_refs = {p: ref_of(records[p], {}) for p in changed}
    inputs = Inputs(changed, set(), old, now, old_refs, new_refs, {}, {}, totals != old_totals)
    wanted_ids = {w.kbgen_id for w in wanted} | set(ids.values())
    reach = _reached(inputs, {}, ids, records, totals, old_totals) & wanted_ids
    keep = {e.key for e in entities if e.user_note is None}
    loading = reach | keep | {CANDIDATES, "home"} | {i for i, _ in record.racy.values()}
    state = store.load_some(loading, records)
    if not reach <= state.notes.keys() or len(state.sources) != len(records):
        return None
    located = locate(state, vault, {}, store, listing.notes)
    if any(d.path is None or d.moved or d.damaged for d in located.values()):
        return None
    render = _reached(inputs, located, ids, records, totals, old_totals) & wanted_ids
    report.lap("vault")
    stems = Stems(store, state)
    author_ids = {n: author_id(n) for p in parsed.values() for n in p.meta.authors}
    stems.fetch([*authors, *author_ids.values()])
    targets = targets_of(entities, authors, author_ids, stems)
    refs = Refs(store, stems, records)
    promoted = promotions_of(store, located)
    from .reduce import Reduction

    reduction = Reduction(store, new, set(), totals, refs, stems, targets, catalog, promoted)
    folders = folders_of(staying_put(state, located, wanted_ids), wanted_ids)
    report.parsed = len(parsed)
    plan = Plan(pinned=pinned_notes(state, located))
    after = after_of(state)
    reading = Reading(parsed=parsed)
    notes = render_each(reading, ids, stems, targets, render, reduction, folders)
    rendered = in_parts(notes, plan, state, after, located, store, vault, report)
    report.rendered = len(rendered)
    rest, _ = plan_rest(rendered, state, located, set(), set(state.notes))
    plan.notices = list(record.notices)
    report.plan = plan
    report.sources = len(listing.sources)
    execute(rest, plan, state, after, store, vault, located)
    plan.actions += [a.spent() for a in rest]
    plan.unlisted_unchanged = record.wanted - len(rendered) - len(rest)
    redraw = totals != old_totals
    report.map_written, drawn = draw_map(
        vault, entities, totals, after, redraw, plan, store.meta("map")
    )
    report.lap("write")
    report.catalog_notes = list(record.catalog_notes)
    after.sources = records
    store.commit(
        after,
        contributions=replaced(changed, set(), old, now, new),
        words=new.words(),
        meta={
            "fingerprint": fingerprint_of(catalog),
            "entities": record.entities,
            "promoted": promotion.dumps(promoted),
            **({"map": drawn} if drawn is not None else {}),
        },
        totals=totals if totals != old_totals else None,  # 430 KB of JSON at 10,000
    )
    report.lap("state")
    sources = dict(record.sources)
    sources.update({p: r.stat for p, r in records.items()})
    return Ending(
        catalog, list(record.notices), list(record.catalog_notes), record.wanted, after,
        sources, clean=True,
    )  # fmt: skip


def _authors(totals: Totals) -> dict[str, str]:
    return {i: str(t[2]) for i, t in totals.items() if i.startswith("author:")}


def _reached(
    inputs: Inputs,
    located: dict[str, OnDisk],
    ids: dict[str, str],
    records: Mapping[str, SourceRecord],
    totals: Totals,
    old_totals: Totals,
) -> set[str]:
    """The notes the changed sources reach (`changes.notes_to_render`, no name changing)."""
    render = notes_to_render(
        inputs,
        located,
        ids,
        feeds=_no_names_change,
        feeders=_no_names_change,
        related=related_of(totals, old_totals),
        showing=showing_of(inputs, records, totals, old_totals),
    )
    return render | owners_showing(render, totals, old_totals)


def _no_names_change(_: str) -> set[str]:
    raise AssertionError("asked only when a note's name changes, never on the quick path")


def read_changed(
    changed: list[SourceFile], records: Mapping[str, SourceRecord]
) -> tuple[dict[str, SourceRecord], list[tuple[SourceFile, bytes]], dict[str, StatKey | None]]:
    """As `reading.read_sources` does: the sources whose content is the same get their new
    stat; the others are to parse. Raises SourceError for one that cannot be read."""
    now = time.time_ns()
    same: dict[str, SourceRecord] = {}
    todo: list[tuple[SourceFile, bytes]] = []
    stats: dict[str, StatKey | None] = {}
    for f in changed:
        data = read_bytes(f)
        stat = stat_key(f.stat, now) if f.stat is not None else None
        rec = records[f.rel]
        if rec.digest == digest(data):
            same[f.rel] = rec._replace(stat=stat)
            continue
        stats[f.rel] = stat
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


class Refs(Mapping[str, SourceRef]):
    """Every source as the reduced notes show it, from the state; the changed ones as now."""

    def __init__(self, store: Store, stems: Stems, records: Mapping[str, SourceRecord]) -> None:
        self._store, self._stems, self._records = store, stems, records
        self._count = store.count_sources()
        self._known: dict[str, SourceRef] = {}

    def __getitem__(self, path: str) -> SourceRef:
        ref = self._known.get(path)
        if ref is None:
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
        out = []
        for path, rec, note_path in self._store.sources_with_notes():
            rec = self._records.get(path, rec)
            out.append(SourceRef(stem_of(note_path), rec.title, rec.published, rec.publisher))
        return out
