"""Files by their stat: what was read need not be read again while its stat stays the same.

A stat is trusted only once it is older than the file system's clock tick ("racy" before):
a save within the same tick as a read may keep size and times (as git's index does).
"""

from __future__ import annotations

import hashlib
import operator
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

RACY_SECONDS = 0.1  # beyond the coarsest clock tick of ext4, XFS, btrfs, APFS and NTFS
COARSE_RACY_SECONDS = 2.0  # file systems that keep whole seconds (FAT, HFS+, some mounts)

StatKey = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
_Value = TypeVar("_Value")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stat_key(st: os.stat_result, now_ns: int) -> StatKey | None:
    """The stat to remember for a file just read or written, or None if it is racy."""
    return None if is_racy(st.st_mtime_ns, racy_limits(now_ns)) else key_of(st)


class ByStat(Generic[_Value]):
    """What was read from files, read again only when a file's stat changed or was too recent
    to trust (`stat_key` gave None): `kbgen watch` looks at the same notes around every build."""

    def __init__(self, at_most: int = 50_000) -> None:
        self._known: dict[Hashable, tuple[StatKey, _Value]] = {}
        self._at_most = at_most

    def get(self, key: Hashable, stat: StatKey | None, read: Callable[[], _Value]) -> _Value:
        known = self._known.get(key)
        if stat is not None and known is not None and known[0] == stat:
            return known[1]
        value = read()
        if stat is None:
            self._known.pop(key, None)
        else:
            if len(self._known) >= self._at_most:
                self._known.clear()
            self._known[key] = (stat, value)
        return value

    def keep_only(self, keys: Iterable[Hashable]) -> None:
        self._known = {k: self._known[k] for k in keys if k in self._known}


def racy_limits(now_ns: int) -> tuple[int, int]:
    """The newest mtime not racy at `now_ns`: for fine clocks, and for whole-second ones."""
    return now_ns - int(RACY_SECONDS * 1e9), now_ns - int(COARSE_RACY_SECONDS * 1e9)


def is_racy(mtime_ns: int, limits: tuple[int, int]) -> bool:
    """Too recent to trust (`limits` from `racy_limits`); an mtime in whole milliseconds
    comes from a file system that keeps coarse times."""
    return mtime_ns > limits[mtime_ns % 1_000_000 == 0]


def any_racy(mtimes: Sequence[int], now_ns: int) -> bool:
    """Whether any of these mtimes is too recent to trust at `now_ns`: ten thousand of them
    are looked at one by one only when the newest is."""
    limits = racy_limits(now_ns)
    return bool(mtimes) and max(mtimes) > min(limits) and any(is_racy(m, limits) for m in mtimes)


# A stat's key: (size, mtime_ns, ctime_ns, inode), taken in C (it runs once per file per build).
key_of: Callable[[os.stat_result], StatKey] = operator.attrgetter(
    "st_size", "st_mtime_ns", "st_ctime_ns", "st_ino"
)


def file_identity(path: str | Path) -> tuple[int, int] | None:
    """(device, inode): the same file, even where another now has its name, or None if none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
