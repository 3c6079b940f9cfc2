#!/usr/bin/env python3
"""Quick-start entry point: needs nothing but Python 3.11+ and pip.

    python3 dev.py demo    # install kbgen into .venv, build vault/ from sources/
    python3 dev.py test    # install kbgen + test tools into .venv, run lint, types, imports, tests
    python3 dev.py bench   # install kbgen + spaCy into .venv, run bench/run.py
    python3 dev.py latency # install kbgen into .venv, run bench/latency.py (kbgen watch)
    python3 dev.py soak    # an hour of kbgen watch under simulated use (bench/soak.py)

Each command creates `.venv/` on first use and reinstalls only when
pyproject.toml changed, so the second run starts at once. Extra arguments are
passed on: `python3 dev.py demo --vault /tmp/v`, `python3 dev.py test -k merge`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def _run(*cmd: str | Path) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def _ensure(extra: str) -> None:
    """Create the venv and install the project (editable) once per pyproject version."""
    if not PY.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".kbgen-installed-{extra or 'base'}"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == want:
        return
    print(f"dev.py: installing kbgen{f'[{extra}]' if extra else ''} into {VENV}", flush=True)
    target = f".[{extra}]" if extra else "."
    quiet = [] if os.environ.get("CI") else ["-q"]
    if _run(PY, "-m", "pip", "install", *quiet, "--disable-pip-version-check", "-e", target):
        sys.exit("dev.py: pip install failed (see above)")
    stamp.write_text(want)


def demo(args: list[str]) -> int:
    _ensure("")
    return _run(BIN / "kbgen", "build", *args)


def test(args: list[str]) -> int:
    _ensure("test")
    for step in (
        [BIN / "ruff", "check", "kbgen", "tests", "bench", "dev.py"],
        [BIN / "mypy"],
        [BIN / "lint-imports", "--no-cache"],  # each stage imports only those below it
    ):
        print("dev.py: $", " ".join(Path(str(s)).name for s in step), flush=True)
        if _run(*step):
            return 1
    code = _run(PY, "-m", "pytest", *args)
    if code or args:
        return code
    print("dev.py: $ KBGEN_TRUST_STATS=1 pytest (merge, incremental, catalog, quick-path tests)")
    trusted = [
        "tests/test_merge_scenarios.py",
        "tests/test_incremental.py",
        "tests/test_relink.py",
        "tests/test_quick.py",
        "-q",
    ]
    return subprocess.call(
        [str(PY), "-m", "pytest", *trusted], cwd=ROOT, env={**os.environ, "KBGEN_TRUST_STATS": "1"}
    )


def bench(args: list[str]) -> int:
    _ensure("bench")
    return _run(PY, ROOT / "bench" / "run.py", *args)


def latency(args: list[str]) -> int:
    _ensure("")
    return _run(PY, ROOT / "bench" / "latency.py", *args)


def soak(args: list[str]) -> int:
    _ensure("")
    return _run(PY, ROOT / "bench" / "soak.py", *args)


def main() -> int:
    commands = {"demo": demo, "test": test, "bench": bench, "latency": latency, "soak": soak}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
