"""The lines of the notes a build read, kept for the next build of `kbgen watch`.

Watching, the same big notes are rendered again and again (a month of Russia: 800 sources);
their lines are read once and kept, each answer brought up to date by the commits that
change a source's contributions (`update`), until the state is read afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

LINES_CACHED = 8_000_000  # characters of lines kept for the next build (1–4 bytes each)


class KeptLines:
    """`Store.lines_of` answers, oldest first, under `LINES_CACHED` characters in all."""

    def __init__(self) -> None:
        self._lines: dict[str, dict[str, str]] = {}
        self._size = 0

    def __bool__(self) -> bool:
        return bool(self._lines)

    def get(self, note: str, read: Callable[[str], dict[str, str]]) -> dict[str, str]:
        cached = self._lines.pop(note, None)
        if cached is not None:
            self._lines[note] = cached  # the most recently used last
            return cached
        lines = read(note)
        self._lines[note] = lines
        self._size += _size(lines)
        while self._size > LINES_CACHED and len(self._lines) > 1:
            self._size -= _size(self._lines.pop(next(iter(self._lines))))
        return lines

    def forget(self) -> None:
        self._lines.clear()
        self._size = 0

    def update(self, source: str, before: Iterable[str], now: Mapping[str, str]) -> None:
        """A source's lines replaced: it gave lines to the notes `before` and gives `now`
        (per note, its lines; a replaced row comes last, as in the database)."""
        for note in sorted((set(before) | set(now)) & self._lines.keys()):
            lines = self._lines[note]
            self._size -= len(lines.pop(source, ""))
            said = now.get(note, "")
            if said:
                lines[source] = said
                self._size += len(said)


def _size(lines: Mapping[str, str]) -> int:
    return sum(map(len, lines.values()))
