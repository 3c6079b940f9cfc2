"""Fuzzing (issue 6): the reader, cleaner, metadata reader and renderer on arbitrary text.

For any bytes in any supported format: reading either gives an article or a
`SourceError` (never another exception); the rendered note's frontmatter
parses; its title is exactly the one the metadata reader found; every link
in it resolves to a note that exists; and nothing in it turns into a tag,
comment, highlight, math, script or block id that the text did not mean.
"""

from __future__ import annotations

import os
import re
import unicodedata

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile import _obsidian_reads, assert_legal_name, build_titled, outside_code
from test_index import same_tally

from kbgen.core import names
from kbgen.core.errors import SourceError
from kbgen.link.catalog import load_builtin
from kbgen.link.extract import Matcher, link_article
from kbgen.link.index import contributions, tallied
from kbgen.read.sources import SUFFIXES, is_editor_temp, is_source_name, parse
from kbgen.render.source import Targets, prepare_source, render_source

CATALOG = load_builtin()
MATCHER = Matcher(CATALOG)
STEMS = {e.key: e.name for e in CATALOG.entities}
WIKILINK = re.compile(r"(?<!\\)\[\[([^\]]*)\]\]")

PIECES = [
    "Vladimir Putin",
    "NATO",
    "Russia's",
    "Mr. Trump",
    "sanctions",
    "U.S.",
    "the Kremlin",
    "#tag",
    "[[link]]",
    "![[embed]]",
    "%%",
    "==",
    "$",
    "^id",
    "^abc123",
    "---",
    "```",
    "`code`",
    "<script>x</script>",
    "<p>",
    "</div>",
    "&amp;",
    "*",
    "_",
    "> ",
    "- ",
    "1. ",
    "# ",
    "\\",
    "title: x",
    "By Ann Weller",
    "Published: 5 March 2017",
    "Copyright 2017",
    "Share",
    "\u00a0",
    "\u200b",
    "\u202e",
    "é",
    "e\u0301",
    "🇺🇦",
    "\t",
    "\r\n",
    "\n",
    "\n\n",
    " ",
]
words = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
texts = st.lists(st.one_of(st.sampled_from(PIECES), words), max_size=60).map("".join)


def _render(name: str, data: bytes) -> None:
    try:
        article = parse(name, data)
    except SourceError as exc:
        assert exc.path == name and exc.reason
        return
    linked = link_article(article, MATCHER)
    given, rows = contributions(article, linked)
    assert same_tally(rows, tallied(given))
    authors = {a: f"Author {i}" for i, a in enumerate(article.meta.authors)}
    note = render_source(
        prepare_source(article, linked),
        kbgen_id="src-0",
        stem="Some note",
        targets=Targets(STEMS, authors),
    )
    text = note.text
    assert text.startswith("---\n")
    end = text.index("\n---\n", 3)
    fm = yaml.safe_load(text[4:end])
    assert isinstance(fm, dict)
    assert fm.get("title") == article.meta.title
    # kbgen's own links: the body's and the link properties' (a title is the source's words,
    # kept exactly, brackets and all)
    known = set(STEMS.values()) | set(authors.values())
    generated = [str(v) for key in ("authors", "actors", "issues") for v in fm.get(key) or []]
    for link in WIKILINK.findall(outside_code(text[end + 5 :]) + "\n".join(generated)):
        assert link.split("|")[0].split("#")[0] in known, link
    assert _obsidian_reads(text[end + 5 :]) == []


SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(texts)
def test_plain_text_sources(text: str) -> None:
    _render("x.txt", text.encode("utf-8"))


@SETTINGS
@given(texts, texts)
def test_markdown_sources_with_frontmatter(title: str, body: str) -> None:
    _render("x.md", f"---\ntitle: {yaml.safe_dump(title)}---\n\n{body}".encode())
    _render("y.md", body.encode("utf-8"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.lists(texts, max_size=6))
def test_html_sources(title: str, paragraphs: list[str]) -> None:
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    _render(
        "x.html", f"<html><head><title>{title}</title></head><body>{html}</body></html>".encode()
    )


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    for name in ("x.txt", "x.md", "x.html"):
        _render(name, data)


titles = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    min_size=1,
    max_size=300,
).filter(lambda t: t.strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(titles, min_size=1, max_size=4))
def test_any_titles_give_legal_distinct_notes_that_keep_the_title(
    tmp_path_factory: pytest.TempPathFactory, chosen: list[str]
) -> None:
    vault = build_titled(tmp_path_factory.mktemp("titles"), chosen)
    notes = list((vault / "Sources").glob("*.md"))
    assert len(notes) == len(chosen)
    keys = {unicodedata.normalize("NFC", p.stem).casefold() for p in notes}
    assert len(keys) == len(notes)
    for path in notes:
        assert path.resolve().parent == (vault / "Sources").resolve()
        assert_legal_name(path.name)
        text = path.read_text(encoding="utf-8")
        fm = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
        n = int(str(fm["source"])[1:-3])
        assert fm["title"] == " ".join(chosen[n].split())


ODD_TITLES = [
    *["", " ", ".", "a.", ".a", "a ", " a", "con", "CON.txt", "com1", "lpt3 x", "a  b", "x" * 181],
    *(f"a{c}b" for c in '/\\?<>:*|"[]#^%{}\t\x7f'),
]


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.sampled_from(ODD_TITLES))
def test_a_title_kept_as_it_is_is_the_one_sanitize_would_give(title: str) -> None:
    """The shortcut for plain titles gives exactly what the seven passes give."""
    assert names.sanitize.__wrapped__(title) == names._sanitized(title)


def test_every_odd_title_is_sanitized_as_the_seven_passes_do() -> None:
    """Each character the shortcut must catch, and each edge, checked every run."""
    for title in ODD_TITLES:
        assert names.sanitize.__wrapped__(title) == names._sanitized(title), repr(title)


EDITOR_NAMES = ["a.md~", ".#a.md", "#a.md#", "a.md___jb_tmp___", "a.html.part", "a.swp", "4913"]
NAME_PARTS = st.sampled_from(["a", ".", "#", "~", "md", "MD", "txt", "html", "htm", "_", "swp"])


@settings(max_examples=500)
@given(st.lists(NAME_PARTS, min_size=1, max_size=6).map("".join) | st.sampled_from(EDITOR_NAMES))
def test_the_quick_source_name_test_is_the_spelled_out_rule(name: str) -> None:
    """A suffix kbgen reads and not an editor's temp file, however the fast path tests it."""
    spelled_out = os.path.splitext(name)[1].lower() in SUFFIXES and not is_editor_temp(name)
    assert is_source_name(name) == spelled_out


WANTED = st.lists(
    st.builds(names.Wanted, st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(ODD_TITLES)),
    max_size=5,
    unique_by=lambda w: w.kbgen_id,
)


@settings(max_examples=200)
@given(st.lists(st.tuples(WANTED, st.sets(st.sampled_from(["con", "x", "A"]))), max_size=4))
def test_naming_again_with_the_same_arguments_is_naming_afresh(
    calls: list[tuple[list[names.Wanted], set[str]]],
) -> None:
    """`allocate` answers a repeated call from memory: always what naming afresh gives."""
    for wanted, user_stems in calls + calls:
        given = {"user_stems": user_stems, "fixed": {}, "previous": {"a": "a"}}
        answer = names.allocate(wanted, **given)  # type: ignore[arg-type]
        assert answer == names._allocate(wanted, **given)  # type: ignore[arg-type]
        answer.stems["a"] = "changed by the caller"  # not what the next answer says
