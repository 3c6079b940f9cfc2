"""One build: list the sources and the vault, then bring the vault up to date under its lock.

The listings come first because they are all a no-op build needs: when
they match the snapshot of the last build that wrote nothing, that build's
report is the answer (`build/snapshot.py`). Otherwise a build of a few edited
sources takes the quick path where it applies (`build/quick.py`,
`build/quickbuild.py`), and any other build the full one (`build/full.py`);
both end in `build/finish.py`, and a note whose bytes are unchanged is never
written. Each shortcut not taken says why (`Report.declined`, `-v`).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from kbgen.build import quick, snapshot
from kbgen.build.listings import Kept, Listing, list_all
from kbgen.build.report import Declined, Report
from kbgen.core.config import Config
from kbgen.core.errors import KbgenError
from kbgen.state.store import Store
from kbgen.vault import files as vault_mod
from kbgen.vault.actions import Action, Plan
from kbgen.vault.files import MAP
from kbgen.vault.lock import lock


def build(
    config: Config,
    *,
    dry_run: bool = False,
    progress: bool = False,
    parallel: bool = True,
    store: Store | None = None,
    kept: Kept | None = None,
) -> Report:
    """Bring the vault up to date with the sources.

    `parallel=False` parses in this process only: `kbgen watch` has threads,
    and forking a process that has threads can deadlock the child. `store`
    is the vault's state kept open between builds by `kbgen watch`, and
    `kept` the listings it keeps up to date from the events it sees; a build
    that fails closes the one and forgets the other, so the next one starts
    afresh.
    """
    started = time.perf_counter()
    report = Report(dry_run=dry_run)
    vault = config.vault
    _check_folders(config)
    if not dry_run:
        report.vault_created = vault_mod.init(vault)
        vault_mod.check_writable(vault)
    with lock(vault, readonly=dry_run):
        start = _Start(config, kept)
        replay = _replay(start)
        if isinstance(replay, snapshot.Replay):
            _replayed(report, replay)
        else:
            report.declined.append(replay)
            _build(start, report, store, kept, progress, parallel)
    report.seconds = time.perf_counter() - started
    return report


class _Start:
    """What a build starts from: the digest of its inputs, the two folders listed."""

    def __init__(self, config: Config, kept: Kept | None) -> None:
        self.config = config
        self.inputs = snapshot.inputs(config, [config.vault / MAP])
        self.listed_at = time.time_ns()
        self.listing = (
            kept.listing(config, self.listed_at) if kept is not None else list_all(config)
        )
        self._key: str | None = None

    def key(self) -> str | None:
        """The listings' digest (None while a stat is racy), taken once, when it is needed."""
        if self._key is None:
            listing = self.listing
            found = (listing.sources, listing.errors)
            self._key = snapshot.key(self.inputs, *found, listing.notes, self.listed_at)
        return self._key


def _replay(start: _Start) -> snapshot.Replay | Declined:
    """The last quiet build's report, if this build's inputs are exactly that build's."""
    if start.listing.temps:
        return Declined("snapshot", _TEMPS)
    replay = snapshot.load(start.config.vault)
    if isinstance(replay, snapshot.Replay) and replay.key != start.key():
        return Declined("snapshot", "the sources, the notes or the options changed")
    return replay


def _build(
    start: _Start,
    report: Report,
    store: Store | None,
    kept: Kept | None,
    progress: bool,
    parallel: bool,
) -> None:
    """The quick path where it applies, else the full one; then what the next build may take
    as given: the quick path's record, the snapshot."""
    config, listing, dry_run = start.config, start.listing, report.dry_run
    vault, temps = config.vault, listing.temps
    # the change-driven path: `kbgen build` only, where the last build left its record
    quickly = not dry_run and store is None and kept is None and not temps
    record = _record(dry_run, quickly, temps, vault)
    if not dry_run:
        snapshot.forget(vault)
        quick.forget(vault)
        for temp in temps:
            temp.unlink(missing_ok=True)
    usable = store is not None and store.vault == vault and not dry_run
    state = store if store is not None and usable else Store(vault, readonly=dry_run)
    done = False
    try:
        ending = None
        if isinstance(record, quick.Record):
            ending = _quickly(config, state, report, listing, record, start.inputs.hexdigest())
        else:
            report.declined.append(record)
        if ending is None:
            from kbgen.build.full import update  # not needed by a build the snapshot answers

            found = (listing.sources, listing.errors)
            ending = update(config, state, report, listing.notes, found, progress, parallel)
        done = True
    except sqlite3.Error as exc:  # a full disk or an I/O error under the state database
        raise KbgenError(
            f"{state.path}: cannot update kbgen's state ({exc}). Every note is as it was or "
            "as this build made it; the next build finishes the job."
        ) from exc
    finally:
        if not (done and state is store):
            state.close()
        if kept is not None and done:
            _look_again(kept, report)
        elif kept is not None:
            kept.forget()
    _remember(start, report, ending if quickly else None)


