"""Readers: one per file extension, each turning decoded text into a RawDoc.

A reader finds structure (paragraphs, headings, list items) and the metadata
the *format* states (Markdown frontmatter, HTML meta tags). It does not judge
what is clutter; that is `clean`'s job, because the same clutter turns up in
text saved from any format.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any

from kbgen.core import yamlio
from kbgen.core.model import Block, BlockKind, RawDoc

_BULLET = re.compile(r"^\s*(?:[•·▪‣◦●○■□►➢]|[-*+](?=\s))\s*")
_TERMINAL = re.compile(r"[.!?:;\"”’)\]…]$")


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")


def _is_hard_wrapped(lines: list[str]) -> bool:
    """True for text wrapped at a fixed width (PDF or e-mail exports).

    Such files break every paragraph into lines of similar length; files
    saved from a browser put a whole paragraph on one line.
    """
    lengths = sorted(len(line) for line in lines if line.strip())
    if len(lengths) < 5:
        return False
    p90 = lengths[int(len(lengths) * 0.9)]
    long_lines = [line.rstrip() for line in lines if len(line.strip()) >= 50]
    unterminated = sum(1 for line in long_lines if not _TERMINAL.search(line))
    return p90 <= 110 and len(long_lines) >= 5 and unterminated * 2 > len(long_lines)


def _block(line_or_para: str) -> Block:
    text = line_or_para.strip()
    bullet = _BULLET.match(text)
    if bullet and len(text) > bullet.end():
        return Block("item", text[bullet.end() :].strip())
    return Block("para", re.sub(r"\s+", " ", text))


def _join_wrapped(lines: list[str]) -> list[str]:
    """Join the lines of one wrapped paragraph; a bullet starts a new item."""
    paras: list[str] = []
    for line in lines:
        if paras and not _BULLET.match(line):
            prev = paras[-1]
            joiner = "" if prev.endswith("-") and not prev.endswith(" -") else " "
            paras[-1] = prev + joiner + line.strip()
        else:
            paras.append(line.strip())
    return paras


def _merge_page_breaks(blocks: list[Block]) -> list[Block]:
    """Rejoin a paragraph that a page break split ("...and Lebanese" / "Hezbollah on...")."""
    out: list[Block] = []
    for block in blocks:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.kind == "para"
            and block.kind == "para"
            and len(prev.text) >= 60
            and len(block.text) >= 60
            and not _TERMINAL.search(prev.text)
        ):
            out[-1] = Block("para", f"{prev.text} {block.text}")
        else:
            out.append(block)
    return out


def read_text(text: str) -> RawDoc:
    """Plain text saved from a web page or a PDF: blank lines separate blocks."""
    lines = [line.rstrip() for line in _normalise_newlines(text).split("\n")]
    wrapped = _is_hard_wrapped(lines)
    groups: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            groups[-1].append(line)
        elif groups[-1]:
            groups.append([])
    blocks: list[Block] = []
    for group in groups:
        pieces = _join_wrapped(group) if wrapped else group
        blocks.extend(_block(p) for p in pieces if p.strip())
    if wrapped:
        blocks = _merge_page_breaks(blocks)
    return RawDoc(tuple(blocks))


# --- Markdown -----------------------------------------------------------------

_MD_KEYS = {
    "title": ("title", "headline", "name"),
    "authors": ("authors", "author", "creator", "creators", "by", "byline"),
    "published": ("published", "date", "pubdate", "published_at", "publish_date", "created"),
    "publisher": ("publisher", "site", "site_name", "outlet", "publication", "journal"),
    "language": ("language", "lang", "locale"),
    "keywords": ("tags", "keywords", "categories", "subjects"),
    "url": ("url", "source", "link", "canonical", "original_url"),
}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [part.strip() for part in re.split(r"[;,]", str(value)) if part.strip()]


def _frontmatter_meta(fm: dict[str, Any]) -> dict[str, object]:
    lowered = {str(k).lower(): v for k, v in fm.items()}
    stated: dict[str, object] = {}
    for field, keys in _MD_KEYS.items():
        value = next((lowered[k] for k in keys if lowered.get(k) not in (None, "", [])), None)
        if value is None:
            continue
        if field in ("authors", "keywords"):
            stated[field] = _as_list(value)
        elif isinstance(value, dt.datetime | dt.date):
            stated[field] = value.strftime("%Y-%m-%d")
        else:
            stated[field] = str(value).strip()
    return stated


@functools.cache
def _markdown_parser() -> Any:
    """CommonMark block structure only: inline parsing is skipped, kbgen keeps the raw text."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").disable(["inline", "text_join"], ignoreInvalid=True)


