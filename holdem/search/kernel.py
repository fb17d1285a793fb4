"""The subgame solver's numba kernels: Discounted CFR vectorised over hands, on W threads.

One iteration is two passes (alternating updates, as DCFR prescribes: Brown & Sandholm, "Solving
Imperfect-Information Games via Discounted Regret Minimization", AAAI 2019; alpha 1.5, beta 0,
gamma 2). A pass for traverser p:

1. regret matching at every decision node for every hand (independent per hand);
2. forwards in preorder, both players' reach per hand (independent per hand);
3. every terminal's counterfactual values for p's hands against the other's reach there, with exact
   card removal (``terminals``);
4. backwards, values, regrets and the discounted strategy sum (independent per hand).

Steps 1, 2 and 4 split the hands into W chunks and step 3 deals the terminals out in turn, dearest
first (leaves, showdowns, folds), each over ``prange``:
the threads share the tables and never write the same entry, so W threads give the same numbers as one.

Safety (a subgame whose root has a history): the non-searcher's root reach comes from a gadget, built
from ``alt``, its counterfactual best-response values against the blueprint in the same subgame.
* RESOLVE (the default): the re-solve gadget (Burch, Johanson & Bowling, "Solving Imperfect
  Information Games Using Decomposition", AAAI 2014; Brown & Sandholm, "Safe and Nested Subgame
  Solving", NeurIPS 2017): chance deals the opponent a hand by its Bayes range, and the hand chooses
  to follow into the subgame or take ``alt``; here the hand enters with its range times
  1 + ``gadget_weight`` x P(follow). The searcher then minimises the opponent's range-weighted value
  (what unsafe solving optimises, and why it plays well) plus ``weight`` x the range-weighted amount
  by which hands would gain over their alternatives: a penalty for the safety constraints.
* MAXMARGIN (Moravčík, Burch, Lisý et al., "Refining Subgames in Large Imperfect Information Games",
  AAAI 2016): the opponent picks which hand to enter with, by regret matching on the margins, so the
  searcher maximises the smallest margin. Safe, but it improves little beyond that one hand: on Leduc
  it leaves a weak blueprint more exploitable than RESOLVE does (docs/decisions.md).
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from holdem.games.tree import DECISION
from holdem.search.terminals import terminal_values
from holdem.solver.regret import Discount, discount, regret_match


class PassMode(IntEnum):
    """What a pass does at the traverser's nodes."""

    LEARN = 0  # update regrets and the strategy sum
    BEST_RESPONSE = 1  # take the best action
    EVALUATE = 2  # follow the given strategy


class GadgetKind(IntEnum):
    """How the non-searcher enters a subgame (module docstring)."""

    NONE = 0
    MAXMARGIN = 1
    RESOLVE = 2


LEARN, BEST_RESPONSE, EVALUATE = PassMode
NO_GADGET, MAXMARGIN, RESOLVE = GadgetKind


class Scratch(NamedTuple):
    """Work arrays of a pass, [nodes, hands] each; their contents never outlive a call."""

    reach_self: np.ndarray
    reach_opp: np.ndarray
    values: np.ndarray


def scratch(n_nodes: int, n_hands: int) -> Scratch:
    shape = (n_nodes, n_hands)
    return Scratch(np.zeros(shape), np.zeros(shape), np.zeros(shape))


class Gadget(NamedTuple):
    """The safe-solving gadget of the non-searcher (``player``, -1 for none): its ``kind``, ``alt`` its
    best-response values against the blueprint, ``margin`` [H, 2] its cumulative regrets (updated in place)."""

    player: int
    kind: GadgetKind
    alt: np.ndarray
    margin: np.ndarray
    weight: float  # re-solve: a hand enters with range x (1 + weight x P(follow))


@njit(cache=True)
def _bounds(c, n_chunks, n_hands):
    return c * n_hands // n_chunks, (c + 1) * n_hands // n_chunks


@njit(cache=True)
def _match_chunk(lo, hi, sub, regrets, sigma):
    kind, num_children, slot = sub.kind, sub.num_children, sub.slot
    for n in range(kind.shape[0]):
        if kind[n] != DECISION:
            continue
        na = num_children[n]
        for h in range(lo, hi):
            o = slot[n] + h * na
            regret_match(regrets, o, na, sigma, o)


