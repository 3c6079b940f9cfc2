"""Build behaviour: idempotence, user edits, bad sources, encodings, CLI and config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEEDS, frontmatter_of, paths, run_build

from kbgen.cli import main
from kbgen.core.filestat import RACY_SECONDS
from kbgen.vault.lock import lock


def _snapshot(vault: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(vault).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in vault.rglob("*")
        if p.is_file()
    }


def _notes(snapshot: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    return {p: s for p, s in snapshot.items() if not p.startswith(".kbgen/")}


def test_second_build_writes_nothing(seed_sources: Path, seed_vault: Path) -> None:
    """No note is touched; once the state knows every file's stat, nothing at all is.

    A stat taken within RACY_SECONDS of the file's mtime is not trusted (a
    second write in the same clock tick would leave it unchanged), so the
    build after that records it once, as git refreshes its index.
    """
    time.sleep(RACY_SECONDS + 0.05)
    before = _snapshot(seed_vault)
    report = run_build(seed_sources, seed_vault)
    assert not report.plan.writes
    assert report.plan.count("unchanged") > 100
    assert _notes(_snapshot(seed_vault)) == _notes(before)
    before = _snapshot(seed_vault)
    report = run_build(seed_sources, seed_vault)
    assert not report.plan.writes
    assert _snapshot(seed_vault) == before


def test_one_changed_source_rewrites_its_note(seed_sources: Path, seed_vault: Path) -> None:
    path = seed_sources / "004_391b700a59b12524.txt"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Trump may also become", "Trump might become"),
        encoding="utf-8",
    )
    report = run_build(seed_sources, seed_vault)
    updated = paths(report, "update")
    assert (
        "Sources/US-Russia Relations under Trump Presidency Will The Reset Come to Pass.md"
        in updated
    )
    assert not any(p.startswith("Sources/") and "Reset Come" not in p for p in updated)
    assert len(updated) < 20  # the note itself and the few actor/issue notes quoting that sentence


def test_removed_source_deletes_its_untouched_note(seed_sources: Path, seed_vault: Path) -> None:
    note = seed_vault / "Sources" / "What’s Next for US-Russia Relations.md"
    assert note.exists()
    (seed_sources / "001_9de591f704b0e99d.txt").unlink()
    run_build(seed_sources, seed_vault)
    assert not note.exists()
    assert not (seed_vault / "Authors" / "Yu Sui.md").exists()


def test_a_users_own_note_at_a_generated_name_stays_byte_for_byte(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / "Mine").mkdir(parents=True)
    mine = vault / "Mine" / "Vladimir Putin.md"
    mine.write_bytes(b"my own notes about Putin\n")
    report = run_build(SEEDS, vault)
    assert report.ok
    assert mine.read_bytes() == b"my own notes about Putin\n"
    assert (vault / "Actors" / "Vladimir Putin (actor).md").exists()
    assert any(
        "Actors/Vladimir Putin (actor).md" in line and "Mine/Vladimir Putin.md" in line
        for line in report.plan.notices
    )


def test_a_user_note_declaring_an_actor_becomes_a_link_target(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Atlantic Council.md").write_text(
        "---\ntype: actor\nkind: organisation\naliases:\n  - Foreign Policy Research Institute\n---\n"
        "x\n",
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="belongs to both"):
        run_build(SEEDS, vault)  # the alias is already the shipped catalog's: the user must choose
    (vault / "Atlantic Council.md").write_text(
        "---\ntype: actor\naliases: [Harvard professor]\n---\n", encoding="utf-8"
    )
    report = run_build(SEEDS, vault)
    assert report.ok
    text = (vault / "Sources" / "What’s Next for US-Russia Relations.md").read_text(
        encoding="utf-8"
    )
    assert "[[Atlantic Council|Harvard professor]]" in text
    assert (vault / "Atlantic Council.md").read_text(encoding="utf-8").endswith("---\n")


def test_the_users_notes_are_read_again_only_when_their_stat_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every build looks at the properties of every note of the user's (a `type: actor` one is a
    link target); one whose stat is unchanged and old enough to trust is not read again."""
    import kbgen.core.filestat
    import kbgen.vault.scan
    from kbgen.vault.scan import frontmatter_of as real_frontmatter_of

    monkeypatch.setattr(kbgen.core.filestat, "RACY_SECONDS", 0.0)
    monkeypatch.setattr(kbgen.core.filestat, "COARSE_RACY_SECONDS", 0.0)
    reads: list[str] = []

    def reading(path: Path) -> dict[str, object]:
        reads.append(path.name)
        return real_frontmatter_of(path)

    monkeypatch.setattr(kbgen.vault.scan, "frontmatter_of", reading)
    vault = tmp_path / "vault"
    vault.mkdir()
    for k in range(5):
        (vault / f"Mine {k}.md").write_text(f"---\ntags: [mine]\n---\nMy note {k}.\n")
    actor = vault / "Atlantic Council.md"
    actor.write_text("---\ntype: actor\naliases: [Harvard professor]\n---\n")
    run_build(SEEDS, vault)
    assert len(reads) == 6
    reads.clear()
    run_build(SEEDS, vault)
    assert reads == []
    actor.write_text("---\ntype: actor\naliases: [Harvard professor, HKS]\n---\n")
    report = run_build(SEEDS, vault)
    assert reads == ["Atlantic Council.md"] and report.ok


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n", "empty file"),
        ("menu.txt", b"Home\nSearch\nLog in\n", "no article text"),
        ("bad.md", b"---\ntitle: [unclosed\n---\nText.\n", "frontmatter is not valid YAML"),
    ],
)
def test_a_bad_source_is_named_and_the_rest_still_build(
    tmp_path: Path,
    name: str,
    data: bytes,
    reason: str,
) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    (sources / name).write_bytes(data)
    report = run_build(sources, tmp_path / "vault")
    assert [(e.path, reason in e.reason) for e in report.errors] == [(name, True)]
    assert len(list((tmp_path / "vault" / "Sources").glob("*.md"))) == 5


