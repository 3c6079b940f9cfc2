"""The reduced notes of a cold build rendered by a forked process while the build goes on.

After the read, a cold build of 10,000 articles renders 3,807 reduced notes (actors, issues,
their month pages, authors, the timeline, Home, Candidates) in 3.2 s of its main process's
CPU, most of it the month pages' lines read from the staging file and formatted: time in
which the main process could render, plan, journal and hand to the writing process the
10,000 source notes. `Reducer` renders them in a process forked once everything they are
made of is known, a chunk at a time (about 4 MB), `AHEAD` chunks ahead of the build, which
takes those done between parts of source notes (`parts.render_each`). The build holds a
few chunks at a time, never all of them; it holds them beside the source notes it has yet
to render, though: 45 MB more at its peak, at 10,000 articles.

Only for a build where every source was parsed (`Reduction.all_new`): such a build reads
nothing from the state to render them, only the staging file, which the forked process
opens for itself (a SQLite connection must not cross a fork).

A `Reducer` is made before the build's writing process (`files.Writer`) is: a process forked
from the build holds the pipes of every pool made before it. When the writing process dies,
the build's thread that feeds it must find its pipe with no reader left, not block forever
on one this process holds and never reads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor, Future

from kbgen.build.reduce import Reduction
from kbgen.core import forked
from kbgen.core.errors import KbgenError
from kbgen.core.model import Note

AHEAD = 4  # chunks asked of the process at a time: it works on while the build takes one
BUDGET = 10_000  # a chunk's notes, weighed in lines (`Reduction.weight`): about 4 MB
MOST = 200  # notes in a chunk at most

_REDUCTION: Reduction | None = None  # the forked process's, inherited through fork
_REOPENED = False  # whether the forked process has opened the staging file for itself


class Reducer:
    """Reduced notes, by kbgen_id, rendered in a forked process a chunk at a time, in order
    (a note that is not a reduced one is left out): `done` gives the chunks rendered so far,
    `rest` waits for the others."""

    def __init__(self, reduction: Reduction, ids: list[str]) -> None:
        global _REDUCTION
        if not reduction.all_new:  # it would read the state through its parent's connection
            raise ValueError("the reduced notes are rendered aside in builds of every source only")
        reduction.new.ready()  # the staging file's indexes made before the process reads it
        _REDUCTION = reduction
        self._chunks = _chunked(ids, reduction.weight, BUDGET)
        self._pool = forked.executor(1)
        self._asked: deque[Future[list[Note]]] = deque()
        for _ in range(AHEAD):
            self._ask()

    def _ask(self) -> None:
        if self._chunks:
            self._asked.append(self._pool.submit(_render_chunk, self._chunks.popleft()))

    def done(self) -> Iterator[list[Note]]:
        """The chunks rendered by now, in order, without waiting."""
        while self._asked and self._asked[0].done():
            yield self._take()

    def rest(self) -> Iterator[list[Note]]:
        while self._asked:
            yield self._take()

    def _take(self) -> list[Note]:
        future = self._asked.popleft()
        self._ask()
        try:
            return future.result()
        except BrokenExecutor as exc:  # killed (out of memory?): the build stops, as it would
            raise KbgenError(f"kbgen's rendering process stopped ({exc})") from exc

    def __enter__(self) -> Reducer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the process, the chunk it is rendering done or not."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _chunked(ids: list[str], weight: Callable[[str], int], budget: int) -> deque[list[str]]:
    chunks: deque[list[str]] = deque()
    chunk: list[str] = []
    size = 0
    for kbgen_id in ids:
        chunk.append(kbgen_id)
        size += weight(kbgen_id)
        if size >= budget or len(chunk) >= MOST:
            chunks.append(chunk)
            chunk, size = [], 0
    if chunk:
        chunks.append(chunk)
    return chunks


def _render_chunk(ids: list[str]) -> list[Note]:
    """Runs in the forked process."""
    global _REOPENED
    assert _REDUCTION is not None
    if not _REOPENED:
        _REDUCTION.new.reopen()
        _REOPENED = True
    return [note for i in ids if (note := _REDUCTION.render(i)) is not None]
