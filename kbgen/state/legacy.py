"""The state.json of kbgen 0.1 builds, read once and replaced by the database.

kbgen 0.1 only ever wrote pure renderings, so what it wrote is the merge
base by hash; the base texts themselves were not kept, so a note edited
under 0.1 is kept as it is once, and merges from the next build on.
"""

from __future__ import annotations

import json
from pathlib import Path

from kbgen.core.errors import KbgenError
from kbgen.state.records import NoteRecord, SourceRecord, State

LEGACY_JSON = "state.json"


def load_legacy_json(folder: Path) -> State | None:
    """The state in `folder`'s state.json, if there is one."""
    path = folder / LEGACY_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise KbgenError(
            f"{path}: unreadable kbgen state ({exc}); move it aside to rebuild"
        ) from exc
    state = State()
    for kbgen_id, note in data.get("notes", {}).items():
        state.notes[kbgen_id] = NoteRecord(note["path"], note["sha"], note["sha"])
    for rel, source in data.get("sources", {}).items():
        state.sources[rel] = SourceRecord(source["digest"], source["id"])
    return state


def drop_legacy_json(folder: Path) -> None:
    (folder / LEGACY_JSON).unlink(missing_ok=True)
