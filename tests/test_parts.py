"""A build holds one part's renderings at a time, whatever the size of the vault (issue 5:
memory that does not grow with the vault beyond what each note needs)."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import pytest
from conftest import run_build, vault_tree
from corpus import write_corpus

import kbgen.update
from kbgen.model import Note


def test_the_notes_of_a_part_are_let_go_before_the_part_after_next_is_planned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two parts at most are held while a third is planned: the one being written in the
    background, and the one just rendered (`update.in_parts`)."""
    write_corpus(tmp_path / "sources", 60)
    alive: list[weakref.WeakSet[Note]] = []
    parts: list[int] = []
    plan_notes = kbgen.update.plan_notes  # type: ignore[attr-defined]

    def spy(notes: list[Note], *args: Any, **kwargs: Any) -> Any:
        held = sum(len(part) for part in alive[:-1])
        assert not held, f"{held} notes of a part before the last one still held"
        alive.append(weakref.WeakSet(notes))
        parts.append(len(notes))
        return plan_notes(notes, *args, **kwargs)

    monkeypatch.setattr(kbgen.update, "plan_notes", spy)
    assert run_build(tmp_path / "sources", tmp_path / "vault").ok
    assert len(parts) > 10 and max(parts) <= kbgen.update.PART

    monkeypatch.undo()  # the same vault, built in one part
    monkeypatch.setattr(kbgen.update, "PART", 100_000)
    monkeypatch.setattr(kbgen.update, "PART_CHARS", 10**12)
    assert run_build(tmp_path / "sources", tmp_path / "whole").ok
    assert vault_tree(tmp_path / "vault") == vault_tree(tmp_path / "whole")
