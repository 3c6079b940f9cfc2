"""Forked helper processes: the workers that parse sources, those that write notes, the one
that renders a cold build's reduced notes.

Forked, not spawned: a child starts in milliseconds with the parent's
modules, catalog and matcher already in memory. `kbgen watch` has threads
and never forks (a forked child of a threaded process can deadlock), so
its builds do everything in their own process.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from typing import Any


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a helper process is worth forking here: Linux, and a second core to run it."""
    return sys.platform == "linux" and cores() >= 2


def executor(processes: int) -> Any:
    """A `ProcessPoolExecutor` of forked processes started by `worker_start`: the notes'
    writers (`files.Writer`), the reduced notes' renderer (`reducer.Reducer`)."""
    import multiprocessing  # here: only builds of many notes fork
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("fork"),
        initializer=worker_start,
        initargs=(os.getpid(),),
    )


def worker_start(parent: int) -> None:
    """A worker dies with its parent (a killed build leaves none; the vault's lock is
    forgotten at every fork, by `kbgen.vault.lock`).

    It takes none of its parent's signal handlers either: Ctrl-C is the parent's to handle,
    and the pool stops its workers with SIGTERM, which `kbgen watch`'s handler would catch.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    # `kbgen build` pauses its own collector, not its workers'. What they inherit is frozen
    # first, as Python's `gc.freeze` documents for forked children: their collections then
    # never walk (and copy, page by page) the parent's objects.
    gc.freeze()
    gc.enable()