def _remember(start: _Start, report: Report, ending: quick.Ending | None) -> None:
    """The quick path's record of a `kbgen build` that ended cleanly; the snapshot of one
    after which the vault is as it was listed."""
    vault, listing = start.config.vault, start.listing
    if ending is not None:
        after = snapshot.inputs(start.config, [vault / MAP]).hexdigest()
        record = quick.record_of(ending, report, listing.notes, start.listed_at, after, vault)
        if record is not None:
            quick.save(vault, record)
    if not report.dry_run and not listing.temps and _wrote_nothing(report):
        digest = start.key()
        if digest is not None:
            snapshot.save(vault, _replay_of(report, digest))


_TEMPS = "kbgen's temp files are in the vault (a build was stopped)"


def _record(
    dry_run: bool, quickly: bool, temps: list[Path], vault: Path
) -> quick.Record | Declined:
    """The last build's record, which the quick path starts from, or why there is none."""
    if dry_run:
        return Declined("quick", "a dry run")
    if temps:
        return Declined("quick", _TEMPS)
    if not quickly:
        return Declined("quick", "`kbgen watch` builds the full way")
    record = quick.load(vault)
    if record is None:
        return Declined("quick", "no record: the last build was not a clean `kbgen build`")
    return record


def _quickly(
    config: Config,
    state: Store,
    report: Report,
    listing: Listing,
    record: quick.Record,
    inputs: str,
) -> quick.Ending | None:
    """The quick path's build, or None (nothing written, the reason reported)."""
    found = quick.changed_sources(config.vault, listing, record, inputs)
    if isinstance(found, Declined):
        report.declined.append(found)
        return None
    from kbgen.build.quickbuild import build_changed  # the rendering stack, once needed

    ending = build_changed(config, state, report, listing, record, *found)
    if isinstance(ending, Declined):
        report.declined.append(ending)
        return None
    report.path = "quick"
    return ending


_LOOK_AGAIN_AT_MOST = 1000  # notes written by one build, beyond which a full listing is cheaper


def _look_again(kept: Kept, report: Report) -> None:
    """After a build: the notes it wrote or deleted (or one changed under it: all of them)."""
    touched = [a for a in report.plan.actions if a.kind != "unchanged"]
    if len(touched) > _LOOK_AGAIN_AT_MOST or report.plan.skipped:
        kept.forget()
        return
    for action in touched:
        kept.look_again("vault", action.path)
        if action.old_path:
            kept.look_again("vault", action.old_path)


def _wrote_nothing(report: Report) -> bool:
    """A build after which the vault is as its listing found it (the snapshot's condition)."""
    plan = report.plan
    return (
        not report.map_written
        and not report.vault_created
        and not plan.skipped
        and all(a.kind in snapshot.QUIET_KINDS for a in plan.actions)
    )


def _replay_of(report: Report, digest: str) -> snapshot.Replay:
    return snapshot.Replay(
        key=digest,
        sources=report.sources,
        errors=list(report.errors),
        actions=[
            (a.kind, a.kbgen_id, a.path, a.detail)
            for a in report.plan.actions
            if a.kind != "unchanged"
        ],
        unchanged=report.plan.count("unchanged"),
        notices=list(report.plan.notices),
        catalog_notes=list(report.catalog_notes),
    )


def _replayed(report: Report, replay: snapshot.Replay) -> None:
    """A build whose inputs are exactly the last quiet build's reports what that build did."""
    report.sources = replay.sources
    report.errors = list(replay.errors)
    report.plan = Plan(
        actions=[Action(k, i, p, detail=d) for k, i, p, d in replay.actions],
        notices=list(replay.notices),
        unlisted_unchanged=replay.unchanged,
    )
    report.catalog_notes = list(replay.catalog_notes)
    report.path = "snapshot"
    report.lap("snapshot")


def _check_folders(config: Config) -> None:
    """A vault inside the sources folder would be read back as articles, chased by `watch`."""
    sources, vault = config.sources.resolve(), config.vault.resolve()
    if vault.is_relative_to(sources):
        raise KbgenError(
            f"{config.vault}: the vault is inside the sources folder {config.sources}; kbgen "
            "would read its own notes as articles. Put the vault beside the sources folder."
        )
