"""A build of a few edited sources that looks at no other note: the change-driven path.

A one-edit build of a big vault spent most of its time on every note and
every source whatever changed: loading their records, naming and locating
them all, committing by comparing them all (docs/architecture.md). This path
loads only the records of the notes the edited sources reach, and it is taken
only where it must decide what the full path (`build/full.py`) would:

- the last build was a whole `kbgen build` that ended cleanly (no source
  that failed, no note skipped) and left a `Record` of the vault and the
  sources as it left them, beside the state it committed;
- kbgen's code, the options, the catalog files and Map.canvas are the same;
- the vault is as that build left it: every note's path and stat the same,
  and each note it wrote too recently for a stat to be trusted still holds
  the bytes it wrote;
- the same sources are there, at most `AT_MOST` of them changed, and each
  changed one parses and keeps its title, date and publisher;
- the notes the vault should hold are the same ones (no entity, author,
  month or day page, or Timeline period appears or goes), so every name is
  the one the last build gave, and stays.

Anything else, and `changed_sources` or `quickbuild.build_changed` says why
(`Declined`, shown by `kbgen build -v`) before anything is written: the full
path runs, as it always did. tests/test_quick.py runs both paths over
random sequences of edits and compares the vaults and the states.
"""

from __future__ import annotations

import hashlib
import itertools
import marshal
import os
import sys
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kbgen.build import snapshot
from kbgen.build.listings import Listing
from kbgen.build.report import Declined, Report
from kbgen.core.filestat import StatKey, any_racy, key_of, sha
from kbgen.read.sources import SourceFile
from kbgen.state.store import STATE_DIR
from kbgen.vault import files as vault_mod

if TYPE_CHECKING:  # a build the snapshot answers imports this module, not the data model
    from kbgen.link.catalog import Catalog
    from kbgen.state.store import State

FILE = "quick.marshal"
VERSION = 1
AT_MOST = 32  # changed sources, at most: a save or a script's batch (more go the full way)
RACY_AT_MOST = 1000  # notes written too recently to trust, to be read back by the next build


@dataclass(frozen=True)
class Record:
    """The vault and the sources as a build left them, and what it knew that they imply."""

    inputs: str  # `snapshot.inputs` after the build (Map.canvas as it drew it)
    state: list[int] | None  # the state database's stat after the commit (`snapshot.state_stat`)
    vault: str  # `vault_digest` of every note but those in `racy`
    racy: dict[str, tuple[str, str]]  # path → (kbgen_id, sha of the bytes kbgen wrote there)
    sources: dict[str, StatKey | None]  # every source's stat as the state keeps it
    entities: str  # the catalog's entries (`relink.dumps`)
    honorifics: tuple[str, ...]
    notices: list[str]  # what every build with this vault and catalog tells the user
    catalog_notes: list[str]
    wanted: int  # notes the vault holds


@dataclass(frozen=True)
class Ending:
    """What a build that ended knows for the record, besides the listings it started from."""

    catalog: Catalog
    entities: str  # the catalog's entries as the state keeps them (`relink.dumps`)
    notices: list[str]
    catalog_notes: list[str]
    wanted: int
    after: State  # as committed (only the records it loaded, after a quick build)
    # every source's stat, when `after` holds only some sources (a quick build); else theirs
    sources: dict[str, StatKey | None] | None = None
    # after a quick build: the vault listing's stats as its check took them, and the notes among
    # them that may be racy (the others were trusted by the last record, and are unchanged)
    listed: Mapping[str, StatKey] | None = None
    unsure: frozenset[str] = frozenset()


# -- the record ---------------------------------------------------------------


def load(vault: Path) -> Record | None:
    try:
        data = marshal.loads((vault / STATE_DIR / FILE).read_bytes())
        if data[0] != VERSION or data[1] != sys.version_info[:2]:
            return None
        return Record(*data[2:])
    except (OSError, EOFError, ValueError, TypeError, IndexError):
        return None  # missing, damaged, or from another kbgen or Python: the full path


def save(vault: Path, record: Record) -> None:
    fields = (
        record.inputs, record.state, record.vault, record.racy, record.sources, record.entities,
        record.honorifics, record.notices, record.catalog_notes, record.wanted,
    )  # fmt: skip
    path = vault / STATE_DIR / FILE
    temp = path.with_suffix(".tmp")
    temp.write_bytes(marshal.dumps((VERSION, sys.version_info[:2], *fields)))
    os.replace(temp, path)


def forget(vault: Path) -> None:
    """Before a build that may write: the record would describe a vault changed since."""
    (vault / STATE_DIR / FILE).unlink(missing_ok=True)


def vault_digest(paths: Iterable[str], keys: Iterable[StatKey]) -> str:
    """One digest of notes' paths and stats (`key_of`), in that order: the numbers gathered
    in C, not formatted one by one (ten thousand notes and more)."""
    h = hashlib.sha256("\0".join(paths).encode("utf-8", "surrogateescape"))
    h.update(array("q", itertools.chain.from_iterable(keys)).tobytes())
    return h.hexdigest()


