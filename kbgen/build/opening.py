"""The first step of a full build: the vault as the last build left it.

The state is loaded and a killed build's journalled writes settled (each note holds the old bytes
or the new: the record follows the file); the vault is scanned for the user's notes and for notes
the state lost (a deleted `.kbgen/`), which are taken back by their `kbgen_id`; each of kbgen's notes
is located and judged (pristine, edited, moved, emptied, being saved).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kbgen.core.keys import SOURCE
from kbgen.state.store import (
    UNKNOWN_BASE,
    NoteRecord,
    SourceRecord,
    State,
    Store,
    settle,
)
from kbgen.vault import files as vault_mod
from kbgen.vault import properties
from kbgen.vault.actions import Action
from kbgen.vault.locate import OnDisk, locate
from kbgen.vault.scan import VaultScan, scan


@dataclass
class Opened:
    """Step 1: the vault as this build finds it."""

    state: State  # as the last build left it, a killed build's writes settled
    leftovers: list[str]  # files a killed build left behind, to delete
    found: VaultScan  # the user's notes, notes the state lost, link targets
    located: dict[str, OnDisk]  # where each of kbgen's notes is, and whether the user changed it


def open_vault(store: Store, vault: Path, listed: dict[str, os.stat_result]) -> Opened:
    """The state as the last build left it (a killed one's writes settled), the vault scanned,
    notes the state lost taken back, and where each note is and whether the user changed it;
    also the notes a killed build left behind, to delete."""
    loaded = store.load()
    state, leftovers = settle(loaded, _pending_bytes(loaded, vault), store.text)
    found = scan(vault, state, listed)
    _adopt(state, found)
    located = locate(state, vault, found.found, store, listed)
    return Opened(state, leftovers, found, located)


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


def _pending_bytes(state: State, vault: Path) -> dict[str, bytes | None]:
    """The files a killed build may have been writing, and where those notes were before."""
    paths = {p.path for p in state.pending.values()}
    paths |= {state.notes[i].path for i in state.pending if i in state.notes}
    return {p: vault_mod.read_bytes(vault / p) for p in sorted(paths)}


def leftovers_deleted(vault: Path, leftovers: list[str]) -> list[Action]:
    return [
        Action(
            "delete", "", p, expect=vault_mod.read_bytes(vault / p), detail="left by a killed build"
        )
        for p in leftovers
    ]


def orphaned_sources(state: State, store: Store) -> dict[str, str]:
    """Source path → id of each orphaned source note, as its last rendering (its merge base)
    names its source: the note a source put back at that path takes again."""
    out: dict[str, str] = {}
    for kbgen_id, rec in sorted(state.notes.items()):
        if not (rec.orphaned and kbgen_id.startswith(SOURCE) and rec.base):
            continue
        text = store.text(rec.base)
        fm, _ = properties.split_note(text) if text is not None else (None, "")
        source = (properties.values(fm) or {}).get("source")
        if isinstance(source, str):
            out.setdefault(source, kbgen_id)
    return out
