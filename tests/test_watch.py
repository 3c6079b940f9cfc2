"""`kbgen watch` with a real watchdog observer on real folders.

Each test starts a watcher thread on a copy of the seed corpus, does what a
user or an editor does, and waits (bounded) for the vault to follow. "Exactly
one update" is counted from the watcher's own record of its syncs.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import SEEDS, frontmatter_of
from corpus import write_corpus

import kbgen.core.filestat
import kbgen.watch.watcher
from kbgen.core.config import Config
from kbgen.vault.scan import Signature, catalog_signature
from kbgen.watch.observe import filesystem_type, start_observer
from kbgen.watch.watcher import GC_YOUNG, Watcher, WatchOptions, collect_between_syncs

QUIET = 0.05
NOTE_004 = "Sources/US-Russia Relations under Trump Presidency Will The Reset Come to Pass.md"
SEED_004 = "004_391b700a59b12524.txt"
NEW_ARTICLE = (
    "Arms talks in Geneva\n\nBy Ann Weller\n\n"
    "Vladimir Putin and Rex Tillerson discussed arms control and the New START treaty "
    "in Geneva on Monday, officials said.\n\n"
    "Sanctions were not on the agenda, although Congress has debated them for months.\n"
)


def wait_until(check: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check.__doc__ or check}")
        time.sleep(0.01)


@dataclass
class Running:
    watcher: Watcher
    sources: Path
    vault: Path
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def synced(self) -> int:
        return self.watcher.synced

    def settle(self) -> None:
        """Wait until nothing is pending: a few quiet periods without a new sync."""
        count = -1
        while count != self.synced or self.watcher.building:
            count = self.synced
            time.sleep(QUIET * 6)

    def writes_since(self, start: int, path: str) -> list[str]:
        """The kinds of action each sync since `start` took on `path` (writes and deletes)."""
        return [
            kind
            for sync in self.watcher.recent
            if sync.number > start
            for kind, where in sync.actions
            if where == path
        ]


@contextlib.contextmanager
def started(sources: Path, vault: Path, **options: object) -> Iterator[Running]:
    """A watcher running in a thread, its first two syncs done (start-up and catch-up)."""
    lines: list[str] = []
    errors: list[str] = []
    opts = WatchOptions(**{"quiet": QUIET, "max_wait": 1.0, "rescan": 3600.0, **options})  # type: ignore[arg-type]
    watcher = Watcher(Config(sources=sources, vault=vault), opts, lines.append, errors.append)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    wait_until(lambda: watcher.observing is not None and watcher.synced >= 2)
    running = Running(watcher, sources, vault, lines, errors)
    try:
        yield running
    finally:
        watcher.stop()
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[Running]:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    with started(sources, tmp_path / "vault") as running:
        yield running


def _edit_004(text: str) -> str:
    return text.replace("Trump may also become", "Trump might well become")


def test_start_up_builds_the_vault_and_catches_changes_made_while_not_running(
    tmp_path: Path,
) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    with started(sources, tmp_path / "vault"):
        assert len(list((tmp_path / "vault" / "Sources").glob("*.md"))) == 5
    (sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    with started(sources, tmp_path / "vault") as running:
        assert (running.vault / "Sources" / "Arms talks in Geneva.md").exists()


def test_a_new_source_is_linked_into_its_note_and_the_actor_notes(watching: Running) -> None:
    (watching.sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    note = watching.vault / "Sources" / "Arms talks in Geneva.md"
    wait_until(note.exists)
    wait_until(
        lambda: (
            "Arms talks in Geneva"
            in (watching.vault / "Actors" / "Vladimir Putin.md").read_text(encoding="utf-8")
        )
    )
    assert "[[Vladimir Putin]] and [[Rex Tillerson]]" in note.read_text(encoding="utf-8")
    wait_until(lambda: any("synced after new.txt: 2 created" in line for line in watching.lines))


def _saved_once(watching: Running, save: Callable[[Path], None]) -> None:
    """`save` rewrites seed 004 the way some editor does: one update of its note, no deletion."""
    path = watching.sources / SEED_004
    new_text = _edit_004(path.read_text(encoding="utf-8"))
    start = watching.synced
    save(path)
    note = watching.vault / NOTE_004
    wait_until(lambda: "Trump might well become" in note.read_text(encoding="utf-8"))
    watching.settle()
    assert watching.writes_since(start, NOTE_004) == ["update"]
    assert path.read_text(encoding="utf-8") == new_text


def _new_text(path: Path) -> str:
    return _edit_004(path.read_text(encoding="utf-8"))


def test_an_in_place_save_is_one_update(watching: Running) -> None:
    def save(path: Path) -> None:
        text = _new_text(path)
        with open(path, "w", encoding="utf-8") as fh:  # truncate, then write in two pieces
            fh.write(text[:100])
            fh.flush()
            fh.write(text[100:])

    _saved_once(watching, save)


def test_a_jetbrains_safe_write_is_one_update(watching: Running) -> None:
    def save(path: Path) -> None:
        tmp = path.with_name(path.name + "___jb_tmp___")
        old = path.with_name(path.name + "___jb_old___")
        tmp.write_text(_new_text(path), encoding="utf-8")
        os.rename(path, old)
        os.rename(tmp, path)
        old.unlink()

    _saved_once(watching, save)


def test_a_temp_file_renamed_over_the_source_is_one_update(watching: Running) -> None:
    def save(path: Path) -> None:  # VS Code's and most libraries' atomic save
        tmp = path.with_name(f".{path.name}.tmp.1234")
        tmp.write_text(_new_text(path), encoding="utf-8")
        os.replace(tmp, path)

    _saved_once(watching, save)


def test_a_vim_save_is_one_update_and_no_deletion(watching: Running) -> None:
    def save(path: Path) -> None:
        swap = path.with_name(f".{path.name}.swp")
        swap.write_bytes(b"b0VIM 9.0\x00swap")
        text = _new_text(path)
        backup = path.with_name(path.name + "~")
        os.rename(path, backup)  # backupcopy=no: the original becomes the backup
        path.write_text(text, encoding="utf-8")
        backup.unlink()
        swap.unlink()

    _saved_once(watching, save)


def test_a_file_copied_in_over_several_slow_writes_is_created_once_whole(
    watching: Running,
) -> None:
    start = watching.synced
    target = watching.sources / "new.txt"
    data = NEW_ARTICLE.encode("utf-8")
    with open(target, "wb") as fh:
        for i in range(0, len(data), 60):
            fh.write(data[i : i + 60])
            fh.flush()
            time.sleep(QUIET * 3)  # longer than the quiet period: only the close says "done"
    note = "Sources/Arms talks in Geneva.md"
    wait_until(lambda: (watching.vault / note).exists())
    watching.settle()
    assert watching.writes_since(start, note) == ["create"]
    assert "has debated them for months" in (watching.vault / note).read_text(encoding="utf-8")


def test_a_renamed_source_keeps_its_note_and_the_users_words(watching: Running) -> None:
    note = watching.vault / NOTE_004
    kbgen_id = frontmatter_of(note)["kbgen_id"]
    note.write_text(note.read_text(encoding="utf-8") + "\nMy own remark.\n", encoding="utf-8")
    start = watching.synced
    (watching.sources / "2017").mkdir()
    os.rename(watching.sources / SEED_004, watching.sources / "2017" / "reset.txt")
    wait_until(lambda: frontmatter_of(note).get("source") == "2017/reset.txt")
    watching.settle()
    assert frontmatter_of(note)["kbgen_id"] == kbgen_id
    assert "My own remark." in note.read_text(encoding="utf-8")
    assert len(list((watching.vault / "Sources").glob("*.md"))) == 5
    assert "delete" not in watching.writes_since(start, NOTE_004)


def test_deleted_sources_follow_the_removed_source_rules(watching: Running) -> None:
    annotated = watching.vault / NOTE_004
    annotated.write_text(annotated.read_text(encoding="utf-8") + "\nKeep this.\n", encoding="utf-8")
    pristine = watching.vault / "Sources" / "What’s Next for US-Russia Relations.md"
    (watching.sources / SEED_004).unlink()
    (watching.sources / "001_9de591f704b0e99d.txt").unlink()
    wait_until(lambda: not pristine.exists())
    wait_until(lambda: frontmatter_of(annotated).get("kbgen_status") == "orphaned")
    assert "Keep this." in annotated.read_text(encoding="utf-8")


def test_a_folder_moved_in_and_then_deleted(watching: Running, tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "batch"
    write_corpus(outside, 12, seed=3)
    os.rename(outside, watching.sources / "batch")
    wait_until(lambda: len(list((watching.vault / "Sources").glob("*.md"))) == 17)
    shutil.rmtree(watching.sources / "batch")
    wait_until(lambda: len(list((watching.vault / "Sources").glob("*.md"))) == 5)


def test_a_burst_of_200_files_takes_a_few_builds(watching: Running) -> None:
    start = watching.synced
    write_corpus(watching.sources / "burst", 200, seed=5)
    wait_until(lambda: len(list((watching.vault / "Sources").glob("*.md"))) == 205, timeout=60)
    watching.settle()
    assert 1 <= watching.synced - start <= 5


def test_a_catalog_note_added_in_the_vault_relinks_every_source(watching: Running) -> None:
    (watching.vault / "People").mkdir()
    (watching.vault / "People" / "Atlantic Council.md").write_text(
        "---\ntype: actor\nkind: organisation\naliases: [Harvard professor]\n---\nMy notes.\n",
        encoding="utf-8",
    )
    source_note = watching.vault / "Sources" / "What’s Next for US-Russia Relations.md"
    wait_until(
        lambda: "[[Atlantic Council|Harvard professor]]" in source_note.read_text(encoding="utf-8")
    )
    # an alias added later, in Obsidian's property editor, is honoured too
    (watching.vault / "People" / "Atlantic Council.md").write_text(
        "---\ntype: actor\nkind: organisation\naliases:\n  - Harvard professor\n  - defense priorities\n---\nMy notes.\n",
        encoding="utf-8",
    )
    wait_until(
        lambda: "[[Atlantic Council|defense priorities]]" in source_note.read_text(encoding="utf-8")
    )
    assert (
        (watching.vault / "People" / "Atlantic Council.md")
        .read_text(encoding="utf-8")
        .endswith("My notes.\n")
    )


def test_ticking_a_candidate_in_obsidian_makes_it_an_actor(watching: Running) -> None:
    article = NEW_ARTICLE.replace(
        "officials said.", "said Colonel Ivan Drago of the Hudson Institute."
    )
    (watching.sources / "new.txt").write_text(article, encoding="utf-8")
    candidates = watching.vault / "Candidates.md"
    wait_until(lambda: "**Ivan Drago**" in candidates.read_text(encoding="utf-8"))
    watching.settle()
    text = candidates.read_text(encoding="utf-8")
    candidates.write_text(text.replace("- [ ] **Ivan Drago**", "- [x] **Ivan Drago**"), "utf-8")
    wait_until((watching.vault / "Actors" / "Ivan Drago.md").exists)
    wait_until(lambda: "- [x] [[Ivan Drago]]" in candidates.read_text(encoding="utf-8"))
    note = watching.vault / "Sources" / "Arms talks in Geneva.md"
    assert "[[Ivan Drago]]" in note.read_text(encoding="utf-8")


def test_a_user_typing_in_a_note_triggers_no_build_and_no_rewrite(watching: Running) -> None:
    note = watching.vault / "Actors" / "Vladimir Putin.md"
    watching.settle()
    start = watching.synced
    text = note.read_text(encoding="utf-8")
    for i in range(5):  # Obsidian saves every few keystrokes
        text += f"\nMy note, draft {i}."
        note.write_text(text, encoding="utf-8")
        time.sleep(QUIET / 2)
    broken = "---\ntype: actor\naliases: [unclosed\n---\n" + text  # mid-edit properties
    note.write_text(broken, encoding="utf-8")
    time.sleep(QUIET * 4)
    note.write_text(text, encoding="utf-8")
    watching.settle()
    assert watching.synced == start  # nothing the user typed is worth a build
    # a source that changes and mentions Putin: the note is merged, the user's lines stay
    path = watching.sources / SEED_004
    path.write_text(_edit_004(path.read_text(encoding="utf-8")), encoding="utf-8")
    wait_until(
        lambda: "Trump might well become" in (watching.vault / NOTE_004).read_text(encoding="utf-8")
    )
    watching.settle()
    assert "My note, draft 4." in note.read_text(encoding="utf-8")


def test_kbgen_own_writes_never_trigger_another_build(watching: Running) -> None:
    watching.settle()
    start = watching.synced
    (watching.sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    wait_until(lambda: watching.synced > start)
    time.sleep(QUIET * 10)
    watching.settle()
    assert watching.synced == start + 1


def test_a_folder_kbgen_creates_in_the_vault_triggers_no_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbgen.render import notes

    monkeypatch.setattr(notes, "PAGED_FROM", 6)  # the sixth source naming Putin pages his quotes
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    with started(sources, tmp_path / "vault") as watching:
        watching.settle()
        assert not (watching.vault / "Actors" / "Mentions").exists()
        start = watching.synced
        (sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        wait_until((watching.vault / "Actors" / "Mentions").is_dir)
        time.sleep(QUIET * 10)
        watching.settle()
        assert watching.synced == start + 1


def test_a_poison_source_is_reported_once_and_the_rest_keeps_syncing(watching: Running) -> None:
    bad = watching.sources / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02 binary")
    wait_until(lambda: any("bad.txt" in e for e in watching.errors))
    (watching.sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    wait_until((watching.vault / "Sources" / "Arms talks in Geneva.md").exists)
    watching.settle()
    assert sum("bad.txt" in e for e in watching.errors) == 1
    bad.write_bytes(b"\x00 still binary, saved again")
    wait_until(lambda: sum("bad.txt" in e for e in watching.errors) == 2)
    bad.write_text(
        "Fixed title\n\nNow a real paragraph about Vladimir Putin and sanctions.\n",
        encoding="utf-8",
    )
    wait_until((watching.vault / "Sources" / "Fixed title.md").exists)
    wait_until(lambda: any("bad.txt no longer fails" in line for line in watching.lines))


def test_a_dead_observer_is_restarted(watching: Running) -> None:
    observing = watching.watcher.observing
    assert observing is not None
    observing.observer.stop()
    observing.observer.join(timeout=5)
    wait_until(lambda: watching.watcher.observing is not observing)
    assert any("the file watcher stopped" in e for e in watching.errors)
    (watching.sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    wait_until((watching.vault / "Sources" / "Arms talks in Geneva.md").exists)


def test_the_periodic_rescan_catches_what_no_event_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    monkeypatch.setattr(
        "kbgen.watch.watcher.classify", lambda *args: []
    )  # the OS drops every event
    with started(sources, tmp_path / "vault", rescan=0.3):
        (sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        wait_until((tmp_path / "vault" / "Sources" / "Arms talks in Geneva.md").exists)


def test_the_polling_observer_follows_changes_too(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    with started(sources, tmp_path / "vault", polling=True, poll_interval=0.1) as running:
        assert any("polling every 0.1 s, as asked" in line for line in running.lines)
        (sources / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        wait_until((tmp_path / "vault" / "Sources" / "Arms talks in Geneva.md").exists)


def test_network_mounts_are_polled(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(
        f"/dev/sda1 / ext4 rw 0 0\nserver:/export {tmp_path}/my\\040share nfs4 rw 0 0\n",
        encoding="utf-8",
    )
    share = tmp_path / "my share" / "sources"
    share.mkdir(parents=True)
    assert filesystem_type(str(share), str(mounts)) == "nfs4"
    assert filesystem_type(str(tmp_path), str(mounts)) == "ext4"
    observing = start_observer([str(share)], lambda *a: None, False, 1.0, mounts=str(mounts))
    observing.stop()
    assert (
        observing.description
        == f"polling every 1 s, since {share} is on nfs4, which reports no change events"
    )
    assert not observing.tracks_close


def _cli(command: str, sources: Path, vault: Path, *options: str) -> list[str]:
    """The kbgen command line, run as a process of its own."""
    return [sys.executable, "-m", "kbgen.cli", command, "--sources", str(sources),
            "--vault", str(vault), *options]  # fmt: skip


def test_ctrl_c_and_sigterm_finish_and_exit_zero(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen(
            _cli("watch", sources, tmp_path / "vault", "--quiet-period", "50"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if "watching" in line:
                break
        (sources / f"new-{sig}.txt").write_text(
            NEW_ARTICLE.replace("Geneva", f"Geneva {int(sig)}"), encoding="utf-8"
        )
        time.sleep(0.06)  # mid-sync, or just before it
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "stopping" in err
    # whatever the signal interrupted, the state describes the vault: nothing to restore or merge
    done = subprocess.run(
        _cli("build", sources, tmp_path / "vault", "-v"), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "kbgen: 7 sources read, 0 failed" in done.stdout
    assert "0 merged with your edits" in done.stdout and "restore" not in done.stdout


def test_a_second_ctrl_c_during_a_parallel_first_build_stops_at_once(tmp_path: Path) -> None:
    """The first build forks workers; they must not take the watcher's signal handlers (the
    pool stops them with SIGTERM, which the handler caught: the watcher then hung)."""
    sources = tmp_path / "sources"
    write_corpus(sources, 400, seed=8)
    proc = subprocess.Popen(
        _cli("watch", sources, tmp_path / "vault"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(2.0)  # well into the first build's parsing
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode in (0, 130)
    done = subprocess.run(
        _cli("build", sources, tmp_path / "vault", "-q"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_catalog_notes_are_read_again_only_when_their_stat_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Around every build the watcher looks at every actor and issue note's properties; a note
    whose stat is what it was (and old enough to trust) is not read again."""
    import kbgen.state.store
    import kbgen.watch.watcher

    monkeypatch.setattr(kbgen.core.filestat, "RACY_SECONDS", 0.0)
    monkeypatch.setattr(kbgen.core.filestat, "COARSE_RACY_SECONDS", 0.0)
    reads: list[Path] = []

    def reading(path: Path) -> Signature:
        reads.append(path)
        return catalog_signature(path)

    monkeypatch.setattr(kbgen.watch.watcher, "catalog_signature", reading)
    note = tmp_path / "vault" / "Actors" / "Mine.md"
    note.parent.mkdir(parents=True)
    note.write_text("---\ntype: actor\naliases: [Mine]\n---\n")
    watcher = Watcher(Config(sources=tmp_path / "sources", vault=tmp_path / "vault"))
    first = watcher._signature("Actors/Mine.md")
    assert watcher._signature("Actors/Mine.md") == first and len(reads) == 1
    note.write_text("---\ntype: actor\naliases: [Mine, Also mine]\n---\n")
    assert watcher._signature("Actors/Mine.md") != first and len(reads) == 2


