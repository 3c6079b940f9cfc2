"""Which note a source feeds: identity that survives renaming and moving the source.

A source keeps its note's `kbgen_id` while it stays at its path (whatever
its edits), and when it moves: a source that appeared this build takes the
id of one that vanished with the same content, else with the same title.
A brand-new source's id comes from its content, so a source deleted and
later put back finds its old (orphaned) note again.
"""

from __future__ import annotations

from collections.abc import Mapping

from kbgen.core.names import numbered
from kbgen.render.source import Prepared
from kbgen.state.store import State


def source_ids(
    articles: list[Prepared], state: State, unchanged: Mapping[str, str]
) -> dict[str, str]:
    """Ids for the sources read this build (`articles`); `unchanged`: path → id of the rest."""
    ids: dict[str, str] = dict(unchanged)
    used: set[str] = set(unchanged.values())
    for a in articles:
        known = state.sources.get(a.source)
        if known is not None and known.id not in used:
            ids[a.source] = known.id
            used.add(known.id)
    present = set(ids) | {a.source for a in articles}
    vanished = [state.sources[p] for p in sorted(state.sources.keys() - present)]
    by_digest = {s.digest: s.id for s in vanished if s.id not in used}
    by_title = _unique_titles([(s.title, s.id) for s in vanished if s.title and s.id not in used])
    for a in articles:
        if a.source in ids:
            continue
        for candidate in (by_digest.get(a.digest), by_title.get(a.meta.title or "")):
            if candidate and candidate not in used:
                ids[a.source] = candidate
                used.add(candidate)
                break
    for a in articles:
        if a.source not in ids:
            ids[a.source] = numbered(f"src-{a.digest[:12]}", used)
    return ids


def _unique_titles(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Titles that name exactly one vanished source (a title is a weaker clue than content)."""
    counts: dict[str, int] = {}
    for title, _ in pairs:
        counts[title] = counts.get(title, 0) + 1
    return {title: kbgen_id for title, kbgen_id in pairs if counts[title] == 1}
