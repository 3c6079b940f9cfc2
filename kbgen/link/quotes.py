"""Direct quotations and who said them (pure).

A quotation is text between curly or straight double quotes of four words
or more (shorter ones are scare quotes: a “reset”, “frozen”). It is
attributed only when its own sentence says who spoke, and the speaker is a
linked actor:

- before it: “Peskov said “…””, “Mr. Trump explained his thinking on Syria:
  “…””, “Putin has since responded that …, stating, “…””: the actor named
  just before the sentence's first verb of saying;
- after it: “… ,” Peskov said.” or “… ,” said Peskov.”;
- “according to X, “…””.

Anything else — no verb of saying, a pronoun (“he said”), a speaker the
catalog does not know — is left unattributed: better no quote than one put
in the wrong mouth.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kbgen.core.keys import ACTOR
from kbgen.core.model import Match
from kbgen.link.extract import sentence_at, sentence_spans, spanned

_QUOTED = re.compile(r"“([^”]{3,}?)”|\"([^\"]{3,}?)\"")
_SAYING = (
    r"said|says|say|told|tells|added|adds|explained|explains|responded|responds|replied|"
    r"stated|states|stating|saying|noted|notes|warned|warns|argued|argues|declared|declares|"
    r"insisted|insists|wrote|writes|tweeted|commented|remarked|asked|claimed|claims|"
    r"confirmed|suggested|announced|stressed|emphasised|emphasized|admitted|acknowledged"
)
_VERB = re.compile(rf"\b(?:{_SAYING})\b")
_AFTER = re.compile(rf"[,.!?]?[”\"]?\s*(?:(?:{_SAYING})\s+)?")
_ACCORDING = re.compile(r"according to\s*$", re.I)
_PRONOUN = re.compile(r"\b(?:he|she|they|it|we|I|who|which)\b")
_MAX_GAP = 40  # characters between a speaker and their verb of saying


@dataclass(frozen=True)
class Quote:
    speaker: str  # the entity key of the actor who said it
    text: str  # the words quoted, without the quotation marks
    start: int  # where the quotation (with its marks) is in the paragraph
    end: int


def find_quotes(text: str, matches: Sequence[Match]) -> list[Quote]:
    """Every attributed quotation in one paragraph, in order."""
    if "“" not in text and '"' not in text:
        return []
    actors = [m for m in matches if m.entity.startswith(ACTOR)]
    out = []
    spans: Sequence[tuple[int, int]] | None = None
    for q in _QUOTED.finditer(text):
        words = q.group(1) or q.group(2)
        if len(words.split()) < 4:
            continue
        spans = spans if spans is not None else sentence_spans(text)
        sentence = sentence_at(spans, q.start())
        start = sentence[0] if sentence else 0
        speaker = _speaker_before(text, start, q.start(), actors) or _speaker_after(
            text, q.end(), actors
        )
        if speaker is not None:
            out.append(Quote(speaker, words.strip(), q.start(), q.end()))
    return out


def _speaker_before(text: str, start: int, quote: int, actors: list[Match]) -> str | None:
    inside = [m for m in spanned(actors, start, quote) if m.end <= quote]
    before = text[start:quote]
    if _ACCORDING.search(text[start : inside[-1].start] if inside else "") and _only_punctuation(
        text[inside[-1].end : quote]
    ):
        return inside[-1].entity  # according to X, “…”
    verb = _VERB.search(before)
    if verb is None:
        return None
    at = start + verb.start()
    speakers = [m for m in inside if m.end <= at and at - m.end <= _MAX_GAP]
    if not speakers:
        return None
    nearest = speakers[-1]
    gap = text[nearest.end : at]
    if _VERB.search(gap) or "“" in gap or _PRONOUN.search(gap):
        return None  # "… North Korea, he responded that “…”": the speaker is not named
    return nearest.entity


def _speaker_after(text: str, end: int, actors: list[Match]) -> str | None:
    """“…,” Peskov said. — or “…,” said Peskov."""
    lead = _AFTER.match(text, end)  # at `end`, not on a copy of the rest of the paragraph
    at = lead.end() if lead else end
    for m in spanned(actors, at, at + 1):
        if m.start == at:
            rest = text[m.end : m.end + 20]
            said_before = lead is not None and _VERB.search(lead.group(0)) is not None
            if said_before or _VERB.match(rest.lstrip()):
                return m.entity
    return None


def _only_punctuation(gap: str) -> bool:
    return not gap.strip(" ,:") or gap.strip() in (",", ":")
