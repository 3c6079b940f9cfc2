"""`kbgen watch`: the vault kept in sync while the user works — a thin loop around `build`.

The loop copies MkDocs': the observer thread only queues hints
(`hints.classify`); this thread waits for a quiet period (`hints.Debouncer`),
then runs the one and only `pipeline.build`, logs what it did, and goes on
whatever happened. Events are hints, never facts: the build re-reads what
changed by its own stat and hash checks, a periodic rescan catches what the
OS did not report, and a start-up build catches what happened while no
watcher ran.

What in the vault is worth a build: a note moved, created or deleted, or a
note whose catalog properties (`type`, `kind`, `description`, `aliases`)
changed. kbgen's own writes are recognised by the stat they left and never
trigger a build; a user typing in a note changes none of those properties,
so their note is never rewritten under the cursor unless a source changed.
"""

from __future__ import annotations

import gc
import os
import queue
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kbgen.build.listings import Area, Kept
from kbgen.build.pipeline import build
from kbgen.build.reading import warm_up
from kbgen.build.report import Report
from kbgen.core.config import Config
from kbgen.core.errors import KbgenError, SourceError
from kbgen.core.filestat import ByStat, StatKey, key_of, stat_key
from kbgen.core.plural import counted
from kbgen.state.store import Store
from kbgen.vault.actions import WRITE_KINDS
from kbgen.vault.scan import Signature, catalog_signature
from kbgen.watch.hints import Debouncer, Hint, classify
from kbgen.watch.observe import Observing, start_observer

Log = Callable[[str], None]
_ABSENT: StatKey = (-1, -1, -1, -1)  # the "stat" of a file kbgen deleted


@dataclass(frozen=True)
class WatchOptions:
    quiet: float = 0.1  # seconds without events before a sync
    max_wait: float = 2.0  # a sync at most this long after the first event, however busy
    rescan: float = 60.0  # seconds between full rescans, which catch events the OS dropped
    polling: bool = False  # poll instead of native events (forced where those are unavailable)
    poll_interval: float = 1.0
    verbose: bool = False
    quiet_log: bool = False  # errors only


@dataclass(frozen=True)
class Sync:
    """One build the watcher ran: why, what it did (or the error that stopped it), how long.

    Only kinds and paths are kept of the plan: a report holds whole renderings,
    and a watcher that kept them would grow for as long as it runs.
    """

    number: int  # 1 for the start-up build
    hints: tuple[Hint, ...]
    actions: tuple[tuple[str, str], ...]  # (kind, vault path) of every write and deletion
    error: str | None
    seconds: float


