"""Cleaning and metadata on the seeds and on articles that look nothing like them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, SEEDS

from kbgen.core.model import Article
from kbgen.read.clutter import clutter_rule
from kbgen.read.sources import parse


def _article(path: Path) -> Article:
    return parse(path.name, path.read_bytes())


def _text(article: Article, section: str = "body") -> str:
    return "\n".join(b.text for s in article.sections if s.name == section for b in s.blocks)


def _all_text(article: Article) -> str:
    return "\n".join(b.text for s in article.sections for b in s.blocks)


EXPECTED = {
    "000_db97465ef9819302.txt": dict(
        title="The Future of US-Russia Relations Under Trump Presidency",
        authors=("Maia Otarashvili",),
        published=None,
        publisher=None,
    ),
    "001_9de591f704b0e99d.txt": dict(
        title="What’s Next for US-Russia Relations?",
        authors=("Yu Sui",),
        published="2017-01-16",
        publisher=None,
    ),
    "002_4d154a33f3d0f136.txt": dict(
        title="Russia-US Relations on the Doorstep of the Incoming Trump Administration",
        authors=("Lidiya Parkhomchik",),
        published="2017-01-18",
        publisher="Asya Avrupa: Haber-Yorum",
    ),
    "003_ae3987c8e33255af.txt": dict(
        title="A New ‘Reset’? Can the Trump Administration Normalise Relations with Russia?",
        authors=("Ruth Deyermond",),
        published="2017-04-17",
        publisher="GEurasia",
    ),
    "004_391b700a59b12524.txt": dict(
        title="US-Russia Relations under Trump Presidency: Will The Reset Come to Pass?",
        authors=("Bhavna Dave",),
        published=None,
        publisher=None,
    ),
    "news_site.txt": dict(
        title="Kremlin welcomes Trump's call for better ties as sanctions debate heats up",
        authors=("Andrew Roth",),
        published="2017-01-09",
        publisher="Guardian News and Media Limited",
    ),
    "german_blog.txt": dict(
        title="Russland und die Sanktionen: Was Trump ändern könnte",
        authors=("Anna Müller",),
        published="2017-03-12",
        publisher=None,
    ),
    "wrapped_report.txt": dict(
        title="Arms Control After New START: What Comes Next?",
        authors=("Jane Q. Analyst", "John Smith"),
        published="2017-02-02",
        publisher=None,
    ),
    "substack.md": dict(
        title="Sanctions: a user's guide",
        authors=("Kim Lee",),
        published="2017-03-05",
        publisher="The Policy Letter",
    ),
    "article.html": dict(
        title="Peskov: Moscow ready for dialogue",
        authors=("Maria Ivanova",),
        published="2017-01-20",
        publisher="World Desk",
    ),
}


def _path(name: str) -> Path:
    return SEEDS / name if (SEEDS / name).exists() else FIXTURES / "articles" / name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata_is_what_the_source_states(name: str) -> None:
    meta = _article(_path(name)).meta
    for field, value in EXPECTED[name].items():
        assert getattr(meta, field) == value, field


CLUTTER = {
    "000_db97465ef9819302.txt": [
        "worldcuplogo2",
        "Current Edition",
        "Previous Article",
        "Leave a Reply",
        "Your email address",
        "Getty Images",
    ],
    "001_9de591f704b0e99d.txt": ["Language", "简体", "You might also like", "Back to Top"],
    "002_4d154a33f3d0f136.txt": ["Skip to main content", "| Comments |", "Retrieved from"],
    "003_ae3987c8e33255af.txt": [
        "Descargar en PDF",
        "Síguenos",
        "Con el apoyo",
        "Colabora con",
        "Balkania",
        "cookies",
        "ISSN",
        "Keywords:",
        "Versión en español",
    ],
    "news_site.txt": [
        "Skip to main content",
        "Share on",
        "Read more",
        "Advertisement",
        "Photograph:",
        "Comments (214)",
        "Reuse this content",
        "Back to top",
    ],
    "german_blog.txt": ["Startseite", "Teilen", "Drucken", "Zurück nach oben", "Cookies"],
    "wrapped_report.txt": ["Download PDF", "POLICY BRIEF"],
    "article.html": ["Log in", "Related stories", "Share this article"],
}


@pytest.mark.parametrize("name", sorted(CLUTTER))
def test_clutter_is_removed(name: str) -> None:
    text = _all_text(_article(_path(name)))
    for line in CLUTTER[name]:
        assert line not in text


KEPT = {
    "000_db97465ef9819302.txt": {
        "body": ["2017 is very likely usher in a whole different era of world order"],
        "about": ["Maia Otarashvili is Research Fellow and Program Manager"],
    },
    "002_4d154a33f3d0f136.txt": {
        "references": ["Akulov, A. (2017)", "Walker, S., & Addley, E. (2016)"],
        "notes": [
            "[1] Five GRU’s employee",
            "*Published in the February 2017",
            "Note: The views expressed",
        ],
        "about": ["Lidiya Parkhomchik", "Senior Research fellow", "was born on February 9, 1984"],
    },
    "003_ae3987c8e33255af.txt": {
        "body": [
            "The Reset Cycle",
            "La presidencia de Trump pareció crear",
            "little prospect for improvement",
        ],
        "notes": ["The opinions expressed in these publications"],
    },
    "004_391b700a59b12524.txt": {
        # a paragraph split by a page break is joined again
        "body": [
            "“a combined al Qaeda and Lebanese Hezbollah on steroids”",
            "divisions within the European Union.",
        ]
    },
    "news_site.txt": {
        "body": [
            "Moscow says it is ready to talk",
            "Diplomats in Brussels said the EU",
            "Moscow denies the charge.",
        ]
    },
    "wrapped_report.txt": {
        "body": ["regard as essential to their own security. Without it"],
        "about": ["Jane Q. Analyst is a senior fellow"],
    },
}


@pytest.mark.parametrize("name", sorted(KEPT))
def test_article_text_bios_notes_and_references_are_kept(name: str) -> None:
    article = _article(_path(name))
    for section, snippets in KEPT[name].items():
        text = _text(article, section)
        for snippet in snippets:
            assert snippet in text, (section, snippet)


@pytest.mark.parametrize("name", [p.name for p in sorted(SEEDS.iterdir())])
def test_every_seed_paragraph_survives(name: str) -> None:
    """No sentence of the article is lost: every long line of the seed is in the output."""
    article = _article(SEEDS / name)
    text = " ".join(_all_text(article).split())
    raw = (SEEDS / name).read_text(encoding="utf-8")
    for line in raw.splitlines():
        line = " ".join(line.split()).lstrip("• ")
        is_photo_caption = "(Photo by" in line
        if len(line.split()) >= 25 and clutter_rule(line) is None and not is_photo_caption:
            assert line in text, line[:80]


def test_caption_date_is_not_the_publication_date(tmp_path: Path) -> None:
    page = (
        "The Long Thaw\n\nGERMANY, BONN – DECEMBER 13, 2016: Masks of two leaders. "
        "(Photo by Someone via Getty Images)\n\nBy Jane Roe\n\n" + "Body text goes on. " * 20
    )
    (tmp_path / "a.txt").write_text(page, encoding="utf-8")
    meta = _article(tmp_path / "a.txt").meta
    assert meta.published is None
    assert meta.authors == ("Jane Roe",)


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Previous ArticleNext Article", "previous-next"),
        ("Descargar en PDF:", "download-print"),
        ("Síguenos en", "share"),
        ("Uso de cookies", "cookie-banner"),
        ("Back to Top", "back-to-top"),
        ("You might also like", "related"),
        ("Language : English 简体 繁體", "language-picker"),
    ],
)
def test_clutter_rules(line: str, rule: str) -> None:
    assert clutter_rule(line) == rule


@pytest.mark.parametrize(
    "line",
    [
        "Share prices fell sharply after the announcement of new sanctions.",
        "Language and Power in Russia",
        "Comments by Peskov on the deal",
    ],
)
def test_sentences_mentioning_clutter_words_are_content(line: str) -> None:
    assert clutter_rule(line) is None


def test_an_article_ending_on_a_list_keeps_it_and_a_footer_list_is_still_dropped() -> None:
    """Found while trying hostile text for issue 6: everything after the last prose paragraph was
    taken for page footer, so an article ending "In short:" and a list lost both."""
    text = (
        "A Title for the List Article\n\n"
        "Vladimir Putin and Donald Trump discussed several matters at their first meeting, "
        "according to officials who briefed reporters afterwards.\n\n"
        "In short:\n\n"
        "- sanctions stay in place for now\n"
        "- talks continue in the autumn, officials said\n\n"
        "- Privacy policy\n- Contact us\n"
    )
    article = parse("list.txt", text.encode("utf-8"))
    body = [b.text for s in article.sections if s.name == "body" for b in s.blocks]
    assert "In short:" in body
    assert "sanctions stay in place for now" in body
    assert "talks continue in the autumn, officials said" in body
    assert not any("Privacy" in t or "Contact" in t for t in body)


KEPT_SENTENCES = [
    "The aide gave one instruction for the official photo: no flash, and no questions after.",
    "An exhibition of photos by Dorothea Lange opens at the museum on Friday morning.",
    "Students doubled the number of IB/AP courses they took in the last two years.",
    "Shutterstock shares rose 5% on Monday after the company reported strong sales.",
    "Getty Images said it would go public next year through a merger with a shell company.",
    "The president did not get his daily briefing on Tuesday, officials said.",
    "Writers get 90% of the revenue from their paid newsletters, Substack says.",
    "(c) a ban on all imports of Russian oil and gas from the region by the end of the year.",
    "Copyright infringement is rife, the BPI said.",
    "Reuters reported that the EPA and AFP had both confirmed the figures on Tuesday.",
]

CREDITS = [
    "Vladimir Putin at his annual press conference. Photograph: Alexei Druzhinin/AP",
    "(Photo by Ulrich Baumgarten via Getty Images)",
    "Protesters in Moscow on Sunday. Sergei Karpukhin/Reuters",
    "The summit in Helsinki (AP Photo/Pablo Martinez Monsivais)",
]


def test_sentences_naming_photos_agencies_or_newsletters_are_text() -> None:
    """Words a caption or a prompt uses, in running prose: none of these is furniture."""
    lead = (
        "A Title for the Test\n\nThe talks went on for hours, officials in both capitals said.\n\n"
    )
    text = lead + "\n\n".join(KEPT_SENTENCES) + "\n\nThe talks ended late on Sunday evening.\n"
    article = parse("kept.txt", text.encode("utf-8"))
    body = [b.text for s in article.sections for b in s.blocks]
    assert [t for t in KEPT_SENTENCES if t not in body] == []
    assert article.dropped == ()


@pytest.mark.parametrize("credit", CREDITS)
def test_a_caption_with_a_credit_is_removed_and_said(credit: str) -> None:
    text = (
        "A Title for the Test\n\n"
        "The talks went on for hours, officials in both capitals said on Monday.\n\n"
        f"{credit}\n\n"
        "They ended late on Sunday evening, and no statement was issued afterwards.\n"
    )
    article = parse("credit.txt", text.encode("utf-8"))
    assert credit not in [b.text for s in article.sections for b in s.blocks]


def test_a_lead_sentence_with_no_headline_above_it_stays_in_the_body() -> None:
    text = (
        "Police have arrested a man after a stabbing in Leeds.\n\n"
        "Officers were called to the scene on Monday evening, a spokesman said, and a man "
        "was taken to hospital with injuries that are not thought to be life-threatening.\n"
    )
    article = parse("story-1234.txt", text.encode("utf-8"))
    body = [b.text for s in article.sections for b in s.blocks]
    assert body[0] == "Police have arrested a man after a stabbing in Leeds."


def test_an_image_viewers_controls_are_neither_title_nor_text() -> None:
    """Seen on saved pages: "Enlarge this image" / "toggle caption" above a credit became the
    note's title, and the article's headline was lost."""
    text = (
        "Senate passes climate bill after a long night\n\n"
        "Enlarge this image\n\ntoggle caption\n\nAlex Wong/Getty Images\n\n"
        "The Senate passed the climate bill late on Wednesday after a debate that ran "
        "through the night, with three Republicans joining.\n\n"
        "The bill now goes to the House, where its fate is less certain, aides said.\n"
    )
    article = parse("story.txt", text.encode("utf-8"))
    assert article.meta.title == "Senate passes climate bill after a long night"
    body = [b.text for s in article.sections for b in s.blocks]
    assert [t.split()[0] for t in body] == ["The", "The"]
