"""A subgame as flat arrays: the public tree from the search root to the depth limit, and the hands.

Nodes are in preorder (parents first), like ``games.tree``; a decision node's regrets for hand h occupy
``num_children[n]`` slots from ``slot[n] + h * num_children[n]``. Both players hold hands from the same
list (all private holdings compatible with the board), so hand h of one player and hand h of the other
are the same cards: card removal is done by the cards, never by a pair matrix.

Terminal kinds (``games.tree.NodeKind``), all valued as player 0's net chips at the end of the hand:
* FOLD: the folder loses what it has put in;
* SHOWDOWN: the stronger hand wins the other's contribution (ties split), from sorted strengths;
* LEAF: the depth limit; a table ``leaf_values[t, b0, b1]`` indexed by both hands' leaf buckets gives
  the blueprint's continuation value (held sparse, as ``LeafTables``). A leaf is always the child of
  a choice node of the non-searching player among k continuation strategies (Brown, Sandholm & Amos
  2018; Pluribus, 2019).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from holdem.games.tree import DECISION, FOLD, LEAF, SHOWDOWN, NodeKind


@dataclass(frozen=True, slots=True)
class Hands:
    """The private holdings both players may have: cards [H, 2] (the second -1 for one-card games)."""

    cards: np.ndarray  # int64 [H, 2]
    strength: np.ndarray  # int64 [H]: showdown strength on this board (higher wins)
    leaf_bucket: np.ndarray  # int64 [H]: row/column of the leaf value tables
    labels: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(self.cards.shape[0])

    @property
    def two_cards(self) -> bool:
        return bool((self.cards[:, 1] >= 0).any())

    def order(self) -> np.ndarray:
        """Hands by ascending strength (stable, so the sweep is the same on every machine)."""
        return np.argsort(self.strength, kind="stable").astype(np.int64)


class LeafTables(NamedTuple):
    """Leaf value tables V[t, b0, b1] = row[t, b0] + col[t, b1] + dev[t, k] at the pairs (b0, b1) =
    (b0[k], b1[k]), and row[t, b0] + col[t, b1] at every other pair.

    Hold'em's tables are estimated from a few thousand sampled deals, so they are known at only the
    bucket pairs a deal reached; elsewhere a row effect plus a column effect stands in, so that the
    value follows both hands' strength. Held this way a leaf costs O(pairs + B + H), not O(B^2). Pairs
    run by (b0, b1); ``row_start`` indexes them by b0, ``col_order``/``col_start`` by b1 (for player
    1, who reads the tables transposed). A named tuple, so the kernels take it as it is."""

    row: np.ndarray  # float64 [T, B]
    col: np.ndarray  # float64 [T, B]
    dev: np.ndarray  # float64 [T, P]
    b0: np.ndarray  # int64 [P], ascending (then b1 ascending)
    b1: np.ndarray  # int64 [P]
    row_start: np.ndarray  # int64 [B + 1]: pairs of row b are row_start[b] .. row_start[b + 1]
    col_order: np.ndarray  # int64 [P]: pair indices by b1
    col_start: np.ndarray  # int64 [B + 1]: col_order[col_start[b] .. col_start[b + 1]] are column b's

    @classmethod
    def sparse(cls, row: np.ndarray, col: np.ndarray, b0: np.ndarray, b1: np.ndarray, dev: np.ndarray) -> LeafTables:
        row = np.ascontiguousarray(row, dtype=np.float64)
        col = np.ascontiguousarray(col, dtype=np.float64)
        if row.ndim != 2 or col.shape != row.shape:
            raise ValueError("leaf row and column effects must both be [tables, buckets]")
        n_buckets = row.shape[1]
        b0 = np.asarray(b0, dtype=np.int64)
        b1 = np.asarray(b1, dtype=np.int64)
        order = np.lexsort((b1, b0))
        b0, b1 = b0[order], b1[order]
        dev = np.ascontiguousarray(np.asarray(dev, dtype=np.float64).reshape(row.shape[0], len(b0))[:, order])
        col_order = np.lexsort((b0, b1)).astype(np.int64)
        return cls(
            row,
            col,
            dev,
            np.ascontiguousarray(b0),
            np.ascontiguousarray(b1),
            _starts(b0, n_buckets),
            col_order,
            _starts(b1[col_order], n_buckets),
        )

    @classmethod
    def dense(cls, values: np.ndarray) -> LeafTables:
        """Every pair explicit (small games: a few cards a player)."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 3 or values.shape[1] != values.shape[2]:
            raise ValueError("leaf_values must be [tables, buckets, buckets]")
        t, nb, _ = values.shape
        b0, b1 = np.divmod(np.arange(nb * nb, dtype=np.int64), nb)
        return cls.sparse(np.zeros((t, nb)), np.zeros((t, nb)), b0, b1, values.reshape(t, nb * nb))

    @property
    def n_buckets(self) -> int:
        return int(self.row.shape[1])

    def values(self) -> np.ndarray:
        """The full [T, B, B] tables (tests and the reference solver)."""
        out = self.row[:, :, None] + self.col[:, None, :]
        out[:, self.b0, self.b1] += self.dev
        return out


