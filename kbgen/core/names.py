"""Note file names: legal on every OS, unique vault-wide, stable across builds.

Obsidian resolves `[[Name]]` by basename, case-insensitively, across the
whole vault, so uniqueness is checked on the case-folded,
NFC-normalised basename, not the path. The real title always stays in the
note's `title` property.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

# Windows device names, reserved whatever follows the first dot ("nul.txt.md" is NUL too).
_RESERVED = re.compile(r"^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(?=\.|$)", re.I)
_DROP = re.compile(r"[?<>:*|\"\[\]#^%{}\x00-\x1f\x7f-\x9f]")
_SLASHES = re.compile(r"[/\\]")
_SPACES = re.compile(r"\s+")
# In a printable ASCII title, the characters sanitize() would drop or change (most titles have
# none); it also changes double spaces and a space or dot at either end.
_CHANGED_IN_ASCII = frozenset('/\\?<>:*|"[]#^%{}')
MAX_BYTES = 180  # leaves room for " (12).md" and a temp prefix under the 255-byte limit


@functools.lru_cache(maxsize=65536)
def sanitize(title: str) -> str:
    """A file stem Obsidian, Windows, macOS and Linux all accept (Obsidian importer rules+)."""
    return title if _kept_as_is(title) else _sanitized(title)


def _sanitized(title: str) -> str:
    name = unicodedata.normalize("NFC", title)
    name = _SLASHES.sub("-", name)
    name = _DROP.sub("", name)
    name = _SPACES.sub(" ", name).strip()
    name = name.lstrip(".").strip()
    name = _truncate(name, MAX_BYTES)
    name = name.rstrip(". ")
    name = _RESERVED.sub(r"\1_", name)
    return name or "Untitled"


def _kept_as_is(title: str) -> bool:
    """A title sanitize() returns unchanged, told without its seven passes (a build names
    every note: ten thousand titles and more)."""
    return (
        0 < len(title) <= MAX_BYTES
        and title.isascii()
        and title.isprintable()
        and _CHANGED_IN_ASCII.isdisjoint(title)  # in C: half the time of one regex search
        and "  " not in title
        and title[0] not in " ."
        and title[-1] not in " ."
        and _RESERVED.match(title) is None
    )


def _truncate(name: str, limit: int) -> str:
    encoded = name.encode("utf-8")
    if len(encoded) <= limit:
        return name
    cut = encoded[:limit].decode("utf-8", "ignore")
    word_cut = cut.rsplit(" ", 1)[0]
    return (word_cut if len(word_cut) > limit // 2 else cut).rstrip()


def numbered(wanted: str, used: set[str], counters: dict[str, int] | None = None) -> str:
    """`wanted`, else `wanted-2`, `wanted-3`...: the first not in `used` (which it joins).

    `counters` remembers where each name's numbering got to, so a name asked
    for n times costs n lookups, not n² (a paragraph repeated thousands of
    times in one source).
    """
    n = counters.get(wanted, 1) if counters is not None else 1
    candidate = wanted if n == 1 else f"{wanted}-{n}"
    while candidate in used:
        n += 1
        candidate = f"{wanted}-{n}"
    used.add(candidate)
    if counters is not None:
        counters[wanted] = n + 1
    return candidate


@functools.lru_cache(maxsize=1 << 16)
def stem_of(path: str) -> str:
    """`Path(path).stem` for a "/"-separated path, without building a Path (hot in big vaults:
    every note's, each build of `kbgen watch`, hence remembered)."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def fold_key(stem: str) -> str:
    return unicodedata.normalize("NFC", stem).casefold()


class NameAllocator:
    """Hands out unique stems; the first claimant of a name keeps it."""

    def __init__(self, taken: set[str]) -> None:
        self._taken = {fold_key(t) for t in taken}

    def reserve(self, stem: str) -> None:
        """Mark a name as used exactly as it is (a note already on disk under it)."""
        self._taken.add(fold_key(stem))

    def take(self, stem: str) -> bool:
        """Reserve `stem` if no one has it; whether it was free. The name is folded once: a
        build keeps thousands of names."""
        key = fold_key(stem)
        if key in self._taken:
            return False
        self._taken.add(key)
        return True

    def claim(self, wanted: str, suffix: str = "") -> str:
        """`wanted`, else `wanted (suffix)`, else `wanted (2)`, `(3)`... ."""
        base = sanitize(wanted)
        for option in _options(base, suffix):
            key = fold_key(option)
            if key not in self._taken:
                self._taken.add(key)
                return option
        raise AssertionError("unreachable: the numbered names never run out")


def _options(base: str, suffix: str) -> Iterator[str]:
    """Names to try, best first, made one at a time (most notes take the first)."""
    yield base
    if suffix:
        yield f"{base} ({suffix})"
    yield from (f"{base} ({n})" for n in itertools.count(2))


class Wanted(NamedTuple):  # a tuple: one per note, every build
    """A note to name: its identity, the name it would like, the suffix for a clash."""

    kbgen_id: str
    name: str
    suffix: str = ""


@dataclass
class Naming:
    stems: dict[str, str] = field(default_factory=dict)  # kbgen_id → stem
    displaced: dict[str, str] = field(default_factory=dict)  # kbgen_id → the name it could not have


_last: tuple[tuple[object, ...], Naming] | None = None  # the last call, and what it gave


def allocate(
    wanted: list[Wanted],
    *,
    user_stems: set[str],
    fixed: dict[str, str],
    previous: dict[str, str],
) -> Naming:
    """`_allocate`, or what it gave last time for the same arguments: `kbgen watch` names every
    note on every build, and comparing the arguments costs a tenth of naming them again."""
    global _last
    given = (wanted, user_stems, fixed, previous)
    last = _last
    if last is None or last[0] != given:
        naming = _allocate(wanted, user_stems=user_stems, fixed=fixed, previous=previous)
        last = _last = ((list(wanted), set(user_stems), dict(fixed), dict(previous)), naming)
    return Naming(dict(last[1].stems), dict(last[1].displaced))


def _allocate(
    wanted: list[Wanted],
    *,
    user_stems: set[str],
    fixed: dict[str, str],
    previous: dict[str, str],
) -> Naming:
    """Unique stems, in order of who has the better claim to a name.

    1. the user's own notes, and kbgen's notes the user moved, renamed or
       wrote in (`fixed`: kbgen_id → stem): their names are never changed;
    2. notes that keep last build's name while it still fits their title;
    3. everything else, in the order given.
    A note that cannot have its name because a user's note holds it is
    reported in `displaced`.
    """
    alloc = NameAllocator(user_stems)
    for stem in fixed.values():
        alloc.reserve(stem)
    naming = Naming()
    user_keys = {fold_key(s) for s in user_stems}
    for w in wanted:
        if w.kbgen_id in fixed:
            naming.stems[w.kbgen_id] = fixed[w.kbgen_id]
    for w in wanted:
        prev = previous.get(w.kbgen_id)
        if w.kbgen_id in naming.stems or prev is None:
            continue
        base = sanitize(w.name)
        if (prev == base or prev.startswith(f"{base} (")) and alloc.take(prev):
            naming.stems[w.kbgen_id] = prev
    for w in wanted:
        if w.kbgen_id in naming.stems:
            continue
        stem = alloc.claim(w.name, w.suffix)
        naming.stems[w.kbgen_id] = stem
        if fold_key(sanitize(w.name)) in user_keys and stem != sanitize(w.name):
            naming.displaced[w.kbgen_id] = sanitize(w.name)
    return naming
