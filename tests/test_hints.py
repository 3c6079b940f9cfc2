"""The watcher's pure half: which events are hints, and when a burst of them is due (fake clock)."""

from __future__ import annotations

import pytest

from kbgen.watch.hints import Debouncer, Hint, classify

ROOTS = {"sources": "/w/sources", "vault": "/w/vault"}


def _rels(kind: str, src: str, dest: str = "", is_dir: bool = False) -> list[tuple[str, str, str]]:
    return [(h.area, h.rel, h.kind) for h in classify(kind, src, dest, is_dir, ROOTS)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        ".a.txt.swp",  # vim
        "a.txt~",  # vim backup, Emacs
        ".#a.txt",  # Emacs lock
        "#a.txt#",  # Emacs autosave
        "a.txt___jb_tmp___",  # JetBrains safe write
        "a.txt___jb_old___",
        "a.html.crdownload",  # Chrome download
        "a.html.part",  # Firefox download
        "4913",  # vim's probe file
        "notes.docx",  # not a kind of source kbgen reads
        ".hidden.md",
    ],
)
def test_editor_temp_files_and_other_files_are_no_hint(name: str) -> None:
    for kind in ("created", "modified", "deleted", "closed"):
        assert _rels(kind, f"/w/sources/{name}") == []


def test_a_safe_write_counts_only_where_the_source_name_appears() -> None:
    assert _rels("moved", "/w/sources/a.txt___jb_tmp___", "/w/sources/a.txt") == [
        ("sources", "a.txt", "moved_to")
    ]
    assert _rels("moved", "/w/sources/a.txt", "/w/sources/a.txt~") == [
        ("sources", "a.txt", "moved_from")
    ]


def test_hidden_folders_and_kbgen_files_in_the_vault_are_no_hint() -> None:
    for path in (
        "/w/vault/.kbgen/state.sqlite-journal",
        "/w/vault/.obsidian/workspace.json",
        "/w/vault/.trash/Old.md",
        "/w/vault/Sources/.kbgen-tmp-12-A title.md",
        "/w/vault/Sources/picture.png",
        "/w/sources/.git/HEAD.txt",
    ):
        assert _rels("modified", path) == [], path
    assert _rels("modified", "/w/vault/Actors/Putin.md") == [
        ("vault", "Actors/Putin.md", "modified")
    ]


def test_folder_events_are_hints_but_a_folders_modified_echo_is_not() -> None:
    assert _rels("moved", "/w/sources/2016", "/w/sources/old/2016", True) == [
        ("sources", "2016", "moved_from"),
        ("sources", "old/2016", "moved_to"),
    ]
    assert _rels("modified", "/w/sources/2016", "", True) == []
    assert _rels("opened", "/w/sources/a.txt") == []
    assert _rels("closed_no_write", "/w/sources/a.txt") == []


def test_a_move_out_of_the_watched_folders_is_a_deletion_at_one_end() -> None:
    assert _rels("moved", "/w/sources/a.txt", "/elsewhere/a.txt") == [
        ("sources", "a.txt", "moved_from")
    ]
    assert _rels("created", "/w/sourcesx/a.txt") == []  # a sibling folder with a common prefix


def test_sources_kept_inside_the_vault_are_sources() -> None:
    roots = {"sources": "/w/vault/articles", "vault": "/w/vault"}
    hints = classify("modified", "/w/vault/articles/a.md", "", False, roots)  # type: ignore[arg-type]
    assert [(h.area, h.rel) for h in hints] == [("sources", "a.md")]


def _hint(rel: str, kind: str = "modified") -> Hint:
    return Hint("sources", rel, kind)


def test_a_burst_is_due_once_it_has_been_quiet() -> None:
    d = Debouncer(quiet=0.1, max_wait=2.0)
    assert d.wait(0.0) is None
    d.add(_hint("a.txt"), 0.00)
    d.add(_hint("b.txt"), 0.05)
    assert d.wait(0.10) == pytest.approx(0.05)
    d.add(_hint("c.txt"), 0.12)
    assert d.wait(0.15) == pytest.approx(0.07)
    assert d.wait(0.22) == 0.0
    assert [h.rel for h in d.take()] == ["a.txt", "b.txt", "c.txt"]
    assert d.wait(0.3) is None


def test_a_stream_that_never_pauses_is_synced_every_max_wait() -> None:
    d = Debouncer(quiet=0.1, max_wait=1.0)
    t = 0.0
    due_at = []
    while t < 3.0:
        d.add(_hint(f"{t:.2f}.txt", "created"), t)
        if d.wait(t) == 0.0:
            due_at.append(round(t, 2))
            d.take()
        t += 0.05
    assert due_at == [1.0, 2.05]  # three seconds of files: a sync each second, not sixty


