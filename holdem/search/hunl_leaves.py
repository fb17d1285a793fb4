"""Values of a hold'em subgame's depth-limit leaves: the blueprint's continuation, by Monte Carlo.

Every sampled deal (both hole hands and the rest of the board, uniform given the known board) is
bucketed on every street, and at each leaf the rest of the hand is valued exactly on the blueprint's
tree from the leaf's blueprint node: the searcher plays the blueprint, the other player continuation
strategy k (the blueprint, or fold, call or raise probabilities times 5, renormalised: Pluribus). The
values are averaged by the two hands' buckets on the current street, so one table serves the
1,326 x 1,326 pairs; the few thousand deals reach few of the B x B bucket pairs, so the tables are
sparse (``subgame.LeafTables``): row and column effects, and the pairs a deal reached. Values
scale with the real pot (real chips in / the blueprint node's chips in). A leaf with no blueprint
node (an all-in before the river, or a history off the tree) is valued by checking down: the showdown
of the sampled board. The deals are shared by all leaves, so their bucketing is paid once.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange

from holdem.cards import BOARD_CARDS, FULL_BOARD, NUM_CARDS, NUM_STREETS
from holdem.games.tree import FOLD, SHOWDOWN
from holdem.rng import next_u64, seed_state
from holdem.search.hunl_equity import bucket_equity
from holdem.search.subgame import BIAS_FACTOR, K_CONTINUATIONS, Hands, LeafTables
from holdem.solver.es_hunl import DEAL_CARDS, deal_buckets
from holdem.solver.workers import worker_seed

BLOCK = 250  # deals a thread draws at a time, from a stream of its own
PAIR_KEY = 1_000_000  # a deal's bucket pair as one sortable key: b0 * PAIR_KEY + b1
RUNOUTS = 48  # sampled turn and river cards for a flop leaf's check-down (the turn's are all 48)
MAX_ACTIONS = 16  # of a blueprint node, for the continuation's scratch


class LeafJob(NamedTuple):
    """What the deal kernels value: the known board, the street it makes, and each leaf's blueprint node
    (-1: checked down), pot scale (real chips in / the node's) and the leaf's own chips in."""

    board: np.ndarray  # int64 [n_known]
    n_known: int
    street: int
    searcher: int
    policy: np.ndarray  # the blueprint's average strategy
    leaf_bp: np.ndarray  # int64 [L]
    leaf_scale: np.ndarray  # [L]
    leaf_contrib: np.ndarray  # [L]


class Samples(NamedTuple):
    """The deal kernels' results, by deal d: pair[d] = b0 * PAIR_KEY + b1 (the street's buckets),
    vals[d, leaf * K + k] player 0's chips in continuation k of that leaf, win[d] the showdown's winner
    (+1 player 0, -1 player 1, 0 a tie)."""

    pair: np.ndarray
    vals: np.ndarray
    win: np.ndarray


@njit(cache=True)
def _continuation(root, searcher, tree, policy, buckets, winner, values):
    """values[k, 0] = player 0's chips from blueprint node ``root`` on, one value per continuation k: the
    other player's probabilities of actions of kind k - 1 times BIAS_FACTOR (k > 0; ``subgame.bias_strategy``)."""
    kind, player, contrib, children, action = tree.kind, tree.player, tree.contrib, tree.children, tree.action
    size = tree.subtree_size[root]
    opp = 1 - searcher
    sig = np.empty(MAX_ACTIONS)
    for i in range(size - 1, -1, -1):
        n = root + i
        if kind[n] == FOLD:
            v = -contrib[n, 0] if player[n] == 0 else contrib[n, 1]
            for k in range(K_CONTINUATIONS):
                values[k, i] = v
        elif kind[n] == SHOWDOWN:
            v = (
                contrib[n, 1]
                if winner > 0
                else (-contrib[n, 0] if winner < 0 else 0.5 * (contrib[n, 1] - contrib[n, 0]))
            )
            for k in range(K_CONTINUATIONS):
                values[k, i] = v
        else:
            na = tree.num_children[n]
            pl = player[n]
            o = tree.slot[n] + buckets[pl, tree.street[n]] * tree.bucket_stride[n]
            cs = tree.child_start[n]
            for k in range(K_CONTINUATIONS):
                total = 0.0
                for a in range(na):
                    p = policy[o + a]
                    if pl == opp and k > 0 and action[children[cs + a]] == k - 1:
                        p *= BIAS_FACTOR
                    sig[a] = p
                    total += p
                v = 0.0
                for a in range(na):
                    s = sig[a] / total if total > 0.0 else 1.0 / na
                    v += s * values[k, children[cs + a] - root]
                values[k, i] = v


