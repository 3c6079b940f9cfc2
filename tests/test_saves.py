"""A save that lands while kbgen writes the same note is never lost.

Obsidian saves a note about every two seconds while the user types, so a build that writes a
note the user has open races with the editor. Each test here races for real: a separate process
watches the note's folder and saves into the note the moment kbgen's hidden temp file for it
appears (between kbgen's last look at the note and its rename over it), round after round,
and every line it saved must be in the note once the builds are over.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import run_build

from kbgen.vault.files import TEMP_PREFIX
from kbgen.vault.locate import SAVING_SECONDS

ROUNDS = 12
NOTE = "Actors/Vladimir Putin.md"

# Saves into NOTE (append, or the editor's whole-file rewrite in place) each time a kbgen temp
# file for it appears; prints each line it saved.
SAVER = textwrap.dedent(
    """
    import os, sys, time
    folder, name, how, prefix = sys.argv[1:5]
    note = os.path.join(folder, name)
    seen = set()
    count = 0
    print("ready", flush=True)
    while True:
        for entry in os.scandir(folder):
            key = (entry.name, entry.inode())
            if entry.name.startswith(prefix) and entry.name.endswith(name) and key not in seen:
                seen.add(key)
                line = f"USER-SAVE-{os.getpid()}-{count}"
                count += 1
                if how == "append":
                    with open(note, "a", encoding="utf-8") as fh:
                        fh.write(f"\\n{line}\\n")
                else:  # read the whole note, write it back whole, as an editor does
                    with open(note, encoding="utf-8") as fh:
                        text = fh.read()
                    with open(note, "w", encoding="utf-8") as fh:
                        fh.write(text.rstrip("\\n") + f"\\n\\n{line}\\n")
                print(line, flush=True)
    """
)


def _source(sources: Path, n: int) -> None:
    (sources / "round.txt").write_text(
        f"Round {n} of the talks\n\n"
        + "".join(
            f"Vladimir Putin spoke about sanctions in round {n}, part {k}, officials said.\n\n"
            for k in range(1 + n % 3)
        ),
        encoding="utf-8",
    )


@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", ["append", "rewrite"])
def test_saves_racing_the_write_of_the_same_note_are_all_kept(
    seed_sources: Path, tmp_path: Path, how: str
) -> None:
    vault = tmp_path / "vault"
    _source(seed_sources, 0)
    assert run_build(seed_sources, vault).ok
    folder, name = (vault / NOTE).parent, (vault / NOTE).name
    saved: list[str] = []
    n = 0
    # round after round until the saver has raced enough builds (a loaded machine schedules it
    # late, and it misses more of kbgen's temp files), within a bound
    while n < ROUNDS or (len(saved) < ROUNDS // 4 and n < 4 * ROUNDS):
        n += 1
        _source(seed_sources, n)  # Putin's note changes: kbgen writes it this build
        saver = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(folder), name, how, TEMP_PREFIX],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert saver.stdout is not None and saver.stdout.readline() == "ready\n"
        run_build(seed_sources, vault)
        time.sleep(0.05)  # a save the last temp file set off lands
        saver.kill()
        out, _ = saver.communicate()
        saved += out.split()
    run_build(seed_sources, vault)  # a build with no one racing it merges what was kept
    text = (vault / NOTE).read_text(encoding="utf-8")
    lost = [line for line in saved if line not in text]
    assert len(saved) >= ROUNDS // 4, saved  # the saver did race the builds
    assert lost == [], f"{len(lost)} of {len(saved)} racing saves lost"
    assert f"round {n}," in text  # and the source's last change arrived


# Rewrites NOTE in place, slowly: truncates it, then writes 40 % of the text, pauses, writes the
# rest, as an editor or a sync client that saves in place may; prints each line it saved.
SLOW_SAVER = textwrap.dedent(
    """
    import os, sys, time
    note, rounds = sys.argv[1], int(sys.argv[2])
    print("ready", flush=True)
    for k in range(rounds):
        with open(note, "rb") as fh:
            text = fh.read()
        line = f"MY-NOTE-{k}".encode()
        text = text.rstrip(b"\\n") + b"\\n\\n" + line + b"\\n"
        with open(note, "wb", buffering=0) as fh:  # O_TRUNC: empty from here on
            time.sleep(0.05)
            cut = len(text) * 4 // 10
            fh.write(text[:cut])  # 40 %, then a pause: a slow disk, a sync client's upload
            time.sleep(0.3)
            fh.write(text[cut:])
        print(line.decode(), flush=True)
        time.sleep(0.05)
    """
)


def test_a_note_read_while_an_editor_saves_it_in_place_is_left_for_later(
    seed_vault: Path, seed_sources: Path
) -> None:
    note = seed_vault / NOTE
    mine = note.read_text(encoding="utf-8") + "\nMY OWN ANNOTATION\n"
    note.write_text(mine, encoding="utf-8")
    assert run_build(seed_sources, seed_vault).ok
    mine = note.read_bytes()
    _source(seed_sources, 1)  # the source changes: kbgen has something to write to the note
    for cut in (b"", mine[: len(mine) * 4 // 10]):  # emptied, then 40 % written
        note.write_bytes(cut)
        report = run_build(seed_sources, seed_vault)
        assert note.read_bytes() == cut, "a save in progress was replaced"
        assert [a.path for a in report.plan.of("saving")] == [NOTE]
        assert "wait    Actors/Vladimir Putin.md" in "\n".join(report.plan.lines())
    note.write_bytes(mine)  # the editor is done
    run_build(seed_sources, seed_vault)
    text = note.read_text(encoding="utf-8")
    assert "MY OWN ANNOTATION" in text and "round 1" in text


@pytest.mark.timeout(300)
def test_builds_racing_an_editor_that_saves_in_place_slowly_lose_nothing(
    seed_sources: Path, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    _source(seed_sources, 0)
    assert run_build(seed_sources, vault).ok
    rounds = 25
    saver = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVER, str(vault / NOTE), str(rounds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert saver.stdout is not None and saver.stdout.readline() == "ready\n"
    n = 0
    while saver.poll() is None:
        n += 1
        _source(seed_sources, n)
        run_build(seed_sources, vault)
    out, _ = saver.communicate()
    time.sleep(SAVING_SECONDS + 0.1)  # past the window in which a note cut short is being saved
    run_build(seed_sources, vault)
    text = (vault / NOTE).read_text(encoding="utf-8")
    saved = out.split()
    assert len(saved) == rounds and n >= 10, (len(saved), n)
    lost = [line for line in saved if line not in text]
    assert lost == [], f"{len(lost)} of {rounds} in-place saves lost over {n} racing builds"


def test_a_merge_kbgen_just_wrote_is_not_a_save_under_way(
    seed_vault: Path, seed_sources: Path
) -> None:
    """A note the user cut down, merged and written by kbgen a moment ago, is shorter than its
    merge base: read again at once, it is kbgen's own write, not an editor's save."""
    note = seed_vault / NOTE
    text = note.read_text(encoding="utf-8")
    note.write_text(text[: len(text) // 2].rsplit("\n", 1)[0] + "\n\nMINE\n", encoding="utf-8")
    time.sleep(SAVING_SECONDS + 0.1)  # the user's cut is no save under way
    _source(seed_sources, 1)
    assert run_build(seed_sources, seed_vault).plan.of("merge", "conflict")
    _source(seed_sources, 2)
    report = run_build(seed_sources, seed_vault)  # within seconds of kbgen's own write
    assert report.plan.of("saving") == [] and NOTE not in report.plan.skipped
    assert "round 2" in note.read_text(encoding="utf-8")


def test_a_note_dated_in_the_future_is_not_a_save_under_way(
    seed_vault: Path, seed_sources: Path
) -> None:
    """A sync client may keep another machine's mtime, ahead of this clock: not "recent"."""
    note = seed_vault / NOTE
    note.write_bytes(b"")
    ahead = time.time() + 3600
    os.utime(note, (ahead, ahead))
    report = run_build(seed_sources, seed_vault)
    assert report.plan.of("saving") == []
    assert [a.path for a in report.plan.of("restore")] == [NOTE]
