"""Map.canvas: actors laid out around the issues they are tied to (JSON Canvas 1.0; pure).

The most-mentioned issues sit on a wide circle; each of the most-mentioned
actors sits on a small ring around the issue it shares most paragraphs with,
joined to it (and to its second issue, when that tie is close) by an edge
labelled with the number of shared paragraphs. A user who opens it in
Obsidian gets a readable overview without arranging anything.

It is regenerated, but it is also the user's: a node of kbgen's that the
user moved or resized keeps its place and size, and nodes and edges the user
added (ids not starting with `kbgen-`) are kept as they are.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from kbgen.core.model import Entity
from kbgen.core.plural import counted

ISSUES_SHOWN = 12
ACTORS_SHOWN = 36
PREFIX = "kbgen-"
_COLOURS = {"person": "2", "organisation": "4", "state": "6", "region": "6", "issue": "5"}
_ISSUE_SIZE = (280, 60)
_ACTOR_SIZE = (240, 50)


def node_id(key: str) -> str:
    return PREFIX + key.replace(":", "-")


def build_canvas(
    entities: Sequence[Entity], totals: Mapping[str, Sequence[Any]], paths: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """The canvas kbgen would draw: `totals` as in `keys.Totals`; `paths`: key → note path."""
    shown = [e for e in entities if e.key in totals and e.key in paths]
    mentions = {e.key: int(totals[e.key][0]) for e in shown}
    issues = _top([e for e in shown if e.type == "issue"], mentions, ISSUES_SHOWN)
    issue_keys = {e.key for e in issues}
    ties = {
        e.key: sorted(
            ((int(n), k) for k, n in totals[e.key][3].items() if k in issue_keys and int(n) > 0),
            key=lambda t: (-t[0], t[1]),
        )
        for e in shown
        if e.type == "actor"
    }
    actors = _top([e for e in shown if e.type == "actor" and ties[e.key]], mentions, ACTORS_SHOWN)
    around: dict[str, list[Entity]] = {e.key: [] for e in issues}
    for actor in actors:
        around[ties[actor.key][0][1]].append(actor)
    rings = {key: _ring(len(group)) for key, group in around.items()}
    # each issue gets an arc of the circle as wide as its ring of actors, so rings never meet
    widths = [2 * rings[e.key] + _ACTOR_SIZE[0] + 80 for e in issues]
    total = sum(widths)
    radius = max(900, round(total / (2 * math.pi)))
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for i, issue in enumerate(issues):
        angle = 2 * math.pi * (sum(widths[:i]) + widths[i] / 2) / total
        cx, cy = round(radius * math.cos(angle)), round(radius * math.sin(angle))
        nodes.append(_node(issue, paths, (cx, cy), _ISSUE_SIZE))
        group = around[issue.key]
        for j, actor in enumerate(group):
            turn = angle + 2 * math.pi * j / len(group)
            at = (
                cx + round(rings[issue.key] * math.cos(turn)),
                cy + round(rings[issue.key] * math.sin(turn)),
            )
            nodes.append(_node(actor, paths, at, _ACTOR_SIZE))
            best = ties[actor.key][0][0]
            for n, tied in ties[actor.key][:2]:
                if tied == issue.key or n * 2 >= best:
                    edges.append(_edge(actor.key, tied, n))
    return {"nodes": nodes, "edges": edges}


def _ring(actors: int) -> int:
    """The radius of the ring of `actors` around their issue: room for each, never crowded."""
    return max(300, round(actors * (_ACTOR_SIZE[0] + 40) / (2 * math.pi)))


def _top(entities: list[Entity], mentions: Mapping[str, int], count: int) -> list[Entity]:
    return sorted(entities, key=lambda e: (-mentions[e.key], e.key))[:count]


def _node(
    entity: Entity, paths: Mapping[str, str], centre: tuple[int, int], size: tuple[int, int]
) -> dict[str, Any]:
    width, height = size
    node: dict[str, Any] = {
        "id": node_id(entity.key),
        "type": "file",
        "file": paths[entity.key],
        "x": centre[0] - width // 2,
        "y": centre[1] - height // 2,
        "width": width,
        "height": height,
    }
    colour = _COLOURS.get(entity.type if entity.type == "issue" else entity.kind or "")
    if colour:
        node["color"] = colour
    return node


def _edge(actor: str, issue: str, shared: int) -> dict[str, Any]:
    return {
        "id": f"{node_id(actor)}--{issue.replace(':', '-')}",
        "fromNode": node_id(actor),
        "toNode": node_id(issue),
        "toEnd": "none",
        "label": counted(shared, "paragraph"),
    }


_GEOMETRY = ("x", "y", "width", "height", "color")


def geometry(canvas: dict[str, list[dict[str, Any]]]) -> str:
    """Where kbgen drew its nodes, kept as the base the user's arrangement is told apart from."""
    drawn = {n["id"]: [n.get(k) for k in _GEOMETRY] for n in canvas["nodes"]}
    return json.dumps(drawn, sort_keys=True, separators=(",", ":"))


def merged_with(
    drawn: dict[str, list[dict[str, Any]]], old: Any, base: str | None
) -> dict[str, list[dict[str, Any]]]:
    """kbgen's new drawing, with what the user changed in the canvas on disk (`old`, parsed JSON).

    A node of kbgen's keeps the user's position, size and colour when they differ from where
    kbgen last drew it (`base`, from `geometry`; with no base, whatever is on disk is kept);
    otherwise it goes where the new layout puts it. The user's own nodes and edges are kept.
    """
    if not isinstance(old, dict):
        return drawn
    last: dict[str, Any] = json.loads(base) if base else {}
    old_nodes = {n["id"]: n for n in old.get("nodes", []) if isinstance(n, dict) and "id" in n}
    nodes = []
    for node in drawn["nodes"]:
        mine = old_nodes.get(node["id"])
        if mine is not None and [mine.get(k) for k in _GEOMETRY] != last.get(node["id"]):
            node = {**node, **{k: mine[k] for k in _GEOMETRY if k in mine}}
        nodes.append(node)
    theirs = [n for i, n in old_nodes.items() if not i.startswith(PREFIX)]
    ids = {n["id"] for n in nodes} | {n["id"] for n in theirs}
    their_edges = [
        e
        for e in old.get("edges", [])
        if isinstance(e, dict)
        and not str(e.get("id", "")).startswith(PREFIX)
        and e.get("fromNode") in ids
        and e.get("toNode") in ids
    ]
    return {"nodes": nodes + theirs, "edges": drawn["edges"] + their_edges}


def dumps(canvas: dict[str, list[dict[str, Any]]]) -> bytes:
    return (json.dumps(canvas, ensure_ascii=False, indent="\t") + "\n").encode("utf-8")
