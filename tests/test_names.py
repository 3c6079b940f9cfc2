"""Note names: who keeps a name when two want it."""

from __future__ import annotations

from kbgen.core.names import Wanted, _allocate


def test_of_two_notes_whose_old_names_fold_alike_the_first_keeps_its_name() -> None:
    """Obsidian resolves a link case-insensitively: "Russia" and "russia" are one name."""
    wanted = [Wanted("a", "Russia"), Wanted("b", "russia")]
    naming = _allocate(wanted, user_stems=set(), fixed={}, previous={"a": "Russia", "b": "russia"})
    assert naming.stems == {"a": "Russia", "b": "russia (2)"}


def test_a_note_whose_old_name_a_note_of_yours_now_has_is_named_beside_it() -> None:
    naming = _allocate(
        [Wanted("a", "Russia")], user_stems={"russia"}, fixed={}, previous={"a": "Russia"}
    )
    assert naming.stems == {"a": "Russia (2)"} and naming.displaced == {"a": "Russia"}
