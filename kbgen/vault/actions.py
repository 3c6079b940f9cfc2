"""A plan: every action a build decided, in the order the user reads them.

Only data: the command line and `kbgen watch` read plans, and a build the
snapshot answers rebuilds one, without loading the merge machinery.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from kbgen.core.filestat import sha

WRITE_KINDS = ("create", "update", "merge", "conflict", "restore", "orphan")
# notices shown with -v and in dry runs only: a user note that is a link target, what a
# catalog change relinked
ROUTINE_NOTICES = ("link", "relink")
_LABELS = {
    "create": "create  {path}",
    "update": "update  {path}",
    "merge": "merge   {path}  (your edits kept, the source's changes applied)",
    "conflict": "CONFLICT {path}  (you and the source changed the same passage: both kept, see the box)",
    "restore": "restore {path}  ({detail})",
    "orphan": "orphan  {path}  (its source is gone; kept because you wrote in it)",
    "delete": "delete  {path}  ({detail})",
    "kept": "keep    {path}  ({detail})",
    # kept too, with a merge base made for it (it had none): looked at again by the next build
    "adopted": "keep    {path}  ({detail})",
    "saving": "wait    {path}  ({detail})",
}


@dataclass(frozen=True)
class Action:
    kind: str  # a key of _LABELS, "unchanged", or "forget" (gone from the vault and the sources)
    kbgen_id: str
    path: str
    raw: bytes | None = None  # bytes to write (see `data`)
    base: str | None = None  # the new merge base (the rendering); None keeps the old one
    expect: bytes | None = None  # what must still be at `path` (or `old_path`) when we act
    old_path: str | None = None  # a previous location, removed once the new one is written
    detail: str = ""
    rendered: bool = False  # write the rendering itself: `base`, encoded when written
    spent_write: bool = False  # carried out, and it wrote (its bytes are let go: see `spent`)
    utf8: bytes | None = field(default=None, compare=False, repr=False)  # `base` encoded, if
    # the planner had it: a rendering is compared, hashed, journaled and written as bytes

    @functools.cached_property
    def base_bytes(self) -> bytes | None:
        """`base` as UTF-8, encoded once (a big note takes a millisecond a time)."""
        if self.utf8 is not None:
            return self.utf8
        return self.base.encode("utf-8") if self.base is not None else None

    @property
    def writes(self) -> bool:
        return self.raw is not None or self.rendered or self.spent_write

    @property
    def data(self) -> bytes | None:
        """The bytes to write, None for none."""
        if self.rendered and self.base is not None:
            return self.base_bytes
        return self.raw

    def spent(self) -> Action:
        """What a plan keeps of an action once it is carried out: not the bytes it wrote."""
        return Action(
            self.kind,
            self.kbgen_id,
            self.path,
            old_path=self.old_path,
            detail=self.detail,
            spent_write=self.writes,
        )

    def line(self) -> str:
        return _LABELS[self.kind].format(path=self.path, detail=self.detail)

    @functools.cached_property
    def base_sha(self) -> str | None:
        """Hashed once: the journal, the texts table and the state all need it."""
        return sha(self.base_bytes) if self.base_bytes is not None else None

    @functools.cached_property
    def data_sha(self) -> str | None:
        if self.rendered and self.base is not None:  # the base's bytes: not hashed twice
            return self.base_sha
        return sha(self.raw) if self.raw is not None else None


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # changed on disk while we built
    pinned: set[str] = field(default_factory=set)  # kbgen_ids of notes the user moved or renamed
    # notes left as they were and not listed one by one: neither rendered nor read (most of
    # a big vault), or all of them in a report replayed from the snapshot
    unlisted_unchanged: int = 0

    def of(self, *kinds: str) -> list[Action]:
        return [a for a in self.actions if a.kind in kinds]

    def count(self, *kinds: str) -> int:
        unlisted = self.unlisted_unchanged if "unchanged" in kinds else 0
        return len(self.of(*kinds)) + unlisted

    @property
    def writes(self) -> list[Action]:
        return [a for a in self.actions if a.writes]

    def lines(self, *, routine: bool = True) -> list[str]:
        """One line per change, in a fixed order.

        Without `routine`, plain creates and updates, the reminders that a
        user note is a link target and what a catalog change relinked are left
        out (the summary counts them): what remains is what a user should read
        after every build.
        """
        skip = () if routine else ("create", "update")
        out = []
        for kind in (*WRITE_KINDS, "delete", "kept", "adopted", "saving"):
            out += [a.line() for a in self.actions if a.kind == kind and kind not in skip]
        return out + [n for n in self.notices if routine or not n.startswith(ROUTINE_NOTICES)]
