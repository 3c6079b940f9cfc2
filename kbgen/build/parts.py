"""The chosen notes rendered, planned and written a part at a time, while the next part renders."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kbgen.build.reading import Reading
from kbgen.build.reduce import Reduction
from kbgen.build.reducer import Reducer
from kbgen.build.report import Report
from kbgen.core.keys import (
    CANDIDATES,
    HOME,
)
from kbgen.core.model import Note
from kbgen.render import promotion
from kbgen.render.source import Targets, render_source
from kbgen.state.store import (
    State,
    Store,
)
from kbgen.vault import files as vault_mod
from kbgen.vault.actions import Action, Plan
from kbgen.vault.execute import Execution
from kbgen.vault.locate import OnDisk, read_unread
from kbgen.vault.plan import plan_notes, renamed_by_user

PART = 500  # notes rendered, planned and written together, at most,
PART_CHARS = 4_000_000  # and at most this much of their text, give or take a note (month
# pages grow with the vault): a part holds its renderings and, while it is written, their bytes


def in_parts(
    notes: Iterator[Note],
    plan: Plan,
    state: State,
    after: State,
    located: dict[str, OnDisk],
    store: Store,
    vault: Path,
    report: Report,
    bar: Any = None,
    background: bool = False,
) -> set[str]:
    """Each part of `notes` planned, then (unless a dry run) journaled and written, its actions
    added to `plan` and recorded in `after`; the ids of the notes rendered. `bar`, a progress
    bar counting them, is closed at the end.

    `background`: a part is written by a helper process while the next ones are rendered
    (`execute.Execution`); two parts at most are in its hands when a third is planned. A
    part's writes never touch the files another part plans from: each goes where its note
    already is, or where nothing is (a path still taken is tried again at the end).
    """
    rendered: set[str] = set()
    with vault_mod.Writer(background and not report.dry_run) as writer:
        run = Execution(plan, state, after, store, vault, writer)
        writing: list[tuple[list[Note], list[Action]]] = []  # parts started, not finished
        consumed = {CANDIDATES: promotion.consume_ticks}
        renames = renamed_by_user(state, located)  # what moves in `located` is the user's doing
        try:
            for part in _parts(notes):  # rendered while the last parts are written
                report.lap("render")
                if len(writing) > 1:  # two parts in the writer's hands: the first must be done
                    _written(run, *writing.pop(0), plan, located, report, bar, leaving=1)
                rendered |= {n.kbgen_id for n in part}
                read_unread(located, [n.kbgen_id for n in part], state, vault, store)
                actions = plan_notes(part, state, located, store, consumed, renames)
                report.lap("plan")
                if not report.dry_run:
                    run.start(actions, located)
                writing.append((part, actions))
                del part  # let go with its entry in `writing`
            while writing:
                _written(run, *writing.pop(0), plan, located, report, bar)
            run.retry()
            if bar is not None:
                bar.total = bar.n  # a note to render may turn out to have none: the bar ends full
        finally:
            if bar is not None:
                bar.close()
    return rendered


def _written(
    run: Execution,
    part: list[Note],
    actions: list[Action],
    plan: Plan,
    located: dict[str, OnDisk],
    report: Report,
    bar: Any,
    leaving: int = 0,
) -> None:
    """A part once its writes are done (but for the last `leaving` parts started): its
    actions in the plan, its notes' bytes let go."""
    run.finish(leaving)
    report.lap("write")
    plan.actions += [a.spent() for a in actions]
    _let_go(located, part)
    if bar is not None:
        bar.update(len(part))


def _parts(notes: Iterator[Note]) -> Iterator[list[Note]]:
    part: list[Note] = []
    size = 0
    for note in notes:
        part.append(note)
        size += len(note.text)
        if len(part) >= PART or size >= PART_CHARS:
            yield part
            part, size = [], 0
    if part:
        yield part


def render_order(
    reading: Reading, ids: Mapping[str, str], render: set[str]
) -> tuple[list[str], list[str]]:
    """The notes `render_each` renders, in the order it renders them in this process: the
    sources', then the reduced notes, Home and Candidates last (they show the others)."""
    sources = [ids[path] for path in sorted(reading.parsed) if ids[path] in render]
    last = [i for i in (HOME, CANDIDATES) if i in render]
    rest = render - set(sources) - {HOME, CANDIDATES}
    return sources, [*sorted(rest), *last]


def render_each(
    reading: Reading,
    ids: Mapping[str, str],
    stems: Mapping[str, str],
    targets: Targets,
    render: set[str],
    reduced: list[str],
    reduction: Reduction,
    folders: Mapping[str, str],
    aside: Reducer | None = None,
) -> Iterator[Note]:
    """The notes to render, rendered one by one in `render_order` (`reduced` is its second
    list). A source's prepared note is let go once rendered.

    `aside`: the reduced notes are rendered by that forked process, and taken as they come
    between parts of sources: the parts' notes and order then depend on timing, the notes'
    bytes do not."""

    def rendered_sources() -> Iterator[Note]:
        for path in sorted(reading.parsed):
            prepared = reading.parsed.pop(path)
            if (kbgen_id := ids[path]) in render:
                # held by no local while this waits (between parts, when reduced notes are
                # taken aside): the caller lets go of each part
                yield _placed(
                    render_source(
                        prepared, kbgen_id=kbgen_id, stem=stems[kbgen_id], targets=targets
                    ),
                    folders,
                )

    sources = rendered_sources()
    if aside is None:
        yield from sources
        for kbgen_id in reduced:
            if (note := reduction.render(kbgen_id)) is not None:
                yield _placed(note, folders)
                del note
        return
    more = True
    while more:
        more = False
        for note in itertools.islice(sources, PART):
            more = True
            yield note
            del note  # held by no local once taken: `in_parts` lets go of each part
        for chunk in aside.done():  # those rendered meanwhile: the process works on
            yield from _each(chunk, folders)
    for chunk in aside.rest():
        yield from _each(chunk, folders)


def _each(notes: list[Note], folders: Mapping[str, str]) -> Iterator[Note]:
    """The notes of a list, emptying it as they go: a list held whole would keep the notes
    of the parts already written (`in_parts` lets go of each)."""
    notes.reverse()
    while notes:
        yield _placed(notes.pop(), folders)


def _let_go(located: dict[str, OnDisk], part: list[Note]) -> None:
    """The bytes read of a part's notes, once it is planned and written: a rebuild of every
    note (a catalog change) would otherwise end up holding the whole vault."""
    for note in part:
        disk = located.get(note.kbgen_id)
        if disk is not None and disk.data is not None:
            located[note.kbgen_id] = disk._replace(data=None)


def _placed(note: Note, folders: Mapping[str, str]) -> Note:
    """In the folder the user moved it to, if they did: it stays there."""
    folder = folders.get(note.kbgen_id)
    return note if folder is None else dataclasses.replace(note, folder=folder)