def test_words_typed_in_a_note_are_merged_when_its_source_changes_later(
    watching: Running,
) -> None:
    """The watcher keeps its listing of the vault between builds: a note typed in (no build)
    must be seen as edited when its source changes afterwards, not overwritten."""
    note = watching.vault / NOTE_004
    watching.settle()
    start = watching.synced
    note.write_text(note.read_text(encoding="utf-8") + "\nMy remark, typed in.\n", "utf-8")
    time.sleep(QUIET * 6)
    watching.settle()
    assert watching.synced == start
    path = watching.sources / SEED_004
    path.write_text(_edit_004(path.read_text(encoding="utf-8")), encoding="utf-8")
    wait_until(lambda: "Trump might well become" in note.read_text(encoding="utf-8"))
    watching.settle()
    assert "My remark, typed in." in note.read_text(encoding="utf-8")
    assert watching.writes_since(start, NOTE_004) == ["merge"]


def test_garbage_of_frozen_objects_is_collected_between_syncs() -> None:
    """What an earlier sync left frozen and has since become cyclic garbage is freed."""

    class Cycle:
        other: object = None

    cycle = Cycle()
    cycle.other = cycle
    gone = weakref.ref(cycle)
    gc.freeze()  # as the last `collect_between_syncs` left it
    try:
        del cycle
        collect_between_syncs()
        assert gone() is None
    finally:
        gc.unfreeze()


