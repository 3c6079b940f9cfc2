"""Which notes a build must render: the ones whose inputs changed, and no others.

A note is a pure function of its inputs, so a note none of whose inputs
changed would render to the same bytes: it is left unread and unwritten.
The inputs, and how a change to each is traced to the notes it reaches:

- a source's content: its own note, and every actor, issue or author note
  whose `Contribution` from that source differs (compared by digest);
- what the reduced notes show of a source (title, date, publisher, note
  name): every note it feeds, and the home note;
- a note's name: the note itself, and every note that links to it;
- vault-wide totals (mentions and sources per entity): the home note;
- the vault: a note deleted, emptied, truncated, moved or edited since
  kbgen last read it is planned again;
- a catalog entry (`relink`): the sources that may hold an alias that matches
  differently are read again, and traced as changed sources; the entry's
  note, Home and Candidates; where its links go, when that changed, every
  note linking to it;
- kbgen's own code or the honorifics (`fingerprint`): everything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kbgen.vault.plan import OnDisk

Ref = tuple[str, str | None, str | None, str | None, str | None]  # id, title, date, publisher, stem


@dataclass(frozen=True)
class Inputs:
    changed: set[str]  # source paths read and linked anew
    gone: set[str]  # source paths no longer in sources/
    # per changed or gone source, as last built, and per changed source, now: the digest of
    # what it gives each note (`Contribution.digest`), equal exactly when the contributions are
    old: Mapping[str, Mapping[str, str]]
    new: Mapping[str, Mapping[str, str]]
    old_refs: Mapping[str, Ref]  # per source path, as last built
    new_refs: Mapping[str, Ref]
    old_stems: Mapping[str, str]  # kbgen_id → stem, as last built
    new_stems: Mapping[str, str]
    totals_changed: bool


def notes_to_render(
    inputs: Inputs,
    located: Mapping[str, OnDisk],
    source_note: Mapping[str, str],
    feeds: Callable[[str], set[str]],
    feeders: Callable[[str], set[str]],
    related: Callable[[str], set[str]],
    showing: Callable[[str, str], set[str]] = lambda note, source: {note},
) -> set[str]:
    """kbgen_ids of the notes to render (callers intersect with the notes wanted).

    `source_note`: source path → its note's id; `feeds(path)`: the notes a
    source contributes to; `feeders(note)`: the sources contributing to a
    note; `related(entity)`: the entities listed in its "appears with";
    `showing(note, source)`: the notes that show what a source gives a note
    (itself, but for a month shown day by day: the source's day's, before
    and after).
    """
    out: set[str] = set()
    for source in sorted(inputs.changed | inputs.gone):
        before, after = inputs.old.get(source, {}), inputs.new.get(source, {})
        shown_differently = inputs.old_refs.get(source) != inputs.new_refs.get(source)
        for n in before.keys() | after.keys():
            if shown_differently or before.get(n) != after.get(n):
                out |= showing(n, source)
        if shown_differently:
            out.add("home")
        if source in inputs.changed:
            out.add(source_note[source])
    for kbgen_id, stem in inputs.new_stems.items():
        old = inputs.old_stems.get(kbgen_id)
        if stem == old:
            continue
        out.add(kbgen_id)
        if old is None:
            continue  # a new note: whatever links to it changed itself, and is traced above
        out.add("home")
        if kbgen_id.startswith(("actor:", "issue:", "author:")):
            out |= {source_note[s] for s in feeders(kbgen_id) if s in source_note}
            out |= related(kbgen_id)
        else:
            out |= {
                shown
                for s, n in source_note.items()
                if n == kbgen_id
                for feeds_note in feeds(s)
                for shown in showing(feeds_note, s)
            }
    if inputs.totals_changed:
        out.add("home")
    out |= {i for i, disk in located.items() if disk.path is None or disk.damaged or disk.moved}
    out |= {i for i, disk in located.items() if _edited_since(disk)}
    return out


def _edited_since(disk: OnDisk) -> bool:
    """Changed by the user since kbgen last looked: merged again (a removed key comes back)."""
    return not disk.unread and disk.path is not None and not disk.pristine
