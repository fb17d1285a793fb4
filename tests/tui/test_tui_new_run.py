"""The new-run form: mistakes are named beside their field, the daemon's refusal is shown in the
form, and a valid form starts a real run and opens its dashboard."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static
from tui_harness import KUHN, Holdemd, until

from tui.app import HoldemApp
from tui.messages import Link
from tui.screens.dashboard import DashboardScreen
from tui.screens.new_run import NewRunScreen


def shown(screen: NewRunScreen, wid: str) -> str:
    return str(screen.query_one(f"#{wid}", Static).render())


async def test_new_run_form_validates_then_starts_a_run(holdemd: Holdemd, tmp_path: Path) -> None:
    holdemd.start()  # idle: no run yet
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: app.link.link is Link.CONNECTED, what="attached")
        assert "No runs yet" in str(app.screen.query_one("#detail", Static).render())
        await pilot.press("n")
        form = await until(pilot, lambda: app.screen if isinstance(app.screen, NewRunScreen) else None, what="the form")
        await pilot.press(*"nope.yaml")
        form.query_one("#instances", Input).value = "0"
        await pilot.press("enter")
        await until(pilot, lambda: "no such file" in shown(form, "config-error"), what="the config error")
        assert "at least 1" in shown(form, "instances-error")

        not_a_mapping = tmp_path / "list.yaml"
        not_a_mapping.write_text("- just\n- a list\n")
        form.query_one("#config", Input).value = str(not_a_mapping)
        form.query_one("#instances", Input).value = "2"
        form.query_one("#amount", Input).value = "4000"
        await pilot.press("enter")
        await until(pilot, lambda: "holdemd refused" in shown(form, "daemon-error"), what="the daemon's refusal")
        assert "must be a mapping" in shown(form, "daemon-error")  # holdem check-config says so
        assert isinstance(app.screen, NewRunScreen)  # the form stays open to be corrected

        form.query_one("#config", Input).value = str(KUHN)
        await pilot.press("enter")
        dash = await until(
            pilot,
            lambda: app.screen if isinstance(app.screen, DashboardScreen) else None,
            what="the new run's dashboard",
        )
        run = holdemd.run()
        assert run["id"] == dash.run_id and len(run["instances"]) == 2 and run["iters"] == 4000
        await until(
            pilot, lambda: app.model.runs[dash.run_id].state in ("running", "merging", "done"), what="the run under way"
        )
