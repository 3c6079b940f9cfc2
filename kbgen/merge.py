"""Three-way merge of a note: base = what kbgen last rendered, ours = the file on
disk, theirs = the new rendering. Pure functions; no I/O.

The body is merged line by line with `merge3` (Breezy's diff3). Markdown
paragraphs are single lines here, so a line is a paragraph. Where merge3
reports a conflict, the two sides are looked at once more before calling it
one, because diff3 also calls edits "conflicting" when they merely touch:
- edits that touch different base lines (the user's paragraph inserted just
  before a paragraph the source changed) are both applied;
- two edits of the same paragraph are merged word by word, so a user's
  ==highlight== and a link the source added elsewhere in it both survive.
What is left is a true conflict: the user's text stays where it was and the
source's new text is shown right after it in a callout, never a silent choice.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import merge3

from . import properties

CONFLICT_HEAD = "> [!caution] kbgen: the source changed this passage too"
CONFLICT_HELP = (
    "> Your version is above, as you left it. The source's new version is below. "
    "Keep what you want, then delete this box."
)
_BLOCK_ID = re.compile(r" \^([A-Za-z0-9-]+)$")
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)

Edit = tuple[int, int, list[str]]  # replace base[start:end] with these items


@dataclass(frozen=True)
class Merged:
    text: str
    conflicts: int  # unresolved conflict boxes in the result (new or left from before)


def merge_note(base: str, ours: str, theirs: str) -> Merged:
    """Merge a whole note: frontmatter key by key, body line by line, status keys recomputed."""
    base_fm, base_body = properties.split_note(base)
    our_fm, our_body = properties.split_note(ours)
    their_fm, their_body = properties.split_note(theirs)
    body = merge_body(base_body, our_body, their_body)
    conflicts = count_conflicts(body)
    # A user who removed the whole block gets kbgen's keys back (as for one removed key).
    fm = their_fm if our_fm is None else properties.merge(base_fm, our_fm, their_fm or "")
    if fm is not None:
        fm = properties.with_status(fm, {properties.CONFLICT_KEY: conflicts > 0})
    return Merged(properties.join_note(fm, body), conflicts)


def count_conflicts(body: str) -> int:
    return sum(1 for line in body.splitlines() if line.startswith(CONFLICT_HEAD))


def merge_body(base: str, ours: str, theirs: str) -> str:
    b, o, t = _lines(base), _lines(ours), _lines(theirs)
    out: list[str] = []
    after_box = False
    for region in merge3.Merge3(b, o, t).merge_regions():
        kind, boxed = region[0], False
        if kind == "unchanged":
            lines = b[region[1] : region[2]]
        elif kind in ("same", "a"):
            lines = o[region[1] : region[2]]
        elif kind == "b":
            lines = t[region[1] : region[2]]
        else:
            assert region[0] == "conflict"
            _, z1, z2, a1, a2, b1, b2 = region
            base_r, ours_r, theirs_r = b[z1:z2], o[a1:a2], t[b1:b2]
            merged = merge_edits(
                base_r, ours_r, theirs_r, word_level=True, theirs_first_at_end=z2 == len(b)
            )
            boxed = merged is None
            lines = conflict_box(ours_r, theirs_r) if merged is None else merged
        if after_box and lines and lines[0].strip():
            out.append("\n")  # a paragraph right after a callout would be pulled into it
        out += lines
        after_box = boxed or (after_box and not lines)
    return "".join(out)


def _lines(text: str) -> list[str]:
    if text and not text.endswith("\n"):
        text += "\n"
    return text.splitlines(keepends=True)


def merge_edits(
    base: Sequence[str],
    ours: Sequence[str],
    theirs: Sequence[str],
    *,
    word_level: bool = False,
    theirs_first_at_end: bool = False,
    same_spot_ok: bool = True,
) -> list[str] | None:
    """Apply both sides' edits when no two of them change the same base item; else None.

    Two insertions at one spot are both kept, the user's first — except at
    the very end of a note, where the source's new text goes before the
    user's own closing notes.
    """
    mine, new = _edits(base, ours), _edits(base, theirs)
    if word_level:
        mine, new = _merge_same_line_edits(base, mine, new)
    if any(not _compatible(e, f, same_spot_ok) for e in mine for f in new if e != f):
        return None
    end = len(base)
    ordered = [(e, 0) for e in mine] + [(e, 1) for e in new if e not in mine]

    def order(item: tuple[Edit, int]) -> tuple[int, bool, int]:
        (start, stop, _), side = item
        flip = theirs_first_at_end and start == stop == end
        return (start, stop > start, 1 - side if flip else side)

    out: list[str] = []
    pos = 0
    for (start, stop, items), _side in sorted(ordered, key=order):
        out += base[pos:start]
        out += items
        pos = max(pos, stop)
    return out + list(base[pos:])


def _edits(base: Sequence[str], other: Sequence[str]) -> list[Edit]:
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return [
        (i1, i2, list(other[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def _compatible(e: Edit, f: Edit, same_spot_ok: bool) -> bool:
    """Edits commute when they change no common base item."""
    (a1, a2, _), (b1, b2, _) = e, f
    if a1 == a2 and b1 == b2:
        return same_spot_ok or a1 != b1
    if a1 == a2:
        return not b1 < a1 < b2
    if b1 == b2:
        return not a1 < b1 < a2
    return a2 <= b1 or b2 <= a1


def _merge_same_line_edits(
    base: Sequence[str], mine: list[Edit], new: list[Edit]
) -> tuple[list[Edit], list[Edit]]:
    """Two edits of one and the same line become one edit when a word-level merge is clean."""
    mine = [part for e in mine for part in _split_edit(base, e)]
    new = [part for e in new for part in _split_edit(base, e)]
    for e in list(mine):
        for f in list(new):
            if e == f or not (e[0] == f[0] and e[1] == f[1] == e[0] + 1):
                continue
            if len(e[2]) != 1 or len(f[2]) != 1:
                continue
            words = merge_edits(
                _tokens(base[e[0]]), _tokens(e[2][0]), _tokens(f[2][0]), same_spot_ok=False
            )
            if words is not None:
                joined: Edit = (e[0], e[1], ["".join(words)])
                mine[mine.index(e)] = joined
                new[new.index(f)] = joined
    return mine, new


def _split_edit(base: Sequence[str], e: Edit) -> list[Edit]:
    """One line replaced by several: the likeliest rewrite of it, plus lines inserted around it.

    A user who highlights a word in a paragraph and adds a paragraph of their
    own after it makes one diff hunk; split, the highlight can be merged word
    by word with the source's changes to that paragraph.
    """
    start, stop, items = e
    if stop != start + 1 or len(items) < 2:
        return [e]
    scores = [difflib.SequenceMatcher(None, base[start], line).ratio() for line in items]
    best = max(range(len(items)), key=lambda j: (scores[j], -j))
    if scores[best] < 0.5:
        return [e]
    parts = [(start, start, items[:best]), (start, stop, [items[best]])]
    parts.append((stop, stop, items[best + 1 :]))
    return [p for p in parts if p[0] != p[1] or p[2]]


def _tokens(line: str) -> list[str]:
    return _TOKEN.findall(line)


def conflict_box(ours: list[str], theirs: list[str]) -> list[str]:
    """The user's lines as they are, then the source's new lines in a callout.

    Block ids cannot sit inside a callout (OBSIDIAN.md §3), so the source's
    are stripped there and the first one goes on its own line after the box,
    where a link from an actor note still lands on the source's new text.
    """
    out = list(ours)
    if out and out[-1].strip():
        out.append("\n")
    out += [CONFLICT_HEAD + "\n", CONFLICT_HELP + "\n", ">\n"]
    ids: list[str] = []
    for line in theirs or ["*(the source removed this passage)*\n"]:
        text = line.rstrip("\n")
        found = _BLOCK_ID.search(text)
        if found:
            ids.append(found.group(1))
            text = text[: found.start()]
        out.append(f"> {text}\n" if text else ">\n")
    kept_ids = {m.group(1) for line in ours if (m := _BLOCK_ID.search(line.rstrip("\n")))}
    ids = [i for i in ids if i not in kept_ids]
    if ids:
        out += ["\n", f"^{ids[0]}\n"]
    return out
