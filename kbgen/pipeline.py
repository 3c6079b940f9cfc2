"""One build: sources → articles → mentions → notes → plan → writes → state.

Every note is rendered and every write decided before the first write
happens. Full and incremental builds are the same code path; only the plan
differs, and a note whose bytes are unchanged is never written.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import catalog as catalog_mod
from . import state as state_mod
from . import vault as vault_mod
from .config import Config
from .errors import KbgenError, SourceError
from .extract import LinkedBlock, Matcher, link_article
from .index import MentionIndex
from .model import Article, Entity, Note
from .names import NameAllocator, sanitize
from .notes import SourceRef, render_author, render_entity, render_home
from .plan import Plan, execute, plan_writes
from .render import Targets, render_source
from .sources import discover, parse, read_bytes


@dataclass
class Report:
    sources: int = 0
    errors: list[SourceError] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)
    seconds: float = 0.0
    dry_run: bool = False
    vault_created: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        p = self.plan
        verb = "would write" if self.dry_run else "wrote"
        parts = [
            f"{self.sources} sources read, {len(self.errors)} failed",
            f"{verb} {len(p.created) + len(p.updated)} notes "
            f"({len(p.created)} new, {len(p.updated)} updated), {len(p.unchanged)} unchanged",
        ]
        if p.kept:
            parts.append(f"{len(p.kept)} kept as you edited them")
        if p.deleted or p.orphaned:
            parts.append(f"{len(p.deleted)} deleted, {len(p.orphaned)} left for you (source gone)")
        return "kbgen: " + " · ".join(parts) + f" · {self.seconds:.2f} s"


def _frontmatter_of(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    try:
        data = yaml.safe_load(text[3:end]) if end > 0 else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _user_entities(vault: Path, user_paths: list[str]) -> list[Entity]:
    found = []
    for rel in user_paths:
        entity = catalog_mod.user_entity(rel, _frontmatter_of(vault / rel))
        if entity is not None:
            found.append(entity)
    return found


def _read_articles(
    config: Config,
    progress: bool,
    errors: list[SourceError],
) -> list[Article]:
    from tqdm import tqdm

    files, discover_errors = discover(config.sources, config.follow_symlinks)
    errors.extend(discover_errors)
    articles: list[Article] = []
    bar = tqdm(files, desc="reading", unit="source", delay=0.5, disable=not progress, leave=False)
    for source in bar:
        try:
            articles.append(parse(source.rel, read_bytes(source)))
        except SourceError as exc:
            errors.append(exc)
    return articles


def _source_ids(articles: list[Article], state: state_mod.State) -> dict[str, str]:
    """Note identity per source: kept across edits (same path) and renames (same bytes)."""
    by_digest = {s.digest: s.id for s in state.sources.values()}
    ids: dict[str, str] = {}
    used: set[str] = set()
    for article in articles:
        known = state.sources.get(article.source)
        wanted = known.id if known else by_digest.get(article.digest, f"src-{article.digest[:12]}")
        candidate, n = wanted, 1
        while candidate in used:
            n += 1
            candidate = f"{wanted}-{n}"
        used.add(candidate)
        ids[article.source] = candidate
    return ids


@dataclass(frozen=True)
class _Wanted:
    kbgen_id: str
    name: str
    suffix: str = ""


def _allocate(wanted: list[_Wanted], taken: set[str], state: state_mod.State) -> dict[str, str]:
    """Stems for notes; a note keeps last build's name while it still fits its title."""
    alloc = NameAllocator(taken)
    stems: dict[str, str] = {}
    for w in wanted:
        prev = state.notes.get(w.kbgen_id)
        prev_stem = Path(prev.path).stem if prev else None
        base = sanitize(w.name)
        if prev_stem and (prev_stem == base or prev_stem.startswith(f"{base} (")):
            stems[w.kbgen_id] = alloc.claim(prev_stem)
    for w in wanted:
        if w.kbgen_id not in stems:
            stems[w.kbgen_id] = alloc.claim(w.name, w.suffix)
    return stems


