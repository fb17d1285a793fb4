"""`n`: start a new run — config file, instances, iterations or time budget, seed — validated
here first (so the common mistakes are named next to their field), then by the daemon, whose
refusal is shown in the form rather than closing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from supervisor.protocol import Method, ProtocolError

from .host import ScreenHost

MODES = ("iters", "budget", "default")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class StartForm:
    config: str
    instances: str
    mode: str  # one of MODES
    amount: str
    seed: str = ""


def parse_duration(text: str) -> float | None:
    """'90', '90s', '15m', '2h', '1.5d' -> seconds; None if it is not a positive duration."""
    m = _DURATION.match(text)
    if not m:
        return None
    seconds = float(m.group(1)) * _UNIT[m.group(2)]
    return seconds if seconds > 0 else None


def validate(form: StartForm, cwd: Path) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The run.start params, or the errors by field name. A relative config is made absolute
    here, because the daemon resolves paths against its own working directory, not ours."""
    errors: dict[str, str] = {}
    params: dict[str, Any] = {}
    config = form.config.strip()
    if config:
        path = Path(config).expanduser()
        path = path if path.is_absolute() else cwd / path
        if not path.is_file():
            errors["config"] = f"no such file: {path}"
        params["config"] = str(path)
    try:
        instances = int(form.instances.strip())
        if instances < 1:
            raise ValueError
        params["instances"] = instances
    except ValueError:
        errors["instances"] = "a whole number, at least 1"
        instances = 1
    if form.mode == "iters":
        try:
            iters = int(form.amount.strip().replace("_", "").replace(",", ""))
            if iters < instances:
                errors["amount"] = f"at least one iteration per instance ({instances})"
            params["iters"] = iters
        except ValueError:
            errors["amount"] = "iterations: a whole number, e.g. 100000"
    elif form.mode == "budget":
        seconds = parse_duration(form.amount)
        if seconds is None:
            errors["amount"] = "time budget: e.g. 600, 90s, 15m, 2h"
        else:
            params["time_budget_s"] = seconds
    if form.seed.strip():
        try:
            params["seed"] = int(form.seed.strip())
        except ValueError:
            errors["seed"] = "a whole number, or empty for a random seed"
    return (None if errors else params), errors


class NewRunScreen(ModalScreen[str | None]):
    """Dismisses with the new run's id, or None when cancelled."""

    CSS_PATH = Path(__file__).with_name("new_run.tcss")  # absolute: subclasses elsewhere keep it
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Start")]

    @property
    def host(self) -> ScreenHost:
        """The app, as what this screen asks of it."""
        return cast(ScreenHost, self.app)

    def __init__(self, config: str = "", instances: int = 2) -> None:
        super().__init__()
        self.default_config = config
        self.default_instances = instances

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static("Start a new run", id="form-title")
            yield Label("Config file")
            yield Input(self.default_config, placeholder="configs/leduc.yaml", id="config", compact=True)
            yield Static(id="config-error", classes="error")
            yield Label("Instances")
            yield Input(str(self.default_instances), placeholder="4", id="instances", type="integer", compact=True)
            yield Static(id="instances-error", classes="error")
            with RadioSet(id="mode"):
                yield RadioButton("iterations", value=True, id="iters")
                yield RadioButton("time budget", id="budget")
                yield RadioButton("config's own", id="default")
            yield Input(placeholder="total iterations (100000) or time per instance (15m)", id="amount", compact=True)
            yield Static(id="amount-error", classes="error")
            yield Label("Seed (empty: random)")
            yield Input(placeholder="", id="seed", type="integer", compact=True)
            yield Static(id="seed-error", classes="error")
            yield Static(id="daemon-error", classes="error")
            with Horizontal(id="buttons"):
                yield Button("Start", variant="success", id="start", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#config", Input).focus()

    @property
    def mode(self) -> str:
        pressed = self.query_one("#mode", RadioSet).pressed_button
        return pressed.id if pressed is not None and pressed.id in MODES else "iters"

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.query_one("#amount", Input).disabled = self.mode == "default"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def read_form(self) -> StartForm:
        value = lambda wid: self.query_one(f"#{wid}", Input).value
        return StartForm(value("config"), value("instances"), self.mode, value("amount"), value("seed"))

    def action_submit(self) -> None:
        params, errors = validate(self.read_form(), Path.cwd())
        for name in ("config", "instances", "amount", "seed"):
            self.query_one(f"#{name}-error", Static).update(errors.get(name, ""))
        self.query_one("#daemon-error", Static).update("")
        if params is not None:
            self.query_one("#start", Button).disabled = True
            self._start(params)

    @work(exclusive=True, group="start-run")
    async def _start(self, params: dict[str, Any]) -> None:
        try:
            result = await self.host.connection.call(Method.RUN_START, params, timeout=60.0)
        except ProtocolError as exc:
            self.query_one("#daemon-error", Static).update(f"holdemd refused: {exc.message}")
            self.query_one("#start", Button).disabled = False
            return
        self.dismiss(str(result.get("run", {}).get("id", "")) or None)
