"""Candidate actors: names in the sources that look like actors but are in no catalog entry.

Pure functions. Three shapes are looked for, in a paragraph's sentences,
outside every catalog mention:

- a title or honorific before a capitalised name ("Foreign Minister Sergei
  Lavrov", "Mr. Peskov"): a person, even when the name is one word;
- an organisation with its acronym in brackets ("Organization for Security
  and Co-operation in Europe (OSCE)"), the acronym kept as an alias;
- a run of two to four capitalised words ("Timothy Colton", "Atlantic
  Council"), joined by "of", "for", "and", "the" or "de" inside an
  organisation's name; a person unless a word says organisation.

Not candidates: a capitalised word that only starts a sentence, months and
weekdays, runs made only of words any sentence may capitalise ("The",
"However"), anything overlapping a catalog mention. Headings and page
clutter never reach this step (they are not paragraphs).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kbgen.core.model import Match
from kbgen.link.extract import sentence_spans


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_TITLES = (
    "President", "Vice President", "Prime Minister", "Foreign Minister", "Defence Minister",
    "Defense Minister", "Minister", "Secretary of State", "Secretary", "Senator", "Sen.", "Rep.",
    "Representative", "Congressman", "Congresswoman", "Governor", "Gov.", "General", "Gen.",
    "Ambassador", "Chancellor", "Professor", "Prof.", "Dr.", "Dr", "Mr.", "Mr", "Mrs.", "Mrs",
    "Ms.", "Ms", "Director", "Chairman", "Chairwoman", "Spokesman", "Spokeswoman",
    "spokesman", "spokeswoman", "Admiral", "Colonel", "Lieutenant", "Judge", "Justice", "King",
    "Queen", "Prince", "Pope", "Patriarch", "Speaker", "Mayor", "Commissioner",
)  # fmt: skip
# A pattern that starts with an assertion starts with a lookahead for its first letters too:
# the regex engine then skips to the next such letter instead of trying every position
# (over the benchmark's paragraphs, `_TITLE`'s scan 0.11 → 0.05 ms an article, `_RUN`'s
# 0.095 → 0.079; the same matches).
_TITLE = re.compile(
    rf"(?=[{''.join(sorted({t[0] for t in _TITLES}))}])\b(?:"
    + "|".join(re.escape(t) for t in sorted(_TITLES, key=len, reverse=True))
    + r")\s+((?:[A-ZÀ-Ý][\w’'\-]+\s+){0,2}[A-ZÀ-Ý][\w’'\-]+)"
)
_ACRONYM_ORG = re.compile(
    r"((?:[A-ZÀ-Ý][\w\-]+\s+)(?:(?:of|for|and|the|on|in|de|du|des|[A-ZÀ-Ý][\w\-]+)\s+){0,7}"
    r"[A-ZÀ-Ý][\w\-]+)\s+\(([A-Z][A-Za-z]{1,9})\)"
)
_NAME_WORD = r"(?:[A-Z]\.|St\.|[A-ZÀ-Ý][\w’'\-]*[\w])"  # an initial, "St.", or a word
_RUN = re.compile(
    rf"(?=[A-ZÀ-Ý])(?<![\w’'.])({_NAME_WORD}\s+(?:(?:of|for|de|von|van|al|bin)\s+)?"
    rf"(?:{_NAME_WORD}\s+){{0,2}}{_NAME_WORD})(?![\w’'])"
)
_WORD = re.compile(r"\S+")
_LONG_WORD = re.compile(r"[A-Za-zÀ-ÿ]{4,}")
_POSSESSIVE_GAP = re.compile(r"(?:['’]s)?\s+")  # between a mention and the run after it
_POSSESSIVE_END = re.compile(r"(?:['’]s|['’])$")
_ROLES = """Advisor Adviser Manager Fellow Senior Research Officer Analyst Editor Correspondent
    Associate Assistant Head Chief Deputy Member Candidate Leader Coordinator Researcher"""
_TITLE_WORDS = frozenset(w for t in _TITLES for w in t.split()) | _set(_ROLES)
_ADJECTIVE = re.compile(r"(?:an|ese|ish|ern|ic|i)$")  # Russian, Chinese, Turkish, Western, Baltic
_PLACE_BEFORE = re.compile(r"\b(?:in|at|from|to|near|across|outside|inside|into|on|of)\s+$", re.I)
_SHORTEST = 8  # words in a paragraph worth looking at
_CONNECTORS = frozenset(
    {"of", "for", "and", "the", "on", "in", "de", "du", "des", "von", "van", "al", "bin"}
)
_NEVER = _set(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday the a an this that these those
    in on at by for from with as but and or if when while after before since during however
    meanwhile moreover furthermore indeed still yet also then thus so it its he she they we
    i you his her their our my your there here what which who whom whose why how not no
    yes all some any each every both many most more such other another one two three mr mrs
    ms dr according despite although though unlike like because until unless whether"""
)
_ORGANISATION_WORDS = _set(
    """institute university council committee agency ministry department party bank company
    corporation corp foundation center centre organization organisation union association
    forum group service services office commission parliament assembly court army navy force
    forces fund board bureau club college school academy network initiative alliance league
    federation society trust times post journal news press television radio program programme
    project"""
)


