"""The state takes no more room than the notes it describes (issue 27: it took 2.6 times as
much, 692 MB for 270 MB of notes at 10,000 articles): merge bases are compressed, and each
source's contributions packed. bench/run.py measures it at full size; here, at a hundred."""

from __future__ import annotations

from pathlib import Path

from conftest import run_build
from corpus import write_corpus


def _sizes(vault: Path) -> tuple[int, int]:
    """Bytes of `.kbgen/`, and of the notes (every `*.md` and `Map.canvas` of the vault)."""
    kept = sum(p.stat().st_size for p in (vault / ".kbgen").rglob("*") if p.is_file())
    notes = sum(
        p.stat().st_size
        for p in vault.rglob("*")
        if p.is_file()
        and (p.suffix == ".md" or p.name == "Map.canvas")
        and not any(part.startswith(".") for part in p.relative_to(vault).parts)
    )
    return kept, notes


def test_the_state_takes_no_more_room_than_the_notes(tmp_path: Path) -> None:
    sources, vault = tmp_path / "sources", tmp_path / "vault"
    paths = write_corpus(sources, 120)
    assert run_build(sources, vault).ok
    kept, notes = _sizes(vault)
    assert kept <= notes, (kept, notes)
    for i, path in enumerate(paths[:3]):  # incremental builds keep it so
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(" the ", f" the edited{i} ", 1), encoding="utf-8")
        assert run_build(sources, vault).ok
    kept, notes = _sizes(vault)
    assert kept <= notes, (kept, notes)
