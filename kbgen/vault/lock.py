"""One writer per vault: the lock a build holds, and that no forked child keeps.

A flock belongs to the open file, which fork shares: a forked worker still holding a copy
would keep the vault locked after its parent was killed. Every fork forgets the lock in the
child (`os.register_at_fork`), whoever forks.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from kbgen.core.errors import KbgenError

LOCK_FILE = ".kbgen/lock"


@contextlib.contextmanager
def lock(vault: Path, *, readonly: bool = False) -> Iterator[None]:
    """One writer per vault: a second `kbgen build` (or `watch`) waits for none, it stops.

    A dry run only reads, so it takes no lock (and creates no lock file).
    """
    if readonly:
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; a single writer is up to the user
        yield
        return
    path = vault / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise KbgenError(
                f"{vault}: another kbgen is writing this vault; try again when it has finished"
            ) from exc
        _HELD.add(fh.fileno())
        try:
            yield
        finally:
            _HELD.discard(fh.fileno())
            fcntl.flock(fh, fcntl.LOCK_UN)


_HELD: set[int] = set()  # descriptors of the vault locks this process holds


def forget_inherited_locks() -> None:
    """In a forked worker: close its copies of the lock files.

    A flock belongs to the open file, which fork shares: a worker still
    holding a copy would keep the vault locked after its parent was killed.
    """
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=forget_inherited_locks)