def test_a_file_still_being_written_holds_the_sync_until_it_is_closed() -> None:
    d = Debouncer(quiet=0.1, max_wait=5.0, tracks_close=True)
    d.add(_hint("big.html", "created"), 0.0)
    d.add(_hint("big.html", "modified"), 0.1)
    assert d.wait(0.5) == pytest.approx(4.5)  # not quiet: the copy is still going
    d.add(_hint("big.html", "modified"), 1.0)
    d.add(_hint("big.html", "closed"), 1.2)
    assert d.wait(1.21) == pytest.approx(0.01)  # closed: a short settle (below)
    assert d.wait(1.22) == 0.0


def test_an_open_file_does_not_hold_the_sync_past_max_wait() -> None:
    d = Debouncer(quiet=0.1, max_wait=2.0, tracks_close=True)
    d.add(_hint("log.txt", "modified"), 0.0)
    assert d.wait(1.0) == pytest.approx(1.0)
    assert d.wait(2.0) == 0.0
    d.take()
    d.add(_hint("log.txt", "closed"), 3.0)  # closed after that sync: its final bytes want one more
    assert d.wait(3.1) == 0.0


def test_without_close_events_a_write_is_done_once_quiet() -> None:
    d = Debouncer(quiet=0.1, max_wait=2.0, tracks_close=False)
    d.add(_hint("a.txt", "created"), 0.0)
    assert d.wait(0.1) == 0.0


def test_an_attribute_change_is_a_hint_of_its_own() -> None:
    assert _rels("attrib", "/w/sources/a.txt") == [("sources", "a.txt", "attrib")]


def test_touching_a_file_does_not_hold_the_sync_as_a_write_would() -> None:
    d = Debouncer(quiet=0.1, max_wait=2.0, tracks_close=True)
    for hint in classify("attrib", "/w/sources/a.txt", "", False, ROOTS):  # type: ignore[arg-type]
        d.add(hint, 0.0)  # `touch`, `chmod`: no close follows
    assert d.wait(0.1) == 0.0


def test_a_write_known_to_be_finished_is_synced_after_a_short_settle() -> None:
    """A close after writing, or a rename into place, is how every editor's save ends."""
    for last in ("closed", "moved_to"):
        d = Debouncer(quiet=0.1, max_wait=2.0, tracks_close=True, settle=0.02)
        d.add(_hint("a.txt", "modified"), 0.0)
        d.add(_hint("a.txt", last), 0.001)
        assert d.wait(0.011) == pytest.approx(0.01)
        assert d.wait(0.021) == 0.0


def test_the_settle_restarts_with_every_event_and_waits_for_every_open_write() -> None:
    d = Debouncer(quiet=0.1, max_wait=2.0, tracks_close=True, settle=0.02)
    d.add(_hint("a.txt", "created"), 0.0)
    d.add(_hint("b.txt", "created"), 0.0)
    d.add(_hint("a.txt", "closed"), 0.01)
    assert d.wait(0.05) == pytest.approx(1.95)  # b.txt is still being written
    d.add(_hint("b.txt", "closed"), 0.06)
    d.add(_hint("c.txt", "created"), 0.07)  # the next file of a copy
    d.add(_hint("c.txt", "closed"), 0.075)
    assert d.wait(0.08) == pytest.approx(0.015)


def test_no_settle_after_a_note_saved_in_the_vault_or_without_close_events() -> None:
    """Obsidian saves as the user types: those wait the whole quiet period, as do observers
    that cannot tell a finished write (polling)."""
    d = Debouncer(quiet=0.1, max_wait=2.0, tracks_close=True, settle=0.02)
    d.add(Hint("vault", "Mine.md", "modified"), 0.0)
    d.add(Hint("vault", "Mine.md", "closed"), 0.001)
    assert d.wait(0.05) == pytest.approx(0.051)
    d = Debouncer(quiet=0.1, max_wait=2.0, tracks_close=False, settle=0.02)
    d.add(_hint("a.txt", "moved_to"), 0.0)
    assert d.wait(0.05) == pytest.approx(0.05)


def test_the_settle_is_never_longer_than_the_quiet_period() -> None:
    d = Debouncer(quiet=0.01, max_wait=2.0, tracks_close=True, settle=0.02)
    d.add(_hint("a.txt", "closed"), 0.0)
    assert d.wait(0.005) == pytest.approx(0.005)
