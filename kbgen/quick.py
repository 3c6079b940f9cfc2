"""A build of a few edited sources that looks at no other note: the change-driven path.

A one-edit build of a big vault spent most of its time on every note and
every source whatever changed: loading their records, naming and locating
them all, committing by comparing them all (docs/architecture.md). This path
loads only the records of the notes the edited sources reach, and it is taken
only where it must decide what the full path (kbgen/update.py) would:

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

Anything else, and `update` returns None before it has written anything: the
full path runs, as it always did. tests/test_quick.py runs both paths over
random sequences of edits and compares the vaults and the states.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import time
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import relink
from . import vault as vault_mod
from .catalog import Catalog
from .config import Config
from .listings import Listing
from .model import Entity
from .names import stem_of
from .notes import SourceRef
from .report import Report
from .sources import SourceFile, digest, read_bytes
from .state import (
    STATE_DIR,
    SourceRecord,
    State,
    StatKey,
    Store,
    is_racy,
    key_of,
    racy_limits,
    sha,
    stat_key,
)

FILE = "quick.marshal"
VERSION = 1
AT_MOST = 32  # changed sources beyond which the full path costs about as much


@dataclass(frozen=True)
class Record:
    """The vault and the sources as a build left them, and what it knew that they imply."""

    inputs: str  # `snapshot.inputs` after the build (Map.canvas as it drew it)
    state: tuple[int, ...] | None  # the state database's stat after the commit
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
    notices: list[str]
    catalog_notes: list[str]
    wanted: int
    after: State  # as committed (only the records it loaded, after a quick build)
    sources: dict[str, StatKey | None]
    clean: bool  # no source failed, nothing was protected from a failed source


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


def state_stat(vault: Path) -> tuple[int, ...] | None:
    try:
        return tuple(key_of((vault / STATE_DIR / "state.sqlite").stat()))
    except OSError:
        return None


def vault_digest(keys: Iterable[tuple[str, StatKey]]) -> str:
    """One digest of notes' paths and stats, gathered by column (ten thousand and more)."""
    paths: list[str] = []
    numbers = array("q")
    for path, key in keys:
        paths.append(path)
        numbers.extend(key)
    h = hashlib.sha256("\0".join(paths).encode("utf-8", "surrogateescape"))
    h.update(numbers.tobytes())
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
    if not ending.clean or plan.skipped or report.errors:
        return None
    after = ending.after.notes
    left: dict[str, StatKey | None] = {p: key_of(st) for p, st in notes.items()}
    written: dict[str, str] = {}
    for action in plan.actions:
        if action.old_path:
            left.pop(action.old_path, None)
        if action.kind in ("delete", "forget"):
            left.pop(action.path, None)
        elif action.spent_write:
            rec = after[action.kbgen_id]
            left[action.path] = rec.stat
            written[action.path] = action.kbgen_id
    limits = racy_limits(listed_at_ns)
    if any(key is None or is_racy(key[1], limits) for p, key in left.items() if p not in written):
        return None  # changed too recently for its stat to say whether it changes again
    racy = {  # written too recently for their stats to be trusted: known by their bytes
        path: (kbgen_id, after[kbgen_id].written)
        for path, kbgen_id in sorted(written.items())
        if left[path] is None
    }
    trusted = ((p, k) for p, k in sorted(left.items()) if p not in racy and k is not None)
    return Record(
        inputs=inputs,
        state=state_stat(vault),
        vault=vault_digest(trusted),
        racy=racy,
        sources=ending.sources,
        entities=relink.dumps(ending.catalog.entities),
        honorifics=ending.catalog.honorifics,
        notices=ending.notices,
        catalog_notes=ending.catalog_notes,
        wanted=ending.wanted,
    )


# -- the build ----------------------------------------------------------------


def update(
    config: Config,
    store: Store,
    report: Report,
    listing: Listing,
    record: Record,
    inputs: str,
) -> Ending | None:
    """Build the few sources that changed since the record's build, or None (nothing done,
    nothing written) when the full path must: see the module's docstring."""
    changed = _changed_sources(config.vault, listing, record, inputs)
    if changed is None or store.has_pending():
        return None
    from .quickbuild import build_changed  # the rendering stack, only once it is needed

    return build_changed(config, store, report, listing, record, changed)


def _changed_sources(
    vault: Path, listing: Listing, record: Record, inputs: str
) -> list[SourceFile] | None:
    """The sources whose stat changed, if everything else is as the record says."""
    if record.inputs != inputs or record.state != state_stat(vault):
        return None
    notes = listing.notes
    if listing.temps or listing.errors or any(p not in notes for p in record.racy):
        return None
    trusted = ((p, key_of(st)) for p, st in notes.items() if p not in record.racy)
    if vault_digest(trusted) != record.vault:
        return None
    for path, (_, written) in record.racy.items():
        data = vault_mod.read_bytes(vault / path)
        if data is None or sha(data) != written:
            return None
    known = record.sources
    if len(listing.sources) != len(known):
        return None
    changed = []
    for f in listing.sources:
        if f.rel not in known or f.stat is None:
            return None  # a new source, or a dangling link: the full path says what to do
        if known[f.rel] != key_of(f.stat):
            changed.append(f)
    return changed if len(changed) <= AT_MOST else None


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


def user_notices(entities: Iterable[Entity]) -> list[str]:
    """The notices every build gives for the user's notes that are link targets."""
    return [
        f"link    {e.name} → your note {e.user_note} (it says type: {e.type})" for e in entities
    ]
