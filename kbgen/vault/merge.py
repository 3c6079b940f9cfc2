"""Three-way merge of a note: base = what kbgen last rendered, ours = the file on
disk, theirs = the new rendering. Pure functions; no I/O.

The body is merged block by block with `merge3` (Breezy's diff3), a block
being a paragraph, list or heading with the blank lines before it — so a
paragraph the user adds is one inserted block, whatever the blank lines.
Where merge3 reports a conflict, the two sides are looked at once more,
because diff3 also calls edits "conflicting" when they merely touch:
- edits of different blocks (the user's paragraph inserted right before a
  paragraph the source changed) are both applied;
- two edits of one block are merged line by line (a list of mentions), and
  two edits of one line word by word — so a user's ==highlight== and a link
  the source added elsewhere in the same paragraph both survive.
What is left is a true conflict: the user's text stays where it was and the
source's new text is shown right after it in a callout, never a silent choice.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import merge3

from kbgen.core.names import fold_key
from kbgen.vault import properties

CONFLICT_HEAD = "> [!caution] kbgen: the source changed this passage too"
CONFLICT_HELP = (
    "> Your version is above, as you left it. The source's new version is below. "
    "Keep what you want, then delete this box."
)
_BLOCK_ID = re.compile(r" \^([A-Za-z0-9-]+)$")
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
_NO_ID = "*(the source removed this passage)*"
_ANCHOR = re.compile(r"\^[A-Za-z0-9-]+")

Edit = tuple[int, int, list[str]]  # replace base[start:end] with these items
BLOCK, LINE, WORD = 0, 1, 2
_MAX_PAIRINGS = 400  # a hunk bigger than 20 x 20 items is left whole (and may conflict)


@dataclass(frozen=True)
class Merged:
    text: str
    conflicts: int  # unresolved conflict boxes in the result (new or left from before)


def merge_note(base: str, ours: str, theirs: str) -> Merged:
    """Merge a whole note: frontmatter key by key, then the body, then the status keys."""
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


def common_base(ours: str, theirs: str) -> str:
    """A merge base for a note whose last rendering is lost (`.kbgen/` deleted): the
    rendering's properties, and the blocks the note and the rendering share, in order.

    Merged against it, a block only the note has is the user's (kept), a block only the
    rendering has is the source's (added): a paragraph the source gained meanwhile is never
    read as one the user deleted. A block both changed differently is shown in a box."""
    their_fm, their_body = properties.split_note(theirs)
    _, our_body = properties.split_note(ours)
    o, t = blocks(our_body), blocks(their_body)
    matcher = _Matcher(None, [_sans_ids(b) for b in o], [_sans_ids(b) for b in t])
    shared = [b for _, j, n in matcher.get_matching_blocks() for b in t[j : j + n]]
    return properties.join_note(their_fm, "".join(shared))


def _sans_ids(block: str) -> str:
    """A block's text without its block ids and blank lines: a paragraph the user split or
    moved an id from is still the rendering's paragraph."""
    return "\n".join(_BLOCK_ID.sub("", line) for line in block.strip().splitlines())


_WIKILINK = re.compile(r"\[\[([^\]|#\n]+)(#[^\]|\n]*)?(?:\|([^\]\n]*))?\]\]")


def rename_links(text: str, renames: Mapping[str, str]) -> str:
    """The note as Obsidian leaves it when notes are renamed (old name → new) with its
    "Automatically update internal links": `[[Old]]` → `[[New]]`, `[[Old#^id|↗]]` →
    `[[New#^id|↗]]`, and `[[Old|Old]]` → `[[New|New]]` (display text equal to the name is
    renamed too, since Obsidian 1.2.1). Links in the properties as well."""
    folded = {fold_key(old): new for old, new in renames.items()}

    def renamed(m: re.Match[str]) -> str:
        target, sub, shown = m.group(1), m.group(2) or "", m.group(3)
        new = folded.get(fold_key(target))
        if new is None:
            return m.group(0)
        if shown is None:
            return f"[[{new}{sub}]]"
        return f"[[{new}{sub}|{new if shown == target else shown}]]"

    return _WIKILINK.sub(renamed, text)


def count_conflicts(body: str) -> int:
    return sum(1 for line in body.splitlines() if line.startswith(CONFLICT_HEAD))


