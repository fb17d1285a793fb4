"""A run's blueprint: the 13x13 preflop grid at a betting history, walked with keys, and the ladder.

Every grid comes from the daemon's `strategy` method (it answers through `holdem strategy --json`; the
TUI imports no poker): merged blueprint if the run has one, else the newest checkpoint, `t` switches.
A number key takes that action and asks for the spot after it, `backspace` goes back one action;
the path walked is a stack of the tree's own history strings, so going back never asks again for a
spot that failed. Requests run in an exclusive worker (a new key cancels the one in flight), with
"loading…" shown meanwhile and the daemon's message, in red, when it refuses. The ladder panel shows
status `eval` of the run; `e` starts `run.eval` on the source shown, and the screen re-reads the
run's status every `EVAL_POLL_S` while a ladder runs (finished runs are otherwise re-read rarely).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from supervisor.protocol import ErrorCode, ProtocolError

from ..views import RunView
from ..widgets.connection_bar import ConnectionBar
from ..widgets.ladder_panel import ladder_text, no_ladder_text
from ..widgets.range_grid import RangeGrid, action_colours, cell_detail, grid_cells, hex_of
from .host import ScreenHost

STRATEGY_TIMEOUT_S = 120.0  # the first answer loads the blueprint and its buckets in a subprocess
EVAL_POLL_S = 2.0
WIDE = 110  # from this many columns the ladder sits beside the grid, else under it
SOURCE_NAMES = {"merged": "merged blueprint", "checkpoint": "newest checkpoint"}


def request_kind(source: dict[str, Any] | None) -> str | None:
    """What to ask for to get this source again: `merged` or `latest` (the daemon's answer says
    `checkpoint` for the latter)."""
    kind = (source or {}).get("kind")
    return "merged" if kind == "merged" else "latest" if kind == "checkpoint" else None


def spot_header(run_id: str, doc: dict[str, Any] | None) -> Text:
    head = Text.assemble(("blueprint of run ", "dim"), (run_id, "bold"))
    if not doc:
        return head
    source = doc.get("source") or {}
    name = SOURCE_NAMES.get(str(source.get("kind")), str(source.get("kind") or "?"))
    if isinstance(source.get("instance"), int):
        name += f" of instance {source['instance']}"
    head.append_text(Text.assemble("  ", (name, "cyan"), (f"  iteration {doc.get('iteration', 0):,}", "dim")))
    history = doc.get("history") or "(first action)"
    spot = Text.assemble(
        (str(doc.get("position", "?")), "bold"),
        " to act on the ",
        str(doc.get("street", "?")),
        ("  history ", "dim"),
        (history, "bold magenta"),
        ("  pot ", "dim"),
        str(doc.get("pot", "?")),
        ("  to call ", "dim"),
        str(doc.get("to_call", "?")),
    )
    if doc.get("board"):
        spot.append_text(Text.assemble(("  board ", "dim"), str(doc["board"])))
    return Text("\n").join([head, spot])


def action_menu(doc: dict[str, Any] | None) -> Text:
    """`1 ■ fold 32.8%   2 ■ call 50 18.4%   …`: the number takes the action; the colour is the grid's."""
    if not doc:
        return Text("")
    actions = doc.get("actions") or []
    out = Text()
    for i, (a, rgb) in enumerate(zip(actions, action_colours(actions))):
        if i:
            out.append("   ")
        out.append(f"{i + 1}" if i < 9 else " ", style="bold cyan")
        out.append(" ■ ", style=Style(color=hex_of(rgb)))
        freq = a.get("frequency")
        out.append(f"{a.get('label', a.get('action'))} " + (f"{freq:.1%}" if isinstance(freq, (int, float)) else ""))
    return out


