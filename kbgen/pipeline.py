"""One build: sources → articles → mentions → notes → plan → writes → state.

Every note is rendered and every write decided before the first write
happens. Full and incremental builds are the same code path; only the plan
differs, and a note whose bytes are unchanged is never written.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog as catalog_mod
from . import properties
from . import vault as vault_mod
from .config import Config
from .errors import SourceError
from .extract import LinkedBlock, Matcher, link_article
from .identity import source_ids
from .index import MentionIndex
from .model import Article, Entity, Note
from .names import Naming, Wanted, allocate, fold_key
from .notes import SourceRef, render_author, render_entity, render_home
from .plan import WRITE_KINDS, Action, OnDisk, Plan, execute, locate, plan_writes
from .render import Targets, render_source
from .scan import VaultScan, scan
from .sources import discover, parse, read_bytes
from .state import UNKNOWN_BASE, NoteRecord, SourceRecord, State, Store, settle


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
        written = p.count(*WRITE_KINDS)
        parts = [
            f"{self.sources} sources read, {len(self.errors)} failed",
            f"{verb} {written} notes ({p.count('create')} new, {p.count('update')} updated, "
            f"{p.count('merge', 'conflict')} merged with your edits)",
            f"{p.count('unchanged', 'kept')} unchanged",
        ]
        if p.count("delete", "orphan"):
            parts.append(f"{p.count('delete')} deleted, {p.count('orphan')} orphaned (source gone)")
        if p.count("restore"):
            parts.append(f"{p.count('restore')} restored")
        line = "kbgen: " + " · ".join(parts) + f" · {self.seconds:.2f} s"
        conflicts = [a.path for a in p.of("conflict")]
        if conflicts:
            noun = "conflict" if len(conflicts) == 1 else "conflicts"
            line += f"\nkbgen: {len(conflicts)} {noun}: you and the source changed the same "
            line += "passage; both versions are in the note, flagged kbgen_conflict: true:"
            line += "".join(f"\n  {path}" for path in conflicts)
        if p.skipped:
            line += "\nkbgen: changed while this build ran, so left for the next build: "
            line += ", ".join(p.skipped)
        return line


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


def _wanted(
    articles: list[Article],
    entities: list[Entity],
    authors: dict[str, list[Article]],
    ids: dict[str, str],
) -> list[Wanted]:
    out = [Wanted(e.key, e.name, e.type) for e in entities if e.user_note is None]
    out += [Wanted(author_id(n), n, "author") for n in sorted(authors)]
    out += [
        Wanted(ids[a.source], a.meta.title or Path(a.source).stem)
        for a in sorted(articles, key=lambda a: a.source)
    ]
    out.append(Wanted("home", "Home"))
    return out


def author_id(name: str) -> str:
    return f"author:{catalog_mod.slug(name)}"


def _naming(
    wanted: list[Wanted], state: State, located: dict[str, OnDisk], user_stems: set[str]
) -> tuple[Naming, dict[str, str]]:
    """Stems for every note, and the folders of notes that stay where the user put them."""
    renamable = {
        kbgen_id
        for kbgen_id, disk in located.items()
        if not disk.moved and not state.notes[kbgen_id].pinned and (disk.pristine or disk.damaged)
    }
    rendered = {w.kbgen_id for w in wanted}
    staying = {
        kbgen_id: disk.path
        for kbgen_id, disk in located.items()
        if disk.path is not None and not (kbgen_id in rendered and kbgen_id in renamable)
    }
    naming = allocate(
        wanted,
        user_stems=user_stems,
        fixed={i: Path(p).stem for i, p in staying.items()},
        previous={i: Path(r.path).stem for i, r in state.notes.items()},
    )
    folders = {i: Path(p).parent.as_posix() for i, p in staying.items() if i in rendered}
    return naming, {i: "" if f == "." else f for i, f in folders.items()}


def _render_all(
    articles: list[Article],
    linked: dict[str, tuple[LinkedBlock, ...]],
    ids: dict[str, str],
    entities: list[Entity],
    index: MentionIndex,
    authors: dict[str, list[Article]],
    stems: dict[str, str],
) -> list[Note]:
    affiliations: dict[str, list[str]] = defaultdict(list)
    for a in articles:
        for name, aff in a.meta.affiliations:
            affiliations[name].append(aff)
    targets = Targets(
        entities={e.key: Path(e.user_note).stem if e.user_note else stems[e.key] for e in entities},
        authors={n: stems[author_id(n)] for n in authors},
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


def _authors(articles: list[Article]) -> dict[str, list[Article]]:
    authors: dict[str, list[Article]] = defaultdict(list)
    for a in articles:
        for name in a.meta.authors:
            authors[name].append(a)
    return authors


def _feeds(article: Article, linked: tuple[LinkedBlock, ...], kbgen_id: str) -> tuple[str, ...]:
    """The notes a source contributes to: its own, its actors', issues', authors', home."""
    entities = sorted({m.entity for lb in linked for m in lb.matches})
    authors = sorted(author_id(n) for n in article.meta.authors)
    return (kbgen_id, *entities, *authors, "home")


