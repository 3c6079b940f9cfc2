"""Which notes the vault should hold, under which names, and which note a source feeds.

Every note wanted (`wanted_notes`) gets a name (`name_notes`): the name it had, unless the
title it is named after changed and the note is untouched; a note the user moved, renamed or
wrote in keeps its path (`staying_put`). Identity survives renaming and moving the source:
a source keeps its note's `kbgen_id` while it stays at its path (whatever
its edits), and when it moves: a source that appeared this build takes the
id of one that vanished with the same content, else with the same title.
A brand-new source's id comes from its content, so a source deleted and
later put back finds its old (orphaned) note again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

from kbgen.build.reduce import pages_by_entity
from kbgen.core.keys import (
    CANDIDATES,
    HOME,
    TIMELINE,
    Totals,
    is_author,
    is_timeline_period,
    page_period,
    source_id,
    timeline_period,
)
from kbgen.core.model import Entity
from kbgen.core.names import Naming, Wanted, allocate, fold_key, numbered, stem_of
from kbgen.link import catalog as catalog_mod
from kbgen.render.notes import (
    notes_of_month,
    paged,
)
from kbgen.render.source import Prepared, Targets
from kbgen.state.store import (
    SourceRecord,
    State,
)
from kbgen.vault.locate import OnDisk


def source_ids(
    articles: list[Prepared],
    state: State,
    unchanged: Mapping[str, str],
    orphaned: Callable[[], Mapping[str, str]] = dict,
) -> dict[str, str]:
    """Ids for the sources read this build (`articles`); `unchanged`: path → id of the rest;
    `orphaned`: source path → id of the orphaned note a source at that path once fed (asked
    for only when a source is new: a source put back at its path finds its note again)."""
    ids: dict[str, str] = dict(unchanged)
    used: set[str] = set(unchanged.values())
    for a in articles:
        known = state.sources.get(a.source)
        if known is not None and known.id not in used:
            ids[a.source] = known.id
            used.add(known.id)
    present = set(ids) | {a.source for a in articles}
    vanished = [state.sources[p] for p in sorted(state.sources.keys() - present)]
    by_digest = {s.digest: s.id for s in vanished if s.id not in used}
    by_title = _unique_titles([(s.title, s.id) for s in vanished if s.title and s.id not in used])
    for a in articles:
        if a.source in ids:
            continue
        for candidate in (by_digest.get(a.digest), by_title.get(a.meta.title or "")):
            if candidate and candidate not in used:
                ids[a.source] = candidate
                used.add(candidate)
                break
    new = [a for a in articles if a.source not in ids]
    orphans = orphaned() if new else {}
    for a in new:
        candidate = orphans.get(a.source)
        if candidate is not None and candidate not in used and candidate in state.notes:
            ids[a.source] = candidate
        else:
            ids[a.source] = numbered(source_id(a.digest), used)
        used.add(ids[a.source])
    return ids


def _unique_titles(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Titles that name exactly one vanished source (a title is a weaker clue than content)."""
    counts: dict[str, int] = {}
    for title, _ in pairs:
        counts[title] = counts.get(title, 0) + 1
    return {title: kbgen_id for title, kbgen_id in pairs if counts[title] == 1}


def name_notes(
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


def renamed(entities: list[Entity], stems: Mapping[str, str], state: State) -> bool:
    """Whether an entity's note takes a new name (Map.canvas shows it by name)."""
    return any(
        stems.get(e.key) != stem_of(state.notes[e.key].path)
        for e in entities
        if e.key in state.notes
    )


def named_in(catalog: catalog_mod.Catalog, totals: Totals) -> tuple[list[Entity], dict[str, str]]:
    """The catalog's entities the totals count mentions of, and the authors they give a note
    (by kbgen_id, with their names)."""
    entities = [e for e in catalog.entities if e.key in totals]
    return entities, {i: str(t[2]) for i, t in totals.items() if is_author(i)}


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
    wanted.append(Wanted(HOME, "Home"))
    wanted.append(Wanted(CANDIDATES, "Candidates"))
    wanted.append(Wanted(TIMELINE, "Timeline"))
    wanted += [Wanted(k, f"Timeline {timeline_period(k)}") for k in totals if is_timeline_period(k)]
    return wanted


def out_of_the_way(
    located: Mapping[str, OnDisk], user_paths: Iterable[str], stale: set[str], taken: set[str]
) -> dict[str, str]:
    """The notes kbgen keeps though nothing wants them (the user wrote in them) whose name a
    note of the user's now has (it took over as an actor's note, say): each gets a name of its
    own, `<name> (orphaned)`, so that a link resolves to one note only, as Obsidian sees it."""
    mine = {fold_key(stem_of(p)) for p in user_paths}
    clashing = {
        kbgen_id: path
        for kbgen_id in sorted(stale)
        if (path := located[kbgen_id].path) is not None and fold_key(stem_of(path)) in mine
    }
    if not clashing:  # the usual case: no name set of the whole vault is made
        return {}
    used = taken | mine | {fold_key(stem_of(d.path)) for d in located.values() if d.path}
    moves = {}
    for kbgen_id, path in clashing.items():
        parent, stem = Path(path).parent, stem_of(path)
        name, n = f"{stem} (orphaned)", 1
        while fold_key(name) in used:
            n += 1
            name = f"{stem} (orphaned {n})"
        used.add(fold_key(name))
        moves[kbgen_id] = (parent / f"{name}.md").as_posix()
    return moves
