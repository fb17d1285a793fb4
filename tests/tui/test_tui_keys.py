"""Keys a person finds without reading docs: the footer lists each screen's keys, `?` explains
them all, `q` quits. No daemon needed: these hold before the first connection."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static
from tui_harness import until

from supervisor.protocol import InstanceInfo, RunInfo
from tui.app import HoldemApp
from tui.screens.help import HelpScreen


def shown_keys(app: HoldemApp) -> set[str]:
    return {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}


async def test_footer_keys_help_and_quit(tmp_path: Path) -> None:
    app = HoldemApp(tmp_path / "absent.sock", connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert {"s", "r", "m", "n", "q", "question_mark"} <= shown_keys(app)
        app.model.apply_snapshot([RunInfo(id="r1", state="stopped", dir="/x",
                                          instances=(InstanceInfo(index=0, state="stopped"),))], 0.0)
        app._model_changed()
        app.open_run("r1")
        await until(pilot, lambda: "x" in shown_keys(app), what="the dashboard's keys")
        assert {"escape", "s", "r", "x", "m", "n", "p"} <= shown_keys(app)

        await pilot.press("question_mark")
        help_screen = await until(pilot, lambda: app.screen if isinstance(app.screen, HelpScreen) else None,
                                  what="help")
        assert "restart the selected instance" in help_screen.query_one("#help-text", Static).render().plain
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help closed")
        await pilot.press("escape")  # back to the runs list
        await until(pilot, lambda: "enter" in shown_keys(app) or "x" not in shown_keys(app), what="runs list")
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, what="quit")
