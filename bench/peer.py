"""The peer: the linking a Python user would write without kbgen.

spaCy's `PhraseMatcher` over the same catalog (names and aliases, matched
case-insensitively on lower-cased tokens, longest match kept), one Markdown
file per article with every match turned into a [[wikilink]]. No metadata,
no mention notes, no merge: strictly less work than kbgen does, so the ratio
flatters the peer. Usage: peer.py SOURCES OUT CATALOG.yaml...
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import spacy
import yaml
from spacy.matcher import PhraseMatcher
from spacy.util import filter_spans


def catalog_terms(paths: list[Path]) -> dict[str, list[str]]:
    """Note name → the phrases that should link to it (later files win, as in kbgen)."""
    terms: dict[str, list[str]] = {}
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in [*(data.get("actors") or []), *(data.get("issues") or [])]:
            terms[item["name"]] = [item["name"], *(item.get("aliases") or [])]
    return terms


def main(sources: Path, out: Path, catalogs: list[Path]) -> int:
    nlp = spacy.blank("en")
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for name, phrases in catalog_terms(catalogs).items():
        matcher.add(name, list(nlp.tokenizer.pipe(phrases)))
    files = sorted(
        Path(d, f)
        for d, _dirs, names in os.walk(sources)
        for f in names
        if f.endswith((".md", ".txt"))
    )
    texts = (p.read_text(encoding="utf-8") for p in files)
    out.mkdir(parents=True, exist_ok=True)
    for path, doc in zip(files, nlp.pipe(texts, batch_size=256), strict=True):
        matches = matcher(doc)
        labels = {(s, e): nlp.vocab.strings[i] for i, s, e in matches}
        spans = filter_spans([doc[s:e] for _i, s, e in matches])
        parts, pos = [], 0
        for span in spans:
            parts.append(doc.text[pos : span.start_char])
            parts.append(f"[[{labels[(span.start, span.end)]}|{span.text}]]")
            pos = span.end_char
        parts.append(doc.text[pos:])
        (out / (path.stem + ".md")).write_text("".join(parts), encoding="utf-8")
    print(f"peer: linked {len(files)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]))