def test_the_collector_is_frozen_between_syncs_and_restored_after(tmp_path: Path) -> None:
    thresholds = gc.get_threshold()
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    with started(sources, tmp_path / "vault") as running:
        running.settle()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == GC_YOUNG
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds


def test_warming_up_imports_the_parsers_of_the_kinds_of_source_listed_only() -> None:
    """The watcher's first sync after start-up need not import and compile the parse stack."""
    code = (
        "import sys; from kbgen.build.reading import warm_up; warm_up({'.md', '.pdf'}); "
        "print(*(m in sys.modules for m in ('markdown_it', 'kbgen.read.clean', 'trafilatura')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "False"]


def test_the_watcher_warms_up_the_parsers_of_the_sources_it_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warmed: list[set[str]] = []
    monkeypatch.setattr(kbgen.watch.watcher, "warm_up", warmed.append)
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    (sources / "notes.md").write_text(NEW_ARTICLE, encoding="utf-8")
    with started(sources, tmp_path / "vault"):
        pass
    assert warmed == [{".txt", ".md"}]


def test_a_failure_while_warming_up_is_left_to_the_real_sources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kbgen.read.sources
    from kbgen.build.reading import warm_up

    def broken(rel: str, data: bytes) -> None:
        raise RuntimeError("a bug in a parser")

    monkeypatch.setattr(kbgen.read.sources, "parse", broken)
    warm_up({".md", ".txt"})  # no exception: the watcher goes on


def test_a_sync_line_counts_failing_sources_in_words() -> None:
    from kbgen.build.report import Report
    from kbgen.core.errors import SourceError
    from kbgen.vault.actions import Action, Plan
    from kbgen.watch.hints import Hint

    hints = [Hint("sources", "a.txt", "modified")]
    plan = Plan([Action("update", "source:a", "Sources/A.md")])
    one = Report(errors=[SourceError("b.txt", "binary file")], plan=plan)
    assert ": 1 updated, 1 source failing (" in str(kbgen.watch.watcher.sync_line(one, hints, 0.1))
    two = Report(errors=[SourceError(f"{c}.txt", "binary file") for c in "bc"], plan=plan)
    assert ": 1 updated, 2 sources failing (" in str(kbgen.watch.watcher.sync_line(two, hints, 0.1))
