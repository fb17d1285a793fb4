"""The strategy explorer: `holdem strategy` shows a blueprint's own numbers for the bucket a hand falls in,
averages the grid's cells over their combos, and names what is wrong with a bad spot."""

from __future__ import annotations

import json

import numpy as np
import pytest
from holdem_proc import SMALL_HUNL
from rich.console import Console

from holdem.abstraction.buckets import preflop_class
from holdem.blueprint.explorer import class_name, find_spot, grid_json, spot_json
from holdem.blueprint.explorer_render import print_grid
from holdem.blueprint.hunl import load_blueprint
from holdem.cards import parse_cards
from holdem.cli import commands as cli
from holdem.solver.es_hunl import deal_buckets
from holdem.storage.checkpoint import write_checkpoint


def bucket_coded(tree) -> np.ndarray:
    """A strategy whose every infoset differs with its bucket: p(a) proportional to 1 + (bucket + a) % 3."""
    out = np.zeros(tree.n_slots)
    for n in tree.decision_nodes():
        slots = tree.node_slots(int(n))
        nb, na = slots.shape
        w = 1.0 + (np.arange(nb)[:, None] + np.arange(na)[None, :]) % 3
        out[slots] = w / w.sum(axis=1, keepdims=True)
    return out


@pytest.fixture(scope="module")
def folder(hunl_buckets, tmp_path_factory):
    root, game = hunl_buckets
    path = tmp_path_factory.mktemp("explorer") / "bp"
    write_checkpoint(
        path,
        7,
        {"strategy_sum": bucket_coded(game.tree)},
        {"game": "hunl", "game_hash": game.digest(), "config": {"game": "hunl", "hunl": SMALL_HUNL}},
        keep=1,
    )
    return root, path


def expected_row(game, node: int, bucket: int) -> list[float]:
    t = game.tree
    na = int(t.num_children[node])
    w = 1.0 + (bucket + np.arange(na)) % 3
    return list(w / w.sum())


def test_a_hand_reads_the_row_of_its_own_bucket_preflop_and_on_the_flop(folder):
    root, path = folder
    bp = load_blueprint(path, root)
    spot = find_spot(bp, "", "")
    out = spot_json(bp, spot, "AsKd", str(path))
    as_, kd = parse_cards("As Kd")
    assert out["bucket"] == preflop_class(as_, kd) == 168  # AKo, the last class
    assert [a["probability"] for a in out["actions"]] == pytest.approx(expected_row(bp.game, 0, 168), abs=1e-6)
    assert [a["action"] for a in out["actions"]] == ["f", "c", "r300", "r10000"]
    assert out["position"] == "button" and out["to_call"] == 50 and out["pot"] == 150

    cards = np.array(parse_cards("As Kd 2c 3c Qh Jh 2s 9d 4h"), dtype=np.int64)  # seat 0, seat 1, board
    buckets = np.empty((2, 4), dtype=np.int64)
    b = bp.game.buckets
    deal_buckets(cards, b.arrays(), buckets)
    flop = find_spot(bp, "r300 c /", "Qh Jh 2s")
    assert flop.street == 1 and flop.player == 1  # the big blind acts first after the flop
    out = spot_json(bp, flop, "2c3c", str(path))
    assert out["bucket"] == buckets[1, 1] and out["board"] == "Qh Jh 2s" and out["history"] == "r300c/"
    assert [a["probability"] for a in out["actions"]] == pytest.approx(
        expected_row(bp.game, flop.node, int(buckets[1, 1])), abs=1e-6
    )
    river = find_spot(bp, "r300c/cc/cc/", "Qh Jh 2s 9d 4h")
    assert spot_json(bp, river, "As Kd", str(path))["bucket"] == buckets[0, 3]


