"""Hold'em as a newcomer meets it (issue 14): a readable preflop export from `holdem export` and in
merged folders, `holdem play`'s words (bet, 1 hand, named showdown hands), and `holdem tree`'s
terminal nodes and memory estimate. Real `holdem` subprocesses on a small abstraction."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from holdem_proc import REPO, SMALL_HUNL, write_config

from holdem.blueprint.explorer import find_spot, spot_json
from holdem.blueprint.hunl import load_blueprint
from holdem.blueprint.preflop_export import preflop_nodes
from holdem.cards import parse_cards
from holdem.games.hunl.rules import Action, HunlRules, Kind, State
from holdem.play.terminal import _describe, hand_name, parse_command

RULES = HunlRules()


def holdem(*args: object, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holdem", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )


@pytest.fixture(scope="module")
def two_instances(hunl_buckets, tmp_path_factory):
    """(bucket root, [instance folders], merged folder): two short real trainings and their merge."""
    root, _ = hunl_buckets
    folder = tmp_path_factory.mktemp("newuser")
    cfg = write_config(
        folder / "small.yaml",
        "game: hunl\nalgorithm: es-mccfr\n"
        "cfr: {averaging: linear, linear_regrets: true}\nhunl: " + json.dumps(SMALL_HUNL) + "\n",
    )
    dirs = []
    for seed in (1, 2):
        done = holdem(
            "train",
            "--config",
            cfg,
            "--instance-dir",
            folder / f"i{seed}",
            "--iters",
            20_000,
            "--seed",
            seed,
            "--buckets-root",
            root,
        )
        assert done.returncode == 0, done.stderr
        dirs.append(folder / f"i{seed}")
    merged = holdem("merge", *dirs, "--out", folder / "merged", "--buckets-root", root)
    assert merged.returncode == 0, merged.stderr
    return root, dirs, folder / "merged"


def test_a_merged_holdem_folder_carries_a_readable_preflop_policy(two_instances) -> None:
    root, _, merged = two_instances
    data = json.loads((merged / "policy.json").read_text())
    assert data["format"] == "holdem-preflop" and data["version"] == 1 and data["game"] == "hunl"
    assert len(data["classes"]) == 169 and data["classes"][:3] == ["AA", "AKs", "AQs"] and "AKo" in data["classes"]
    blueprint = load_blueprint(merged, root)
    assert len(data["spots"]) == len(preflop_nodes(blueprint.game.tree))
    first = data["spots"][0]
    assert first["history"] == "" and first["position"] == "button" and first["to_call"] == 50
    assert [a["label"] for a in first["actions"]][:2] == ["fold", "call 50"]
    for spot in data["spots"]:
        assert sorted(spot["strategy"]) == sorted(data["classes"])
        for probs in spot["strategy"].values():
            assert set(probs) == {a["action"] for a in spot["actions"]} and abs(sum(probs.values()) - 1) < 1e-5
    # each class's row is the blueprint's own strategy for a hand of that class (169 buckets: exact)
    spot = find_spot(blueprint, "", "")
    aces = spot_json(blueprint, spot, "AsAh", str(merged))
    for a in aces["actions"]:
        assert first["strategy"]["AA"][a["action"]] == pytest.approx(a["probability"], abs=1e-5)
    # and it is read, not evaluated: eval names what to give instead
    out = holdem("eval", merged / "policy.json")
    assert out.returncode == 2 and "preflop export, for reading" in out.stderr


def test_holdem_export_writes_the_preflop_policy_of_an_instance(two_instances, tmp_path) -> None:
    root, dirs, _ = two_instances
    out = holdem("export", dirs[0], "--out", tmp_path / "preflop.json", "--buckets-root", root)
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "preflop.json").read_text())
    assert data["format"] == "holdem-preflop" and data["iteration"] == 20_000
    bp = load_blueprint(dirs[0], root)
    kings = spot_json(bp, find_spot(bp, "", ""), "KdKc", str(dirs[0]))
    row = data["spots"][0]["strategy"]["KK"]
    assert np.allclose(
        [a["probability"] for a in kings["actions"]], [row[a["action"]] for a in kings["actions"]], atol=1e-5
    )


def test_a_first_bet_after_the_flop_is_a_bet_and_a_raise_stays_a_raise() -> None:
    state = State.initial(RULES).apply(Action(Kind.CHECK_CALL)).apply(Action(Kind.CHECK_CALL))  # limp, check
    assert state.street == 1
    assert _describe(Action(Kind.RAISE, 200), state, "") == "bet 200"
    assert _describe(Action(Kind.RAISE, 200), state, "s") == "bets 200"
    refusal = parse_command("b 10", state)
    assert isinstance(refusal, str) and "bet between 100 and" in refusal
    facing = state.apply(Action(Kind.RAISE, 200))
    assert _describe(Action(Kind.RAISE, 600), facing, "s") == "raises to 600"
    preflop = State.initial(RULES)  # the blinds are a bet already: preflop it is a raise
    assert _describe(Action(Kind.RAISE, 300), preflop, "") == "raise to 300"


def test_showdown_hands_are_named() -> None:
    named = {
        h: hand_name(parse_cards(h))
        for h in (
            "AsAh Kd7c2s3d9h",
            "AsKs QsJsTs2d3c",
            "As2d 3c4h5s9dKc",
            "KsKh Kd7c7s2d3c",
            "AhKh 2h7h9h3c4d",
            "AdKc 9s7h3d2c5s",
            "7s7h 2c2dKd9c3h",
            "9s9h 9d9cKd2c3h",
            "QsQh Qd5c2d8h3s",
        )
    }
    assert list(named.values()) == [
        "a pair of aces",
        "a royal flush",
        "a straight, five high",
        "a full house, kings full of sevens",
        "a flush, ace high",
        "high card ace",
        "two pair, sevens and twos",
        "four of a kind, nines",
        "three of a kind, queens",
    ]


def test_holdem_play_says_1_hand_and_names_the_hands_at_showdown(two_instances) -> None:
    root, dirs, _ = two_instances
    out = holdem("play", dirs[0], "--hands", 1, "--seat", 0, "--buckets-root", root, stdin="c\n" * 40)
    assert out.returncode == 0, out.stderr
    assert "done. 1 hand, total" in out.stdout and "over 1 hand\n" in out.stdout
    names = (
        r"(high card \w+|a pair of \w+|two pair, \w+ and \w+|three of a kind, \w+|a straight, \w+ high|"
        r"a flush, \w+ high|a full house, \w+ full of \w+|four of a kind, \w+|a straight flush, \w+ high|"
        r"a royal flush)"
    )
    showdowns = re.findall(rf"you \[.. ..\] {names}  bot \[.. ..\] {names}", out.stdout)
    bot_folded = "bot folds" in out.stdout
    assert showdowns or bot_folded, out.stdout


def test_holdem_tree_shows_terminal_nodes_and_counts_shared_buckets_once(tmp_path) -> None:
    cfg = REPO / "configs" / "quickstart.yaml"
    text = holdem("tree", "--config", cfg, "--instances", 3, "--sample-s", 0)  # no timed sample: the figures only
    assert text.returncode == 0, text.stderr
    assert "terminal nodes" in text.stdout.splitlines()[0]
    assert re.search(r"memory per instance: tables [\d.]+ MiB \+ tree [\d.]+ MiB \+ runtime \d+ MiB", text.stdout)
    assert "card buckets (mapped read-only, shared)" in text.stdout and "3 instances: about" in text.stdout
    one, three = (
        json.loads(holdem("tree", "--config", cfg, "--instances", n, "--json", "--sample-s", 0).stdout) for n in (1, 3)
    )
    assert sum(s["terminal_nodes"] for s in one["streets"]) == one["terminals"]
    private, shared = one["private_bytes_per_instance"], one["bucket_bytes_shared"]
    assert (
        private == one["table_bytes_per_instance"] + one["tree_bytes_per_instance"] + one["runtime_bytes_per_instance"]
    )
    assert three["memory_bytes_all_instances"] == 3 * private + shared  # the buckets once, not three times
    assert 380 * 2**20 < shared < 420 * 2**20  # the river table alone is 134,459 boards x 1,326 combos x 2 bytes
