"""Every build ends, whatever one source does to the worker reading it.

A build of 200 sources or more reads them in a pool of forked workers. Each test here builds
enough sources to start that pool, makes one source fail in a different way inside its worker,
and checks that the build ends (pytest-timeout stops a hang), that the failing source gets one
error line naming it, and that every other source got its note.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import run_build

import kbgen.read.sources
from kbgen.core import forked
from kbgen.core.errors import SourceError

COUNT = 230  # above reading._PARALLEL_FROM, so that a pool of workers reads them
BAD = "s117.txt"

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not forked.can_fork(), reason="no pool of forked workers here"),
]


def _corpus(root: Path) -> Path:
    sources = root / "sources"
    sources.mkdir()
    for n in range(COUNT):
        (sources / f"s{n:03d}.txt").write_text(
            f"Report number {n} on the talks\n\n"
            f"Officials met in Geneva on Monday for round {n} of the talks on trade.\n\n"
            "They said little afterwards, and agreed to meet again next month.\n",
            encoding="utf-8",
        )
    return sources


class _Unpicklable:
    """A result the worker cannot send back."""

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle this result")


class _Unloadable(Exception):
    """An exception the worker can send back but the parent cannot rebuild: it pickles its
    message only, and its constructor wants two arguments (how SourceError used to hang)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")


def _kill(rel: str, data: bytes) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


def _raise(rel: str, data: bytes) -> Any:
    raise ZeroDivisionError("division by zero")


def _unpicklable(rel: str, data: bytes) -> Any:
    return _Unpicklable()


def _unloadable(rel: str, data: bytes) -> Any:
    raise _Unloadable(rel, "whatever")


def _source_error(rel: str, data: bytes) -> Any:
    raise SourceError(rel, "no article text found after removing page clutter")


def _exit(rel: str, data: bytes) -> Any:
    os._exit(3)


FAILURES: dict[str, tuple[Callable[[str, bytes], Any], str]] = {
    "killed": (_kill, "the process reading it died"),
    "exited": (_exit, "the process reading it died"),
    "exception": (_raise, "kbgen bug while reading it (ZeroDivisionError"),
    "unpicklable result": (_unpicklable, "kbgen bug while reading it"),
    "unloadable exception": (_unloadable, "kbgen bug while reading it"),
    "source error": (_source_error, "no article text found"),
}


def test_a_source_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(SourceError("a.txt", "empty file")))
    assert (error.path, error.reason, str(error)) == ("a.txt", "empty file", "a.txt: empty file")


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_a_build_with_a_pool_ends_whatever_one_source_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    failure, reason = FAILURES[kind]
    parse = kbgen.read.sources.parse

    def failing(rel: str, data: bytes) -> Any:
        return failure(rel, data) if rel == BAD else parse(rel, data)

    monkeypatch.setattr(kbgen.read.sources, "parse", failing)  # the workers are forked: they see it
    vault = tmp_path / "vault"
    report = run_build(_corpus(tmp_path), vault)
    assert [e.path for e in report.errors] == [BAD]
    assert reason in report.errors[0].reason
    notes = sorted(p.name for p in (vault / "Sources").glob("*.md"))
    assert len(notes) == COUNT - 1
    assert "Report number 117 on the talks.md" not in notes


def test_two_killers_in_one_build_each_get_their_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse = kbgen.read.sources.parse
    killers = {"s003.txt", "s200.txt"}

    def failing(rel: str, data: bytes) -> Any:
        return _kill(rel, data) if rel in killers else parse(rel, data)

    monkeypatch.setattr(kbgen.read.sources, "parse", failing)
    vault = tmp_path / "vault"
    report = run_build(_corpus(tmp_path), vault)
    assert sorted(e.path for e in report.errors) == sorted(killers)
    assert len(list((vault / "Sources").glob("*.md"))) == COUNT - 2


def _system_exit(rel: str, data: bytes) -> Any:
    raise SystemExit(4)


def test_a_source_that_exits_its_worker_with_systemexit_gets_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse = kbgen.read.sources.parse

    def failing(rel: str, data: bytes) -> Any:
        return _system_exit(rel, data) if rel == BAD else parse(rel, data)

    monkeypatch.setattr(kbgen.read.sources, "parse", failing)
    report = run_build(_corpus(tmp_path), tmp_path / "vault")
    assert [e.path for e in report.errors] == [BAD]
    assert "SystemExit" in report.errors[0].reason
