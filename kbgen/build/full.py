"""The build proper: state → catalog → sources → notes → plan → writes → state."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kbgen.build.catalog_change import (
    NOTE_ALIASES,
    CatalogChange,
    catalog_change,
    catalog_of,
    fingerprint_of,
    matcher_for,
    promotions_of,
    relinked_notice,
)
from kbgen.build.changes import (
    Inputs,
    changed_notes,
    digests_of,
    feeders,
    owners_showing,
    refs_shown,
    related_of,
    replaced,
    showing_entries,
    taken_away,
)
from kbgen.build.finish import Commit, Finish, finish
from kbgen.build.naming import (
    name_notes,
    named_in,
    out_of_the_way,
    renamed,
    source_ids,
    targets_of,
    wanted_notes,
)
from kbgen.build.notices import catalog_notes, notices_of, user_notices
from kbgen.build.opening import Opened, leftovers_deleted, open_vault, orphaned_sources
from kbgen.build.quick import Ending
from kbgen.build.reading import Reading, parse_paths, read_sources, removal_lines, take_parsed
from kbgen.build.reduce import Reduction
from kbgen.build.report import Report
from kbgen.core.config import Config
from kbgen.core.errors import SourceError
from kbgen.core.keys import (
    Totals,
)
from kbgen.core.model import Entity
from kbgen.core.names import Naming, fold_key, stem_of
from kbgen.link.catalog import Catalog, author_id
from kbgen.link.extract import Matcher
from kbgen.link.index import Tally
from kbgen.read.sources import SourceFile
from kbgen.render import promotion
from kbgen.render.notes import (
    SourceRef,
)
from kbgen.render.promotion import Promoted
from kbgen.render.source import Targets
from kbgen.state.staged import Staged
from kbgen.state.store import (
    SourceRecord,
    State,
    Store,
)
from kbgen.vault.actions import Action, Plan
from kbgen.vault.execute import after_of, execute
from kbgen.vault.locate import read_unread
from kbgen.vault.plan import pinned_notes, plan_stale


def update(
    config: Config,
    store: Store,
    report: Report,
    listed: dict[str, os.stat_result],
    found_sources: tuple[list[SourceFile], list[SourceError]],
    progress: bool,
    parallel: bool,
) -> Ending | None:
    """The full path, step by step (docs/architecture.md, "One build"); what the next build
    may take as given (None for a dry run)."""
    run = _Run(config, store, report, Staged(), parallel, progress)
    try:
        vault = open_vault(store, config.vault, listed)
        report.lap("vault")
        linking = _load_catalog(run, vault)
        report.lap("catalog")
        sources = _read(run, found_sources, vault.state, linking)
        report.lap("read")
        names = _name(sources, vault, linking.catalog)
        report.lap("names")
        render = _choose(run, sources, vault, linking, names)
        job = _to_finish(run, sources, vault, linking, names, render)
        committed = finish(job)
        _tell(report, vault, linking, names, sources)
        if not committed:
            return None
        report.catalog_notes = catalog_notes(vault.found, job.after)
        notices = user_notices(vault.found.entities)
        kept = linking.change.kept
        wanted = len(names.wanted)
        return Ending(linking.catalog, kept, notices, report.catalog_notes, wanted, job.after)
    finally:
        run.new.close()


@dataclass
class _Run:
    """What every step of one full build shares."""

    config: Config
    store: Store
    report: Report
    new: Staged  # the contributions of every source parsed, as it comes
    parallel: bool  # forked processes may read, write and render
    progress: bool  # progress bars on stderr


@dataclass
class _Linking:
    """Step 2: the catalog the sources are linked with, and how it changed."""

    catalog: Catalog
    change: CatalogChange
    promoted: list[Promoted]  # the candidates the user ticked, now actors
    fingerprint: str
    matcher: Callable[[], Matcher]  # built once, when a source is first linked
    old_totals: Totals  # the vault-wide counts as last built ({} when every source is read)
    tally: Tally  # the counts, as each source read adds its own and takes its old ones away
    note_aliases: str  # the aliases the user wrote into kbgen's notes, kept for the next build


def _load_catalog(run: _Run, vault: Opened) -> _Linking:
    """The shipped catalog, the user's YAML files, their notes that say `type: actor`, the
    aliases they added in kbgen's entity notes and the candidates they promoted."""
    store = run.store
    promoted = promotions_of(store, vault.located)
    catalog, note_aliases = catalog_of(
        list(run.config.catalogs),
        vault.found.entities,
        vault.located,
        [promotion.entity_of(p) for p in promoted],
        store.meta(NOTE_ALIASES),
    )
    fingerprint = fingerprint_of(catalog)
    change = catalog_change(store, vault.state, catalog, fingerprint)
    matcher = functools.cache(lambda: matcher_for(catalog))
    # what an older catalog or kbgen stored is not added to, whatever its format
    old_totals: Totals = {} if change.full else store.totals()
    tally = Tally(old_totals)
    return _Linking(
        catalog, change, promoted, fingerprint, matcher, old_totals, tally, note_aliases
    )


