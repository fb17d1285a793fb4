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
        app.model.apply_snapshot(
            [RunInfo(id="r1", state="stopped", dir="/x", instances=(InstanceInfo(index=0, state="stopped"),))], 0.0
        )
        app._model_changed()
        app.open_run("r1")
        await until(pilot, lambda: "x" in shown_keys(app), what="the dashboard's keys")
        assert {"escape", "s", "r", "x", "m", "p", "b"} <= shown_keys(app)

        await pilot.press("question_mark")
        help_screen = await until(
            pilot, lambda: app.screen if isinstance(app.screen, HelpScreen) else None, what="help"
        )
        assert "restart the selected instance" in help_screen.query_one("#help-text", Static).render().plain
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help closed")
        await pilot.press("escape")  # back to the runs list
        await until(pilot, lambda: "enter" in shown_keys(app) or "x" not in shown_keys(app), what="runs list")
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, what="quit")


async def test_at_80_columns_the_config_is_not_cut_and_a_preparing_run_shows_its_stage(tmp_path: Path) -> None:
    from textual.widgets import DataTable, Static

    app = HoldemApp(tmp_path / "absent.sock", connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.model.apply_snapshot(
            [
                RunInfo(
                    id="20261202-132751-687d",
                    state="running",
                    dir="/y",
                    phase="prepare",
                    phase_detail="river strength (2/7) 60,500/134,459 boards, 4,100/s",
                    config="/x/configs/hunl-default.yaml",
                    iters=12_000_000,
                    instances=(
                        InstanceInfo(index=0, state="pending", target_iters=6_000_000),
                        InstanceInfo(index=1, state="pending"),
                    ),
                )
            ],
            0.0,
        )
        app._model_changed()
        table = app.screen.query_one("#runs", DataTable)
        await until(pilot, lambda: table.row_count == 1, what="the run listed")
        widths = sum(c.get_render_width(table) for c in table.columns.values())
        assert widths <= 80 and "hunl-default" in str(table.get_row_at(0)[-1])
        detail = str(app.screen.query_one("#detail", Static).render())
        assert "preparing river strength (2/7) 60,500/134,459 boards" in detail and "instances pending" in detail
        app.open_run("20261202-132751-687d")
        await until(
            pilot,
            lambda: "2 pending" in str(app.screen.query_one("#header", Static).render()),
            what="pending instances in the dashboard",
        )
        assert "preparing river strength" in str(app.screen.query_one("#header", Static).render())
