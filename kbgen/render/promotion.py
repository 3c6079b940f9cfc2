"""The Candidates note, and promotion: a ticked candidate becomes an actor.

The note lists what `candidates.find_candidates` found, the most sources
first, each with a few of its sentences and a checkbox. Ticking one is the
whole promotion: the next build reads the tick, keeps the name in its state
as a promoted actor (and writes it under *Promoted* in the note, where
unticking undoes it), adds it to the catalog, and so links it everywhere.
Ticks are read only in the two lists kbgen writes, and are "consumed" before
the note is merged, so moving a name from one list to the other is never a
conflict with the user's tick.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kbgen.core.keys import ACTOR, CANDIDATES
from kbgen.core.markdown import escape, frontmatter, wikilink
from kbgen.core.model import Entity, Note
from kbgen.core.plural import counted
from kbgen.link.candidates import sightings
from kbgen.link.catalog import slug
from kbgen.link.index import SOURCE_NOTE
from kbgen.render.notes import SourceRef, newest_first

SHOWN = 200  # candidates listed, the most sources first
SENTENCES = 3  # sentences quoted per candidate
_TICKED_CANDIDATE = re.compile(r"^- \[([ xX])\] \*\*(.+?)\*\*(?: —|$)")
_PROMOTED_LINE = re.compile(r"^- \[([ xX])\] \[\[([^\]|#]+)(?:\|([^\]]+))?\]\]")


@dataclass(frozen=True)
class Promoted:
    """A candidate the user ticked: an actor from then on, rendered by kbgen like any other."""

    name: str
    kind: str
    alias: str | None


def render_candidates(
    lines: Mapping[str, str],
    refs: Mapping[str, SourceRef],
    counts: Mapping[str, int],
    promoted: Sequence[str],
    stems: Mapping[str, str],
) -> Note:
    """`lines` per source; `counts`: sources per name; `promoted`: names; `stems`: their notes
    (a promoted name no source mentions any more has none)."""
    by_name: dict[str, list[tuple[SourceRef, str]]] = {}
    kinds: dict[str, str] = {}
    for source in sorted(lines, key=lambda s: newest_first(refs[s])):
        ref = refs[source]
        for name, kind, _, quote in sightings(lines[source]):
            by_name.setdefault(name, []).append((ref, quote.replace(SOURCE_NOTE, ref.stem)))
            kinds[name] = kinds.get(name) or kind
    ranked = sorted(by_name, key=lambda n: (-counts.get(n, 0), n.casefold()))[:SHOWN]
    fields = {"type": "candidates", "kbgen_id": CANDIDATES, "candidates": len(by_name)}
    parts = [
        "Names in the sources that look like actors but are in no catalog entry, the most "
        "sources first. Tick one (`- [x]`) to make it an actor: the next build gives it a note "
        "in Actors and links it in every source. Untick it under *Promoted* to undo."
    ]
    if ranked:
        parts.append(
            "## Candidates\n\n" + "\n".join(_entry(n, kinds[n], counts, by_name[n]) for n in ranked)
        )
    else:
        parts.append("## Candidates\n\nNo candidates: every name found is in the catalog.")
    if promoted:
        rows = [
            f"- [x] {wikilink(stems[n], n)}"
            if n in stems
            else f"- [x] **{escape(n)}** — in no source now"
            for n in sorted(promoted, key=str.casefold)
        ]
        parts.append("## Promoted\n\n" + "\n".join(rows))
    return Note(
        CANDIDATES, "", "Candidates", frontmatter(fields) + "\n" + "\n\n".join(parts) + "\n"
    )


def _entry(
    name: str, kind: str, counts: Mapping[str, int], seen: list[tuple[SourceRef, str]]
) -> str:
    n = counts.get(name, 0)
    head = f"- [ ] **{escape(name)}** — {kind or 'name'} · {counted(n, 'source')}"
    quotes = [f"  {quote}" for _, quote in seen[:SENTENCES]]
    return "\n".join([head, *quotes])


def promoted_in(text: str) -> tuple[set[str], set[str]]:
    """(names ticked in the candidate list or left ticked under Promoted, names unticked there).

    Only the two lists kbgen writes are read: a checkbox of the user's own
    elsewhere in the note is theirs, not an instruction.
    """
    ticked: set[str] = set()
    unticked: set[str] = set()
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.strip():
            continue
        if section == "Candidates" and (m := _TICKED_CANDIDATE.match(line)):
            if m.group(1) != " ":
                ticked.add(_unescaped(m.group(2)))
        elif section == "Promoted" and (m := _PROMOTED_LINE.match(line)):
            name = m.group(3) or m.group(2)
            (unticked if m.group(1) == " " else ticked).add(name)
        elif section == "Promoted" and (m := _TICKED_CANDIDATE.match(line)):
            name = _unescaped(m.group(2))
            (unticked if m.group(1) == " " else ticked).add(name)
        elif not line.startswith("  "):
            section = ""  # a paragraph of the user's ends kbgen's list
    return ticked, unticked


def consume_ticks(text: str) -> str:
    """The note with the user's ticks put back as kbgen wrote them, once they have been acted on.

    Ticking moves a name from one list to the other in the next rendering; a
    three-way merge would see the user's changed line deleted by kbgen and
    call it a conflict. The tick has been read, so it is taken back first.
    """
    out = []
    section = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            section = line[3:].strip()
        elif section == "Candidates" and _TICKED_CANDIDATE.match(line):
            line = "- [ ]" + line[5:]
        elif section == "Promoted" and (
            _PROMOTED_LINE.match(line) or _TICKED_CANDIDATE.match(line)
        ):
            line = "- [x]" + line[5:]
        out.append(line)
    return "".join(out)


def _unescaped(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


def promotions(
    stored: Sequence[Promoted], note: str | None, seen: Callable[[], Mapping[str, str]]
) -> list[Promoted]:
    """The promoted actors: those of the last build, plus the note's ticks, minus its unticks.

    `note`: the Candidates note's text when the user changed it (else None);
    `seen()`: every source's candidate lines, looked at only for a new tick
    (its kind and acronym).
    """
    if note is None:
        return list(stored)
    ticked, unticked = promoted_in(note)
    kept = {p.name: p for p in stored if p.name not in unticked}
    new = ticked - kept.keys()
    if new:
        details: dict[str, tuple[str, str]] = {}
        for lines in seen().values():
            for name, kind, alias, _ in sightings(lines):
                old_kind, old_alias = details.get(name, ("", ""))
                details[name] = (old_kind or kind, old_alias or alias)
        for name in new:
            kind, alias = details.get(name, ("", ""))
            kept[name] = Promoted(name, kind, alias or None)
    return sorted(kept.values(), key=lambda p: p.name.casefold())


def dumps(promoted: Sequence[Promoted]) -> str:
    return json.dumps([[p.name, p.kind, p.alias] for p in promoted], ensure_ascii=False)


def loads(text: str | None) -> list[Promoted]:
    return [Promoted(str(n), str(k), a) for n, k, a in json.loads(text or "[]")]


def entity_of(promoted: Promoted) -> Entity:
    """The catalog entry of a promoted candidate: its acronym, and a person's surname, as aliases."""
    words = promoted.name.split()
    aliases = [promoted.alias] if promoted.alias else []
    if promoted.kind == "person" and len(words) > 1:
        aliases.append(words[-1])
    return Entity(
        key=f"{ACTOR}{slug(promoted.name)}",
        name=promoted.name,
        type="actor",
        kind=promoted.kind or None,
        aliases=tuple(aliases),
        description=None,
    )
