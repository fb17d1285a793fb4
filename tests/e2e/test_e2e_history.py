"""The `history` method on a real 2-instance Leduc run: a client attaching late gets the series from the
run's start, it survives a SIGKILL of the daemon, a reply honours max_points, bad params are named."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "supervisor"))
from sv_harness import REAL_WORKER_NICE, HoldemD, ProtocolError

ARGS = ["--backoff-base", "0.05", "--backoff-cap", "0.5", "--stop-timeout", "60", "--history-interval", "0.1"]


def leduc_config(path: Path) -> Path:
    path.write_text(
        "game: leduc\nalgorithm: es-mccfr\niterations: 1000000\n"
        "checkpoint: {every_iterations: 20000, every_seconds: 0, keep: 2}\n"
        "metrics: {progress_interval_s: 0.05, exploitability_every_s: 0}\n"
    )
    return path


async def points_of(d: HoldemD, run: str, at_least: int, timeout: float = 120.0) -> dict[str, list[dict]]:
    """history until every instance has `at_least` points (the run is training meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        res = await d.call("history", {"run": run})
        if all(len(p) >= at_least for p in res["instances"].values()):
            return res["instances"]
        assert time.monotonic() < deadline, (
            f"history stayed short: { {k: len(v) for k, v in res['instances'].items()} }"
        )
        await d.wait_until(lambda s: True, run)  # one status round trip on the event stream


async def test_history_holds_the_whole_run_across_a_daemon_sigkill(tmp_path: Path) -> None:
    cfg = leduc_config(tmp_path / "leduc.yaml")
    d = HoldemD(tmp_path / "d", REAL_WORKER_NICE, args=ARGS)
    try:
        await d.start("--instances", "2", "--config", str(cfg), "--iters", "100000000", "--seed", "3")
        st = await d.wait_until(
            lambda s: s.get("instances") and all(i["iter"] > 0 for i in s["instances"]), what="both instances training"
        )
        run = st["id"]
        before = await points_of(d, run, 12)
        assert set(before) == {"0", "1"}
        for series in before.values():
            assert series[0]["t"] <= series[-1]["t"] and [p["t"] for p in series] == sorted(p["t"] for p in series)
            assert series[0]["iter"] < series[-1]["iter"] and series[-1]["ips"] > 0
            assert "avg_regret" in series[-1]["metrics"]
            assert series[0]["t"] - st["created"] < 120  # from the run's first progress on
        one = await d.call("history", {"run": run, "instance": 1, "max_points": 10})
        assert list(one["instances"]) == ["1"] and len(one["instances"]["1"]) == 10
        assert one["instances"]["1"][0] == before["1"][0]  # down-sampling keeps the first point

        await d.kill9()
        await d.start()
        await d.wait_until(lambda s: all(i["state"] == "running" for i in s["instances"]), run, what="resumed")
        after = await points_of(d, run, len(before["0"]) + 5)
        for k in ("0", "1"):
            assert after[k][0] == before[k][0]  # the start of the run is still there
            assert after[k][-1]["t"] > before[k][-1]["t"] + 0.05  # and the points of the new daemon follow

        for params, needle in (
            ({"run": run, "max_points": 5}, "'max_points'"),
            ({"run": run, "max_points": "many"}, "'max_points'"),
            ({"run": run, "instance": 7}, "'instance'"),
            ({"run": run, "points": 3}, "points"),
        ):
            with pytest.raises(ProtocolError) as err:
                await d.call("history", params)
            assert err.value.code == "invalid_params" and needle in err.value.message
        with pytest.raises(ProtocolError) as err:
            await d.call("history", {"run": "no-such-run"})
        assert err.value.code == "unknown_run"

        # a Leduc run has no hold'em blueprint: holdem's own refusal, and no ladder (exact exploitability)
        with pytest.raises(ProtocolError) as err:
            await d.call("strategy", {"run": run, "hand": "AsKd", "source": "latest"})
        assert err.value.code == "invalid_params" and "not a hold'em one" in err.value.message
        with pytest.raises(ProtocolError) as err:
            await d.call("run.eval", {"run": run})
        assert err.value.code == "invalid_params" and "exact" in err.value.message
        assert (await d.status(run))["eval"] is None and (await d.status(run))["estimate"] is None
    finally:
        await d.stop()
