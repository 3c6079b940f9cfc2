"""The catalog of actors and issues: shipped YAML, extra YAML files, and the vault.

A user extends the catalog from inside Obsidian: any note of theirs with
`type: actor` or `type: issue` in its frontmatter becomes a link target, under
its own file name, with its `aliases`. Such a note wins over a shipped entry
of the same name, because kbgen must never write into a note it did not make.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from kbgen.core import yamlio
from kbgen.core.errors import KbgenError
from kbgen.core.keys import AUTHOR
from kbgen.core.model import Entity

_FORBIDDEN_IN_ALIAS = re.compile(r"[\[\]|#^]")


@dataclass(frozen=True)
class Catalog:
    entities: tuple[Entity, ...]
    honorifics: tuple[str, ...]

    def by_key(self) -> dict[str, Entity]:
        return {e.key: e for e in self.entities}


def slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-") or "x"


def author_id(name: str) -> str:
    """An author note's kbgen_id: the same person under the same name is the same note."""
    return f"{AUTHOR}{slug(name)}"


def _entity(item: dict[str, Any], type_: str, origin: str) -> Entity:
    name = str(item.get("name") or "").strip()
    if not name:
        raise KbgenError(f"{origin}: a {type_} entry has no name")
    aliases = [str(a).strip() for a in item.get("aliases") or [] if str(a).strip()]
    for alias in [name, *aliases]:
        if _FORBIDDEN_IN_ALIAS.search(alias):
            raise KbgenError(f"{origin}: alias {alias!r} of {name!r} contains one of [ ] | # ^")
    return Entity(
        key=f"{type_}:{slug(name)}",
        name=name,
        type="actor" if type_ == "actor" else "issue",
        kind=str(item["kind"]) if item.get("kind") else None,
        aliases=tuple(dict.fromkeys(a for a in aliases if a != name)),
        description=str(item["description"]).strip() if item.get("description") else None,
    )


def parse_catalog(text: str, origin: str) -> Catalog:
    try:
        data = yamlio.load(text) or {}
    except yamlio.YAMLError as exc:
        raise KbgenError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise KbgenError(f"{origin}: expected a mapping with 'actors' and 'issues'")
    entities = [_entity(i, "actor", origin) for i in data.get("actors") or []]
    entities += [_entity(i, "issue", origin) for i in data.get("issues") or []]
    honorifics = tuple(str(h) for h in data.get("honorifics") or [])
    return Catalog(tuple(entities), honorifics)


@functools.cache  # package data, frozen values: `kbgen watch` parses it once, not every sync
def load_builtin() -> Catalog:
    text = resources.files("kbgen").joinpath("data/catalog.yaml").read_text(encoding="utf-8")
    return parse_catalog(text, "kbgen/data/catalog.yaml")


def load(
    extra_files: list[Path],
    user_entities: list[Entity],
    added_aliases: dict[str, list[object]] | None = None,
    promoted: list[Entity] | None = None,
) -> Catalog:
    """The shipped catalog, then each extra file, then promoted candidates, then user notes.

    `added_aliases` are aliases the user wrote into kbgen's own actor and
    issue notes (entity key → aliases): honoured like the catalog's own.
    A promoted candidate takes only aliases no other entry has (a surname
    may well be someone else's), and nothing from an entry of the same key.
    """
    base = load_builtin()
    merged: dict[str, Entity] = {e.key: e for e in base.entities}
    honorifics = list(base.honorifics)
    for path in extra_files:
        try:
            extra = parse_catalog(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise KbgenError(f"{path}: cannot read catalog ({exc.strerror})") from exc
        merged.update({e.key: e for e in extra.entities})
        honorifics += [h for h in extra.honorifics if h not in honorifics]
    taken = {a for e in merged.values() for a in (e.name, *e.aliases)}
    for candidate in promoted or []:
        if candidate.key not in merged and candidate.name not in taken:
            aliases = tuple(a for a in candidate.aliases if a not in taken)
            merged[candidate.key] = replace(candidate, aliases=aliases)
            taken.update((candidate.name, *aliases))
    for user in user_entities:
        shipped = merged.get(user.key)
        if shipped is not None:
            aliases = tuple(dict.fromkeys(shipped.aliases + user.aliases))
            user = replace(
                user,
                aliases=aliases,
                kind=user.kind or shipped.kind,
                description=user.description or shipped.description,
            )
        merged[user.key] = user
    catalog = Catalog(tuple(sorted(merged.values(), key=lambda e: e.key)), tuple(honorifics))
    return with_note_aliases(catalog, added_aliases or {})


def with_note_aliases(catalog: Catalog, added: Mapping[str, list[object]]) -> Catalog:
    """The catalog with the aliases the user wrote into kbgen's entity notes (key → aliases)."""
    by_key = {e.key: e for e in catalog.entities}
    for key, written in sorted(added.items()):
        entity = by_key.get(key)
        if entity is not None:
            mine = usable_aliases(written, entity.name)
            by_key[key] = replace(entity, aliases=tuple(dict.fromkeys((*entity.aliases, *mine))))
    out = Catalog(tuple(by_key[e.key] for e in catalog.entities), catalog.honorifics)
    check_aliases(out)
    return out


def aliases_beyond(catalog: Catalog, before: Catalog) -> dict[str, list[str]]:
    """Per entry, the aliases `catalog` has that `before` had not (key → aliases, in order)."""
    had = {e.key: set(e.aliases) for e in before.entities}
    out = {}
    for e in catalog.entities:
        extra = [a for a in e.aliases if a not in had.get(e.key, set())]
        if extra:
            out[e.key] = extra
    return out


def check_aliases(catalog: Catalog) -> None:
    """Fail loudly when one alias would link two entries: the user must choose."""
    owner: dict[str, Entity] = {}
    for entity in catalog.entities:
        for alias in (entity.name, *entity.aliases):
            other = owner.setdefault(alias, entity)
            if other.key != entity.key:
                where = entity.user_note or other.user_note or "the catalog"
                raise KbgenError(
                    f"{where}: alias {alias!r} belongs to both {other.name!r} and {entity.name!r}"
                )


def usable_aliases(raw: list[object], name: str) -> tuple[str, ...]:
    """Aliases a user wrote in a note's properties, minus blanks, the name itself and link syntax."""
    cleaned = (str(x).strip() for x in raw if x is not None)
    return tuple(a for a in cleaned if a and a != name and not _FORBIDDEN_IN_ALIAS.search(a))


def user_entity(path: str, fm: dict[str, Any]) -> Entity | None:
    """An entity declared by a user's own note (`type: actor|issue`), or None."""
    type_ = str(fm.get("type", "")).strip().lower()
    if type_ not in ("actor", "issue"):
        return None
    name = Path(path).stem
    raw_aliases = fm.get("aliases") or []
    if isinstance(raw_aliases, str):
        raw_aliases = [raw_aliases]
    aliases = usable_aliases(raw_aliases, name)
    return Entity(
        key=f"{type_}:{slug(name)}",
        name=name,
        type="actor" if type_ == "actor" else "issue",
        kind=str(fm["kind"]) if fm.get("kind") else None,
        aliases=aliases,
        description=str(fm["description"]) if fm.get("description") else None,
        user_note=path,
    )
