"""What kbgen last wrote, kept in the vault at `.kbgen/state.json`.

One JSON file, written atomically (temp + fsync + rename): small, readable
when something goes wrong, and never half-written. For each note: its path
and the hash of the bytes kbgen wrote, which is how a user's edit is told
apart from kbgen's own output. Before a batch of writes, the hashes about to
be written are recorded as `next`, so a build killed mid-way does not mistake
its own half-finished work for the user's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .vault import atomic_write

STATE_DIR = ".kbgen"
VERSION = 1


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class NoteState:
    path: str
    sha: str
    next: str | None = None

    def written_by_us(self, digest: str) -> bool:
        return digest in (self.sha, self.next)


@dataclass
class SourceState:
    digest: str
    id: str


@dataclass
class State:
    notes: dict[str, NoteState] = field(default_factory=dict)
    sources: dict[str, SourceState] = field(default_factory=dict)

    def owned_paths(self) -> set[str]:
        return {n.path for n in self.notes.values()}

    def to_json(self) -> str:
        data = {
            "version": VERSION,
            "notes": {
                k: {kk: vv for kk, vv in vars(v).items() if vv is not None}
                for k, v in sorted(self.notes.items())
            },
            "sources": {k: vars(v) for k, v in sorted(self.sources.items())},
        }
        return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def state_path(vault: Path) -> Path:
    return vault / STATE_DIR / "state.json"


def load(vault: Path) -> State:
    path = state_path(vault)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return State()
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{path}: unreadable kbgen state ({exc}); move it aside to rebuild"
        ) from exc
    return State(
        notes={k: NoteState(**v) for k, v in data.get("notes", {}).items()},
        sources={k: SourceState(**v) for k, v in data.get("sources", {}).items()},
    )


def save(vault: Path, state: State) -> None:
    """Write the state, unless the file already says exactly this (a no-op build writes nothing)."""
    data = state.to_json().encode("utf-8")
    path = state_path(vault)
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write(path, data)
