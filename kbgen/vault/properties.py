"""Frontmatter as text: split a note, cut its YAML into one chunk per key, merge key by key.

Users' frontmatter must come back byte for byte — their key order, quoting,
comments and list style — so it is never loaded and dumped as a whole. Each
top-level key's lines stay a verbatim chunk; YAML is only parsed to compare
values. A chunk kbgen must change is the only text it re-serialises.

The merge rules (docs/architecture.md, "Merging a note"):
- a key the user added is kept as they wrote it;
- a key kbgen owns takes kbgen's new value only while the user left it alone;
  a value the user changed stays theirs, and a key they removed comes back
  (so a wrong value is corrected by editing it, not by deleting it);
- list values (`tags`, `aliases`, `actors`…) merge as sets: the user's
  additions and removals and kbgen's additions and removals all apply;
- status keys (`kbgen_status`, `kbgen_conflict`) are kbgen's verdict on the
  note as it now is, recomputed after every merge, never merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kbgen.core import yamlio
from kbgen.core.markdown import yaml_entry

STATUS_KEY = "kbgen_status"
CONFLICT_KEY = "kbgen_conflict"
COMPUTED_KEYS = frozenset({STATUS_KEY, CONFLICT_KEY})
FORCED_KEYS = frozenset({"kbgen_id"})  # identity: the user's copy never overrides it

_KEY_LINE = re.compile(r"""^(?:"[^"\n]*"|'[^'\n]*'|[^\s#\-'"][^\n]*?)\s*:(?:[ \t]|$)""")


@dataclass(frozen=True)
class Chunk:
    key: str | None  # None for comments before the first key
    text: str  # the chunk's lines, each ending in "\n"
    value: Any = None


def split_note(text: str) -> tuple[str | None, str]:
    """(frontmatter YAML without its fences, body). None when the note has no frontmatter."""
    if not text.startswith("---\n") and not text.startswith("---\r\n"):
        return None, text
    lines = text.splitlines(keepends=True)
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n") == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    return None, text  # an unclosed fence is not frontmatter (Obsidian agrees)


def join_note(fm: str | None, body: str) -> str:
    if fm is None:
        return body
    return f"---\n{fm}---\n{body}"


def chunks(fm: str) -> list[Chunk] | None:
    """One chunk per top-level key, or None when the YAML is not a plain mapping."""
    groups: list[list[str]] = [[]]
    for line in fm.splitlines(keepends=True):
        if _KEY_LINE.match(line) and groups[-1] and _has_key(groups[-1]):
            groups.append([])
        groups[-1].append(line if line.endswith("\n") else line + "\n")
    out = []
    for lines in groups:
        if not lines:
            continue
        text = "".join(lines)
        try:
            data = yamlio.load(text)
        except yamlio.YAMLError:
            return None
        if data is None and not _has_key(lines):
            out.append(Chunk(None, text))
        elif isinstance(data, dict) and len(data) == 1:
            key, value = next(iter(data.items()))
            out.append(Chunk(str(key), text, value))
        else:
            return None
    return out


def _has_key(lines: list[str]) -> bool:
    return any(_KEY_LINE.match(line) for line in lines)


def values(fm: str | None) -> dict[str, Any] | None:
    """Parsed values without the status keys; None when unparseable."""
    if fm is None:
        return {}
    parts = chunks(fm)
    if parts is None:
        return None
    return {c.key: c.value for c in parts if c.key is not None and c.key not in COMPUTED_KEYS}


def merge(base: str | None, ours: str, theirs: str) -> str:
    """Key-by-key three-way merge of frontmatter texts (rules in the module docstring).

    An unparseable `ours` is returned unchanged: the user's text wins over
    any attempt to repair it.
    """
    mine = chunks(ours)
    new = chunks(theirs) or []
    if mine is None:
        return ours
    old = {c.key: c for c in (chunks(base or "") or []) if c.key is not None}
    fresh = {c.key: c for c in new if c.key is not None}
    out: list[Chunk] = []
    for chunk in mine:
        if chunk.key in COMPUTED_KEYS:
            continue
        key = chunk.key or ""
        merged = _merge_key(chunk, old.get(key), fresh.get(key))
        if merged is not None:
            out.append(merged)
    present = {c.key for c in out}
    for i, chunk in enumerate(new):
        if chunk.key is None or chunk.key in present:
            continue
        out.insert(_insert_at(out, [c.key for c in new[:i]]), chunk)
        present.add(chunk.key)
    return "".join(c.text for c in out)


def _merge_key(mine: Chunk, old: Chunk | None, fresh: Chunk | None) -> Chunk | None:
    if mine.key is None:
        return mine
    if fresh is None:
        untouched = old is not None and _same(mine.value, old.value)
        return None if untouched else mine  # kbgen dropped it; a user's value stays
    if mine.key in FORCED_KEYS:
        return fresh
    if isinstance(mine.value, list) and isinstance(fresh.value, list):
        before = old.value if old is not None and isinstance(old.value, list) else []
        union = merge_sets(before, mine.value, fresh.value)
        return mine if union == mine.value else Chunk(mine.key, yaml_entry(mine.key, union), union)
    if old is not None and _same(mine.value, old.value) and not _same(fresh.value, old.value):
        return fresh
    return mine


def merge_sets(base: list[Any], ours: list[Any], theirs: list[Any]) -> list[Any]:
    """Ours in its order, minus what kbgen removed, plus what kbgen added (in its order)."""
    removed_by_kbgen = [x for x in base if x not in theirs]
    kept = [x for x in ours if x not in removed_by_kbgen]
    added = [x for x in theirs if x not in base and x not in kept]
    return kept + added


def _insert_at(out: list[Chunk], keys_before: list[str | None]) -> int:
    """After the last chunk whose key comes before the new one in kbgen's order."""
    wanted = set(keys_before)
    for i in range(len(out) - 1, -1, -1):
        if out[i].key in wanted:
            return i + 1
    return 1 if out and out[0].key is None else 0


def _same(a: Any, b: Any) -> bool:
    return bool(a == b and type(a) is type(b)) or (a in (None, "") and b in (None, ""))


def with_status(fm: str, status: dict[str, Any]) -> str:
    """Set or clear the status keys; everything else stays byte for byte."""
    parts = chunks(fm)
    if parts is None:
        return fm
    kept = [c for c in parts if c.key not in COMPUTED_KEYS]
    extra = [Chunk(k, yaml_entry(k, v), v) for k, v in status.items() if v]
    at = next((i + 1 for i, c in enumerate(kept) if c.key == "kbgen_id"), len(kept))
    return "".join(c.text for c in kept[:at] + extra + kept[at:])
