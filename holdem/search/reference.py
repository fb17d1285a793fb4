"""The readable twin of the subgame kernels: the same Discounted CFR and Maxmargin gadget, written with
a recursion over the tree and an explicit sum over every pair of compatible hands at each terminal.

It shares no terminal code with ``kernel`` (no sorting, no per-card sums), so agreement between the two
checks the sweep and the card removal. Slow by design: tests only, on small subgames.
"""

from __future__ import annotations

import numpy as np

from holdem.games.tree import DECISION, FOLD, LEAF, SHOWDOWN
from holdem.search.subgame import Subgame


def _compatible(sub: Subgame, a: int, b: int) -> bool:
    ca = {int(c) for c in sub.hands.cards[a] if c >= 0}
    cb = {int(c) for c in sub.hands.cards[b] if c >= 0}
    return not (ca & cb)


def payoff0(sub: Subgame, n: int, h0: int, h1: int) -> float:
    """Player 0's chips at terminal n when player 0 holds h0 and player 1 holds h1."""
    c0, c1 = sub.contrib[n]
    kind = int(sub.kind[n])
    if kind == FOLD:
        return -c0 if int(sub.player[n]) == 0 else c1
    if kind == SHOWDOWN:
        s0, s1 = sub.hands.strength[h0], sub.hands.strength[h1]
        return c1 if s0 > s1 else -c0 if s1 > s0 else 0.5 * (c1 - c0)
    b0, b1 = sub.hands.leaf_bucket[h0], sub.hands.leaf_bucket[h1]
    t = int(sub.leaf_table[n])
    return float(sub.leaves.row[t, b0] + sub.leaves.col[t, b1] + _deviation(sub, t, int(b0), int(b1)))


def _deviation(sub: Subgame, t: int, b0: int, b1: int) -> float:
    """The sparse table's departure from its row and column effects at (b0, b1): 0 where no pair is stored."""
    lv = sub.leaves
    for k in range(int(lv.row_start[b0]), int(lv.row_start[b0 + 1])):
        if int(lv.b1[k]) == b1:
            return float(lv.dev[t, k])
    return 0.0


def _children(sub: Subgame, n: int) -> list[int]:
    cs = int(sub.child_start[n])
    return [int(c) for c in sub.children[cs : cs + int(sub.num_children[n])]]


