"""The merge, property-tested: random user edits against random source edits.

A note is modelled as numbered paragraphs (with block ids, like kbgen's).
Each side picks paragraphs and does one thing to each: rewrite it, delete
it, highlight a word in it, or add a paragraph after it. When the two sides
touch different paragraphs, the merged note must be exactly the base with
both sets of edits applied. When they touch the same paragraphs, every word
either side wrote must still be somewhere in the note: merged into one
paragraph when their words do not clash, else side by side with the note
flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from kbgen.vault.merge import CONFLICT_HEAD, merge_note

FRONTMATTER = "---\ntype: source\ntitle: T\nkbgen_id: src-1\n---\n"
TOUCHING = ("rewrite", "delete", "highlight")
OPS = (*TOUCHING, "insert")


def paragraph(i: int) -> str:
    return f"Base paragraph {i} about{i} topic{i} ends{i}. ^p{i}"


def user_version(i: int, op: str) -> str:
    if op == "rewrite":
        return f"Base paragraph {i} about{i} topic{i} ends{i}. USER-{i} ^p{i}"
    return paragraph(i).replace(f"about{i}", f"==about{i}==")


def source_version(i: int) -> str:
    return f"Base paragraph {i} about{i} theme{i} SRC-{i} ends{i}. ^p{i}s"


@dataclass(frozen=True)
class Case:
    n: int
    user: dict[int, str]
    source: dict[int, str]

    def base(self) -> str:
        return render([paragraph(i) for i in range(self.n)])

    def ours(self) -> str:
        return render(self._side(self.user, user=True))

    def theirs(self) -> str:
        return render(self._side(self.source, user=False))

    def _side(self, ops: dict[int, str], *, user: bool) -> list[str]:
        out = []
        for i in range(self.n):
            op = ops.get(i)
            if op != "delete":
                if op in ("rewrite", "highlight"):
                    out.append(user_version(i, op) if user else source_version(i))
                else:
                    out.append(paragraph(i))
            if op == "insert":
                out.append(
                    f"USER-NEW-{i} my own words." if user else f"SRC-NEW-{i} new text. ^n{i}"
                )
        return out

    def expected(self) -> str:
        """Both sides' edits applied; at one spot, the user's insertion first, except at the end."""
        out = []
        for i in range(self.n):
            u, s = self.user.get(i), self.source.get(i)
            if "delete" not in (u, s):
                if u in ("rewrite", "highlight"):
                    out.append(user_version(i, u))
                elif s in ("rewrite", "highlight"):
                    out.append(source_version(i))
                else:
                    out.append(paragraph(i))
            mine = [f"USER-NEW-{i} my own words."] if u == "insert" else []
            new = [f"SRC-NEW-{i} new text. ^n{i}"] if s == "insert" else []
            out += new + mine if i == self.n - 1 else mine + new
        return render(out)


def render(paragraphs: list[str]) -> str:
    return FRONTMATTER + "".join(f"\n{p}\n" for p in paragraphs)


@st.composite
def cases(draw: st.DrawFn, *, overlapping: bool) -> Case:
    n = draw(st.integers(2, 9))
    index = st.integers(0, n - 1)
    user = draw(st.dictionaries(index, st.sampled_from(OPS), max_size=n))
    source = draw(st.dictionaries(index, st.sampled_from(OPS), max_size=n))
    if overlapping:
        i = draw(index)
        user[i] = draw(st.sampled_from(TOUCHING))
        source[i] = draw(st.sampled_from(("rewrite", "delete")))
    else:
        source = {
            i: op for i, op in source.items() if not (op in TOUCHING and user.get(i) in TOUCHING)
        }
    return Case(n, user, source)


@settings(max_examples=300, deadline=None)
@given(cases(overlapping=False))
def test_edits_to_different_paragraphs_all_arrive(case: Case) -> None:
    merged = merge_note(case.base(), case.ours(), case.theirs())
    assert merged.conflicts == 0
    assert merged.text == case.expected()


@settings(max_examples=300, deadline=None)
@given(cases(overlapping=True))
def test_edits_to_the_same_paragraph_keep_both_texts(case: Case) -> None:
    merged = merge_note(case.base(), case.ours(), case.theirs())
    text = merged.text
    unquoted = text.replace("\n> ", "\n")
    for i, op in case.user.items():
        if op == "rewrite":
            assert f"ends{i}. USER-{i}" in text, f"the user's words in paragraph {i} are gone"
        elif op == "highlight":
            assert f"==about{i}==" in text, f"the user's highlight in paragraph {i} is gone"
        elif op == "insert":
            assert f"USER-NEW-{i} my own words." in text
    for i, op in case.source.items():
        if op == "rewrite":
            assert f"theme{i} SRC-{i}" in unquoted, f"the source's paragraph {i} is gone"
        elif op == "insert":
            assert f"SRC-NEW-{i} new text." in unquoted
    if merged.conflicts:
        assert CONFLICT_HEAD in text and "kbgen_conflict: true" in text


@settings(max_examples=200, deadline=None)
@given(cases(overlapping=False))
def test_merging_again_changes_nothing(case: Case) -> None:
    """Once merged, the next build (same source) leaves the note as it is."""
    merged = merge_note(case.base(), case.ours(), case.theirs()).text
    assert merge_note(case.theirs(), merged, case.theirs()).text == merged


def test_a_user_note_without_changes_from_the_source_is_returned_as_is() -> None:
    case = Case(3, {1: "rewrite"}, {})
    assert merge_note(case.base(), case.ours(), case.theirs()).text == case.ours()


@settings(max_examples=200, deadline=None)
@given(cases(overlapping=True))
def test_a_conflict_once_shown_stays_put(case: Case) -> None:
    """A note with a conflict box is stable until the user or the source changes it again."""
    merged = merge_note(case.base(), case.ours(), case.theirs()).text
    assert merge_note(case.theirs(), merged, case.theirs()).text == merged