def _starts(keys: np.ndarray, n: int) -> np.ndarray:
    """CSR offsets of sorted ``keys`` in [0, n)."""
    return np.searchsorted(keys, np.arange(n + 1), side="left").astype(np.int64)


class SubgameArrays(NamedTuple):
    """What the solver's kernels read of a subgame (``Subgame.arrays()``), as one argument. Flat: numba's
    parallel loops take a named tuple of arrays but no tuple within one, so the leaf tables go beside it."""

    kind: np.ndarray
    player: np.ndarray
    child_start: np.ndarray
    num_children: np.ndarray
    children: np.ndarray
    contrib: np.ndarray
    slot: np.ndarray
    leaf_table: np.ndarray
    cards: np.ndarray  # the hands'
    two_cards: bool
    strength: np.ndarray
    order: np.ndarray  # hands by ascending strength
    leaf_bucket: np.ndarray
    exact_leaves: bool
    terminals: np.ndarray  # int64: every terminal node, dearest first (the threads deal them out in turn)


# A terminal's cost rank, for dealing them out dearest first: a leaf O(P + B + H) or more, a showdown O(H)
# after a sort, a fold O(H).
_TERMINAL_COST = np.zeros(len(NodeKind), dtype=np.int64)
_TERMINAL_COST[[LEAF, SHOWDOWN, FOLD]] = (0, 1, 2)


@dataclass(frozen=True, slots=True)
class Subgame:
    kind: np.ndarray  # int8 [n]
    player: np.ndarray  # int8 [n]: who acts; the folder at FOLD; -1 otherwise
    child_start: np.ndarray  # int32 [n]
    num_children: np.ndarray  # int32 [n]
    children: np.ndarray  # int32 [m]
    contrib: np.ndarray  # float64 [n, 2]: chips each player has put in over the hand
    slot: np.ndarray  # int64 [n]: -1 unless a decision node
    leaf_table: np.ndarray  # int32 [n]: index of the leaf's table at LEAF nodes, else -1
    leaves: LeafTables  # player 0's continuation value by both hands' leaf buckets
    n_slots: int
    hands: Hands
    searcher: int
    origin: np.ndarray  # int64 [n]: the node of the game or blueprint tree it stands for, -1 if none
    labels: tuple[str, ...]  # readable action sequence from the root, per node
    exact_leaves: bool = True  # leaves with card removal; off: against the whole range by bucket

    @property
    def leaf_values(self) -> np.ndarray:
        """[tables, B, B] dense (tests and the reference solver)."""
        return self.leaves.values()

    @property
    def n_nodes(self) -> int:
        return int(self.kind.shape[0])

    def terminals(self) -> np.ndarray:
        return np.flatnonzero(self.kind != DECISION).astype(np.int64)

    def arrays(self) -> SubgameArrays:
        terminals = self.terminals()
        cost = _TERMINAL_COST[self.kind[terminals]]
        h = self.hands
        return SubgameArrays(
            self.kind,
            self.player,
            self.child_start,
            self.num_children,
            self.children,
            self.contrib,
            self.slot,
            self.leaf_table,
            h.cards,
            h.two_cards,
            h.strength,
            h.order(),
            h.leaf_bucket,
            self.exact_leaves,
            terminals[np.argsort(cost, kind="stable")],
        )

    def node_strategy(self, table: np.ndarray, node: int) -> np.ndarray:
        """[H, actions] view of a slot-layout table at one decision node."""
        na = int(self.num_children[node])
        o = int(self.slot[node])
        return table[o : o + self.hands.n * na].reshape(self.hands.n, na)