@njit(cache=True, parallel=True)
def leaf_blocks(first, count, n_deals, states, job, tables, tree, out):
    """Blocks first .. first + count - 1 of ``leaf_samples``, one a thread."""
    for i in prange(count):
        b = first + i
        start = b * BLOCK
        leaf_samples(min(BLOCK, n_deals - start), start, states[b], job, tables, tree, out)


@njit(cache=True)
def leaf_samples(n_deals, first, rng, job, tables, tree, out):
    """Deals first .. first + n_deals - 1 of ``job`` (``LeafJob``) into ``out`` (``Samples``), the deals
    bucketed by ``tables`` (``BucketArrays``) and valued on the blueprint's ``tree`` (``TreeArrays``)."""
    board, n_known, leaf_bp = job.board, job.n_known, job.leaf_bp
    deck = np.empty(NUM_CARDS, dtype=np.int64)
    cards = np.empty(DEAL_CARDS, dtype=np.int64)
    buckets = np.empty((2, NUM_STREETS), dtype=np.int64)
    dead = np.zeros(NUM_CARDS, dtype=np.bool_)
    for i in range(n_known):
        dead[board[i]] = True
    n_live = 0
    for c in range(NUM_CARDS):
        if not dead[c]:
            deck[n_live] = c
            n_live += 1
    biggest = 1
    for ell in range(leaf_bp.shape[0]):
        if leaf_bp[ell] >= 0:
            biggest = max(biggest, tree.subtree_size[leaf_bp[ell]])
    values = np.empty((K_CONTINUATIONS, biggest))
    for d in range(first, first + n_deals):
        need = 4 + FULL_BOARD - n_known
        for i in range(need):  # partial Fisher-Yates over the live cards
            j = i + np.int64(next_u64(rng) % np.uint64(n_live - i))
            t = deck[i]
            deck[i] = deck[j]
            deck[j] = t
        for i in range(4):
            cards[i] = deck[i]
        for i in range(n_known):
            cards[4 + i] = board[i]
        for i in range(FULL_BOARD - n_known):
            cards[4 + n_known + i] = deck[4 + i]
        winner = deal_buckets(cards, tables, buckets)
        out.pair[d] = buckets[0, job.street] * PAIR_KEY + buckets[1, job.street]
        out.win[d] = winner
        for ell in range(leaf_bp.shape[0]):
            if leaf_bp[ell] < 0:
                v = job.leaf_contrib[ell] * winner
                for k in range(K_CONTINUATIONS):
                    out.vals[d, ell * K_CONTINUATIONS + k] = v
                continue
            _continuation(leaf_bp[ell], job.searcher, tree, job.policy, buckets, winner, values)
            for k in range(K_CONTINUATIONS):
                out.vals[d, ell * K_CONTINUATIONS + k] = values[k, 0] * job.leaf_scale[ell]


