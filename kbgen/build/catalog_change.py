"""The catalog a build links with, and how it differs from the last build's: what it relinks."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from pathlib import Path

from kbgen.build import snapshot
from kbgen.core.keys import (
    CANDIDATES,
    is_page,
)
from kbgen.core.model import Entity
from kbgen.core.plural import counted
from kbgen.link import catalog as catalog_mod
from kbgen.link import relink
from kbgen.link.catalog import Catalog
from kbgen.link.extract import Matcher
from kbgen.render import promotion
from kbgen.state.store import (
    State,
    Store,
)
from kbgen.vault.locate import OnDisk

# A catalog change that may relink more than this share of the sources rebuilds them all: as
# fast (at 10,000, relinking 95 % took 81 s, rebuilding all 74 s), and it holds less than
# comparing what nearly every source gave before and gives now (507 against ≈ 330 MB)
RELINK_AT_MOST = 0.5


@dataclasses.dataclass(frozen=True)
class CatalogChange:
    """How the catalog differs from the one the stored contributions were made with."""

    full: bool  # every source read again: kbgen's code or the honorifics changed, or too much
    before: list[Entity]  # the entries then (now's, when kbgen's code or the honorifics changed)
    entries_changed: bool
    relinked: set[str]  # the sources to read again whatever their stat
    kept: str  # the entries now, as the state keeps them for the next build


def catalog_change(
    store: Store, state: State, catalog: catalog_mod.Catalog, fingerprint: str
) -> CatalogChange:
    kept = relink.dumps(catalog.entities)
    stored = store.meta("entities")
    now = list(catalog.entities)
    if store.meta("fingerprint") != fingerprint:
        return CatalogChange(True, now, False, set(), kept)
    if stored == kept:  # the usual case, told without parsing what was stored
        return CatalogChange(False, now, False, set(), kept)
    before = relink.loads(stored)
    if before is None:  # entries not known: every source is read again
        return CatalogChange(True, now, False, set(), kept)
    if before == now:
        return CatalogChange(False, before, False, set(), kept)
    relinked = _relinked(store, state, before, catalog)
    full = len(relinked) > RELINK_AT_MOST * len(state.sources)
    return CatalogChange(full, before, True, relinked, kept)


def _relinked(
    store: Store, state: State, entries: list[Entity], catalog: catalog_mod.Catalog
) -> set[str]:
    """The sources a catalog change may link differently: those with the words of an alias
    that matches differently now (the honorifics, global, are the same: see `fingerprint_of`)."""
    before = catalog_mod.Catalog(tuple(entries), catalog.honorifics)
    return store.sources_with_words(relink.words_to_look_for(before, catalog), state.sources)


def relinked_notice(
    old: list[Entity], catalog: catalog_mod.Catalog, relinked: int, sources: int
) -> str:
    """What a catalog change cost, for `-v`: the entries that changed, the sources relinked."""
    changed = sorted(relink.changed_entries(old, catalog.entities))
    names = {e.key: e.name for e in (*old, *catalog.entities)}
    shown = ", ".join(names[k] for k in changed[:3]) + (" …" if len(changed) > 3 else "")
    entries = counted(len(changed), "catalog entry", "catalog entries")
    return f"relink  {relinked} of {counted(sources, 'source')}: {entries} changed ({shown})"


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


def promotions_of(store: Store, located: dict[str, OnDisk]) -> list[promotion.Promoted]:
    """The candidates promoted so far, with the ticks in the Candidates note if the user changed it."""
    disk = located.get(CANDIDATES)
    text = None
    if disk is not None and disk.data is not None and not disk.pristine:
        text = disk.data.decode("utf-8", errors="replace")
    stored = promotion.loads(store.meta("promoted"))
    return promotion.promotions(stored, text, lambda: store.lines_of(CANDIDATES))


NOTE_ALIASES = "note_aliases"  # the state's meta key: the aliases the user wrote into kbgen's notes


def catalog_of(
    files: list[Path],
    user_entities: list[Entity],
    located: Mapping[str, OnDisk],
    promoted: list[Entity],
    kept: str | None,
) -> tuple[Catalog, str]:
    """The catalog a build links with, and the aliases the user wrote into kbgen's entity notes
    beyond the catalog's own (as JSON, for the state: the next build's `kept`).

    An alias the user adds to one of kbgen's actor notes is honoured from the next build on.
    Once kbgen has rendered it, the note is exactly as kbgen wrote it again, and a note as
    kbgen wrote it is not read: its aliases are those the last build kept. An alias the user
    deletes from the note goes; one the catalog drops goes too, unless the user wrote it."""
    before = catalog_mod.load(files, user_entities, None, promoted)
    added = aliases_added_in_notes(located, _kept(kept))
    catalog = catalog_mod.with_note_aliases(before, added)
    beyond = catalog_mod.aliases_beyond(catalog, before)
    return catalog, json.dumps(beyond, ensure_ascii=False, sort_keys=True)


def _kept(stored: str | None) -> dict[str, list[object]]:
    try:
        value = json.loads(stored) if stored else {}
    except ValueError:  # not ours to read: the notes the user touched still say
        return {}
    return value if isinstance(value, dict) else {}


def aliases_added_in_notes(
    located: Mapping[str, OnDisk], kept: Mapping[str, list[object]]
) -> dict[str, list[object]]:
    """Every alias in an actor or issue note the user touched (the catalog's own are
    deduplicated), and for one as kbgen wrote it (or emptied, cut short, being saved), the
    aliases the user had written there that the last build kept."""
    out: dict[str, list[object]] = {}
    for kbgen_id, disk in sorted(located.items()):
        if disk.path is None or is_page(kbgen_id):
            continue
        if disk.aliases is not None and not disk.pristine and not disk.damaged:
            out[kbgen_id] = list(disk.aliases)
        elif (disk.pristine or disk.damaged) and isinstance(kept.get(kbgen_id), list):
            out[kbgen_id] = list(kept[kbgen_id])
    return out
