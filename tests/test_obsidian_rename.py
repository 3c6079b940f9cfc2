"""Renaming a note in Obsidian, with "Automatically update internal links" on, as Obsidian does
it: the file is renamed, then every link to it in every note (body and properties) is
rewritten. `[[Old]]` becomes `[[New]]`, `[[Old|text]]` becomes `[[New|text]]`, `[[Old#^id|↗]]`
becomes `[[New#^id|↗]]`, and a link whose text is the old name, `[[Old|Old]]`, becomes
`[[New|New]]` (Obsidian 1.2.1 and later). Renaming is among the most common things Obsidian
users do: it must cost no conflict and lose nothing, then or at the next source change.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import paths, run_build

from kbgen.build.report import Report

WIKILINK = re.compile(r"\[\[([^\]|#]+)(#[^\]|]*)?(?:\|([^\]]*))?\]\]")


def obsidian_rename(vault: Path, old: str, new: str) -> int:
    """Rename `old` (a path in the vault) to `new` and rewrite the links as Obsidian does;
    the number of notes whose links were rewritten."""
    (vault / old).rename(vault / new)
    old_name, new_name = Path(old).stem, Path(new).stem

    def rewritten(m: re.Match[str]) -> str:
        target, sub, shown = m.group(1), m.group(2) or "", m.group(3)
        if target.casefold() != old_name.casefold():
            return m.group(0)
        if shown is None:
            return f"[[{new_name}{sub}]]"
        if shown == target:
            shown = new_name
        return f"[[{new_name}{sub}|{shown}]]"

    count = 0
    for note in sorted(vault.rglob("*.md")):
        if any(part.startswith(".") for part in note.relative_to(vault).parts):
            continue
        text = note.read_text(encoding="utf-8")
        again = WIKILINK.sub(rewritten, text)
        if again != text:
            note.write_text(again, encoding="utf-8")
            count += 1
    return count


def dangling(vault: Path) -> list[str]:
    names = {p.stem.casefold() for p in vault.rglob("*.md") if ".kbgen" not in p.parts}
    out = []
    for note in sorted(vault.rglob("*.md")):
        if ".kbgen" in note.parts:
            continue
        for m in WIKILINK.finditer(note.read_text(encoding="utf-8")):
            if m.group(1).casefold() not in names:
                out.append(f"{note.name}: {m.group(0)}")
    return out


def _ok(report: Report) -> Report:
    assert report.ok, report.errors
    assert not paths(report, "conflict"), [a.path for a in report.plan.of("conflict")]
    return report


@pytest.mark.parametrize(
    ("old", "new"),
    [("Actors/Vladimir Putin.md", "Actors/Putin.md"), ("Issues/NATO expansion.md", "NATO.md")],
)
def test_a_note_renamed_in_obsidian_costs_no_conflict_then_or_later(
    seed_sources: Path, tmp_path: Path, old: str, new: str
) -> None:
    vault = tmp_path / "vault"
    _ok(run_build(seed_sources, vault))
    mine = vault / "Sources"
    annotated = sorted(mine.glob("*.md"))[0]
    annotated.write_text(annotated.read_text(encoding="utf-8") + "\nMY NOTE.\n", "utf-8")
    _ok(run_build(seed_sources, vault))
    assert obsidian_rename(vault, old, new) > 5
    report = _ok(run_build(seed_sources, vault))
    assert not dangling(vault), dangling(vault)
    assert (vault / new).exists() and not (vault / old).exists()
    assert "MY NOTE." in annotated.read_text(encoding="utf-8")
    assert not _ok(run_build(seed_sources, vault)).plan.writes  # settled
    source = sorted(seed_sources.iterdir())[0]
    text = source.read_text(encoding="utf-8")
    source.write_text(
        text.rstrip() + "\n\nVladimir Putin and NATO expansion, once more.\n", "utf-8"
    )
    _ok(run_build(seed_sources, vault))
    assert not dangling(vault), dangling(vault)
    assert "MY NOTE." in annotated.read_text(encoding="utf-8")
    del report
