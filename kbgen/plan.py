"""Deciding every write before any happens, then doing them crash-safely.

The rule (DESIGN.md, "Owning versus sharing a note"): kbgen may replace a
note only while its bytes are exactly what kbgen last wrote. A note the user
has edited is kept as it is and reported; a note kbgen did not create is
never in a plan at all. (Three-way merging of edited notes builds on this.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import state as state_mod
from . import vault as vault_mod
from .model import Note
from .state import NoteState, State, sha


@dataclass
class Plan:
    created: list[Note] = field(default_factory=list)
    updated: list[Note] = field(default_factory=list)
    unchanged: list[Note] = field(default_factory=list)
    moved_from: dict[str, str] = field(default_factory=dict)  # kbgen_id → old path to remove
    kept: list[str] = field(default_factory=list)  # paths the user edited: not overwritten
    deleted: list[str] = field(default_factory=list)  # kbgen_ids of pristine notes now stale
    orphaned: list[str] = field(default_factory=list)  # paths of edited notes now stale
    stale_paths: dict[str, str] = field(default_factory=dict)  # kbgen_id → path

    def lines(self) -> list[str]:
        """One line per change, for --dry-run and --verbose."""
        out = [f"create  {n.path}" for n in self.created]
        out += [f"update  {n.path}" for n in self.updated]
        out += [f"keep    {p}  (edited by you; not overwritten)" for p in self.kept]
        out += [f"delete  {self.stale_paths[i]}  (no longer generated)" for i in self.deleted]
        out += [
            f"orphan  {p}  (no longer generated; kept because you edited it)" for p in self.orphaned
        ]
        return out


def plan_writes(notes: list[Note], state: State, vault: Path, protected: set[str]) -> Plan:
    plan = Plan()
    for note in notes:
        prev = state.notes.get(note.kbgen_id)
        new = note.text.encode("utf-8")
        if prev is not None and prev.path != note.path:
            old = vault_mod.read_bytes(vault / prev.path)
            if old is not None and not prev.written_by_us(sha(old)):
                plan.kept.append(prev.path)
                continue
            if old is not None:
                plan.moved_from[note.kbgen_id] = prev.path
        disk = vault_mod.read_bytes(vault / note.path)
        if disk is None:
            plan.created.append(note)
        elif disk == new:
            plan.unchanged.append(note)
        elif prev is not None and prev.written_by_us(sha(disk)):
            plan.updated.append(note)
        else:
            plan.kept.append(note.path)
    rendered = {n.kbgen_id for n in notes}
    for kbgen_id, prev in sorted(state.notes.items()):
        if kbgen_id in rendered or kbgen_id in protected:
            continue
        disk = vault_mod.read_bytes(vault / prev.path)
        plan.stale_paths[kbgen_id] = prev.path
        if disk is None or prev.written_by_us(sha(disk)):
            plan.deleted.append(kbgen_id)
        else:
            plan.orphaned.append(prev.path)
    return plan


def execute(plan: Plan, state: State, vault: Path) -> None:
    """Journal the hashes about to be written, write, delete, then commit the state."""
    writes = plan.created + plan.updated
    for note in writes:
        prev = state.notes.get(note.kbgen_id)
        digest = sha(note.text.encode("utf-8"))
        state.notes[note.kbgen_id] = NoteState(
            prev.path if prev else note.path, prev.sha if prev else digest, next=digest
        )
    if writes:
        state_mod.save(vault, state)
    for note in writes:
        vault_mod.atomic_write(vault / note.path, note.text.encode("utf-8"))
        state.notes[note.kbgen_id] = NoteState(note.path, sha(note.text.encode("utf-8")))
    for old_path in plan.moved_from.values():
        vault_mod.remove(vault / old_path)
    for note in plan.unchanged:
        state.notes[note.kbgen_id] = NoteState(note.path, sha(note.text.encode("utf-8")))
    for kbgen_id in plan.deleted:
        vault_mod.remove(vault / plan.stale_paths[kbgen_id])
        state.notes.pop(kbgen_id, None)
    for kbgen_id, path in plan.stale_paths.items():
        if path in plan.orphaned:
            state.notes.pop(kbgen_id, None)
    state_mod.save(vault, state)
