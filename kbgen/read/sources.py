"""Discovering, hashing and reading sources into Articles (pure but for the read)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from kbgen.core.errors import KbgenError, SourceError

if TYPE_CHECKING:  # a build the snapshot answers never loads the data model
    from kbgen.core.model import Article

# The suffixes kbgen reads (readers.READERS, which is imported only when a source is parsed).
SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".html", ".htm"})

_EDITOR_TEMP = re.compile(r"^\.|^#.*#$|~$|\.(swp|swx|swo|tmp|part|crdownload)$|___jb_(tmp|old)___$")


def is_editor_temp(name: str) -> bool:
    """Hidden files and what editors leave beside the file they save (vim, Emacs, JetBrains)."""
    return _EDITOR_TEMP.search(name) is not None


def is_source_name(name: str) -> bool:
    """A file kbgen reads as an article: a suffix it knows, and not an editor's temp file.

    Written for speed (a build asks it of every file in the sources folder):
    of the editor temp files, only hidden ones end with such a suffix.
    """
    dot = name.rfind(".")
    return dot > 0 and name[0] != "." and name[dot:].lower() in SUFFIXES


class SourceFile(NamedTuple):  # a tuple: ten thousand of them are made by every build
    rel: str  # relative to the sources folder, "/"-separated
    path: str  # as the OS names it
    stat: os.stat_result | None = None  # taken when the folder was listed


def discover(
    root: Path, follow_symlinks: bool = False
) -> tuple[list[SourceFile], list[SourceError]]:
    """Every readable source under `root`, sorted; symlinks leaving `root` are refused.

    One `scandir` walk with one stat per source: that stat is what lets an
    unchanged source be skipped without reading it.
    """
    if not root.is_dir():  # unmounted or mistyped: not "every source was removed"
        raise KbgenError(f"{root}: the sources folder does not exist; nothing was changed")
    found: list[SourceFile] = []
    errors: list[SourceError] = []
    real_root = root.resolve()
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            if not prefix:  # the whole folder unreadable is not "every source was removed"
                raise KbgenError(
                    f"{root}: cannot list the sources folder ({exc.strerror})"
                ) from exc
            errors.append(SourceError(prefix, f"cannot list the folder: {exc.strerror}"))
            continue
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=follow_symlinks):
                if name[0] != ".":
                    stack.append((entry.path, f"{prefix}{name}/"))
                continue
            if not is_source_name(name):
                continue
            path = entry.path
            if not follow_symlinks and entry.is_symlink() and not inside(path, real_root):
                errors.append(SourceError(prefix + name, OUTSIDE))
                continue
            try:
                stat = entry.stat()
            except OSError:
                stat = None  # a dangling link or a file gone since: reading it says which
            found.append(SourceFile(prefix + name, path, stat))
    found.sort()
    errors.sort(key=lambda e: e.path)
    return found, errors


def inside(path: str, real_root: Path) -> bool:
    return Path(path).resolve().is_relative_to(real_root)


OUTSIDE = "symlink to a file outside the sources folder; not followed (set follow_symlinks: true)"


def read_bytes(source: SourceFile) -> bytes:
    try:
        with open(source.path, "rb") as fh:
            return fh.read()
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
    from kbgen.core.model import Article
    from kbgen.read import clean, metadata
    from kbgen.read.decode import NotText, decode
    from kbgen.read.readers import READERS

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
    layout = clean.analyse(raw, rel)
    if not any(s.name == "body" and s.blocks for s in layout.sections):
        raise SourceError(rel, "no article text found after removing page clutter")
    meta = metadata.read_metadata(layout, raw.stated, [b.text for b in raw.blocks])
    return Article(rel, digest(data), meta, layout.sections, layout.dropped)