def _notices(plan: Plan, naming: Naming, scan_: VaultScan, located: dict[str, OnDisk]) -> list[str]:
    """What a user must be told: names chosen beside theirs, their notes used as targets."""
    by_key = {fold_key(Path(p).stem): p for p in scan_.user_paths}
    created = {a.kbgen_id: a.path for a in plan.of("create", "restore")}
    out = [
        f"name    {created[i]}  (your note {by_key[fold_key(name)]} has the name "
        f"'{name}'; it is left as it is)"
        for i, name in sorted(naming.displaced.items())
        if i in created
    ]
    out += [
        f"link    {e.name} → your note {e.user_note} (it says type: {e.type})"
        for e in scan_.entities
    ]
    out += [
        f"found   {disk.path}  (moved or renamed by you; kept there)"
        for disk in located.values()
        if disk.moved and disk.path
    ]
    return out


def build(config: Config, *, dry_run: bool = False, progress: bool = False) -> Report:
    started = time.perf_counter()
    report = Report(dry_run=dry_run)
    vault = config.vault
    if not dry_run:
        report.vault_created = vault_mod.init(vault)
        vault_mod.check_writable(vault)
    with vault_mod.lock(vault, readonly=dry_run):
        if not dry_run:
            vault_mod.clean_temp_files(vault)
        store = Store(vault, readonly=dry_run)
        try:
            _build(config, store, report, progress)
        finally:
            store.close()
    report.seconds = time.perf_counter() - started
    return report


def _build(config: Config, store: Store, report: Report, progress: bool) -> None:
    vault = config.vault
    loaded = store.load()
    state, leftovers = settle(loaded, _pending_bytes(loaded, vault))
    found = scan(vault, state)
    _adopt(state, found)
    located = locate(state, vault, found.found, store)
    catalog = catalog_mod.load(
        list(config.catalogs), found.entities, _aliases_added_in_notes(located)
    )
    matcher = Matcher(catalog)
    articles = _read_articles(config, progress, report.errors)
    report.sources = len(articles) + len(report.errors)
    ids = source_ids(articles, state)
    linked = {a.source: link_article(a, matcher) for a in articles}
    index = MentionIndex()
    for a in articles:
        index.add(a, linked[a.source])
    failed = {e.path for e in report.errors}
    protected = {state.sources[p].id for p in failed if p in state.sources}
    entities = [e for e in catalog.entities if index.counts.get(e.key)]
    authors = _authors(articles)
    wanted = _wanted(articles, entities, authors, ids)
    user_stems = {Path(p).stem for p in found.user_paths}
    naming, folders = _naming(wanted, state, located, user_stems)
    notes = _render_all(articles, linked, ids, entities, index, authors, naming.stems)
    notes = [
        dataclasses.replace(n, folder=folders[n.kbgen_id]) if n.kbgen_id in folders else n
        for n in notes
    ]
    plan = plan_writes(notes, state, located, store, protected)
    plan.actions += [
        Action(
            "delete", "", p, expect=vault_mod.read_bytes(vault / p), detail="left by a killed build"
        )
        for p in leftovers
    ]
    plan.notices = _notices(plan, naming, found, located)
    report.plan = plan
    if report.dry_run:
        return
    after = execute(plan, state, store, vault)
    after.sources = {
        a.source: SourceRecord(
            a.digest, ids[a.source], a.meta.title, _feeds(a, linked[a.source], ids[a.source])
        )
        for a in articles
    }
    after.sources.update({p: state.sources[p] for p in failed if p in state.sources})
    store.commit(after)


def _adopt(state: State, found: VaultScan) -> None:
    """Take back notes that carry a kbgen_id the state does not know (its database was lost).

    With no merge base they count as edited: kept as they are this once,
    merged from the next build on. A source note's `source` property gives
    its source back its id, so no duplicate note is made for it.
    """
    for kbgen_id, path in found.adopted.items():
        state.notes[kbgen_id] = NoteRecord(path, base=UNKNOWN_BASE, written=UNKNOWN_BASE)
    for source, kbgen_id in found.adopted_sources.items():
        state.sources.setdefault(source, SourceRecord(UNKNOWN_BASE, kbgen_id))


def _aliases_added_in_notes(located: dict[str, OnDisk]) -> dict[str, list[object]]:
    """Every alias in an actor or issue note the user touched (the catalog's own are deduplicated).

    Compared with the catalog rather than the note's last rendering, so an
    alias stays honoured after kbgen has rendered it once.
    """
    out: dict[str, list[object]] = {}
    for kbgen_id, disk in sorted(located.items()):
        if not kbgen_id.startswith(("actor:", "issue:")) or disk.data is None or disk.pristine:
            continue
        fm, _ = properties.split_note(disk.data.decode("utf-8", errors="replace"))
        values = properties.values(fm) or {}
        aliases = values.get("aliases")
        if isinstance(aliases, list):
            out[kbgen_id] = aliases
    return out


def _pending_bytes(state: State, vault: Path) -> dict[str, bytes | None]:
    """The files a killed build may have been writing, and where those notes were before."""
    paths = {p.path for p in state.pending.values()}
    paths |= {state.notes[i].path for i in state.pending if i in state.notes}
    return {p: vault_mod.read_bytes(vault / p) for p in sorted(paths)}
