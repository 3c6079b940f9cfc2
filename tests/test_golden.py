"""Golden vaults: the whole output compared byte for byte.

To accept a deliberate change in the output, regenerate and review the diff:

    KBGEN_UPDATE_GOLDEN=1 python3 dev.py test tests/test_golden.py
    git diff tests/golden
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, SEEDS, run_build, vault_tree

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = {"seeds": SEEDS, "layouts": FIXTURES / "articles"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_vault(case: str, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    report = run_build(CASES[case], vault)
    assert report.ok, report.errors
    expected_dir = GOLDEN / case / "expected"
    if os.environ.get("KBGEN_UPDATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(vault, expected_dir, ignore=shutil.ignore_patterns(".kbgen"))
    actual, expected = vault_tree(vault), vault_tree(expected_dir)
    assert sorted(actual) == sorted(expected), "the set of files differs from the golden vault"
    for name in expected:
        assert actual[name] == expected[name], f"{name} differs from the golden vault"


def test_same_inputs_give_byte_identical_vaults(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    run_build(SEEDS, first)
    run_build(SEEDS, second)
    assert vault_tree(first) == vault_tree(second)
