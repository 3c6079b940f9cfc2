"""The build proper: state → catalog → sources → notes → plan → writes → state."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from kbgen.build import snapshot
from kbgen.build.changes import Inputs, Ref, notes_to_render
from kbgen.build.identity import source_ids
from kbgen.build.quick import Ending
from kbgen.build.reading import Parsed, Reading, parse_paths, read_sources, removal_lines
from kbgen.build.reduce import Reduction, pages_by_entity
from kbgen.build.reducer import Reducer
from kbgen.build.report import Report, progress_bar
from kbgen.core import forked
from kbgen.core.config import Config
from kbgen.core.errors import SourceError
from kbgen.core.keys import (
    CANDIDATES,
    TIMELINE,
    Totals,
    day_page,
    is_page,
    month_page,
    page_owner,
    page_period,
)
from kbgen.core.model import Contribution, Entity, Note
from kbgen.core.names import Naming, Wanted, allocate, fold_key, stem_of
from kbgen.core.plural import counted
from kbgen.link import catalog as catalog_mod
from kbgen.link import relink
from kbgen.link.catalog import author_id
from kbgen.link.extract import Matcher
from kbgen.link.index import Tally, day_of, tallied
from kbgen.read.sources import SourceFile
from kbgen.render import canvas, promotion
from kbgen.render.notes import (
    SourceRef,
    by_day,
    notes_of_month,
    paged,
)
from kbgen.render.source import Targets, render_source
from kbgen.state.staged import Replacing, Staged
from kbgen.state.store import (
    UNKNOWN_BASE,
    NoteRecord,
    SourceRecord,
    State,
    Store,
    settle,
)
from kbgen.vault import files as vault_mod
from kbgen.vault.actions import Action, Plan
from kbgen.vault.files import MAP
from kbgen.vault.plan import (
    Execution,
    OnDisk,
    after_of,
    execute,
    locate,
    pinned_notes,
    plan_notes,
    plan_rest,
    plan_stale,
    read_unread,
)
from kbgen.vault.scan import VaultScan, scan


def _naming(
    wanted: list[Wanted],
    state: State,
    located: dict[str, OnDisk],
    user_stems: set[str],
    old_stems: dict[str, str],
) -> tuple[Naming, dict[str, str]]:
    """Stems for every note, and the folders of notes that stay where the user put them."""
    ids = {w.kbgen_id for w in wanted}
    staying = staying_put(state, located)
    naming = allocate(
        wanted,
        user_stems=user_stems,
        fixed={i: stem_of(p) for i, p in staying.items()},
        previous=old_stems,
    )
    return naming, folders_of(staying, ids)


def staying_put(state: State, located: Mapping[str, OnDisk]) -> dict[str, str]:
    """The notes that keep their path (kbgen_id → path): those the user moved, renamed, pinned
    or wrote in, wanted or not. A note nothing wants that kbgen may delete (untouched) leaves
    its name to the notes of this build: it is deleted before they are written."""
    renamable = {
        kbgen_id
        for kbgen_id, disk in located.items()
        if not disk.moved
        and not state.notes[kbgen_id].pinned
        and (disk.pristine or disk.damaged in ("empty", "truncated"))
    }
    return {
        kbgen_id: disk.path
        for kbgen_id, disk in located.items()
        if disk.path is not None and kbgen_id not in renamable
    }


def folders_of(staying: Mapping[str, str], wanted: AbstractSet[str]) -> dict[str, str]:
    """The folders of the wanted notes that stay where they are ("" for the vault's root)."""
    folders = {i: Path(p).parent.as_posix() for i, p in staying.items() if i in wanted}
    return {i: "" if f == "." else f for i, f in folders.items()}


def _notices(plan: Plan, naming: Naming, scan_: VaultScan, located: dict[str, OnDisk]) -> list[str]:
    """What a user must be told: names chosen beside theirs, their notes used as targets."""
    by_key = {fold_key(stem_of(p)): p for p in scan_.user_paths}
    created = {a.kbgen_id: a.path for a in plan.of("create", "restore")}
    out = [
        f"name    {created[i]}  (your note {by_key[fold_key(name)]} has the name "
        f"'{name}'; it is left as it is)"
        for i, name in sorted(naming.displaced.items())
        if i in created
    ]
    out += _user_notices(scan_.entities)
    out += [
        f"found   {disk.path}  (moved or renamed by you; kept there)"
        for disk in located.values()
        if disk.moved and disk.path
    ]
    return out


def update(
    config: Config,
    store: Store,
    report: Report,
    listed: dict[str, os.stat_result],
    found_sources: tuple[list[SourceFile], list[SourceError]],
    progress: bool,
    parallel: bool,
) -> Ending | None:
    """The build proper; what the next build may take as given (None for a dry run)."""
    new = Staged()  # the contributions of every source parsed, as it comes
    try:
        vault = config.vault
        state, leftovers, found, located = _vault_side(store, vault, listed)
        report.lap("vault")
        promoted = promotions_of(store, located)
        catalog = catalog_mod.load(
            list(config.catalogs),
            found.entities,
            _aliases_added_in_notes(located),
            [promotion.entity_of(p) for p in promoted],
        )
        fingerprint = fingerprint_of(catalog)
        change = _catalog_change(store, state, catalog, fingerprint)
        full, entries, relinked = change.full, change.before, change.relinked
        matcher = functools.cache(lambda: matcher_for(catalog))
        # what an older catalog or kbgen stored is not added to, whatever its format
        old_totals: Totals = {} if full else store.totals()
        tally = Tally(old_totals)  # each parsed source added as it comes
        report.lap("catalog")
        reading = read_sources(
            found_sources,
            state,
            full,
            matcher,
            progress,
            report.errors,
            parallel,
            on_parsed=lambda parsed: take_parsed(parsed, tally, new),
            relink=relinked,
        )
        report.lap("read")
        report.sources = len(reading.present) + sum(
            e.path not in reading.present for e in report.errors
        )
        articles = [p for _, p in sorted(reading.parsed.items())]
        ids = source_ids(articles, state, {p: r.id for p, r in reading.kept.items()})
        records = _records(reading, ids)
        changed = set(reading.parsed)
        gone = set(state.sources) - set(records)
        author_ids = {n: author_id(n) for a in articles for n in a.meta.authors}
        del articles  # `render_each` lets each prepared note go once it is rendered
        old = {} if full else taken_away(store, changed | gone, tally)
        now = {} if full else {source: digests_of(new[source]) for source in new}
        totals = tally.totals()
        entities, authors = named_in(catalog, totals)
        wanted = wanted_notes(entities, authors, records, totals)
        wanted_ids = {w.kbgen_id for w in wanted}
        old_stems = {i: stem_of(n.path) for i, n in state.notes.items()}
        user_stems = {stem_of(p) for p in found.user_paths}
        naming, folders = _naming(wanted, state, located, user_stems, old_stems)
        stems = naming.stems
        report.lap("names")
        protected = {state.sources[e.path].id for e in report.errors if e.path in state.sources}
        if full:
            render = set(wanted_ids)
        else:
            old_refs, new_refs = _refs_shown(changed | gone, state, records, old_stems, stems)
            inputs = Inputs(
                changed,
                gone,
                old,
                now,
                old_refs,
                new_refs,
                old_stems,
                stems,
                totals != old_totals,
            )
            render = _changed_notes(inputs, new, records, located, store, totals, old_totals)
            if change.entries_changed:
                render |= _showing_entries(
                    entries,
                    catalog.entities,
                    ids,
                    feeders=_feeders(store, new),
                    related=related_of(totals, old_totals),
                )
        render |= owners_showing(render, totals, old_totals)
        render = (render & wanted_ids) - protected
        by_id = {r.id: p for p, r in records.items()}
        to_parse = {by_id[i] for i in render if i in by_id} - changed
        reading.parsed.update(parse_paths(config, to_parse, matcher, report.errors, parallel))
        targets = targets_of(entities, authors, author_ids, stems)
        refs = {
            p: SourceRef(stems[r.id], r.title, r.published, r.publisher) for p, r in records.items()
        }
        all_new = set(state.sources) <= changed | gone
        reduction = Reduction(
            store, new, gone, totals, refs, stems, targets, catalog, promoted, all_new=all_new
        )
        report.parsed = len(reading.parsed)
        report.removed = removal_lines(reading.parsed)
        plan = Plan(pinned=pinned_notes(state, located))
        after = after_of(state)
        stale = set(state.notes) - wanted_ids - protected
        read_unread(located, stale, state, vault, store)
        leaving = plan_stale(state, located, stale)
        if not report.dry_run:  # first: a note of this build may take a name one leaves
            execute(leaving, plan, state, after, store, vault, located)
            leaving = [a.spent() for a in leaving]
        # in the background while the next part renders: with one part, nothing to overlap
        background = parallel and len(render) > PART and forked.can_fork()
        sources_order, reduced = render_order(reading, ids, render)
        # the reduced notes of a build of every source rendered by a forked process, started
        # before the writing process (`reducer`)
        aside = Reducer(reduction, reduced) if background and all_new else None
        with aside or contextlib.nullcontext():
            notes = render_each(
                reading, ids, stems, targets, render, reduced, reduction, folders, aside
            )
            doing = "planning" if report.dry_run else "writing"
            bar = progress_bar(len(render), doing, "note") if progress else None
            rendered = in_parts(
                notes, plan, state, after, located, store, vault, report, bar, background
            )
        if aside:  # listed in the order they are when rendered in this process
            rank = {kbgen_id: n for n, kbgen_id in enumerate([*sources_order, *reduced])}
            plan.actions.sort(key=lambda a: rank.get(a.kbgen_id, len(rank)))
        report.rendered = len(rendered)
        unchanged, plan.unlisted_unchanged = plan_rest(rendered, state, located, wanted_ids)
        temps_left = _leftovers_deleted(vault, leftovers)
        plan.notices = _notices(plan, naming, found, located)
        if change.entries_changed:
            count = report.sources if full else len(relinked)
            plan.notices.append(_relinked_notice(entries, catalog, count, report.sources))
        report.plan = plan
        if report.dry_run:
            plan.actions += [*unchanged, *leaving, *temps_left]
            return None
        execute([*unchanged, *temps_left], plan, state, after, store, vault, located)
        plan.actions += [a.spent() for a in [*unchanged, *leaving, *temps_left]]
        redraw = (
            full
            or change.entries_changed
            or totals != old_totals
            or _renamed(entities, stems, state)
        )
        report.map_written, drawn = draw_map(
            vault, entities, totals, after, redraw, plan, store.meta("map")
        )
        report.lap("write")
        report.catalog_notes = _catalog_notes(found, after)
        after.sources = records
        store.commit(
            after,
            replace_all=full,
            contributions=new if full else replaced(changed, gone, old, now, new),
            words=() if full else new.words(),  # a Staged brings its own (commit)
            meta={
                "fingerprint": fingerprint,
                "entities": change.kept,
                "promoted": promotion.dumps(promoted),
                **({"map": drawn} if drawn is not None else {}),
            },
            totals=totals,
        )
        report.lap("state")
        return Ending(
            catalog,
            change.kept,
            _user_notices(found.entities),
            report.catalog_notes,
            len(wanted_ids),
            after,
        )
    finally:
        new.close()


def _vault_side(
    store: Store, vault: Path, listed: dict[str, os.stat_result]
) -> tuple[State, list[str], VaultScan, dict[str, OnDisk]]:
    """The state as the last build left it (a killed one's writes settled), the vault scanned,
    notes the state lost taken back, and where each note is and whether the user changed it;
    also the notes a killed build left behind, to delete."""
    loaded = store.load()
    state, leftovers = settle(loaded, _pending_bytes(loaded, vault))
    found = scan(vault, state, listed)
    _adopt(state, found)
    located = locate(state, vault, found.found, store, listed)
    return state, leftovers, found, located


def _refs_shown(
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


def _changed_notes(
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
        feeds=lambda path: set(store.contributions_of([path])[path]) | {"home"},
        feeders=_feeders(store, new),
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


def _user_notices(entities: Iterable[Entity]) -> list[str]:
    """The notices every build gives for the user's notes that are link targets."""
    return [
        f"link    {e.name} → your note {e.user_note} (it says type: {e.type})" for e in entities
    ]


def _relinked_notice(
    old: list[Entity], catalog: catalog_mod.Catalog, relinked: int, sources: int
) -> str:
    """What a catalog change cost, for `-v`: the entries that changed, the sources relinked."""
    changed = sorted(relink.changed_entries(old, catalog.entities))
    names = {e.key: e.name for e in (*old, *catalog.entities)}
    shown = ", ".join(names[k] for k in changed[:3]) + (" …" if len(changed) > 3 else "")
    entries = counted(len(changed), "catalog entry", "catalog entries")
    return f"relink  {relinked} of {counted(sources, 'source')}: {entries} changed ({shown})"


@dataclasses.dataclass(frozen=True)
class _CatalogChange:
    """How the catalog differs from the one the stored contributions were made with."""

    full: bool  # every source read again: kbgen's code or the honorifics changed, or too much
    before: list[Entity]  # the entries then (now's, when kbgen's code or the honorifics changed)
    entries_changed: bool
    relinked: set[str]  # the sources to read again whatever their stat
    kept: str  # the entries now, as the state keeps them for the next build


def _catalog_change(
    store: Store, state: State, catalog: catalog_mod.Catalog, fingerprint: str
) -> _CatalogChange:
    kept = relink.dumps(catalog.entities)
    stored = store.meta("entities")
    now = list(catalog.entities)
    if store.meta("fingerprint") != fingerprint:
        return _CatalogChange(True, now, False, set(), kept)
    if stored == kept:  # the usual case, told without parsing what was stored
        return _CatalogChange(False, now, False, set(), kept)
    before = relink.loads(stored)
    if before is None:  # entries not known: every source is read again
        return _CatalogChange(True, now, False, set(), kept)
    if before == now:
        return _CatalogChange(False, before, False, set(), kept)
    relinked = _relinked(store, state, before, catalog)
    full = len(relinked) > RELINK_AT_MOST * len(state.sources)
    return _CatalogChange(full, before, True, relinked, kept)


def _relinked(
    store: Store, state: State, entries: list[Entity], catalog: catalog_mod.Catalog
) -> set[str]:
    """The sources a catalog change may link differently: those with the words of an alias
    that matches differently now (the honorifics, global, are the same: see `fingerprint_of`)."""
    before = catalog_mod.Catalog(tuple(entries), catalog.honorifics)
    return store.sources_with_words(relink.words_to_look_for(before, catalog), state.sources)


def _feeders(store: Store, new: Staged) -> Callable[[str], set[str]]:
    """The sources that give a note something: as stored, and those parsed in this build."""
    return lambda note: store.sources_feeding(note) | new.feeding(note)


def related_of(totals: Totals, old_totals: Totals) -> Callable[[str], set[str]]:
    """The entities an entity note lists among those it appears with (as last built, if it is
    gone)."""
    return lambda key: set(totals.get(key, old_totals.get(key, [0, 0, None, {}]))[3])


def _showing_entries(
    old: list[Entity],
    new: tuple[Entity, ...],
    ids: Mapping[str, str],
    feeders: Callable[[str], set[str]],
    related: Callable[[str], set[str]],
) -> set[str]:
    """What shows a catalog entry that changed: its note, Home and Candidates (which list the
    entries), and, when its links go to another note now, every note linking to it (the
    source notes that mention it, the entries it appears with)."""
    out = relink.changed_entries(old, new) | {"home", CANDIDATES}
    for key in relink.moved_targets(old, new):
        out |= {ids[s] for s in feeders(key) if s in ids} | related(key)
    return out


def targets_of(
    entities: list[Entity],
    authors: Mapping[str, str],
    author_ids: Mapping[str, str],
    stems: Mapping[str, str],
) -> Targets:
    """Where a source note's links go: each entity's note (the user's own, if they made one)
    and each author's."""
    return Targets(
        entities={e.key: stem_of(e.user_note) if e.user_note else stems[e.key] for e in entities},
        authors={n: stems[i] for n, i in author_ids.items() if i in stems}
        | {n: stems[i] for i, n in authors.items()},
    )


def _leftovers_deleted(vault: Path, leftovers: list[str]) -> list[Action]:
    return [
        Action(
            "delete", "", p, expect=vault_mod.read_bytes(vault / p), detail="left by a killed build"
        )
        for p in leftovers
    ]


def _renamed(entities: list[Entity], stems: Mapping[str, str], state: State) -> bool:
    """Whether an entity's note takes a new name (Map.canvas shows it by name)."""
    return any(
        stems.get(e.key) != stem_of(state.notes[e.key].path)
        for e in entities
        if e.key in state.notes
    )


def _catalog_notes(found: VaultScan, after: State) -> list[str]:
    """The notes the watcher reads catalog entries from: the user's and kbgen's entity notes."""
    return sorted(
        {e.user_note for e in found.entities if e.user_note}
        | {
            r.path
            for i, r in after.notes.items()
            if i == CANDIDATES or (i.startswith(("actor:", "issue:")) and not is_page(i))
        }
    )


# A catalog change that may relink more than this share of the sources rebuilds them all: as
# fast (at 10,000, relinking 95 % took 81 s, rebuilding all 74 s), and it holds less than
# comparing what nearly every source gave before and gives now (507 against ≈ 330 MB)
RELINK_AT_MOST = 0.5


PART = 500  # notes rendered, planned and written together, at most,
PART_CHARS = 4_000_000  # and at most this much of their text, give or take a note (month
# pages grow with the vault): a part holds its renderings and, while it is written, their bytes


def in_parts(
    notes: Iterator[Note],
    plan: Plan,
    state: State,
    after: State,
    located: dict[str, OnDisk],
    store: Store,
    vault: Path,
    report: Report,
    bar: Any = None,
    background: bool = False,
) -> set[str]:
    """Each part of `notes` planned, then (unless a dry run) journaled and written, its actions
    added to `plan` and recorded in `after`; the ids of the notes rendered. `bar`, a progress
    bar counting them, is closed at the end.

    `background`: a part is written by a helper process while the next ones are rendered
    (`plan.Execution`); two parts at most are in its hands when a third is planned. A
    part's writes never touch the files another part plans from: each goes where its note
    already is, or where nothing is (a path still taken is tried again at the end).
    """
    rendered: set[str] = set()
    with vault_mod.Writer(background and not report.dry_run) as writer:
        run = Execution(plan, state, after, store, vault, writer)
        writing: list[tuple[list[Note], list[Action]]] = []  # parts started, not finished
        consumed = {CANDIDATES: promotion.consume_ticks}
        try:
            for part in _parts(notes):  # rendered while the last parts are written
                report.lap("render")
                if len(writing) > 1:  # two parts in the writer's hands: the first must be done
                    _written(run, *writing.pop(0), plan, located, report, bar, leaving=1)
                rendered |= {n.kbgen_id for n in part}
                read_unread(located, [n.kbgen_id for n in part], state, vault, store)
                actions = plan_notes(part, state, located, store, consumed)
                report.lap("plan")
                if not report.dry_run:
                    run.start(actions, located)
                writing.append((part, actions))
                del part  # let go with its entry in `writing`
            while writing:
                _written(run, *writing.pop(0), plan, located, report, bar)
            run.retry()
            if bar is not None:
                bar.total = bar.n  # a note to render may turn out to have none: the bar ends full
        finally:
            if bar is not None:
                bar.close()
    return rendered


def _written(
    run: Execution,
    part: list[Note],
    actions: list[Action],
    plan: Plan,
    located: dict[str, OnDisk],
    report: Report,
    bar: Any,
    leaving: int = 0,
) -> None:
    """A part once its writes are done (but for the last `leaving` parts started): its
    actions in the plan, its notes' bytes let go."""
    run.finish(leaving)
    report.lap("write")
    plan.actions += [a.spent() for a in actions]
    _let_go(located, part)
    if bar is not None:
        bar.update(len(part))


def _parts(notes: Iterator[Note]) -> Iterator[list[Note]]:
    part: list[Note] = []
    size = 0
    for note in notes:
        part.append(note)
        size += len(note.text)
        if len(part) >= PART or size >= PART_CHARS:
            yield part
            part, size = [], 0
    if part:
        yield part


def render_order(
    reading: Reading, ids: Mapping[str, str], render: set[str]
) -> tuple[list[str], list[str]]:
    """The notes `render_each` renders, in the order it renders them in this process: the
    sources', then the reduced notes, Home and Candidates last (they show the others)."""
    sources = [ids[path] for path in sorted(reading.parsed) if ids[path] in render]
    last = [i for i in ("home", CANDIDATES) if i in render]
    rest = render - set(sources) - {"home", CANDIDATES}
    return sources, [*sorted(rest), *last]


def render_each(
    reading: Reading,
    ids: Mapping[str, str],
    stems: Mapping[str, str],
    targets: Targets,
    render: set[str],
    reduced: list[str],
    reduction: Reduction,
    folders: Mapping[str, str],
    aside: Reducer | None = None,
) -> Iterator[Note]:
    """The notes to render, rendered one by one in `render_order` (`reduced` is its second
    list). A source's prepared note is let go once rendered.

    `aside`: the reduced notes are rendered by that forked process, and taken as they come
    between parts of sources: the parts' notes and order then depend on timing, the notes'
    bytes do not."""

    def rendered_sources() -> Iterator[Note]:
        for path in sorted(reading.parsed):
            prepared = reading.parsed.pop(path)
            if (kbgen_id := ids[path]) in render:
                # held by no local while this waits (between parts, when reduced notes are
                # taken aside): the caller lets go of each part
                yield _placed(
                    render_source(
                        prepared, kbgen_id=kbgen_id, stem=stems[kbgen_id], targets=targets
                    ),
                    folders,
                )

    sources = rendered_sources()
    if aside is None:
        yield from sources
        for kbgen_id in reduced:
            if (note := reduction.render(kbgen_id)) is not None:
                yield _placed(note, folders)
                del note
        return
    more = True
    while more:
        more = False
        for note in itertools.islice(sources, PART):
            more = True
            yield note
            del note  # held by no local once taken: `in_parts` lets go of each part
        for chunk in aside.done():  # those rendered meanwhile: the process works on
            yield from _each(chunk, folders)
    for chunk in aside.rest():
        yield from _each(chunk, folders)


def _each(notes: list[Note], folders: Mapping[str, str]) -> Iterator[Note]:
    """The notes of a list, emptying it as they go: a list held whole would keep the notes
    of the parts already written (`in_parts` lets go of each)."""
    notes.reverse()
    while notes:
        yield _placed(notes.pop(), folders)


def _let_go(located: dict[str, OnDisk], part: list[Note]) -> None:
    """The bytes read of a part's notes, once it is planned and written: a rebuild of every
    note (a catalog change) would otherwise end up holding the whole vault."""
    for note in part:
        disk = located.get(note.kbgen_id)
        if disk is not None and disk.data is not None:
            located[note.kbgen_id] = disk._replace(data=None)


def _placed(note: Note, folders: Mapping[str, str]) -> Note:
    """In the folder the user moved it to, if they did: it stays there."""
    folder = folders.get(note.kbgen_id)
    return note if folder is None else dataclasses.replace(note, folder=folder)


def take_parsed(parsed: Parsed, tally: Tally, staged: Staged) -> None:
    """A source just parsed: added to the totals, its contributions and words put aside."""
    tally.add(parsed.tallied)
    staged.add(parsed.prepared.source, parsed.contributions, parsed.words)


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


def _records(reading: Reading, ids: dict[str, str]) -> dict[str, SourceRecord]:
    """Every source's record as it will be committed: kept ones as they were, parsed ones anew."""
    records = dict(reading.kept)
    for path, prepared in reading.parsed.items():
        meta = prepared.meta
        records[path] = SourceRecord(
            prepared.digest,
            ids[path],
            meta.title,
            meta.published,
            meta.publisher,
            reading.stats.get(path),
        )
    return dict(sorted(records.items()))


def named_in(catalog: catalog_mod.Catalog, totals: Totals) -> tuple[list[Entity], dict[str, str]]:
    """The catalog's entities the totals count mentions of, and the authors they give a note
    (by kbgen_id, with their names)."""
    entities = [e for e in catalog.entities if e.key in totals]
    return entities, {i: str(t[2]) for i, t in totals.items() if i.startswith("author:")}


def wanted_notes(
    entities: list[Entity],
    authors: dict[str, str],
    records: dict[str, SourceRecord],
    totals: Totals,
) -> list[Wanted]:
    """Every note the vault should hold, in the order names are handed out."""
    ours = [e for e in entities if e.user_note is None]
    wanted = [Wanted(e.key, e.name, e.type) for e in ours]
    pages = pages_by_entity(totals)
    wanted += [
        Wanted(page, f"{e.name}, {page_period(page)}", e.type)
        for e in ours
        if paged(totals[e.key])
        for month in pages.get(e.key, [])
        for page in notes_of_month(month, totals[month])
    ]
    wanted += [Wanted(i, n, "author") for i, n in sorted(authors.items(), key=lambda x: x[1])]
    wanted += [Wanted(r.id, r.title or stem_of(p)) for p, r in records.items()]
    wanted.append(Wanted("home", "Home"))
    wanted.append(Wanted(CANDIDATES, "Candidates"))
    wanted.append(Wanted(TIMELINE, "Timeline"))
    wanted += [
        Wanted(k, f"Timeline {k.partition('@')[2]}") for k in totals if k.startswith(f"{TIMELINE}@")
    ]
    return wanted


def ref_of(rec: SourceRecord, stems: Mapping[str, str]) -> Ref:
    return (rec.id, rec.title, rec.published, rec.publisher, stems.get(rec.id))


def promotions_of(store: Store, located: dict[str, OnDisk]) -> list[promotion.Promoted]:
    """The candidates promoted so far, with the ticks in the Candidates note if the user changed it."""
    disk = located.get(CANDIDATES)
    text = None
    if disk is not None and disk.data is not None and not disk.pristine:
        text = disk.data.decode("utf-8", errors="replace")
    stored = promotion.loads(store.meta("promoted"))
    return promotion.promotions(stored, text, lambda: store.lines_of(CANDIDATES))


def draw_map(
    vault: Path,
    entities: list[Entity],
    totals: Totals,
    after: State,
    redraw: bool,
    plan: Plan,
    base: str | None,
) -> tuple[bool, str | None]:
    """Map.canvas, drawn again when what it shows may have changed; the user's arrangement kept.

    Returns whether it was written, and where kbgen drew its nodes (None if not drawn), the
    base the next drawing tells the user's moves apart from."""
    path = vault / MAP
    old_bytes = vault_mod.read_bytes(path)
    if not redraw and old_bytes is not None:
        return False, None
    paths = {e.key: after.notes[e.key].path for e in entities if e.key in after.notes}
    paths |= {e.key: e.user_note for e in entities if e.user_note}
    drawn = canvas.build_canvas(entities, totals, paths)
    old = None
    if old_bytes is not None:
        try:
            old = json.loads(old_bytes)
        except ValueError:
            plan.notices.append(f"keep    {MAP}  (not valid JSON Canvas: left as it is)")
            return False, None
    data = canvas.dumps(canvas.merged_with(drawn, old, base))
    if data == old_bytes:
        return False, canvas.geometry(drawn)
    with vault_mod.Writer() as writer:
        writer.write(path, data)
    return True, canvas.geometry(drawn)


# the last catalog's matcher: `kbgen watch` builds again and again with the same catalog
matcher_for = functools.lru_cache(maxsize=1)(Matcher)


def fingerprint_of(catalog: catalog_mod.Catalog) -> str:
    """What every contribution depends on besides its source and the catalog's entries (which
    `relink` compares one by one): kbgen's code, and the honorifics that make aliases of
    every person. A change to either rebuilds everything once, so a kbgen upgrade can never
    leave notes rendered the old way."""
    h = snapshot.code_digest()
    h.update(repr(catalog.honorifics).encode("utf-8"))
    return h.hexdigest()


def _adopt(state: State, found: VaultScan) -> None:
    """Take back notes that carry a kbgen_id the state does not know (its database was lost).

    With no merge base they count as edited: kept as they are this once,
    merged from the next build on. A source note's `source` property gives
    its source back its id, so no duplicate note is made for it.
    """
    for kbgen_id, path in found.adopted.items():
        state.notes[kbgen_id] = NoteRecord(path, base=UNKNOWN_BASE, written=UNKNOWN_BASE)
    for source, kbgen_id in found.adopted_sources.items():
        state.sources.setdefault(source, SourceRecord(UNKNOWN_BASE, kbgen_id))


def _aliases_added_in_notes(located: dict[str, OnDisk]) -> dict[str, list[object]]:
    """Every alias in an actor or issue note the user touched (the catalog's own are deduplicated).

    Compared with the catalog rather than the note's last rendering, so an
    alias stays honoured after kbgen has rendered it once.
    """
    return {
        kbgen_id: list(disk.aliases)
        for kbgen_id, disk in sorted(located.items())
        if disk.aliases is not None and not disk.pristine and not is_page(kbgen_id)
    }


def _pending_bytes(state: State, vault: Path) -> dict[str, bytes | None]:
    """The files a killed build may have been writing, and where those notes were before."""
    paths = {p.path for p in state.pending.values()}
    paths |= {state.notes[i].path for i in state.pending if i in state.notes}
    return {p: vault_mod.read_bytes(vault / p) for p in sorted(paths)}
