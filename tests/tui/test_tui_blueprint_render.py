"""The grid, menu and detail line drawn from real `holdem strategy --range --json` documents of a tiny
hold'em blueprint trained here by the real `holdem train` (its buckets: the session's store,
$HOLDEM_BUCKETS)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from tui_harness import PY, REPO

from tui.screens.blueprint import action_menu, spot_header
from tui.widgets.range_grid import CALL_RGB, FOLD_RGB, RangeGrid, action_colours, cell_detail, mix

TINY_HUNL = REPO / "tests" / "tui" / "tiny_hunl.yaml"


def strategy(policy: Path, history: str = "") -> dict:
    out = subprocess.run(
        [PY, "-m", "holdem", "strategy", str(policy), "--range", "--json", "--history", history],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def docs(hunl_build, tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("tiny") / "inst"
    train = subprocess.run(
        [PY, "-m", "holdem", "train", "--config", str(TINY_HUNL), "--instance-dir", str(folder), "--iters", "4000"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert train.returncode == 0, train.stderr[-2000:]
    policy = sorted((folder / "checkpoints").iterdir())[-1]
    return {"": strategy(policy), "r300": strategy(policy, "r300")}


class GridApp(App[None]):
    def __init__(self, doc: dict) -> None:
        super().__init__()
        self.doc = doc

    def compose(self) -> ComposeResult:
        yield RangeGrid(id="grid")

    def on_mount(self) -> None:
        self.query_one(RangeGrid).show(self.doc)
        self.query_one(RangeGrid).focus()


def test_the_colours_follow_explorer_render() -> None:
    actions = [{"action": "f"}, {"action": "c"}, {"action": "r300"}, {"action": "r10000"}]
    colours = action_colours(actions)
    assert colours[:2] == [FOLD_RGB, CALL_RGB] and colours[2] != colours[3]
    assert mix(colours, [1, 0, 0, 0]) == FOLD_RGB and mix(colours, [0.5, 0.5, 0, 0]) == (71, 148, 140)


async def test_the_grid_shows_169_cells_and_the_cursor_moves_over_them(docs) -> None:
    doc = docs[""]
    app = GridApp(doc)
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.query_one(RangeGrid)
        lines = grid.render().plain.split("\n")
        assert len(lines) == 13
        hands = [h.strip("[]") for line in lines for h in line.split()]
        assert len(hands) == 169 and hands[0] == "AA" and hands[1] == "AKs" and hands[13] == "AKo"
        assert "[AA]" in lines[0]
        await pilot.press("right", "down", "down")
        highlighted = grid.highlighted()
        assert grid.cursor == (2, 1) and highlighted is not None and highlighted["hand"] == "KQo"
        assert "[KQo]" in grid.render().plain
        await pilot.press("up", "up", "up", "left", "left")  # the edges hold
        assert grid.cursor == (0, 0)


def test_menu_header_and_detail_read_the_document(docs) -> None:
    root, raised = docs[""], docs["r300"]
    menu = action_menu(root).plain
    assert menu.startswith("1 ■ fold") and "2 ■ call 50" in menu and "raise to 300" in menu
    assert root["position"] in spot_header("r1", {**root, "source": {"kind": "checkpoint"}}).plain
    header = spot_header("r1", {**raised, "source": {"kind": "merged", "path": "/x"}}).plain
    assert "merged blueprint" in header and "history r300" in header and "big blind to act" in header
    aa = root["grid"][0][0]
    detail = cell_detail(root, aa).plain
    assert detail.startswith("AA (6 combos)")
    assert [f"{p:.1%}" for p in aa["probabilities"]] == [part.split()[-1] for part in detail.split("■")[1:]]
    assert sum(aa["probabilities"]) == pytest.approx(1.0, abs=1e-4)