@njit(cache=True)
def _forward_chunk(p, lo, hi, sub, sigma, reach_self, reach_opp):
    kind, player, slot = sub.kind, sub.player, sub.slot
    child_start, num_children, children = sub.child_start, sub.num_children, sub.children
    for n in range(kind.shape[0]):
        if kind[n] != DECISION:
            continue
        na = num_children[n]
        mine = player[n] == p
        for a in range(na):
            c = children[child_start[n] + a]
            for h in range(lo, hi):
                s = sigma[slot[n] + h * na + a]
                if mine:
                    reach_self[c, h] = reach_self[n, h] * s
                    reach_opp[c, h] = reach_opp[n, h]
                else:
                    reach_self[c, h] = reach_self[n, h]
                    reach_opp[c, h] = reach_opp[n, h] * s


@njit(cache=True)
def _backward_chunk(p, lo, hi, mode, sub, sigma, work, regrets, strat_sum, factors):
    kind, player, slot = sub.kind, sub.player, sub.slot
    child_start, num_children, children = sub.child_start, sub.num_children, sub.children
    values, reach_self = work.values, work.reach_self
    pos, neg, disc = factors
    for n in range(kind.shape[0] - 1, -1, -1):
        if kind[n] != DECISION:
            continue
        na = num_children[n]
        cs = child_start[n]
        mine = player[n] == p
        for h in range(lo, hi):
            o = slot[n] + h * na
            if not mine:  # the other's strategy is already in its reach: its actions' values add up
                v = 0.0
                for a in range(na):
                    v += values[children[cs + a], h]
            elif mode == BEST_RESPONSE:
                v = values[children[cs], h]
                for a in range(1, na):
                    v = max(v, values[children[cs + a], h])
            else:
                v = 0.0
                for a in range(na):
                    v += sigma[o + a] * values[children[cs + a], h]
            values[n, h] = v
            if mine and mode == LEARN:
                rs = reach_self[n, h]
                for a in range(na):
                    r = regrets[o + a] + values[children[cs + a], h] - v
                    regrets[o + a] = r * (pos if r > 0.0 else neg)
                    strat_sum[o + a] = (strat_sum[o + a] + rs * sigma[o + a]) * disc


@njit(cache=True)
def _forward_chunks(c_lo, c_hi, p, mode, sub, sigma, work, regrets, n_chunks):
    """Steps 1 and 2 for the hands of chunks c_lo .. c_hi - 1."""
    n_hands = sub.cards.shape[0]
    for c in range(c_lo, c_hi):
        lo, hi = _bounds(c, n_chunks, n_hands)
        if mode == LEARN:
            _match_chunk(lo, hi, sub, regrets, sigma)
        _forward_chunk(p, lo, hi, sub, sigma, work.reach_self, work.reach_opp)


@njit(cache=True, parallel=True)
def _pass_parallel(p, mode, sub, leaves, sigma, work, regrets, strat_sum, factors, n_chunks):
    n_hands = sub.cards.shape[0]
    for c in prange(n_chunks):
        _forward_chunks(c, c + 1, p, mode, sub, sigma, work, regrets, n_chunks)
    terminals = sub.terminals
    n_terms = terminals.shape[0]
    for c in prange(n_chunks):  # terminals c, c + W, ...: they come dearest first, so each thread gets its share
        for i in range(c, n_terms, n_chunks):
            terminal_values(p, terminals[i], sub, leaves, work.reach_opp, work.values)
    for c in prange(n_chunks):
        lo, hi = _bounds(c, n_chunks, n_hands)
        _backward_chunk(p, lo, hi, mode, sub, sigma, work, regrets, strat_sum, factors)


@njit(cache=True)
def _pass(p, mode, sub, leaves, sigma, work, regrets, strat_sum, factors, n_chunks):
    """Steps 1-4 of a pass (step 1 only when learning); the root rows of the reaches are set by the caller.
    One chunk runs without the thread pool: a parallel region costs more than a small street."""
    if n_chunks > 1:
        _pass_parallel(p, mode, sub, leaves, sigma, work, regrets, strat_sum, factors, n_chunks)
        return
    _forward_chunks(0, 1, p, mode, sub, sigma, work, regrets, 1)
    terminals = sub.terminals
    for i in range(terminals.shape[0]):
        terminal_values(p, terminals[i], sub, leaves, work.reach_opp, work.values)
    _backward_chunk(p, 0, sub.cards.shape[0], mode, sub, sigma, work, regrets, strat_sum, factors)


