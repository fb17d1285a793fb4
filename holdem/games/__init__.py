"""Games as flat arrays (see tree.py). ``load_game(name)`` is the one way in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holdem.games.tree import Game

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from holdem.games.hunl.game import HunlGame

GAMES = ("kuhn", "leduc")


def is_hunl(game: Game | HunlGame) -> TypeIs[HunlGame]:
    """Whether a loaded game is hold'em. By its name, so asking imports none of hold'em's modules."""
    return game.name == "hunl"


def load_game(name: str) -> Game:
    if name == "kuhn":
        from holdem.games.kuhn import kuhn

        return kuhn()
    if name == "leduc":
        from holdem.games.leduc import leduc

        return leduc()
    raise ValueError(f"unknown game {name!r} (available: {', '.join(GAMES)})")
