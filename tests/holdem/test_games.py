"""The flat game descriptions match the rules (OpenSpiel's kuhn_poker and leduc_poker)."""

import numpy as np
import pytest
from numba import njit

from holdem.evaluation.exploitability import exploitability, uniform_policy
from holdem.games import load_game
from holdem.games.tree import DECISION, FOLD, LEAF, SHOWDOWN, NodeKind


@njit(cache=True)
def _count_by_kind(tree):
    """A kernel that reads a bundle and names the node kinds, as the solvers' kernels do."""
    out = np.zeros(4, dtype=np.int64)
    for k in tree.kind:
        if k == DECISION:
            out[0] += 1
        elif k == FOLD:
            out[1] += 1
        elif k == SHOWDOWN:
            out[2] += 1
        elif k == LEAF:
            out[3] += 1
    return out


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
def test_kernels_read_node_kinds_by_name_from_the_tree_bundle(name):
    """numba takes NodeKind members as constants and a TreeArrays named tuple as one argument."""
    tree = load_game(name).tree
    counts = _count_by_kind(tree.arrays())
    assert counts.tolist() == [int((tree.kind == k).sum()) for k in NodeKind]
    assert counts[0] == tree.decision_nodes().size > 0 and counts[1] > 0 and counts[2] > 0 and counts[3] == 0


@pytest.mark.parametrize("name, infosets", [("kuhn", 12), ("leduc", 288)])
def test_infoset_count_is_the_suit_isomorphic_count(name, infosets):
    assert load_game(name).tree.n_infosets() == infosets


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
def test_tree_is_in_preorder_with_contiguous_subtrees(name):
    t = load_game(name).tree
    assert t.parent[0] == -1
    for n in range(1, t.n_nodes):
        assert t.parent[n] < n  # parents first
        p = t.parent[n]
        assert p <= n < p + t.subtree_size[p]  # inside the parent's subtree
    for n in range(t.n_nodes):
        kids = t.children[t.child_start[n] : t.child_start[n] + t.num_children[n]]
        assert all(t.parent[k] == n for k in kids)
        assert (t.num_children[n] > 0) == (t.kind[n] == DECISION)


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
def test_deal_probabilities_sum_to_one(name):
    assert load_game(name).deals.prob.sum() == pytest.approx(1.0, abs=1e-15)


def test_leduc_showdowns_have_equal_contributions_and_raises_follow_the_limits():
    t = load_game("leduc").tree
    showdowns = np.flatnonzero(t.kind == SHOWDOWN)
    assert np.all(t.contrib[showdowns, 0] == t.contrib[showdowns, 1])
    assert t.contrib[:, 0].max() == 1 + 2 * 2 + 2 * 4  # ante, two raises of 2, two raises of 4
    assert t.history[showdowns[0]] == "cc/cc"


def test_kuhn_keys_read_as_card_and_history():
    g = load_game("kuhn")
    keys = [g.infoset_key(n, b) for n, b in g.infosets()]
    assert {"J:", "Q:p", "K:pb", "J:b"} <= set(keys)


@pytest.mark.parametrize("name, nash_conv", [("kuhn", 0.9166666666666666), ("leduc", 4.747222222222222)])
def test_uniform_policy_nash_conv_matches_openspiel(name, nash_conv):
    g = load_game(name)
    assert exploitability(g, uniform_policy(g)).nash_conv == pytest.approx(nash_conv, abs=1e-12)


def test_digest_changes_with_the_game():
    assert load_game("kuhn").digest() == load_game("kuhn").digest()
    assert load_game("kuhn").digest() != load_game("leduc").digest()