def record_of(
    ending: Ending,
    report: Report,
    notes: Mapping[str, os.stat_result],
    listed_at_ns: int,
    inputs: str,
    vault: Path,
) -> Record | None:
    """The record of a build that ended cleanly; None when the next one cannot trust it: a
    note it did not write was too recent to trust when listed."""
    plan = report.plan
    if plan.skipped or report.errors:  # a source failed (its notes were left as they were)
        return None
    if plan.count("adopted"):  # notes to look at again, whatever their stats, and merge
        return None
    after = ending.after.notes
    keys: dict[str, StatKey | None]
    if ending.listed is not None:
        keys, unsure = dict(ending.listed), ending.unsure
    else:
        keys = dict(zip(notes, map(key_of, notes.values()), strict=True))
        unsure = None  # every note
    written: dict[str, str] = {}  # path → kbgen_id of the note written there
    for action in plan.actions:  # the paths left first: a note may take one another left
        if action.old_path:
            keys.pop(action.old_path, None)
        if action.kind in ("delete", "forget"):
            keys.pop(action.path, None)
    for action in plan.actions:
        if action.spent_write:
            keys[action.path] = after[action.kbgen_id].stat
            written[action.path] = action.kbgen_id
    looked_at = keys.keys() if unsure is None else unsure & keys.keys()
    if _any_racy([keys[p] for p in looked_at if p not in written], listed_at_ns):
        return None  # changed too recently for its stat to say whether it changes again
    racy = {  # written too recently for their stats to be trusted: known by their bytes
        path: (kbgen_id, after[kbgen_id].written)
        for path, kbgen_id in sorted(written.items())
        if keys[path] is None
    }
    if len(racy) > RACY_AT_MOST:
        return None  # a cold build's: reading them all back is the full path's first build
    if any(path not in notes for path in written):  # a note created: listed in order again
        keys = dict(sorted(keys.items()))
    trusted = {p: k for p, k in keys.items() if k is not None}  # the racy ones left out
    return Record(
        inputs=inputs,
        state=snapshot.state_stat(vault),
        vault=vault_digest(trusted, trusted.values()),
        racy=racy,
        sources=_source_stats(ending),
        entities=ending.entities,
        honorifics=ending.catalog.honorifics,
        notices=ending.notices,
        catalog_notes=ending.catalog_notes,
        wanted=ending.wanted,
    )


def _source_stats(ending: Ending) -> dict[str, StatKey | None]:
    if ending.sources is not None:
        return ending.sources
    return {path: rec.stat for path, rec in ending.after.sources.items()}


def _any_racy(keys: list[StatKey | None], listed_at_ns: int) -> bool:
    """Whether a stat is unknown or was too recent to trust (`filestat.any_racy`)."""
    return None in keys or any_racy([key[1] for key in keys if key is not None], listed_at_ns)


# -- the build ----------------------------------------------------------------


def changed_sources(
    vault: Path, listing: Listing, record: Record, inputs: str
) -> tuple[list[SourceFile], dict[str, StatKey]] | Declined:
    """The sources whose stat changed, if everything else is as the record says; and the
    notes' stats, which the next record is made from. Else why the full path must run."""
    if record.inputs != inputs:
        return _declined("kbgen's code, the options, the catalog files or Map.canvas changed")
    if record.state != snapshot.state_stat(vault):
        return _declined("kbgen's state changed since the last build")
    notes = listing.notes
    if listing.temps:
        return _declined("kbgen's temp files are in the vault (a build was stopped)")
    if listing.errors:
        return _declined("a source cannot be listed")
    if any(p not in notes for p in record.racy):
        return _declined("a note the last build wrote just before it ended is gone")
    listed = dict(zip(notes, map(key_of, notes.values()), strict=True))
    trusted = {p: k for p, k in listed.items() if p not in record.racy} if record.racy else listed
    if vault_digest(trusted, trusted.values()) != record.vault:
        return _declined("a note is not as the last build left it (edited, added, moved or gone)")
    for path, (_, written) in record.racy.items():
        data = vault_mod.read_bytes(vault / path)
        if data is None or sha(data) != written:
            return _declined("a note the last build wrote just before it ended changed since")
    return _changed(listing.sources, record.sources, listed)


def _changed(
    sources: list[SourceFile], known: Mapping[str, StatKey | None], listed: dict[str, StatKey]
) -> tuple[list[SourceFile], dict[str, StatKey]] | Declined:
    if len(sources) != len(known):
        return _declined(f"a source was {'added' if len(sources) > len(known) else 'deleted'}")
    changed = []
    for f in sources:
        if f.rel not in known:
            return _declined("a source was renamed or replaced")  # the full path says how
        if f.stat is None:
            return _declined(f"{f.rel} is a link to nothing")
        if known[f.rel] != key_of(f.stat):
            changed.append(f)
    if len(changed) > AT_MOST:
        return _declined(f"{len(changed)} sources changed (the quick path takes {AT_MOST})")
    return changed, listed


def _declined(reason: str) -> Declined:
    return Declined("quick", reason)
