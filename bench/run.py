"""kbgen's benchmark: one command, every figure measured on the same corpus in one run.

    python3 dev.py bench                 # N = 1,000 and 10,000
    python3 dev.py bench --sizes 2000    # any sizes
    python3 dev.py bench --no-record     # print only, leave RESULTS.md alone

For each N it generates a corpus and times, each as a whole process with its peak memory
(max RSS), the steps below. Two corpora (`--corpus`):

- synthetic  (default) made from the demo articles (tests/corpus.py: Markdown with
             frontmatter, distinct titles, 4–9 paragraphs each)
- bbc        real saved articles: the 2,095 BBC News articles of ../shared/corpora/bbc
             (`--bbc DIR`) as plain text, copied round until there are N, each copy's
             headline given " (copy K)" so that every title is distinct

The steps:

- floor     a plain Python loop reading every source and writing the same bytes
- cold      `kbgen build` into an empty vault
- no-op     `kbgen build` again, nothing changed
- one-change  one article edited (a word in one paragraph), then `kbgen build`
- catalog   one alias added to an extra catalog file (then dropped, then added again),
            then `kbgen build`: its words, "Russian President", are in nearly every
            article, so nearly all are relinked
- new entry   an entry added whose alias ("Harvard professor") about one article in
            ten holds, then dropped, then added again (one `kbgen build` each)
- peer      spaCy PhraseMatcher over the same catalog, one linked file per article
            (`--no-peer` leaves it out: at 10,000 it takes minutes, and needs spaCy)

After the cold build, and again once every step has run, the size of the vault's `.kbgen/`
folder (and of its state.sqlite alone) is set against the notes it describes (every `*.md`
and `Map.canvas` of the vault): the state holds a merge base for every note, and what each
source gives the notes made of many, and is to take no more room than the notes themselves.

Timed steps run `--repeat` times (default 3) and report the median; from
N = 5,000 on, the slow steps (cold, catalog, peer) run once. The figures,
the ratios, the machine and the date are appended to bench/RESULTS.md.

The peer runs right after kbgen's cold build, and no step's output is deleted
until the bench is over (it is moved aside, to --out/.trash): on ext4 without
a journal, files deleted make the next minutes' file creations slower, and
that cost fell on whichever step came next (`_aside`).

Every run of a timed step is shown (runs: …): the first no-op after a cold
build is a full no-op build (it checks every note kbgen just wrote and leaves
the snapshot), the next ones are answered by the snapshot.

kbgen's processes run with bytecode caching on, as an installed kbgen does:
an environment that sets PYTHONDONTWRITEBYTECODE (some sandboxes and CI
images) would otherwise make every process compile kbgen's modules again.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT / "tests"))

from corpus import write_corpus  # noqa: E402

PY = sys.executable
KBGEN = [PY, "-m", "kbgen.cli"]
SHIPPED = ROOT / "kbgen" / "data" / "catalog.yaml"
EXTRA = """\
# The benchmark's extra catalog: the catalog-change step adds one alias here.
actors:
  - name: Vladimir Putin
    kind: person
    aliases: [Putin, Vladimir Vladimirovich Putin]