def _render_all(
    articles: list[Article],
    linked: dict[str, tuple[LinkedBlock, ...]],
    ids: dict[str, str],
    catalog: catalog_mod.Catalog,
    index: MentionIndex,
    taken: set[str],
    state: state_mod.State,
) -> list[Note]:
    entities = [e for e in catalog.entities if index.counts.get(e.key)]
    authors: dict[str, list[Article]] = defaultdict(list)
    affiliations: dict[str, list[str]] = defaultdict(list)
    for a in articles:
        for name in a.meta.authors:
            authors[name].append(a)
        for name, aff in a.meta.affiliations:
            affiliations[name].append(aff)
    wanted = [_Wanted(e.key, e.name) for e in entities if e.user_note is None]
    wanted += [_Wanted(f"author:{catalog_mod.slug(n)}", n, "author") for n in sorted(authors)]
    wanted += [
        _Wanted(ids[a.source], a.meta.title or Path(a.source).stem)
        for a in sorted(articles, key=lambda a: a.source)
    ]
    wanted.append(_Wanted("home", "Home"))
    stems = _allocate(wanted, taken, state)
    targets = Targets(
        entities={e.key: Path(e.user_note).stem if e.user_note else stems[e.key] for e in entities},
        authors={n: stems[f"author:{catalog_mod.slug(n)}"] for n in authors},
    )
    refs = {a.source: SourceRef(a, stems[ids[a.source]]) for a in articles}
    notes = [
        render_source(
            a, linked[a.source], kbgen_id=ids[a.source], stem=refs[a.source].stem, targets=targets
        )
        for a in articles
    ]
    notes += [
        render_entity(e, stems[e.key], index, refs, targets) for e in entities if not e.user_note
    ]
    notes += [
        render_author(n, targets.authors[n], [refs[a.source] for a in arts], affiliations[n])
        for n, arts in sorted(authors.items())
    ]
    notes.append(render_home(stems["home"], list(refs.values()), entities, index, targets))
    return notes


def build(config: Config, *, dry_run: bool = False, progress: bool = False) -> Report:
    started = time.perf_counter()
    report = Report(dry_run=dry_run)
    vault = config.vault
    if not dry_run:
        report.vault_created = vault_mod.init(vault)
        vault_mod.check_writable(vault)
        vault_mod.clean_temp_files(vault)
    try:
        state = state_mod.load(vault)
    except ValueError as exc:
        raise KbgenError(str(exc)) from exc
    owned = state.owned_paths()
    user_paths = (
        [p for p in vault_mod.markdown_files(vault) if p not in owned] if vault.is_dir() else []
    )
    catalog = catalog_mod.load(list(config.catalogs), _user_entities(vault, user_paths))
    matcher = Matcher(catalog)
    articles = _read_articles(config, progress, report.errors)
    report.sources = len(articles) + len(report.errors)
    ids = _source_ids(articles, state)
    linked = {a.source: link_article(a, matcher) for a in articles}
    index = MentionIndex()
    for a in articles:
        index.add(a, linked[a.source])
    failed = {e.path for e in report.errors}
    protected = {state.sources[p].id for p in failed if p in state.sources}
    taken = {Path(p).stem for p in user_paths}
    taken |= {Path(state.notes[i].path).stem for i in protected if i in state.notes}
    notes = _render_all(articles, linked, ids, catalog, index, taken, state)
    report.plan = plan_writes(notes, state, vault, protected)
    if not dry_run:
        new_sources = {a.source: state_mod.SourceState(a.digest, ids[a.source]) for a in articles}
        new_sources.update({p: state.sources[p] for p in failed if p in state.sources})
        state.sources = new_sources
        execute(report.plan, state, vault)
    report.seconds = time.perf_counter() - started
    return report
