"""What a build did, for the command line and for `kbgen watch`."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from kbgen.core.errors import SourceError
from kbgen.core.plural import counted
from kbgen.vault.actions import WRITE_KINDS, Plan
from kbgen.vault.files import MAP

BAR_FROM = 100  # fewer items than this are done before a bar would show
BAR_DELAY = 0.5  # seconds before a bar shows: a quick build shows none


def progress_bar(total: int, desc: str, unit: str) -> Any:
    """A tqdm bar on stderr, or None below `BAR_FROM` items. tqdm is imported only when a bar
    may show: it costs a one-change build 50 ms to import."""
    if total < BAR_FROM:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, delay=BAR_DELAY)


def _peak_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS


@dataclass(frozen=True)
class Declined:
    """A shortcut a build did not take, and why: `kbgen build -v` says it."""

    shortcut: str  # "snapshot" or "quick"
    reason: str


@dataclass
class Report:
    sources: int = 0
    errors: list[SourceError] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)
    seconds: float = 0.0
    dry_run: bool = False
    vault_created: bool = False
    parsed: int = 0  # sources read and linked (the rest were unchanged, by stat or by hash)
    rendered: int = 0  # notes rendered (the rest had no input change)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, in order
    peak_mb: dict[str, float] = field(default_factory=dict)  # peak memory at each stage's end
    # the notes whose properties feed the catalog (kbgen watch looks at these)
    catalog_notes: list[str] = field(default_factory=list)
    # a line per prose-like block cleaning removed from a source read (`reading.removal_lines`)
    removed: list[str] = field(default_factory=list)
    map_written: bool = False  # Map.canvas was drawn again (it is not a note: no plan action)
    path: str = "full"  # the way the build went: "snapshot", "quick" or "full"
    declined: list[Declined] = field(default_factory=list)  # the shortcuts not taken, in order
    _mark: float = field(default_factory=time.perf_counter, repr=False)

    def lap(self, stage: str) -> None:
        """Close the stage that just ended (shown by `kbgen build -v`)."""
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._mark
        self.peak_mb[stage] = _peak_mb()
        self._mark = now

    def timing_line(self) -> str:
        stages = " · ".join(
            f"{k} {v:.2f} s ({self.peak_mb.get(k, 0):.0f} MB)" for k, v in self.timings.items()
        )
        return f"kbgen: time (peak memory so far): {stages}"

    def path_line(self) -> str:
        """`kbgen: path: full (snapshot declined: …; quick declined: …)`."""
        why = "; ".join(f"{d.shortcut} declined: {d.reason}" for d in self.declined)
        return f"kbgen: path: {self.path}" + (f" ({why})" if why else "")

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        p = self.plan
        verb = "would write" if self.dry_run else "wrote"
        written = p.count(*WRITE_KINDS)
        parts = [
            f"{counted(self.sources, 'source')} read, {len(self.errors)} failed",
            f"{verb} {counted(written, 'note')} ({p.count('create')} new, "
            f"{p.count('update')} updated, {p.count('merge', 'conflict')} merged with your edits)",
            f"{p.count('unchanged', 'kept', 'adopted')} unchanged",
        ]
        if p.count("delete", "orphan"):
            parts.append(f"{p.count('delete')} deleted, {p.count('orphan')} orphaned (source gone)")
        if p.count("restore"):
            parts.append(f"{p.count('restore')} restored")
        if self.map_written:
            parts.append(f"{MAP} redrawn")
        line = "kbgen: " + " · ".join(parts) + f" · {self.seconds:.2f} s"
        conflicts = [a.path for a in p.of("conflict")]
        if conflicts:
            line += f"\nkbgen: {counted(len(conflicts), 'conflict')}: you and the source changed "
            line += "the same passage; both versions are in the note, flagged kbgen_conflict: true:"
            line += "".join(f"\n  {path}" for path in conflicts)
        if p.skipped:
            line += "\nkbgen: changed while this build ran, so left for the next build: "
            line += ", ".join(p.skipped)
        return line
