"""A build killed at any instant (SIGKILL) loses nothing, and the next build finishes the job.

Real processes, really killed: `kbgen build` runs in a subprocess on a few
hundred articles and is killed at random moments, and at chosen moments
(between writing a note's temp file and renaming it into place, after the
N-th rename). Then one build runs to the end, and its vault must be byte for
byte the vault the same builds give when nothing kills them — and a further
build must write nothing. (A note's identity outlives edits of its source,
so "the same builds" matters: a vault updated from version A of the sources
to B carries A's note ids, where a vault built from B alone does not.)
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_build, vault_tree
from corpus import write_corpus

from kbgen.vault import files as vault_mod

ARTICLES = 240

# Runs `kbgen build`, killing itself just before it puts its N-th note in place (a temp file
# written and fsynced, not yet renamed over the note, or linked as a new one), with parts of 25 notes
# (`update.PART`): earlier parts are journaled and written, later ones not yet.
# Most notes are renamed by the build's forked writing processes: the count is
# shared with them (a lock around it: two of them rename at once), and the build is killed
# whichever process renames.
KILL_AT_RENAME = """
import mmap, multiprocessing, os, signal, struct, sys
n = int(sys.argv[1])
build = os.getpid()
calls = mmap.mmap(-1, 8)  # shared with the forked children
counting = multiprocessing.Lock()
def counted(real):
    def put(src, dst, *args, **kwargs):
        if os.path.basename(src).startswith(".kbgen-tmp-") and "-aside-" not in str(src):
            with counting:
                count = struct.unpack("q", calls[:8])[0] + 1
                calls[:8] = struct.pack("q", count)
            if count == n:
                os.kill(build, signal.SIGKILL)
                os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)
    return put
os.replace, os.link = counted(os.replace), counted(os.link)  # a new note is linked in place
import kbgen.build.parts
kbgen.build.parts.PART = 25  # killed between parts, and within one
from kbgen.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _command(sources: Path, vault: Path) -> list[str]:
    return ["build", "--sources", str(sources), "--vault", str(vault), "-q"]


def _kill_after(seconds: float, sources: Path, vault: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kbgen.cli", *_command(sources, vault)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _kill_at_rename(n: int, sources: Path, vault: Path) -> int:
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AT_RENAME, str(n), *_command(sources, vault)],
        capture_output=True,
    )
    return proc.returncode


def _change_sources(sources: Path) -> None:
    """Edits, removals, additions and renames, so the killed builds update, delete and move."""
    files = sorted(sources.iterdir())
    for path in files[:20]:
        path.write_text(
            path.read_text(encoding="utf-8").replace("Russia", "the Russian Federation")
        )
    for path in files[20:30]:
        path.unlink()
    for path in files[30:35]:
        path.rename(path.with_name(f"renamed-{path.name}"))
    write_corpus(sources / "new", 10, seed=7)


@dataclass(frozen=True)
class Corpus:
    before: Path  # version A of the sources
    after: Path  # version B: edits, removals, additions, renames
    fresh: Path  # the vault of B built from nothing, never killed
    updated: Path  # the vault of A, then updated to B, never killed


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("crash")
    before, after = root / "before", root / "after"
    write_corpus(before, ARTICLES)
    shutil.copytree(before, after)
    _change_sources(after)
    assert run_build(after, root / "fresh").ok
    assert run_build(before, root / "updated").ok
    assert run_build(after, root / "updated").ok
    return Corpus(before, after, root / "fresh", root / "updated")


