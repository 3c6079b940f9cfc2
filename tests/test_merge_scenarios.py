"""Nothing the user writes is ever lost: one scenario per way users annotate and sources change.

Each test builds a real vault, edits it the way a user does in Obsidian
(plain file writes: Obsidian saves whole files), changes the sources,
rebuilds, and checks that every word the user wrote is still there and the
source's change arrived around it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SEEDS, frontmatter_of, paths, run_build

from kbgen.build.pipeline import build
from kbgen.build.report import Report
from kbgen.core.config import Config

ARTICLE = """---
title: Sanctions and the Reset
author: Jane Analyst
date: 2017-02-01
---

Putin met Trump in Helsinki to discuss sanctions and the future of the relationship.

The Kremlin denied any election interference, and officials in Washington were unconvinced.

NATO expansion remains a sore point for Russia, according to several diplomats.

Arms control talks stalled after the meeting, with New START due to expire.
"""
NOTE = "Sources/Sanctions and the Reset.md"
OTHER = """---
title: Another View
---

Putin spoke at length about the relationship with the new administration in Washington.
"""


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "article.md").write_text(ARTICLE, encoding="utf-8")
    return folder


@pytest.fixture
def vault(tmp_path: Path, sources: Path) -> Path:
    folder = tmp_path / "vault"
    assert run_build(sources, folder).ok
    return folder


def read(vault: Path, rel: str = NOTE) -> str:
    return (vault / rel).read_text(encoding="utf-8")


def write(vault: Path, text: str, rel: str = NOTE) -> None:
    (vault / rel).write_text(text, encoding="utf-8")


def edit_source(sources: Path, old: str, new: str, name: str = "article.md") -> None:
    path = sources / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def rebuild(sources: Path, vault: Path, **kwargs: object) -> Report:
    report = run_build(sources, vault, **kwargs)
    assert report.ok, report.errors
    return report


def assert_settled(sources: Path, vault: Path) -> None:
    """A merged vault is stable: the next build writes nothing."""
    again = rebuild(sources, vault)
    assert not again.plan.writes, again.plan.lines()


def test_user_paragraph_between_article_paragraphs(sources: Path, vault: Path) -> None:
    text = read(vault)
    mine = "My take: the Helsinki meeting was mostly theatre.\n\n"
    write(vault, text.replace("[[Kremlin|The Kremlin]]", mine + "[[Kremlin|The Kremlin]]"))
    edit_source(sources, "Arms control talks stalled", "Arms control talks collapsed")
    report = rebuild(sources, vault)
    assert NOTE in paths(report, "merge")
    merged = read(vault)
    assert mine in merged
    assert "talks collapsed" in merged and "talks stalled" not in merged
    assert merged.index("mostly theatre") < merged.index("denied any")
    assert_settled(sources, vault)


def test_user_paragraph_right_before_the_paragraph_the_source_changed(
    sources: Path, vault: Path
) -> None:
    """Touching edits are not a conflict: diff3 would say so, kbgen looks closer."""
    text = read(vault)
    write(vault, text.replace("[[Kremlin|The Kremlin]]", "My aside.\n\n[[Kremlin|The Kremlin]]"))
    edit_source(sources, "were unconvinced", "remained unconvinced")
    report = rebuild(sources, vault)
    assert NOTE in paths(report, "merge")
    merged = read(vault)
    assert "My aside.\n\n[[Kremlin|The Kremlin]]" in merged
    assert "remained unconvinced" in merged
    assert "kbgen_conflict" not in merged


def test_highlight_inside_a_paragraph_the_source_also_changed(sources: Path, vault: Path) -> None:
    text = read(vault)
    write(vault, text.replace("sore point", "==sore point=="))
    edit_source(sources, "according to several diplomats", "according to three diplomats")
    report = rebuild(sources, vault)
    assert NOTE in paths(report, "merge")
    merged = read(vault)
    assert "==sore point==" in merged and "according to three diplomats" in merged
    assert "kbgen_conflict" not in merged


def test_user_property_survives_a_source_change(sources: Path, vault: Path) -> None:
    text = read(vault)
    write(vault, text.replace("type: source\n", "type: source\nmy_rating: 5  # worth rereading\n"))
    edit_source(sources, "date: 2017-02-01", "date: 2017-02-03")
    rebuild(sources, vault)
    merged = read(vault)
    assert "my_rating: 5  # worth rereading\n" in merged
    assert frontmatter_of(vault / NOTE)["published"].isoformat() == "2017-02-03"  # type: ignore[union-attr]
    assert merged.index("type: source") < merged.index("my_rating") < merged.index("title:")


def test_corrected_title_and_date_stay_until_the_user_removes_them(
    sources: Path, vault: Path
) -> None:
    text = read(vault)
    text = text.replace("title: Sanctions and the Reset", "title: 'Sanctions and the Reset (2017)'")
    write(vault, text.replace("published: 2017-02-01", "published: 2017-01-31"))
    edit_source(sources, "title: Sanctions and the Reset", "title: Sanctions, and a Reset")
    edit_source(sources, "date: 2017-02-01", "date: 2017-02-02")
    rebuild(sources, vault)
    fm = frontmatter_of(vault / NOTE)
    assert fm["title"] == "Sanctions and the Reset (2017)"
    assert str(fm["published"]) == "2017-01-31"
    assert (vault / NOTE).exists(), "an edited note keeps its file name when the title changes"
    write(vault, read(vault).replace("published: 2017-01-31\n", ""))
    rebuild(sources, vault)
    assert str(frontmatter_of(vault / NOTE)["published"]) == "2017-02-02"


def test_tags_and_aliases_merge_as_sets(sources: Path, vault: Path) -> None:
    text = read(vault)
    write(vault, text.replace("kbgen_id:", "tags:\n  - to-read\nkbgen_id:"))
    edit_source(sources, "date: 2017-02-01", "date: 2017-02-01\ntags: [russia, diplomacy]")
    rebuild(sources, vault)
    assert frontmatter_of(vault / NOTE)["tags"] == ["to-read", "russia", "diplomacy"]


def test_a_new_paragraph_with_a_new_mention_is_linked(sources: Path, vault: Path) -> None:
    write(vault, read(vault).replace("sore point", "==sore point=="))
    edit_source(
        sources,
        "Arms control talks",
        "Lavrov said the sanctions would outlast the administration.\n\nArms control talks",
    )
    rebuild(sources, vault)
    merged = read(vault)
    assert "[[Sergey Lavrov|Lavrov]] said the [[Sanctions against Russia|sanctions]]" in merged
    assert "==sore point==" in merged
    assert "  - '[[Sergey Lavrov]]'" in merged  # kbgen's list keys still update
    lavrov = read(vault, "Actors/Sergey Lavrov.md")
    assert "[[Sanctions and the Reset#^" in lavrov


def test_true_conflict_keeps_both_texts_flags_the_note_and_names_it(
    sources: Path, vault: Path
) -> None:
    mine = "NATO expansion remains, in my view, the sore point for Russia."
    text = read(vault)
    start = text.index("[[NATO expansion]] remains")
    end = text.index("\n", start)
    write(vault, text[:start] + mine + text[end:])
    edit_source(sources, "according to several diplomats", "as every diplomat will tell you")
    report = rebuild(sources, vault)
    assert NOTE in paths(report, "conflict")
    assert NOTE in report.summary() and "conflict" in report.summary()
    merged = read(vault)
    assert mine in merged
    assert "as every diplomat will tell you" in merged
    assert merged.index(mine) < merged.index("[!caution] kbgen")
    assert frontmatter_of(vault / NOTE)["kbgen_conflict"] is True
    assert_settled(sources, vault)
    # the user resolves it by deleting the box: the flag goes on the next build
    resolved = read(vault)
    box = resolved.index("> [!caution]")
    resolved = resolved[:box] + resolved[resolved.index("[[Arms control]] talks") :]
    write(vault, resolved)
    rebuild(sources, vault)
    assert "kbgen_conflict" not in frontmatter_of(vault / NOTE)
    assert mine in read(vault)


def test_renamed_source_keeps_its_note_and_the_users_edits(sources: Path, vault: Path) -> None:
    write(vault, read(vault) + "\n## My notes\n\nKeep an eye on this one.\n")
    (sources / "article.md").rename(sources / "renamed-article.md")
    report = rebuild(sources, vault)
    assert not paths(report, "create", "delete", "orphan")
    assert "Keep an eye on this one." in read(vault)
    assert frontmatter_of(vault / NOTE)["source"] == "renamed-article.md"


def test_source_renamed_and_edited_at_once_is_found_by_title(sources: Path, vault: Path) -> None:
    write(vault, read(vault) + "\nMine.\n")
    edit_source(sources, "were unconvinced", "remained unconvinced")
    (sources / "article.md").rename(sources / "moved.md")
    report = rebuild(sources, vault)
    assert not paths(report, "create", "orphan")
    assert "Mine." in read(vault) and "remained unconvinced" in read(vault)


def test_moved_and_renamed_note_is_found_by_id_and_updated_there(
    sources: Path, vault: Path
) -> None:
    (vault / "Reading").mkdir()
    moved = "Reading/Helsinki piece.md"
    (vault / NOTE).rename(vault / moved)
    edit_source(sources, "Arms control talks stalled", "Arms control talks collapsed")
    report = rebuild(sources, vault)
    assert not (vault / NOTE).exists(), "no duplicate at the old place"
    assert "talks collapsed" in read(vault, moved)
    assert any("Reading/Helsinki piece.md" in line for line in report.plan.notices)
    # links elsewhere now point at the note's new name
    putin = read(vault, "Actors/Vladimir Putin.md")
    assert "[[Helsinki piece#^" in putin and "[[Sanctions and the Reset#" not in putin
    assert_settled(sources, vault)


def test_changed_title_renames_an_untouched_note(sources: Path, vault: Path) -> None:
    edit_source(sources, "title: Sanctions and the Reset", "title: Sanctions, and a Reset")
    rebuild(sources, vault)
    assert not (vault / NOTE).exists()
    assert (vault / "Sources" / "Sanctions, and a Reset.md").exists()


def test_removed_pristine_source_deletes_its_note_and_mentions(sources: Path, vault: Path) -> None:
    (sources / "other.md").write_text(OTHER, encoding="utf-8")
    rebuild(sources, vault)
    (sources / "article.md").unlink()
    report = rebuild(sources, vault)
    assert NOTE in paths(report, "delete")
    assert not (vault / NOTE).exists()
    assert not (vault / "Issues" / "NATO expansion.md").exists()
    assert "Sanctions and the Reset" not in read(vault, "Actors/Vladimir Putin.md")


def test_removed_annotated_source_leaves_its_note_orphaned(sources: Path, vault: Path) -> None:
    (sources / "other.md").write_text(OTHER, encoding="utf-8")
    rebuild(sources, vault)
    annotated = read(vault).replace("sore point", "==sore point==")
    write(vault, annotated)
    (sources / "article.md").unlink()
    report = rebuild(sources, vault)
    assert NOTE in paths(report, "orphan")
    kept = read(vault)
    assert frontmatter_of(vault / NOTE)["kbgen_status"] == "orphaned"
    assert kept.replace("kbgen_status: orphaned\n", "") == annotated
    assert "Sanctions and the Reset" not in read(vault, "Actors/Vladimir Putin.md")
    assert_settled(sources, vault)
    # the source comes back: the note is the source's again, annotations and all
    (sources / "article.md").write_text(ARTICLE, encoding="utf-8")
    rebuild(sources, vault)
    assert "kbgen_status" not in read(vault) and "==sore point==" in read(vault)


def test_actor_note_my_notes_section_survives_changed_mentions(
    seed_sources: Path, seed_vault: Path
) -> None:
    rel = "Actors/Dmitry Peskov.md"
    before = read(seed_vault, rel)
    mine = "\n## My notes\n\nPeskov is the one to watch.\n"
    write(seed_vault, before + mine, rel)
    (seed_sources / "001_9de591f704b0e99d.txt").unlink()  # drops some of Peskov's mentions
    report = rebuild(seed_sources, seed_vault)
    assert rel in paths(report, "merge", "orphan")
    after = read(seed_vault, rel)
    assert after.endswith(mine)
    assert "What’s Next for US-Russia Relations" not in after


def test_actor_note_the_user_wrote_in_stays_when_no_source_mentions_it(
    sources: Path, vault: Path
) -> None:
    rel = "Issues/NATO expansion.md"
    write(vault, read(vault, rel) + "\nMy reading list on NATO.\n", rel)
    edit_source(sources, "NATO expansion remains", "Enlargement remains")
    report = rebuild(sources, vault)
    assert rel in paths(report, "orphan")
    assert "My reading list on NATO." in read(vault, rel)
    assert frontmatter_of(vault / rel)["kbgen_status"] == "orphaned"


def test_users_own_note_at_a_generated_name_is_never_overwritten(
    sources: Path, tmp_path: Path
) -> None:
    vault = tmp_path / "mine"
    (vault / "People").mkdir(parents=True)
    own = vault / "People" / "vladimir putin.md"  # same name to Obsidian: names are case-blind
    own.write_bytes(b"---\nrating: high\n---\nMy own dossier.\n")
    report = rebuild(sources, vault)
    assert own.read_bytes() == b"---\nrating: high\n---\nMy own dossier.\n"
    assert (vault / "Actors" / "Vladimir Putin (actor).md").exists()
    assert "[[Vladimir Putin (actor)|Putin]]" in read(vault)
    assert any("People/vladimir putin.md" in line for line in report.plan.notices)
    assert_settled(sources, vault)


def test_catalog_change_on_an_annotated_note(sources: Path, vault: Path, tmp_path: Path) -> None:
    annotated = read(vault).replace("met [[Donald Trump|Trump]]", "==met [[Donald Trump|Trump]]==")
    write(vault, annotated + "\nMy closing thought.\n")
    catalog = tmp_path / "extra.yaml"
    catalog.write_text("actors:\n  - {name: Helsinki, kind: place, aliases: []}\n")
    report = build(Config(sources=sources, vault=vault, catalogs=(catalog,)))
    assert report.ok and NOTE in paths(report, "merge")
    merged = read(vault)
    assert "==met [[Donald Trump|Trump]]== in [[Helsinki]]" in merged
    assert merged.endswith("My closing thought.\n")


def test_dry_run_lists_merges_and_conflicts_and_writes_nothing(sources: Path, vault: Path) -> None:
    text = read(vault)
    write(vault, text.replace("sore point", "==sore point==") + "\nMine.\n")
    edit_source(sources, "Arms control talks stalled", "Arms control talks collapsed")
    before = {p: p.read_bytes() for p in vault.rglob("*") if p.is_file()}
    report = rebuild(sources, vault, dry_run=True)
    assert any(line.startswith("merge") and NOTE in line for line in report.plan.lines())
    assert {p: p.read_bytes() for p in vault.rglob("*") if p.is_file()} == before


def test_an_emptied_note_is_restored_not_taken_as_deleted_text(sources: Path, vault: Path) -> None:
    original = read(vault)
    write(vault, "")
    report = rebuild(sources, vault)
    assert NOTE in paths(report, "restore")
    assert read(vault) == original


def test_a_truncated_note_is_restored(sources: Path, vault: Path) -> None:
    original = read(vault)
    write(vault, original[: len(original) // 2].rstrip("\n"))
    rebuild(sources, vault)
    assert read(vault) == original


def test_reformatted_frontmatter_alone_is_not_an_edit(sources: Path, vault: Path) -> None:
    """Obsidian's property editor re-serialises YAML; that must not make a note 'edited'."""
    text = read(vault).replace("title: Sanctions and the Reset", 'title: "Sanctions and the Reset"')
    write(vault, text.replace("authors:\n  - '[[Jane Analyst]]'", 'authors: ["[[Jane Analyst]]"]'))
    (sources / "article.md").unlink()
    report = rebuild(sources, vault)
    assert NOTE in paths(report, "delete")


