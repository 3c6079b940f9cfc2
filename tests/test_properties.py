"""Frontmatter merged key by key, with the user's text kept byte for byte."""

from __future__ import annotations

from kbgen.vault.properties import chunks, merge, split_note, with_status

BASE = "type: source\ntitle: Old title\ntags:\n  - russia\nkbgen_id: src-1\n"


def test_user_keys_comments_and_formatting_are_kept_verbatim() -> None:
    ours = (
        "# my comment\ntype: source\ntitle: Old title\nmy_rating: 5   # out of 5\n"
        'tags: [russia, to-read]\nkbgen_id: src-1\nreviewed: "2024-01-02"\n'
    )
    theirs = BASE.replace("Old title", "New title")
    out = merge(BASE, ours, theirs)
    assert out == (
        "# my comment\ntype: source\ntitle: New title\nmy_rating: 5   # out of 5\n"
        'tags: [russia, to-read]\nkbgen_id: src-1\nreviewed: "2024-01-02"\n'
    )


def test_a_value_the_user_changed_wins_and_comes_back_when_removed() -> None:
    ours = BASE.replace("Old title", "My title")
    theirs = BASE.replace("Old title", "New title")
    assert "title: My title\n" in merge(BASE, ours, theirs)
    removed = ours.replace("title: My title\n", "")
    assert "title: New title\n" in merge(BASE, removed, theirs)


def test_lists_merge_as_sets_both_ways() -> None:
    ours = BASE.replace("  - russia\n", "  - russia\n  - mine\n")
    theirs = BASE.replace("  - russia\n", "  - sanctions\n")
    assert "tags:\n  - mine\n  - sanctions\n" in merge(BASE, ours, theirs)


def test_new_kbgen_keys_go_after_their_predecessor() -> None:
    theirs = BASE.replace("title: Old title\n", "title: Old title\npublished: 2017-01-01\n")
    ours = "mine: 1\n" + BASE
    out = merge(BASE, ours, theirs)
    assert out.index("title:") < out.index("published:") < out.index("tags:")
    assert out.startswith("mine: 1\n")


def test_a_key_kbgen_no_longer_writes_goes_unless_the_user_changed_it() -> None:
    theirs = BASE.replace("title: Old title\n", "")
    assert "title" not in merge(BASE, BASE, theirs)
    assert "title: Mine\n" in merge(BASE, BASE.replace("Old title", "Mine"), theirs)


def test_unparseable_user_frontmatter_is_left_alone() -> None:
    broken = "title: [unclosed\n"
    assert merge(BASE, broken, BASE) == broken
    assert chunks(broken) is None


def test_status_keys_are_set_and_cleared_without_touching_the_rest() -> None:
    flagged = with_status(BASE, {"kbgen_status": "orphaned"})
    assert flagged == BASE + "kbgen_status: orphaned\n"
    assert with_status(flagged, {}) == BASE


def test_split_note_needs_a_closed_fence() -> None:
    assert split_note("---\na: 1\n---\nbody\n") == ("a: 1\n", "body\n")
    assert split_note("---\na: 1\nbody\n") == (None, "---\na: 1\nbody\n")