def test_the_grid_averages_each_class_over_the_combos_the_board_leaves(folder):
    root, path = folder
    bp = load_blueprint(path, root)
    spot = find_spot(bp, "r300c", "As Kd 2c")
    grid = grid_json(bp, spot, str(path))
    cells = {cell["hand"]: cell for row in grid["grid"] for cell in row}
    assert len(cells) == 169 and sum(c["combos"] for c in cells.values()) == 49 * 48 // 2
    assert (cells["AA"]["combos"], cells["KK"]["combos"], cells["QQ"]["combos"]) == (3, 3, 6)
    assert (cells["AKs"]["combos"], cells["AKo"]["combos"], cells["72o"]["combos"], cells["73o"]["combos"]) == (
        2,
        7,
        9,
        12,
    )
    hands = [spot_json(bp, spot, h, str(path)) for h in ("AhKh", "AcKc")]  # the two AKs left
    mean = np.mean([[a["probability"] for a in h["actions"]] for h in hands], axis=0)
    assert cells["AKs"]["probabilities"] == pytest.approx(mean, abs=1e-6)
    assert sum(a["frequency"] for a in grid["actions"]) == pytest.approx(1.0)
    assert [class_name(0, 1), class_name(1, 0), class_name(12, 12)] == ["AKs", "AKo", "22"]


def test_the_terminal_grid_shows_every_class(folder):
    root, path = folder
    bp = load_blueprint(path, root)
    console = Console(record=True, width=100, color_system="truecolor")
    print_grid(grid_json(bp, find_spot(bp, "", ""), str(path)), console)
    text = console.export_text(clear=False)
    for r in range(13):
        for c in range(13):
            assert class_name(r, c) in text
    assert "raise to 10000 (all-in)" in text and "\x1b[" in console.export_text(styles=True)


def test_holdem_strategy_json_and_png(folder, tmp_path, capsys):
    root, path = folder
    png = tmp_path / "open.png"
    assert cli.main(["strategy", str(path), "--range", "--png", str(png), "--json", "--buckets-root", str(root)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {
        "format",
        "version",
        "policy",
        "iteration",
        "history",
        "street",
        "player",
        "position",
        "board",
        "pot",
        "to_call",
        "buckets",
        "kind",
        "actions",
        "grid",
    }
    assert (out["format"], out["version"], out["kind"], out["iteration"]) == ("holdem-strategy", 1, "range", 7)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["strategy", str(path), "--hand", "AsKd", "--json", "--buckets-root", str(root)]) == 0
    hand = json.loads(capsys.readouterr().out)
    assert set(hand) - set(out) == {"hand", "bucket"} and hand["kind"] == "hand"
    assert set(hand["actions"][0]) == {"action", "label", "to", "probability"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hand", "AsKx"], "bad card 'Kx' in 'AsKx'"),
        (["--hand", "As"], "--hand needs two hole cards"),
        (
            ["--hand", "AsKd", "--history", "r350"],
            "'r350' after '' is not on the blueprint's tree; the preflop offers f, c, r300, r10000",
        ),
        (["--hand", "AsKd", "--history", "r300c", "--board", "Qh Jh Qh"], "card Qh is given twice"),
        (
            ["--hand", "AsKd", "--history", "r300c", "--board", "Qh Jh"],
            "reaches the flop: --board needs 3 cards, got 2",
        ),
        (["--hand", "AsQh", "--history", "r300c", "--board", "Qh Jh 2c"], "card Qh is both in --hand and on --board"),
        (["--hand", "AsKd", "--history", "r300/c"], "'/' after 'r300', but the preflop is not over there"),
        (["--hand", "AsKd", "--history", "r300f"], "ends the hand (a fold)"),
        (["--hand", "AsKd", "--history", "r300fc"], "the hand is over after 'r300f'"),
        (["--hand", "AsKd", "--history", "x"], "cannot read 'x'"),
        (["--hand", "AsKd", "--png", "x.png"], "--png draws the --range grid"),
    ],
)
def test_a_bad_spot_exits_2_naming_what_is_wrong(folder, capsys, args, message):
    root, path = folder
    assert cli.main(["strategy", str(path), *args, "--buckets-root", str(root)]) == 2
    assert message in capsys.readouterr().err
