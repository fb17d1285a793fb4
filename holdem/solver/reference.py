"""A plain-Python CFR for Kuhn and Leduc, written straight from the rules: the readable twin of the
numba kernels. It shares no code with them (no flat tree, no merged deals), so agreement between the
two checks the tree compiler, the deal table and the kernels at once. Slow by design; tests only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Rules:
    name: str
    ranks: int
    suits: int
    raise_sizes: tuple[float, ...]
    max_raises: int


KUHN = Rules("kuhn", ranks=3, suits=1, raise_sizes=(1.0,), max_raises=1)
LEDUC = Rules("leduc", ranks=3, suits=2, raise_sizes=(2.0, 4.0), max_raises=2)
_RANK = "JQK"


@dataclass(slots=True)
class _State:
    """A betting position: rounds so far as lists of letters 'f', 'c', 'r'."""

    rules: Rules
    cards: tuple[int, ...]  # private 0, private 1, board (Leduc)
    rounds: list[list[str]] = field(default_factory=lambda: [[]])
    bets: list[float] = field(default_factory=lambda: [1.0, 1.0])

    def to_act(self) -> int:
        return len(self.rounds[-1]) % 2

    def facing(self) -> bool:
        return self.bets[1 - self.to_act()] > self.bets[self.to_act()]

    def legal(self) -> list[str]:
        acts = (["f"] if self.facing() else []) + ["c"]
        if self.rounds[-1].count("r") < self.rules.max_raises:
            acts.append("r")
        return acts

    def play(self, a: str) -> _State:
        me = self.to_act()
        bets = list(self.bets)
        if a in "cr":
            bets[me] = bets[1 - me]
        if a == "r":
            bets[me] += self.rules.raise_sizes[len(self.rounds) - 1]
        rounds = [list(r) for r in self.rounds]
        rounds[-1].append(a)
        nxt = _State(self.rules, self.cards, rounds, bets)
        last = rounds[-1]
        closed = a == "c" and (len(last) >= 2 and (last[-2] == "r" or last == ["c", "c"]))
        if closed and len(rounds) < len(self.rules.raise_sizes):
            nxt.rounds.append([])
        return nxt

    def terminal(self) -> bool:
        last = self.rounds[-1]
        if last and last[-1] == "f":
            return True
        return (
            len(self.rounds) == len(self.rules.raise_sizes)
            and len(last) >= 2
            and last[-1] == "c"
            and (last[-2] == "r" or last == ["c", "c"])
        )

    def payoff0(self) -> float:
        last = self.rounds[-1]
        if last[-1] == "f":
            folder = (len(last) - 1) % 2
            return -self.bets[0] if folder == 0 else self.bets[1]
        r0, r1 = (c // self.rules.suits for c in self.cards[:2])
        if len(self.cards) > 2:
            b = self.cards[2] // self.rules.suits
            if r0 == b:
                return self.bets[1]
            if r1 == b:
                return -self.bets[0]
        return self.bets[1] if r0 > r1 else -self.bets[0] if r1 > r0 else 0.0

    def key(self) -> str:
        me = self.to_act()
        view = _RANK[self.cards[me] // self.rules.suits]
        if len(self.rounds) > 1:
            view += "|" + _RANK[self.cards[2] // self.rules.suits]
        letters = {"kuhn": {"f": "p", "c": "p", "r": "b"}}.get(self.rules.name)
        hist = []
        for rnd in self.rounds:
            s, facing = "", False
            for a in rnd:
                if letters:  # Kuhn writes p (check/fold) and b (bet/call)
                    s += "b" if (a == "c" and facing) else letters[a]
                else:
                    s += a
                facing = a == "r"
            hist.append(s)
        return f"{view}:{'/'.join(hist)}"


def _deals(rules: Rules) -> list[tuple[int, ...]]:
    n = 3 if rules.name == "leduc" else 2
    return list(itertools.permutations(range(rules.ranks * rules.suits), n))


class ReferenceCFR:
    """Vanilla CFR with simultaneous updates; `linear` makes it Linear CFR (regrets and average weighted by t)."""

    def __init__(self, rules: Rules, linear: bool = False) -> None:
        self.rules = rules
        self.linear = linear
        self.regrets: dict[str, list[float]] = {}
        self.strategy_sum: dict[str, list[float]] = {}
        self.t = 0

    def _strategy(self, key: str, n: int) -> list[float]:
        r = self.regrets.setdefault(key, [0.0] * n)
        pos = [max(x, 0.0) for x in r]
        total = sum(pos)
        return [x / total for x in pos] if total > 0 else [1.0 / n] * n

    def iteration(self) -> None:
        self.t += 1
        delta: dict[str, list[float]] = {}
        deals = _deals(self.rules)
        for cards in deals:
            self._walk(_State(self.rules, cards), [1.0, 1.0], 1.0 / len(deals), delta)
        for key, d in delta.items():
            self.regrets[key] = [a + b for a, b in zip(self.regrets[key], d)]

    def _walk(self, s: _State, reach: list[float], chance: float, delta: dict) -> float:
        if s.terminal():
            return s.payoff0()
        me, acts, key = s.to_act(), s.legal(), s.key()
        sigma = self._strategy(key, len(acts))
        values = []
        for a, p in zip(acts, sigma):
            r = list(reach)
            r[me] *= p
            values.append(self._walk(s.play(a), r, chance, delta))
        v = sum(p * x for p, x in zip(sigma, values))
        sign = 1.0 if me == 0 else -1.0
        d = delta.setdefault(key, [0.0] * len(acts))
        cf = reach[1 - me] * chance * (self.t if self.linear else 1.0)
        for i, x in enumerate(values):
            d[i] += cf * sign * (x - v)
        w = float(self.t) if self.linear else 1.0
        ssum = self.strategy_sum.setdefault(key, [0.0] * len(acts))
        for i, p in enumerate(sigma):
            ssum[i] += w * reach[me] * chance * p
        return v

    def average_strategy(self) -> dict[str, list[float]]:
        out = {}
        for key, s in self.strategy_sum.items():
            total = sum(s)
            out[key] = [x / total for x in s] if total > 0 else [1.0 / len(s)] * len(s)
        return out