@dataclass
class Watcher:
    config: Config
    options: WatchOptions = field(default_factory=WatchOptions)
    log: Log = print
    log_error: Log = print
    synced: int = 0  # builds run so far
    recent: deque[Sync] = field(default_factory=lambda: deque(maxlen=100))  # the last ones
    _events: queue.Queue[tuple[Hint, float] | None] = field(default_factory=queue.Queue)
    _stop: threading.Event = field(default_factory=threading.Event)
    _observing: Observing | None = None
    _own: dict[str, StatKey] = field(default_factory=dict)  # what kbgen's writes left
    _signatures: dict[str, Signature] = field(default_factory=dict)  # catalog properties seen
    _read: ByStat[Signature] = field(default_factory=ByStat)  # catalog properties, by stat
    _errors: dict[tuple[str, str], StatKey] = field(default_factory=dict)  # failing sources
    _fatal: str | None = None
    building: bool = False  # a build is running (tests wait for it to end)
    _watched: dict[Area, str] = field(default_factory=dict)  # the roots the observer watches
    _store: Store | None = None  # the vault's state, kept open (and in memory) between builds
    _kept: Kept = field(default_factory=Kept)  # the listings, followed path by path

    def stop(self) -> None:
        """Ask the loop to finish: the current build completes, then `run` returns."""
        self._stop.set()
        self._events.put(None)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def observing(self) -> Observing | None:
        return self._observing

    def run(self) -> None:
        """Sync at start (changes made while no watcher ran), then follow events until stopped."""
        thresholds = gc.get_threshold()
        gc.set_threshold(GC_YOUNG, *thresholds[1:])
        try:
            self._follow()
        finally:
            if self._store is not None:
                self._store.close()
            gc.set_threshold(*thresholds)
            gc.unfreeze()

    def _follow(self) -> None:
        self._sync((), parallel=True)  # no thread yet: a big first build may use every core
        self._observing = self._observe()
        self._sync(())  # what changed while the first build ran
        warm_up(self._kept.suffixes())  # while the user is not waiting
        debouncer = Debouncer(
            self.options.quiet, self.options.max_wait, self._observing.tracks_close
        )
        next_rescan = time.monotonic() + self.options.rescan
        while not self._stop.is_set():
            now = time.monotonic()
            wait = debouncer.wait(now)
            timeout = min(1.0, next_rescan - now, wait if wait is not None else 1.0)
            self._collect(debouncer, max(0.0, timeout))
            now = time.monotonic()
            if self._stop.is_set():
                break
            if self._observer_needs_restart():
                next_rescan = now  # events may have been lost while it was down
            if debouncer.wait(now) == 0.0:
                hints = debouncer.take()
                self._look_again(hints)  # whether they are worth a build or not
                if self._worth_a_build(hints):
                    self._sync(tuple(hints))
                    next_rescan = time.monotonic() + self.options.rescan
            elif now >= next_rescan:
                self._sync(())
                next_rescan = time.monotonic() + self.options.rescan
        self._observing.stop()

    def _collect(self, debouncer: Debouncer, timeout: float) -> None:
        """Wait up to `timeout` for events, then take every one already queued."""
        try:
            item = self._events.get(timeout=timeout)
        except queue.Empty:
            return
        while item is not None:
            debouncer.add(*item)
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                return

    def _observe(self) -> Observing:
        self._watched = self._roots()  # made once, not on every event
        observing = start_observer(
            self._watched.values(), self._on_event, self.options.polling, self.options.poll_interval
        )
        if not self.options.quiet_log:
            self.log(
                f"kbgen: watching {self.config.sources} → {self.config.vault} "
                f"({observing.description}); Ctrl-C to stop"
            )
        return observing

    def _roots(self) -> dict[Area, str]:
        roots: dict[Area, str] = {
            "sources": os.path.abspath(self.config.sources),
            "vault": os.path.abspath(self.config.vault),
        }
        # the more specific root first: sources kept inside the vault are sources
        return dict(sorted(roots.items(), key=lambda kv: -len(kv[1])))

    def _on_event(self, kind: str, src: str, dest: str, is_dir: bool) -> None:
        """Runs in the observer's thread: queue the hints, nothing else."""
        now = time.monotonic()
        for hint in classify(kind, src, dest, is_dir, self._watched):
            self._events.put((hint, now))

    def _observer_needs_restart(self) -> bool:
        """A dead observer thread, or a watched folder replaced under it, is started anew."""
        assert self._observing is not None
        problem = self._observing.problem()
        if problem is None:
            return False
        self.log_error(f"kbgen: {problem}; watching again")
        self._observing.stop()
        self._observing = self._observe()
        return True

    def _look_again(self, hints: Iterable[Hint]) -> None:
        """The paths the next build must stat again; a folder's change needs a full listing."""
        for hint in hints:
            if hint.is_dir:
                self._kept.forget()
                return
            self._kept.look_again(hint.area, hint.rel)

    def _worth_a_build(self, hints: Iterable[Hint]) -> bool:
        """Any source hint; in the vault, only what could change what a build makes."""
        for hint in hints:
            if hint.area == "sources":
                return True
            if hint.is_dir:  # a folder moved in or out may hold notes; a new one holds none yet
                if hint.kind != "created":
                    return True
                continue
            if self._own.get(hint.rel) == _stat(self.config.vault / hint.rel):
                continue  # kbgen's own write (or delete), seen coming back
            if hint.kind in ("moved_from", "moved_to", "deleted"):
                return True
            seen = catalog_signature(self.config.vault / hint.rel)
            if seen != "invalid" and seen != self._signatures.get(hint.rel):
                return True  # a catalog entry added, changed or dropped
        return False

    def _signature(self, rel: str) -> Signature:
        """A note's catalog properties, read again only when its stat changed: the hundreds of
        actor and issue notes are looked at around every build."""
        path = self.config.vault / rel
        try:
            key = stat_key(os.stat(path), time.time_ns())  # None when too recent to trust
        except OSError:
            key = None
        return self._read.get(rel, key, lambda: catalog_signature(path))

    def _sync(self, hints: tuple[Hint, ...], *, parallel: bool = False) -> None:
        self.building = True
        try:
            seen = {p: self._signature(p) for p in self._signatures}
            seen.update({h.rel: self._signature(h.rel) for h in hints if h.area == "vault"})
            if not hints:  # the start-up build, or a rescan: everything is listed again
                self._kept.forget()
            started = time.perf_counter()
            report, error = self._build(parallel)
            seconds = time.perf_counter() - started
            self.synced += 1
            done = report.plan.actions if report is not None else []
            self.recent.append(
                Sync(
                    self.synced,
                    hints,
                    tuple((a.kind, a.path) for a in done if a.kind in (*WRITE_KINDS, "delete")),
                    error,
                    seconds,
                )
            )
            if report is not None:
                self._remember(report, seen)
            self._tell(hints, report, error, seconds)
        finally:
            self.building = False
        collect_between_syncs()

    def _build(self, parallel: bool) -> tuple[Report | None, str | None]:
        """The build, or why it failed: no error ends the watch (it is retried on the next change)."""
        if self._store is None:
            self._store = Store(self.config.vault)
        try:
            return build(self.config, parallel=parallel, store=self._store, kept=self._kept), None
        except KbgenError as exc:
            return None, str(exc)
        except Exception as exc:
            error = f"kbgen bug during the build ({type(exc).__name__}: {exc}); please report it"
            if self.options.verbose:
                error += "\n" + traceback.format_exc()
            return None, error

    def _remember(self, report: Report, seen: dict[str, Signature]) -> None:
        """What kbgen just wrote (never a reason to build) and the catalog it built with."""
        vault = self.config.vault
        for action in report.plan.actions:
            if action.kind in (*WRITE_KINDS, "delete"):
                self._own[action.path] = _stat(vault / action.path)
            if action.old_path:
                self._own[action.old_path] = _stat(vault / action.old_path)
        self._signatures = {
            p: seen[p] if p in seen else self._signature(p) for p in report.catalog_notes
        }
        self._read.keep_only(self._signatures)
        if report.plan.skipped:  # a note changed while the build ran: look again soon
            self._events.put((Hint("vault", report.plan.skipped[0], "moved_to"), time.monotonic()))

    def _tell(
        self, hints: tuple[Hint, ...], report: Report | None, error: str | None, seconds: float
    ) -> None:
        if error is not None:
            if error != self._fatal:
                self.log_error(f"kbgen: error: {error}")
            self._fatal = error
            return
        if self._fatal is not None:
            self.log(f"kbgen: {_clock()} the build works again")
            self._fatal = None
        assert report is not None
        self._tell_errors(report.errors)
        if self.options.quiet_log:
            return
        if self.options.verbose:
            for line in report.plan.lines(routine=True):
                self.log(f"  {line}")
        said = sync_line(report, hints, seconds)
        if said is not None or self.options.verbose:
            self.log(said or f"kbgen: {_clock()} checked, nothing to change ({seconds:.2f} s)")
        for action in report.plan.of("conflict"):
            self.log(f"kbgen: CONFLICT {action.path}: both versions are in the note (see the box)")

    def _tell_errors(self, errors: list[SourceError]) -> None:
        """Each failing source once, and again only when it changes and still fails."""
        now: dict[tuple[str, str], StatKey] = {}
        for error in errors:
            key = (error.path, error.reason)
            now[key] = _stat(self.config.sources / error.path)
            if self._errors.get(key) != now[key]:
                self.log_error(f"kbgen: error: {error.path}: {error.reason}")
        fixed = {p for p, _ in self._errors} - {p for p, _ in now}
        for path in sorted(fixed):
            if not self.options.quiet_log:
                self.log(f"kbgen: {_clock()} {path} no longer fails")
        self._errors = now