@dataclass(frozen=True)
class Candidate:
    name: str
    kind: str  # "person", "organisation", or "" when the text does not say
    alias: str | None  # an acronym the source gives in brackets
    start: int  # where the name is in the paragraph's text
    end: int


def find_candidates(
    text: str, matches: Sequence[Match], known: frozenset[str] = frozenset()
) -> list[Candidate]:
    """Every candidate in one paragraph, in order, none overlapping another or a mention.

    `known`: names to leave out (the article's own authors, who have their notes).
    Sentences in Title Case (headlines quoted in the text) are skipped whole;
    only sentences holding a candidate are looked at for that.
    """
    if len(text.split()) < _SHORTEST:
        return []  # a subheading the page kept as a paragraph ("Poles Apart?")
    taken = [(m.start, m.end) for m in matches]
    found: list[Candidate] = []
    headline = _Headlines(text)
    for found_by in (_titled, _acronym_orgs, _runs):
        for seen in found_by(text):
            # a run from just after a mention it starts with: "Russia’s Main Intelligence Agency"
            c = _after_mentions(text, seen, taken) if found_by is _runs else seen
            if c is None or c.name in known or headline(c.start):
                continue
            if not any(s < c.end and c.start < e for s, e in taken):
                found.append(c)
                taken.append((c.start, c.end))
    return sorted(found, key=lambda c: c.start)


