"""holdem-tui: a Textual monitor and remote control of holdemd, over its socket API only.

The app owns the Model and the Connection, redraws the visible screen when the model moves
(at most every `frame_s`, so a flood of progress never queues work), samples the plots' histories
once a second, and turns keys into API calls (destructive ones confirmed first). Under `make run`
(`--quickstart`) `q` leaves holdemd training as everywhere, and `Q` quits with STOP_HOLDEMD, for
`make run` to stop the daemon it started (the instances checkpoint; the next `make run` resumes).
"""

from __future__ import annotations

import argparse
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, ScreenStackError
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.timer import Timer

from supervisor import version
from supervisor.protocol import ErrorCode, Method, ProtocolError, find_daemon, socket_path

from .connection import Connection
from .messages import Link, LinkChanged, LinkStatus, ModelChanged
from .model import Model
from .screens.blueprint import BlueprintScreen
from .screens.confirm import ConfirmScreen
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen
from .screens.new_run import NewRunScreen
from .screens.runs import RunsScreen

STOP_HOLDEMD = 3  # the exit status of `Q` under make run: "stop the daemon", as distinct from `q`


class HoldemApp(App[None]):
    TITLE = "holdem-tui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere keep it
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False),  # a monitor quits on ctrl+c (an Input copies first)
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("Q", "stop_holdemd", "Stop holdemd", show=False),  # make run only; the help says so
    ]

    link: reactive[LinkStatus] = reactive(LinkStatus(Link.CONNECTING, ""), always_update=True)

    def __init__(
        self,
        socket: Path,
        *,
        frame_s: float = 0.25,
        sample_s: float = 1.0,
        resync_s: float = 5.0,
        connect: bool = True,
        quickstart: bool = False,
    ) -> None:
        super().__init__()
        self.socket = socket
        self.quickstart = quickstart
        self.frame_s = frame_s
        self.sample_s = sample_s
        self.model = Model()
        self.connection = Connection(socket, self.model, self._model_changed, self._link_changed, resync_s=resync_s)
        self.link = LinkStatus(Link.CONNECTING, str(socket))
        self.connect = connect
        self._change_queued = False
        self._last_frame = 0.0
        self._frame_timer: Timer | None = None
        self.frames = 0
        self.latencies: deque[float] = deque(maxlen=10_000)  # child's event time -> drawn, seconds
        self.daemon_to_screen: deque[float] = deque(maxlen=10_000)  # daemon read it -> drawn
        self.oldest_latencies: deque[float] = deque(maxlen=10_000)  # a frame's oldest new event -> drawn

    # wiring -----------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.push_screen(RunsScreen())
        if self.connect:
            self.run_worker(self.connection.run(), group="link", exclusive=True, exit_on_error=False)
        self.set_interval(self.sample_s, self._sample)

    def _model_changed(self) -> None:
        # Called per daemon event: post at most one message until the app has handled it.
        if not self._change_queued:
            self._change_queued = True
            self.post_message(ModelChanged())

    def _link_changed(self, status: LinkStatus) -> None:
        self.post_message(LinkChanged(status))

    def on_link_changed(self, message: LinkChanged) -> None:
        self.link = message.status

    def on_model_changed(self, message: ModelChanged) -> None:
        self._change_queued = False
        if self._frame_timer is not None:
            return  # a frame is already due; it will show this change too
        wait = self._last_frame + self.frame_s - time.monotonic()
        if wait <= 0:
            self._draw()
        else:
            self._frame_timer = self.set_timer(wait, self._draw)

    def _draw(self) -> None:
        self._frame_timer = None
        self._last_frame = time.monotonic()
        try:
            refresh = getattr(self.screen, "refresh_view", None)
            if refresh is None:
                return
            refresh()
        except (NoMatches, ScreenStackError):
            return  # quitting: the screen is being torn down, or already gone
        self.frames += 1
        if self.model.last_event_t is not None:
            oldest, self.model.oldest_undrawn_t = self.model.oldest_undrawn_t, None
            self.call_after_refresh(self._painted, self.model.last_event_t, self.model.last_recv_t, oldest)

    def _painted(self, event_t: float, recv_t: float | None, oldest_t: float | None) -> None:
        now = time.time()
        self.latencies.append(now - event_t)
        if recv_t is not None:
            self.daemon_to_screen.append(now - recv_t)
        if oldest_t is not None:
            self.oldest_latencies.append(now - oldest_t)

    def _sample(self) -> None:
        self.model.sample(time.time())

    # navigation -------------------------------------------------------------------------------
    def open_run(self, run_id: str) -> None:
        self.push_screen(DashboardScreen(run_id))

    def open_blueprint(self, run_id: str) -> None:
        self.push_screen(BlueprintScreen(run_id))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(quickstart=self.quickstart))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.quickstart if action == "stop_holdemd" else True

    def action_stop_holdemd(self) -> None:
        """make run's `Q`: quit, and let make run stop the daemon it started."""
        self.exit(return_code=STOP_HOLDEMD)

    # commands ---------------------------------------------------------------------------------
    def stop_run(self, run_id: str | None) -> None:
        if not run_id:
            return
        self._confirm(
            f"Stop run {run_id}?\n\nEvery instance checkpoints and exits; `r` resumes it later.",
            "Stop",
            Method.RUN_STOP,
            {"run": run_id},
            f"stopping run {run_id}: each instance writes a checkpoint first…",
            f"run {run_id} stopped",
        )

    def resume_run(self, run_id: str | None) -> None:
        if run_id:
            self.command(Method.RUN_RESUME, {"run": run_id}, f"run {run_id} resumed")

    def merge_run(self, run_id: str | None) -> None:
        if run_id:
            self.notify(f"merging run {run_id}…")
            self.command(Method.RUN_MERGE, {"run": run_id}, f"run {run_id} merged")

    def restart_instance(self, run_id: str, index: int) -> None:
        self._confirm(
            f"Restart instance {index} of run {run_id}?\n\nIt checkpoints, exits and starts again "
            "from that checkpoint.",
            "Restart",
            Method.INSTANCE_RESTART,
            {"run": run_id, "index": index},
            f"restarting instance {index}: it writes a checkpoint first…",
            f"instance {index} restarting",
        )

    def new_run(self, like: str | None) -> None:
        run = self.model.runs.get(like or "")
        form = NewRunScreen(config=run.config or "" if run else "", instances=len(run.instances) if run else 2)

        def started(run_id: str | None) -> None:
            if run_id:
                self.notify(f"run {run_id} started")
                self.open_run(run_id)

        self.push_screen(form, started)

    def _confirm(
        self, question: str, yes: str, method: Method, params: dict[str, Any], pending: str, done: str
    ) -> None:
        """Ask first; on yes, say at once that it is under way (a stop can take a while), then do it."""

        def answered(ok: bool | None) -> None:
            if ok:
                self.notify(pending, timeout=4)
                self.command(method, params, done)

        self.push_screen(ConfirmScreen(question, yes), answered)

    @work(group="commands")
    async def command(self, method: Method, params: dict[str, Any], done: str) -> dict[str, Any] | None:
        try:
            result = await self.connection.call(method, params)
        except ProtocolError as exc:
            self.notify(f"{method.value} failed: {exc.message}", severity="error", timeout=8)
            return None
        self.notify(done)
        return result

    def attach_run(self, run_id: str) -> None:
        """A view shows this run's plots: fill them from the daemon's history now and after reattaching."""
        self.connection.watch(run_id)
        self.fetch_history(run_id)

    def detach_run(self, run_id: str) -> None:
        if not any(getattr(s, "run_id", None) == run_id for s in self.screen_stack):
            self.connection.unwatch(run_id)

    @work(group="status")
    async def refresh_run(self, run_id: str) -> None:
        """Re-read one run's status now (its ladder while one runs), not at the next resync."""
        try:
            await self.connection.refresh_run(run_id)
        except ProtocolError:
            return  # the link bar says when the daemon is gone

    def start_eval(self, run_id: str, source: str) -> None:
        async def started() -> None:
            try:
                reply = await self.connection.call("run.eval", {"run": run_id, "source": source}, timeout=30.0)
            except ProtocolError as exc:
                if exc.code == ErrorCode.UNKNOWN_METHOD.value:
                    self.notify("this holdemd cannot run the ladder (an older daemon)", severity="error", timeout=8)
                else:
                    self.notify(f"run.eval: {exc.message}", severity="error", timeout=8)
                return
            where = (reply.get("source") or {}).get("path") or source
            self.notify(f"ladder started on {where}")
            await self.connection.refresh_run(run_id)

        self.run_worker(started(), group="commands", exit_on_error=False)

    @work(group="history")
    async def fetch_history(self, run_id: str) -> None:
        try:
            await self.connection.fetch_history(run_id)
        except ProtocolError:
            return  # no daemon or no such run: the link bar and the header say so; plots start now

    @work(group="tail", exclusive=True)
    async def fetch_tail(self, run_id: str, index: int | None) -> None:
        """The last lines of an instance's log, or of the run's own log (index None)."""
        params: dict[str, Any] = {"run": run_id, "lines": 200}
        if index is not None:
            params["index"] = index
        try:
            result = await self.connection.call(Method.LOGS_TAIL, params, timeout=10.0)
        except ProtocolError as exc:
            lines = [f"(log unavailable: {exc.message})"]
        else:
            lines = [str(line) for line in result.get("lines", ())]
        screen = self.screen
        if isinstance(screen, DashboardScreen):
            screen.tail_loaded(run_id, index, lines)


if TYPE_CHECKING:
    from .screens.host import ScreenHost

    _SCREENS_HOST: type[ScreenHost] = HoldemApp  # mypy checks here that the app keeps the contract


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="holdem-tui", description="Watch and steer holdemd training runs.")
    p.add_argument("--version", action="version", version=f"holdem-tui {version()}")
    p.add_argument(
        "--socket",
        type=Path,
        help=f"holdemd's socket (default here: {socket_path()}; order: "
        "$HOLDEMD_SOCKET, $RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR, /tmp/holdemd-<uid>; with none named and no "
        "daemon there, make run's ./runs/quickstart/holdemd.sock)",
    )
    p.add_argument(
        "--quickstart",
        action="store_true",
        help=f"as make run starts it: Q quits with status {STOP_HOLDEMD}, for make run to stop its holdemd",
    )
    return p


def build_app(argv: Sequence[str] | None = None) -> HoldemApp:
    """The app for these arguments, on the daemon `find_daemon` finds (make run's when none is named and
    none listens at the default socket)."""
    args = build_parser().parse_args(argv)
    return HoldemApp(find_daemon(args.socket).path, quickstart=args.quickstart)


def main(argv: Sequence[str] | None = None) -> int:
    app = build_app(argv)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
