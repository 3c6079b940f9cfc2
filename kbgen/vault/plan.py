"""Deciding what to write, then writing it crash-safely, a part of the notes at a time.

The rule (DESIGN.md, "Owning versus sharing a note"): kbgen may change only
what it wrote and the user has not touched since. A note still exactly as
kbgen rendered it is replaced; a note the user touched is merged three ways
(`merge.py`); a note kbgen did not create is never in a plan at all.

A write happens in three steps, so that a build killed at any instant
leaves every note old or new and the next build finishes the job:
1. the journal records, per note, the path and the hash of the bytes about
   to be written (`Store.journal`);
2. each note is written atomically (temp file, fsync, rename);
3. the state is committed in one transaction, once every part is written.
A note found holding journalled bytes was written by kbgen, not edited.
Every note of a part is planned before any of the part is written; a build
renders, plans and writes part after part, so that it never holds the
renderings of a whole vault at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import NamedTuple, cast

from kbgen.core.errors import KbgenError
from kbgen.core.filestat import StatKey, key_of, sha, stat_key
from kbgen.core.model import Note
from kbgen.state.store import NoteRecord, State, Store
from kbgen.vault import files as vault_mod
from kbgen.vault import properties
from kbgen.vault.actions import Action, Plan


class OnDisk(NamedTuple):  # a tuple: a build makes one per note, ten thousand and more
    """Where a note kbgen made is now, and whether the user touched it."""

    path: str | None  # None: not in the vault any more
    data: bytes | None  # None with `unread` (its stat says it is as kbgen last saw it), or let go
    # once its part of the build is written (`update._let_go`)
    pristine: bool = False  # what kbgen last rendered, give or take frontmatter formatting
    moved: bool = False  # found by its kbgen_id away from its recorded path
    # "empty" or "truncated": never read as the user's text; "saving": cut short by an editor
    # that is writing it in place right now (`SAVING_SECONDS`), left alone until it is done
    damaged: str | None = None
    unread: bool = False
    stat: os.stat_result | None = None  # taken just before `data` was read
    aliases: tuple[str, ...] | None = None  # an edited actor or issue note's aliases


# `kbgen watch` locates every note at each build, though most records and stats are the very
# objects its last build located (it keeps the state and the listings between builds): such a
# note is where and as it was, and its `OnDisk` is the last build's (locate at 5,000 articles:
# 20 → 8 ms a sync). By identity, so a build of another vault or another process never hits.
_unread_last_time: dict[str, tuple[NoteRecord, os.stat_result, OnDisk]] = {}


def locate(
    state: State,
    vault: Path,
    found: dict[str, str],
    store: Store,
    listed: Mapping[str, os.stat_result],
) -> dict[str, OnDisk]:
    """Find every note kbgen made (`found`: kbgen_id → path the user moved it to).

    A note whose stat is the one recorded when kbgen last read or wrote it
    is not read again: the state already says whether the user had edited it.
    """
    global _unread_last_time
    located: dict[str, OnDisk] = {}
    last, unread = _unread_last_time, {}
    for kbgen_id, rec in state.notes.items():
        path, moved = rec.path, False
        st = listed.get(path)
        kept = last.get(kbgen_id)
        if kept is not None and kept[0] is rec and kept[1] is st:
            located[kbgen_id] = kept[2]
            unread[kbgen_id] = kept
            continue
        if st is None and kbgen_id in found:
            path, moved = found[kbgen_id], True
            st = listed.get(path)
        if st is None:
            located[kbgen_id] = OnDisk(None, None)
        elif not moved and rec.stat == key_of(st):
            # unread, pristine unless edited: positional, twice as fast as by keyword
            disk = OnDisk(path, None, not rec.edited, False, None, True, st, rec.aliases)
            located[kbgen_id] = disk
            unread[kbgen_id] = (rec, st, disk)
        else:
            located[kbgen_id] = _read(kbgen_id, rec, path, vault, store, moved, st)
    _unread_last_time = unread
    return located


def read_unread(
    located: dict[str, OnDisk], ids: Iterable[str], state: State, vault: Path, store: Store
) -> None:
    """Read the notes among `ids` that `locate` did not need to read (about to be planned)."""
    for kbgen_id in ids:
        disk = located.get(kbgen_id)
        if disk is not None and disk.unread and disk.path is not None:
            rec = state.notes[kbgen_id]
            located[kbgen_id] = _read(kbgen_id, rec, disk.path, vault, store, False, disk.stat)


def _read(
    kbgen_id: str,
    rec: NoteRecord,
    path: str,
    vault: Path,
    store: Store,
    moved: bool,
    st: os.stat_result | None,
) -> OnDisk:
    data = vault_mod.read_bytes(vault / path)
    if data is None:
        return OnDisk(None, None)
    disk = _judge(rec, path, data, moved, store)
    if st is not None and 0 <= time.time_ns() - st.st_mtime_ns < SAVING_SECONDS * 1e9:
        disk = _still_saving(disk, rec, data, store)  # (an mtime ahead of the clock is not)
    aliases = None if disk.pristine or disk.damaged else note_aliases(kbgen_id, data)
    return disk._replace(stat=st, aliases=aliases)


def note_aliases(kbgen_id: str, data: bytes) -> tuple[str, ...] | None:
    """The aliases property of an actor or issue note (None for other notes or none there)."""
    if not kbgen_id.startswith(("actor:", "issue:")):
        return None
    fm, _ = properties.split_note(data.decode("utf-8", errors="replace"))
    aliases = (properties.values(fm) or {}).get("aliases")
    if not isinstance(aliases, list):
        return None
    return tuple(str(a) for a in aliases if a is not None)


def _judge(rec: NoteRecord, path: str, data: bytes, moved: bool, store: Store) -> OnDisk:
    if not data.strip():
        return OnDisk(path, data, moved=moved, damaged="empty")
    if sha(data) == rec.base:
        return OnDisk(path, data, pristine=True, moved=moved)
    base = store.text(rec.base) if rec.base else None
    if base is None:
        return OnDisk(path, data, moved=moved)
    rendered = base.encode("utf-8")
    if rendered.startswith(data) and not data.endswith(b"\n"):
        return OnDisk(path, data, moved=moved, damaged="truncated")
    return OnDisk(path, data, pristine=_same_content(data, base), moved=moved)


SAVING_SECONDS = 3.0  # a note cut short this recently is being saved, not edited down


def _still_saving(disk: OnDisk, rec: NoteRecord, data: bytes, store: Store) -> OnDisk:
    """A note modified in the last seconds, judged again: an editor that saves in place
    (Node's `fs.writeFile`, vim with `backupcopy=yes`, some sync clients) empties the note,
    then writes it, and read in between it is empty or cut short: shorter than kbgen last saw
    it, or than kbgen's last version of it. That is taken for a save in progress, not the user
    deleting their text: the note is left for a later build, never restored or merged from.
    (A user who did cut the note that very moment has it merged a build later.)"""
    if disk.pristine or sha(data) == rec.written:  # as kbgen left it (a merge it just wrote)
        return disk
    if disk.damaged:
        return disk._replace(damaged="saving")
    known = rec.stat[0] if rec.stat is not None else 0
    if len(data) < known:
        return disk._replace(damaged="saving")
    base = store.text(rec.base) if rec.base else None
    if base is not None and len(data) < len(base.encode("utf-8")):
        return disk._replace(damaged="saving")
    return disk


def _same_content(data: bytes, base: str) -> bool:
    """Equal but for how the frontmatter is formatted (Obsidian's property editor re-serialises it)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    fm, body = properties.split_note(text)
    base_fm, base_body = properties.split_note(base)
    if body.rstrip("\n") != base_body.rstrip("\n"):
        return False
    mine = properties.values(fm)
    return mine is not None and mine == properties.values(base_fm)


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
) -> list[Action]:
    """What to do with each note rendered: write it, merge it with the user's, or leave it.

    `consumed`: per note, what to take back from the user's version before
    merging, because this build acted on it (the Candidates note's ticks).
    """
    out = []
    for note in notes:
        undo = (consumed or {}).get(note.kbgen_id)
        out.append(_plan_note(note, state.notes.get(note.kbgen_id), located, store, undo))
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
    state: State, located: Mapping[str, OnDisk], stale: AbstractSet[str]
) -> list[Action]:
    """The notes nothing wants any more: each deleted if untouched, else kept and marked."""
    out = []
    for kbgen_id in sorted(stale):
        action = _plan_stale(kbgen_id, state.notes[kbgen_id], located[kbgen_id])
        if action is not None:
            out.append(action)
    return out


