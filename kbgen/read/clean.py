"""Layout analysis: which blocks are the article, which are page chrome.

A saved page reads: header (logos, menus, title, byline, date, captions),
body (paragraphs and headings), tail (author bio, references, notes) and
footer (share prompts, related links, cookie notices). The header ends at
its last byline or date line; the body ends at its last paragraph; anything
after that is the tail and keeps only bios, references and notes.

Rule for every decision here: a sentence of the article is never dropped.
A block is removed only when a clutter rule names it, when it is a short
line outside the body, or when it follows a "related articles" marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kbgen.core.model import Block, RawDoc, Section, SectionName
from kbgen.read import clutter, people
from kbgen.read.blocks import (
    SENTENCE_INSIDE,
    caption_blocks,
    is_byline,
    is_dateline,
    is_heading_like,
    is_prose,
    label,
    near_dateline,
    short_line,
    words,
)

HEADER_SCAN = 25  # a byline further down than this is not the page's header
_REFERENCE = re.compile(
    r"^[A-ZÀ-Ž][\w'’\-]+(?: [A-ZÀ-Ž][\w'’\-]+)?, (?:[A-Z]\.\s?)+.*\((?:19|20)\d\d[a-z]?\)"
    r"|^[A-ZÀ-Ž][\w'’\-]+, [A-ZÀ-Ž][\w'’\-]+.*\((?:19|20)\d\d[a-z]?\)\.",
)
_DANGLING = re.compile(
    r"^(retrieved from|available (at|from)|recuperado de|abgerufen von)\s*:?$", re.I
)
_FOOTNOTE = re.compile(r"^(\[\d+\]|\*+\s*\S|\d{1,2}[.)]\s+\S|[†‡§]\s*\S|\^\d)")
_DISCLAIMER = re.compile(
    r"\b(views|opinions|ideas) expressed\b|\bdo(es)? not necessarily (represent|reflect)\b"
    r"|\bopiniones expresadas\b|\bn'engagent que\b",
    re.I,
)


@dataclass(frozen=True)
class Layout:
    """The cleaned article plus the lines that state its metadata."""

    title: str | None
    meta_lines: tuple[str, ...]  # header lines with bylines and dates, in order
    author_roles: tuple[tuple[str, str], ...]  # (name line, affiliation line) pairs
    labels: tuple[tuple[str, str], ...]  # ("keywords", "US, Russia"), ("issn", ...)
    sections: tuple[Section, ...]
    dropped: tuple[tuple[str, str], ...] = ()  # (rule, text) of prose-like blocks removed


def _header_meta(blocks: tuple[Block, ...], captions: set[int]) -> list[int]:
    """Indices of header blocks that state authors or dates."""
    found: list[int] = []
    prose_seen = 0
    for i, block in enumerate(blocks[:HEADER_SCAN]):
        text = block.text
        if i in captions or clutter.clutter_rule(text):
            continue
        if is_byline(text) or is_dateline(text):
            found.append(i)
        elif (
            people.is_person_name(text)
            and i + 1 < len(blocks)
            and people.is_role_line(blocks[i + 1].text)
        ):
            found += [i, i + 1]
        elif people.is_byline_name(text) and near_dateline(blocks, i):
            found.append(i)
        elif is_prose(text) and not label(text):
            prose_seen += 1
            if prose_seen > 3:
                break
    return found


def _title(
    blocks: tuple[Block, ...], end: int, skip: set[int], name: str
) -> tuple[str | None, int]:
    """The page's headline among the blocks before `end` (its byline, or its first prose).

    The one the file's name spells ("japan-turns-to-beer-alternatives.txt", a browser's "Save
    as" of the page's title) when there is one; else the last heading-like block, which on a
    saved page sits right above the byline, below the site's menus. A headline that ends in
    "." or "?" counts when nothing but page furniture comes before it.
    """
    first = _first_content(blocks, skip)
    candidates = [
        i
        for i in range(end)
        if i not in skip
        and (is_heading_like(blocks[i].text) or (i == first and _headline_shaped(blocks[i], name)))
        and not clutter.clutter_rule(blocks[i].text)
        and not label(blocks[i].text)
    ]
    if not candidates:
        return None, -1
    named = [i for i in candidates if _spelled_by(name, blocks[i].text)]
    i = (named or candidates)[-1]
    text = blocks[i].text.strip()
    if i - 1 in candidates and blocks[i - 1].text.rstrip().endswith(":"):
        text = f"{blocks[i - 1].text.strip()} {text}"
    return re.sub(r"[\s*†‡]+$", "", text), i


def _first_content(blocks: tuple[Block, ...], skip: set[int]) -> int:
    """The first block that is neither page furniture nor a caption."""
    return next(
        (
            i
            for i, b in enumerate(blocks)
            if i not in skip
            and not clutter.clutter_rule(b.text)
            and not clutter.is_separator(b.text)
        ),
        -1,
    )


def _headline_shaped(block: Block, name: str) -> bool:
    """One short sentence opening the page, as a headline is ("Could Yukos be a blessing in
    disguise?", "Rivals of the £400 Apple..."). One that ends in a full stop reads as the
    article's first sentence too ("Police arrested a man in Leeds."): a headline only when
    the file's name spells it."""
    t = block.text.strip()
    if not short_line(t) or SENTENCE_INSIDE.search(t):
        return False
    return not t.endswith(".") or t.endswith("..") or _spelled_by(name, t)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


def _spelled_by(name: str, text: str) -> bool:
    """Whether a file's name spells this line: most of the words of each are the other's."""
    stem = re.sub(r"\.[^.]*$", "", name.rsplit("/", 1)[-1])
    ours, theirs = _tokens(stem), _tokens(text)
    if len(theirs) < 2 or len(ours) < 2:
        return False
    common = len(set(ours) & set(theirs))
    return common / max(len(set(ours)), len(set(theirs))) >= 0.75


def analyse(raw: RawDoc, name: str = "") -> Layout:
    """Split a document into title, metadata lines and cleaned sections. `name` is the
    source's file name, which often spells its headline."""
    blocks = raw.blocks
    captions = caption_blocks(blocks) if not raw.structured else set()
    meta_idx = [] if raw.structured else _header_meta(blocks, captions)
    if raw.structured:
        title, title_i, body_from = None, -1, 0
    elif meta_idx:
        title, title_i = _title(blocks, meta_idx[0], captions, name)
        body_from = meta_idx[-1] + 1
    else:
        title, title_i = _title(blocks, _first_prose(blocks, captions, name), captions, name)
        body_from = title_i + 1
    labels: list[tuple[str, str]] = []
    standfirst = [
        b
        for i, b in enumerate(blocks[title_i + 1 : body_from], title_i + 1)
        if i not in captions
        and i not in meta_idx
        and is_prose(b.text)
        and not clutter.clutter_rule(b.text)
        and not label(b.text)
    ]
    for b in blocks[:body_from]:
        found = label(b.text)
        if found:
            labels.append(found)
    body = [
        b
        for i, b in enumerate(blocks[body_from:], body_from)
        if i not in captions and not (b.kind == "heading" and _same_title(b.text, title, raw))
    ]
    sections, body_labels = _sections(standfirst + body)
    return Layout(
        title=title,
        meta_lines=tuple(blocks[i].text for i in meta_idx),
        author_roles=tuple(
            (blocks[i].text, blocks[i + 1].text)
            for i in meta_idx
            if i + 1 in meta_idx
            and people.is_person_name(blocks[i].text)
            and people.is_role_line(blocks[i + 1].text)
        ),
        labels=tuple(labels + body_labels),
        sections=sections,
        dropped=_dropped(blocks, sections, captions, body_from, {title_i, *meta_idx}),
    )


def _dropped(
    blocks: tuple[Block, ...],
    sections: tuple[Section, ...],
    captions: set[int],
    body_from: int,
    used: set[int],
) -> tuple[tuple[str, str], ...]:
    """(rule, text) of each block that reads like prose and is in no section: cleaning may
    remove a caption or a newsletter prompt, never a sentence of the article unsaid."""
    kept = {b.text for section in sections for b in section.blocks}
    out = []
    for i, b in enumerate(blocks):
        if i in used or b.text in kept or not is_prose(b.text):
            continue
        if i in captions:
            rule = "caption"
        else:
            rule = clutter.clutter_rule(b.text) or (
                "page header" if i < body_from else "page footer"
            )
        out.append((rule, b.text))
    return tuple(out)


def _first_prose(blocks: tuple[Block, ...], skip: set[int], name: str) -> int:
    """The first block of running text, but for a headline that opens the page."""
    first = _first_content(blocks, skip)
    return next(
        (
            i
            for i, b in enumerate(blocks)
            if is_prose(b.text) and not (i == first and _headline_shaped(b, name))
        ),
        len(blocks),
    )


def _same_title(text: str, title: str | None, raw: RawDoc) -> bool:
    """The page's own title repeated as the first heading of the body (h1, `# Title`)."""
    title = title or str(raw.stated.get("title") or "")
    return bool(title) and text.strip().rstrip("*").casefold() == title.strip().casefold()


def _role(block: Block, after_related: bool) -> str:
    """A block's provisional role, before we know where the body ends."""
    text = block.text
    if block.kind == "code":
        return "para"
    rule = clutter.clutter_rule(text)
    if rule:
        return "related" if rule == clutter.RELATED else "drop"
    if clutter.is_separator(text):
        return "drop"
    if label(text):
        return "label"
    if _DANGLING.match(text):
        return "drop"
    if _DISCLAIMER.search(text):
        return "notes"
    if people.bio_subject(text):
        return "bio"
    if _REFERENCE.match(text):
        return "references"
    if _FOOTNOTE.match(text) and block.kind == "para":
        return "footnote"
    if after_related and not _running_text(text):
        return "drop"
    if block.kind == "heading" or (
        # a short line of plain text is a heading; a Markdown author marks theirs
        block.kind == "para" and not block.markup and is_heading_like(text) and not is_prose(text)
    ):
        return "heading"
    return "para"


def _running_text(text: str) -> bool:
    """A paragraph of the article's own, not a related story's one-line teaser: several
    sentences, or a long one."""
    n = words(text)
    return n >= 50 or (n >= 20 and bool(SENTENCE_INSIDE.search(text)))


def _sections(blocks: list[Block]) -> tuple[tuple[Section, ...], list[tuple[str, str]]]:
    roles: list[str] = []
    after_related = False
    for block in blocks:
        role = _role(block, after_related)
        # a "Related:" list ends where running text resumes: a marker inside an article
        # ("You might also like: …" between two paragraphs) does not end the article
        after_related = role == "related" or (after_related and role != "para")
        roles.append(role)
    last_body = max(
        (
            i
            for i, r in enumerate(roles)
            if r == "para" and (is_prose(blocks[i].text) or blocks[i].kind == "code")
        ),
        default=-1,
    )
    last_body = _closing_list(blocks, roles, last_body)
    footer = _footer_start(blocks, roles, last_body)
    body: list[Block] = []
    about: list[Block] = []
    notes: list[Block] = []
    refs: list[Block] = []
    labels: list[tuple[str, str]] = []
    for i, (block, role) in enumerate(zip(blocks, roles, strict=True)):
        in_tail = i > last_body
        closing = in_tail and i < footer and role in ("para", "heading")
        if role == "label":
            labels.append(label(block.text) or ("keywords", ""))
        elif role == "bio" and (in_tail or _is_last_prose(blocks, roles, i)):
            about.extend(_bio_preamble(blocks, roles, i, last_body))
            about.append(Block("para", block.text, block.markup))
        elif role == "references" and in_tail:
            refs.append(block)
        elif role in ("footnote", "notes") and (in_tail or role == "notes"):
            notes.append(block)
        elif (in_tail and not closing) or role in ("drop", "related"):
            continue
        elif role == "heading":
            kind = "heading" if block.kind in ("para", "heading") else block.kind
            body.append(Block(kind, block.text, block.markup))
        else:
            body.append(block)
    parts: tuple[tuple[SectionName, list[Block]], ...] = (
        ("body", body),
        ("about", about),
        ("notes", notes),
        ("references", refs),
    )
    return tuple(Section(name, tuple(bs)) for name, bs in parts if bs), labels


def _footer_start(blocks: list[Block], roles: list[str], last_body: int) -> int:
    """Where the page's footer starts: at the first block after the last prose paragraph that
    a clutter rule names ("Share", "Topics", "Back to top", "Privacy policy", a separator),
    or at a list of links (items of one to three words). The lines before it close the
    article (a team line, "He declined to comment.", a results table); a page that ends
    without such a marker ends on its own text."""
    return next(
        (
            i
            for i in range(last_body + 1, len(roles))
            if roles[i] in ("drop", "related")
            or (blocks[i].kind == "item" and words(blocks[i].text) < 4)
        ),
        len(roles),
    )


def _closing_list(blocks: list[Block], roles: list[str], last_body: int) -> int:
    """Where the body ends when an article ends on a list ("In short:" and its items).

    Everything after the last prose paragraph is page footer unless shown
    otherwise; a run of two or more list items of four words or more,
    right after it (or after a lead-in ending in a colon), is the article's.
    Footer link lists ("Privacy policy", "Contact us") have shorter items.
    """
    start = last_body + 1
    if (
        start < len(blocks)
        and roles[start] in ("para", "heading")
        and blocks[start].kind != "item"
        and blocks[start].text.rstrip().endswith(":")
    ):
        start += 1
    end = start
    while (
        end < len(blocks)
        and blocks[end].kind == "item"
        and roles[end] == "para"
        and words(blocks[end].text) >= 4
    ):
        end += 1
    return end - 1 if end - start >= 2 else last_body


def _is_last_prose(blocks: list[Block], roles: list[str], i: int) -> bool:
    return not any(
        r == "para" and is_prose(b.text)
        for b, r in zip(blocks[i + 1 :], roles[i + 1 :], strict=True)
    )


def _bio_preamble(blocks: list[Block], roles: list[str], i: int, last_body: int) -> list[Block]:
    """Name and role lines right above a bio ("Senior Research fellow" / "Jane Doe")."""
    lines: list[Block] = []
    j = i - 1
    while j > last_body and roles[j] in ("heading", "para") and len(lines) < 3:
        text = blocks[j].text
        if not (people.is_person_name(text) or people.is_role_line(text)):
            break
        lines.insert(0, Block("para", text, blocks[j].markup))
        j -= 1
    return lines
