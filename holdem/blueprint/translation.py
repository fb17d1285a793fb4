"""Action translation between the real game and an abstraction's betting tree, by pot fractions.

A raise is measured as a fraction of the pot, the way the abstraction states its sizes: raising to
``to`` means calling, then adding ``f * (pot after the call)``, so ``f = (to - opponent's street bet) /
(pot + call)``. An opponent's real raise of fraction x between two abstract sizes A < x < B is mapped
to A with the pseudo-harmonic probability

    f_A(x) = (B - x)(1 + A) / ((B - A)(1 + x)),

and to B otherwise (Ganzfried & Sandholm, "Action Translation in Extensive-Form Games with Large
Action Spaces: Axioms, Paradoxes, and the Pseudo-Harmonic Mapping", IJCAI 2013). It is 1 at A, 0 at
B, monotone, and scale invariant. Sizes outside the abstract range go to the nearest abstract size,
and an all-in goes to the abstract all-in when there is one. Every function here is pure.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from holdem.games.hunl.rules import State


def pot_fraction(state: State, to: int) -> float:
    """The pot fraction a raise to ``to`` by the player to act represents at ``state``."""
    me, opp = state.to_act, 1 - state.to_act
    call = min(state.street_bet[opp] - state.street_bet[me], state.stack(me))
    return (to - state.street_bet[opp]) / max(state.pot + call, 1)


def raise_to_for_fraction(state: State, fraction: float) -> int | None:
    """The legal raise-to amount closest to ``fraction`` of the pot at ``state``; None if no raise is legal."""
    legal = state.legal()
    if legal.min_raise_to is None or legal.max_raise_to is None:
        return None
    opp = 1 - state.to_act
    to = state.street_bet[opp] + round(fraction * (state.pot + legal.call_amount))
    return min(max(to, legal.min_raise_to), legal.max_raise_to)


def pseudo_harmonic(a: float, b: float, x: float) -> float:
    """Probability of mapping size x to the smaller neighbour a (a <= x <= b, sizes as pot fractions)."""
    if b <= a:
        return 1.0
    x = min(max(x, a), b)
    return (b - x) * (1.0 + a) / ((b - a) * (1.0 + x))


def translate_raise(fractions: Sequence[float], x: float, u: float) -> int:
    """Index into ascending ``fractions`` of the abstract raise a real raise of fraction x maps to.

    ``u`` is a uniform draw in [0, 1) from the caller's generator: the mapping is randomised between
    the two neighbours by the pseudo-harmonic probability.
    """
    if not fractions:
        raise ValueError("no abstract raise to map to")
    if x <= fractions[0]:
        return 0
    if x >= fractions[-1]:
        return len(fractions) - 1
    hi = bisect_left(fractions, x)
    if fractions[hi] == x:
        return hi
    lo = hi - 1
    return lo if u < pseudo_harmonic(fractions[lo], fractions[hi], x) else hi
