"""Carrying a plan out crash-safely, a part of the notes at a time.

A write happens in three steps, so that a build killed at any instant leaves every note old or new
and the next build finishes the job:
1. the journal records, per note, the path and the hash of the bytes about to be written
   (`Store.journal`);
2. each note is written atomically (temp file, fsync, rename: `files.Writer`);
3. the state is committed in one transaction, once every part is written.
A note found holding journalled bytes was written by kbgen, not edited.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

from kbgen.core.errors import KbgenError
from kbgen.core.filestat import StatKey, stat_key
from kbgen.state.store import NoteRecord, State, Store
from kbgen.vault import files as vault_mod
from kbgen.vault.actions import Action, Plan
from kbgen.vault.locate import OnDisk, note_aliases

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
    if action.kind == "adopted":
        # left as it is with a new merge base (it had none): the next build looks at it
        # again, whatever its stat, and merges against that base
        return None, True, disk.aliases
    if disk.unread and rec is not None:
        return rec.stat, rec.edited, rec.aliases
    return stat_key(disk.stat, time.time_ns()), not disk.pristine, disk.aliases


def _still(path: Path, expect: bytes | None) -> bool:
    """The file still holds what the plan saw (None: must still be absent)."""
    return vault_mod.read_bytes(path) == expect
