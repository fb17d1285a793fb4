"""`?`: every key, per screen, and what the screens show."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# holdem-tui keys

| Where | Key | Does |
|---|---|---|
| everywhere | `?` | this help |
| everywhere | `q`, `ctrl+c` | quit (training goes on: it belongs to holdemd) |
| runs list | `↑` `↓`, `enter` | choose a run, open its dashboard |
| runs list, dashboard | `s` | stop the run (asks first; instances checkpoint, then exit) |
| runs list, dashboard | `r` | resume a stopped or failed run |
| runs list, dashboard | `m` | merge the instances' checkpoints into one blueprint now |
| runs list, dashboard | `n` | start a new run (a form) |
| dashboard | `↑` `↓` | choose an instance: the log and the orange plot lines follow it |
| dashboard | `x` | restart the selected instance (asks first) |
| dashboard | `l` | the log pane: the selected instance's log, or the run's own (phases, daemon notes) |
| dashboard | `p` | hide / show the plots |
| dashboard | `escape` | back to the runs list |

The top line says whether holdemd is there. When it goes away the TUI shows
**disconnected — retrying** and reattaches by itself when it is back.

Plots: iterations/s of the whole run (green, left axis) and of the selected instance
(orange, right axis); exploitability (Kuhn, Leduc) or average regret, the mean over
instances and the selected one. Histories start when the TUI starts.

Press `escape` or `?` to close.
"""


class HelpScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("help.tcss")  # absolute: subclasses elsewhere keep it
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
