"""The plots keep a run's history: the daemon's record up to its last point, then the TUI's own samples,
with no point twice and no gap; the run's rate is the sum of its instances' rates at the same times."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from tui_harness import REPO, Holdemd, until

from supervisor.protocol import InstanceInfo, RunInfo, decode, encode
from tui.app import HoldemApp
from tui.connection import Connection
from tui.history import apply_history, merged, run_points
from tui.model import Model
from tui.screens.dashboard import DashboardScreen
from tui.series import History


def point(t: float, ips: float, exploit: float | None = None) -> dict:
    return {"t": t, "iter": int(t * 10), "ips": ips, "metrics": {} if exploit is None else {"exploitability": exploit}}


def two_instance_model() -> Model:
    m = Model()
    insts = tuple(InstanceInfo(index=k, state="running", ips=100.0) for k in range(2))
    m.apply_snapshot([RunInfo(id="r1", state="running", dir="/x", instances=insts)], requested_t=0.0)
    return m


def test_daemon_points_come_first_and_local_samples_after_the_last_of_them_continue() -> None:
    local = History()
    for t in (105.0, 106.0, 107.0):
        local.add(t, -1.0)  # what the TUI sampled itself since it attached at 105
    out = merged(local, [(100.0, 1.0), (101.0, 2.0), (106.0, 3.0)])
    assert out.points == [(100.0, 1.0), (101.0, 2.0), (106.0, 3.0), (107.0, -1.0)]
    assert merged(local, []) is local  # nothing from the daemon: what was there stays


def test_merging_twice_adds_nothing_and_thinning_still_bounds_the_series() -> None:
    first = merged(History(capacity=100), [(float(t), 1.0) for t in range(1000)])
    assert len(first) < 100 and first.points[0][0] < 20 and first.points[-1][0] > 980  # the whole span, thinned
    again = merged(first, [(float(t), 1.0) for t in range(1000)])
    assert again.points == first.points


def test_the_run_rate_is_the_sum_of_its_instances_and_a_silent_instance_stops_counting() -> None:
    rows = {
        0: [(t, 10.0, 0.5) for t in range(0, 20)],  # reports every second for 20 s
        1: [(t, 5.0, 0.3) for t in range(0, 10)],
    }  # stops after 10 s
    ips, metric = run_points({k: [(float(t), v, q) for t, v, q in r] for k, r in rows.items()})
    at = dict(ips)
    assert at[5.0] == 15.0  # both running
    assert at[15.0] == 10.0  # instance 1 fell silent (after twice its interval): only instance 0
    assert dict(metric)[5.0] == pytest.approx(0.4)  # the mean of the instances that reported one
    assert max(t for t, _ in ips) == 19.0  # nothing after the newest report: live samples take over


def test_a_history_reply_fills_instance_and_run_series_and_ignores_bad_points() -> None:
    m = two_instance_model()
    run = m.runs["r1"]
    reply = {
        "run": "r1",
        "instances": {
            "0": [point(100.0, 10.0, 0.2), point(101.0, 12.0, 0.1), {"t": "bad"}, "junk"],
            "1": [point(100.0, 20.0), point(101.0, 22.0)],
        },
    }
    assert apply_history(run, reply) == 4
    assert run.instances[0].ips_history.points == [(100.0, 10.0), (101.0, 12.0)]
    assert run.instances[0].metric_history.points == [(100.0, 0.2), (101.0, 0.1)]
    assert run.ips_history.points[-1] == (101.0, 34.0)
    assert run.metric_history.points[-1] == (101.0, 0.1)


async def test_a_daemon_without_history_is_asked_once_and_the_plots_still_sample(tmp_path: Path) -> None:
    """An older holdemd answers `history` with unknown_method (a real socket and the real Client)."""
    sock = tmp_path / "old.sock"
    asked: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            req = decode(line)
            asked.append(req["method"])
            writer.write(
                encode(
                    {
                        "id": req["id"],
                        "error": {"code": "unknown_method", "message": f"unknown method {req['method']!r}"},
                    }
                )
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(serve, str(sock))
    try:
        m = two_instance_model()
        conn = Connection(sock, m, lambda: None, lambda status: None)
        assert await conn.fetch_history("r1") is None
        assert await conn.fetch_history("r1") is None
        assert asked == ["history"] and conn.history_supported is False
    finally:
        server.close()
        await server.wait_closed()
    m.sample(200.0)
    assert m.runs["r1"].ips_history.points == [(200.0, 200.0)]


async def test_a_tui_attached_late_plots_the_run_from_before_it_attached(holdemd: Holdemd) -> None:
    """A real Leduc run trains for a while; the TUI then opens its dashboard and plots it all."""
    holdemd.start(
        "--instances", "2", "--config", str(REPO / "configs" / "leduc.yaml"), "--iters", str(10**9), "--seed", "3"
    )
    run_id = holdemd.wait_run(lambda r: r.get("state") == "running", what="the run")["id"]

    def early_points() -> bool:
        """Every instance has 4 points, the first of them 2 s old (points can arrive in a burst)."""
        series = [holdemd.request("history", {"run": run_id})["instances"].get(str(k), ()) for k in range(2)]
        return all(len(s) >= 4 and s[0]["t"] < time.time() - 2 for s in series)

    deadline = time.monotonic() + 90
    while not early_points():
        assert time.monotonic() < deadline, "the daemon recorded no history"
        await asyncio.sleep(0.2)
    attached = time.time()
    app = HoldemApp(holdemd.sock)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: run_id in app.model.runs, what="the run listed")
        app.open_run(run_id)
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        run = app.model.runs[run_id]
        await until(
            pilot,
            lambda: run.ips_history.points and run.ips_history.points[0][0] < attached - 1,
            what="points from before the TUI attached",
        )
        for inst in run.instances.values():
            assert inst.ips_history.points[0][0] < attached - 1
        assert any(v > 0 for t, v in run.ips_history.points if t < attached), "the rates before it attached"
        assert any(t < attached for t, _ in run.metric_history.points), "exploitability from before"
        await until(pilot, lambda: run.ips_history.points[-1][0] > attached + 1, what="live samples after it")
        times = [t for t, _ in run.ips_history.points]
        assert times == sorted(set(times)), "a point twice, or out of order"
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert max(gaps) < 5 * run.ips_history.interval, f"a gap in the series: {max(gaps):.1f}s"
