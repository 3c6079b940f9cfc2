"""A synthetic corpus of any size, made from the demo articles' own paragraphs.

Deterministic for a given seed: article k draws its paragraphs, title,
author and date from the seed texts with `random.Random(seed * 100_003 + k)`,
so real mentions, real sentence shapes, and distinct bytes per article.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "sources"
AUTHORS = ("Ann Weller", "Boris Kagan", "Chen Yu", "Dana Obi", "Emil Sato", "Farah Aziz")


def seed_paragraphs() -> list[str]:
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for block in re.split(r"\n\s*\n", text):
            para = " ".join(block.split())
            if len(para) > 200 and not para.startswith("•"):
                out.append(para)
    return out


def article(k: int, paragraphs: list[str], seed: int = 0) -> str:
    rng = random.Random(seed * 100_003 + k)
    body = rng.sample(paragraphs, k=min(len(paragraphs), rng.randint(4, 9)))
    words = re.findall(r"[A-Za-z]{5,}", body[0])
    title = f"{' '.join(rng.sample(words, k=min(4, len(words)))).title()} (No. {k})"
    date = f"2017-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    head = f"---\ntitle: {title}\nauthor: {rng.choice(AUTHORS)}\ndate: {date}\n---\n\n"
    return head + "\n\n".join(body) + "\n"


def write_corpus(folder: Path, count: int, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paragraphs = seed_paragraphs()
    paths = []
    for k in range(count):
        path = folder / f"article-{k:05d}.md"
        path.write_text(article(k, paragraphs, seed), encoding="utf-8")
        paths.append(path)
    return paths
