"""Note ids: the `kbgen_id` every note kbgen writes carries, in one grammar.

    home                      the Home note
    candidates                the Candidates note
    timeline                  the Timeline note; `timeline@2017-03` (or `@2017`) a period's
    src-<12 hex digits>       an article's note (from its content when first seen: `source_id`)
    actor:<slug>, issue:<slug>   an entity's note; `actor:x@2017-03` its mentions of a month,
                              `actor:x@2017-03-14` of a day when the month is shown day by day
    author:<slug>             an author's note

A build, the state and the renderers all speak of notes by these ids: this module is the one
place that spells them.
"""

from __future__ import annotations

from typing import Any

HOME = "home"
CANDIDATES = "candidates"
TIMELINE = "timeline"
ACTOR = "actor:"
ISSUE = "issue:"
ENTITY_KINDS = (ACTOR, ISSUE)
AUTHOR = "author:"
SOURCE = "src-"


def source_id(digest: str) -> str:
    """A new source's note id, from its content: a source deleted and put back finds its
    orphaned note again (`build/naming.py` numbers one that is taken)."""
    return f"{SOURCE}{digest[:12]}"


def is_entity(kbgen_id: str) -> bool:
    """An actor's or an issue's note, or one of its mention pages."""
    return kbgen_id.startswith(ENTITY_KINDS)


def is_author(kbgen_id: str) -> bool:
    return kbgen_id.startswith(AUTHOR)


def is_timeline_period(kbgen_id: str) -> bool:
    return kbgen_id.startswith(f"{TIMELINE}@")


def timeline_period(kbgen_id: str) -> str:
    """The period of a Timeline period's note (`timeline@2017-03` → `2017-03`)."""
    return kbgen_id.partition("@")[2]


def period_page(period: str) -> str:
    return f"{TIMELINE}@{period}"


def page_id(entity: str, period: str) -> str:
    return f"{entity}@{period}"


def day_page(month: str, day: str) -> str:
    """The note of one day of a month page shown day by day (`actor:x@2017-03`, "14" →
    `actor:x@2017-03-14`)."""
    return f"{month}-{day}"


def month_page(page: str) -> str:
    """The month page whose contributions a page is made of: a day's month, else itself."""
    owner, _, period = page.partition("@")
    return f"{owner}@{period[:7]}" if len(period) == 10 else page


def is_page(kbgen_id: str) -> bool:
    return "@" in kbgen_id and is_entity(kbgen_id)


def page_period(kbgen_id: str) -> str:
    return kbgen_id.partition("@")[2]


def page_owner(kbgen_id: str) -> str:
    """The entity a mention page belongs to (`actor:x@2017-03` → `actor:x`)."""
    return kbgen_id.partition("@")[0]


# Vault-wide, per actor, issue, mention page and author note: [mentions, sources, the author's
# name (None for entities), {entity: paragraphs shared}, for a month page {day: mentions}].
Totals = dict[str, list[Any]]