def merge_body(base: str, ours: str, theirs: str) -> str:
    b, o, t = blocks(base), blocks(ours), blocks(theirs)
    out: list[str] = []
    # merge3's protocol wants plain tuples where difflib returns Match tuples: same thing.
    matcher: Any = _Matcher
    for region in merge3.Merge3(b, o, t, sequence_matcher=matcher).merge_regions():
        if region[0] == "unchanged":
            out += b[region[1] : region[2]]
        elif region[0] in ("same", "a"):
            out += o[region[1] : region[2]]
        elif region[0] == "b":
            out += t[region[1] : region[2]]
        else:
            assert region[0] == "conflict"
            _, z1, z2, a1, a2, b1, b2 = region
            merged = merge_items(b[z1:z2], o[a1:a2], t[b1:b2], BLOCK, at_end=z2 == len(b))
            if merged is None:
                merged = [conflict_box(_without_stale_boxes(o[a1:a2], b), t[b1:b2])]
            out += merged
    return "".join(out)


def _without_stale_boxes(ours: Sequence[str], base: Sequence[str]) -> list[str]:
    """The user's blocks less the conflict boxes kbgen wrote that are still as it wrote them
    (what they quote is what it last rendered: the base), and the block id it put after each:
    a passage in conflict gets one box, the source's latest version, not one more a build.
    A box the user wrote in is the user's text, and stays."""
    rendered = "\n" + "\n".join(_BLOCK_ID.sub("", line) for line in "".join(base).splitlines())
    out: list[str] = []
    dropped = False
    for block in ours:
        if dropped and _ANCHOR.fullmatch(block.strip()):
            dropped = False
            continue  # the block id kbgen put after the box it is dropping
        quoted = _quoted(block)
        dropped = quoted is not None and (quoted == _NO_ID or f"\n{quoted}\n" in f"{rendered}\n")
        if not dropped:
            out.append(block)
    return out


def _quoted(block: str) -> str | None:
    """The text a conflict box of kbgen's quotes (None if the block is no such box)."""
    lines = block.strip("\n").split("\n")
    if lines[:3] != [CONFLICT_HEAD, CONFLICT_HELP, ">"] or len(lines) < 4:
        return None
    if not all(line == ">" or line.startswith("> ") for line in lines[3:]):
        return None
    return "\n".join(line[2:] for line in lines[3:])


class _Matcher(difflib.SequenceMatcher[str]):
    """No "popular item" heuristic: in a long note it would hide repeated blocks from the diff."""

    def __init__(
        self,
        isjunk: Callable[[str], bool] | None = None,
        a: Sequence[str] = "",
        b: Sequence[str] = "",
        autojunk: bool = False,
    ) -> None:
        super().__init__(isjunk, a, b, autojunk=False)


def blocks(text: str) -> list[str]:
    """Paragraph-sized pieces, each with the blank lines before it; joined they give `text`."""
    if text and not text.endswith("\n"):
        text += "\n"
    out: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if not line.strip() and any(x.strip() for x in current):
            out.append("".join(current))
            current = []
        current.append(line)
    if current:
        out.append("".join(current))
    return out


def _parts(item: str, level: int) -> list[str]:
    """One level down: a block's lines, a line's words."""
    if level == BLOCK:
        return item.splitlines(keepends=True)
    return _TOKEN.findall(item)


def merge_items(
    base: Sequence[str],
    ours: Sequence[str],
    theirs: Sequence[str],
    level: int,
    *,
    at_end: bool = False,
) -> list[str] | None:
    """Apply both sides' edits when none of them change the same base item; else None.

    Two edits of one item are merged one level down (a block's lines, a
    line's words). Two insertions at one spot are both kept, the user's
    first — except at the very end of a note, where the source's new text
    goes before the user's closing notes; between words, they conflict.
    """
    mine, new = _edits(base, ours), _edits(base, theirs)
    if level < WORD:
        mine = [part for e in mine for part in _split_edit(base, e)]
        new = [part for e in new for part in _split_edit(base, e)]
        mine, new = _merge_same_item_edits(base, mine, new, level)
    if any(not _compatible(e, f, level) for e in mine for f in new if e != f):
        return None
    end = len(base)
    ordered = [(e, 0) for e in mine] + [(e, 1) for e in new if e not in mine]

    def order(item: tuple[Edit, int]) -> tuple[int, bool, int]:
        (start, stop, _), side = item
        flip = at_end and start == stop == end
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


