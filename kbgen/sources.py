"""Discovering, hashing and reading sources into Articles (pure but for the read)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import clean, metadata
from .decode import NotText, decode
from .errors import SourceError
from .model import Article
from .readers import READERS

_EDITOR_TEMP = re.compile(r"^\.|~$|\.(swp|swx|swo|tmp|part|crdownload)$|___jb_(tmp|old)___$")


@dataclass(frozen=True)
class SourceFile:
    rel: str  # relative to the sources folder, "/"-separated
    path: Path


def discover(
    root: Path, follow_symlinks: bool = False
) -> tuple[list[SourceFile], list[SourceError]]:
    """Every readable source under `root`, sorted; symlinks leaving `root` are refused."""
    if not root.is_dir():
        return [], [SourceError(str(root), "sources folder does not exist")]
    found: list[SourceFile] = []
    errors: list[SourceError] = []
    real_root = root.resolve()
    for dirpath, dirs, files in os.walk(root, followlinks=follow_symlinks):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if _EDITOR_TEMP.search(name) or path.suffix.lower() not in READERS:
                continue
            if path.is_symlink() and not follow_symlinks:
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    errors.append(
                        SourceError(
                            rel,
                            "symlink to a file outside the sources "
                            "folder; not followed (set follow_symlinks: true)",
                        )
                    )
                    continue
            found.append(SourceFile(rel, path))
    return found, errors


def read_bytes(source: SourceFile) -> bytes:
    try:
        return source.path.read_bytes()
    except PermissionError as exc:
        raise SourceError(source.rel, "cannot read the file: permission denied") from exc
    except IsADirectoryError as exc:
        raise SourceError(source.rel, "is a folder, not a file") from exc
    except OSError as exc:
        raise SourceError(source.rel, f"cannot read the file: {exc.strerror}") from exc


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse(rel: str, data: bytes) -> Article:
    """Bytes of one source → Article; SourceError says what is wrong and where."""
    if not data.strip():
        raise SourceError(rel, "empty file")
    try:
        text = decode(data)
    except NotText as exc:
        raise SourceError(rel, str(exc)) from exc
    if not text.strip():
        raise SourceError(rel, "contains only whitespace")
    reader = READERS[Path(rel).suffix.lower()]
    try:
        raw = reader(text)
    except ValueError as exc:
        raise SourceError(rel, str(exc)) from exc
    layout = clean.analyse(raw)
    if not any(s.name == "body" and s.blocks for s in layout.sections):
        raise SourceError(rel, "no article text found after removing page clutter")
    meta = metadata.read_metadata(layout, raw.stated, [b.text for b in raw.blocks])
    return Article(source=rel, digest=digest(data), meta=meta, sections=layout.sections)
