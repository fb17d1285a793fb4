"""The flat game description every solver kernel reads.

A game is two tables:

* a **betting tree** (the public action sequence), its nodes numbered in depth-first preorder so that a
  node's subtree is the contiguous range ``[n, n + subtree_size[n])`` and every parent precedes its
  children. Kernels sweep it forwards (parents first) or backwards (children first) without recursion.
* a **deal table**: the chance outcomes that matter, each as the card bucket of both players on every
  street and the showdown result. For Kuhn and Leduc every deal is enumerated (strategically identical
  deals are merged and their probabilities added); for hold'em deals are sampled and bucketed by lookup.

An information set is a pair (decision node, bucket of the acting player on that node's street).
Regret and strategy tables are flat: infoset (n, b) owns ``num_children[n]`` slots from
``slot[n] + b * bucket_stride[n]``. Small games lay them out node-major (stride = the node's action
count: a node's infosets are contiguous); hold'em lays them out bucket-major within each street
(stride = the street's total action count), so that one traversal, whose bucket is fixed per street,
reads neighbouring nodes from neighbouring memory instead of one cache line apart per node.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

import numpy as np


class NodeKind(IntEnum):
    """What a node is. The kernels compare ``kind[n]`` with these members: numba reads an IntEnum member
    as a compile-time constant, so a named kind costs what a bare integer did."""

    DECISION = 0
    FOLD = 1  # ``player[n]`` folded
    SHOWDOWN = 2
    LEAF = 3  # a search subgame's depth limit (``holdem.search.subgame``); betting trees have none


DECISION, FOLD, SHOWDOWN, LEAF = NodeKind.DECISION, NodeKind.FOLD, NodeKind.SHOWDOWN, NodeKind.LEAF


class ActionKind(IntEnum):
    """The kind of the action leading to a node (``action[n]``, an index into ``action_labels``); the
    children of a decision come in this order, raises ascending in size."""

    FOLD = 0
    CALL = 1  # a check when there is nothing to call
    RAISE = 2  # a bet or a raise


class TreeArrays(NamedTuple):
    """A betting tree's arrays as the kernels take them (``BettingTree.arrays()``): one argument instead of
    a dozen, which numba reads at no cost. Fields as in ``BettingTree``."""

    kind: np.ndarray
    player: np.ndarray
    street: np.ndarray
    parent: np.ndarray
    action: np.ndarray
    child_start: np.ndarray
    num_children: np.ndarray
    children: np.ndarray
    subtree_size: np.ndarray
    contrib: np.ndarray
    slot: np.ndarray
    bucket_stride: np.ndarray
    num_buckets: np.ndarray


@dataclass(frozen=True, slots=True)
class BettingTree:
    """Public betting tree in preorder; see the module docstring for the layout."""

    kind: np.ndarray  # int8 [n]: DECISION, FOLD or SHOWDOWN
    player: np.ndarray  # int8 [n]: who acts (decision), who folded (fold), -1 at showdown
    street: np.ndarray  # int8 [n]
    parent: np.ndarray  # int32 [n], -1 at the root
    action: np.ndarray  # int8 [n]: the ActionKind of the action leading here, -1 at the root
    child_start: np.ndarray  # int32 [n]: offset into children
    num_children: np.ndarray  # int32 [n]
    children: np.ndarray  # int32 [m]
    subtree_size: np.ndarray  # int32 [n]
    contrib: np.ndarray  # float64 [n, 2]: chips each player has put in at this node
    slot: np.ndarray  # int64 [n]: table slot of the node's bucket-0 infoset, -1 if not a decision
    bucket_stride: np.ndarray  # int64 [n]: slots between the node's infosets of consecutive buckets
    num_buckets: np.ndarray  # int32 [streets]
    n_slots: int
    action_labels: tuple[str, ...]
    history: tuple[str, ...]  # readable betting history per node, streets separated by "/"

    @property
    def n_nodes(self) -> int:
        return int(self.kind.shape[0])

    def arrays(self) -> TreeArrays:
        return TreeArrays(*(getattr(self, name) for name in TreeArrays._fields))

    @property
    def max_actions(self) -> int:
        return int(self.num_children.max())

    def decision_nodes(self) -> np.ndarray:
        return np.flatnonzero(self.kind == DECISION)

    def offset(self, node: int, bucket: int) -> int:
        """First slot of infoset (node, bucket)."""
        return int(self.slot[node]) + bucket * int(self.bucket_stride[node])

    def node_slots(self, node: int) -> np.ndarray:
        """Every slot of a decision node, as [bucket, action] indices into the tables."""
        nb = int(self.num_buckets[self.street[node]])
        na = int(self.num_children[node])
        return self.slot[node] + np.arange(nb)[:, None] * self.bucket_stride[node] + np.arange(na)[None, :]

    def n_infosets(self) -> int:
        nodes = self.decision_nodes()
        return int(self.num_buckets[self.street[nodes]].sum())


@dataclass(slots=True)
class NodeRecord:
    """One node while a builder expands a betting tree; compile_tree turns a preorder list into arrays."""

    kind: int
    player: int
    street: int
    parent: int
    action: int
    contrib: tuple[float, float]
    history: str
    children: list[int]


def compile_tree(
    nodes: list[NodeRecord], num_buckets: tuple[int, ...], action_labels: tuple[str, ...], bucket_major: bool = False
) -> BettingTree:
    """Flat arrays of a preorder list of node records (a node's children listed in action order)."""
    n = len(nodes)
    nb = np.asarray(num_buckets, dtype=np.int32)
    kind = np.array([x.kind for x in nodes], dtype=np.int8)
    num_children = np.array([len(x.children) for x in nodes], dtype=np.int32)
    child_start = np.zeros(n, dtype=np.int32)
    child_start[1:] = np.cumsum(num_children)[:-1]
    children = np.array([c for x in nodes for c in x.children], dtype=np.int32)
    subtree = np.ones(n, dtype=np.int32)
    for i in range(n - 1, 0, -1):  # children come after parents in preorder
        subtree[nodes[i].parent] += subtree[i]
    slot = np.full(n, -1, dtype=np.int64)
    stride = np.zeros(n, dtype=np.int64)
    next_slot = 0
    if bucket_major:
        width = [0] * len(nb)  # actions of all decision nodes of a street
        local = [0] * n
        for i, x in enumerate(nodes):
            if x.kind == DECISION:
                local[i] = width[x.street]
                width[x.street] += len(x.children)
        base = np.concatenate([[0], np.cumsum(np.array(width, dtype=np.int64) * nb)])
        for i, x in enumerate(nodes):
            if x.kind == DECISION:
                slot[i] = base[x.street] + local[i]
                stride[i] = width[x.street]
        next_slot = int(base[-1])
    else:
        for i, x in enumerate(nodes):
            if x.kind == DECISION:
                slot[i] = next_slot
                stride[i] = len(x.children)
                next_slot += int(nb[x.street]) * len(x.children)
    return BettingTree(
        kind=kind,
        player=np.array([x.player for x in nodes], dtype=np.int8),
        street=np.array([x.street for x in nodes], dtype=np.int8),
        parent=np.array([x.parent for x in nodes], dtype=np.int32),
        action=np.array([x.action for x in nodes], dtype=np.int8),
        child_start=child_start,
        num_children=num_children,
        children=children,
        subtree_size=subtree,
        contrib=np.array([x.contrib for x in nodes], dtype=np.float64),
        slot=slot,
        bucket_stride=stride,
        num_buckets=nb,
        n_slots=next_slot,
        action_labels=action_labels,
        history=tuple(x.history for x in nodes),
    )


class DealArrays(NamedTuple):
    """An enumerated deal table as the kernels take it (``DealTable.arrays()``)."""

    buckets: np.ndarray
    winner: np.ndarray
    prob: np.ndarray
    cdf: np.ndarray  # DealTable.cdf(), for sampling a deal


@dataclass(frozen=True, slots=True)
class DealTable:
    """Chance outcomes: buckets [deal, player, street], winner (+1 player 0, -1 player 1, 0 tie), probability."""

    buckets: np.ndarray  # int32 [d, 2, streets]
    winner: np.ndarray  # int8 [d]
    prob: np.ndarray  # float64 [d], sums to 1
    bucket_labels: tuple[tuple[str, ...], ...]  # per street, a readable name per bucket

    @property
    def n_deals(self) -> int:
        return int(self.prob.shape[0])

    def arrays(self) -> DealArrays:
        return DealArrays(self.buckets, self.winner, self.prob, self.cdf())

    def cdf(self) -> np.ndarray:
        """Cumulative probabilities for sampling, with the last entry forced to exactly 1."""
        c = np.cumsum(self.prob)
        c[-1] = 1.0
        return c


@dataclass(frozen=True, slots=True)
class Game:
    name: str
    tree: BettingTree
    deals: DealTable

    def infoset_key(self, node: int, bucket: int) -> str:
        """Readable key: the acting player's private view and the betting history, e.g. ``K|Q:rc/r``."""
        street = int(self.tree.street[node])
        return f"{self.deals.bucket_labels[street][bucket]}:{self.tree.history[node]}"

    def infosets(self) -> list[tuple[int, int]]:
        """Every (node, bucket) pair in table order."""
        return [
            (int(n), b)
            for n in self.tree.decision_nodes()
            for b in range(int(self.tree.num_buckets[self.tree.street[n]]))
        ]

    def infoset_slots(self) -> np.ndarray:
        """First slot of every infoset, in the order of infosets()."""
        out = [self.tree.offset(n, b) for n, b in self.infosets()]
        return np.asarray(out, dtype=np.int64)

    def digest(self) -> str:
        """sha256 over every array and label: a checkpoint names the game it belongs to."""
        h = hashlib.sha256(self.name.encode())
        for part in (self.tree, self.deals):
            for field in part.__slots__:
                value = getattr(part, field)
                if isinstance(value, np.ndarray):
                    h.update(field.encode())
                    h.update(str(value.dtype).encode() + str(value.shape).encode())
                    h.update(np.ascontiguousarray(value).tobytes())
                else:
                    h.update(json.dumps([field, value], sort_keys=True).encode())
        return h.hexdigest()


def merge_identical_deals(
    buckets: np.ndarray, winner: np.ndarray, prob: np.ndarray, labels: tuple[tuple[str, ...], ...]
) -> DealTable:
    """Sum the probabilities of deals no player or payoff can tell apart (same buckets, same winner).

    Lossless: every kernel reads a deal only through its buckets and its winner. Order is by first
    appearance, so the table is the same on every machine.
    """
    index: dict[bytes, int] = {}
    keep: list[int] = []
    merged_prob: list[float] = []
    for d in range(prob.shape[0]):
        key = buckets[d].tobytes() + winner[d : d + 1].tobytes()
        if key in index:
            merged_prob[index[key]] += float(prob[d])
        else:
            index[key] = len(keep)
            keep.append(d)
            merged_prob.append(float(prob[d]))
    p = np.asarray(merged_prob, dtype=np.float64)
    return DealTable(
        buckets=np.ascontiguousarray(buckets[keep], dtype=np.int32),
        winner=np.ascontiguousarray(winner[keep], dtype=np.int8),
        prob=p / p.sum(),
        bucket_labels=labels,
    )
