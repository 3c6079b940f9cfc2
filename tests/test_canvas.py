"""Map.canvas: valid JSON Canvas 1.0, readable, and the user's arrangement kept (issue 7)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import SEEDS, run_build
from pyjsoncanvas import Canvas


def _canvas(vault: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((vault / "Map.canvas").read_text(encoding="utf-8"))
    return data


def _check(vault: Path) -> dict[str, Any]:
    """The JSON Canvas 1.0 rules (checked by pyjsoncanvas too), and the file nodes' notes exist."""
    text = (vault / "Map.canvas").read_text(encoding="utf-8")
    Canvas.from_json(text).validate()
    canvas = _canvas(vault)
    ids = [n["id"] for n in canvas["nodes"]] + [e["id"] for e in canvas["edges"]]
    assert len(ids) == len(set(ids))
    for node in canvas["nodes"]:
        assert all(isinstance(node[k], int) for k in ("x", "y", "width", "height")), node
        if node["type"] == "file":
            assert (vault / node["file"]).is_file(), node["file"]
    nodes = {n["id"] for n in canvas["nodes"]}
    for edge in canvas["edges"]:
        assert edge["fromNode"] in nodes and edge["toNode"] in nodes, edge
    return canvas


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_the_map_places_actors_around_their_issues_without_overlaps(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    run_build(SEEDS, vault)
    canvas = _check(vault)
    kinds = {n["file"].split("/")[0] for n in canvas["nodes"]}
    assert kinds == {"Actors", "Issues"}
    nodes = canvas["nodes"]
    assert not [
        (a["id"], b["id"]) for i, a in enumerate(nodes) for b in nodes[i + 1 :] if _overlap(a, b)
    ]
    putin = "kbgen-actor-vladimir-putin"
    assert any(
        e["fromNode"] == putin and e["label"].endswith("paragraphs") for e in canvas["edges"]
    )


def test_a_users_arrangement_and_own_nodes_survive_a_redraw(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    vault = tmp_path / "vault"
    run_build(sources, vault)
    canvas = _canvas(vault)
    putin = next(n for n in canvas["nodes"] if n["id"] == "kbgen-actor-vladimir-putin")
    putin.update(x=12345, y=-6789, width=400)
    canvas["nodes"].append(
        {
            "id": "my-note",
            "type": "text",
            "text": "My thesis",
            "x": 0,
            "y": 0,
            "width": 200,
            "height": 80,
        }
    )
    canvas["edges"].append({"id": "my-edge", "fromNode": "my-note", "toNode": putin["id"]})
    (vault / "Map.canvas").write_text(json.dumps(canvas), encoding="utf-8")
    (sources / "new.txt").write_text(
        "Arms talks\n\nBy Ann Weller\n\nVladimir Putin and Rex Tillerson discussed arms control "
        "and sanctions against Russia in Geneva on Monday.\n",
        encoding="utf-8",
    )
    run_build(sources, vault)
    after = _check(vault)
    moved = next(n for n in after["nodes"] if n["id"] == "kbgen-actor-vladimir-putin")
    assert (moved["x"], moved["y"], moved["width"]) == (12345, -6789, 400)
    assert any(n["id"] == "my-note" and n["text"] == "My thesis" for n in after["nodes"])
    assert any(e["id"] == "my-edge" for e in after["edges"])


def test_a_canvas_that_is_not_json_is_left_as_it_is(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    run_build(SEEDS, vault)
    (vault / "Map.canvas").write_text("{ my half-typed canvas", encoding="utf-8")
    shutil.rmtree(vault / ".kbgen")  # a build that must redraw
    report = run_build(SEEDS, vault)
    assert (vault / "Map.canvas").read_text(encoding="utf-8") == "{ my half-typed canvas"
    assert any("Map.canvas" in line for line in report.plan.lines(routine=False))


def test_a_no_op_build_does_not_touch_the_map(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    run_build(SEEDS, vault)
    before = (vault / "Map.canvas").stat().st_mtime_ns
    run_build(SEEDS, vault)
    assert (vault / "Map.canvas").stat().st_mtime_ns == before


def test_only_nodes_the_user_moved_keep_their_place() -> None:
    from kbgen.render.canvas import geometry, merged_with

    def node(i: str, x: int) -> dict[str, Any]:
        return {
            "id": i,
            "type": "file",
            "file": f"{i}.md",
            "x": x,
            "y": 0,
            "width": 10,
            "height": 10,
        }

    before = {"nodes": [node("kbgen-a", 0), node("kbgen-b", 100)], "edges": []}
    on_disk = {"nodes": [node("kbgen-a", 0), node("kbgen-b", 555)], "edges": []}  # b moved by hand
    redrawn = {"nodes": [node("kbgen-a", 40), node("kbgen-b", 140)], "edges": []}
    merged = merged_with(redrawn, on_disk, geometry(before))
    assert [n["x"] for n in merged["nodes"]] == [40, 555]
    assert [n["x"] for n in merged_with(redrawn, on_disk, None)["nodes"]] == [0, 555]
