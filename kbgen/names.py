"""Note file names: legal on every OS, unique vault-wide, stable across builds.

Obsidian resolves `[[Name]]` by basename, case-insensitively, across the
whole vault (OBSIDIAN.md §1), so uniqueness is checked on the case-folded,
NFC-normalised basename, not the path. The real title always stays in the
note's `title` property.
"""

from __future__ import annotations

import re
import unicodedata

_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)
_DROP = re.compile(r"[?<>:*|\"\[\]#^%{}\x00-\x1f\x7f-\x9f]")
MAX_BYTES = 180  # leaves room for " (12).md" and a temp prefix under the 255-byte limit


def sanitize(title: str) -> str:
    """A file stem Obsidian, Windows, macOS and Linux all accept (Obsidian importer rules+)."""
    name = unicodedata.normalize("NFC", title)
    name = re.sub(r"[/\\]", "-", name)
    name = _DROP.sub("", name)
    name = re.sub(r"\s+", " ", name).strip()
    name = name.lstrip(".").strip()
    name = _truncate(name, MAX_BYTES)
    name = name.rstrip(". ")
    if _RESERVED.match(name):
        name = f"{name}_"
    return name or "Untitled"


def _truncate(name: str, limit: int) -> str:
    encoded = name.encode("utf-8")
    if len(encoded) <= limit:
        return name
    cut = encoded[:limit].decode("utf-8", "ignore")
    word_cut = cut.rsplit(" ", 1)[0]
    return (word_cut if len(word_cut) > limit // 2 else cut).rstrip()


def fold_key(stem: str) -> str:
    return unicodedata.normalize("NFC", stem).casefold()


class NameAllocator:
    """Hands out unique stems; the first claimant of a name keeps it."""

    def __init__(self, taken: set[str]) -> None:
        self._taken = {fold_key(t) for t in taken}

    def claim(self, wanted: str, suffix: str = "") -> str:
        """`wanted`, else `wanted (suffix)`, else `wanted (2)`, `(3)`... ."""
        base = sanitize(wanted)
        options = [base]
        if suffix:
            options.append(f"{base} ({suffix})")
        options += [f"{base} ({n})" for n in range(2, 10_000)]
        for option in options:
            if fold_key(option) not in self._taken:
                self._taken.add(fold_key(option))
                return option
        raise RuntimeError(f"no free note name for {wanted!r}")