@dataclass
class _Sources:
    """Step 3: the sources, those that changed read and linked, and what they give the notes."""

    reading: Reading
    ids: dict[str, str]  # source path → its note's kbgen_id
    records: dict[str, SourceRecord]  # every source's, as the state will keep it
    changed: set[str]  # read and linked this build
    gone: set[str]  # no longer in the sources folder
    author_ids: dict[str, str]  # the authors of the sources read: name → kbgen_id
    old: dict[str, dict[str, str]]  # per changed or gone source, its contributions' digests
    now: dict[str, dict[str, str]]  # then, and now (both empty when every source is read)
    totals: Totals


def _read(
    run: _Run, found: tuple[list[SourceFile], list[SourceError]], state: State, linking: _Linking
) -> _Sources:
    """The sources whose content changed (all of them when the catalog's fingerprint did, and
    those a catalog change may link anew) read and linked on every core; their contributions
    staged in `new` and counted in the totals as they come."""
    change, tally, new, report = linking.change, linking.tally, run.new, run.report
    reading = read_sources(
        found, state, change.full, linking.matcher, run.progress, report.errors, run.parallel,
        on_parsed=lambda parsed: take_parsed(parsed, tally, new), relink=change.relinked,
    )  # fmt: skip
    report.sources = len(reading.present) + sum(
        e.path not in reading.present for e in report.errors
    )
    articles = [p for _, p in sorted(reading.parsed.items())]
    kept = {p: r.id for p, r in reading.kept.items()}
    ids = source_ids(articles, state, kept, lambda: orphaned_sources(state, run.store))
    records = _records(reading, ids)
    changed, gone = set(reading.parsed), set(state.sources) - set(records)
    author_ids = {n: author_id(n) for a in articles for n in a.meta.authors}
    del articles  # `render_each` lets each prepared note go once it is rendered
    full = change.full
    old = {} if full else taken_away(run.store, changed | gone, tally)
    now = {} if full else {source: digests_of(new[source]) for source in new}
    return _Sources(reading, ids, records, changed, gone, author_ids, old, now, tally.totals())


@dataclass
class _Names:
    """Step 4: every note the vault should hold, and its name."""

    entities: list[Entity]  # the catalog's entities mentioned
    authors: dict[str, str]  # author note id → name
    wanted: set[str]  # the ids of every note the vault should hold
    old_stems: dict[str, str]  # kbgen_id → note name, as last built
    naming: Naming
    folders: dict[str, str]  # the notes that stay in the folder the user moved them to


def _name(sources: _Sources, vault: Opened, catalog: Catalog) -> _Names:
    entities, authors = named_in(catalog, sources.totals)
    wanted = wanted_notes(entities, authors, sources.records, sources.totals)
    state = vault.state
    old_stems = {i: stem_of(n.path) for i, n in state.notes.items()}
    user_stems = {stem_of(p) for p in vault.found.user_paths}
    naming, folders = name_notes(wanted, state, vault.located, user_stems, old_stems)
    ids = {w.kbgen_id for w in wanted}
    return _Names(entities, authors, ids, old_stems, naming, folders)


def _choose(
    run: _Run, sources: _Sources, vault: Opened, linking: _Linking, names: _Names
) -> set[str]:
    """Step 5: the notes to render: every one when every source was read, else those whose
    inputs changed (`changes.notes_to_render`); never those of a source that failed now."""
    totals, old_totals, stems = sources.totals, linking.old_totals, names.naming.stems
    state, change, store, new = vault.state, linking.change, run.store, run.new
    if change.full:
        render = set(names.wanted)
    else:
        touched = sources.changed | sources.gone
        old_refs, new_refs = refs_shown(touched, state, sources.records, names.old_stems, stems)
        inputs = Inputs(
            sources.changed, sources.gone, sources.old, sources.now, old_refs, new_refs,
            names.old_stems, stems, totals != old_totals,
        )  # fmt: skip
        render = changed_notes(
            inputs, new, sources.records, vault.located, store, totals, old_totals
        )
        if change.entries_changed:
            render |= showing_entries(
                change.before, linking.catalog.entities, sources.ids,
                feeders=feeders(store, new), related=related_of(totals, old_totals),
            )  # fmt: skip
    render |= owners_showing(render, totals, old_totals)
    return (render & names.wanted) - _failed_now(run.report, state)


