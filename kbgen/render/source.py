"""Rendering a source note: a pure function of the article, its mentions and the names.

Linking density: the first mention of each actor or issue in a paragraph is
linked; later mentions in the same paragraph stay plain text (they are still
counted and listed in the actor's note). Headings and code are never linked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kbgen.core.markdown import escape, frontmatter, plain_text, wikilink
from kbgen.core.model import Article, Metadata, Note
from kbgen.link.extract import LinkedBlock

SECTION_TITLES = {"about": "About the author", "notes": "Notes", "references": "References"}
SOURCES, ACTORS, ISSUES, AUTHORS = "Sources", "Actors", "Issues", "Authors"


@dataclass(frozen=True)
class Targets:
    """Where links go: entity key → note stem, author name → note stem."""

    entities: Mapping[str, str]
    authors: Mapping[str, str]


# A link whose target's note name is not known yet: NUL, entity key, NUL, shown text, NUL.
# Source text never holds a NUL (decode refuses such files as binary).
_PENDING = re.compile("\x00([^\x00]*)\x00([^\x00]*)\x00")


def _pending_link(key: str, shown: str) -> str:
    return f"\x00{key}\x00{shown}\x00"


def bind(body: str, entities: Mapping[str, str]) -> str:
    """Give a prepared body's links their targets' note names."""
    if "\x00" not in body:
        return body
    return _PENDING.sub(
        lambda m: (
            wikilink(entities[m.group(1)], m.group(2))
            if m.group(1) in entities
            else escape(m.group(2))
        ),
        body,
    )


def linked_text(lb: LinkedBlock) -> str:
    """The block's text with its first mention of each entity linked; the text after a link
    is escaped as text in mid-line."""
    text, markup = lb.block.text, lb.block.markup
    out: list[str] = []
    pos = 0
    seen: set[str] = set()
    for m in lb.matches:
        if m.entity in seen:
            continue
        seen.add(m.entity)
        out.append(plain_text(text[pos : m.start], markup, line_start=pos == 0))
        out.append(_pending_link(m.entity, text[m.start : m.end]))
        pos = m.end
    out.append(plain_text(text[pos:], markup, line_start=pos == 0))
    return "".join(out)


def _fence(code: str) -> str:
    longest = max((len(r) for r in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{code}\n{fence}"


def render_block(lb: LinkedBlock) -> str:
    kind, text = lb.block.kind, lb.block.text
    if kind == "heading":
        return f"## {plain_text(text, lb.block.markup)}"
    if kind == "code":
        return _fence(text)
    body = linked_text(lb)
    if kind == "item":
        return f"- {body} ^{lb.block_id}"
    if kind == "quote":
        return f"> {body}\n\n^{lb.block_id}"
    return f"{body} ^{lb.block_id}"


def _ordered(linked: tuple[LinkedBlock, ...], type_: str) -> tuple[str, ...]:
    keys = [m.entity for lb in linked for m in lb.matches if m.entity.startswith(type_ + ":")]
    return tuple(dict.fromkeys(keys))


def tag(keyword: str) -> str | None:
    """A keyword as an Obsidian tag: no spaces, no `#`, not all digits."""
    t = re.sub(r"[^\w/-]+", "-", keyword.strip().lower()).strip("-/")
    t = re.sub(r"-{2,}", "-", t)
    if not t:
        return None
    return f"y{t}" if t.isdigit() else t


@dataclass(frozen=True)
class Prepared:
    """A source note rendered but for the names of the notes it links (known only later).

    Preparing needs the article; binding needs only this, so a cold build
    prepares on every core and keeps no article in memory.
    """

    source: str
    digest: str
    meta: Metadata
    body: str  # with pending links (see `bind`)
    actors: tuple[str, ...]  # entity keys, in order of first mention
    issues: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...] = ()  # `Article.dropped`, for `kbgen build -v`


def prepare_source(article: Article, linked: tuple[LinkedBlock, ...]) -> Prepared:
    parts: list[str] = []
    section = "body"
    for lb in linked:
        if lb.section != section:
            section = lb.section
            parts.append(f"## {SECTION_TITLES[section]}")
        parts.append(render_block(lb))
    return Prepared(
        article.source,
        article.digest,
        article.meta,
        "\n\n".join(parts) + "\n",
        _ordered(linked, "actor"),
        _ordered(linked, "issue"),
        article.dropped,
    )


def render_source(prepared: Prepared, *, kbgen_id: str, stem: str, targets: Targets) -> Note:
    meta = prepared.meta
    tags = list(dict.fromkeys(t for t in (tag(k) for k in meta.keywords) if t))
    links = targets.entities
    fields = {
        "type": "source",
        "title": meta.title,
        "authors": [wikilink(targets.authors[a]) for a in meta.authors if a in targets.authors],
        "published": meta.published,
        "updated": meta.updated,
        "publisher": meta.publisher,
        "language": meta.language,
        "url": meta.url,
        "source": prepared.source,
        "kbgen_id": kbgen_id,
        "actors": [wikilink(links[k]) for k in prepared.actors if k in links],
        "issues": [wikilink(links[k]) for k in prepared.issues if k in links],
        "tags": tags,
        "aliases": [meta.title] if meta.title and meta.title != stem else [],
    }
    body = bind(prepared.body, links)
    return Note(kbgen_id, SOURCES, stem, frontmatter(fields) + "\n" + body)
