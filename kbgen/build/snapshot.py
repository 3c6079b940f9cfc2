"""A no-op build in one listing: the vault and the sources as the last quiet build saw them.

A build reads nothing before it has listed the sources and the vault, and
everything it decides follows from what those listings point to, the
catalog files, kbgen's own code and the options. So when a build writes
nothing, kbgen keeps a digest of all of that (`key`) with what the build
reported; the next build whose listings give the same digest would read the
same bytes and decide the same, and reports that without loading the state.

Like git's index, a stat is only trusted if the file had not been modified
within the racy window before it was taken (a later change in the same
clock tick could keep size and times): a racy listing gives no key. Every
build that may write removes the snapshot first, so a build killed half-way
never leaves one that describes a vault it has changed since.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kbgen.build.report import Declined
from kbgen.core import filestat
from kbgen.core.config import Config
from kbgen.core.errors import KbgenError, SourceError
from kbgen.core.filestat import key_of
from kbgen.read.sources import SourceFile
from kbgen.state.store import DB_NAME, STATE_DIR

FILE = "snapshot.json"
VERSION = 4
QUIET_KINDS = frozenset({"unchanged", "kept", "forget", "saving"})  # actions that write nothing


@dataclass(frozen=True)
class Replay:
    """What the build that left the snapshot reported, enough to report it again."""

    key: str  # of the inputs it was made from
    sources: int
    errors: list[SourceError]
    actions: list[tuple[str, str, str, str]]  # kind, kbgen_id, path, detail; none "unchanged"
    unchanged: int
    notices: list[str]
    catalog_notes: list[str]


def code_digest() -> hashlib._Hash:
    """kbgen's own code and shipped catalog: any change to them may change every note."""
    return _code_digest().copy()


@functools.cache
def _code_digest() -> hashlib._Hash:
    """Read once per process: the code that runs is the code that was loaded (and `kbgen
    watch` builds again and again)."""
    h = hashlib.sha256()
    for path in code_files():
        h.update(path.read_bytes())
    return h


def code_files() -> list[Path]:
    """Every module of the package, in every stage's folder, and the shipped catalog."""
    package = Path(__file__).resolve().parent.parent
    return [*sorted(package.rglob("*.py")), package / "data" / "catalog.yaml"]


def inputs(config: Config, extra: Iterable[Path]) -> hashlib._Hash:
    """The digest of what a build starts from besides the listings, taken before it starts."""
    h = code_digest()
    h.update(repr((config.sources.resolve(), config.vault.resolve())).encode())
    catalogs = tuple(p.resolve() for p in config.catalogs)  # however they were typed
    h.update(repr((catalogs, config.follow_symlinks)).encode())
    for path in (*config.catalogs, *extra):
        h.update(_file_bytes(path))
    return h


def key(
    start: hashlib._Hash,
    files: Sequence[SourceFile],
    source_errors: Iterable[SourceError],
    notes: Mapping[str, os.stat_result],
    listed_at_ns: int,
) -> str | None:
    """The digest of everything a build starts from, or None if a stat in it is racy.

    `start` is `inputs()`; the listings are those the build was given. Ten
    thousand sources and as many notes: the stats are gathered by column
    and digested as one list of numbers, not formatted one by one.
    """
    stats = [f.stat for f in files] + list(notes.values())
    known = [st for st in stats if st is not None]  # None: a dangling link, reading it says why
    mtimes = array("q", [st.st_mtime_ns for st in known])
    if filestat.any_racy(mtimes, listed_at_ns):
        return None
    h = start.copy()
    h.update(
        f"{len(files)} {len(notes)} {[i for i, st in enumerate(stats) if st is None]}".encode()
    )
    h.update("\0".join([*(f.rel for f in files), *notes]).encode("utf-8", "surrogateescape"))
    h.update(mtimes.tobytes())
    h.update(array("q", [st.st_size for st in known]).tobytes())
    h.update(array("q", [st.st_ctime_ns for st in known]).tobytes())
    h.update(array("Q", [st.st_ino for st in known]).tobytes())
    errors = "\n".join(f"{e.path}\0{e.reason}" for e in source_errors)
    h.update(errors.encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _file_bytes(path: Path) -> bytes:
    try:
        st = path.stat()
    except OSError:
        return b"\0missing"
    return repr(key_of(st)).encode() + path.read_bytes()


def load(vault: Path) -> Replay | Declined:
    """The replay the last quiet build left (its `key` says for which inputs), or why none."""
    try:
        data = json.loads((vault / STATE_DIR / FILE).read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            return Declined("snapshot", "the snapshot is another version's of kbgen")
        if data.get("state") != state_stat(vault):  # the state deleted, restored or replaced
            return Declined("snapshot", "kbgen's state changed since the snapshot")
        return Replay(
            key=str(data["key"]),
            sources=int(data["sources"]),
            errors=[SourceError(p, r) for p, r in data["errors"]],
            actions=[(k, i, p, d) for k, i, p, d in data["actions"]],
            unchanged=int(data["unchanged"]),
            notices=list(data["notices"]),
            catalog_notes=list(data["catalog_notes"]),
        )
    except FileNotFoundError:
        return Declined("snapshot", "none: the last build wrote, failed or was not settled")
    except (OSError, ValueError, KeyError, TypeError):
        return Declined("snapshot", "the snapshot cannot be read")


def save(vault: Path, replay: Replay) -> None:
    data = {
        "version": VERSION,
        "key": replay.key,
        "state": state_stat(vault),
        "sources": replay.sources,
        "errors": [[e.path, e.reason] for e in replay.errors],
        "actions": [list(a) for a in replay.actions],
        "unchanged": replay.unchanged,
        "notices": replay.notices,
        "catalog_notes": replay.catalog_notes,
    }
    path = vault / STATE_DIR / FILE
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(temp, path)


def state_stat(vault: Path) -> list[int] | None:
    """The state database's stat: the replay stands for the state it was left beside."""
    try:
        return list(key_of((vault / STATE_DIR / DB_NAME).stat()))
    except OSError:
        return None


def forget(vault: Path) -> None:
    """Before a build that may write: from here on the snapshot may describe an old vault."""
    path = vault / STATE_DIR / FILE
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:  # left in place, it could make the next build skip a change
        raise KbgenError(f"{path}: cannot remove ({exc.strerror})") from exc
