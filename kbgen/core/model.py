"""Plain data passed between the stages of a build.

Every stage takes and returns these frozen values, so a stage can be tested
alone and a build is a pure function of its inputs up to the write step.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["para", "heading", "item", "quote", "code"]
SectionName = Literal["body", "about", "notes", "references"]


@dataclass(frozen=True)
class Block:
    """One paragraph-level piece of an article, in reading order.

    `markup` is True when `text` is already Markdown written by the source's
    author (a .md source) and must be kept as is; plain text gets escaped.
    """

    kind: BlockKind
    text: str
    markup: bool = False


@dataclass(frozen=True)
class RawDoc:
    """What a reader found: the blocks and the metadata the format itself states."""

    blocks: tuple[Block, ...]
    stated: dict[str, object] = field(default_factory=dict)
    structured: bool = False  # True when the reader already removed page chrome (HTML, Markdown)


@dataclass(frozen=True)
class Section:
    name: SectionName
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Metadata:
    """Only what the source states; None or empty means "not stated"."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO YYYY-MM-DD (or YYYY-MM, YYYY when that is all it says)
    updated: str | None = None  # stated only as "Updated …": a date, but not the published one
    publisher: str | None = None
    language: str | None = None
    keywords: tuple[str, ...] = ()
    url: str | None = None
    affiliations: tuple[tuple[str, str], ...] = ()  # (author, affiliation line)


@dataclass(frozen=True)
class Article:
    source: str  # path relative to the sources folder, with "/" separators
    digest: str  # sha256 of the source bytes
    meta: Metadata
    sections: tuple[Section, ...]
    dropped: tuple[tuple[str, str], ...] = ()  # (rule, text) of prose-like blocks cleaning removed


@dataclass(frozen=True)
class Entity:
    """An actor or issue: a catalog entry, or a user's note that declares one."""

    key: str  # stable identity: "actor:vladimir-putin"
    name: str
    type: Literal["actor", "issue"]
    kind: str | None
    aliases: tuple[str, ...]
    description: str | None = None
    user_note: str | None = None  # vault-relative path when the user's own note is the target


@dataclass(frozen=True)
class Match:
    """One alias occurrence in a block's text (character offsets)."""

    start: int
    end: int
    entity: str  # Entity.key


@dataclass(frozen=True)
class Note:
    """A rendered note: where it goes and its exact bytes-to-be."""

    kbgen_id: str
    folder: str  # "" for the vault root
    stem: str
    text: str

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.stem}.md" if self.folder else f"{self.stem}.md"


@dataclass(frozen=True)
class Contribution:
    """What one source gives one actor, issue or author note.

    Two contributions are equal exactly when their fields are: that is how
    a build tells whether a note must be rendered again.
    """

    note: str  # kbgen_id of the note it feeds
    mentions: int
    lines: str  # a page's mention lines, an actor's quotations, candidates' sightings, or ""
    data: bytes  # UTF-8 JSON: {"t": {key: paragraphs shared}}, or {"name", "aff"} for an author

    @property
    def values(self) -> dict[str, Any]:
        """The data parsed; not kept (a cold build holds hundreds of thousands of these)."""
        loaded: dict[str, Any] = json.loads(self.data)
        return loaded

    def digest(self) -> str:
        """A hash of every field: two contributions' digests are equal exactly when they are
        (but for a collision of a 128-bit hash). What a build keeps of the contributions it
        only compares: those of 9,500 relinked sources, old and new, took 500 MB at 10,000."""
        h = hashlib.blake2b(digest_size=16)
        for part in (self.note.encode(), str(self.mentions).encode(), self.data):
            h.update(len(part).to_bytes(8, "little") + part)
        h.update(self.lines.encode("utf-8"))
        return h.hexdigest()
