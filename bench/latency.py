"""`kbgen watch` latency: from a source file's save to its note, an actor note and his mention note.

    python3 dev.py latency                       # the demo corpus, then 2,000 and 5,000 articles
    python3 dev.py latency --sizes 0 --samples 10 --no-record     # demo only (0 = demo)

A real `kbgen watch` process runs on the corpus. Each sample adds a
sentence naming Vladimir Putin to one source (a different one each time,
the way a user saves an edit), takes the time when the file is closed, and
polls the stat of the source's note, of `Actors/Vladimir Putin.md` and (where
he has mention notes) of his note for the article's day (a busy month's) or
month until each has been replaced. The wait before a sync is included, as a user
experiences it: the quiet period (default 100 ms), or, after a save known to
be over (the file closed, as here), the 20 ms settle. Median and 95th percentile are printed and appended,
with the machine and the date, to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import BENCH, KBGEN, ROOT, machine, record

sys.path.insert(0, str(ROOT / "tests"))
from corpus import write_corpus

ACTOR = Path("Actors") / "Vladimir Putin.md"


def corpus(n: int, work: Path) -> Path:
    sources = work / ("demo" if n == 0 else str(n)) / "sources"
    shutil.rmtree(sources.parent, ignore_errors=True)
    if n == 0:
        shutil.copytree(ROOT / "sources", sources)
    else:
        write_corpus(sources, n)
    return sources


def note_of(vault: Path) -> dict[str, tuple[Path, str]]:
    """Each source's note and publication date, from the `source:` and `published:` properties
    kbgen writes."""
    out = {}
    for note in (vault / "Sources").glob("*.md"):
        head = note.read_text(encoding="utf-8").split("\n---\n", 1)[0]
        fields = dict(line.partition(": ")[::2] for line in head.splitlines())
        if "source" in fields:
            out[fields["source"].strip().strip("'\"")] = (note, fields.get("published", ""))
    return out


def month_note(vault: Path, published: str) -> list[Path]:
    """Vladimir Putin's mention note for this date, where he has them (2,000 articles and
    more): his day's note in a busy month, else his month's. A save naming him rewrites it."""
    mentions = vault / ACTOR.parent / "Mentions"
    for period in (published[:10], published[:7]) if published else ():
        page = mentions / f"{ACTOR.stem}, {period}.md"
        if page.exists():
            return [page]
    return []


def _edited(text: str, i: int) -> str:
    """A sentence naming Putin added to the article's longest paragraph (surely its body)."""
    blocks = text.split("\n\n")
    longest = max(range(len(blocks)), key=lambda k: len(blocks[k]))
    blocks[longest] = blocks[longest].rstrip() + f" Vladimir Putin answered in sample {i}."
    return "\n\n".join(blocks)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _wait_replaced(paths: list[Path], before: list[int], t0: float) -> list[float]:
    """Seconds from t0 until each path's mtime moved on (polled every 2 ms, 60 s at most)."""
    seen: list[float | None] = [None] * len(paths)
    deadline = t0 + 60
    while any(s is None for s in seen):
        now = time.perf_counter()
        if now > deadline:
            sys.exit(f"latency: no update of {paths} within 60 s")
        for i, path in enumerate(paths):
            if seen[i] is None and _mtime(path) != before[i]:
                seen[i] = now - t0
        time.sleep(0.002)
    return [s for s in seen if s is not None]


def _started(sources: Path, vault: Path, quiet_ms: int) -> subprocess.Popen[bytes]:
    """The watcher, its log (one line per sync, with the build's own time) in `watch.log`
    beside the vault: what the wait outside the build costs is the latency less those times."""
    cmd = [*KBGEN, "watch", "--sources", str(sources), "--vault", str(vault)]
    cmd += ["--quiet-period", str(quiet_ms), "--rescan", "3600"]
    with open(vault.parent / "watch.log", "wb") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def measure(n: int, work: Path, samples: int, quiet_ms: int) -> dict[str, float]:
    sources = corpus(n, work)
    vault = sources.parent / "vault"
    print(f"{'demo' if n == 0 else f'N = {n:,}'}: building {vault}", flush=True)
    subprocess.run([*KBGEN, "build", "--sources", sources, "--vault", vault, "-q"], check=True)
    proc = _started(sources, vault, quiet_ms)
    time.sleep(2 + n / 2000)  # its start-up and catch-up builds (no change: stat checks only)
    notes = note_of(vault)
    rels = sorted(notes)
    note_s, actor_s, last_s = [], [], []
    try:
        for i in range(samples):
            rel = rels[(i * 7919) % len(rels)]
            note, published = notes[rel]
            watched = [note, vault / ACTOR, *month_note(vault, published)]
            before = [_mtime(p) for p in watched]
            path = sources / rel
            path.write_text(_edited(path.read_text(encoding="utf-8"), i), encoding="utf-8")
            t0 = time.perf_counter()
            seen = _wait_replaced(watched, before, t0)
            note_s.append(seen[0])
            actor_s.append(seen[1])
            last_s.append(max(seen))
            time.sleep(0.25 + quiet_ms / 1000)  # let the sync commit its state before the next
        peak = _peak_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    figures = {
        "note median": statistics.median(note_s),
        "note p95": _p95(note_s),
        "actor median": statistics.median(actor_s),
        "actor p95": _p95(actor_s),
        "last p95": _p95(last_s),
        "peak MB": peak,
        **_syncs(vault.parent / "watch.log", samples),
    }
    print("  " + " · ".join(f"{k} {v:.3f}" for k, v in figures.items()), flush=True)
    return figures


def _syncs(log: Path, samples: int) -> dict[str, float]:
    """The watcher's own time for the syncs of the saves (its log's last `samples` "synced"
    lines): the build alone, from its start to the state's commit after the notes."""
    seconds = [
        float(m.group(1))
        for m in re.finditer(r"synced after .*\(([0-9.]+) s\)$", log.read_text(), re.MULTILINE)
    ][-samples:]
    if not seconds:
        return {"sync median": float("nan"), "sync max": float("nan")}
    return {"sync median": statistics.median(seconds), "sync max": max(seconds)}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 2000, 5000])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--quiet-period", type=int, default=100, help="ms (kbgen's default)")
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "latency")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    results = {n: measure(n, args.out, args.samples, args.quiet_period) for n in args.sizes}
    rows = [
        "| corpus | save → note, median | p95 | save → actor note, median | p95 "
        "| save → the last of them and the actor's mention note (day or month), p95 "
        "| the watcher's sync, median / max | watcher peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, f in results.items():
        rows.append(
            f"| {'demo (5)' if n == 0 else f'{n:,}'} | {f['note median']:.3f} s | "
            f"{f['note p95']:.3f} s | {f['actor median']:.3f} s | {f['actor p95']:.3f} s | "
            f"{f['last p95']:.3f} s | {f['sync median']:.2f} / {f['sync max']:.2f} s | "
            f"{f['peak MB']:.0f} |"
        )
    report = (
        f"\n### {dt.date.today().isoformat()} — `kbgen watch` latency — {machine()}\n\n"
        f"{args.samples} saves per corpus, the wait before a sync included (quiet period "
        f"{args.quiet_period} ms, 20 ms after a save known to be over); "
        "target: p95 under 0.3 s whatever the vault size.\n\n" + "\n".join(rows) + "\n"
    )
    record(report, not args.no_record, "latency")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
