"""What one block of a saved page is, by its shape alone: prose, a heading, a label line
("Keywords: …"), a byline, a dateline, a photo caption with its credit (pure).

Cleaning (`clean.py`) decides by these shapes and by position, never by a word occurring in
prose: an article about Reuters keeps every sentence.
"""

from __future__ import annotations

import re

from kbgen.core.model import Block
from kbgen.read import dates, people

_LABEL = re.compile(
    r"^\s*(?P<label>keywords?|key words|tags?|topics?|subjects?|palabras clave|etiquetas|temas"
    r"|mots[- ]clés|schlagwörter|schlagworte|ключевые слова|теги|issn|doi)\s*[:：]\s*(?P<value>.+)$",
    re.I,
)


_KEYWORD_LABELS = {"issn": "issn", "doi": "doi"}


# A photo credit, by its shape: "(Photo by X via Getty Images)", "Photograph: X/AP" opening a
# line or after its sentence, "X/Reuters" or "Getty Images" ending it. Never an agency's or a
# photo library's name in running text: articles report on Reuters, the EPA, Getty Images.
_AGENCY = (
    r"(?:reuters|afp|epa|ap|tass|ria novosti|getty(?: images)?|shutterstock|alamy|efe|anadolu"
    r"|xinhua|pa|sputnik|bloomberg|dpa|ansa)"
)


_CREDIT_WORD = r"(?:photo|image|foto|picture|photograph)\s*(?::|by\b|credit\b|courtesy\b)"


CAPTION_MAX = 800  # characters: a caption with its credit is a line or two, never a long paragraph


_CAPTION = re.compile(
    rf"\({_CREDIT_WORD}[^)]*\)"  # (Photo by X via Getty Images)
    rf"|(?:^|[.!?][\"”’)]?\s+){_CREDIT_WORD}"  # Photograph: X/AP
    rf"|\w\s*/\s*{_AGENCY}\s*\)?\s*$"  # … Alexei Druzhinin/AP
    r"|\b(?:via |\()?(?:getty images|shutterstock)\s*\)?\s*$|\bap photo\s*/",
    re.I,
)


def words(text: str, enough: int = 100) -> int:
    """How many words `text` has, counted up to `enough` and no further: every caller asks
    whether a block is short, and a transcript's one paragraph may hold millions."""
    return len(text.split(maxsplit=enough)) if len(text) > enough * 20 else len(text.split())


# a sentence's end; a short one counts only with a full stop ("He declined to comment."),
# as headings ask questions ("A fresh start under Trump?")
_SENTENCE_END = re.compile(r"(?P<last>\S)[\"”’)]?(?P<mark>[.!?…])[\"”’)]?\s*$")


def is_prose(text: str) -> bool:
    """A sentence or more of running text, as opposed to a label or heading."""
    n = words(text)
    end = _SENTENCE_END.search(text, max(0, len(text.rstrip()) - 6))
    if end is None:
        return n >= 15
    return n >= 6 or (n >= 3 and end["mark"] == "." and end["last"].isalpha())


def is_heading_like(text: str) -> bool:
    t = text.strip()
    return short_line(t) and not re.search(r"[.,;]$", t)


def short_line(t: str) -> bool:
    """At most 16 words, starting as a heading does: a capital, a digit, a quote, or a name
    like "iTunes"."""
    return (
        0 < words(t) <= 16
        and len(t) <= 160
        and (t[0].isupper() or t[0].isdigit() or not t[0].isalpha() or t[1:2].isupper())
    )


def label(text: str) -> tuple[str, str] | None:
    m = _LABEL.match(text)
    if not m:
        return None
    name = m.group("label").lower()
    return _KEYWORD_LABELS.get(name, "keywords"), m.group("value").strip()


def is_dateline(text: str) -> bool:
    return words(text) <= 14 and dates.find_date(text) is not None and not is_prose(text)


def is_byline(text: str) -> bool:
    rest = people.author_label(text)
    if rest is not None:
        return bool(people.split_names(rest)[0])
    if "|" in text and words(text) <= 30:
        return any(is_dateline(seg) or people.is_person_name(seg) for seg in text.split("|"))
    return False


def caption_blocks(blocks: tuple[Block, ...]) -> set[int]:
    """Photo captions and credits, and lines a page repeats back to back (alt text)."""
    found = {
        i for i, b in enumerate(blocks) if len(b.text) <= CAPTION_MAX and _CAPTION.search(b.text)
    }
    for i in range(1, len(blocks)):
        if blocks[i].text == blocks[i - 1].text:
            found |= {i - 1, i}
    return found


def near_dateline(blocks: tuple[Block, ...], i: int) -> bool:
    """An unlabelled byline ("Andrew Roth in Moscow") sits right next to the date."""
    return any(0 <= j < len(blocks) and is_dateline(blocks[j].text) for j in (i - 1, i + 1))


SENTENCE_INSIDE = re.compile(r"[.!?…][\"”’)]?\s+[\"“‘(]?[A-Z]")