class ReferenceSolver:
    """``gadget`` is "none", "maxmargin" or "resolve", as in ``solve.SolveOptions``."""

    def __init__(
        self,
        sub: Subgame,
        ranges: tuple[np.ndarray, np.ndarray],
        alt: np.ndarray | None,
        gadget: str = "resolve",
        weight: float = 1.0,
        uniform_share: float = 0.05,
    ) -> None:
        self.sub = sub
        self.ranges = [list(map(float, ranges[0])), list(map(float, ranges[1]))]
        self.alt = None if alt is None else list(map(float, alt))
        self.mode = "none" if alt is None else gadget
        self.gadget = -1 if self.mode == "none" else 1 - sub.searcher
        if self.gadget >= 0:
            r = self.ranges[self.gadget]
            total = sum(r)
            r = [x / total for x in r] if total > 0 else [1.0 / len(r)] * len(r)
            self.ranges[self.gadget] = [(1.0 - uniform_share) * x + uniform_share / len(r) for x in r]
        self.weight = weight
        self.regrets = np.zeros(sub.n_slots)
        self.strat_sum = np.zeros(sub.n_slots)
        self.margin = [[0.0, 0.0] for _ in range(sub.hands.n)]  # per hand: follow / take the alternative
        self.t = 0

    def _sigma(self, n: int, h: int) -> list[float]:
        na = int(self.sub.num_children[n])
        o = int(self.sub.slot[n]) + h * na
        pos = [max(0.0, float(x)) for x in self.regrets[o : o + na]]
        total = sum(pos)
        return [x / total for x in pos] if total > 0 else [1.0 / na] * na

    def _gadget_reach(self) -> list[float]:
        """Maxmargin: which hand to enter with; re-solve: range x (1 + weight x P(follow in)) per hand."""
        if self.mode == "maxmargin":
            pos = [max(0.0, m[0]) for m in self.margin]
            total = sum(pos)
            return [x / total for x in pos] if total > 0 else [1.0 / len(pos)] * len(pos)
        out = []
        for h, (f, a) in enumerate(self.margin):
            f, a = max(0.0, f), max(0.0, a)
            follow = f / (f + a) if f + a > 0 else 0.5
            out.append(self.ranges[self.gadget][h] * (1.0 + self.weight * follow))
        return out

    def _gadget_update(self, root: list[float], q: list[float]) -> None:
        assert self.alt is not None
        gains = [v - a for v, a in zip(root, self.alt)]
        if self.mode == "maxmargin":
            mean = sum(qi * g for qi, g in zip(q, gains))
            self.margin = [[max(0.0, m[0] + g - mean), 0.0] for m, g in zip(self.margin, gains)]
            return
        for h, g in enumerate(gains):
            f, a = (max(0.0, x) for x in self.margin[h])
            follow = f / (f + a) if f + a > 0 else 0.5
            expected = follow * g
            self.margin[h] = [max(0.0, self.margin[h][0] + g - expected), max(0.0, self.margin[h][1] - expected)]

    def _values(
        self,
        n: int,
        p: int,
        reach_self: list[float],
        reach_opp: list[float],
        learn: bool,
        weights: tuple[float, float, float],
    ) -> list[float]:
        """Counterfactual values of p's hands at n; updates p's regrets and strategy sums on the way up."""
        sub, hands = self.sub, range(self.sub.hands.n)
        if int(sub.kind[n]) != DECISION:
            out = []
            for h in hands:
                v = 0.0
                by_bucket = int(sub.kind[n]) == LEAF and not sub.exact_leaves
                for g in hands:
                    if by_bucket or _compatible(sub, h, g):
                        u0 = payoff0(sub, n, h, g) if p == 0 else payoff0(sub, n, g, h)
                        v += reach_opp[g] * (u0 if p == 0 else -u0)
                out.append(v)
            return out
        kids = _children(sub, n)
        sig = [self._sigma(n, h) for h in hands]
        child_values = []
        for a, c in enumerate(kids):
            if int(sub.player[n]) == p:
                rs = [reach_self[h] * sig[h][a] for h in hands]
                child_values.append(self._values(c, p, rs, reach_opp, learn, weights))
            else:
                ro = [reach_opp[h] * sig[h][a] for h in hands]
                child_values.append(self._values(c, p, reach_self, ro, learn, weights))
        mine = int(sub.player[n]) == p
        if mine and not learn:  # best response
            return [max(child_values[a][h] for a in range(len(kids))) for h in hands]
        if not mine:  # the other player's strategy is already in reach_opp
            return [sum(child_values[a][h] for a in range(len(kids))) for h in hands]
        values = [sum(sig[h][a] * child_values[a][h] for a in range(len(kids))) for h in hands]
        if mine:
            pos, neg, disc = weights
            na = len(kids)
            for h in hands:
                o = int(sub.slot[n]) + h * na
                for a in range(na):
                    r = self.regrets[o + a] + child_values[a][h] - values[h]
                    self.regrets[o + a] = r * (pos if r > 0 else neg)
                    self.strat_sum[o + a] = (self.strat_sum[o + a] + reach_self[h] * sig[h][a]) * disc
        return values

    def iteration(self, alpha: float = 1.5, beta: float = 0.0, gamma: float = 2.0) -> None:
        self.t += 1
        t = float(self.t)
        weights = (t**alpha / (t**alpha + 1), t**beta / (t**beta + 1), (t / (t + 1)) ** gamma)
        for p in (0, 1):
            q = self._gadget_reach() if self.gadget >= 0 else []
            own = q if p == self.gadget else [1.0] * self.sub.hands.n
            other = q if 1 - p == self.gadget else self.ranges[1 - p]
            root = self._values(0, p, list(own), list(other), True, weights)
            if p == self.gadget:
                self._gadget_update(root, q)

    def best_response(self, fixed: np.ndarray, range_other: np.ndarray) -> list[float]:
        """The non-searcher's best-response root values against ``fixed``."""
        saved = self.regrets
        o = 1 - self.sub.searcher
        # regret matching on the fixed strategy's probabilities reproduces it exactly
        self.regrets = np.asarray(fixed, dtype=np.float64)
        try:
            return self._values(0, o, [1.0] * self.sub.hands.n, list(map(float, range_other)), False, (1.0, 1.0, 1.0))
        finally:
            self.regrets = saved

    def average(self) -> np.ndarray:
        out = np.empty(self.sub.n_slots)
        for n in range(self.sub.n_nodes):
            if int(self.sub.kind[n]) != DECISION:
                continue
            na = int(self.sub.num_children[n])
            for h in range(self.sub.hands.n):
                o = int(self.sub.slot[n]) + h * na
                s = self.strat_sum[o : o + na]
                out[o : o + na] = s / s.sum() if s.sum() > 0 else 1.0 / na
        return out
