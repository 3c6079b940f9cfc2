"""Writing Markdown and YAML that Obsidian reads exactly as meant.

Plain text from a source must not turn into markup by accident: a `#word`
becomes a tag, `[[x]]` a link, `%%` a comment, `==x==` a highlight, `$x$`
math, a trailing `^abc` a block id, a leading `- ` a list. Every such
character is backslash-escaped; Obsidian shows the text unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from json.encoder import encode_basestring
from typing import Any

import yaml

from kbgen.core.names import numbered

_INLINE = re.compile(r"([\\`*_\[\]<|$^#])")
_DOUBLES = re.compile(r"(==|~~|%%)")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^(\s*)([-+>]|\d+[.)]|=+$)(?=\s|$)")


_SPECIAL = re.compile(r"[\\`*_\[\]<|$^#=~%&]")


def escape(text: str, line_start: bool = True) -> str:
    """Plain text → Markdown that renders as the same plain text.

    `line_start` False: the text follows other text on its line (a link, a bolded
    mention), so a leading "-", "1." or "=" cannot start a list or a heading there.
    """
    begins = line_start and _LINE_START.match(text) is not None
    if not begins and not _SPECIAL.search(text):
        return text  # most sentence pieces: nothing to escape, so no four substitutions
    text = _INLINE.sub(r"\\\1", text)
    text = _DOUBLES.sub(lambda m: m.group(1)[0] + "\\" + m.group(1)[1], text)
    text = _ENTITY.sub(r"\\&", text)
    return _LINE_START.sub(r"\1\\\2", text) if begins else text


def plain_text(text: str, markup: bool, line_start: bool = True) -> str:
    """A piece of a source's text as Markdown: its own Markdown neutralised, or plain text
    escaped (`escape`'s `line_start`: False for a piece that follows others on its line)."""
    return neutralise(text) if markup else escape(text, line_start)


_CODE_SPAN = re.compile(r"(`+).+?\1", re.S)
_OBSIDIAN_ONLY = re.compile(
    r"\[\[|\]\]|%%|==|\$|(?:(?<=\s)|^)#(?=[^\s#])"
    r"|<(?=/?(?:script|style|iframe|object|embed|link|meta|base|form)\b)",
    re.I,
)
_ESCAPED = {
    "[[": "\\[\\[",
    "]]": "\\]\\]",
    "%%": "%\\%",
    "==": "=\\=",
    "$": "\\$",
    "#": "\\#",
    "<": "\\<",  # a page's scripts, styles and frames are shown as text, never run
}
_TRIGGERS = re.compile(r"[\[\]%=$#<^]")
_TRAILING_ID = re.compile(r"(\s)\^([A-Za-z0-9-]+\s*)$")


def neutralise(markdown: str) -> str:
    """A Markdown source's text, with what only Obsidian reads into it shown as written.

    The author wrote CommonMark: their `[[links]]` and `![[embeds]]` point
    into a vault that is not this one, and `#word`, `%%...%%`, `==...==`,
    `$...$` and a trailing `^id` were plain text to them, not tags,
    comments, highlights, math or block ids; a saved page's `<script>`,
    `<style>` or `<iframe>` is shown, never run. Their CommonMark
    (emphasis, links, code, other inline HTML) is kept; inline code is left
    exactly as it is.
    """
    if not _TRIGGERS.search(markdown):
        return markdown  # most prose: nothing Obsidian would read differently
    out: list[str] = []
    pos = 0
    for m in _CODE_SPAN.finditer(markdown):
        out.append(_neutral(markdown[pos : m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(_neutral(markdown[pos:]))
    return _TRAILING_ID.sub(r"\1\\^\2", "".join(out))


def _neutral(text: str) -> str:
    return _OBSIDIAN_ONLY.sub(lambda m: _ESCAPED[m.group()], text)


def wikilink(target: str, shown: str | None = None) -> str:
    """`[[target|shown]]`; characters that would end the link early are replaced in `shown`."""
    if shown is None or shown == target:
        return f"[[{target}]]"
    shown = shown.replace("|", "¦").replace("[[", "[ [").replace("]]", "] ]")
    return f"[[{target}|{shown}]]"


def block_id(text: str, used: set[str], counters: dict[str, int] | None = None) -> str:
    """A block id from the paragraph's own words: stable when other paragraphs change.

    Positional ids (p1, p2...) would all shift when a paragraph is inserted,
    breaking every link into the note and every line of a three-way merge.
    """
    normal = re.sub(r"\s+", " ", text).strip().lower()
    return numbered("p" + hashlib.sha1(normal.encode("utf-8")).hexdigest()[:6], used, counters)


class _Dumper(yaml.SafeDumper):
    """Block lists, no line folding, no sorting, no aliases/anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


DATE_KEYS = frozenset(
    {"published", "updated", "first_mentioned", "last_mentioned", "first_article", "last_article"}
)


def frontmatter(fields: dict[str, Any]) -> str:
    """A YAML frontmatter block; keys in the given order, empty values left out."""
    kept = {k: v for k, v in fields.items() if v not in (None, "", [], ())}
    for key, value in kept.items():
        if isinstance(value, tuple):
            kept[key] = list(value)
        elif isinstance(value, str) and key in DATE_KEYS:
            kept[key] = _as_date(value)
    return f"---\n{_dump(kept)}---\n"


def yaml_entry(key: str, value: Any) -> str:
    """One `key: value` entry in the same style as `frontmatter` writes."""
    return _dump({key: value})


def _dump(data: dict[str, Any]) -> str:
    return "".join(_entry(key, value) for key, value in data.items())


def _entry(key: str, value: Any) -> str:
    """One entry: written directly for the values kbgen makes, by PyYAML for anything else.

    PyYAML's pure-Python emitter was a quarter of a cold build; the
    direct path is checked against `yaml.safe_load` by the fuzz tests.
    """
    if _PLAIN_KEY.fullmatch(key):
        if isinstance(value, list) and value and all(_is_scalar(v) for v in value):
            return f"{key}:\n" + "".join(f"  - {_scalar(v)}\n" for v in value)
        if _is_scalar(value):
            return f"{key}: {_scalar(value)}\n"
    return yaml.dump(
        {key: value},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
    )


_PLAIN_KEY = re.compile(r"[a-z_][a-z0-9_]*")
# A conservative subset of what YAML reads back as the same string when unquoted.
_PLAIN = re.compile(r"[^\W\d_][\w.,;:()'’‘“”–—&/+!?-]*(?: [\w.,;:()'’‘“”–—&/+!?-]+)*")
_SPECIAL_WORDS = {"yes", "no", "on", "off", "true", "false", "y", "n", "null", "nan", "inf"}
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def _is_scalar(value: Any) -> bool:
    return type(value) in (str, int, bool, dt.date)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and text.lower() not in _SPECIAL_WORDS
        and ": " not in text
        and not text.endswith(":")
    ):
        return text
    if not _UNPRINTABLE.search(text) and text.strip() == text and text:
        return "'" + text.replace("'", "''") + "'"
    # json.dumps(text, ensure_ascii=False) without making an encoder: JSON escapes are YAML's
    quoted = encode_basestring(text)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _as_date(value: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value
