"""Kuhn poker (OpenSpiel's ``kuhn_poker``): cards J, Q, K; ante 1; one bet of 1; player 0 acts first.

Infoset keys read ``<card>:<history>`` with ``p`` (pass: check or fold) and ``b`` (bet or call),
e.g. ``Q:pb``. The game value for player 0 is -1/18.
"""

from __future__ import annotations

import itertools

import numpy as np

from holdem.games.limit import LimitRules, build_limit_tree
from holdem.games.tree import ActionKind, Game, merge_identical_deals

RANKS = ("J", "Q", "K")


def _letter(action: int, facing_bet: bool) -> str:
    if action == ActionKind.FOLD:
        return "p"
    if action == ActionKind.CALL:
        return "b" if facing_bet else "p"
    return "b"


def kuhn() -> Game:
    rules = LimitRules(ante=1.0, raise_sizes=(1.0,), max_raises=1, letter=_letter)
    tree = build_limit_tree(rules, num_buckets=(3,))
    deals = list(itertools.permutations(range(3), 2))
    buckets = np.array([[[a], [b]] for a, b in deals], dtype=np.int32)
    winner = np.array([1 if a > b else -1 for a, b in deals], dtype=np.int8)
    prob = np.full(len(deals), 1.0 / len(deals))
    return Game("kuhn", tree, merge_identical_deals(buckets, winner, prob, (RANKS,)))