def _plan_note(
    note: Note,
    rec: NoteRecord | None,
    located: dict[str, OnDisk],
    store: Store,
    undo: Callable[[str], str] | None = None,
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
        return _rendering("update", note, data, expect=disk.data, old_path=old_path, rendered=True)
    return _plan_merge(note, data, rec, disk.data, store, undo)


def _plan_merge(
    note: Note,
    data: bytes,  # the rendering, encoded
    rec: NoteRecord,
    ours_bytes: bytes,
    store: Store,
    undo: Callable[[str], str] | None = None,
) -> Action:
    text = note.text
    try:
        ours = ours_bytes.decode("utf-8")
    except UnicodeDecodeError:
        detail = "not valid UTF-8, so it cannot be merged; left exactly as it is"
        return _rendering("kept", note, data, detail=detail)
    if ours == text:
        return _rendering("unchanged", note, data)
    base = store.text(rec.base) if rec.base else None
    if base is None:
        detail = "kbgen has no earlier version of it to merge with: left as it is; later changes will merge"
        return _rendering("kept", note, data, detail=detail)
    from kbgen.vault.merge import count_conflicts, merge_note  # merge3 is loaded only when needed

    mine = undo(ours) if undo else ours
    if mine == base:  # nothing of the user's is left once what was acted on is taken back
        return _rendering("update", note, data, expect=ours_bytes, rendered=True)
    merged = merge_note(base, mine, text)
    if merged.text == ours:
        return _rendering("unchanged", note, data)
    _, ours_body = properties.split_note(ours)
    kind = "conflict" if merged.conflicts > count_conflicts(ours_body) else "merge"
    return _rendering(kind, note, data, raw=merged.text.encode("utf-8"), expect=ours_bytes)


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
        return Action("delete", kbgen_id, disk.path, expect=disk.data, detail="no longer generated")
    if rec.orphaned:
        return None
    return Action("orphan", kbgen_id, disk.path, raw=mark_orphaned(disk.data), expect=disk.data)


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


_Batch = list[tuple[Action, OnDisk | None]]  # notes written together, as they were found


def execute(
    actions: list[Action],
    plan: Plan,
    state: State,
    after: State,
    store: Store,
    vault: Path,
    located: Mapping[str, OnDisk],
) -> None:
    """Journal, write and delete `actions` (a part of `plan`), and record them in `after`, the
    state to commit (start it with `after_of`), at once: `Execution` for a build's parts."""
    with vault_mod.Writer() as writer:
        run = Execution(plan, state, after, store, vault, writer)
        run.start(actions, located)
        run.retry()


class Execution:
    """A build's parts carried out: each journaled, then written, and recorded in `after`.

    A build never holds all its renderings at once, so each part is journaled before it is
    written. With a `Writer` in the background, a part's notes are written while the build
    renders the next part (`finish` waits for them): a cold build's write stage is mostly
    the kernel's work on files, which the second core does while the first renders.

    The vault sees the same changes in the same order as one by one: the notes written where
    they already are go to the writer in a batch; anything else that touches a file (a note
    moved, whose old copy is removed) first waits for the writes under way. A note whose
    path is still taken when its turn comes is tried again once every other note is written
    (`retry`): the note there may be moving away in this build.
    """

    def __init__(
        self,
        plan: Plan,
        state: State,
        after: State,
        store: Store,
        vault: Path,
        writer: vault_mod.Writer,
    ) -> None:
        self.plan, self.state, self.after, self.store = plan, state, after, store
        self.vault, self.writer = vault, writer
        # per part started, its batches being written (`start` makes a part's one batch, or
        # more when a moved note's removal must wait for the writes before it)
        self._under_way: list[list[tuple[_Batch, Callable[[], vault_mod.Outcome]]]] = []
        self._taken: list[tuple[Action, OnDisk | None]] = []  # path taken: tried again last

    def start(self, actions: list[Action], located: Mapping[str, OnDisk]) -> None:
        """Journal a part and set its writes going; the rest of it is done by `finish`."""
        _journal(actions, self.state, self.store)
        self._under_way.append([])
        batch: _Batch = []
        for action in actions:
            disk = located.get(action.kbgen_id)
            if action.data is not None and action.old_path is None:
                # a note replaced is looked at by the writer itself (`Writer.write`); a new
                # one's path may be taken by a note that moves away this build: tried last
                if action.expect is not None or _still(self.vault / action.path, None):
                    batch.append((action, disk))
                else:
                    self._taken.append((action, disk))
                continue
            if action.data is not None or action.kind == "delete":
                self._send(batch)
                batch = []
                self.finish()
                self._under_way.append([])
            self._apply(action, disk)
        self._send(batch)

    def _send(self, batch: _Batch) -> None:
        if batch:
            items = [(self.vault / a.path, cast(bytes, a.data), a.expect) for a, _ in batch]
            self._under_way[-1].append((batch, self.writer.write_all(items)))

    def finish(self, leaving: int = 0) -> None:
        """Wait for the writes under way and record them, but for those of the last `leaving`
        parts started."""
        count = max(len(self._under_way) - leaving, 0)
        done, self._under_way = self._under_way[:count], self._under_way[count:]
        for batch, outcome in (b for part in done for b in part):
            written, failed = outcome()
            for (action, disk), stat in zip(batch, written, strict=False):
                if stat == vault_mod.NOT_WRITTEN:  # the user saved it meanwhile: theirs stands
                    self.plan.skipped.append(action.path)
                else:
                    self._record(action, disk, stat)
            if failed is not None:
                n, exc = failed
                raise _write_failed(self.vault, batch[n][0], exc) from exc

    def retry(self) -> None:
        """The notes whose path was taken, once every other note is written: written now if
        it has been freed, else left for the next build (`Plan.skipped`)."""
        self.finish()
        taken, self._taken = self._taken, []
        for action, disk in taken:
            self._apply(action, disk)

    def _apply(self, action: Action, disk: OnDisk | None) -> None:
        """One action now: a move, a delete, a record, or a note whose path was taken (`retry`)."""
        vault = self.vault
        if action.kind == "unchanged" and action.base is None and disk is not None and disk.unread:
            return  # not rendered, not read: its record stands as it is (the common case)
        if action.kind == "saving":  # its record stands: read again by the next build
            self.plan.skipped.append(action.path)
            return
        if action.kind in ("delete", "forget"):
            if action.kind == "delete" and _still(vault / action.path, action.expect):
                vault_mod.remove(vault / action.path)
            self.after.notes.pop(action.kbgen_id, None)
            return
        data, stat = action.data, None
        if data is not None:
            target = vault / action.path
            if not _still(target, None if action.old_path else action.expect):
                self.plan.skipped.append(action.path)
                return
            try:
                stat = self.writer.write(target, data, None if action.old_path else action.expect)
                if self.writer.settle():
                    stat = vault_mod.NOT_WRITTEN
            except OSError as exc:
                raise _write_failed(vault, action, exc) from exc
            if stat == vault_mod.NOT_WRITTEN:
                self.plan.skipped.append(action.path)
                return
            if action.old_path and _still(vault / action.old_path, action.expect):
                vault_mod.remove(vault / action.old_path)
        self._record(action, disk, stat)

    def _record(
        self, action: Action, disk: OnDisk | None, written: vault_mod.Written | None
    ) -> None:
        """What the state is to remember of the note an action left at its path."""
        rec = self.state.notes.get(action.kbgen_id)
        stat, edited, aliases = _seen(action, rec, disk, written)
        self.after.notes[action.kbgen_id] = NoteRecord(
            action.path,
            _new_base(self.state, action),
            action.data_sha or (rec.written if rec else ""),
            orphaned=action.kind == "orphan",
            pinned=action.kbgen_id in self.plan.pinned,
            stat=stat,
            edited=edited,
            aliases=aliases,
        )


def _journal(actions: list[Action], state: State, store: Store) -> None:
    """Record the bytes about to be written at each path, and the new merge bases."""
    writes = [a for a in actions if a.writes]
    bases = {
        a.base_sha: text
        for a in actions
        if (text := a.base_bytes) is not None
        and a.base_sha is not None
        and (store.lacks_texts or _base_changed(state, a))
    }
    if bases or writes:
        store.journal(
            [
                (a.kbgen_id, a.path, _new_base(state, a), a.data_sha)
                for a in writes
                if a.data_sha is not None
            ],
            bases,
        )


def _write_failed(vault: Path, action: Action, exc: OSError) -> KbgenError:
    verb = "delete" if action.kind == "delete" else "write"
    return KbgenError(
        f"{vault / action.path}: cannot {verb} the note ({exc.strerror or exc}). Every note is "
        "as it was or as this build made it; the next build finishes the job."
    )


def after_of(state: State) -> State:
    """The state a build's `execute` calls bring up to date, to be committed at its end."""
    after = state.copy()
    after.pending = {}
    return after


def _base_changed(state: State, action: Action) -> bool:
    rec = state.notes.get(action.kbgen_id)
    return action.base is not None and (rec is None or rec.base != action.base_sha)


def _new_base(state: State, action: Action) -> str:
    if action.base_sha is not None:
        return action.base_sha
    return state.notes[action.kbgen_id].base


def _seen(
    action: Action, rec: NoteRecord | None, disk: OnDisk | None, written: vault_mod.Written | None
) -> tuple[StatKey | None, bool, tuple[str, ...] | None]:
    """What to remember of the file now at `action.path`: its stat (`written`: as it was just
    after kbgen wrote it), and whether it holds edits."""
    if action.raw is not None or action.rendered:
        edited = action.kind in ("merge", "conflict", "orphan")
        st, at = written if written is not None else (None, 0)
        stat = stat_key(st, at) if st is not None else None
        if not edited:
            return stat, False, None
        data = action.raw  # merges and orphans write their own bytes, never the rendering
        return stat, True, note_aliases(action.kbgen_id, data) if data is not None else None
    if disk is None or disk.stat is None or disk.path != action.path:
        return None, False, None
    if disk.unread and rec is not None:
        return rec.stat, rec.edited, rec.aliases
    return stat_key(disk.stat, time.time_ns()), not disk.pristine, disk.aliases


def _still(path: Path, expect: bytes | None) -> bool:
    """The file still holds what the plan saw (None: must still be absent)."""
    return vault_mod.read_bytes(path) == expect
