"""The action abstraction of heads-up no-limit hold'em and the betting tree it compiles to.

Per street, bets and raises are fractions of the pot (a raise of f means: call, then add f times the
pot after the call), plus all-in, with a cap on bets and raises per street. A size below the minimum
raise is snapped up to it, one above the stack becomes all-in, and sizes that land on the same amount
are kept once: the tree holds only legal actions. The tree is built by driving ``rules.State``, so it
inherits rules that are checked against pokerkit, and compiles to the same flat arrays as Leduc.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from holdem.cards import BOARD_CARDS, NUM_CARDS, NUM_COMBOS, NUM_PREFLOP_CLASSES, Street
from holdem.config import AbstractionError, pot_fractions
from holdem.games.hunl.rules import STREETS, Action, HunlRules, Kind, State
from holdem.games.tree import DECISION, FOLD, SHOWDOWN, BettingTree, NodeRecord, compile_tree

_DEFAULT_SIZES = ((0.5, 1.0, 2.0), (0.5, 1.0), (0.75,), (0.75,))
_DEFAULT_BUCKETS = (NUM_PREFLOP_CLASSES, 200, 200, 200)


@dataclass(frozen=True, slots=True)
class HunlAbstraction:
    rules: HunlRules = field(default_factory=HunlRules)
    bet_sizes: tuple[tuple[float, ...], ...] = _DEFAULT_SIZES  # pot fractions per street
    all_in: bool = True
    max_raises: tuple[int, ...] = (3, 2, 2, 2)  # bets and raises per street
    buckets: tuple[int, ...] = _DEFAULT_BUCKETS  # card buckets per street

    def raise_targets(self, state: State) -> list[int]:
        """The raise-to amounts the abstraction allows here: legal, distinct, ascending."""
        legal = state.legal()
        lo, hi = legal.min_raise_to, legal.max_raise_to
        if lo is None or hi is None or state.raises >= self.max_raises[state.street]:
            return []
        opp = 1 - state.to_act
        pot_after_call = state.pot + legal.call_amount
        targets = set()
        for f in self.bet_sizes[state.street]:
            to = state.street_bet[opp] + round(f * pot_after_call)
            targets.add(min(max(to, lo), hi))
        if self.all_in:
            targets.add(hi)
        return sorted(targets)

    def actions(self, state: State) -> list[Action]:
        legal = state.legal()
        out = [Action(Kind.FOLD)] if legal.can_fold else []
        out.append(Action(Kind.CHECK_CALL))
        out += [Action(Kind.RAISE, to) for to in self.raise_targets(state)]
        return out


def abstraction_from_config(section: Mapping[str, Any] | None) -> HunlAbstraction:
    """Validate the config's `hunl` mapping; every error names its key (e.g. 'hunl.bet_sizes.flop')."""
    data = dict(section or {})
    allowed = {"small_blind", "big_blind", "stack", "bet_sizes", "all_in", "max_raises", "buckets"}
    for key in data:
        if key not in allowed:
            raise AbstractionError(f"hunl.{key}", f"is unknown (allowed: {', '.join(sorted(allowed))})")

    def whole(key: str, value: Any, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise AbstractionError(key, f"expected a whole number in [{lo}, {hi}], got {value!r}")
        return value

    def per_street(key: str, default: tuple) -> dict[str, Any]:
        value = data.get(key, dict(zip(STREETS, default)))
        if not isinstance(value, Mapping) or set(value) - set(STREETS):
            raise AbstractionError(f"hunl.{key}", f"expected a mapping with keys {', '.join(STREETS)}")
        return {s: value.get(s, d) for s, d in zip(STREETS, default)}

    sb = whole("hunl.small_blind", data.get("small_blind", 50), 1, 10**9)
    bb = whole("hunl.big_blind", data.get("big_blind", 100), sb, 10**9)
    stack = whole("hunl.stack", data.get("stack", 100 * bb), bb + 1, 10**12)
    sizes = [
        pot_fractions(f"hunl.bet_sizes.{street}", value)
        for street, value in per_street("bet_sizes", _DEFAULT_SIZES).items()
    ]
    raises = tuple(whole(f"hunl.max_raises.{s}", v, 0, 16) for s, v in per_street("max_raises", (3, 2, 2, 2)).items())
    buckets = tuple(
        whole(f"hunl.buckets.{s}", v, 1, 1_000_000) for s, v in per_street("buckets", _DEFAULT_BUCKETS).items()
    )
    if buckets[0] > NUM_PREFLOP_CLASSES:
        raise AbstractionError(
            "hunl.buckets.preflop", f"expected a whole number in [1, {NUM_PREFLOP_CLASSES}], got {buckets[0]}"
        )
    all_in = data.get("all_in", True)
    if not isinstance(all_in, bool):
        raise AbstractionError("hunl.all_in", f"expected true or false, got {all_in!r}")
    return HunlAbstraction(HunlRules(sb, bb, stack), tuple(sizes), all_in, raises, buckets)


def build_betting_tree(abstraction: HunlAbstraction) -> BettingTree:
    """Expand every abstract action sequence, without recursion, into the preorder flat tree."""
    nodes: list[NodeRecord] = []
    # Stack of (state, parent index, action kind); children are pushed in reverse to keep preorder.
    stack: list[tuple[State, int, int]] = [(State.initial(abstraction.rules), -1, -1)]
    while stack:
        state, parent, kind = stack.pop()
        contrib = (float(state.committed[0]), float(state.committed[1]))
        history = state.history_text()
        if state.finished:
            node = NodeRecord(
                FOLD if state.folded >= 0 else SHOWDOWN, state.folded, state.street, parent, kind, contrib, history, []
            )
        else:
            node = NodeRecord(DECISION, state.to_act, state.street, parent, kind, contrib, history, [])
        nodes.append(node)
        me = len(nodes) - 1
        if parent >= 0:
            nodes[parent].children.append(me)
        if node.kind == DECISION:
            for action in reversed(abstraction.actions(state)):
                stack.append((state.apply(action), me, int(action.kind)))
    # Children were appended in the order they were popped, which is the menu's order.
    return compile_tree(nodes, abstraction.buckets, ("fold", "call", "raise"), bucket_major=True)


# What an instance holds beyond its tables, for `holdem tree`'s memory estimate. The canonical board
# counts are isomorphism.py's; the runtime is Python, NumPy and the compiled numba kernels, measured as
# the anonymous memory of a quickstart instance (tables 1.4 MiB) while training on this machine.
CANONICAL_BOARDS = (1, 1_755, 16_432, 134_459)
RUNTIME_BYTES = 95 * 2**20
PACKED_NODE_BYTES = 32  # es.pack_nodes: one int32 [8] row per node


def bucket_bytes(buckets: tuple[int, ...]) -> int:
    """The bucket set's arrays: uint16 per (canonical board, hole combo), plus the board lookups
    (int32 id and int8 renaming per raw board). Mapped read-only, so shared by every instance."""
    tables = sum(n * NUM_COMBOS * 2 for n in CANONICAL_BOARDS)
    lookups = sum(math.comb(NUM_CARDS, k) * 5 for k in BOARD_CARDS[Street.FLOP :])
    return tables + lookups


def tree_report(abstraction: HunlAbstraction, tree: BettingTree, instances: int = 1) -> dict[str, Any]:
    """Betting nodes, terminal nodes and infosets per street, and the memory N instances take:
    each its tables (regrets and strategy sums), its tree and the runtime; the buckets once."""
    streets = []
    for s, name in enumerate(STREETS):
        decision = (tree.kind == DECISION) & (tree.street == s)
        slots = int((tree.num_children[decision] * tree.num_buckets[s]).sum())
        streets.append(
            {
                "street": name,
                "betting_nodes": int(decision.sum()),
                "terminal_nodes": int(((tree.kind != DECISION) & (tree.street == s)).sum()),
                "infosets": int(decision.sum()) * int(tree.num_buckets[s]),
                "table_entries": slots,
            }
        )
    table_bytes = tree.n_slots * 8 * 2  # float64 regrets and strategy sums
    arrays = sum(
        v.nbytes for v in (getattr(tree, f.name) for f in dataclasses.fields(tree)) if isinstance(v, np.ndarray)
    )
    tree_bytes = arrays + tree.n_nodes * PACKED_NODE_BYTES + sum(map(sys.getsizeof, tree.history))
    private = table_bytes + tree_bytes + RUNTIME_BYTES
    shared = bucket_bytes(abstraction.buckets)
    return {
        "nodes": tree.n_nodes,
        "terminals": int((tree.kind != DECISION).sum()),
        "streets": streets,
        "infosets": sum(x["infosets"] for x in streets),
        "table_entries": tree.n_slots,
        "table_bytes_per_instance": table_bytes,
        "table_bytes_all_instances": table_bytes * instances,
        "tree_bytes_per_instance": tree_bytes,
        "runtime_bytes_per_instance": RUNTIME_BYTES,
        "private_bytes_per_instance": private,
        "bucket_bytes_shared": shared,
        "memory_bytes_all_instances": private * instances + shared,
    }
