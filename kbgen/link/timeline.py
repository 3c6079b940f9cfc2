"""Dated statements: sentences that say when something happened (pure; English articles).

Read, in order of precedence at one place in a sentence:

- a full date, "December 29, 2016", "29 December 2016", "Dec 29, 2016": exact;
- a month and year, "September 2016": to the month;
- a month and day with no year, after "on", "since", "by", "until", "from",
  "before" or "after" ("On Dec 14, Peskov said"): the year is the article's,
  or the year before when that day is later in the year than the article;
- "in September last year", "last year", "this year", "last month":
  resolved against the article's date;
- a year after "in", "since", "by", "until", "from", "before" or "after":
  to the year.

A date worked out from the article's date is marked approximate (`~`); when
the article states no date, such statements are left out rather than guessed.
A sentence gives one statement, at its first date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "january jan", "february feb", "march mar", "april apr", "may", "june jun",
            "july jul", "august aug", "september sep sept", "october oct", "november nov",
            "december dec",
        ),
        start=1,
    )
    for name in names.split()
}  # fmt: skip
_MONTH = r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_AT = r"(?:[Oo]n|[Ss]ince|[Bb]y|[Uu]ntil|[Ff]rom|[Bb]efore|[Aa]fter|[Ii]n|[Dd]uring)"
# Each pattern starts with a lookahead for its possible first characters: the regex engine then
# skips to the next of them instead of trying the pattern at every position (`find_dated` over
# the benchmark's paragraphs: 0.25 → 0.18 ms an article, the same statements found).
_M, _D, _A = "(?=[ADFJMNOS])", r"(?=\d)", "(?=[AaBbDdFfIiOoSsUu])"  # a month, a day, `_AT`
_FORMS = [
    ("exact", re.compile(rf"{_M}\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b")),
    ("exact", re.compile(rf"{_D}\b{_DAY}\s+{_MONTH},?\s+{_YEAR}\b")),
    ("month", re.compile(rf"{_M}\b{_MONTH}\s+(?:of\s+)?{_YEAR}\b")),
    ("month-last-year", re.compile(rf"{_M}\b{_MONTH}\s+(?P<rel>last|this)\s+year\b")),
    ("day", re.compile(rf"{_A}\b{_AT}\s+{_MONTH}\s+{_DAY}\b(?!,?\s*(?:19|20)\d\d)")),
    ("relative-year", re.compile(r"(?=[ltn])\b(?P<rel>last|this|next)\s+year\b", re.I)),
    ("relative-month", re.compile(r"(?=[lt])\b(?P<rel>last|this)\s+month\b", re.I)),
    ("year", re.compile(rf"{_A}\b{_AT}\s+(?:early\s+|late\s+|mid-)?{_YEAR}\b(?!\s*[-–]\s*\d)")),
]


@dataclass(frozen=True)
class Dated:
    when: str  # YYYY-MM-DD, YYYY-MM or YYYY: sorts in time order as text
    approximate: bool  # worked out from the article's date
    start: int  # the sentence, in the paragraph's text
    end: int

    @property
    def label(self) -> str:
        return f"~{self.when}" if self.approximate else self.when


def find_dated(
    text: str, sentences: Sequence[tuple[int, int]], published: str | None
) -> list[Dated]:
    """One statement per sentence that says when, in order."""
    out = []
    for start, end in sentences:
        found = _first_date(text[start:end], published)
        if found is not None:
            out.append(Dated(found[0], found[1], start, end))
    return out


# every form needs one (the lookahead as above)
_ANY_DATE = re.compile(r"(?=[\dltn])(?:\d|\b(?:last|this|next)\s+(?:year|month)\b)", re.I)


def _first_date(sentence: str, published: str | None) -> tuple[str, bool] | None:
    if not _ANY_DATE.search(sentence):
        return None  # most sentences: one scan, not eight
    hits = []
    for form, pattern in _FORMS:
        for m in pattern.finditer(sentence):
            resolved = _resolve(form, m, published)
            if resolved is not None:
                hits.append((m.start(), -(m.end() - m.start()), resolved))
    return min(hits)[2] if hits else None


def _resolve(form: str, m: re.Match[str], published: str | None) -> tuple[str, bool] | None:
    groups = m.groupdict()
    month = _MONTHS.get((groups.get("month") or "").lower().rstrip("."), 0)
    if form == "exact":
        return _day(int(groups["year"]), month, int(groups["day"]), False)
    if form == "month":
        return f"{groups['year']}-{month:02d}", False
    if form == "year":
        return groups["year"], False
    if not published:
        return None  # relative to a date the article does not state: left out
    year, pub_month, pub_day = _parts(published)
    if form == "day":
        if pub_month is None:
            return None
        day = int(groups["day"])
        later = (month, day) > (pub_month, pub_day or 31)
        return _day(year - later, month, day, True)
    rel = (groups.get("rel") or "").lower()
    if form == "month-last-year":
        return f"{year - (rel == 'last')}-{month:02d}", True
    if form == "relative-year":
        return str(year + {"last": -1, "this": 0, "next": 1}[rel]), True
    if pub_month is None:
        return None
    if rel == "this":
        return f"{year}-{pub_month:02d}", True
    y, mo = (year, pub_month - 1) if pub_month > 1 else (year - 1, 12)
    return f"{y}-{mo:02d}", True


def _day(year: int, month: int, day: int, approximate: bool) -> tuple[str, bool] | None:
    try:
        return dt.date(year, month, day).isoformat(), approximate
    except ValueError:
        return None  # "February 30"


def _parts(published: str) -> tuple[int, int | None, int | None]:
    pieces = [int(p) for p in published.split("-")]
    return pieces[0], pieces[1] if len(pieces) > 1 else None, pieces[2] if len(pieces) > 2 else None


# The Timeline notes -------------------------------------------------------------------------

FOLDER = "Timeline"


def statement_line(dated: Dated, entities: list[str], quote: str, block_id: str) -> str:
    """How a statement is kept in a source's contribution to its period's note."""
    return f"{dated.when}\t{int(dated.approximate)}\t{','.join(entities)}\t{quote}\t{block_id}"
