"""The generated vault obeys Obsidian's rules (names, links, block ids, properties), checked two ways:
by our own resolver of its link rules, and by a third-party parser (obsidiantools)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml
from conftest import frontmatter_of

WIKILINK = re.compile(r"!?\[\[([^\]]+?)\]\]")
BLOCK_ID = re.compile(r" \^([A-Za-z0-9-]+)$", re.M)
ILLEGAL = re.compile(r'[\\/:*?"<>|#^\[\]%]')


def _notes(vault: Path) -> list[Path]:
    return sorted(
        p for p in vault.rglob("*.md") if not any(part.startswith(".") for part in p.parts)
    )


def _resolve(vault: Path) -> dict[str, Path]:
    """Basename → note, case-insensitive, as Obsidian looks a bare link up."""
    table: dict[str, Path] = {}
    for note in _notes(vault):
        key = unicodedata.normalize("NFC", note.stem).casefold()
        assert key not in table, f"two notes share the basename {note.stem!r}"
        table[key] = note
    return table


def test_every_link_resolves_to_one_note_and_block(seed_vault: Path) -> None:
    table = _resolve(seed_vault)
    block_ids = {p: set(BLOCK_ID.findall(p.read_text(encoding="utf-8"))) for p in table.values()}
    count = 0
    for note in _notes(seed_vault):
        for link in WIKILINK.findall(note.read_text(encoding="utf-8")):
            target = link.split("|")[0]
            name, _, sub = target.partition("#")
            resolved = table.get(name.casefold())
            assert resolved is not None, f"{note.name}: [[{link}]] points at no note"
            if sub.startswith("^"):
                assert sub[1:] in block_ids[resolved], f"{note.name}: no block {sub} in {name}"
            count += 1
    assert count > 500


def test_frontmatter_parses_with_reserved_keys_as_lists(seed_vault: Path) -> None:
    for note in _notes(seed_vault):
        fm = frontmatter_of(note)
        assert fm["type"] in {
            "source",
            "actor",
            "issue",
            "author",
            "home",
            "candidates",
            "mentions",
            "timeline",
        }
        assert fm["kbgen_id"]
        for key in ("tags", "aliases", "cssclasses"):
            assert key not in fm or isinstance(fm[key], list), (note, key)
        for tag in fm.get("tags") or []:
            assert re.fullmatch(r"[\w/-]+", tag) and not tag.isdigit(), tag


def test_file_names_and_block_ids_are_legal(seed_vault: Path) -> None:
    for note in _notes(seed_vault):
        assert not ILLEGAL.search(note.stem) and not note.stem.endswith((".", " "))
        assert len(note.name.encode()) < 255
        ids = BLOCK_ID.findall(note.read_text(encoding="utf-8"))
        assert len(ids) == len(set(ids)), f"duplicate block id in {note.name}"


def test_source_notes_carry_title_authors_and_date(seed_vault: Path) -> None:
    sources = {
        frontmatter_of(p)["source"]: frontmatter_of(p)
        for p in (seed_vault / "Sources").glob("*.md")
    }
    assert len(sources) == 5
    fm = sources["001_9de591f704b0e99d.txt"]
    assert fm["title"] == "What’s Next for US-Russia Relations?"
    assert fm["authors"] == ["[[Yu Sui]]"]
    assert str(fm["published"]) == "2017-01-16"
    assert "published" not in sources["000_db97465ef9819302.txt"]  # the article gives no date


def test_hard_mentions_are_linked(seed_vault: Path) -> None:
    text = {p.name: p.read_text(encoding="utf-8") for p in (seed_vault / "Sources").glob("*.md")}
    all_text = "\n".join(text.values())
    for link in (
        "[[Donald Trump|DONALD TRUMP]]",
        "[[Barack Obama|Barak Obama]]",
        "[[Hillary Clinton|Hilary Clinton]]",
        "[[Washington Post]]",
        "[[Michael Flynn|Gen. Flynn]]",
        "[[Russian government|Russian Governmet]]",
        "[[NATO-Russia Council]]",
        "[[Republic of Tatarstan]]",
        "[[GRU]]",
    ):
        assert link in all_text, link
    assert "Republic of [[" not in all_text and "[[Republican Party|Republic]]" not in all_text


# kbgen's own counts ("3 mentions in 1 source"); a line quoting an article (↗) is its text
COUNTED = re.compile(r"\b(\d+) (mention|source|paragraph|statement|article|note)(s?)\b")


def test_every_count_agrees_with_its_noun(seed_vault: Path) -> None:
    checked = 0
    for note in _notes(seed_vault):
        if frontmatter_of(note)["type"] == "source":
            continue  # the article's own text
        for line in note.read_text(encoding="utf-8").splitlines():
            if "↗" in line:
                continue
            for n, _noun, s in COUNTED.findall(line):
                assert (s == "") == (int(n) == 1), f"{note.name}: {line!r}"
                checked += 1
    assert checked > 100


def test_text_between_links_is_not_escaped_as_if_it_began_a_line(seed_vault: Path) -> None:
    """The hyphen of "US-Russia", both words linked, is no list marker: no "\\-" before it
    (Obsidian shows it either way; the note's Markdown is the user's to read and edit)."""
    texts = [note.read_text(encoding="utf-8") for note in _notes(seed_vault)]
    assert any("[[United States|US]]-[[Russia]]" in text for text in texts)
    assert any("**US**-**Russia**" in text for text in texts)
    for note, text in zip(_notes(seed_vault), texts, strict=True):
        assert "]]\\-[[" not in text and "**\\-**" not in text, note.name


def test_third_party_parser_finds_no_missing_note_and_no_isolated_source(seed_vault: Path) -> None:
    import obsidiantools.api as otools

    vault = otools.Vault(seed_vault).connect().gather()
    # obsidiantools keys notes by exact-case basename and ignores block/heading subpaths.
    assert vault.nonexistent_notes == []
    sources = {p.stem for p in (seed_vault / "Sources").glob("*.md")}
    assert not sources & set(vault.isolated_notes)


def test_graph_settings_colour_every_note_type(seed_vault: Path) -> None:
    import json

    graph = json.loads((seed_vault / ".obsidian" / "graph.json").read_text())
    queries = " ".join(g["query"] for g in graph["colorGroups"])
    for folder in ("Sources", "Actors", "Issues", "Authors"):
        assert f"path:{folder}" in queries
    assert all(isinstance(g["color"]["rgb"], int) for g in graph["colorGroups"])
    assert (
        yaml.safe_load((seed_vault / ".obsidian" / "app.json").read_text())["useMarkdownLinks"]
        is False
    )


def test_links_in_unseen_layouts_resolve_too(tmp_path: Path) -> None:
    """A Markdown source's own [[wikilinks]] point into its author's vault, not ours."""
    from conftest import FIXTURES, run_build

    vault = tmp_path / "vault"
    assert run_build(FIXTURES / "articles", vault).ok
    table = _resolve(vault)
    for note in _notes(vault):
        for link in WIKILINK.findall(note.read_text(encoding="utf-8")):
            name = link.split("|")[0].partition("#")[0]
            assert name.casefold() in table, f"{note.name}: [[{link}]] points at no note"
