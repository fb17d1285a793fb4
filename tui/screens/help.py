"""`?`: every key, per screen, and what the screens show; it fits an 80x24 terminal whole."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# (section, ((keys, what they do), ...)); one line each, at most 72 columns, so 80x24 shows it all
KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("everywhere", (("?  q ctrl+c", "this help; quit (training goes on: it belongs to holdemd)"),)),
    (
        "runs list and dashboard",
        (
            ("s  r", "stop the run (asks first; it checkpoints) / resume it"),
            ("m  n", "merge the checkpoints into one blueprint now / new run"),
        ),
    ),
    ("runs list", (("↑ ↓  enter", "choose a run, open its dashboard"),)),
    (
        "dashboard",
        (
            ("↑ ↓", "choose an instance: its log and the orange lines follow"),
            ("x", "restart the selected instance (asks first)"),
            ("l  p", "log: the instance's or the run's own / hide the plots"),
            ("b", "the run's blueprint: its 13x13 grid and evaluation ladder"),
            ("escape", "back to the runs list"),
        ),
    ),
    (
        "blueprint",
        (
            ("← ↑ ↓ →", "move over the grid: the line under it details the hand"),
            ("1-9  bksp", "take that action / back one action (escape: dashboard)"),
            ("t  e", "merged blueprint or newest checkpoint / run the ladder"),
        ),
    ),
)
QUICKSTART_KEYS = (
    "make run",
    (("Q", "stop holdemd (it checkpoints); the next `make run` resumes"),),
)
NOTES = ("Top line: is holdemd there? If it goes away the TUI retries by itself.",)
KEY_WIDTH = 12


def help_text(quickstart: bool = False) -> Text:
    out = Text()
    for section, keys in (*KEYS, *([QUICKSTART_KEYS] if quickstart else [])):
        out.append(section + "\n", style="bold underline")
        for key, does in keys:
            out.append(f"  {key:<{KEY_WIDTH}}", style="bold cyan")
            out.append(does + "\n")
    for note in NOTES:
        out.append(note + "\n", style="dim")
    out.append("escape or ? closes", style="dim italic")
    return out


class HelpScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("help.tcss")  # absolute: subclasses elsewhere keep it
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, quickstart: bool = False) -> None:
        super().__init__()
        self.quickstart = quickstart

    def compose(self) -> ComposeResult:
        box = VerticalScroll(id="help")
        box.border_title = "holdem-tui keys"
        with box:
            yield Static(help_text(self.quickstart), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
