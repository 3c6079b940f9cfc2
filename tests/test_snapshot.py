"""The no-op snapshot: a build whose listings match the last quiet build's reports it again.

Each test trusts stats at once (no racy window) unless it is about the racy
window, so the second build after a change is the quiet one that leaves a
snapshot, and the third can replay it.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import paths, run_build, vault_tree

import kbgen.core.filestat
import kbgen.state.store
from kbgen.build import snapshot
from kbgen.build.pipeline import build
from kbgen.build.report import Report
from kbgen.cli import main
from kbgen.core.config import Config
from kbgen.core.errors import KbgenError
from kbgen.core.filestat import RACY_SECONDS
from kbgen.vault import files as vault_mod
from kbgen.vault.files import MAP

PUTIN = "Actors/Vladimir Putin.md"


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kbgen.core.filestat, "RACY_SECONDS", 0.0)
    monkeypatch.setattr(kbgen.core.filestat, "COARSE_RACY_SECONDS", 0.0)


def _replayed(report: Report) -> bool:
    return report.path == "snapshot" and "snapshot" in report.timings


def _settled(sources: Path, vault: Path, **options: object) -> Report:
    """Build until a build writes nothing (it leaves the snapshot); return that build's report."""
    errors_ok = options.pop("errors_ok", False)
    config = Config(sources=sources, vault=vault, **options)  # type: ignore[arg-type]
    for _ in range(3):
        report = build(config)
        assert report.ok or errors_ok, report.errors
        if not report.plan.writes and not report.map_written:
            assert (vault / ".kbgen" / snapshot.FILE).exists()
            return report
    raise AssertionError("three builds in a row wrote notes")


def _no_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replayed build must not even load the state database."""

    def refuse(self: object) -> None:
        raise AssertionError("the state was loaded")

    monkeypatch.setattr(kbgen.state.store.Store, "load", refuse)


def test_a_build_after_a_quiet_build_replays_its_report_without_loading_the_state(
    seed_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault"
    quiet = _settled(seed_sources, vault)
    before = vault_tree(vault)
    _no_state(monkeypatch)
    again = run_build(seed_sources, vault)
    assert _replayed(again)
    assert again.summary().rsplit(" · ", 1)[0] == quiet.summary().rsplit(" · ", 1)[0]
    assert again.plan.lines() == quiet.plan.lines()
    assert again.catalog_notes == quiet.catalog_notes and again.catalog_notes
    assert vault_tree(vault) == before


def test_failing_sources_are_reported_by_every_build_replayed_or_not(
    seed_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (seed_sources / "broken.txt").write_bytes(b"\x00\x01binary")
    vault = tmp_path / "vault"
    quiet = _settled(seed_sources, vault, errors_ok=True)
    _no_state(monkeypatch)
    again = run_build(seed_sources, vault)
    assert _replayed(again)
    assert [(e.path, e.reason) for e in again.errors] == [(e.path, e.reason) for e in quiet.errors]
    assert [e.path for e in again.errors] == ["broken.txt"] and not again.ok


def _edit_keeping_size_and_times(path: Path) -> None:
    """The change a stat cache is most likely to miss: same size, same mtime."""
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Russia", "Rossia", 1), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _change_source(sources: Path, vault: Path) -> None:
    _edit_keeping_size_and_times(next(iter(sorted(sources.iterdir()))))


def _add_source(sources: Path, vault: Path) -> None:
    text = "Putin spoke about sanctions today, and the ministers of both countries listened. "
    (sources / "new.md").write_text(f"# A new article\n\n{text * 3}\n\n{text * 2}\n")


def _delete_source(sources: Path, vault: Path) -> None:
    next(iter(sorted(sources.iterdir()))).unlink()


def _delete_note(sources: Path, vault: Path) -> None:
    (vault / PUTIN).unlink()


def _edit_note(sources: Path, vault: Path) -> None:
    note = vault / PUTIN
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("  - Putin\n", "  - Putin\n  - Russian President\n", 1))


def _delete_map(sources: Path, vault: Path) -> None:
    (vault / MAP).unlink()


CHANGES = {
    "a source edited, size and mtime kept": (_change_source, "update"),
    "a source added": (_add_source, "create"),
    "a source deleted": (_delete_source, "delete"),
    "a note deleted by the user": (_delete_note, "restore"),
    "an alias added in a note": (_edit_note, "update"),
    "the map deleted": (_delete_map, None),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_to_what_a_build_reads_is_built_not_replayed(
    seed_sources: Path, tmp_path: Path, change: str
) -> None:
    vault = tmp_path / "vault"
    _settled(seed_sources, vault)
    make, kind = CHANGES[change]
    make(seed_sources, vault)
    report = run_build(seed_sources, vault)
    assert not _replayed(report)
    if kind is None:
        assert report.map_written
    else:
        assert paths(report, kind), report.plan.lines()
    assert not run_build(seed_sources, vault).plan.writes  # settled again: quiet, not stuck


def test_a_catalog_file_edited_is_built_not_replayed(seed_sources: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "extra.yaml"
    catalog.write_text("actors:\n  - name: Dmitry Peskov\n    kind: person\n")
    vault = tmp_path / "vault"
    _settled(seed_sources, vault, catalogs=(catalog,))
    catalog.write_text("actors:\n  - name: Dmitry Peskov\n    kind: person\n    aliases: [Mr P]\n")
    report = build(Config(sources=seed_sources, vault=vault, catalogs=(catalog,)))
    assert not _replayed(report)


def test_a_catalog_named_another_way_is_the_same_input(
    seed_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalog given by a relative path, then by its absolute one (another working folder, a
    script): the same file, the same bytes, so the build is replayed, not done again."""
    catalog = tmp_path / "extra.yaml"
    catalog.write_text("actors:\n  - name: Dmitry Peskov\n    kind: person\n")
    vault = tmp_path / "vault"
    monkeypatch.chdir(tmp_path)
    _settled(seed_sources, vault, catalogs=(Path("extra.yaml"),))
    report = build(Config(sources=seed_sources, vault=vault, catalogs=(catalog,)))
    assert _replayed(report)