def test_obsidian_rewriting_links_after_a_rename_merges_cleanly(sources: Path, vault: Path) -> None:
    """Obsidian updates links in every note when one is renamed; kbgen follows the new name."""
    (vault / "Actors" / "Vladimir Putin.md").rename(vault / "Actors" / "Putin.md")
    write(vault, read(vault).replace("[[Vladimir Putin|Putin]]", "[[Putin]]"))
    report = rebuild(sources, vault)
    assert "[[Putin]]" in read(vault)
    assert "[[Putin|Putin]]" not in read(vault)
    assert not paths(report, "conflict")


def test_seed_vault_with_edits_everywhere_loses_nothing(tmp_path: Path) -> None:
    """All of the above at once on the demo corpus, through three rebuilds."""
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    vault = tmp_path / "vault"
    run_build(sources, vault)
    marks = {}
    for i, note in enumerate(sorted(vault.rglob("*.md"))):
        mark = f"USER-MARK-{i}"
        marks[mark] = note
        note.write_text(note.read_text(encoding="utf-8") + f"\n{mark}\n", encoding="utf-8")
    for name in sorted(p.name for p in sources.iterdir())[:2]:
        path = sources / name
        path.write_text(path.read_text(encoding="utf-8").replace("Russia", "Russia's"))
    run_build(sources, vault)
    (sources / sorted(p.name for p in sources.iterdir())[0]).unlink()
    run_build(sources, vault)
    text = "".join(p.read_text(encoding="utf-8") for p in vault.rglob("*.md"))
    assert all(mark in text for mark in marks)


