"""`kbgen watch` left running: does it keep up, keep the user's words, and stay the same size?

    python3 dev.py soak                       # 60 minutes
    python3 dev.py soak --minutes 5 --no-record

A real `kbgen watch` runs on 300 synthetic articles and the demo corpus while
this script, every 1.5 s, does what a user does: edits an article, adds one,
deletes one, renames one, writes a line of their own into a note, or adds an
alias to a note of their own with `type: actor`. Every 30 s it samples the
watcher's memory. At the end it checks that the watcher is alive, stops it
with SIGINT (exit 0 expected), runs `kbgen build` (which must find nothing to
write: the watcher kept the vault as a build would make it), and looks for
every line the "user" wrote. Figures go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from latency import _edited, _peak_mb
from run import BENCH, KBGEN, ROOT, machine, record

sys.path.insert(0, str(ROOT / "tests"))
from corpus import write_corpus

KEPT_AT_LEAST = 100  # articles the user never deletes below (`--articles`, and 100 to add)
USER_NOTE = "---\ntype: actor\nkind: organisation\naliases: [{aliases}]\n---\nMy own entry.\n"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class User:
    """Random but reproducible actions on the sources and the vault."""

    def __init__(self, sources: Path, vault: Path, spare: list[Path], seed: int = 7) -> None:
        self.sources, self.vault, self.spare = sources, vault, spare
        self.rng = random.Random(seed)
        self.markers: list[str] = []  # lines the user wrote into notes
        self.aliases: list[str] = []
        self.counts: dict[str, int] = {}

    def act(self, step: int) -> None:
        actions = [self.edit, self.edit, self.add, self.delete, self.rename, self.annotate]
        action = self.rng.choice([*actions, self.alias] if step % 20 == 19 else actions)
        if action == self.add and not self.spare:
            action = self.edit  # no new article left to drop in
        if action == self.delete and len(self._articles()) <= KEPT_AT_LEAST:
            action = self.edit  # an hour deletes more articles than there are to add
        self.counts[action.__name__] = self.counts.get(action.__name__, 0) + 1
        action(step)

    def _articles(self) -> list[Path]:
        return sorted(p for p in self.sources.rglob("*.md"))

    def edit(self, step: int) -> None:
        path = self.rng.choice(self._articles())
        path.write_text(_edited(path.read_text(encoding="utf-8"), step), encoding="utf-8")

    def add(self, step: int) -> None:
        shutil.copy(self.spare.pop(), self.sources / f"added-{step}.md")

    def delete(self, step: int) -> None:
        self.rng.choice(self._articles()).unlink()

    def rename(self, step: int) -> None:
        path = self.rng.choice(self._articles())
        folder = self.sources / f"folder-{step % 3}"
        folder.mkdir(exist_ok=True)
        path.rename(folder / f"renamed-{step}.md")

    def annotate(self, step: int) -> None:
        """A line written into a source note, or every third time into an actor's mention note
        (a month's or, in a busy month, a day's), which kbgen rewrites as sources change."""
        folder = "Sources" if step % 3 or not self._mentions() else "Actors/Mentions"
        note = self.rng.choice(sorted((self.vault / folder).glob("*.md")))
        marker = f"My remark number {step}."
        with open(note, "a", encoding="utf-8") as fh:  # Obsidian saves in place
            fh.write(f"\n{marker}\n")
        self.markers.append(marker)

    def _mentions(self) -> bool:
        return any((self.vault / "Actors" / "Mentions").glob("*.md"))

    def alias(self, step: int) -> None:
        self.aliases.append(f"Soak Test Body {step}")
        text = USER_NOTE.format(aliases=", ".join(self.aliases))
        (self.vault / "Soak Org.md").write_text(text, encoding="utf-8")


def soak(minutes: float, work: Path, articles: int = 300) -> dict[str, object]:
    shutil.rmtree(work, ignore_errors=True)
    sources, vault = work / "sources", work / "vault"
    write_corpus(sources, articles, seed=1)
    for seed in (ROOT / "sources").glob("*.txt"):
        shutil.copy(seed, sources / seed.name)
    spare = sorted(write_corpus(work / "spare", articles + 100, seed=2))[articles:]
    cmd = [*KBGEN, "watch", "--sources", str(sources), "--vault", str(vault), "--rescan", "30"]
    with open(work / "watch.out", "w") as out, open(work / "watch.err", "w") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
    time.sleep(8 + articles / 100)  # the first build
    user = User(sources, vault, spare)
    rss: list[float] = []
    started = time.monotonic()
    step = 0
    next_sample = started
    while time.monotonic() - started < minutes * 60:
        if proc.poll() is not None:
            sys.exit(f"soak: the watcher exited with {proc.returncode} after {step} actions")
        if time.monotonic() >= next_sample:
            rss.append(_rss_mb(proc.pid))
            next_sample += 30
        user.act(step)
        step += 1
        time.sleep(1.5)
    time.sleep(5)
    alive = proc.poll() is None
    peak = _peak_mb(proc.pid)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=120)
    check = subprocess.run(
        [*KBGEN, "build", "--sources", str(sources), "--vault", str(vault)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    everything = "".join(p.read_text(encoding="utf-8") for p in vault.rglob("*.md"))
    lost = [m for m in user.markers if m not in everything]
    written = re.search(r"wrote (\d+) notes?", check.stdout)
    syncs = (work / "watch.out").read_text().count(" synced")
    return {
        "minutes": minutes,
        "articles at the start": articles,
        "actions": step,
        "by kind": dict(sorted(user.counts.items())),
        "syncs logged": syncs,
        "alive at the end": alive,
        "exit on SIGINT": code,
        "build afterwards wrote": int(written.group(1)) if written else check.stdout,
        "user lines lost": f"{len(lost)} of {len(user.markers)}",
        "RSS MB (first, last, max)": (rss[0], rss[-1], max(rss)) if rss else (),
        "RSS MB every 5 minutes": [round(r) for r in rss[::10]],  # does it level off?
        "peak MB": peak,
        "errors logged": (work / "watch.err").read_text().count("error"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "soak")
    parser.add_argument(
        "--articles", type=int, default=300, help="2,000 or more: busy months by day, too"
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    result = soak(args.minutes, args.out, args.articles)
    rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in result.items())
    report = (
        f"\n### {dt.date.today().isoformat()} — `kbgen watch` soak — {machine()}\n\n"
        "| what | figure |\n|---|---|\n" + rows + "\n"
    )
    record(report, not args.no_record, "soak")
    ok = result["alive at the end"] and result["exit on SIGINT"] == 0
    ok = ok and result["build afterwards wrote"] == 0 and str(result["user lines lost"])[0] == "0"
    return 0 if ok else 1


def _fmt(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(f"{v:.0f}" for v in value)
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
