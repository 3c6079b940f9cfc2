"""What a build tells the user about their own notes: names chosen beside theirs, their notes
that are link targets, notes of kbgen's they moved; and which notes feed the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable

from kbgen.core.keys import (
    CANDIDATES,
    is_entity,
    is_page,
)
from kbgen.core.model import Entity
from kbgen.core.names import Naming, fold_key, stem_of
from kbgen.state.store import (
    State,
)
from kbgen.vault.actions import Plan
from kbgen.vault.locate import OnDisk
from kbgen.vault.scan import VaultScan


def notices_of(
    plan: Plan, naming: Naming, scan_: VaultScan, located: dict[str, OnDisk]
) -> list[str]:
    """What a user must be told: names chosen beside theirs, their notes used as targets."""
    by_key = {fold_key(stem_of(p)): p for p in scan_.user_paths}
    created = {a.kbgen_id: a.path for a in plan.of("create", "restore")}
    out = [
        f"name    {created[i]}  (your note {by_key[fold_key(name)]} has the name "
        f"'{name}'; it is left as it is)"
        for i, name in sorted(naming.displaced.items())
        if i in created
    ]
    out += user_notices(scan_.entities)
    out += [
        f"found   {disk.path}  (moved or renamed by you; kept there)"
        for disk in located.values()
        if disk.moved and disk.path
    ]
    return out


def user_notices(entities: Iterable[Entity]) -> list[str]:
    """The notices every build gives for the user's notes that are link targets."""
    return [
        f"link    {e.name} → your note {e.user_note} (it says type: {e.type})" for e in entities
    ]


def catalog_notes(found: VaultScan, after: State) -> list[str]:
    """The notes the watcher reads catalog entries from: the user's and kbgen's entity notes."""
    return sorted(
        {e.user_note for e in found.entities if e.user_note}
        | {
            r.path
            for i, r in after.notes.items()
            if i == CANDIDATES or (is_entity(i) and not is_page(i))
        }
    )