def _compatible(e: Edit, f: Edit, level: int) -> bool:
    """Edits commute when they change no common base item."""
    (a1, a2, _), (b1, b2, _) = e, f
    if a1 == a2 and b1 == b2:
        return level != WORD or a1 != b1
    if a1 == a2:
        return not b1 < a1 < b2
    if b1 == b2:
        return not a1 < b1 < a2
    return a2 <= b1 or b2 <= a1


def _split_edit(base: Sequence[str], e: Edit) -> list[Edit]:
    """A hunk rewriting several items, cut into one edit per item where the rewrite is recognisable.

    difflib reports "paragraphs 3-4 became these two paragraphs" as one
    hunk; the source inserting a paragraph between 3 and 4 would then clash
    with it. Pairing each old item with its likeliest rewrite (in order, the
    pairing with the highest total likeness) turns the hunk into per-item
    edits that touch no more than they must.
    """
    start, stop, items = e
    old = list(base[start:stop])
    if not old or len(old) * len(items) > _MAX_PAIRINGS:
        return [e]
    parts: list[Edit] = []
    j0 = k0 = 0
    for j, k in [*_pair(old, items), (len(old), len(items))]:
        if k > k0:  # new items go where the unmatched old ones began
            parts.append((start + j0, start + j0, items[k0:k]))
        parts += [(start + i, start + i + 1, []) for i in range(j0, j)]
        if j < len(old) and items[k] != old[j]:
            parts.append((start + j, start + j + 1, [items[k]]))
        j0, k0 = j + 1, k + 1
    return parts


def _pair(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Index pairs (old, new), both increasing, of at least half-alike items, most alike in total."""
    n, m = len(old), len(new)
    like = [[difflib.SequenceMatcher(None, a, b).ratio() for b in new] for a in old]
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for j in range(n - 1, -1, -1):
        for k in range(m - 1, -1, -1):
            best = max(score[j + 1][k], score[j][k + 1])
            if like[j][k] >= 0.5:
                best = max(best, like[j][k] + score[j + 1][k + 1])
            score[j][k] = best
    pairs = []
    j = k = 0
    while j < n and k < m:
        if like[j][k] >= 0.5 and score[j][k] == like[j][k] + score[j + 1][k + 1]:
            pairs.append((j, k))
            j, k = j + 1, k + 1
        elif score[j][k] == score[j + 1][k]:
            j += 1
        else:
            k += 1
    return pairs


def _merge_same_item_edits(
    base: Sequence[str], mine: list[Edit], new: list[Edit], level: int
) -> tuple[list[Edit], list[Edit]]:
    """Two different rewrites of one item become one edit when merging its parts is clean."""
    for e in list(mine):
        for f in list(new):
            one_item = e[0] == f[0] and e[1] == f[1] == e[0] + 1
            if e == f or not one_item or len(e[2]) != 1 or len(f[2]) != 1:
                continue
            parts = merge_items(
                _parts(base[e[0]], level), _parts(e[2][0], level), _parts(f[2][0], level), level + 1
            )
            if parts is not None:
                joined: Edit = (e[0], e[1], ["".join(parts)])
                mine[mine.index(e)] = joined
                new[new.index(f)] = joined
    return mine, new


def conflict_box(ours: Sequence[str], theirs: Sequence[str]) -> str:
    """The user's blocks as they are, then the source's new text in a callout.

    A block id inside a callout does not mark a block Obsidian can link to, so the source's
    are taken out there and the first new one goes on its own line after the
    box, where a link from an actor note still lands on the source's text.
    """
    mine = "".join(ours)
    lines = "".join(theirs).strip("\n").splitlines() or [_NO_ID]
    kept_ids = {m.group(1) for line in mine.splitlines() if (m := _BLOCK_ID.search(line))}
    out = [mine.rstrip("\n") + "\n" if mine.strip() else mine, "\n"]
    out += [CONFLICT_HEAD + "\n", CONFLICT_HELP + "\n", ">\n"]
    ids: list[str] = []
    for line in lines:
        found = _BLOCK_ID.search(line)
        if found:
            ids.append(found.group(1))
            line = line[: found.start()]
        out.append(f"> {line}\n" if line else ">\n")
    new_ids = [i for i in ids if i not in kept_ids]
    if new_ids:
        out += ["\n", f"^{new_ids[0]}\n"]
    return "".join(out)