"""
NEW_ALIAS = "Russian President"
TRASH = ".trash"  # under --out: every step's old output, deleted once the bench is over


@dataclass
class Sizes:
    """Bytes on disk: the `.kbgen/` folder, its state.sqlite, and the notes."""

    kbgen: int
    state: int
    notes: int

    @classmethod
    def of(cls, vault: Path) -> Sizes:
        kept = vault / ".kbgen"
        state = kept / "state.sqlite"
        notes = sum(
            p.stat().st_size
            for p in vault.rglob("*")
            if (p.suffix == ".md" or p.name == "Map.canvas")
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(vault).parts)
        )
        folder = sum(p.stat().st_size for p in kept.rglob("*") if p.is_file())
        return cls(folder, state.stat().st_size if state.exists() else 0, notes)

    def row(self, n: int, when: str) -> str:
        mb = 1e6
        return (
            f"| {n:,} | {when} | {self.kbgen / mb:.1f} | {self.state / mb:.1f} "
            f"| {self.notes / mb:.1f} | {self.kbgen / self.notes:.2f} × notes (target ≤ 1) |"
        )


@dataclass
class Run:
    seconds: float
    peak_mb: float


@dataclass
class Figure:
    name: str
    runs: list[Run]

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str | Path], cwd: Path = ROOT) -> Run:
    """Wall time and peak RSS of one process (os.wait4 gives that child's own rusage)."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdout=subprocess.DEVNULL, env=ENV)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench: {' '.join(map(str, cmd))} exited with {code}")
    return Run(seconds, usage.ru_maxrss / 1024)


def repeat(name: str, times: int, prepare, cmd) -> Figure:  # type: ignore[no-untyped-def]
    runs = []
    for i in range(times):
        prepare(i)
        runs.append(timed(cmd))
    figure = Figure(name, runs)
    print(f"  {name:<11} {figure.seconds:8.3f} s  {figure.peak_mb:7.1f} MB", flush=True)
    return figure


def _aside(path: Path, trash: Path) -> None:
    """A step's old output moved out of the way, deleted only when the bench is over.

    On this machine kind's file system (ext4 without a journal), a folder of files deleted
    makes every file created in the next minutes slower to create: the kernel's inode
    allocator skips each recently freed inode one by one (`recently_deleted`, more than half
    of the floor's time under `perf` after one). Deleting between steps put that cost on
    whichever step came next, the floor's second run or kbgen's cold build alike.
    """
    if path.exists():
        trash.mkdir(parents=True, exist_ok=True)
        path.rename(trash / f"{path.name}-{time.time_ns()}")


def _edit(article: Path, i: int) -> None:
    """A real one-word change in one paragraph, different on every repetition."""
    text = article.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n\n")
    words = body.split(" ")
    words[len(words) // 2] = f"edited{i}"
    article.write_text(head + sep + " ".join(words), encoding="utf-8")


def _add_alias(extra: Path, i: int) -> None:
    """An alias added on even runs, dropped on odd ones: each run relinks what it may reach."""
    aliases = f"[Putin, Vladimir Vladimirovich Putin{', ' + NEW_ALIAS if i % 2 == 0 else ''}]"
    extra.write_text(EXTRA.replace("[Putin, Vladimir Vladimirovich Putin]", aliases), "utf-8")


RARE_ENTRY = "  - name: Graham Allison\n    kind: person\n    aliases: [Harvard professor]\n"


def _toggle_entry(extra: Path, i: int) -> None:
    """An entry whose alias few articles hold: added on even runs, dropped on odd ones."""
    text = extra.read_text(encoding="utf-8").replace(RARE_ENTRY, "")
    extra.write_text(text + (RARE_ENTRY if i % 2 == 0 else ""), encoding="utf-8")


def bench_size(
    n: int,
    out: Path,
    times: int,
    write: Callable[[Path, int], None],
    sizes: dict[str, Sizes],
    peer: bool = True,
) -> dict[str, Figure]:
    """The timed steps at one size; `sizes` gets the state's and the notes' after the cold
    build and after the last step."""
    work, trash = out / str(n), out / TRASH
    sources, vault, copy, peer_out = (work / d for d in ("sources", "vault", "copy", "peer"))
    extra = work / "extra.yaml"
    print(f"N = {n:,}: corpus in {sources}", flush=True)
    _aside(work, trash)
    write(sources, n)
    extra.write_text(EXTRA, encoding="utf-8")
    build = [*KBGEN, "build", "--sources", sources, "--vault", vault, "--catalog", extra, "-q"]
    slow = times if n < 5000 else 1
    figures = {}
    figures["floor"] = repeat(
        "floor", times, lambda i: _aside(copy, trash), [PY, BENCH / "floor.py", sources, copy]
    )
    figures["cold"] = repeat("cold", slow, lambda i: _aside(vault, trash), build)
    sizes["after cold"] = Sizes.of(vault)
    # the peer next, before kbgen's catalog steps replace (and so free) thousands of notes
    matched = (
        repeat(
            "peer",
            slow,
            lambda i: _aside(peer_out, trash),
            [PY, BENCH / "peer.py", sources, peer_out, SHIPPED, extra],
        )
        if peer
        else None
    )
    figures["no-op"] = repeat("no-op", times, lambda i: None, build)
    target = sorted(sources.iterdir())[n // 2]
    figures["one-change"] = repeat("one-change", times, lambda i: _edit(target, i), build)
    figures["catalog"] = repeat("catalog", slow, lambda i: _add_alias(extra, i), build)
    figures["new entry"] = repeat("new entry", slow, lambda i: _toggle_entry(extra, i), build)
    sizes["after every step"] = Sizes.of(vault)
    for when, size in sizes.items():
        print(f"  {when:<16} .kbgen/ {size.kbgen / 1e6:.1f} MB, notes {size.notes / 1e6:.1f} MB")
    if matched is not None:
        figures["peer"] = matched
    return figures


def bbc_corpus(articles: Path) -> Callable[[Path, int], None]:
    """N real articles from the BBC corpus's folders, copied round with distinct headlines."""
    originals = sorted(p for p in articles.rglob("*.txt") if p.is_file())
    if not originals:
        sys.exit(f"bench: no .txt articles under {articles} (--bbc DIR)")

    def write(sources: Path, n: int) -> None:
        sources.mkdir(parents=True)
        for i in range(n):
            copy, original = divmod(i, len(originals))
            text = originals[original].read_text(encoding="utf-8")
            if copy:
                head, sep, rest = text.partition("\n")
                text = f"{head} (copy {copy}){sep}{rest}"
            name = f"{original:04d}-{copy:02d}-{originals[original].name}"
            (sources / name).write_text(text, encoding="utf-8")

    return write


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, kbgen {commit or '?'}"
    )


def table(results: dict[int, dict[str, Figure]]) -> str:
    rows = [
        "| N | step | wall s | peak MB | ratio |",
        "|---:|---|---:|---:|---|",
    ]
    for n, figs in results.items():
        floor = figs["floor"].seconds
        ratios = {
            "cold": f"{figs['cold'].seconds / floor:.2f} × floor (target ≤ 5)",
            "no-op": f"{figs['no-op'].seconds / floor:.2f} × floor (target ≤ 0.5)",
            "one-change": "target < 0.5 s",
        }
        if "peer" in figs:
            ratio = figs["peer"].seconds / figs["cold"].seconds
            ratios["peer"] = f"kbgen cold is {ratio:.1f} × faster (target ≥ 10)"

        for name, fig in figs.items():
            ratio = ratios.get(name, "")
            if len(fig.runs) > 1:
                ratio += f" (runs: {', '.join(f'{r.seconds:.3f}' for r in fig.runs)})"
            rows.append(f"| {n:,} | {name} | {fig.seconds:.3f} | {fig.peak_mb:.0f} | {ratio} |")
    return "\n".join(rows)


def size_table(sizes: dict[int, dict[str, Sizes]]) -> str:
    rows = [
        "| N | when | .kbgen/ MB | state.sqlite MB | notes MB | ratio |",
        "|---:|---|---:|---:|---:|---|",
    ]
    rows += [size.row(n, when) for n, by_when in sizes.items() for when, size in by_when.items()]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--corpus", choices=("synthetic", "bbc"), default="synthetic")
    parser.add_argument("--bbc", type=Path, default=ROOT.parent / "shared" / "corpora" / "bbc")
    parser.add_argument("--no-peer", action="store_true", help="leave out the spaCy peer step")
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "kbgen", quiet=1)
    write = write_corpus if args.corpus == "synthetic" else bbc_corpus(args.bbc)
    sizes: dict[int, dict[str, Sizes]] = {n: {} for n in args.sizes}
    results = {
        n: bench_size(n, args.out, args.repeat, write, sizes[n], peer=not args.no_peer)
        for n in args.sizes
    }
    help_run = repeat("kbgen --help", args.repeat, lambda i: None, [*KBGEN, "--help"])
    report = (
        f"\n### {dt.date.today().isoformat()} — {args.corpus} corpus — {machine()}\n\n"
        f"{table(results)}\n\n"
        f"The state against the notes it describes:\n\n{size_table(sizes)}\n\n"
        f"`kbgen --help` start-up: {help_run.seconds:.3f} s, {help_run.peak_mb:.0f} MB.\n"
    )
    record(report, not args.no_record, "bench")
    shutil.rmtree(args.out / TRASH, ignore_errors=True)
    return 0


def record(report: str, append: bool, who: str) -> None:
    """Print a run's figures and, unless told not to, append them to bench/RESULTS.md."""
    print(report)
    if append:
        with open(BENCH / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write(report)
        print(f"{who}: appended to {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    sys.exit(main())
