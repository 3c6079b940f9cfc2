"""The state database's own promises: texts stored as text, and no copy of them left behind."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from kbgen.model import Contribution
from kbgen.state import NoteRecord, State, Store


def test_storing_texts_leaves_no_second_copy_in_the_callers_strings(tmp_path: Path) -> None:
    """sqlite3 binds a str through its cached UTF-8 form, which then lives as long as the str:
    a cold build of 10,000 articles held 500 MB of such copies of its notes and lines."""
    base = "---\ntype: actor\n---\n“Quoted” — Lavrov’s words, Moscow " + "é" * 2000 + "\n"
    lines = "- “Said” — Путин ↗\n" * 100
    base_size, lines_size = sys.getsizeof(base), sys.getsizeof(lines)
    store = Store(tmp_path)
    store.journal([("actor:x", "Actors/X.md", "sha-x", "sha-x")], {"sha-x": base})
    after = State(notes={"actor:x": NoteRecord("Actors/X.md", "sha-x", "sha-x")})
    store.commit(
        after, contributions={"a.md": {"actor:x": Contribution("actor:x", 1, lines, b"{}")}}
    )
    store.close()

    assert (sys.getsizeof(base), sys.getsizeof(lines)) == (base_size, lines_size)
    db = sqlite3.connect(tmp_path / ".kbgen" / "state.sqlite")
    try:
        assert db.execute("SELECT typeof(text), text FROM texts").fetchall() == [("text", base)]
        assert db.execute("SELECT typeof(lines), lines FROM contrib").fetchall() == [
            ("text", lines)
        ]
    finally:
        db.close()