def _timed_build(sources: Path, vault: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kbgen.cli", *_command(sources, vault)], check=True)
    return time.perf_counter() - started


def _finish_and_compare(sources: Path, vault: Path, clean: Path) -> None:
    report = run_build(sources, vault)
    assert report.ok, report.errors
    assert not list(vault.rglob(".kbgen-tmp-*")), "temp files left behind"
    assert vault_tree(vault) == vault_tree(clean)
    assert not run_build(sources, vault).plan.writes, "a build after recovery must write nothing"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sigkills_during_first_and_update_builds(
    corpus: Corpus, tmp_path: Path, seed: int
) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(corpus.before, sources)
    vault = tmp_path / "vault"
    rng = random.Random(seed)
    cold = _timed_build(corpus.before, tmp_path / "timing")
    for _ in range(3):  # killed while creating the vault
        _kill_after(rng.uniform(0.2, cold), sources, vault)
    assert run_build(sources, vault).ok
    shutil.rmtree(sources)
    shutil.copytree(corpus.after, sources)
    for _ in range(3):  # killed while updating, deleting, renaming
        _kill_after(rng.uniform(0.2, cold), sources, vault)
    _finish_and_compare(sources, vault, corpus.updated)


@pytest.mark.parametrize("when", ["first", "second", "third", "last but one", "last"])
def test_kill_between_temp_file_and_rename(corpus: Corpus, tmp_path: Path, when: str) -> None:
    vault = tmp_path / "vault"
    assert run_build(corpus.before, vault).ok
    writes = len(run_build(corpus.after, vault, dry_run=True).plan.writes)
    assert writes > 100
    rename = {"first": 1, "second": 2, "third": writes // 3, "last but one": writes - 1}
    code = _kill_at_rename(rename.get(when, writes), corpus.after, vault)
    assert code == -signal.SIGKILL, "the build was meant to die mid-way"
    _finish_and_compare(corpus.after, vault, corpus.updated)


def test_kill_during_the_first_build_then_finish(corpus: Corpus, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    assert _kill_at_rename(150, corpus.after, vault) == -signal.SIGKILL
    # a writing process killed mid-write leaves its hidden temp file (Obsidian ignores it; the
    # next build deletes it): every note Obsidian shows is whole
    notes = [p for p in vault.rglob("*.md") if not p.name.startswith(vault_mod.TEMP_PREFIX)]
    assert notes, "some notes were written before the kill"
    empty = [p for p in notes if p.stat().st_size == 0]
    assert not empty, f"a note is never empty or partial: {empty}"
    _finish_and_compare(corpus.after, vault, corpus.fresh)


def test_a_killed_build_never_costs_the_user_an_edit(corpus: Corpus, tmp_path: Path) -> None:
    before, after = corpus.before, corpus.after
    vault = tmp_path / "vault"
    assert run_build(before, vault).ok
    edited = sorted((vault / "Sources").glob("*.md"))[:40]
    for i, note in enumerate(edited):
        note.write_text(note.read_text(encoding="utf-8") + f"\nMY-NOTE-{i}\n", encoding="utf-8")
    for n in (3, 40, 90):
        _kill_at_rename(n, after, vault)
    assert run_build(after, vault).ok
    text = "".join(p.read_text(encoding="utf-8") for p in vault.rglob("*.md"))
    assert all(f"MY-NOTE-{i}" in text for i in range(len(edited)))
    assert os.path.isdir(vault / ".kbgen")


def test_notes_written_by_a_killed_build_merge_like_any_other(
    corpus: Corpus, tmp_path: Path
) -> None:
    """The journal's merge base is the rendering itself, so later source changes update cleanly."""
    vault = tmp_path / "vault"
    assert run_build(corpus.before, vault).ok
    assert _kill_at_rename(60, corpus.after, vault) == -signal.SIGKILL
    sources = tmp_path / "sources"
    shutil.copytree(corpus.after, sources)
    for path in sorted(sources.glob("*.md"))[:20]:  # the notes the killed build had rewritten
        path.write_text(path.read_text(encoding="utf-8").replace("Trump", "Donald Trump"))
    report = run_build(sources, vault)
    assert report.ok
    assert not [a.path for a in report.plan.of("merge", "conflict", "kept", "adopted")], (
        "no user edits exist"
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(sys.platform != "linux", reason="parsing workers are forked on Linux only")
def test_a_killed_build_leaves_no_worker_and_no_lock_behind(tmp_path: Path) -> None:
    """Forked parsing workers shared the vault lock's open file: killed with their parent, they
    kept the vault locked ("another kbgen is writing this vault") until they finished."""
    sources, vault = tmp_path / "sources", tmp_path / "vault"
    write_corpus(sources, 600, seed=4)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kbgen.cli", *_command(sources, vault)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    workers = _children(proc.pid)
    assert workers, "the build never started its workers"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert run_build(sources, vault).ok  # at once: the lock died with the build
    deadline = time.monotonic() + 5
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [w for w in workers if _running(w)]


# Runs `kbgen build`; each forked process that writes notes adds its pid to the file named in
# argv[2] at its first rename, and at its N-th kills the build ("build") or itself ("writer").
KILL_FROM_WRITER = """
import os, signal, sys, time
n, pid_file, victim = int(sys.argv[1]), sys.argv[2], sys.argv[3]
build = os.getpid()
calls = 0
def counted(real):
    def put(src, dst, *args, **kwargs):
        global calls
        note = os.path.basename(src).startswith(".kbgen-tmp-") and "-aside-" not in str(src)
        if note and os.getpid() != build:
            calls += 1
            if calls == 1:
                with open(pid_file, "a") as f:
                    f.write(f"{os.getpid()}\\n")
            if calls == n:
                os.kill(build if victim == "build" else os.getpid(), signal.SIGKILL)
                time.sleep(5)  # the build is dead: this process must die with it, not go on
        return real(src, dst, *args, **kwargs)
    return put
os.replace, os.link = counted(os.replace), counted(os.link)  # a new note is linked in place
import kbgen.build.parts
kbgen.build.parts.PART = 25
from kbgen.cli import main
sys.exit(main(sys.argv[4:]))
"""


def _kill_from_writer(
    victim: str, sources: Path, vault: Path, tmp: Path
) -> tuple[int, str, list[int]]:
    pid_file = tmp / "writer.pid"
    script = [sys.executable, "-c", KILL_FROM_WRITER, "40", str(pid_file), victim]
    proc = subprocess.run(
        [*script, *_command(sources, vault)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stderr, [int(pid) for pid in pid_file.read_text().split()]


@pytest.mark.skipif(sys.platform != "linux", reason="the writing process is forked on Linux only")
def test_a_killed_build_takes_its_writing_process_with_it(corpus: Corpus, tmp_path: Path) -> None:
    """Notes are written by forked processes while the build renders the next ones: killed
    with the build, none may go on writing into a vault the next build is updating."""
    vault = tmp_path / "vault"
    code, _, writers = _kill_from_writer("build", corpus.after, vault, tmp_path)
    assert code == -signal.SIGKILL
    assert len(writers) == vault_mod.WRITING_PROCESSES  # each of them wrote notes
    deadline = time.monotonic() + 3
    while any(_running(w) for w in writers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [w for w in writers if _running(w)], "a writing process outlived the build"
    _finish_and_compare(corpus.after, vault, corpus.fresh)


# Runs `kbgen build`; the forked process that renders the reduced notes (`kbgen.build.reducer`)
# writes its pid to the file named in argv[1] as it starts on its first chunk, then kills the
# build ("build") or itself ("reducer").
KILL_FROM_REDUCER = """
import os, signal, sys, time
pid_file, victim = sys.argv[1], sys.argv[2]
build = os.getpid()
import kbgen.build.reducer
render_chunk = kbgen.build.reducer._render_chunk
def chunk(ids):
    if os.getpid() != build:
        with open(pid_file, "w") as f:
            f.write(str(os.getpid()))
        os.kill(build if victim == "build" else os.getpid(), signal.SIGKILL)
        time.sleep(5)  # the build is dead: this process must die with it, not go on
    return render_chunk(ids)
kbgen.build.reducer._render_chunk = chunk
import kbgen.build.parts
kbgen.build.parts.PART = 25
from kbgen.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the rendering process is forked on Linux only")
@pytest.mark.parametrize("victim", ["build", "reducer"])
def test_a_rendering_process_dies_with_the_build_and_fails_it_cleanly_alone(
    victim: str, corpus: Corpus, tmp_path: Path
) -> None:
    """A cold build's reduced notes are rendered by a forked process: killed with the build,
    it must not live on; killed on its own, the build stops with an error, not a hang or a
    traceback. Either way the next build finishes the job."""
    vault, pid_file = tmp_path / "vault", tmp_path / "reducer.pid"
    script = [sys.executable, "-c", KILL_FROM_REDUCER, str(pid_file), victim]
    proc = subprocess.run(
        [*script, *_command(corpus.after, vault)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    reducer = int(pid_file.read_text())
    if victim == "build":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 2
        assert (
            proc.stderr.startswith("kbgen: error: ") and "rendering process stopped" in proc.stderr
        )
        assert "Traceback" not in proc.stderr
    deadline = time.monotonic() + 3
    while _running(reducer) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _running(reducer), "the rendering process outlived the build"
    _finish_and_compare(corpus.after, vault, corpus.fresh)


@pytest.mark.skipif(sys.platform != "linux", reason="the writing process is forked on Linux only")
def test_a_writing_process_that_dies_fails_the_build_cleanly(
    corpus: Corpus, tmp_path: Path
) -> None:
    """Killed on its own (the kernel's out-of-memory killer), it leaves the build an error to
    report, naming a note, not a hang or a traceback; the next build finishes the job."""
    vault = tmp_path / "vault"
    code, err, _ = _kill_from_writer("writer", corpus.after, vault, tmp_path)
    assert code == 2
    assert err.startswith("kbgen: error: ") and "writing process stopped" in err
    assert ".md" in err and "Traceback" not in err
    _finish_and_compare(corpus.after, vault, corpus.fresh)
