"""The sources and the vault as a build starts from them: listed in full, or, under `kbgen watch`,
brought up to date path by path.

A build lists ten thousand sources and as many notes before anything else
(one stat each: 0.1 s at that size). `kbgen watch` is told by the OS which
paths changed, so it keeps the last listing (`Kept`) and looks again only at
those, at the paths its own build wrote, and at stats still too recent to
trust. Anything it cannot follow path by path — a folder created, moved or
deleted, a rescan, an observer restarted, a build that failed — makes the
next listing a full one, and the periodic rescan catches events the OS
dropped, as it always did.
"""

from __future__ import annotations

import os
import stat as stat_mod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kbgen.core import filestat
from kbgen.core.config import Config
from kbgen.core.errors import SourceError
from kbgen.read.sources import OUTSIDE, SourceFile, discover, inside, is_source_name
from kbgen.vault import files as vault_mod

Area = Literal["sources", "vault"]  # the two folders a build lists


def relevant(area: Area, rel: str, is_dir: bool) -> bool:
    """What `sources.discover` or `files.listing` would see: no hidden parts, the right suffixes."""
    parts = rel.split("/")
    if any(p.startswith(".") for p in parts):  # .obsidian, .kbgen, .trash, kbgen's temp files
        return False
    if is_dir:
        return True
    name = parts[-1]
    if area == "vault":
        return name.endswith(".md")
    return is_source_name(name)


@dataclass
class Listing:
    """Every note with its stat, temp files a killed build left, every source, and the sources
    that cannot be read as listed (a folder that cannot be listed, a symlink leading out)."""

    notes: dict[str, os.stat_result]
    temps: list[Path]
    sources: list[SourceFile]
    errors: list[SourceError]


def list_all(config: Config) -> Listing:
    notes, temps = vault_mod.listing(config.vault)
    sources, errors = discover(config.sources, config.follow_symlinks)
    return Listing(notes, temps, sources, errors)


@dataclass
class Kept:
    """The last listing, kept between builds, and the paths to look at again before the next."""

    _last: Listing | None = None  # None: list everything next time
    _again: set[tuple[Area, str]] = field(default_factory=set)

    def forget(self) -> None:
        """Something changed that only a full listing sees (a folder, a lost event, a failure)."""
        self._last = None
        self._again.clear()

    def look_again(self, area: Area, rel: str) -> None:
        self._again.add((area, rel))

    def suffixes(self) -> set[str]:
        """The suffixes (".md", lower case) of the sources last listed."""
        last = self._last
        return set() if last is None else {os.path.splitext(f.rel)[1].lower() for f in last.sources}

    def listing(self, config: Config, listed_at_ns: int) -> Listing:
        """The listing a full one would give now, if every change since was reported."""
        last = self._last
        if (
            last is None
            or last.temps
            or any(e.path.endswith("/") for e in last.errors)  # a folder that cannot be listed
            or not config.sources.is_dir()  # unmounted: never "every source was deleted"
        ):
            last = list_all(config)  # (which says why it cannot list the sources)
            self._again = _racy(last, listed_at_ns)
        else:
            last, stated = _updated(last, config, self._again)
            self._again = _racy(stated, listed_at_ns)  # the others were trusted when stated
        self._last = last
        return Listing(dict(last.notes), list(last.temps), list(last.sources), list(last.errors))


def _updated(
    last: Listing, config: Config, again: set[tuple[Area, str]]
) -> tuple[Listing, Listing]:
    """The listing with the paths in `again` stated anew, and those paths' part of it."""
    stated = Listing({}, [], [], [])
    notes = dict(last.notes)
    sources = {f.rel: f for f in last.sources}
    errors = {e.path: e for e in last.errors}
    added = False  # a path not listed before: the listing is sorted again
    real_root = config.sources.resolve()
    for area, rel in again:
        if area == "vault":
            st = note_at(config.vault, rel)
            if st is None:
                notes.pop(rel, None)
            else:
                added = added or rel not in notes
                notes[rel] = stated.notes[rel] = st
            continue
        found = source_at(config.sources, rel, config.follow_symlinks, real_root)
        errors.pop(rel, None)
        if isinstance(found, SourceFile):
            added = added or rel not in sources
            sources[rel] = found
            stated.sources.append(found)
            continue
        sources.pop(rel, None)
        if found is not None:
            errors[rel] = found
    if added:
        notes = dict(sorted(notes.items()))
    listing = Listing(
        notes,
        [],
        sorted(sources.values()) if added else list(sources.values()),
        sorted(errors.values(), key=lambda e: e.path),
    )
    return listing, stated


def _racy(listing: Listing, listed_at_ns: int) -> set[tuple[Area, str]]:
    """Paths whose stat was taken too soon after their last change to be trusted later."""
    limits = filestat.racy_limits(listed_at_ns)
    again: set[tuple[Area, str]] = {
        ("vault", rel)
        for rel, st in listing.notes.items()
        if filestat.is_racy(st.st_mtime_ns, limits)
    }
    again |= {
        ("sources", f.rel)
        for f in listing.sources
        if f.stat is None or filestat.is_racy(f.stat.st_mtime_ns, limits)
    }
    return again


def note_at(vault: Path, rel: str) -> os.stat_result | None:
    """What `files.listing` gives for one path: its stat, or None when it lists nothing there."""
    if not relevant("vault", rel, is_dir=False):
        return None
    path = os.path.join(vault, *rel.split("/"))
    try:
        if stat_mod.S_ISDIR(os.lstat(path).st_mode):
            return None
        return os.stat(path)
    except OSError:
        return None


def source_at(
    root: Path, rel: str, follow_symlinks: bool, real_root: Path
) -> SourceFile | SourceError | None:
    """What `sources.discover` gives for one path (None: nothing, as for a folder)."""
    if not relevant("sources", rel, is_dir=False):
        return None
    path = os.path.join(root, *rel.split("/"))
    try:
        link = os.lstat(path)
    except OSError:
        return None
    is_link = stat_mod.S_ISLNK(link.st_mode)
    try:
        st: os.stat_result | None = os.stat(path) if is_link else link
    except OSError:
        st = None  # a dangling link: reading it says why
    is_dir = stat_mod.S_ISDIR((st if follow_symlinks and st is not None else link).st_mode)
    if is_dir:
        return None
    if is_link and not follow_symlinks and not inside(path, real_root):
        return SourceError(rel, OUTSIDE)
    return SourceFile(rel, path, st)