@njit(cache=True, inline="always")
def _follow(margin, h):
    """The re-solve gadget's probability that hand h follows into the subgame (regret matching)."""
    a = max(margin[h, 0], 0.0)
    b = max(margin[h, 1], 0.0)
    return a / (a + b) if a + b > 0.0 else 0.5


@njit(cache=True)
def _gadget_reach(gadget, range_o, q):
    """The gadget player's root reach: its range (none), the Maxmargin hand choice, or its range times
    1 + ``weight`` x the re-solve gadget's probability of following in with each hand."""
    n_hands = range_o.shape[0]
    margin = gadget.margin
    if gadget.kind == MAXMARGIN:
        regret_match(margin[:, 0], 0, n_hands, q, 0)
        return
    for h in range(n_hands):
        q[h] = range_o[h] * (1.0 + gadget.weight * _follow(margin, h)) if gadget.kind == RESOLVE else range_o[h]


@njit(cache=True)
def _gadget_update(gadget, values_root, q):
    """CFR+ on the gadget's choices: which hand to enter with (Maxmargin) or, per hand, whether to
    follow in (value: counterfactual value minus the alternative) or take the alternative (re-solve)."""
    n_hands = q.shape[0]
    alt, margin = gadget.alt, gadget.margin
    if gadget.kind == MAXMARGIN:
        mean = 0.0
        for h in range(n_hands):
            mean += q[h] * (values_root[h] - alt[h])
        for h in range(n_hands):
            margin[h, 0] = max(0.0, margin[h, 0] + values_root[h] - alt[h] - mean)
        return
    for h in range(n_hands):
        follow = _follow(margin, h)
        gain = values_root[h] - alt[h]
        margin[h, 0] = max(0.0, margin[h, 0] + gain - follow * gain)
        margin[h, 1] = max(0.0, margin[h, 1] - follow * gain)


@njit(cache=True)
def dcfr_iterations(sub, leaves, ranges, gadget, regrets, strat_sum, sigma, work, t0, n_iters, discounting, n_chunks):
    """Iterations t0+1 .. t0+n_iters in place, from both players' root ranges. The gadget player's root reach
    comes from the gadget; the searcher's own root reach counts as 1, so its average strategy is defined
    for every hand (a per-hand factor cancels within an infoset)."""
    n_hands = sub.cards.shape[0]
    q = np.empty(n_hands)
    gp = gadget.player
    range_g = ranges[0] if gp == 0 else ranges[1]
    reach_self, reach_opp = work.reach_self, work.reach_opp
    for it in range(n_iters):
        factors = discount(float(t0 + it + 1), discounting)
        for p in range(2):
            _gadget_reach(gadget, range_g, q)
            range_o = ranges[1 - p]
            for h in range(n_hands):
                reach_self[0, h] = q[h] if p == gp else 1.0
                reach_opp[0, h] = q[h] if (1 - p) == gp else range_o[h]
            _pass(p, LEARN, sub, leaves, sigma, work, regrets, strat_sum, factors, n_chunks)
            if p == gp and gadget.kind != NO_GADGET:
                _gadget_update(gadget, work.values[0], q)


@njit(cache=True)
def root_values(p, mode, sub, leaves, fixed, range_other, work, n_chunks):
    """Counterfactual values at the root for every hand of p when the other plays ``fixed`` from
    ``range_other``, p taking its best action (BEST_RESPONSE: the gadget's alternative values) or
    playing ``fixed`` too (EVALUATE: what a strategy is worth against a fixed opponent)."""
    n_hands = sub.cards.shape[0]
    for h in range(n_hands):
        work.reach_self[0, h] = 1.0
        work.reach_opp[0, h] = range_other[h]
    dummy = np.zeros(1)
    _pass(p, mode, sub, leaves, fixed, work, dummy, dummy, Discount(1.0, 1.0, 1.0), n_chunks)
    return work.values[0].copy()


@njit(cache=True)
def normalise(strat_sum, sub, out):
    """Average strategy per (node, hand): the strategy sum normalised, uniform where it is zero."""
    kind, num_children, slot = sub.kind, sub.num_children, sub.slot
    n_hands = sub.cards.shape[0]
    for n in range(kind.shape[0]):
        if kind[n] != DECISION:
            continue
        na = num_children[n]
        for h in range(n_hands):
            o = slot[n] + h * na
            total = 0.0
            for a in range(na):
                total += strat_sum[o + a]
            for a in range(na):
                out[o + a] = strat_sum[o + a] / total if total > 0.0 else 1.0 / na