def leaf_tables(
    game,
    policy: np.ndarray,
    board: list[int],
    searcher: int,
    leaves,
    n_deals: int,
    seed: int,
    deadline: float | None = None,
    workers: int = 1,
    hands: Hands | None = None,
    n_runouts: int = RUNOUTS,
) -> LeafTables:
    """Player 0's continuation values by current-street bucket, [L * K] tables: each pair a deal reached
    is its deals' mean shrunk with one pseudo-sample towards an additive model (its row's mean plus its
    column's, minus the table's); every other pair is the model's value. Deals are drawn in blocks of
    250, ``workers`` blocks at a time on as many threads, until ``n_deals`` or the ``deadline``
    (perf_counter seconds).

    With ``hands`` (the subgame's, with their leaf buckets) the check-down part of every value is
    exact instead (``hunl_equity``: the leaf's chips times the bucket pair's expected showdown result
    over the runouts), and the deals estimate only what the betting after the leaf adds to it (a
    deal's value minus its own check-down): the tables then hold every pair of buckets the hands
    fill."""
    t = game.tree
    cur = BOARD_CARDS.index(len(board))
    nb = int(t.num_buckets[cur])
    n_tables = len(leaves) * K_CONTINUATIONS
    if not leaves:
        return LeafTables.sparse(np.zeros((0, nb)), np.zeros((0, nb)), np.zeros(0), np.zeros(0), np.zeros((0, 0)))
    contrib = np.array([lf.contrib for lf in leaves])
    job = LeafJob(
        np.asarray(board, dtype=np.int64),
        len(board),
        cur,
        searcher,
        policy,
        np.array([lf.bp_node for lf in leaves], dtype=np.int64),
        np.array([lf.contrib / lf.bp_contrib if lf.bp_contrib > 0 else 1.0 for lf in leaves]),
        contrib,
    )
    equity = None
    if hands is not None:  # first: it is exact, the deals only refine it while time is left
        equity = bucket_equity(hands.cards, hands.leaf_bucket, board, nb, n_runouts, seed, workers)
    out = Samples(np.zeros(n_deals, dtype=np.int64), np.zeros((n_deals, n_tables)), np.zeros(n_deals))
    pair, vals, win = out
    # deals in blocks of BLOCK, each block its own stream: the tables do not depend on how many threads
    # drew them, and W threads draw W blocks at a time
    n_blocks = -(-n_deals // BLOCK)
    states = np.stack([seed_state(worker_seed(seed, b)) for b in range(n_blocks)])
    tables, tree = game.buckets.arrays(), t.arrays()
    done = 0
    while done < n_deals:
        first = done // BLOCK
        count = min(workers, n_blocks - first)
        if count == 1:
            leaf_samples(min(BLOCK, n_deals - done), done, states[first], job, tables, tree, out)
        else:
            numba.set_num_threads(count)
            leaf_blocks(first, count, n_deals, states, job, tables, tree, out)
        done = min(n_deals, (first + count) * BLOCK)
        if deadline is not None and time.perf_counter() > deadline:
            break
    if equity is None:
        return tables_from_samples(pair[:done], vals[:done], nb)
    per_table = np.repeat(contrib, K_CONTINUATIONS)
    betting = tables_from_samples(pair[:done], vals[:done] - win[:done, None] * per_table[None, :], nb)
    return with_checkdown(betting, *equity, per_table)


def with_checkdown(betting: LeafTables, sign_sum: np.ndarray, pairs: np.ndarray, chips: np.ndarray) -> LeafTables:
    """``betting``'s tables plus ``chips[t]`` x the expected showdown result of each bucket pair the hands
    fill (``pairs`` > 0), stored at every such pair."""
    b0, b1 = np.nonzero(pairs > 0)
    showdown = sign_sum[b0, b1] / pairs[b0, b1]
    dev = chips[:, None] * showdown[None, :]
    # the betting part's own departures from its additive model, at the pairs a deal reached
    keys = b0 * PAIR_KEY + b1
    reached = betting.b0 * PAIR_KEY + betting.b1
    at = np.searchsorted(keys, reached)
    ok = (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == reached)
    dev[:, at[ok]] += betting.dev[:, ok]
    return LeafTables.sparse(betting.row, betting.col, b0, b1, dev)


def tables_from_samples(pair: np.ndarray, vals: np.ndarray, nb: int) -> LeafTables:
    """Sparse tables from deals: ``pair[d]`` = b0 * PAIR_KEY + b1, ``vals[d, t]`` each table's value."""
    order = np.argsort(pair, kind="stable")
    keys, first = np.unique(pair[order], return_index=True)
    n_tables = vals.shape[1]
    row, col = np.zeros((n_tables, nb)), np.zeros((n_tables, nb))
    dev = np.zeros((n_tables, len(keys)))
    b0, b1 = keys // PAIR_KEY, keys % PAIR_KEY
    shrunk_means(np.ascontiguousarray(vals), order, first, b0, b1, nb, row, col, dev)
    return LeafTables.sparse(row, col, b0, b1, dev)


@njit(cache=True)
def shrunk_means(vals, order, first, b0_of_pair, b1_of_pair, nb, row, col, dev):
    """An additive model of each table, row[t, b0] + col[t, b1] = (mean of row b0's deals) + (mean of
    column b1's deals) - (mean of all; a row or column without deals counts as the mean); at pair k
    (deals order[first[k]] .. order[first[k + 1] - 1]) the table's value is (sum + model) / (count + 1),
    and dev[t, k] that minus the model. Compiled, in one pass over the deals: on the flop there are
    hundreds of tables."""
    n_deals, n_tables = vals.shape
    n_pairs = first.shape[0]
    row_n = np.zeros(nb)
    col_n = np.zeros(nb)
    table_sum = np.zeros(n_tables)
    for k in range(n_pairs):
        end = first[k + 1] if k + 1 < n_pairs else n_deals
        row_n[b0_of_pair[k]] += end - first[k]
        col_n[b1_of_pair[k]] += end - first[k]
        for i in range(first[k], end):
            d = order[i]
            for t in range(n_tables):
                x = vals[d, t]
                dev[t, k] += x  # the pair's sum, for now
                row[t, b0_of_pair[k]] += x
                col[t, b1_of_pair[k]] += x
                table_sum[t] += x
    for t in range(n_tables):
        mean = table_sum[t] / max(n_deals, 1)
        for b in range(nb):
            row[t, b] = (row[t, b] / row_n[b] if row_n[b] > 0 else mean) - mean
            col[t, b] = col[t, b] / col_n[b] if col_n[b] > 0 else mean
        for k in range(n_pairs):
            end = first[k + 1] if k + 1 < n_pairs else n_deals
            model = row[t, b0_of_pair[k]] + col[t, b1_of_pair[k]]
            dev[t, k] = (dev[t, k] + model) / (end - first[k] + 1.0) - model
