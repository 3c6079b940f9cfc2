"""Rendering a source note: a pure function of the article, its mentions and the names.

Linking density: the first mention of each actor or issue in a paragraph is
linked; later mentions in the same paragraph stay plain text (they are still
counted and listed in the actor's note). Headings and code are never linked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .extract import LinkedBlock
from .markdown import escape, frontmatter, neutralise_wikilinks, wikilink
from .model import Article, Note

SECTION_TITLES = {"about": "About the author", "notes": "Notes", "references": "References"}
SOURCES, ACTORS, ISSUES, AUTHORS = "Sources", "Actors", "Issues", "Authors"


@dataclass(frozen=True)
class Targets:
    """Where links go: entity key → note stem, author name → note stem."""

    entities: Mapping[str, str]
    authors: Mapping[str, str]


def linked_text(lb: LinkedBlock, targets: Targets) -> str:
    text, markup = lb.block.text, lb.block.markup
    plain = neutralise_wikilinks if markup else escape
    out: list[str] = []
    pos = 0
    seen: set[str] = set()
    for m in lb.matches:
        target = targets.entities.get(m.entity)
        if target is None or m.entity in seen:
            continue
        seen.add(m.entity)
        out.append(plain(text[pos : m.start]))
        out.append(wikilink(target, text[m.start : m.end]))
        pos = m.end
    out.append(plain(text[pos:]))
    return "".join(out)


def _fence(code: str) -> str:
    longest = max((len(r) for r in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{code}\n{fence}"


def render_block(lb: LinkedBlock, targets: Targets) -> str:
    kind, text = lb.block.kind, lb.block.text
    if kind == "heading":
        return f"## {text if lb.block.markup else escape(text)}"
    if kind == "code":
        return _fence(text)
    body = linked_text(lb, targets)
    if kind == "item":
        return f"- {body} ^{lb.block_id}"
    if kind == "quote":
        return f"> {body}\n\n^{lb.block_id}"
    return f"{body} ^{lb.block_id}"


def _ordered_links(linked: tuple[LinkedBlock, ...], targets: Targets, type_: str) -> list[str]:
    keys = [m.entity for lb in linked for m in lb.matches if m.entity.startswith(type_ + ":")]
    stems = [targets.entities[k] for k in dict.fromkeys(keys) if k in targets.entities]
    return [wikilink(s) for s in stems]


def tag(keyword: str) -> str | None:
    """A keyword as an Obsidian tag: no spaces, no `#`, not all digits."""
    t = re.sub(r"[^\w/-]+", "-", keyword.strip().lower()).strip("-/")
    t = re.sub(r"-{2,}", "-", t)
    if not t:
        return None
    return f"y{t}" if t.isdigit() else t


def render_source(
    article: Article,
    linked: tuple[LinkedBlock, ...],
    *,
    kbgen_id: str,
    stem: str,
    targets: Targets,
) -> Note:
    meta = article.meta
    tags = list(dict.fromkeys(t for t in (tag(k) for k in meta.keywords) if t))
    fields = {
        "type": "source",
        "title": meta.title,
        "authors": [wikilink(targets.authors[a]) for a in meta.authors if a in targets.authors],
        "published": meta.published,
        "publisher": meta.publisher,
        "language": meta.language,
        "url": meta.url,
        "source": article.source,
        "kbgen_id": kbgen_id,
        "actors": _ordered_links(linked, targets, "actor"),
        "issues": _ordered_links(linked, targets, "issue"),
        "tags": tags,
        "aliases": [meta.title] if meta.title and meta.title != stem else [],
    }
    parts: list[str] = []
    section = "body"
    for lb in linked:
        if lb.section != section:
            section = lb.section
            parts.append(f"## {SECTION_TITLES[section]}")
        parts.append(render_block(lb, targets))
    return Note(kbgen_id, SOURCES, stem, frontmatter(fields) + "\n" + "\n\n".join(parts) + "\n")
