"""Recognising bylines: person names, author labels and affiliation lines.

These decide who wrote an article, so they lean towards saying "no": a
missing author is honest, an invented one ("International Relations") is not.
"""

from __future__ import annotations

import re

_PARTICLES = {
    "de",
    "da",
    "del",
    "della",
    "di",
    "du",
    "van",
    "von",
    "der",
    "den",
    "al",
    "el",
    "bin",
    "ibn",
    "la",
    "le",
    "dos",
    "das",
    "ter",
    "y",
}
# Words that make a capitalised phrase a section name or an institution, not a person.
_NOT_NAME = set(
    [
        "the",
        "of",
        "and",
        "for",
        "in",
        "on",
        "at",
        "to",
        "a",
        "an",
        "with",
        "by",
        "from",
        "about",
        "under",
        "over",
        "after",
        "new",
        "how",
        "what",
        "why",
        "when",
        "where",
        "who",
        "will",
        "can",
        "is",
        "are",
        "was",
        "be",
        "this",
        "that",
        "these",
        "those",
        "our",
        "your",
        "their",
        "its",
        "my",
        "international",
        "relations",
        "affairs",
        "policy",
        "foreign",
        "security",
        "politics",
        "political",
        "economy",
        "economics",
        "world",
        "news",
        "opinion",
        "analysis",
        "commentary",
        "comments",
        "comment",
        "edition",
        "current",
        "global",
        "research",
        "studies",
        "study",
        "defence",
        "defense",
        "europe",
        "european",
        "asia",
        "asian",
        "america",
        "american",
        "russia",
        "russian",
        "china",
        "chinese",
        "united",
        "states",
        "state",
        "national",
        "institute",
        "university",
        "college",
        "center",
        "centre",
        "school",
        "department",
        "ministry",
        "council",
        "committee",
        "program",
        "programme",
        "project",
        "foundation",
        "association",
        "society",
        "group",
        "press",
        "media",
        "journal",
        "review",
        "magazine",
        "blog",
        "home",
        "page",
        "article",
        "articles",
        "issue",
        "issues",
        "report",
        "reports",
        "paper",
        "papers",
        "brief",
        "briefs",
        "series",
        "senior",
        "fellow",
        "professor",
        "director",
        "editor",
        "chair",
        "president",
        "secretary",
        "minister",
        "general",
        "doctor",
        "read",
        "more",
        "share",
        "print",
        "download",
        "english",
        "español",
        "français",
        "deutsch",
        "language",
        "menu",
        "search",
        "contents",
        "summary",
        "abstract",
        "introduction",
        "conclusion",
        "references",
        "notes",
        "note",
        "keywords",
        "tags",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)
_NAME_TOKEN = re.compile(r"^(?:[A-Z][a-z]?\.|[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’\-]*[\w.]|[A-Z]\.[A-Z]\.?)$")

_AUTHOR_LABEL = re.compile(
    r"^\s*(?:written\s+by|by|von|par|por|door|di|av|автор|autor(?:a|es|as)?|authors?|text)\s*[:\-–]?\s+"
    r"(?P<rest>.+)$",
    re.I,
)
_ROLE = re.compile(
    r"\b(professor|fellow|researcher|research|director|lecturer|editor|correspondent|analyst"
    r"|chair|dean|scholar|journalist|reporter|writer|contributor|student|candidate|associate"
    r"|head|senior|adjunct|visiting|university|institute|center|centre|college|school"
    r"|foundation|académico|investigador|profesor|catedrático|chercheur|professeur|forscher)\b",
    re.I,
)
_INSTITUTION = re.compile(
    r"\b(university|institute|college|school|center|centre|foundation|council|academy"
    r"|universidad|universit[éäà]|instituto|institut|ministry|department|program|programme"
    r"|agency|office|group|council|lab|laboratory|press|times|post|news)\b",
    re.I,
)


NAME_MAX = 120  # characters: longer is never a name, and is not cleaned to find out


def is_person_name(text: str) -> bool:
    """Two to four capitalised words (initials and particles allowed), nothing else."""
    if len(text) > NAME_MAX:
        return False
    text = clean_name(text)
    tokens = text.split()
    if not 2 <= len(tokens) <= 5 or any(ch.isdigit() for ch in text):
        return False
    named = 0
    for token in tokens:
        if token.lower() in _PARTICLES:
            continue
        initial = len(token) == 2 and token[0].isupper() and token[1] == "."  # "Lee A. Dean"
        if (token.lower().strip(".'’") in _NOT_NAME and not initial) or not _NAME_TOKEN.match(
            token
        ):
            return False
        named += 1
    return named >= 2


def clean_name(text: str) -> str:
    """Strip footnote marks, bullets and stray punctuation around a name."""
    text = re.sub(r"^[\s•·*†‡\d.,|]+|[\s*†‡,;|]+$", "", text)
    return re.sub(r"\s+", " ", text).strip()


def is_role_line(text: str) -> bool:
    """An affiliation line under a byline: "Professor, China Center for ..."."""
    words = text.split()
    return 1 <= len(words) <= 16 and bool(_ROLE.search(text)) and not text.rstrip().endswith("?")


def author_label(text: str) -> str | None:
    """The part after "By", "Autor:", "Written by"..., or None when there is no label."""
    m = _AUTHOR_LABEL.match(text.strip())
    if not m or len(text.split()) > 16:
        return None
    return m.group("rest")


def split_names(text: str) -> tuple[list[str], list[str]]:
    """Split a byline into person names and the affiliations that follow them."""
    names: list[str] = []
    affiliations: list[str] = []
    for part in re.split(r"\s*(?:,|;|&|\band\b|\by\b|\bund\b|\bet\b|\bи\b)\s*", text):
        part = clean_name(part)
        if not part:
            continue
        if _INSTITUTION.search(part) or not is_person_name(part):
            if names:
                affiliations.append(part)
            continue
        names.append(part)
    return names, affiliations


def bio_subject(text: str) -> str | None:
    """The name a biography paragraph is about ("*Jane Doe is Research Fellow at ...")."""
    m = re.match(
        r"^\W*(?P<name>[A-ZÀ-Ž][\w'’.\-]+(?:\s+(?:[A-ZÀ-Ž][\w'’.\-]+|de|van|von|al|bin)){1,3})"
        r"(?:\s*\([^)]{1,60}\))?,?\s+(?:is|was|has been|holds|serves|joined|received|teaches"
        r"|works|es|est|ist|является)\b",
        text,
    )
    return m.group("name") if m and is_person_name(m.group("name")) else None


_DATELINE_PLACE = re.compile(r"\s+(?:in|en|à|aus|из)\s+[A-ZÀ-Ž][\w\s.\-]{1,40}$")


def byline_name(text: str) -> str:
    """ "Andrew Roth in Moscow" → "Andrew Roth": a reporter's name with a dateline place."""
    return _DATELINE_PLACE.sub("", clean_name(text))


def is_byline_name(text: str) -> bool:
    return len(text) <= 2 * NAME_MAX and is_person_name(byline_name(text))
