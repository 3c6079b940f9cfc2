"""A build holds one part's renderings at a time, whatever the size of the vault (issue 5:
memory that does not grow with the vault beyond what each note needs)."""

from __future__ import annotations

import types
import weakref
from pathlib import Path
from typing import Any

import pytest
from conftest import run_build, vault_tree
from corpus import write_corpus

import kbgen.build.finish
import kbgen.build.parts
import kbgen.build.reducer
from kbgen.core.model import Note


def test_the_notes_of_a_part_are_let_go_before_the_part_after_next_is_planned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two parts at most are held while a third is planned: the one being written in the
    background, and the one just rendered (`update.in_parts`)."""
    write_corpus(tmp_path / "sources", 60)
    alive: list[weakref.WeakSet[Note]] = []
    parts: list[int] = []
    plan_notes = kbgen.build.parts.plan_notes  # type: ignore[attr-defined]

    def spy(notes: list[Note], *args: Any, **kwargs: Any) -> Any:
        held = sum(len(part) for part in alive[:-1])
        assert not held, f"{held} notes of a part before the last one still held"
        alive.append(weakref.WeakSet(notes))
        parts.append(len(notes))
        return plan_notes(notes, *args, **kwargs)

    monkeypatch.setattr(kbgen.build.parts, "plan_notes", spy)
    assert run_build(tmp_path / "sources", tmp_path / "vault").ok
    assert len(parts) > 10 and max(parts) <= kbgen.build.parts.PART

    monkeypatch.undo()  # the same vault, built in one part
    monkeypatch.setattr(kbgen.build.parts, "PART", 100_000)
    monkeypatch.setattr(kbgen.build.parts, "PART_CHARS", 10**12)
    assert run_build(tmp_path / "sources", tmp_path / "whole").ok
    assert vault_tree(tmp_path / "vault") == vault_tree(tmp_path / "whole")


def test_reduced_notes_rendered_aside_make_the_vault_and_report_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build of many notes has a forked process render the reduced notes
    (`kbgen.build.reducer`), and takes them as they come between parts of sources: the vault, and
    the report's list of what was written, are those of a build that renders everything
    itself, whatever the timing."""
    write_corpus(tmp_path / "sources", 60)
    taken: list[int] = []

    class Counted(kbgen.build.reducer.Reducer):
        def _take(self) -> list[Note]:
            chunk = super()._take()
            taken.append(len(chunk))
            return chunk

    monkeypatch.setattr(kbgen.build.finish, "Reducer", Counted)
    monkeypatch.setattr(
        kbgen.build.reducer, "BUDGET", 40
    )  # many chunks, so some come between parts
    aside = run_build(tmp_path / "sources", tmp_path / "aside")
    assert aside.ok and len(taken) > 5
    assert sum(taken) == len([a for a in aside.plan.actions if "/Sources/" not in f"/{a.path}"])

    alone = run_build(tmp_path / "sources", tmp_path / "alone", parallel=False)
    assert alone.ok
    assert vault_tree(tmp_path / "aside") == vault_tree(tmp_path / "alone")
    assert [a.line() for a in aside.plan.actions] == [a.line() for a in alone.plan.actions]


def test_reduced_notes_are_rendered_aside_only_in_a_build_of_every_source() -> None:
    """Any other build reads the state to render them, through the build's own SQLite
    connection, which must not cross a fork: such a Reduction is refused outright."""
    partial = types.SimpleNamespace(all_new=False)
    with pytest.raises(ValueError, match="every source"):
        kbgen.build.reducer.Reducer(partial, ["actor:x"])  # type: ignore[arg-type]