def _md_blocks(body: str) -> list[Block]:
    lines = body.split("\n")
    tokens = _markdown_parser().parse(body)
    blocks: list[Block] = []
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.nesting == -1:
            depth -= 1
            continue
        top = depth == 0
        if tok.nesting == 1:
            depth += 1
        if tok.type == "heading_open" and top:
            blocks.append(Block("heading", tokens[i + 1].content.strip(), markup=True))
        elif tok.type == "paragraph_open" and top and tok.map:
            text = " ".join(line.strip() for line in lines[tok.map[0] : tok.map[1]])
            blocks.append(Block("para", text, markup=True))
        elif tok.type == "list_item_open" and tok.map and _is_top_item(tokens, i):
            text = _first_inline(tokens, i)
            if text:
                blocks.append(Block("item", text, markup=True))
        elif tok.type == "blockquote_open" and top and tok.map:
            quoted = [re.sub(r"^\s*>\s?", "", ln) for ln in lines[tok.map[0] : tok.map[1]]]
            blocks.append(Block("quote", " ".join(q.strip() for q in quoted if q.strip()), True))
        elif tok.type in ("fence", "code_block") and top:
            blocks.append(Block("code", tok.content.rstrip("\n"), markup=True))
    return blocks


def _is_top_item(tokens: list[Any], index: int) -> bool:
    """A list item directly inside a top-level list (nested items stay in their parent)."""
    return int(tokens[index].level) == 1


def _first_inline(tokens: list[Any], index: int) -> str:
    for tok in tokens[index + 1 :]:
        if tok.type == "inline":
            return str(tok.content).replace("\n", " ").strip()
        if tok.type == "list_item_close":
            break
    return ""


@functools.cache
def _fast_yaml() -> Any:
    """python-frontmatter's YAML handler, reading with libyaml (see yamlio)."""
    from frontmatter.default_handlers import YAMLHandler

    class FastYAMLHandler(YAMLHandler):
        def load(self, fm: str, **kwargs: object) -> Any:
            return yamlio.load(fm)

    return FastYAMLHandler()


def read_markdown(text: str) -> RawDoc:
    """Markdown: its frontmatter is the author's own statement of metadata."""
    import frontmatter
    import yaml
    from frontmatter.default_handlers import YAMLHandler

    text = _normalise_newlines(text)
    handler = frontmatter.detect_format(text, frontmatter.handlers)
    if type(handler) is YAMLHandler:
        handler = _fast_yaml()
    try:
        post = frontmatter.loads(text, handler=handler)
        fm, body = dict(post.metadata), post.content
    except yaml.YAMLError as exc:
        raise ValueError(f"frontmatter is not valid YAML ({exc.__class__.__name__})") from exc
    return RawDoc(tuple(_md_blocks(body)), _frontmatter_meta(fm), structured=bool(fm))


# --- HTML ------------------------------------------------------------------------

_XML_KINDS: dict[str, BlockKind] = {
    "p": "para",
    "head": "heading",
    "quote": "quote",
    "code": "code",
}


def _xml_blocks(xml: str) -> list[Block]:
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    blocks: list[Block] = []
    for el in main.iter() if main is not None else ():
        text = re.sub(r"\s+", " ", "".join(el.itertext())).strip()
        if not text:
            continue
        if el.tag == "item" and el.getparent() is not None and el.getparent().tag == "list":
            blocks.append(Block("item", text))
        elif el.tag in _XML_KINDS and (el.getparent() is None or el.getparent().tag == "main"):
            blocks.append(Block(_XML_KINDS[el.tag], text))
    return blocks


def _html_lang(html: str) -> str | None:
    found = re.search(r"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", html[:5000], re.I)
    return found.group(1).lower() if found else None


def read_html(text: str) -> RawDoc:
    """A saved article page: main text and metadata through trafilatura.

    Dates come only from the page's own markup (meta tags, structured data,
    time elements): `extensive_search` off, so no date is guessed from text.
    """
    import trafilatura

    params = {"extensive_search": False, "original_date": True}
    xml = trafilatura.extract(
        text,
        output_format="xml",
        include_comments=False,
        include_tables=False,
        favor_recall=True,
        date_extraction_params=params,
        with_metadata=False,
    )
    doc = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        date_extraction_params=params,
    )
    blocks = _xml_blocks(xml) if xml else []
    meta: dict[str, Any] = {}
    if doc is not None:
        get: Callable[[str], Any] = (
            doc.get if isinstance(doc, dict) else lambda k: getattr(doc, k, None)
        )
        meta = {
            "title": get("title"),
            "authors": [a.strip() for a in re.split(r";", get("author") or "") if a.strip()],
            "published": get("date"),
            "publisher": get("sitename"),
            "url": get("url"),
            "keywords": _as_list(get("tags")),
        }
    meta["language"] = _html_lang(text)
    stated = {k: v for k, v in meta.items() if v not in (None, "", [])}
    return RawDoc(tuple(blocks), stated, structured=True)


READERS: dict[str, Callable[[str], RawDoc]] = {
    ".txt": read_text,
    ".text": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
}
