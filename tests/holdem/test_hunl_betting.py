"""The hold'em action abstraction keeps only legal actions and compiles to the shared flat tree."""

import json
import subprocess
import sys

import numpy as np
import pytest
from holdem_proc import REPO, write_config

from holdem.games.hunl.betting import AbstractionError, abstraction_from_config, build_betting_tree, tree_report
from holdem.games.hunl.rules import State
from holdem.games.tree import DECISION, FOLD, SHOWDOWN

SMALL = {
    "bet_sizes": {"preflop": [0.5, 1.0], "flop": [1.0], "turn": [1.0], "river": [1.0]},
    "max_raises": {"preflop": 3, "flop": 2, "turn": 1, "river": 1},
    "buckets": {"preflop": 169, "flop": 10, "turn": 10, "river": 10},
}


def replay(abstraction, tree, node):
    """Walk from the root to `node` through the rules, checking each step is in the menu."""
    path = []
    while node > 0:
        path.append(node)
        node = int(tree.parent[node])
    state = State.initial(abstraction.rules)
    parent = 0
    for child in reversed(path):
        kids = list(tree.children[tree.child_start[parent] : tree.child_start[parent] + tree.num_children[parent]])
        state = state.apply(abstraction.actions(state)[kids.index(child)])
        parent = child
    return state


def test_every_node_replays_through_the_rules_to_the_same_chips():
    a = abstraction_from_config(SMALL)
    tree = build_betting_tree(a)
    for node in range(0, tree.n_nodes, 7):
        state = replay(a, tree, node)
        assert tuple(tree.contrib[node]) == state.committed
        assert (tree.kind[node] == DECISION) == (not state.finished)
        if tree.kind[node] == FOLD:
            assert tree.player[node] == state.folded
        if tree.kind[node] == DECISION:
            assert tree.player[node] == state.to_act and tree.street[node] == state.street


def test_sizes_are_snapped_to_legal_amounts_and_deduplicated():
    a = abstraction_from_config(
        {"bet_sizes": {"preflop": [0.01, 0.02, 50.0]}, "stack": 1_000, "big_blind": 100, "small_blind": 50}
    )
    first = State.initial(a.rules)
    # 0.01 and 0.02 of the pot are below the minimum raise (to 200): both snap to it, once;
    # 50 pots is beyond the stack: it becomes the all-in, once.
    assert a.raise_targets(first) == [200, 1_000]


def test_raise_cap_per_street_is_respected():
    a = abstraction_from_config(SMALL)
    tree = build_betting_tree(a)
    for node in np.flatnonzero(tree.kind == DECISION)[::5]:
        state = replay(a, tree, int(node))
        assert state.raises <= a.max_raises[state.street]


def test_showdowns_have_matched_bets():
    tree = build_betting_tree(abstraction_from_config(SMALL))
    sd = tree.kind == SHOWDOWN
    assert np.all(tree.contrib[sd, 0] == tree.contrib[sd, 1])


@pytest.mark.parametrize(
    "section, key",
    [
        ({"bet_sizes": {"flop": [-1]}}, "hunl.bet_sizes.flop"),
        ({"max_raises": {"river": 99}}, "hunl.max_raises.river"),
        ({"buckets": {"preflop": 500}}, "hunl.buckets.preflop"),
        ({"stak": 5}, "hunl.stak"),
    ],
)
def test_bad_abstraction_values_name_their_key(section, key):
    with pytest.raises(AbstractionError, match=f"'{key}'"):
        abstraction_from_config(section)


def test_tree_command_reports_streets_and_memory(tmp_path):
    cfg = write_config(tmp_path / "h.yaml", "game: hunl\nalgorithm: es-mccfr\nhunl: " + json.dumps(SMALL) + "\n")
    out = subprocess.run(
        [sys.executable, "-m", "holdem", "tree", "--config", cfg, "--json", "--sample-s", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )  # no speed sample: the tree alone
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    tree = build_betting_tree(abstraction_from_config(SMALL))
    assert report == tree_report(abstraction_from_config(SMALL), tree)
    assert [s["street"] for s in report["streets"]] == ["preflop", "flop", "turn", "river"]
    assert report["table_bytes_per_instance"] == 16 * tree.n_slots
