"""Filesystem events → hints for `kbgen watch`, and when to act on them (pure; clock injected).

Events are hints, never facts (docs/architecture.md, "Watching"): they say that something under the
sources or the vault may have changed, and when. The build finds out what.
Here they are only filtered (editor swap files, hidden folders, kbgen's temp
files say nothing) and timed: one sync after a quiet period, never later than
`max_wait` after the first hint, and not while a source is still being written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from kbgen.build.listings import Area, relevant


@dataclass(frozen=True)
class Hint:
    area: Area
    rel: str  # relative to its area's root, "/"-separated
    kind: str  # created, modified, attrib, deleted, moved_from, moved_to, closed
    is_dir: bool = False


def classify(kind: str, src: str, dest: str, is_dir: bool, roots: dict[Area, str]) -> list[Hint]:
    """The hints one watchdog event gives (none for what no build would look at).

    A move is two hints, one per end, so a file renamed from a swap name to
    a source name (a "safe write") counts as a source appearing.
    """
    if kind in ("opened", "closed_no_write") or (kind == "modified" and is_dir):
        return []  # a folder's "modified" only echoes a change to one of its files
    ends = [("moved_from", src), ("moved_to", dest)] if kind == "moved" else [(kind, src)]
    out = []
    for end_kind, path in ends:
        for area, root in roots.items():
            rel = _relative(path, root)
            if rel is not None and relevant(area, rel, is_dir):
                out.append(Hint(area, rel, end_kind, is_dir))
                break
    return out


def _relative(path: str, root: str) -> str | None:
    if not path or not (path == root or path.startswith(root.rstrip(os.sep) + os.sep)):
        return None
    rel = os.path.relpath(path, root)
    return None if rel == "." else rel.replace(os.sep, "/")


@dataclass
class Debouncer:
    """Collects hints and says when to sync.

    Due once `quiet` seconds passed without a hint, or `max_wait` seconds
    after the first pending one however busy the folder is, so a stream of
    changes is absorbed in a few builds, not one per file. A source written
    but not yet closed (a copy in progress, seen only where the observer
    reports closes) holds the sync back until it is closed or `max_wait`
    has passed.

    Where closes are reported, a save is known to be over when the last
    hint closes a source written or renames one into place (how every
    editor's save ends, in place or "safe"): then only `settle` seconds
    must pass, enough for the next file of a copy to show up. Notes saved
    in the vault (Obsidian saves as the user types) wait the quiet period.
    """

    quiet: float
    max_wait: float
    tracks_close: bool = False
    settle: float = 0.02
    hints: list[Hint] = field(default_factory=list)
    _first: float | None = None
    _last: float = 0.0
    _finished: bool = False  # the last hint ended a save of a source
    _writing: set[str] = field(default_factory=set)

    def add(self, hint: Hint, now: float) -> None:
        if self._first is None:
            self._first = now
        self._last = now
        self.hints.append(hint)  # a close is a hint too: the file's bytes are now final
        self._finished = False
        if hint.area != "sources" or hint.is_dir or not self.tracks_close:
            return
        if hint.kind in ("created", "modified"):
            self._writing.add(hint.rel)
        elif hint.kind in ("closed", "deleted", "moved_from", "moved_to"):
            self._writing.discard(hint.rel)
        self._finished = hint.kind in ("closed", "moved_to")

    def wait(self, now: float) -> float | None:
        """Seconds until due (0: due now), or None when nothing is pending."""
        if self._first is None:
            return None
        deadline = self._first + self.max_wait
        if not self._writing:
            quiet = min(self.quiet, self.settle) if self._finished else self.quiet
            deadline = min(deadline, self._last + quiet)
        return max(0.0, deadline - now)

    def take(self) -> list[Hint]:
        """The pending hints, handed over for one sync; the debouncer starts afresh."""
        hints, self.hints = self.hints, []
        self._first = None
        self._finished = False
        self._writing.clear()
        return hints
