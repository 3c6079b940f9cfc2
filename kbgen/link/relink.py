"""A catalog change, worked out entry by entry: what it relinks and what it renders again.

A build used to take any change to the catalog (a new alias, an actor note
the user wrote, a promoted candidate) as a reason to read every source
again. Only the entries that changed matter, and a source can link
differently only if the text of an alias they add, drop or hand to another
entry appears in it: the sources holding every word of such an alias
(`extract.words_of`, kept per source in the state) are read again, the rest
keep their contributions. What stays global — kbgen's code and the
honorifics, which make aliases of every person — still rebuilds everything.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from kbgen.core.model import Entity
from kbgen.link.catalog import Catalog
from kbgen.link.extract import alias_words, pattern_table

_FIELDS = tuple(f.name for f in dataclasses.fields(Entity))


def dumps(entities: Iterable[Entity]) -> str:
    """The catalog's entries, in order, as the state keeps them for the next build (every
    build makes this string: one list per entry, not `dataclasses.asdict`'s deep copies)."""
    rows = [[getattr(e, f) for f in _FIELDS] for e in entities]
    return json.dumps([_FIELDS, *rows], ensure_ascii=False, separators=(",", ":"))


def loads(stored: str | None) -> list[Entity] | None:
    """The entries `dumps` kept; None when there are none, or none this kbgen can read."""
    if stored is None:
        return None
    try:
        fields, *rows = json.loads(stored)
        if tuple(fields) != _FIELDS:
            return None  # kept by a kbgen whose entries had other fields
        return [_entry(row) for row in rows]
    except (ValueError, TypeError, KeyError):
        return None


def _entry(row: list[object]) -> Entity:
    values: dict[str, Any] = dict(zip(_FIELDS, row, strict=True))
    values["aliases"] = tuple(values["aliases"])
    return Entity(**values)


def changed_entries(old: Iterable[Entity], new: Iterable[Entity]) -> set[str]:
    """The keys of entries added, dropped or changed in any way (their notes show them)."""
    return _differing({e.key: e for e in old}, {e.key: e for e in new})


def moved_targets(old: Iterable[Entity], new: Iterable[Entity]) -> set[str]:
    """The keys whose links now go to another note: a user's note that declares the entry
    was added, renamed or removed (a change of kbgen's own note's name is the naming's)."""
    before = {e.key: e.user_note for e in old}
    after = {e.key: e.user_note for e in new}
    return {k for k in before.keys() & after.keys() if before[k] != after[k]}


def words_to_look_for(old: Catalog, new: Catalog) -> list[frozenset[str]]:
    """For each alias that matches differently now, the words a source must have to hold it.

    The aliases compared are the matcher's own (honorific variants included):
    an alias matches differently when the entries it stands for, or their
    order, changed — an alias taken by a second entry, or dropped by one.
    """
    changed = _differing(pattern_table(old), pattern_table(new))
    return sorted({alias_words(k) for k in changed}, key=sorted)


def _differing(before: Mapping[str, object], after: Mapping[str, object]) -> set[str]:
    """The keys added, dropped, or whose values differ."""
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