def test_an_alias_added_to_a_generated_actor_note_is_honoured(sources: Path, vault: Path) -> None:
    """Aliases the user adds to a generated note are link targets on the next build."""
    rel = "Actors/Vladimir Putin.md"
    text = read(vault, rel)
    write(vault, text.replace("aliases:\n", "aliases:\n  - the Russian leader\n"), rel)
    edit_source(sources, "Arms control talks", "The Russian leader said arms control talks")
    rebuild(sources, vault)
    assert "[[Vladimir Putin|The Russian leader]] said" in read(vault)
    assert "  - the Russian leader\n" in read(vault, rel)
    assert_settled(sources, vault)
    assert "  - the Russian leader\n" in read(vault, rel)


def test_a_lost_state_database_adopts_the_notes_instead_of_duplicating_them(
    sources: Path, vault: Path
) -> None:
    write(vault, read(vault) + "\nMine.\n")
    (vault / ".kbgen" / "state.sqlite").unlink()
    edit_source(sources, "Arms control talks stalled", "Arms control talks collapsed")
    report = rebuild(sources, vault)
    assert not paths(report, "create"), "every note is found again by its kbgen_id"
    assert not list(vault.rglob("* (actor).md")) and not list(vault.rglob("* (2).md"))
    assert read(vault).endswith("\nMine.\n")
    assert NOTE in paths(report, "adopted")  # no merge base any more: left as it is, once
    edit_source(sources, "talks collapsed", "talks resumed")
    rebuild(sources, vault)  # without a base, kbgen's old text counts as the user's: a conflict
    assert "talks resumed" in read(vault) and "\nMine.\n" in read(vault)


