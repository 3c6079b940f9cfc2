"""What is in the vault now, besides kbgen's notes at their recorded paths.

Four kinds of note turn up: the user's own notes (never overwritten; a
`type: actor|issue` one becomes a link target), kbgen's notes that the user
moved or renamed (recognised by the `kbgen_id` in their frontmatter, so
identity lives in the note, not its path), copies of kbgen's notes, which
are the user's and declare nothing — and kbgen's notes whose state was lost
(the database deleted or moved aside), adopted again rather than duplicated.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbgen.core import yamlio
from kbgen.core.filestat import ByStat, StatKey, stat_key
from kbgen.core.model import Entity
from kbgen.link import catalog as catalog_mod
from kbgen.state.store import State
from kbgen.vault import properties

_HEAD_BYTES = 64 * 1024  # frontmatter longer than this is not looked at


@dataclass
class VaultScan:
    user_paths: list[str] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    found: dict[str, str] = field(default_factory=dict)  # kbgen_id → where the user moved it
    adopted: dict[str, str] = field(default_factory=dict)  # kbgen_id unknown to the state → path
    adopted_sources: dict[str, str] = field(default_factory=dict)  # source path → kbgen_id


def scan(vault: Path, state: State, listed: Mapping[str, os.stat_result]) -> VaultScan:
    """`listed`: every note in the vault (vault-relative) with its stat; only those kbgen does
    not own are read."""
    result = VaultScan()
    owned = state.owned_paths()
    now = time.time_ns()
    for rel, st in listed.items():
        if rel in owned:
            continue
        fm = _frontmatter_at(vault / rel, stat_key(st, now))
        kbgen_id = str(fm.get("kbgen_id", "")) or None
        rec = state.notes.get(kbgen_id) if kbgen_id else None
        if kbgen_id and rec is not None and kbgen_id not in result.found and rec.path not in listed:
            result.found[kbgen_id] = rel
            continue
        if kbgen_id and rec is None and kbgen_id not in result.adopted:
            result.adopted[kbgen_id] = rel  # kbgen's note, but its state is gone
            if fm.get("type") == "source" and isinstance(fm.get("source"), str):
                result.adopted_sources.setdefault(fm["source"], kbgen_id)
            continue
        result.user_paths.append(rel)
        entity = None if kbgen_id else catalog_mod.user_entity(rel, fm)
        if entity is not None:
            result.entities.append(entity)
    return result


_READ: ByStat[dict[str, Any]] = ByStat()  # the user's notes' properties, by their stat


def _frontmatter_at(path: Path, stat: StatKey | None) -> dict[str, Any]:
    """`frontmatter_of`, read again only when the note's stat changed (None: too recent to
    trust): `kbgen watch` looks at all of the user's notes before every build."""
    return _READ.get(path, stat, lambda: frontmatter_of(path))


def frontmatter_of(path: Path) -> dict[str, Any]:
    """A note's properties, or {} when it has none or they are not valid YAML."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError:
        return {}
    fm, _ = properties.split_note(head.decode("utf-8", errors="replace"))
    if fm is None:
        return {}
    try:
        data = yamlio.load(fm)
    except yamlio.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


Signature = tuple[str, str, str, tuple[str, ...]] | None | str


def catalog_signature(path: Path) -> Signature:
    """What a note gives the catalog: its type, kind, description and aliases (or its ticks).

    None when it gives nothing (no such note, or not `type: actor|issue`);
    "invalid" when its properties cannot be read just now (being typed,
    unclosed), so that `kbgen watch` waits for them to make sense.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError:
        return None
    text = head.decode("utf-8", errors="replace")
    fm, _ = properties.split_note(text)
    if fm is None:
        return "invalid" if text.startswith("---") else None
    try:
        data = yamlio.load(fm)
    except yamlio.YAMLError:
        return "invalid"
    if not isinstance(data, dict):
        return None
    type_ = str(data.get("type", "")).strip().lower()
    if type_ == "candidates":  # its ticks promote candidates to actors
        from kbgen.render.promotion import promoted_in

        try:
            ticked, unticked = promoted_in(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None
        return (type_, "", "", (*sorted(ticked), "|", *sorted(unticked)))
    if type_ not in ("actor", "issue"):
        return None
    aliases = data.get("aliases") or []
    aliases = [aliases] if isinstance(aliases, str) else aliases
    listed = tuple(str(a) for a in aliases) if isinstance(aliases, list) else (str(aliases),)
    return (type_, str(data.get("kind", "")), str(data.get("description", "")), listed)
