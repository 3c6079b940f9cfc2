"""Map.canvas: drawn again when what it shows may have changed, the user's arrangement kept."""

from __future__ import annotations

import json
from pathlib import Path

from kbgen.core.keys import (
    Totals,
)
from kbgen.core.model import Entity
from kbgen.render import canvas
from kbgen.state.store import (
    State,
)
from kbgen.vault import files as vault_mod
from kbgen.vault.actions import Plan
from kbgen.vault.files import MAP


def draw_map(
    vault: Path,
    entities: list[Entity],
    totals: Totals,
    after: State,
    redraw: bool,
    plan: Plan,
    base: str | None,
) -> tuple[bool, str | None]:
    """Map.canvas, drawn again when what it shows may have changed; the user's arrangement kept.

    Returns whether it was written, and where kbgen drew its nodes (None if not drawn), the
    base the next drawing tells the user's moves apart from."""
    path = vault / MAP
    old_bytes = vault_mod.read_bytes(path)
    if not redraw and old_bytes is not None:
        return False, None
    paths = {e.key: after.notes[e.key].path for e in entities if e.key in after.notes}
    paths |= {e.key: e.user_note for e in entities if e.user_note}
    drawn = canvas.build_canvas(entities, totals, paths)
    old = None
    if old_bytes is not None:
        try:
            old = json.loads(old_bytes)
        except ValueError:
            plan.notices.append(f"keep    {MAP}  (not valid JSON Canvas: left as it is)")
            return False, None
    data = canvas.dumps(canvas.merged_with(drawn, old, base))
    if data == old_bytes:
        return False, canvas.geometry(drawn)
    with vault_mod.Writer() as writer:
        writer.write(path, data)
    return True, canvas.geometry(drawn)