class SubgameBuilder:
    """Collects nodes in preorder (add a node, then its children's subtrees one after another)."""

    def __init__(self) -> None:
        self.kind: list[int] = []
        self.player: list[int] = []
        self.parent: list[int] = []
        self.contrib: list[tuple[float, float]] = []
        self.table: list[int] = []
        self.origin: list[int] = []
        self.labels: list[str] = []
        self.children: list[list[int]] = []

    def add(
        self,
        kind: int,
        player: int,
        parent: int,
        contrib: tuple[float, float],
        label: str,
        origin: int = -1,
        table: int = -1,
    ) -> int:
        me = len(self.kind)
        self.kind.append(kind)
        self.player.append(player)
        self.parent.append(parent)
        self.contrib.append((float(contrib[0]), float(contrib[1])))
        self.table.append(table)
        self.origin.append(origin)
        self.labels.append(label)
        self.children.append([])
        if parent >= 0:
            self.children[parent].append(me)
        return me

    def build(
        self, hands: Hands, leaf_values: np.ndarray | LeafTables, searcher: int, exact_leaves: bool = True
    ) -> Subgame:
        n = len(self.kind)
        num_children = np.array([len(c) for c in self.children], dtype=np.int32)
        child_start = np.zeros(n, dtype=np.int32)
        child_start[1:] = np.cumsum(num_children)[:-1]
        kind = np.array(self.kind, dtype=np.int8)
        slot = np.full(n, -1, dtype=np.int64)
        used = 0
        for i in range(n):
            if kind[i] == DECISION:
                if num_children[i] == 0:
                    raise ValueError(f"subgame node {self.labels[i]!r} is a decision with no actions")
                slot[i] = used
                used += int(num_children[i]) * hands.n
        leaves = leaf_values if isinstance(leaf_values, LeafTables) else LeafTables.dense(leaf_values)
        return Subgame(
            kind=kind,
            player=np.array(self.player, dtype=np.int8),
            child_start=child_start,
            num_children=num_children,
            children=np.array([c for cs in self.children for c in cs], dtype=np.int32),
            contrib=np.array(self.contrib, dtype=np.float64).reshape(n, 2),
            slot=slot,
            leaf_table=np.array(self.table, dtype=np.int32),
            leaves=leaves,
            n_slots=used,
            hands=hands,
            searcher=searcher,
            origin=np.array(self.origin, dtype=np.int64),
            labels=tuple(self.labels),
            exact_leaves=exact_leaves,
        )


K_CONTINUATIONS = 4  # the blueprint, then biased towards fold, call or raise
BIAS_FACTOR = 5.0


def bias_strategy(probs: np.ndarray, action_kinds: np.ndarray, bias: int, factor: float = BIAS_FACTOR) -> np.ndarray:
    """Pluribus's continuation strategies: bias 0 is the blueprint; 1, 2, 3 multiply the probability of
    fold, check/call, or every bet/raise by ``factor`` and renormalise. ``probs`` is [..., actions]."""
    if bias == 0:
        return probs
    scale = np.where(action_kinds == bias - 1, factor, 1.0)
    out = probs * scale
    total = out.sum(axis=-1, keepdims=True)
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), probs)