def test_every_build_prints_what_a_user_must_read(
    sources: Path, vault: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kbgen.cli import main

    text = read(vault)
    write(vault, text.replace("remains a sore point", "remains a painful point"))
    edit_source(sources, "remains a sore point", "remains a touchy point")
    args = ["build", "--sources", str(sources), "--vault", str(vault)]
    assert main([*args, "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert f"CONFLICT {NOTE}" in dry and "would write" in dry
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"CONFLICT {NOTE}" in out and "1 conflict:" in out and f"\n  {NOTE}" in out
    assert "update  Actors" not in out  # routine lines only with --verbose
    assert main(args) == 0
    assert "wrote 0 notes" in capsys.readouterr().out


@pytest.mark.parametrize("how", ["reworded", "followed"])
def test_an_unresolved_conflict_keeps_one_box_with_the_sources_latest_version(
    sources: Path, vault: Path, how: str
) -> None:
    """Build after build the source changes the passage the user rewrote (`reworded`), or adds
    a paragraph right after it (`followed`): the note keeps one box, showing the source's
    latest version, never one more box a build."""
    mine = "NATO expansion remains, in my view, the sore point for Russia."
    text = read(vault)
    start = text.index("[[NATO expansion]] remains")
    write(vault, text[:start] + mine + text[text.index("\n", start) :])
    said = "according to several diplomats"
    for n in range(1, 6):
        if how == "reworded" or n == 1:
            edit_source(sources, said, f"as diplomat number {n} will tell you")
            said = f"as diplomat number {n} will tell you"
        else:
            edit_source(sources, said, f"{said}.\n\nSanctions were discussed again in round {n}")
            said = f"Sanctions were discussed again in round {n}"
        rebuild(sources, vault)
        merged = read(vault)
        assert merged.count("[!caution] kbgen") == 1, merged
        assert mine in merged
    if how == "reworded":
        box = merged[merged.index("[!caution] kbgen") :]
        assert "diplomat number 5" in box and "diplomat number 4" not in merged
    else:
        assert all(f"again in round {n}" in merged for n in range(2, 6))
    assert frontmatter_of(vault / NOTE)["kbgen_conflict"] is True
    assert_settled(sources, vault)


def test_a_box_the_user_edited_is_the_users_text(sources: Path, vault: Path) -> None:
    """A conflict box the user wrote in is no longer kbgen's to replace: it stays."""
    mine = "NATO expansion remains, in my view, the sore point for Russia."
    text = read(vault)
    start = text.index("[[NATO expansion]] remains")
    write(vault, text[:start] + mine + text[text.index("\n", start) :])
    edit_source(sources, "according to several diplomats", "as one diplomat will tell you")
    rebuild(sources, vault)
    noted = read(vault).replace("as one diplomat will tell you", "as one diplomat (MY NOTE)", 1)
    write(vault, noted)
    edit_source(sources, "as one diplomat will tell you", "as two diplomats will tell you")
    rebuild(sources, vault)
    merged = read(vault)
    assert "as one diplomat (MY NOTE)" in merged and mine in merged
    assert "as two diplomats will tell you" in merged


def test_a_note_saved_with_crlf_line_endings_keeps_them_when_merged(
    sources: Path, vault: Path
) -> None:
    """An editor that saves with CRLF (Windows): the merged note is CRLF throughout."""
    text = read(vault).replace("unconvinced.", "unconvinced. MY REMARK.", 1)
    (vault / NOTE).write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    edit_source(sources, "according to several diplomats", "as every diplomat will tell you")
    rebuild(sources, vault)
    data = (vault / NOTE).read_bytes()
    assert b"MY REMARK." in data and b"as every diplomat will tell you" in data
    assert data.count(b"\n") == data.count(b"\r\n"), "mixed line endings"
    assert_settled(sources, vault)


def test_a_read_only_note_is_reported_and_left_until_it_is_writable(
    sources: Path, vault: Path
) -> None:
    """A note the user made read-only says "don't touch": kbgen leaves it and says so; once
    it is writable again, the source's changes arrive, merged with what the user wrote."""
    note = vault / NOTE
    write(vault, read(vault).replace("unconvinced.", "unconvinced. MY REMARK.", 1))
    rebuild(sources, vault)
    note.chmod(0o444)
    before = note.read_bytes()
    edit_source(sources, "according to several diplomats", "as every diplomat will tell you")
    report = rebuild(sources, vault)
    assert note.read_bytes() == before
    assert note.stat().st_mode & 0o777 == 0o444
    assert any(
        line.startswith(f"keep    {NOTE}") and "read-only" in line for line in report.plan.lines()
    )
    note.chmod(0o644)
    rebuild(sources, vault)
    after = read(vault)
    assert "MY REMARK." in after and "as every diplomat will tell you" in after
    assert "kbgen_conflict" not in frontmatter_of(note)


def test_a_read_only_note_whose_source_is_gone_is_not_deleted(sources: Path, vault: Path) -> None:
    note = vault / NOTE
    note.chmod(0o444)
    (sources / "article.md").unlink()
    report = rebuild(sources, vault)
    assert note.exists() and note.stat().st_mode & 0o777 == 0o444
    assert any(line.startswith(f"keep    {NOTE}") for line in report.plan.lines())


def test_a_private_note_keeps_its_mode_when_merged(sources: Path, vault: Path) -> None:
    note = vault / NOTE
    write(vault, read(vault).replace("unconvinced.", "unconvinced. MY REMARK.", 1))
    note.chmod(0o600)
    edit_source(sources, "according to several diplomats", "as every diplomat will tell you")
    assert NOTE in paths(rebuild(sources, vault), "merge")
    assert note.stat().st_mode & 0o777 == 0o600
    assert "MY REMARK." in read(vault)


@pytest.mark.parametrize("then", ["new source", "catalog file", "tick a candidate"])
def test_an_alias_added_to_a_generated_actor_note_outlives_later_builds(
    sources: Path, vault: Path, tmp_path: Path, then: str
) -> None:
    """Once kbgen has rendered the user's alias, the note equals its base again: the alias is
    still the user's, and a later build (of every source, too) keeps honouring it."""
    rel = "Actors/Vladimir Putin.md"
    text = read(vault, rel)
    start = text.index("aliases:\n")
    end = start + len("aliases:\n")
    while text.startswith("  - ", end):  # the alias goes last, where kbgen renders it
        end = text.index("\n", end) + 1
    write(vault, text[:end] + "  - the Russian leader\n" + text[end:], rel)
    edit_source(sources, "Arms control talks", "The Russian leader said arms control talks")
    rebuild(sources, vault)
    assert not rebuild(sources, vault).plan.writes  # the note is what kbgen rendered
    config = Config(sources=sources, vault=vault)
    if then == "new source":
        (sources / "other.md").write_text(OTHER, encoding="utf-8")
    elif then == "catalog file":
        catalog = tmp_path / "more.yaml"
        catalog.write_text("actors:\n  - name: Jane Doe\n    kind: person\n", "utf-8")
        config = Config(sources=sources, vault=vault, catalogs=(catalog,))
    else:
        (sources / "hill.md").write_text(
            "---\ntitle: Hill\n---\n\nFiona Hill said the talks were over.\n\n"
            "Fiona Hill, an adviser, left Washington in July.\n",
            encoding="utf-8",
        )
        rebuild(sources, vault)
        cands = read(vault, "Candidates.md")
        assert "- [ ] **Fiona Hill**" in cands
        write(vault, cands.replace("- [ ] **Fiona Hill**", "- [x] **Fiona Hill**"), "Candidates.md")
    assert build(config).ok
    assert "  - the Russian leader\n" in read(vault, rel)
    assert "[[Vladimir Putin|The Russian leader]] said" in read(vault)


@pytest.mark.parametrize("edited", [True, False])
def test_a_source_deleted_then_put_back_finds_its_annotated_note_again(
    sources: Path, vault: Path, edited: bool
) -> None:
    """The README's promise: put the source back and the orphaned note is its again (merged,
    no longer orphaned, updated by later edits), even when the source was edited before it
    went, so that its content is not what its note was first made from."""
    write(vault, read(vault).replace("unconvinced.", "unconvinced. MY REMARK.", 1))
    rebuild(sources, vault)
    if edited:
        edit_source(sources, "according to several diplomats", "as every diplomat will tell you")
        rebuild(sources, vault)
    article = (sources / "article.md").read_text(encoding="utf-8")
    (sources / "article.md").unlink()
    rebuild(sources, vault)
    assert frontmatter_of(vault / NOTE)["kbgen_status"] == "orphaned"
    (sources / "article.md").write_text(article, encoding="utf-8")
    report = rebuild(sources, vault)
    assert not (vault / "Sources" / "Sanctions and the Reset (2).md").exists(), report.plan.lines()
    note = read(vault)
    assert "MY REMARK." in note and "kbgen_status" not in frontmatter_of(vault / NOTE)
    edit_source(sources, "Arms control talks", "Arms control talks, once more,")
    rebuild(sources, vault)
    assert "once more," in read(vault) and "MY REMARK." in read(vault)
    assert_settled(sources, vault)


def test_an_orphaned_note_never_shares_its_name_with_the_users_note_that_replaced_it(
    sources: Path, vault: Path
) -> None:
    """The user writes in kbgen's actor note, then makes their own note of that actor (`type:
    actor`), which becomes the link target: kbgen's note is orphaned, and renamed, so that
    `[[Vladimir Putin]]` resolves to one note only."""
    rel = "Actors/Vladimir Putin.md"
    write(vault, read(vault, rel) + "\nMy notes on Putin.\n", rel)
    (vault / "People").mkdir()
    (vault / "People" / "Vladimir Putin.md").write_text(
        "---\ntype: actor\nkind: person\naliases: [Putin]\n---\nMy own dossier.\n", "utf-8"
    )
    report = rebuild(sources, vault)
    stems = [p.stem.casefold() for p in vault.rglob("*.md")]
    assert stems.count("vladimir putin") == 1, sorted(p for p in stems if "putin" in p)
    orphan = [p for p in paths(report, "orphan") if "Putin" in p]
    assert orphan and orphan[0] != rel
    assert "My notes on Putin." in read(vault, orphan[0])
    assert frontmatter_of(vault / orphan[0])["kbgen_status"] == "orphaned"
    assert "[[Vladimir Putin|Putin]]" in read(vault)  # the user's note, unambiguous
    assert_settled(sources, vault)


def test_a_change_made_while_the_state_was_missing_arrives_at_the_next_build(
    sources: Path, vault: Path
) -> None:
    """`.kbgen/` lost, then a paragraph added to the source: the edited note is left as it is
    once, and the paragraph arrives with the next build, beside the user's own, with no
    conflict: it is not read as the user's deletion."""
    write(vault, read(vault).replace("unconvinced.", "unconvinced.\n\nMY PARAGRAPH.", 1))
    shutil.rmtree(vault / ".kbgen")
    edit_source(
        sources,
        "NATO expansion remains",
        "Sanctions were tightened again.\n\nNATO expansion remains",
    )
    assert NOTE in paths(rebuild(sources, vault), "adopted")
    report = rebuild(sources, vault)
    note = read(vault)
    assert "were tightened again." in note and "MY PARAGRAPH." in note
    assert NOTE not in paths(report, "conflict") and "[!caution]" not in note
    assert note.count("denied any") == 1, note
    assert_settled(sources, vault)


class _Killed(BaseException):
    """Stands for SIGKILL between a build's writes and its commit."""


def test_a_note_written_by_a_killed_build_then_edited_merges_without_conflict(
    sources: Path, vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kbgen wrote the note, was killed before its commit, then the user edited the note: the
    write the journal names is the note's merge base, so kbgen's own write is not taken for
    the user's edit (no conflict), and the user's edit stays."""
    from kbgen.state.store import Store

    real_commit = Store.commit
    edit_source(sources, "Arms control talks stalled", "Arms control talks collapsed")

    def killed(self: Store, *args: object, **kwargs: object) -> None:
        raise _Killed

    monkeypatch.setattr(Store, "commit", killed)
    with pytest.raises(_Killed):
        run_build(sources, vault)
    monkeypatch.setattr(Store, "commit", real_commit)
    assert "talks collapsed" in read(vault)  # written, not committed
    write(vault, read(vault).replace("talks collapsed", "talks collapsed (MY EMPHASIS)", 1))
    edit_source(sources, "with New START due to expire", "with New START about to expire")
    report = rebuild(sources, vault)
    note = read(vault)
    assert "talks collapsed (MY EMPHASIS)" in note and "about to expire" in note
    assert NOTE not in paths(report, "conflict") and "[!caution]" not in note
    assert_settled(sources, vault)
