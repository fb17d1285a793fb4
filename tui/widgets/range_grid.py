"""The 13x13 grid of a blueprint's range at one spot, from the daemon's `strategy` reply (a
`holdem strategy --range --json` document): pairs on the diagonal, suited above, offsuit below.

Each cell's background mixes the action colours by the cell's probabilities, as `holdem strategy
--range` does in a terminal (fold blue, check/call green, raises orange to dark red, the largest the
darkest); the colours are repeated here because the TUI imports nothing of holdem. Arrow keys move a
cursor; the highlighted cell is posted as `RangeGrid.Highlighted` for the detail line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

FOLD_RGB = (66, 120, 200)
CALL_RGB = (76, 175, 80)
RAISE_RGBS = ((255, 183, 77), (244, 120, 54), (214, 48, 49), (150, 20, 40), (90, 10, 30))
SIDE = 13
MIN_CELL, MAX_CELL = 5, 8  # columns per cell: "[AKs]" at the least


def action_colours(actions: list[dict[str, Any]]) -> list[tuple[int, int, int]]:
    """One RGB per action, in menu order: raises spread over the palette, the largest the darkest."""
    raises = [i for i, a in enumerate(actions) if str(a.get("action", "")).startswith("r")]
    out = []
    for i, a in enumerate(actions):
        letter = str(a.get("action", ""))
        if letter == "f":
            out.append(FOLD_RGB)
        elif letter == "c":
            out.append(CALL_RGB)
        else:
            k = raises.index(i) if i in raises else 0
            pos = 0 if len(raises) <= 1 else round(k * (len(RAISE_RGBS) - 1) / (len(raises) - 1))
            out.append(RAISE_RGBS[pos])
    return out


def mix(colours: list[tuple[int, int, int]], probs: list[float]) -> tuple[int, int, int]:
    total = sum(probs) or 1.0

    def channel(k: int) -> int:
        return round(sum(c[k] * p for c, p in zip(colours, probs)) / total)

    return channel(0), channel(1), channel(2)


def hex_of(rgb: tuple[int, int, int]) -> str:
    red, green, blue = rgb
    return f"#{red:02x}{green:02x}{blue:02x}"


def ink(rgb: tuple[int, int, int]) -> str:
    return "black" if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140 else "white"


def grid_cells(doc: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """The document's 13 rows of 13 cells, or [] when it has no well-formed grid."""
    grid = doc.get("grid") if isinstance(doc, dict) else None
    if not isinstance(grid, list) or len(grid) != SIDE or any(not isinstance(r, list) or len(r) != SIDE for r in grid):
        return []
    return grid


def cell_detail(doc: dict[str, Any], cell: dict[str, Any]) -> Text:
    """`AKs (4 combos)  ■ fold 0.0%  ■ call 50 4.2%  ■ raise to 300 (1 pot) 50.1% …`"""
    actions = doc.get("actions") or []
    out = Text.assemble((str(cell.get("hand", "?")), "bold"), (f" ({cell.get('combos', 0)} combos) ", "dim"))
    for a, rgb, p in zip(actions, action_colours(actions), cell.get("probabilities") or ()):
        out.append(" ■ ", style=Style(color=hex_of(rgb)))
        out.append(f"{a.get('label', a.get('action'))} ")
        out.append(f"{float(p):.1%}", style="bold")
    return out


class RangeGrid(Widget, can_focus=True):
    BINDINGS = [
        Binding("up", "move(-1, 0)", show=False),
        Binding("down", "move(1, 0)", show=False),
        Binding("left", "move(0, -1)", show=False),
        Binding("right", "move(0, 1)", show=False),
    ]

    cursor: reactive[tuple[int, int]] = reactive((0, 0))

    @dataclass
    class Highlighted(Message):
        row: int
        col: int

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.doc: dict[str, Any] | None = None

    def show(self, doc: dict[str, Any] | None) -> None:
        self.doc = doc
        self.refresh()
        self.post_message(self.Highlighted(*self.cursor))

    @property
    def cells(self) -> list[list[dict[str, Any]]]:
        return grid_cells(self.doc)

    def highlighted(self) -> dict[str, Any] | None:
        cells = self.cells
        return cells[self.cursor[0]][self.cursor[1]] if cells else None

    def action_move(self, drow: int, dcol: int) -> None:
        r, c = self.cursor
        self.cursor = (min(SIDE - 1, max(0, r + drow)), min(SIDE - 1, max(0, c + dcol)))

    def watch_cursor(self, cursor: tuple[int, int]) -> None:
        self.post_message(self.Highlighted(*cursor))

    def cell_width(self) -> int:
        return min(MAX_CELL, max(MIN_CELL, self.size.width // SIDE))

    def render(self) -> Text:
        cells = self.cells
        if not cells:
            return Text("")
        doc = self.doc or {}
        colours = action_colours(doc.get("actions") or [])
        width = self.cell_width()
        lines = []
        for r, row in enumerate(cells):
            line = Text()
            for c, cell in enumerate(row):
                rgb = mix(colours, [float(p) for p in cell.get("probabilities") or ()])
                hand = str(cell.get("hand", "?"))
                text = f"[{hand}]" if (r, c) == self.cursor else hand
                style = Style(color=ink(rgb), bgcolor=hex_of(rgb), bold=(r, c) == self.cursor)
                line.append(text.center(width), style=style)
            lines.append(line)
        return Text("\n").join(lines)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return SIDE