def _failed_now(report: Report, state: State) -> set[str]:
    """The notes of the sources that fail this build: left as the last build wrote them."""
    return {state.sources[e.path].id for e in report.errors if e.path in state.sources}


def _to_finish(
    run: _Run, sources: _Sources, vault: Opened, linking: _Linking, names: _Names, render: set[str]
) -> Finish:
    """Steps 6 and 7: the sources whose notes render read too (their note's name or what
    they show changed), the stale notes deleted first (a note of this build may take a name
    one leaves), and what `finish` needs."""
    reading, records, stems = sources.reading, sources.records, names.naming.stems
    config, store, report, state = run.config, run.store, run.report, vault.state
    by_id = {r.id: p for p, r in records.items()}
    more = {by_id[i] for i in render if i in by_id} - sources.changed
    reading.parsed.update(parse_paths(config, more, linking.matcher, report.errors, run.parallel))
    report.parsed = len(reading.parsed)
    report.removed = removal_lines(reading.parsed)
    targets = targets_of(names.entities, names.authors, sources.author_ids, stems)
    all_new = set(state.sources) <= sources.changed | sources.gone
    reduction = _reduction(store, run.new, sources, linking, stems, targets, all_new)
    plan = Plan(pinned=pinned_notes(state, vault.located))
    after = after_of(state)
    staying = names.wanted | _failed_now(report, state)
    taken = {fold_key(s) for s in stems.values()}
    leaving = _stale_deleted(
        store, vault, staying, taken, plan, after, report.dry_run, config.vault
    )
    return Finish(
        config.vault, store, report, state, after, vault.located, plan, reading, sources.ids,
        render, stems, targets, reduction, names.folders, names.wanted, len(names.wanted),
        names.entities, sources.totals, _redraw(linking, sources, names, state), records,
        _commit_of(linking, sources, run.new), run.progress, run.parallel, all_new, leaving,
        leftovers_deleted(config.vault, vault.leftovers),
    )  # fmt: skip


def _reduction(
    store: Store,
    new: Staged,
    sources: _Sources,
    linking: _Linking,
    stems: Mapping[str, str],
    targets: Targets,
    all_new: bool,
) -> Reduction:
    refs = {
        p: SourceRef(stems[r.id], r.title, r.published, r.publisher)
        for p, r in sources.records.items()
    }
    return Reduction(
        store, new, sources.gone, sources.totals, refs, stems, targets, linking.catalog,
        linking.promoted, all_new=all_new,
    )  # fmt: skip


def _stale_deleted(
    store: Store,
    vault: Opened,
    staying: set[str],
    taken: set[str],
    plan: Plan,
    after: State,
    dry_run: bool,
    folder: Path,
) -> list[Action]:
    """The notes no longer wanted (their source gone, their entity no longer mentioned):
    deleted, or orphaned when the user wrote in them; carried out now unless a dry run."""
    state, located = vault.state, vault.located
    stale = set(state.notes) - staying
    read_unread(located, stale, state, folder, store)
    leaving = plan_stale(
        state, located, stale, out_of_the_way(vault.located, vault.found.user_paths, stale, taken)
    )
    if dry_run:
        return leaving
    execute(leaving, plan, state, after, store, folder, located)
    return [a.spent() for a in leaving]


def _redraw(linking: _Linking, sources: _Sources, names: _Names, state: State) -> bool:
    """Whether what Map.canvas shows may have changed: the entities, their counts or names."""
    change = linking.change
    return (
        change.full
        or change.entries_changed
        or sources.totals != linking.old_totals
        or renamed(names.entities, names.naming.stems, state)
    )


def _commit_of(linking: _Linking, sources: _Sources, new: Staged) -> Commit:
    meta = {
        "fingerprint": linking.fingerprint,
        "entities": linking.change.kept,
        "promoted": promotion.dumps(linking.promoted),
        NOTE_ALIASES: linking.note_aliases,
    }
    if linking.change.full:  # a Staged brings its own words (`Store.commit`)
        return Commit(new, meta, totals=sources.totals, replace_all=True)
    contributions = replaced(sources.changed, sources.gone, sources.old, sources.now, new)
    return Commit(contributions, meta, new.words(), sources.totals)


def _tell(
    report: Report, vault: Opened, linking: _Linking, names: _Names, sources: _Sources
) -> None:
    """The notices of the build, before any a write gave (Map.canvas not valid)."""
    plan = report.plan
    notices = notices_of(plan, names.naming, vault.found, vault.located)
    change = linking.change
    if change.entries_changed:
        count = report.sources if change.full else len(change.relinked)
        notices.append(relinked_notice(change.before, linking.catalog, count, report.sources))
    plan.notices[:0] = notices


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