def test_a_failing_source_keeps_its_existing_note(seed_sources: Path, seed_vault: Path) -> None:
    note = seed_vault / "Sources" / "What’s Next for US-Russia Relations.md"
    before = note.read_bytes()
    (seed_sources / "001_9de591f704b0e99d.txt").write_bytes(b"\x00\x01binary now")
    report = run_build(seed_sources, seed_vault)
    assert not report.ok
    assert note.read_bytes() == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252", "latin-1"])
def test_common_encodings_are_decoded(tmp_path: Path, encoding: str) -> None:
    text = (
        "Café diplomacy\n\nBy Zoë Señor\n\n"
        + "Putin’s café visit was noted by everyone in Moscow. " * 4
    )
    if encoding == "latin-1":
        text = text.replace("’", "'")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_bytes(text.encode(encoding))
    report = run_build(tmp_path / "src", tmp_path / "vault")
    assert report.ok, report.errors
    note = tmp_path / "vault" / "Sources" / "Café diplomacy.md"
    assert frontmatter_of(note)["authors"] == ["[[Zoë Señor]]"]
    assert "[[Vladimir Putin|Putin]]" in note.read_text(encoding="utf-8")


def test_symlink_out_of_sources_is_not_followed(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\n" + "Private text about Putin and the sanctions regime. " * 5)
    (sources / "link.txt").symlink_to(outside)
    report = run_build(sources, tmp_path / "vault")
    assert [e.path for e in report.errors] == ["link.txt"]
    assert "outside the sources folder" in report.errors[0].reason


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    report = run_build(SEEDS, vault, dry_run=True)
    assert report.plan.count("create") > 100
    assert not vault.exists()


def test_cli_build_init_and_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vault = tmp_path / "v"
    assert main(["init", str(vault)]) == 0
    graph = vault / ".obsidian" / "graph.json"
    graph.write_text("{}")  # the user's own graph settings
    (tmp_path / "kbgen.yaml").write_text(f"sources: {SEEDS}\nvault: v\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["build"]) == 0
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "5 sources read, 0 failed" in out
    assert graph.read_text() == "{}"
    assert (vault / "Home.md").exists()


def test_cli_exit_status_is_one_when_a_source_fails(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "x.txt").write_bytes(b"\x00")
    code = main(["build", "--sources", str(tmp_path / "s"), "--vault", str(tmp_path / "v")])
    assert code == 1


def test_console_script_help() -> None:
    for args in (["--help"], ["build", "--help"], ["init", "--help"]):
        result = subprocess.run(
            [sys.executable, "-m", "kbgen.cli", *args], capture_output=True, text=True
        )
        assert result.returncode == 0 and "usage: kbgen" in result.stdout


def test_the_command_ends_without_freeing_what_the_build_held(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kbgen` leaves by `os._exit` once its output is flushed: freeing a 10,000-article
    build's objects one by one took 0.13–0.18 s of a one-edit build's 1.1 s."""
    from kbgen import cli

    ended: list[int] = []
    flushed: list[str] = []

    def hard_exit(code: int) -> None:
        flushed.append(capsys.readouterr().out)
        ended.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(cli, "main", lambda **kwargs: print("kbgen: done") or 1)
    monkeypatch.setattr(cli.os, "_exit", hard_exit)
    with pytest.raises(SystemExit):
        cli.run()
    assert ended == [1] and flushed == ["kbgen: done\n"]


def test_the_command_under_a_profiler_or_tracer_leaves_the_normal_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`python -m cProfile -m kbgen.cli`, pyinstrument and coverage write what they gathered
    at exit: for them, no hard exit."""
    from kbgen import cli

    monkeypatch.setattr(cli, "main", lambda **kwargs: 0)
    monkeypatch.setattr(cli.os, "_exit", lambda code: pytest.fail("left by os._exit"))
    sys.setprofile(lambda frame, event, arg: None)
    try:
        with pytest.raises(SystemExit) as left:
            cli.run()
    finally:
        sys.setprofile(None)
    assert left.value.code == 0


def test_the_command_builds_with_the_collector_paused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A build's cyclic garbage is a few hundred objects (598 in a 5,000-article cold build),
    while the collector's passes over what it holds took a tenth of a one-edit build at
    10,000: `kbgen build` pauses it, and gives it back as it found it."""
    import gc

    from kbgen import cli
    from kbgen.build import pipeline

    seen: list[bool] = []

    def build(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "build", build)
    assert gc.isenabled()
    cli.main(["build", "--sources", str(tmp_path), "--vault", str(tmp_path / "v")])
    assert seen == [False] and gc.isenabled()


def test_the_command_leaving_gives_the_collector_nothing_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Turned on again, the collector would walk all the build made before the process ends
    (15 ms of a one-edit build at 10,000): `run` ends the process with it paused."""
    import gc

    from kbgen import cli

    (tmp_path / "s").mkdir()
    command = ["build", "--sources", str(tmp_path / "s"), "--vault", str(tmp_path / "v")]
    ended: list[int] = []
    monkeypatch.setattr(cli.os, "_exit", ended.append)
    monkeypatch.setattr(sys, "argv", ["kbgen", *command])
    try:
        cli.run()
        assert ended == [0] and not gc.isenabled()
    finally:
        gc.enable()
    assert cli.main(command) == 0 and gc.isenabled()  # in-process, it is given back


def test_a_worker_collects_whatever_its_parent_does() -> None:
    """Workers parse thousands of articles each: the pause is the main process's only."""
    import gc

    from kbgen.core import forked

    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the forked worker
        gc.disable()
        forked.worker_start(os.getppid())
        os.write(write, b"1" if gc.isenabled() else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(child, 0)


def test_the_command_run_as_a_process_prints_and_commits(
    seed_sources: Path, tmp_path: Path
) -> None:
    """What leaving early must not lose: the report on a pipe, and the state committed (the
    next build writes nothing)."""
    vault = tmp_path / "v"
    command = [sys.executable, "-m", "kbgen.cli", "build", "--sources", str(seed_sources)]
    first = subprocess.run([*command, "--vault", str(vault)], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "5 sources read, 0 failed" in first.stdout
    again = subprocess.run([*command, "--vault", str(vault)], capture_output=True, text=True)
    assert "wrote 0 notes" in again.stdout, again.stdout


def test_a_reader_gone_before_the_report_is_no_traceback(
    seed_sources: Path, tmp_path: Path
) -> None:
    """`kbgen build -v | head -1`: the vault is built; the report has nobody to go to. Python's
    advice for SIGPIPE: say nothing more and exit 1."""
    command = [sys.executable, "-m", "kbgen.cli", "build", "-v", "--sources", str(seed_sources)]
    proc = subprocess.Popen(
        [*command, "--vault", str(tmp_path / "v")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    errors = proc.stderr.read().decode()
    assert proc.wait() == 1
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
    assert (tmp_path / "v" / "Home.md").exists()


def test_a_build_of_few_sources_does_not_import_multiprocessing(
    seed_sources: Path, tmp_path: Path
) -> None:
    """Fewer than 200 sources are parsed in-process: the pool's imports (13 ms, a fiftieth of
    a one-edit build) are left for the builds that start one."""
    code = (
        "import sys; from kbgen.cli import main; "
        f"main(['build', '-q', '--sources', {str(seed_sources)!r}, '--vault', {str(tmp_path)!r}]); "
        "print('multiprocessing' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_a_second_writer_on_the_same_vault_is_refused(seed_sources: Path, seed_vault: Path) -> None:
    from kbgen.core.errors import KbgenError

    with lock(seed_vault), pytest.raises(KbgenError, match="another kbgen"):
        run_build(seed_sources, seed_vault)
    assert run_build(seed_sources, seed_vault, dry_run=True).ok  # reading needs no lock


def test_state_from_kbgen_0_1_is_taken_over(seed_sources: Path, seed_vault: Path) -> None:
    """A vault built by 0.1 (state.json, no merge bases) keeps the user's edits and carries on."""
    import json
    import sqlite3

    db_path = seed_vault / ".kbgen" / "state.sqlite"
    with sqlite3.connect(db_path) as db:
        notes = {
            i: {"path": p, "sha": w}
            for i, p, w in db.execute("SELECT id, path, written FROM notes")
        }
        sources = {
            p: {"digest": d, "id": i}
            for p, d, i in db.execute("SELECT path, digest, id FROM sources")
        }
    db_path.unlink()
    legacy = seed_vault / ".kbgen" / "state.json"
    legacy.write_text(json.dumps({"version": 1, "notes": notes, "sources": sources}))
    edited = seed_vault / "Actors" / "Dmitry Peskov.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nMine.\n", encoding="utf-8")
    path = seed_sources / "004_391b700a59b12524.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("Trump may also", "Trump might"))
    report = run_build(seed_sources, seed_vault)
    assert "Actors/Dmitry Peskov.md" in paths(report, "kept", "adopted", "merge")
    assert edited.read_text(encoding="utf-8").endswith("\nMine.\n")
    assert paths(report, "update") and not paths(report, "create")
    assert db_path.exists() and not legacy.exists()
    assert not run_build(seed_sources, seed_vault).plan.writes


def test_the_suffixes_discovered_are_the_ones_there_are_readers_for() -> None:
    """discover() knows the suffixes without importing the readers (start-up time)."""
    from kbgen.read.readers import READERS
    from kbgen.read.sources import SUFFIXES

    assert set(READERS) == SUFFIXES


def test_a_windows_1252_file_with_a_stray_byte_is_still_text() -> None:
    """One byte Windows-1252 leaves undefined (0x81) must not turn every curly quote into a
    control character, and the article into "not text"."""
    from kbgen.read.decode import decode

    sentence = "“Putin’s visit,” officials said, “was noted by everyone in Moscow.” "
    data = (sentence * 20).encode("cp1252") + b"\x81" + (sentence * 20).encode("cp1252")
    text = decode(data)
    assert text.count("“") == 80 and text.count("’") == 40
    assert "\ufffd" in text  # the stray byte is shown as undecodable, not silently invented


def test_a_long_build_shows_its_writing_as_well_as_its_reading(
    seed_sources: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On a terminal a cold build of 10,000 articles spends 15–20 s rendering and writing after
    the reading bar is full: that has a bar too, counting notes. Shown from `BAR_FROM` items,
    after half a second (here at once, from one item)."""
    import kbgen.build.report

    monkeypatch.setattr(kbgen.build.report, "BAR_FROM", 1)
    monkeypatch.setattr(kbgen.build.report, "BAR_DELAY", 0.0)
    report = run_build(seed_sources, tmp_path / "vault", progress=True)
    err = capsys.readouterr().err
    assert "reading" in err and f"{report.sources}/{report.sources}" in err
    written = f"{report.rendered}/{report.rendered}"
    assert "writing" in err and written in err and "note" in err
    run_build(seed_sources, tmp_path / "vault", progress=True)  # nothing to do: no bar
    assert capsys.readouterr().err == ""


def test_the_summary_says_one_source_and_one_note_in_the_singular() -> None:
    from kbgen.build.report import Report
    from kbgen.vault.actions import Action, Plan

    one = Report(sources=1, plan=Plan([Action("create", "source:a", "Sources/A.md")]))
    assert one.summary().startswith("kbgen: 1 source read, 0 failed · wrote 1 note (1 new, ")
    two = Report(sources=2, plan=Plan([Action("create", f"s:{i}", f"{i}.md") for i in "ab"]))
    assert two.summary().startswith("kbgen: 2 sources read, 0 failed · wrote 2 notes (2 new, ")


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("sourcez: x\n", "unknown option sourcez; known:"),
        ("sourcez: x\nvalt: v\n", "unknown options sourcez, valt; known:"),
    ],
)
def test_a_mistyped_option_in_the_config_is_named_and_nothing_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], typed: str, said: str
) -> None:
    config = tmp_path / "kbgen.yaml"
    config.write_text(typed)
    code = main(["build", "--config", str(config), "--vault", str(tmp_path / "v")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"kbgen: error: {config}: {said} catalogs, follow_symlinks, sources, vault" in err
    assert not (tmp_path / "v").exists()
