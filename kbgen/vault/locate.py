"""Where each of kbgen's notes is in the vault, and whether the user changed it since kbgen wrote it.

A note is found at its recorded path, or by its `kbgen_id` where the user moved it; its bytes are read
only when its stat changed or is too recent to trust, and compared with the hash of what kbgen last
wrote: equal, it is pristine (kbgen may replace it); else the user touched it (it is merged), emptied
or cut it short (restored), or is saving it right now (left for later).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from kbgen.core.filestat import key_of, sha
from kbgen.core.keys import is_entity
from kbgen.state.store import NoteRecord, State, Store
from kbgen.vault import files as vault_mod
from kbgen.vault import properties


class OnDisk(NamedTuple):  # a tuple: a build makes one per note, ten thousand and more
    """Where a note kbgen made is now, and whether the user touched it."""

    path: str | None  # None: not in the vault any more
    data: bytes | None  # None with `unread` (its stat says it is as kbgen last saw it), or let go
    # once its part of the build is written (`parts._let_go`)
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
    if not is_entity(kbgen_id):
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
