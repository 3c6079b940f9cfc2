"""How every build that writes ends, full or quick: one function, `finish`.

By the time a build writes it has decided everything: which notes to render, under which
names, from which sources. Both paths put that in a `Finish` and hand it here, so the quick
path runs the full path's own rendering, planning, writing and commit by construction
(`tests/test_quick.py` compares the two paths' vaults, states and reports).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kbgen.build import parts
from kbgen.build.reading import Reading
from kbgen.build.reduce import Reduction
from kbgen.build.reducer import Reducer
from kbgen.build.report import Report, progress_bar
from kbgen.core import forked
from kbgen.core.keys import Totals
from kbgen.core.model import Contribution, Entity
from kbgen.render.source import Targets
from kbgen.state.store import SourceRecord, State, Store
from kbgen.vault.actions import Action, Plan
from kbgen.vault.execute import execute
from kbgen.vault.locate import OnDisk
from kbgen.vault.map import draw_map
from kbgen.vault.plan import plan_rest


@dataclass
class Commit:
    """What the state is told besides the notes' records (`Store.commit`)."""

    contributions: Mapping[str, Mapping[str, Contribution] | None]  # per source, replaced
    meta: dict[str, str]  # the catalog's fingerprint and entries, the promotions
    words: Iterable[tuple[str, str]] = ()
    totals: Totals | None = None  # None: the same as before
    replace_all: bool = False  # every source's contributions are in `contributions`


@dataclass
class Finish:
    """What a build has decided when it comes to write."""

    vault: Path
    store: Store
    report: Report
    state: State  # the records the build started from (all of them, or those it needs)
    after: State  # what the state will be: each write recorded as it is done
    located: dict[str, OnDisk]  # where each note is, and whether the user changed it
    plan: Plan
    reading: Reading  # the sources read and linked: their prepared notes
    ids: Mapping[str, str]  # source path → its note's kbgen_id
    render: set[str]  # the notes to render
    stems: Mapping[str, str]  # kbgen_id → note name
    targets: Targets  # where the source notes' links go
    reduction: Reduction  # renders the notes made of many sources
    folders: Mapping[str, str]  # the notes the user moved: they stay in that folder
    kept: set[str]  # the notes that stay as they are unless rendered
    wanted: int  # how many notes the vault holds after the build
    entities: list[Entity]  # the entities with a note: Map.canvas shows them
    totals: Totals
    redraw: bool  # whether what Map.canvas shows may have changed
    records: dict[str, SourceRecord]  # every source's record, as the state will keep it
    commit: Commit
    progress: bool = False  # a progress bar on stderr
    parallel: bool = False  # forked processes may write, and render the reduced notes
    all_new: bool = False  # every source was read anew: a cold build
    leaving: Sequence[Action] = field(default_factory=list)  # stale notes, already carried out
    leftovers: Sequence[Action] = field(default_factory=list)  # a killed build's files


def finish(job: Finish) -> bool:
    """Render, plan and write the chosen notes a part at a time; plan the rest as unchanged;
    then, unless a dry run, carry the rest out, redraw Map.canvas and commit. Returns whether
    it committed."""
    rendered = _rendered(job)
    rest, _ = plan_rest(rendered, job.state, job.located, job.kept)
    plan, report = job.plan, job.report
    plan.unlisted_unchanged = job.wanted - len(rendered) - len(rest)
    report.rendered = len(rendered)
    report.plan = plan
    others = [*rest, *job.leaving, *job.leftovers]
    if report.dry_run:
        plan.actions += others
        return False
    execute([*rest, *job.leftovers], plan, job.state, job.after, job.store, job.vault, job.located)
    plan.actions += [a.spent() for a in others]
    base = job.store.meta("map")
    report.map_written, drawn = draw_map(
        job.vault, job.entities, job.totals, job.after, job.redraw, plan, base
    )
    report.lap("write")
    job.after.sources = job.records
    _commit(job.store, job.after, job.commit, drawn)
    report.lap("state")
    return True


def _rendered(job: Finish) -> set[str]:
    """The notes rendered, planned and written part by part (`parts.in_parts`): with many
    notes, each part written by forked processes while the next renders, and in a cold build
    the reduced notes rendered by another (`Reducer`)."""
    report, plan = job.report, job.plan
    background = job.parallel and len(job.render) > parts.PART and forked.can_fork()
    sources, reduced = parts.render_order(job.reading, job.ids, job.render)
    aside = Reducer(job.reduction, reduced) if background and job.all_new else None
    with aside or contextlib.nullcontext():
        notes = parts.render_each(
            job.reading, job.ids, job.stems, job.targets, job.render, reduced, job.reduction,
            job.folders, aside,
        )  # fmt: skip
        doing = "planning" if report.dry_run else "writing"
        bar = progress_bar(len(job.render), doing, "note") if job.progress else None
        rendered = parts.in_parts(
            notes, plan, job.state, job.after, job.located, job.store, job.vault, report, bar,
            background,
        )  # fmt: skip
    if aside:  # listed in the order they are when rendered in this process
        rank = {kbgen_id: n for n, kbgen_id in enumerate([*sources, *reduced])}
        plan.actions.sort(key=lambda a: rank.get(a.kbgen_id, len(rank)))
    return rendered


def _commit(store: Store, after: State, commit: Commit, drawn: str | None) -> None:
    store.commit(
        after,
        replace_all=commit.replace_all,
        contributions=commit.contributions,
        words=commit.words,
        meta={**commit.meta, **({"map": drawn} if drawn is not None else {})},
        totals=commit.totals,
    )