class BlueprintScreen(Screen):
    CSS_PATH = Path(__file__).with_name("blueprint.tcss")
    BINDINGS = [
        Binding("escape", "back", "Dashboard"),
        Binding("1", "choose(0)", "Action", key_display="1-9"),  # short words: the footer fits 80 columns
        *(Binding(str(k), f"choose({k - 1})", show=False) for k in range(2, 10)),
        Binding("backspace", "up", "Back"),
        Binding("t", "toggle_source", "Merged/latest"),
        Binding("e", "evaluate", "Run ladder"),
    ]

    @property
    def host(self) -> ScreenHost:
        """The app, as what this screen asks of it."""
        return cast(ScreenHost, self.app)

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.doc: dict[str, Any] | None = None
        self.path: list[str] = []  # histories walked before the current one
        self.message: Text = Text("loading…", style="italic")
        self._poll: Timer | None = None
        self._game_shown: str | None = None

    def compose(self) -> ComposeResult:
        yield ConnectionBar(id="link")
        yield Static(spot_header(self.run_id, None), id="bp-header")
        with Horizontal(id="bp-body"):
            with Vertical(id="bp-left"):
                yield RangeGrid(id="grid")
                yield Static(id="bp-actions")
                yield Static(id="bp-detail")
                yield Static(self.message, id="bp-status")
            with VerticalScroll(id="bp-ladder"):
                yield Static(id="ladder-text")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(RangeGrid).focus()
        self.on_resize()
        self.refresh_view()
        self.load("", None)
        self.host.refresh_run(self.run_id)  # the newest `eval` of the run, even a finished one

    def on_resize(self) -> None:
        self.set_class(self.size.width < WIDE, "-narrow")

    @property
    def run(self) -> RunView | None:
        return self.host.model.runs.get(self.run_id)

    # what is shown ------------------------------------------------------------------------------
    @property
    def other_game(self) -> str | None:
        """The game of a run that is known not to be hold'em (Kuhn, Leduc): no ladder to offer."""
        game = self.run.game if self.run is not None else None
        return game if game not in (None, "hunl") else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "evaluate" and self.other_game)  # hidden from the footer too

    def refresh_view(self) -> None:
        """Called by the app when the model moved: the ladder panel follows the run's status."""
        run = self.run
        ev = run.eval if run is not None else None
        if not self.is_mounted:
            return
        game = self.other_game
        self.query_one("#ladder-text", Static).update(
            no_ladder_text(game, run.merged if run else None) if game else ladder_text(ev)
        )
        if game != self._game_shown:
            self._game_shown = game
            self.refresh_bindings()
        running = isinstance(ev, dict) and ev.get("state") == "running"
        if running and self._poll is None:
            self._poll = self.set_interval(EVAL_POLL_S, lambda: self.host.refresh_run(self.run_id))
        elif not running and self._poll is not None:
            self._poll.stop()
            self._poll = None

    def _show(self) -> None:
        self.query_one("#bp-header", Static).update(spot_header(self.run_id, self.doc))
        self.query_one(RangeGrid).show(self.doc)
        self.query_one("#bp-actions", Static).update(action_menu(self.doc))
        self._detail(*self.query_one(RangeGrid).cursor)  # now, not when the grid's message arrives
        self._say(self.message)

    def _say(self, message: Text) -> None:
        """The status line under the grid; it takes no row while it has nothing to say (80x24 is tight)."""
        self.message = message
        status = self.query_one("#bp-status", Static)
        status.update(message)
        status.display = bool(message.plain)

    def on_range_grid_highlighted(self, event: RangeGrid.Highlighted) -> None:
        self._detail(event.row, event.col)

    def _detail(self, row: int, col: int) -> None:
        cells = grid_cells(self.doc)
        detail = cell_detail(self.doc or {}, cells[row][col]) if cells else Text("")
        self.query_one("#bp-detail", Static).update(detail)

    # requests ---------------------------------------------------------------------------------
    @work(group="strategy", exclusive=True)
    async def load(self, history: str, source: str | None, move: int = 0) -> None:
        """Ask for the grid at `history`; on success `move` +1 pushes the spot shown onto the path,
        -1 pops the path (the spot asked for is its top), 0 leaves it."""
        self._say(Text(f"loading {history or 'the first action'}…", style="italic"))
        params: dict[str, Any] = {"run": self.run_id, "range": True, "history": history}
        if source:
            params["source"] = source
        try:
            doc = await self.host.connection.call("strategy", params, timeout=STRATEGY_TIMEOUT_S)
        except ProtocolError as exc:
            self._say(Text(self._explain(exc, history), style="bold red"))
            return
        if move > 0 and self.doc is not None:
            self.path.append(str(self.doc.get("history", "")))
        elif move < 0 and self.path:
            self.path.pop()
        self.doc = doc
        n = len(grid_cells(doc))
        self.message = Text("" if n else "the daemon's answer has no 13x13 grid", style="yellow")
        self._show()

    def _explain(self, exc: ProtocolError, history: str) -> str:
        if exc.code == ErrorCode.UNKNOWN_METHOD.value:
            return "this holdemd has no strategy explorer (an older daemon): upgrade it to see blueprints"
        where = f"{history}: " if history and self.doc is not None else ""
        return where + exc.message

    def action_choose(self, index: int) -> None:
        actions = (self.doc or {}).get("actions") or []
        if self.doc is None or index >= len(actions):
            return
        letter = str(actions[index].get("action", ""))
        if letter == "f":
            self._say(
                Text(f"{actions[index].get('label', 'fold')} ends the hand: there is no spot after it", style="yellow")
            )
            return
        self.load(str(self.doc.get("history", "")) + letter, request_kind(self.doc.get("source")), move=1)

    def action_up(self) -> None:
        if not self.path:
            self._say(Text("at the first action already; escape goes back to the dashboard", style="dim"))
            return
        self.load(self.path[-1], request_kind((self.doc or {}).get("source")), move=-1)

    def action_toggle_source(self) -> None:
        kind = request_kind((self.doc or {}).get("source"))
        other = "latest" if kind == "merged" else "merged"
        self.load(str((self.doc or {}).get("history", "")), other)

    def action_evaluate(self) -> None:
        source = request_kind((self.doc or {}).get("source")) or "merged"
        self.host.start_eval(self.run_id, source)

    def action_back(self) -> None:
        self.app.pop_screen()
