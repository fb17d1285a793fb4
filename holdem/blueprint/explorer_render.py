"""Drawing the strategy explorer's answers: coloured text at a terminal (rich) and a PNG (matplotlib).

Both read only the JSON shapes of ``explorer`` (``spot_json``, ``grid_json``), so what is drawn is what
``--json`` reports. Colours: fold blue, check/call green, raises from orange (smallest) to dark red
(the all-in); a grid cell's background mixes them by the cell's probabilities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from holdem.storage.atomic import replacing

FOLD_RGB = (66, 120, 200)
CALL_RGB = (76, 175, 80)
RAISE_RGBS = ((255, 183, 77), (244, 120, 54), (214, 48, 49), (150, 20, 40), (90, 10, 30))
UNWRAPPED_WIDTH = 10_000  # the width of a pipe: wide enough that no line is wrapped or cut


def action_colours(actions: list[dict[str, Any]]) -> list[tuple[int, int, int]]:
    """One RGB per action, in order: raises get darker as they grow."""
    raises = [i for i, a in enumerate(actions) if a["action"].startswith("r")]
    out = []
    for i, a in enumerate(actions):
        if a["action"] == "f":
            out.append(FOLD_RGB)
        elif a["action"] == "c":
            out.append(CALL_RGB)
        else:
            k = raises.index(i)
            # spread the raises over the palette, the largest always the darkest
            pos = 0 if len(raises) == 1 else round(k * (len(RAISE_RGBS) - 1) / (len(raises) - 1))
            out.append(RAISE_RGBS[pos])
    return out


def _mix(colours: list[tuple[int, int, int]], probs: list[float]) -> tuple[int, int, int]:
    total = sum(probs) or 1.0

    def channel(k: int) -> int:
        return round(sum(c[k] * p for c, p in zip(colours, probs)) / total)

    return channel(0), channel(1), channel(2)


def _hex(rgb: tuple[int, int, int]) -> str:
    red, green, blue = rgb
    return f"#{red:02x}{green:02x}{blue:02x}"


def _ink(rgb: tuple[int, int, int]) -> str:
    return "black" if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140 else "white"


class _Console(Console):
    """rich's Console, but a closed pipe raises BrokenPipeError for the command to end cleanly (rich
    itself exits 1), and output that is not a terminal is not wrapped: a pipe is read by grep, not eyes."""

    def __init__(self) -> None:
        super().__init__()
        if not self.is_terminal:
            self.soft_wrap = True
            self.width = UNWRAPPED_WIDTH

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _title(data: dict[str, Any]) -> str:
    board = f", board {data['board']}" if data["board"] else ""
    history = data["history"] or "(first action)"
    return (
        f"{data['position']} on the {data['street']}{board}, history {history}, pot {data['pot']}, "
        f"to call {data['to_call']}; iteration {data['iteration']:,}"
    )


def print_spot(data: dict[str, Any], console: Console | None = None) -> None:
    """One hand's distribution with its bucket; for a hand class their mean, then each combo's."""
    console = console or _Console()
    colours = action_colours(data["actions"])
    if data["kind"] == "class":
        console.print(f"{data['hand']}, the mean of its {len(data['combos'])} combos: {_title(data)}")
    else:
        console.print(f"{data['hand']}: {_title(data)}")
        console.print(f"bucket {data['bucket']} of {data['buckets']} on the {data['street']}")
    for a, rgb in zip(data["actions"], colours):
        bar = "█" * round(40 * a["probability"])
        console.print(Text(f"  {a['label']:<28} {a['probability']:7.1%} ") + Text(bar, style=Style(color=_hex(rgb))))
    if data["kind"] == "class":
        labels = ", ".join(a["label"] for a in data["actions"])
        console.print(f"each combo (bucket of {data['buckets']}: {labels}):")
        for combo in data["combos"]:
            probs = " ".join(f"{p:6.1%}" for p in combo["probabilities"])
            console.print(f"  {combo['hand']}  bucket {combo['bucket']:>4}: {probs}")


def print_grid(data: dict[str, Any], console: Console | None = None) -> None:
    """The 13x13 grid; each cell shows its class and its likeliest of fold, call and raise (all sizes)."""
    console = console or _Console()
    colours = action_colours(data["actions"])
    table = Table(show_header=False, show_edge=False, padding=0, box=None)
    for _ in range(13):
        table.add_column(justify="center", width=6)
    for row in data["grid"]:
        cells = []
        for cell in row:
            probs = cell["probabilities"]
            rgb = _mix(colours, probs)
            groups = {"f": 0.0, "c": 0.0, "r": 0.0}  # every raise size counts as r
            for a, p in zip(data["actions"], probs):
                groups[a["action"][:1]] += p
            letter = max(groups, key=lambda k: groups[k])
            cells.append(
                Text(
                    f"{cell['hand']:<3}\n{letter}{groups[letter]:4.0%}", style=Style(color=_ink(rgb), bgcolor=_hex(rgb))
                )
            )
        table.add_row(*cells)
    console.print(_title(data))
    console.print(table)
    legend = Text()
    for a, rgb in zip(data["actions"], colours):
        legend += Text("  ") + Text("  ", style=Style(bgcolor=_hex(rgb))) + Text(f" {a['label']} {a['frequency']:.1%}")
    console.print(legend)


def save_grid_png(data: dict[str, Any], path: Path, title: str | None = None) -> None:
    """Each cell a stacked bar of its action probabilities (left to right in menu order), written atomically."""
    import logging

    import matplotlib

    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # its font-cache notice is not ours to print
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    colours = [(red / 255, green / 255, blue / 255) for red, green, blue in action_colours(data["actions"])]
    fig, ax = plt.subplots(figsize=(9.5, 10.5))
    for r, row in enumerate(data["grid"]):
        for c, cell in enumerate(row):
            x = float(c)
            for p, colour in zip(cell["probabilities"], colours):
                if p > 0:
                    ax.add_patch(Rectangle((x, 12 - r), p, 1, facecolor=colour, edgecolor="none"))
                    x += p
            ax.add_patch(Rectangle((c, 12 - r), 1, 1, fill=False, edgecolor="white", linewidth=1.2))
            ax.text(
                c + 0.5,
                12 - r + 0.5,
                cell["hand"],
                ha="center",
                va="center",
                fontsize=9,
                color="black",
                fontweight="bold",
            )
    ax.set_xlim(0, 13)
    ax.set_ylim(0, 13)
    ax.set_aspect("equal")
    ax.axis("off")
    handles = [
        Patch(facecolor=col, label=f"{a['label']}  {a['frequency']:.1%}") for a, col in zip(data["actions"], colours)
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncol=min(3, len(handles)),
        frameon=False,
        fontsize=9,
    )
    ax.set_title(title or _title(data), fontsize=10)
    path = Path(path)
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
