"""The only module that writes notes: atomic writes, deletes; also the vault's listing.

A write goes to a hidden temp file in the same folder (Obsidian ignores
dot-files), is fsynced, then renamed over the target: a reader, Obsidian or
a crash sees the old bytes or the new ones, never a mix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, cast

from kbgen.core import forked
from kbgen.core.errors import KbgenError

MAP = "Map.canvas"  # kbgen's JSON Canvas of actors and issues (not a note)
# Forked processes a background `Writer` shares each batch between: one creates files while the
# other waits on an fsync (a cold build of 10,000 articles writes 13,807 notes)
WRITING_PROCESSES = 2
TEMP_PREFIX = ".kbgen-tmp-"


# A note's stat just after kbgen wrote it (None if it could not be taken), and when it was taken
Written = tuple[os.stat_result | None, int]
# What `Writer.write` gives for a note it did not write, or put back as it was, because the
# note no longer held what the build planned against: the user saved it meanwhile
NOT_WRITTEN: Written = (None, -1)
UNCHECKED = b"\0kbgen: write whatever the file holds"  # `expect` for a file no one else writes
# What writing a batch of notes did: each written note's `Written`, in order, up to the first
# that failed, and that one's index and error
Outcome = tuple[list[Written], tuple[int, OSError] | None]


class Writer:
    """Atomic writes of many notes; each folder's entry is made durable once, at the end.

    A note's bytes are fsynced before its rename (the rename must never
    expose a file whose content is not on disk); the folder, whose fsync
    makes the rename itself durable, needs it once per batch, not per note:
    the state is committed only after `close`, so a rename lost to a power
    cut is a write the next build redoes.

    `background`: `write_all` shares its batches between forked helper processes
    (`WRITING_PROCESSES`), which write them while this process goes on (see
    `execute.Execution`). Creating, fsyncing and renaming files is mostly the kernel's work: a
    thread would do it too, but it needs Python's lock between calls, and it slowed the
    renderings it ran beside as much as it saved. `close` waits for the batches under way.
    """

    def __init__(self, background: bool = False) -> None:
        self._folders: set[Path] = set()
        # notes replaced whose old file is still linked aside: (aside, note, data, expect)
        self._asides: list[tuple[Path, Path, bytes, bytes]] = []
        self._renamed_at = 0.0
        self._helper: Any = None
        if background:
            self._helper = forked.executor(WRITING_PROCESSES)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, path: Path, data: bytes, expect: bytes | None = UNCHECKED) -> Written:
        """Write `path` now, if it still holds `expect` (None: if it does not exist); its stat
        just after, or `NOT_WRITTEN` when it did not hold that, or an editor saved it while
        it was being replaced (`_replace_if`)."""
        self._folder(path.parent)
        tmp = path.parent / f"{TEMP_PREFIX}{os.getpid()}-{path.name}"
        try:
            _write_durably(tmp, data)
            replaced = _replace_if(tmp, path, data, expect)
            if not replaced:
                return NOT_WRITTEN
            if isinstance(replaced, Path):  # the old file, kept aside a while (`settle`)
                self._asides.append((replaced, path, data, cast(bytes, expect)))
                self._renamed_at = time.monotonic()
        finally:
            tmp.unlink(missing_ok=True)  # a full disk leaves no half-written file behind
        now = time.time_ns()  # before the stat, as `filestat.stat_key` wants it
        try:
            return os.stat(path), now
        except OSError:
            return None, now

    def write_all(self, items: list[tuple[Path, bytes, bytes | None]]) -> Callable[[], Outcome]:
        """Write each (path, bytes), stopping at the first that fails: now, or shared between
        the helper processes if there are any (each path is written once: in any order). The
        returned function gives the `Outcome`, waiting for it if need be: the notes written
        before the first failure in `items`' order (those another helper wrote after it are
        left to the journal, as a killed build's are)."""
        for path, _, _ in items:
            self._folder(path.parent)  # made here: `close` fsyncs what this process knows of
        if self._helper is None or not items:
            done = _write_each(self, items)
            return lambda: done
        from concurrent.futures import BrokenExecutor

        def stopped(exc: BrokenExecutor) -> Outcome:  # a helper was killed (out of memory?)
            return [], (0, OSError(errno.EIO, f"kbgen's writing process stopped ({exc})"))

        size = -(-len(items) // WRITING_PROCESSES)
        try:
            futures = [
                self._helper.submit(_write_in_helper, items[i : i + size])
                for i in range(0, len(items), size)
            ]
        except BrokenExecutor as exc:  # one stopped while writing an earlier batch
            broken = stopped(exc)
            return lambda: broken

        def later() -> Outcome:
            written: list[Written] = []
            for future in futures:
                try:
                    done, failed = cast(Outcome, future.result())
                except BrokenExecutor as exc:
                    done, failed = stopped(exc)
                if failed is not None:
                    return written + done, (len(written) + failed[0], failed[1])
                written += done
            return written, None

        return later

    def _folder(self, folder: Path) -> None:
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def settle(self) -> set[Path]:
        """The notes written since the last call whose old file took a save after all, put
        back as `_replace_if` does (the caller counts them as not written).

        An editor may have opened the note just before kbgen's rename and write into the old
        file just after kbgen looked at it: the old file is kept aside until the batch is
        written, and at least `SETTLE_SECONDS` after the last rename, then looked at again."""
        if not self._asides:
            return set()
        time.sleep(max(0.0, self._renamed_at + SETTLE_SECONDS - time.monotonic()))
        asides, self._asides = self._asides, []
        back = set()
        for aside, path, data, expect in asides:
            try:
                if read_bytes(aside) != expect:
                    _put_back(aside, path, data)
                    back.add(path)
            finally:
                aside.unlink(missing_ok=True)
        return back

    def close(self) -> None:
        self.settle()
        if self._helper is not None:
            self._helper.shutdown(wait=True, cancel_futures=True)
            self._helper = None
        for folder in sorted(self._folders):
            _fsync_dir(folder)
        self._folders.clear()


def _write_each(writer: Writer, items: list[tuple[Path, bytes, bytes | None]]) -> Outcome:
    done: list[Written] = []
    failed = None
    for n, (path, data, expect) in enumerate(items):
        try:
            done.append(writer.write(path, data, expect))
        except OSError as exc:
            failed = (n, exc)
            break
    back = writer.settle()
    written = zip(items[: len(done)], done, strict=True)
    return [NOT_WRITTEN if path in back else w for (path, _, _), w in written], failed


_HELPERS_WRITER: Writer | None = None  # in the helper process: its folders made once each


def _write_in_helper(items: list[tuple[Path, bytes, bytes | None]]) -> Outcome:
    global _HELPERS_WRITER
    if _HELPERS_WRITER is None:
        _HELPERS_WRITER = Writer()
    return _write_each(_HELPERS_WRITER, items)


SETTLE_SECONDS = 0.02  # how long a replaced note's old file is watched for a late save


def _replace_if(tmp: Path, path: Path, data: bytes, expect: bytes | None) -> bool | Path:
    """Put `tmp` (holding `data`) at `path` if `path` holds `expect`, and keep a save that
    lands meanwhile.

    An editor saving the note between kbgen's look and its rename writes into the file about
    to be replaced, and the rename would drop it. So the note is first linked aside: the link
    keeps that file, and what it holds once the rename is done says whether a save landed in
    it. If one did, the user's file is put back (and the next build merges it), with what
    they added to kbgen's new file since, if anything; a save that replaced kbgen's new file
    whole is the newer, and is left. A file system without hard links (FAT, some shares) is
    written with the look alone. True, or the aside path still linked (`Writer.settle` looks
    at it again): written; False: not.
    """
    if expect == UNCHECKED:
        os.replace(tmp, path)
        return True
    if expect is None:  # a new note: never over a file that appeared meanwhile
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            if path.exists():
                return False
            os.replace(tmp, path)
        return True
    aside = path.parent / f"{TEMP_PREFIX}{os.getpid()}-aside-{path.name}"
    try:
        os.link(path, aside)
    except FileNotFoundError:
        return False
    except OSError:  # no hard links here: look, then replace
        if read_bytes(path) != expect:
            return False
        os.replace(tmp, path)
        return True
    kept = False
    try:
        if read_bytes(aside) != expect:
            return False
        _keep_mode(aside, tmp)
        os.replace(tmp, path)
        if read_bytes(aside) == expect:
            kept = True
            return aside
        _put_back(aside, path, data)
        return False
    finally:
        if not kept:
            aside.unlink(missing_ok=True)


def _put_back(theirs: Path, path: Path, data: bytes) -> None:
    """The user saved the note as kbgen replaced it: their file goes back, with what they
    added to kbgen's new file since; a save that replaced kbgen's new file whole is the
    newer, and stays."""
    now = read_bytes(path)
    if now is not None and now.startswith(data):
        if len(now) > len(data):
            with open(theirs, "ab") as fh:
                fh.write(now[len(data) :])
        os.replace(theirs, path)


def _keep_mode(old: Path, new: Path) -> None:
    """The note keeps its permissions (a private 0600 note stays private)."""
    with contextlib.suppress(OSError):
        os.chmod(new, os.stat(old).st_mode & 0o7777)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    parent = path.parent
    try:
        if parent.name in ("Sources", "Actors", "Issues", "Authors") and not any(parent.iterdir()):
            parent.rmdir()
    except OSError:
        pass


def listing(vault: Path) -> tuple[dict[str, os.stat_result], list[Path]]:
    """One walk of the vault: every note with its stat, and temp files a killed build left.

    Hidden folders (.obsidian, .kbgen, .trash, .git) and hidden files are
    skipped. One stat per note is what lets a no-op build skip reading notes
    altogether.
    """
    notes: dict[str, os.stat_result] = {}
    temps: list[Path] = []
    if not vault.is_dir():
        return notes, temps
    stack = [(str(vault), "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if name[0] == ".":
                    if name.startswith(TEMP_PREFIX):
                        temps.append(Path(entry.path))
                elif name.endswith(".md") and not entry.is_dir(follow_symlinks=False):
                    try:
                        notes[prefix + name] = entry.stat()
                    except OSError:
                        continue  # gone since the folder was listed
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, f"{prefix}{name}/"))
    return dict(sorted(notes.items())), sorted(temps)


def template_dir() -> Path:
    """The vault template, installed in the package or beside it in a checkout."""
    packaged = Path(str(resources.files("kbgen"))) / "vault_template"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "vault_template"


def init(vault: Path) -> bool:
    """Create a vault from the template; an existing `.obsidian/` is never touched.

    Returns True when the template was copied.
    """
    try:
        vault.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KbgenError(f"{vault}: cannot create the vault folder ({exc.strerror})") from exc
    if (vault / ".obsidian").exists():
        return False
    template = template_dir()
    if not template.is_dir():
        raise KbgenError(f"{template}: vault template missing from this installation")
    shutil.copytree(template, vault, dirs_exist_ok=True)
    return True


def check_writable(vault: Path) -> None:
    """Fail before any work when the vault cannot be written to."""
    probe = vault / f"{TEMP_PREFIX}probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise KbgenError(f"{vault}: vault is not writable ({exc.strerror})") from exc
