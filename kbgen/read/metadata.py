"""Metadata read off the source itself — never guessed.

Title, authors, date, publisher, language and keywords come from what the
format states (frontmatter, meta tags) first, then from the page's own
header lines. A field that nothing states is left out: no file dates, no
today, no date taken from a caption or from the body's text.
"""

from __future__ import annotations

import re
from collections import Counter

from kbgen.core.model import Metadata
from kbgen.read import dates, people
from kbgen.read.clean import Layout

_LANGUAGE_NAMES = {
    "english": "en",
    "inglés": "en",
    "anglais": "en",
    "englisch": "en",
    "español": "es",
    "spanish": "es",
    "castellano": "es",
    "français": "fr",
    "french": "fr",
    "deutsch": "de",
    "german": "de",
    "русский": "ru",
    "russian": "ru",
    "italiano": "it",
    "italian": "it",
    "português": "pt",
    "portuguese": "pt",
    "中文": "zh",
    "简体": "zh",
    "chinese": "zh",
}
_STOPWORDS = {
    "en": "the and of to in is that for on with as are was this by be it not have from",
    "es": "el la de que y en los las del se por un una para con es al lo como más",
    "fr": "le la les de des et en un une du est que pour dans qui sur au pas par",
    "de": "der die das und ist nicht zu den von mit sich des auf für im dem ein eine",
    "ru": "и в не на что с по как это к из за от для он она но",
    "it": "il di che la e un per non in una sono del della con le gli si",
    "pt": "o de que e do da em um para é com não uma os no se na por",
}
_STOP_SETS = {lang: set(ws.split()) for lang, ws in _STOPWORDS.items()}

_PUBLISHER_PATTERNS = (
    # "... do not necessarily represent GEurasia's own position."
    re.compile(
        r"necessarily (?:represent|reflect) (?:the (?:views|position|opinion)s? of )?(?:the )?"
        r"(?P<p>[A-Z][\w&.\-]*(?: [A-Z][\w&.\-]*){0,5})['’]s? (?:own |official |editorial )?"
        r"(?:position|views?|opinion|policy|policies)"
    ),
    # "Published in the February 2017 No. 14 issue of the "Asya Avrupa: Haber-Yorum" journal."
    re.compile(
        r"^\W*(?:originally )?published (?:in|by) [^\"“]{0,80}[\"“](?P<p>[^\"”]{2,80})[\"”]", re.I
    ),
    # "© 2017 Foreign Policy Research Institute. All rights reserved."
    re.compile(
        r"(?:©|\(c\)|copyright)\s*(?:\d{4}\s*[-–]?\s*)*(?P<p>[A-Z][^.|©,]{1,60}?)\s*(?:\.|,|\s+or\s+|all rights|$)",
        re.I,
    ),
)
_GENERIC_PUBLISHERS = {
    "institute",
    "journal",
    "publisher",
    "company",
    "organisation",
    "organization",
    "university",
    "author",
    "authors",
    "editor",
    "the author",
}


def _clean(value: object) -> str | None:
    if value is None:
        return None
    # whitespace runs collapse; the characters themselves, and their Unicode form, are the
    # source's (a title written in NFD stays NFD: it must round-trip exactly)
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _authors(layout: Layout, stated: dict[str, object]) -> tuple[list[str], list[tuple[str, str]]]:
    listed = stated.get("authors")
    if isinstance(listed, list) and listed:
        return [n for n in (_clean(a) for a in listed) if n], []
    names: list[str] = []
    affiliations: list[tuple[str, str]] = []
    for line in layout.meta_lines:
        rest = people.author_label(line)
        if rest is not None:
            found, affs = people.split_names(rest)
            names += found
            affiliations += [(found[-1], a) for a in affs]
        elif "|" in line:
            names += [people.clean_name(s) for s in line.split("|") if people.is_person_name(s)]
        elif people.is_byline_name(line):
            names.append(people.byline_name(line))
    for name_line, role in layout.author_roles:
        name = people.clean_name(name_line)
        names.append(name)
        affiliations.append((name, role.strip()))
    return list(dict.fromkeys(names)), affiliations


_UPDATED = re.compile(r"\b(updated|actualizado|mis à jour|aktualisiert)\b", re.I)


def _published(layout: Layout, stated: dict[str, object]) -> str | None:
    value = stated.get("published")
    if value:
        return dates.normalise_stated(str(value))
    return _dated(layout, updated=False)


def _dated(layout: Layout, updated: bool) -> str | None:
    """The first date the header states, in a segment that says "Updated" or one that does not
    ("Published 2 May 2017 | Updated 3 May 2017")."""
    for line in layout.meta_lines:
        for segment in line.split("|"):
            if bool(_UPDATED.search(segment)) != updated:
                continue
            found = dates.find_date(segment)
            if found:
                return found
    return None


def _publisher(stated: dict[str, object], texts: list[str]) -> str | None:
    if stated.get("publisher"):
        return _clean(stated["publisher"])
    for text in texts:
        for pattern in _PUBLISHER_PATTERNS:
            m = pattern.search(text)
            if m and m.group("p").strip().lower() not in _GENERIC_PUBLISHERS:
                return _clean(m.group("p").strip(" ,;:"))
    return None


def _language(stated: dict[str, object], layout: Layout, body_text: str) -> str | None:
    if stated.get("language"):
        return str(stated["language"]).split("-")[0].lower()
    for line in layout.meta_lines:
        m = re.match(r"\s*(?:language|idioma|langue|sprache)\s*:\s*(\S+)", line, re.I)
        if m and m.group(1).lower() in _LANGUAGE_NAMES:
            return _LANGUAGE_NAMES[m.group(1).lower()]
    return detect_language(body_text)


_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str | None:
    """The language of running text, from its function words; None when unclear.

    The language a text is written in is a fact of the text, not a guess about
    it, but we still only say so when the evidence is overwhelming.
    """
    tokens = _WORD.findall(text[:60_000].lower())[:5000]
    if len(tokens) < 40:
        return None
    counts = Counter(tokens)
    scores = sorted(
        (
            (sum(counts[w] for w in stop.intersection(counts)) / len(tokens), lang)
            for lang, stop in _STOP_SETS.items()
        ),
        reverse=True,
    )
    (best, lang), (second, _) = scores[0], scores[1]
    return lang if best >= 0.15 and best >= 2 * second else None


def _keywords(layout: Layout, stated: dict[str, object]) -> list[str]:
    listed = stated.get("keywords")
    if isinstance(listed, list) and listed:
        return [str(k) for k in listed]
    found: list[str] = []
    for kind, value in layout.labels:
        if kind == "keywords":
            found += [k.strip() for k in re.split(r"[,;]", value) if k.strip()]
    return found


def read_metadata(layout: Layout, stated: dict[str, object], page: list[str]) -> Metadata:
    """Combine the format's statements with the page's header lines.

    `page` is every line of the page, clutter included: a publisher is often
    named only in the footer's copyright line.
    """
    texts = page
    body = " ".join(b.text for s in layout.sections if s.name == "body" for b in s.blocks)
    authors, affiliations = _authors(layout, stated)
    return Metadata(
        title=_clean(stated.get("title")) or _clean(layout.title),
        authors=tuple(authors),
        published=_published(layout, stated),
        updated=_dated(layout, updated=True),
        publisher=_publisher(stated, texts[::-1]),
        language=_language(stated, layout, body),
        keywords=tuple(dict.fromkeys(_keywords(layout, stated))),
        url=_clean(stated.get("url")),
        affiliations=tuple(affiliations),
    )
