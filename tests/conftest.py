"""Shared helpers: build a vault from a folder of sources, read notes back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from kbgen.build.pipeline import build
from kbgen.build.report import Report
from kbgen.core.config import Config

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "sources"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _trusted_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    """KBGEN_TRUST_STATS=1 trusts every stat at once (no racy window).

    Builds in tests follow each other within milliseconds, so most stats
    are racy and files are re-read; this runs the same tests down the other
    path, where kbgen relies on its stat cache (`python3 dev.py test` does both).
    """
    if os.environ.get("KBGEN_TRUST_STATS") == "1":
        import kbgen.core.filestat

        monkeypatch.setattr(kbgen.core.filestat, "RACY_SECONDS", 0.0)
        monkeypatch.setattr(kbgen.core.filestat, "COARSE_RACY_SECONDS", 0.0)


@pytest.fixture(autouse=True)
def _no_save_under_way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests edit a note and build at once, where a user takes seconds: a note cut short in
    the last `SAVING_SECONDS` would be taken for an editor's save under way and left for a
    later build. `test_saves.py`, which races real saves against builds, keeps the window."""
    if request.module.__name__ != "test_saves":
        import kbgen.vault.locate

        monkeypatch.setattr(kbgen.vault.locate, "SAVING_SECONDS", 0.0)


@pytest.fixture(autouse=True)
def _small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds render, plan and write 7 notes at a time here (500 in use), so that every test
    crosses the seams between parts: what a build does must not depend on where they fall."""
    import kbgen.build.parts

    monkeypatch.setattr(kbgen.build.parts, "PART", 7)


def run_build(sources: Path, vault: Path, **kwargs: object) -> Report:
    return build(Config(sources=sources, vault=vault), **kwargs)  # type: ignore[arg-type]


def vault_tree(root: Path) -> dict[str, bytes]:
    """Every file of a vault but kbgen's own state (a database, not output), by path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".kbgen" not in p.relative_to(root).parts
    }


def paths(report: Report, *kinds: str) -> set[str]:
    """The vault paths a build's plan gave one of these kinds of action."""
    return {a.path for a in report.plan.of(*kinds)}


def frontmatter_of(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), path
    end = text.index("\n---\n", 4)
    data = yaml.safe_load(text[4:end])
    assert isinstance(data, dict), path
    return data


@pytest.fixture
def seed_sources(tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def seed_vault(tmp_path: Path, seed_sources: Path) -> Path:
    vault = tmp_path / "vault"
    report = run_build(seed_sources, vault)
    assert report.ok, report.errors
    return vault
