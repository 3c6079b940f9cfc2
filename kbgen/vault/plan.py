"""Deciding what to write: per note, replace, merge with the user's edits, restore, keep,
orphan or delete (pure: `execute.py` carries the decisions out).

The rule: kbgen may change only what it wrote and the user has not touched since. A note still
exactly as kbgen rendered it is replaced; a note the user touched is merged three ways
(`merge.py`); a note kbgen did not create is never in a plan at all. Every note of a part is
planned before any of the part is written; a build renders, plans and writes part after part,
so that it never holds the renderings of a whole vault at once.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet

from kbgen.core.model import Note
from kbgen.core.names import stem_of
from kbgen.state.store import NoteRecord, State, Store
from kbgen.vault import properties
from kbgen.vault.actions import Action
from kbgen.vault.locate import OnDisk


def pinned_notes(state: State, located: Mapping[str, OnDisk]) -> set[str]:
    """The notes the user moved or renamed: kbgen never moves them again."""
    pinned = {i for i, r in state.notes.items() if r.pinned}
    return pinned | {i for i, d in located.items() if d.moved}


def plan_notes(
    notes: Iterable[Note],
    state: State,
    located: dict[str, OnDisk],
    store: Store,
    consumed: Mapping[str, Callable[[str], str]] | None = None,
    renames: Mapping[str, str] | None = None,
) -> list[Action]:
    """What to do with each note rendered: write it, merge it with the user's, or leave it.

    `consumed`: per note, what to take back from the user's version before
    merging, because this build acted on it (the Candidates note's ticks);
    `renames`: `renamed_by_user`, taken once for all of a build's parts.
    """
    out = []
    if renames is None:
        renames = renamed_by_user(state, located)
    for note in notes:
        undo = (consumed or {}).get(note.kbgen_id)
        rec = state.notes.get(note.kbgen_id)
        out.append(_plan_note(note, rec, located, store, undo, renames))
    return out


def renamed_by_user(state: State, located: Mapping[str, OnDisk]) -> dict[str, str]:
    """Old name → new name of each of kbgen's notes the user renamed since the last build (in
    Obsidian, which then rewrote every link to it in every note)."""
    out = {}
    for kbgen_id, disk in located.items():
        if disk.moved and disk.path is not None:
            old, new = stem_of(state.notes[kbgen_id].path), stem_of(disk.path)
            if old != new:
                out[old] = new
    return out


def plan_rest(
    rendered: AbstractSet[str],
    state: State,
    located: Mapping[str, OnDisk],
    wanted: set[str],
) -> tuple[list[Action], int]:
    """The wanted notes not rendered: they stay as they are.

    A wanted note that was not rendered had none of its inputs change; one
    that was not read either is only counted (the second value): most of a
    big vault.
    """
    unrendered = wanted - rendered
    unread = {i for i in unrendered if located[i].unread}
    out = [Action("unchanged", i, state.notes[i].path) for i in sorted(unrendered - unread)]
    return out, len(unread)


def plan_stale(
    state: State,
    located: Mapping[str, OnDisk],
    stale: AbstractSet[str],
    moves: Mapping[str, str] | None = None,
) -> list[Action]:
    """The notes nothing wants any more: each deleted if untouched, else kept and marked;
    `moves`: kbgen_id → the path a note to keep goes to (its name is now a note of the user's)."""
    out = []
    for kbgen_id in sorted(stale):
        disk = located[kbgen_id]
        action = _plan_stale(kbgen_id, state.notes[kbgen_id], disk)
        to = (moves or {}).get(kbgen_id)
        if to is not None and disk.data is not None and (action is None or action.kind == "orphan"):
            raw = action.raw if action is not None and action.raw is not None else disk.data
            action = Action(
                "orphan", kbgen_id, to, raw=raw, expect=disk.data, old_path=disk.path,
                detail="renamed: a note of yours has its name and is the link target now",
            )  # fmt: skip
        if action is not None:
            out.append(action)
    return out


def _plan_note(
    note: Note,
    rec: NoteRecord | None,
    located: dict[str, OnDisk],
    store: Store,
    undo: Callable[[str], str] | None = None,
    renames: Mapping[str, str] | None = None,
) -> Action:
    data = note.text.encode("utf-8")
    disk = located.get(note.kbgen_id)
    if rec is None or disk is None or disk.data is None:
        if rec is None:
            return _rendering("create", note, data, rendered=True)
        detail = "deleted in the vault while its source is still in sources/"
        return _rendering("restore", note, data, detail=detail, rendered=True)
    if disk.damaged == "saving":
        detail = "being saved by an editor right now; left for the next build"
        return Action("saving", note.kbgen_id, disk.path or note.path, detail=detail)
    if disk.damaged:
        detail = f"was {disk.damaged}; nothing of yours was in it"
        return _rendering("restore", note, data, expect=disk.data, detail=detail, rendered=True)
    old_path = disk.path if disk.path != note.path else None
    if disk.pristine:
        if disk.data == data and old_path is None:
            return _rendering("unchanged", note, data)
        action = _rendering(
            "update", note, data, expect=disk.data, old_path=old_path, rendered=True
        )
    else:
        action = _plan_merge(note, data, rec, disk.data, store, undo, renames)
    return _left_if_read_only(action, disk)


_READ_ONLY = "read-only: left as you made it; make it writable and the source's changes arrive"


def _left_if_read_only(action: Action, disk: OnDisk) -> Action:
    """A note the user made read-only says "don't touch": nothing is written, moved or
    deleted, and its merge base stays, so the changes merge once it is writable again."""
    if disk.path is None or disk.stat is None or disk.stat.st_mode & stat.S_IWUSR:
        return action
    if action.kind in ("unchanged", "kept", "adopted", "saving", "forget"):
        return action
    return Action("kept", action.kbgen_id, disk.path, detail=_READ_ONLY)


def _plan_merge(
    note: Note,
    data: bytes,  # the rendering, encoded
    rec: NoteRecord,
    ours_bytes: bytes,
    store: Store,
    undo: Callable[[str], str] | None = None,
    renames: Mapping[str, str] | None = None,
) -> Action:
    text = note.text
    try:
        ours = ours_bytes.decode("utf-8")
    except UnicodeDecodeError:
        detail = "not valid UTF-8, so it cannot be merged; left exactly as it is"
        return _rendering("kept", note, data, detail=detail)
    crlf = _crlf(ours)  # merged in "\n", written back in the note's own line ending
    if crlf:
        ours = ours.replace("\r\n", "\n")
    if ours == text:
        return _rendering("unchanged", note, data)
    base = store.text(rec.base) if rec.base else None
    from kbgen.vault.merge import (  # merge3: loaded only when needed
        common_base,
        count_conflicts,
        merge_note,
        rename_links,
    )

    if base is None:
        detail = "kbgen has no earlier version of it to merge with: left as it is; later changes will merge"
        # what the next build merges against: what the note and this rendering share
        return Action(
            "adopted", note.kbgen_id, note.path, base=common_base(ours, text), detail=detail
        )

    if renames:  # the base as Obsidian left the note: each link to a renamed note rewritten
        base = rename_links(base, renames)
    mine = undo(ours) if undo else ours
    if mine == base:  # nothing of the user's is left once what was acted on is taken back
        return _rendering("update", note, data, expect=ours_bytes, rendered=True)
    merged = merge_note(base, mine, text)
    if merged.text == ours:
        return _rendering("unchanged", note, data)
    _, ours_body = properties.split_note(ours)
    kind = "conflict" if merged.conflicts > count_conflicts(ours_body) else "merge"
    out = merged.text.replace("\n", "\r\n") if crlf else merged.text
    return _rendering(kind, note, data, raw=out.encode("utf-8"), expect=ours_bytes)


def _crlf(text: str) -> bool:
    """Whether a note's lines end in CRLF, as a Windows editor saves them: most of them do."""
    crlf = text.count("\r\n")
    return crlf > 0 and crlf * 2 >= text.count("\n")


def _rendering(
    kind: str,
    note: Note,
    data: bytes,
    *,
    raw: bytes | None = None,
    expect: bytes | None = None,
    old_path: str | None = None,
    detail: str = "",
    rendered: bool = False,
) -> Action:
    """An action on a note rendered this build: the rendering (`data`, its text encoded once)
    is the note's new merge base, whatever is written."""
    return Action(
        kind, note.kbgen_id, note.path, raw, note.text, expect, old_path, detail, rendered,
        utf8=data,
    )  # fmt: skip


def _plan_stale(kbgen_id: str, rec: NoteRecord, disk: OnDisk) -> Action | None:
    """A note nothing renders any more: deleted if untouched, else kept and marked."""
    if disk.data is None or disk.path is None:
        return Action("forget", kbgen_id, rec.path)
    if disk.damaged == "saving":
        return None  # looked at again once the editor is done
    if disk.pristine or disk.damaged:
        action = Action(
            "delete", kbgen_id, disk.path, expect=disk.data, detail="no longer generated"
        )
        return _left_if_read_only(action, disk)
    if rec.orphaned:
        return None
    orphan = Action("orphan", kbgen_id, disk.path, raw=mark_orphaned(disk.data), expect=disk.data)
    return _left_if_read_only(orphan, disk)


def mark_orphaned(data: bytes) -> bytes | None:
    """The note with `kbgen_status: orphaned` added; None when its frontmatter is not ours to edit."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    from kbgen.vault.merge import count_conflicts

    fm, body = properties.split_note(text)
    status = {
        properties.STATUS_KEY: "orphaned",
        properties.CONFLICT_KEY: count_conflicts(body) > 0,
    }
    if fm is None:
        return properties.join_note(properties.with_status("", status), body).encode("utf-8")
    if properties.chunks(fm) is None:
        return None
    return properties.join_note(properties.with_status(fm, status), body).encode("utf-8")