class _Headlines:
    """Whether the sentence at an offset is in Title Case; sentences cut only when asked."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._spans: list[tuple[int, int, bool]] | None = None

    def __call__(self, offset: int) -> bool:
        if self._spans is None:
            text = self._text
            self._spans = [(s, e, _title_case(text[s:e])) for s, e in sentence_spans(text)]
        return any(s <= offset < e and title for s, e, title in self._spans)


def _after_mentions(text: str, run: Candidate, taken: list[tuple[int, int]]) -> Candidate | None:
    """A run that begins with a catalog mention, from just after it (None if too little is left)."""
    cut = max((e for s, e in taken if s <= run.start < e), default=None)
    if cut is None:
        return run
    rest = _POSSESSIVE_GAP.match(text[cut : run.end])
    if rest is None:
        return None
    start = cut + rest.end()
    name = text[start : run.end]
    words = name.split()
    if len(words) < 2 or not _plausible(words):
        return None
    kind = "organisation" if _is_organisation(words) else ""
    return Candidate(name, kind, None, start, run.end)


def _title_case(sentence: str) -> bool:
    words = _LONG_WORD.findall(sentence)
    return len(words) >= 6 and sum(w[0].isupper() for w in words) / len(words) > 0.7


def _titled(text: str) -> list[Candidate]:
    out = []
    for m in _TITLE.finditer(text):
        name, start = _trimmed(m.group(1), m.start(1))
        if name and _plausible(name.split()):
            out.append(Candidate(name, "person", None, start, start + len(name)))
    return out


def _acronym_orgs(text: str) -> list[Candidate]:
    out: list[Candidate] = []
    if "(" not in text:
        return out  # most paragraphs: one scan in C instead of the pattern's
    for m in _ACRONYM_ORG.finditer(text):
        words, acronym = m.group(1).split(), m.group(2)
        # the name ends where the acronym's letters are the initials of its last words
        capitals = [w for w in words if w[:1].isupper()]
        wanted = len(acronym)
        if len(capitals) < 2 or wanted > len(words):
            continue
        keep = _initials_tail(words, acronym)
        if keep is None:
            continue
        name = " ".join(words[-keep:])
        start = m.end(1) - len(name)
        out.append(Candidate(name, "organisation", acronym, start, m.end(1)))
    return out


def _initials_tail(words: list[str], acronym: str) -> int | None:
    """How many of the last words spell the acronym with their capitals (joining words free)."""
    letters = acronym.upper()
    i = len(letters) - 1
    for count, word in enumerate(reversed(words), start=1):
        if word in _CONNECTORS:
            continue
        if i < 0 or word[0].upper() != letters[i]:
            return None
        i -= 1
        if i < 0:
            return count
    return None


def _runs(text: str) -> list[Candidate]:
    out = []
    for m in _RUN.finditer(text):
        name, start = _trimmed(m.group(1), m.start(1))
        words = name.split()
        if len(words) < 2 or not _plausible(words):
            continue
        if _sentence_initial(text, start) and words[0].lower() in _NEVER:
            continue
        kind = "organisation" if _is_organisation(words) else ""  # a person? a place?
        if not kind and _PLACE_BEFORE.search(text[max(0, start - 12) : start]):
            continue  # "in New York", "on Long Island": a place, not an actor
        out.append(Candidate(name, kind, None, start, start + len(name)))
    return out


def _trimmed(name: str, start: int) -> tuple[str, int]:
    """Without leading words any sentence may capitalise, trailing joiners, a possessive."""
    spans = [m.span() for m in _WORD.finditer(name)]
    words = [name[s:e] for s, e in spans]
    first, last = 0, len(words)
    while first < last and words[first].lower().rstrip(".") in _NEVER:
        first += 1
    while last > first and words[last - 1] in _CONNECTORS:
        last -= 1
    if first == last:
        return "", start
    kept = name[spans[first][0] : spans[last - 1][1]]
    kept = _POSSESSIVE_END.sub("", kept).rstrip(".")
    return kept, start + spans[first][0]


def _plausible(words: list[str]) -> bool:
    """Not a date, a shout, a run of sentence words or of adjectives, not a bare title."""
    capitals = [w for w in words if w[:1].isupper()]
    if not capitals or any(w.lower().rstrip(".") in _NEVER for w in capitals):
        return False
    if capitals[-1] in _TITLE_WORDS or all(_ADJECTIVE.search(w) for w in capitals):
        return False  # "Russian President", "Western European"
    if all(w.isupper() for w in capitals):
        return False  # ALL-CAPS headings and acronyms: the catalog's business
    return all(len(w.rstrip(".")) > 1 for w in capitals) or len(capitals) > 1


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip(' "“‘(')
    return not before or before[-1] in ".!?:"


def _is_organisation(words: list[str]) -> bool:
    return any(w.lower().strip(".") in _ORGANISATION_WORDS for w in words)


def line_of(candidate: Candidate, quote_line: str) -> str:
    """How one sighting is kept in a source's contribution: name, kind, alias, its quote line."""
    return f"{candidate.name}\t{candidate.kind}\t{candidate.alias or ''}\t{quote_line}"


def sightings(lines: str) -> list[tuple[str, str, str, str]]:
    """(name, kind, alias, quote line) for each line a source gave the Candidates note."""
    out = []
    for line in lines.splitlines():
        name, kind, alias, quote = line.split("\t", 3)
        out.append((name, kind, alias, quote))
    return out
