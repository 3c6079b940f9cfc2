"""Which watchdog observer `kbgen watch` runs, and how it knows that observer is still useful.

Native events (inotify, FSEvents, ReadDirectoryChangesW) where the folder's
file system delivers them; polling where it does not — network shares and
VM or container mounts, whose changes made on the other side never reach
inotify — or where the native observer cannot start (inotify's watch limit).
The watcher's log says which, and why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from kbgen.core.filestat import file_identity

OnEvent = Callable[[str, str, str, bool], None]  # kind, src, dest, is_dir

# File systems whose changes can be made where this kernel does not see them.
NO_NATIVE_EVENTS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "vboxsf", "vmhgfs",
        "fuse.vmhgfs-fuse", "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse",
        "fuse.grpcfuse", "fakeowner", "davfs", "fuse.davfs2", "afs", "ceph", "glusterfs",
        "fuse.glusterfs", "lustre", "gpfs",
    }
)  # fmt: skip


@dataclass
class Observing:
    """A running observer, and what its watched folders were when it started."""

    observer: BaseObserver
    description: str
    tracks_close: bool  # reports a file closed after writing (inotify only)
    identities: dict[str, tuple[int, int] | None]

    def problem(self) -> str | None:
        """Why this observer can no longer be trusted to report changes, or None."""
        if not self.observer.is_alive():
            return "the file watcher stopped"
        for root, identity in self.identities.items():
            if file_identity(root) != identity:
                return f"{root} was replaced, removed or created"
        return None

    def stop(self) -> None:
        self.observer.stop()
        if self.observer.is_alive():
            self.observer.join(timeout=5)


class _Handler(FileSystemEventHandler):
    def __init__(self, on_event: OnEvent) -> None:
        self._on_event = on_event

    def on_any_event(self, event: FileSystemEvent) -> None:
        dest = os.fsdecode(event.dest_path) if event.dest_path else ""
        self._on_event(event.event_type, os.fsdecode(event.src_path), dest, event.is_directory)


def start_observer(
    roots: Collection[str],
    on_event: OnEvent,
    polling: bool,
    interval: float,
    mounts: str = "/proc/self/mounts",
) -> Observing:
    """Watch every existing root recursively; native events unless they cannot be had."""
    present = [r for r in roots if os.path.isdir(r)]
    identities = {r: file_identity(r) for r in roots}
    reason = "as asked (--polling)" if polling else _why_no_native_events(present, mounts)
    if reason is None:
        try:
            observer = _started(Observer(), present, on_event)
            name = type(observer).__name__.removesuffix("Observer")
            return Observing(observer, f"native events: {name}", name == "Inotify", identities)
        except OSError as exc:
            reason = f"native events unavailable ({exc.strerror or exc})"
    observer = _started(PollingObserver(timeout=interval), present, on_event)
    return Observing(observer, f"polling every {interval:g} s, {reason}", False, identities)


def _started(observer: BaseObserver, roots: list[str], on_event: OnEvent) -> BaseObserver:
    handler = _Handler(on_event)
    try:
        for root in roots:
            observer.schedule(handler, root, recursive=True)
        observer.start()
    except BaseException:
        observer.stop()
        raise
    return observer


def _why_no_native_events(roots: list[str], mounts: str) -> str | None:
    for root in roots:
        fstype = filesystem_type(root, mounts)
        if fstype in NO_NATIVE_EVENTS:
            return f"since {root} is on {fstype}, which reports no change events"
    return None


def filesystem_type(path: str, mounts: str = "/proc/self/mounts") -> str | None:
    """The type of the file system `path` is on (Linux; None elsewhere or when unknown)."""
    try:
        table = Path(mounts).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    real = os.path.realpath(path)
    best, fstype = "", None
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape(fields[1])
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, fstype = point, fields[2]
    return fstype


def _unescape(field: str) -> str:
    """/proc/mounts writes a space as \\040 (and tab, newline, backslash likewise)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field
