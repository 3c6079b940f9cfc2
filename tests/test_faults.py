"""Faults (issue 6): a disk that fills up mid-build, a vault that cannot be written.

Each leaves every note old or new, says what happened and where, keeps
kbgen's state consistent, and lets the next build finish the job.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import SEEDS, run_build, vault_tree
from corpus import write_corpus

from kbgen.cli import main
from kbgen.core.errors import KbgenError
from kbgen.vault import files as vault_mod


def _edit_sources(sources: Path) -> None:
    for path in sorted(sources.glob("article-*.md"))[:8]:
        path.write_text(path.read_text(encoding="utf-8").replace(" the ", " a ", 2), "utf-8")
    sorted(sources.glob("article-*.md"))[-1].unlink()


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    sources, vault = tmp_path / "sources", tmp_path / "vault"
    write_corpus(sources, 30, seed=11)
    for seed in SEEDS.glob("*.txt"):
        shutil.copy(seed, sources)
    assert run_build(sources, vault).ok
    _edit_sources(sources)
    return sources, vault


def _expected(tmp_path: Path, sources: Path, vault: Path) -> dict[str, bytes]:
    """What the same build makes when nothing goes wrong."""
    twin = tmp_path / "twin"
    shutil.copytree(vault, twin)
    assert run_build(sources, twin).ok
    return vault_tree(twin)


@pytest.mark.parametrize("fail_at", [1, 4, 12])
@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EIO])
def test_a_write_error_mid_build_leaves_every_note_old_or_new(
    built: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fail_at: int,
    error: int,
) -> None:
    sources, vault = built
    before = vault_tree(vault)
    expected = _expected(tmp_path, sources, vault)
    calls = 0
    real_write = vault_mod._write_durably

    def failing(path: Path, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == fail_at:
            real_write(path, data[: len(data) // 2])  # what a full disk leaves behind
            raise OSError(error, os.strerror(error))
        real_write(path, data)

    monkeypatch.setattr(vault_mod, "_write_durably", failing)
    with pytest.raises(KbgenError) as caught:
        run_build(sources, vault)
    message = str(caught.value)
    assert os.strerror(error) in message and ".md" in message
    monkeypatch.undo()
    after = vault_tree(vault)
    for path, data in after.items():
        assert data in (before.get(path), expected.get(path)), f"{path} is neither old nor new"
    assert not list(vault.rglob(f"{vault_mod.TEMP_PREFIX}*")), "a temp file was left visible"
    assert run_build(sources, vault).ok
    assert vault_tree(vault) == expected
    assert not run_build(sources, vault).plan.writes


def test_a_full_disk_at_the_state_commit_is_reported_and_recovered(
    built: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources, vault = built
    expected = _expected(tmp_path, sources, vault)
    from kbgen.state import store as state_mod

    real_commit = state_mod.Store.commit

    def failing(self: state_mod.Store, *args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(state_mod.Store, "commit", failing)
    with pytest.raises(KbgenError, match="disk is full"):
        run_build(sources, vault)
    monkeypatch.setattr(state_mod.Store, "commit", real_commit)
    assert run_build(sources, vault).ok
    assert vault_tree(vault) == expected


def test_the_cli_reports_a_write_error_in_one_line_and_exits_2(
    built: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sources, vault = built

    def failing(self: vault_mod.Writer, path: Path, data: bytes, *expect: bytes | None) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(vault_mod.Writer, "write", failing)
    code = main(["build", "--sources", str(sources), "--vault", str(vault), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("kbgen: error: ") and "No space left on device" in err
    assert "Traceback" not in err


def test_a_read_only_vault_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources, vault = tmp_path / "sources", tmp_path / "vault"
    shutil.copytree(SEEDS, sources)
    assert run_build(sources, vault).ok
    (sources / "000_db97465ef9819302.txt").write_text("Changed\n\n" + "text " * 200, "utf-8")
    before = vault_tree(vault)
    state = (vault / ".kbgen" / "state.sqlite").read_bytes()
    if os.geteuid() != 0:
        vault.chmod(0o555)
    else:  # root writes anywhere: make writing fail the way a read-only mount does
        real_write_bytes = Path.write_bytes

        def read_only(self: Path, data: bytes) -> int:
            if self.is_relative_to(vault):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
            return real_write_bytes(self, data)

        monkeypatch.setattr(Path, "write_bytes", read_only)
    try:
        with pytest.raises(KbgenError, match="not writable"):
            run_build(sources, vault)
    finally:
        vault.chmod(0o755)
        monkeypatch.undo()
    assert vault_tree(vault) == before
    assert (vault / ".kbgen" / "state.sqlite").read_bytes() == state


def test_a_missing_sources_folder_stops_the_build_and_deletes_nothing(
    seed_sources: Path, seed_vault: Path
) -> None:
    """An unmounted or mistyped sources folder is not "every source was removed".

    Taken as that, it would delete every untouched note and orphan the rest;
    under `kbgen watch`, a network share that drops for a moment would empty
    the vault.
    """
    before = vault_tree(seed_vault)
    shutil.rmtree(seed_sources)
    with pytest.raises(KbgenError, match="the sources folder does not exist"):
        run_build(seed_sources, seed_vault)
    assert vault_tree(seed_vault) == before


@pytest.mark.parametrize("inside", ["vault", "vault/sub"])
def test_a_vault_inside_the_sources_folder_is_refused(tmp_path: Path, inside: str) -> None:
    """kbgen would read its own notes back as articles (and `watch` would chase its own writes)."""
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    with pytest.raises(KbgenError, match="inside the sources folder"):
        run_build(sources, sources / inside)
    assert not (sources / "vault").exists()


def test_a_kbgen_bug_on_one_source_fails_that_source_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception while reading one article is that article's error, not the build's."""
    import kbgen.read.readers

    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    (sources / "trap.txt").write_text("Title\n\nA body paragraph about Putin.\n", encoding="utf-8")
    real = kbgen.read.readers.READERS[".txt"]

    def reader(text: str) -> object:
        if "A body paragraph about Putin." in text:
            raise RuntimeError("boom")
        return real(text)

    monkeypatch.setitem(kbgen.read.readers.READERS, ".txt", reader)
    report = run_build(sources, tmp_path / "vault")
    assert [e.path for e in report.errors] == ["trap.txt"]
    assert "RuntimeError: boom" in report.errors[0].reason
    assert "kbgen bug" in report.errors[0].reason
    assert len(list((tmp_path / "vault" / "Sources").glob("*.md"))) == 5
