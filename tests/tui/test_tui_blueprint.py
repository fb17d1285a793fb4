"""The blueprint screen against a real holdemd: a tiny hold'em run trained to the end (the buckets of
the session's store, $HOLDEM_BUCKETS), its grid answered by the daemon's `strategy`
(a real `holdem strategy --json` subprocess), walked with keys; the ladder from a real `run.eval`;
and a Leduc run, which has no grid to show and says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Static
from tui_harness import REPO, Holdemd, painted, until

from tui.app import HoldemApp
from tui.screens.blueprint import BlueprintScreen
from tui.widgets.range_grid import RangeGrid

TINY_HUNL = REPO / "tests" / "tui" / "tiny_hunl.yaml"
LEDUC = REPO / "configs" / "leduc.yaml"
SMALL_LADDER = (
    "--eval-hands",
    "40",
    "--eval-lbr-hands",
    "40",
    "--eval-workers",
    "1",
    "--no-auto-eval",
    "--estimate-sample",
    "0.5",
)


@pytest.fixture(scope="module")
def trained(hunl_build) -> Iterator[Holdemd]:
    """One daemon whose only run is the tiny hold'em run, done and merged (its buckets: the session's)."""
    d = Holdemd()
    try:
        d.start("--instances", "1", "--config", str(TINY_HUNL), "--iters", "6000", "--seed", "5", *SMALL_LADDER)
        d.wait_run(
            lambda r: r.get("state") in ("done", "failed") and r.get("merged"),
            timeout=300,
            what="the tiny hold'em run done and merged",
        )
        yield d
    finally:
        d.cleanup()


def text(screen: BlueprintScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_blueprint(app: HoldemApp, pilot, run_id: str) -> BlueprintScreen:
    await until(pilot, lambda: run_id in app.model.runs, what="the run listed")
    app.open_run(run_id)
    await until(pilot, lambda: getattr(app.screen, "run_id", None) == run_id, what="the dashboard")
    await pilot.press("b")
    return await until(
        pilot, lambda: app.screen if isinstance(app.screen, BlueprintScreen) else None, what="the blueprint screen"
    )


def doc_field(screen: BlueprintScreen, *path: str) -> Any:
    """A field of the strategy document shown, None while none is."""
    value: Any = screen.doc
    for key in path:
        if value is None:
            return None
        value = value[key]
    return value


def cells(screen: BlueprintScreen) -> list[dict]:
    return [c for row in screen.query_one(RangeGrid).cells for c in row]


async def test_the_grid_walks_the_betting_and_switches_source(trained: Holdemd) -> None:
    run_id = trained.run()["id"]
    app = HoldemApp(trained.sock)
    async with app.run_test(size=(120, 40)) as pilot:
        bp = await open_blueprint(app, pilot, run_id)
        await until(pilot, lambda: bp.doc is not None, timeout=120, what="the first grid")
        grid = cells(bp)
        assert len(grid) == 169 and all(abs(sum(c["probabilities"]) - 1) < 1e-3 for c in grid)
        assert "merged blueprint" in text(bp, "#bp-header") and "button to act" in text(bp, "#bp-header")
        assert text(bp, "#bp-detail").startswith("AA (6 combos)")
        await pilot.press("down")
        await until(pilot, lambda: text(bp, "#bp-detail").startswith("AKo (12 combos)"), what="the cursor's hand")
        menu = [a["action"] for a in doc_field(bp, "actions")]
        raise_key = str(menu.index("r300") + 1)
        await pilot.press(raise_key)
        await until(pilot, lambda: doc_field(bp, "history") == "r300", timeout=120, what="one action deeper")
        assert "big blind to act" in text(bp, "#bp-header") and "history r300" in text(bp, "#bp-header")
        assert len(cells(bp)) == 169 and bp.path == [""]
        await pilot.press("backspace")
        await until(pilot, lambda: doc_field(bp, "history") == "" and not bp.path, timeout=120, what="back up")
        await pilot.press("t")
        await until(pilot, lambda: doc_field(bp, "source", "kind") == "checkpoint", timeout=120, what="the checkpoint")
        assert "newest checkpoint" in text(bp, "#bp-header") and len(cells(bp)) == 169
        await pilot.press("1")  # fold: no spot after it, and no request
        assert "ends the hand" in text(bp, "#bp-status") and doc_field(bp, "history") == ""


def painted_with(app: HoldemApp, *parts: str) -> str | None:
    """What the terminal shows, once every part is in it."""
    shown = painted(app)
    return shown if all(part in shown for part in parts) else None


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_b_paints_loading_then_the_grid_without_a_resize(trained: Holdemd, size: tuple[int, int]) -> None:
    """What reaches the terminal, not what the widgets hold: `b` paints the screen at once (saying
    it is loading until the grid is there), then the grid, the spot line, the ladder panel and the keys."""
    run_id = trained.run()["id"]
    app = HoldemApp(trained.sock)
    async with app.run_test(size=size) as pilot:
        await open_blueprint(app, pilot, run_id)
        first = await until(pilot, lambda: painted_with(app, "blueprint of run"), timeout=10, what="the screen painted")
        assert "loading" in first or " AKs " in first, first
        # the grid and the spot line may reach the terminal in two frames: wait for both
        grid_and_spot = (" AKs ", " 72o ", "to act on the preflop", "to call")
        shown = await until(pilot, lambda: painted_with(app, *grid_and_spot), timeout=120, what="grid and spot painted")
        assert "no evaluation yet" in shown or "ladder" in shown, shown
        assert "esc" in shown and "1-9" in shown and "Run ladder" in shown, shown


async def test_the_ladder_panel_shows_a_real_evaluation(trained: Holdemd) -> None:
    run_id = trained.run()["id"]
    app = HoldemApp(trained.sock)
    async with app.run_test(size=(160, 48)) as pilot:
        bp = await open_blueprint(app, pilot, run_id)
        await until(pilot, lambda: bp.doc is not None, timeout=120, what="the first grid")
        await pilot.press("e")
        await until(
            pilot,
            lambda: "running" in text(bp, "#ladder-text") or "done" in text(bp, "#ladder-text"),
            what="the ladder running",
        )
        await until(pilot, lambda: "done" in text(bp, "#ladder-text"), timeout=240, what="the ladder done")
        shown = text(bp, "#ladder-text")
        evaluation = app.model.runs[run_id].eval
        assert evaluation is not None
        ladder = evaluation["ladder"]
        assert "LBR-fc" in shown and "mbb/hand" in shown and f"{ladder['lbr']['value']:+.1f}" in shown
        for match in ladder["matches"]:
            assert f"vs {match['opponent']}" in shown
        for probe in ladder["probes"]:
            assert ("PASS " if probe["passed"] else "FAIL ") + probe["name"] in shown


async def test_a_leduc_run_says_the_explorer_is_for_holdem(holdemd: Holdemd) -> None:
    holdemd.start("--instances", "1", "--config", str(LEDUC), "--iters", "2000", "--seed", "1")
    run_id = holdemd.wait_run(lambda r: r.get("state") == "done", timeout=120, what="the Leduc run done")["id"]
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(80, 24)) as pilot:
        bp = await open_blueprint(app, pilot, run_id)
        await until(pilot, lambda: "hold'em" in text(bp, "#bp-status"), timeout=60, what="the message")
        await until(pilot, lambda: painted_with(app, "blueprint of run", "hold'em"), timeout=10, what="it painted")
        assert bp.doc is None and not cells(bp)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, BlueprintScreen), what="back to the dashboard")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_a_done_run_says_evaluating_while_its_ladder_runs(trained: Holdemd, size: tuple[int, int]) -> None:
    """The automatic ladder after `done` (here asked for: this daemon runs none by itself) is shown on the
    dashboard's header and the runs list's detail line, not only on the blueprint screen."""
    from supervisor.protocol import ProtocolError

    run_id = trained.run()["id"]
    try:
        trained.request("run.eval", {"run": run_id})
    except ProtocolError as exc:
        assert exc.code == "conflict"  # one is running already: as good
    app = HoldemApp(trained.sock)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: painted_with(app, "evaluating…"), timeout=30, what="the runs list saying it")
        app.open_run(run_id)
        shown = await until(pilot, lambda: painted_with(app, "✔ done  evaluating…"), timeout=30, what="the header")
        assert "ETA" in shown
    trained.wait_run(lambda r: (r.get("eval") or {}).get("state") != "running", timeout=300, what="the ladder done")