def test_new_options_or_new_kbgen_code_are_built_not_replayed(
    seed_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault"
    _settled(seed_sources, vault)
    other = build(Config(sources=seed_sources, vault=vault, follow_symlinks=True))
    assert not _replayed(other)
    _settled(seed_sources, vault)
    real = snapshot.code_digest

    def upgraded():  # type: ignore[no-untyped-def]
        h = real()
        h.update(b"kbgen 9")
        return h

    monkeypatch.setattr(snapshot, "code_digest", upgraded)
    assert not _replayed(run_build(seed_sources, vault))


def test_no_snapshot_is_left_while_a_stat_is_racy(
    seed_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault"
    run_build(seed_sources, vault)
    monkeypatch.setattr(kbgen.core.filestat, "RACY_SECONDS", 3600.0)  # every file "just modified"
    for _ in range(2):
        report = run_build(seed_sources, vault)
        assert not report.plan.writes and not _replayed(report)
    assert not (vault / ".kbgen" / snapshot.FILE).exists()


def test_a_build_that_writes_removes_the_snapshot_before_its_first_write(
    seed_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault"
    _settled(seed_sources, vault)
    _add_source(seed_sources, vault)
    seen = []

    def crash(path: Path, data: bytes) -> None:
        seen.append((vault / ".kbgen" / snapshot.FILE).exists())
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(vault_mod, "_write_durably", crash)
    with pytest.raises(KbgenError):
        run_build(seed_sources, vault)
    monkeypatch.undo()
    monkeypatch.setattr(kbgen.core.filestat, "RACY_SECONDS", 0.0)
    monkeypatch.setattr(kbgen.core.filestat, "COARSE_RACY_SECONDS", 0.0)
    assert seen == [False]
    report = run_build(seed_sources, vault)
    assert not _replayed(report) and paths(report, "create")


def test_a_dry_run_leaves_no_snapshot_and_a_damaged_one_is_ignored(
    seed_sources: Path, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    run_build(seed_sources, vault)
    config = Config(sources=seed_sources, vault=vault)
    while build(config).plan.writes:
        pass
    (vault / ".kbgen" / snapshot.FILE).unlink()
    assert not build(config, dry_run=True).plan.writes
    assert not (vault / ".kbgen" / snapshot.FILE).exists()
    (vault / ".kbgen" / snapshot.FILE).write_text("{not json")
    report = build(config)
    assert not _replayed(report) and report.ok
    assert _replayed(build(config))


def test_a_state_database_deleted_or_replaced_is_built_not_replayed(
    seed_sources: Path, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    _settled(seed_sources, vault)
    database = vault / ".kbgen" / "state.sqlite"
    saved = database.read_bytes()
    database.unlink()
    report = run_build(seed_sources, vault)
    assert not _replayed(report) and report.ok
    _settled(seed_sources, vault)
    database.write_bytes(saved)  # an older copy put back
    assert not _replayed(run_build(seed_sources, vault))


def test_a_build_the_snapshot_answers_imports_no_data_model(
    seed_sources: Path, tmp_path: Path
) -> None:
    """A no-op build imports the listings and the digests only (the quick path's record is
    read there too): not the data model, the catalog's YAML or a parser."""
    vault = tmp_path / "vault"
    for _ in range(2):  # the second build, with every stat settled, leaves the snapshot
        run_build(seed_sources, vault)
        time.sleep(RACY_SECONDS + 0.02)
    code = (
        "import sys; from kbgen.cli import main; "
        f"main(['build', '-q', '--sources', {str(seed_sources)!r}, '--vault', {str(vault)!r}]); "
        "print(*(m in sys.modules for m in ('kbgen.core.model', 'yaml', 'markdown_it', 'kbgen.build.full')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"] * 4


def test_the_code_digest_covers_every_module_in_every_stage_folder() -> None:
    """A change to any module must invalidate the snapshot, wherever the module sits."""
    import kbgen.build.full  # noqa: F401  (a module of the build stage, loaded for the check)

    loaded = {
        Path(m.__file__).resolve()
        for name, m in list(sys.modules.items())
        if name.startswith("kbgen.") and getattr(m, "__file__", None)
    }
    covered = {p.resolve() for p in snapshot.code_files()}
    assert loaded <= covered
    assert any(p.parent.name == "read" for p in covered)


def test_verbose_says_which_path_ran_and_why_a_shortcut_declined(
    seed_sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = tmp_path / "vault"
    args = ["build", "-v", "--sources", str(seed_sources), "--vault", str(vault)]
    main(args)
    assert "kbgen: path: full (snapshot declined: " in capsys.readouterr().out
    _settled(seed_sources, vault)
    main(args)
    assert "kbgen: path: snapshot\n" in capsys.readouterr().out
    (seed_sources / "new.txt").write_text("A new title\n\nVladimir Putin spoke.\n", "utf-8")
    main(args)
    out = capsys.readouterr().out
    assert "snapshot declined: the sources, the notes or the options changed" in out
    assert "quick declined: a source was added" in out
