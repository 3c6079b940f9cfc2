"""Publication dates as sources write them, turned into ISO `YYYY-MM-DD`.

Only unambiguous forms are read: a month written as a word, ISO dates, and
day.month.year with dots (the European convention). `03/04/2017` is left
alone unless one part is over 12, because guessing is worse than leaving the
field out.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan janvier janv enero ene januar jän gennaio genn janeiro января январь",
        "february feb febr février févr febrero februar febbraio fevereiro fev февраля февраль",
        "march mar mars marzo märz marz março марта март",
        "april apr avril abril abr aprile апреля апрель",
        "may mai mayo maggio maio мая май",
        "june jun juin junio juni giugno junho июня июнь",
        "july jul juillet juil julio juli luglio julho июля июль",
        "august aug août agosto ago августа август",
        "september sep sept septembre septiembre setiembre set settembre setembro сентября",
        "october oct octobre octubre oktober okt ottobre ott outubro out октября октябрь",
        "november nov novembre noviembre novembro ноября ноябрь",
        "december dec décembre déc diciembre dic dezember dez dicembre dezembro декабря",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_MONTH = r"(?P<month>[^\W\d_]{3,10})\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th|er|º|\.)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

_PATTERNS = [
    # 2017-01-16, 2017/01/16
    re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)[-/](?P<mnum>[01]?\d)[-/](?P<day>[0-3]?\d)(?!\d)"),
    # 18.01.2017 (day first, the European convention with dots)
    re.compile(r"(?<![\d.])(?P<day>[0-3]?\d)\.(?P<mnum>[01]?\d)\.(?P<year>(?:19|20)\d\d)(?!\d)"),
    # Jan 16 , 2017 / January 16, 2017
    re.compile(rf"\b{_MONTH}\s+{_DAY}\s*,?\s*{_YEAR}\b", re.I),
    # 16 January 2017 / 16. Januar 2017 / 16 de enero de 2017
    re.compile(rf"\b{_DAY}\s+(?:de\s+)?{_MONTH}\s*,?\s*(?:de\s+)?{_YEAR}\b", re.I),
    # 01/18/2017 or 18/01/2017, only when the order is certain (one part > 12)
    re.compile(r"(?<![\d/])(?P<a>[0-3]?\d)/(?P<b>[0-3]?\d)/(?P<year>(?:19|20)\d\d)(?!\d)"),
]

# "Nº: 3/2017 (17 April)": issue number/year with the day and month beside it.
_SPLIT_DAY_MONTH = re.compile(rf"\b{_DAY}\s+(?:de\s+)?{_MONTH}(?!\s*,?\s*(?:de\s+)?\d)", re.I)
_SPLIT_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+{_DAY}(?![\d,])", re.I)
_LONE_YEAR = re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)(?!\d)")


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _month(word: str) -> int | None:
    return _MONTHS.get(word.lower().rstrip("."))


def _from_match(m: re.Match[str]) -> str | None:
    groups = m.groupdict()
    year = int(groups["year"])
    if groups.get("a"):
        a, b = int(groups["a"]), int(groups["b"])
        if a > 12 >= b:
            return _iso(year, b, a)
        if b > 12 >= a:
            return _iso(year, a, b)
        return None
    month = int(groups["mnum"]) if groups.get("mnum") else _month(groups["month"])
    return _iso(year, month, int(groups["day"])) if month else None


def find_date(text: str) -> str | None:
    """The first complete, unambiguous date stated in `text`, as ISO, or None."""
    found: list[tuple[int, str]] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            iso = _from_match(m)
            if iso:
                found.append((m.start(), iso))
    if found:
        return min(found)[1]
    return _split_date(text)


def _split_date(text: str) -> str | None:
    """A day and month with the year elsewhere on the same short line."""
    years = {m.group("year") for m in _LONE_YEAR.finditer(text)}
    if len(years) != 1:
        return None
    year = int(years.pop())
    for pattern in (_SPLIT_DAY_MONTH, _SPLIT_MONTH_DAY):
        for m in pattern.finditer(text):
            month = _month(m.group("month"))
            if month:
                return _iso(year, month, int(m.group("day")))
    return None


def normalise_stated(value: str) -> str | None:
    """A date from frontmatter or meta tags: ISO prefix kept, other forms parsed."""
    value = value.strip()
    iso = re.match(r"((?:19|20)\d\d)-(\d\d)-(\d\d)", value)
    if iso:
        return _iso(int(iso[1]), int(iso[2]), int(iso[3]))
    return find_date(value)
