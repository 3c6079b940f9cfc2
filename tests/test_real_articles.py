"""Real articles no rule of kbgen was written for: every sentence reaches the note.

`fixtures/bbc/` holds ten BBC News articles (see its NOTICE): the headline on the first line,
then nothing but article text. They were picked for what they once lost: an article about the
agency Reuters rejected outright, team lines and result lists at the end, headlines ending in
"?" or "...", a standfirst taken for the headline, a match preview's venue and kick-off lines.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, SEEDS, frontmatter_of, run_build

from kbgen import cli
from kbgen.read.sources import parse

BBC = FIXTURES / "bbc"


def _norm(text: str) -> str:
    """Note text as a reader sees it: links and block ids and escapes gone."""
    text = re.sub(r"\[\[[^\]|]*\|([^\]]*)\]\]", r"\1", text)
    text = re.sub(r"\[\[([^\]#|]*)\]\]", r"\1", text)
    text = re.sub(r"\s\^p[0-9a-f]{6}(?:-\d+)?\b", " ", text)
    text = text.replace("**", "").replace("\\", "")
    return " ".join(text.split())


def _sentences(path: Path) -> list[str]:
    paragraphs = re.split(r"\n\s*\n", path.read_text(encoding="utf-8").split("\n", 1)[1])
    return [
        s
        for p in paragraphs
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", " ".join(p.split()))
        if len(s) > 20
    ]


def _notes_by_source(vault: Path) -> dict[str, tuple[dict[str, object], str]]:
    out = {}
    for note in (vault / "Sources").glob("*.md"):
        text = note.read_text(encoding="utf-8")
        fields = frontmatter_of(note)
        out[str(fields["source"])] = (fields, _norm(text[text.index("\n---\n", 4) + 5 :]))
    return out


def test_every_sentence_of_the_real_articles_reaches_its_note(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(BBC, sources)
    report = run_build(sources, tmp_path / "vault")
    assert report.errors == []
    notes = _notes_by_source(tmp_path / "vault")
    originals = sorted(BBC.rglob("*.txt"))
    assert len(notes) == len(originals) == 10
    for path in originals:
        fields, body = notes[path.relative_to(BBC).as_posix()]
        assert fields["title"] == path.read_text(encoding="utf-8").split("\n", 1)[0].strip()
        lost = [s for s in _sentences(path) if _norm(s) not in body]
        assert lost == [], path.name


def test_an_article_about_reuters_is_article_text() -> None:
    path = BBC / "business" / "weak-dollar-hits-reuters.txt"
    article = parse(path.name, path.read_bytes())
    body = " ".join(b.text for s in article.sections for b in s.blocks)
    assert body.count("Reuters") == 4  # every one of the source's, none of them a caption


def test_team_lines_and_result_lists_at_the_end_are_kept() -> None:
    path = BBC / "sport" / "chelsea-hold-arsenal.txt"
    body = [b.text for s in parse(path.name, path.read_bytes()).sections for b in s.blocks]
    assert body[-4:] == [
        "Robben, Drogba, Lampard.",
        "Terry 17, Gudjohnsen 46.",
        "38,153",
        "G Poll (Hertfordshire).",
    ]


def test_a_short_last_paragraph_is_article_text(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    seed = (SEEDS / "004_391b700a59b12524.txt").read_text(encoding="utf-8")
    (sources / "a.txt").write_text(seed + "\n\nEDIT-ONE: Rex Tillerson spoke.\n", encoding="utf-8")
    run_build(sources, tmp_path / "vault")
    (note,) = (tmp_path / "vault" / "Sources").glob("*.md")
    assert "EDIT-ONE: Rex Tillerson spoke." in _norm(note.read_text(encoding="utf-8"))


def test_a_page_with_prompts_and_a_marker_inside_the_article() -> None:
    """Furniture named by its shape goes; every paragraph of the article stays, also those
    after a "You might also like:" line and after a newsletter prompt."""
    path = FIXTURES / "page_with_prompts.txt"
    article = parse(path.name, path.read_bytes())
    assert article.meta.title == "Senate passes the climate bill after a long night"
    assert article.meta.authors == ("Lee A. Dean",)
    assert (article.meta.published, article.meta.updated) == (None, "2017-06-01")
    body = [b.text for s in article.sections for b in s.blocks]
    assert [t.split()[0] for t in body] == ["The", "The", "Environmental", "He"]
    assert body[-1] == "He declined to comment."
    text = "\n".join(body)
    for furniture in ("USA TODAY", "Enlarge this image", "newsletter", "You might also like"):
        assert furniture not in text


def test_verbose_says_which_prose_cleaning_removed_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copy(FIXTURES / "page_with_prompts.txt", sources / "page.txt")
    args = ["build", "--sources", str(sources), "--vault", str(tmp_path / "vault")]
    assert cli.main(args) == 0
    assert "removed" not in capsys.readouterr().out  # said with -v only
    (sources / "page.txt").write_text(
        (FIXTURES / "page_with_prompts.txt").read_text(encoding="utf-8") + "\nOne more.\n",
        encoding="utf-8",
    )
    assert cli.main([*args, "-v"]) == 0
    removed = [line for line in capsys.readouterr().out.splitlines() if "removed" in line]
    assert removed == [
        "removed page.txt (newsletter): 'For indispensable reporting on the coronavirus crisis, "
        "the election, …'"
    ]