# Python's collector and a watcher. The state a watcher keeps between builds (a record per
# note and per source, the totals, the listings: 60,000 containers holding every note's and
# every source's details at 5,000 articles) is long-lived, and every full collection walked
# all of it: 25-35 ms, in six syncs of thirteen (measured in-process). Between syncs, while
# the user is not waiting, the watcher collects in full and freezes what survives
# (`gc.freeze`), so a collection during a sync walks only what that sync made; and it lets
# more objects be made before a young collection (each walks every young object: fewer, not
# slower).
GC_YOUNG = 10_000  # Python's default is 700


def collect_between_syncs() -> None:
    """A full collection, of what earlier syncs left too, then freeze what is left."""
    gc.unfreeze()  # frozen objects are never collected: garbage they became since is found here
    gc.collect()
    gc.freeze()


def sync_line(report: Report, hints: Iterable[Hint], seconds: float) -> str | None:
    """One line per sync that changed something: what, why, and how long it took."""
    plan = report.plan
    counts = [
        (plan.count("create"), "created"),
        (plan.count("update"), "updated"),
        (plan.count("merge"), "merged with your edits"),
        (plan.count("conflict"), "in conflict"),
        (plan.count("restore"), "restored"),
        (plan.count("delete"), "deleted"),
        (plan.count("orphan"), "orphaned"),
    ]
    done = [f"{n} {what}" for n, what in counts if n]
    if not done and not report.errors:
        return None
    changed = sorted({h.rel for h in hints if h.area == "sources" and h.kind != "closed"})
    why = ""
    if changed:
        shown = ", ".join(changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        why = f" after {shown}"
    failed = f", {counted(len(report.errors), 'source')} failing" if report.errors else ""
    notes = ", ".join(done) or "no note changed"
    return f"kbgen: {_clock()} synced{why}: {notes}{failed} ({seconds:.2f} s)"


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def _stat(path: Path) -> StatKey:
    try:
        return key_of(os.stat(path))
    except OSError:
        return _ABSENT
