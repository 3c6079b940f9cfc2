"""One function over many jobs on forked workers, in order, and always ending.

`multiprocessing.Pool` waits forever when a worker dies (killed, out of memory, a crash in a
compiled library) or sends back a result the parent cannot unpickle: its result thread dies and
nobody tells the caller. `concurrent.futures` marks the pool broken instead, and every job still
pending fails at once. This module takes that signal: the jobs the broken pool did not finish are
run again one at a time, each in a fresh one-process pool, so the job that breaks it again is
known for certain and gets its own answer through `lost`, while every other job gets its result.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from kbgen.core import forked

if TYPE_CHECKING:
    from concurrent.futures import Future

J = TypeVar("J")
R = TypeVar("R")

DIED = "died (killed, out of memory, or a crash in a compiled library)"  # what `lost` hears


def ordered_map(
    func: Callable[[J], R],
    jobs: Sequence[J],
    lost: Callable[[J, str], R],
    processes: int,
    chunksize: int = 16,
) -> Iterator[R]:
    """`func` of each job, in the jobs' order, computed by `processes` forked workers.

    A job whose worker died, or whose result could not be passed back, gives
    `lost(job, why)` instead; the build goes on with the others. `func` must catch
    its own expected failures: this is the net under it, not the way to report them.
    """
    # here: a build of a few sources never starts a pool, nor imports one (13 ms)
    from concurrent.futures.process import BrokenProcessPool

    chunks = deque(list(jobs[i : i + chunksize]) for i in range(0, len(jobs), chunksize))
    window: deque[tuple[list[J], Future[list[R]]]] = deque()
    pool: Any = None
    try:
        while chunks or window:
            if pool is None:
                pool = forked.executor(processes)
            while chunks and len(window) < 4 * processes:
                try:
                    window.append((chunks[0], pool.submit(_each, func, chunks[0])))
                except BrokenProcessPool:
                    break  # a job in the window broke it: taken below
                chunks.popleft()
            if not window:  # broken before a job could be given to it
                _shut(pool)
                pool = None
                continue
            chunk, future = window.popleft()
            try:
                results = future.result()
            except BrokenProcessPool:
                _shut(pool)
                pool = None
                # the broken pool's other chunks go to the next pool, in order, before the rest:
                # the one at fault breaks that too, until it is the first and is run alone
                chunks.extendleft(reversed([c for c, _ in window]))
                window.clear()
                results = list(_one_by_one(func, chunk, lost))
            except (Exception, SystemExit):  # a result that could not be pickled, or an exit
                results = list(_one_by_one(func, chunk, lost))
            yield from results
    finally:
        _shut(pool)


def _each(func: Callable[[J], R], chunk: list[J]) -> list[R]:
    return [func(job) for job in chunk]


def _one_by_one(func: Callable[[J], R], chunk: list[J], lost: Callable[[J, str], R]) -> Iterator[R]:
    """The jobs of a chunk that failed as a whole, each alone, to tell which one it was."""
    from concurrent.futures.process import BrokenProcessPool

    pool: Any = None
    try:
        for job in chunk:
            if pool is None:
                pool = forked.executor(1)
            try:
                yield pool.submit(func, job).result()
            except BrokenProcessPool:
                _shut(pool)
                pool = None
                yield lost(job, DIED)
            except (Exception, SystemExit) as exc:
                yield lost(job, f"{type(exc).__name__}: {exc}")
    finally:
        _shut(pool)


def _shut(pool: Any) -> None:
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
