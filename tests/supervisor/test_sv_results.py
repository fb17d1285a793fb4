"""The results database on its own (real SQLite): history points are kept at the instance's interval,
thinned to every other one past the cap with the first kept, and read back down-sampled."""

from __future__ import annotations

from pathlib import Path

from supervisor.state.results import Results


def progress(t: float, it: int, run: str = "r", instance: int = 0) -> dict:
    return {
        "event": "progress",
        "run": run,
        "instance": instance,
        "iter": it,
        "ips": 10.0,
        "t": t,
        "metrics": {"avg_regret": 1.0 / (1 + it)},
    }


def test_points_are_kept_at_the_interval_and_survive_a_reopen(tmp_path: Path) -> None:
    res = Results(tmp_path / "r.sqlite3", cap=100, interval_s=1.0)
    for k in range(50):  # an event every 0.25 s for 12.5 s
        res.observe(progress(1000 + k * 0.25, k))
    res.close()
    res = Results(tmp_path / "r.sqlite3", cap=100, interval_s=1.0)
    points = res.history("r", 0, 2000)
    assert [p["t"] for p in points] == [1000 + s for s in range(13)]  # one a second; nothing newer unseen
    assert points[0]["metrics"] == {"avg_regret": 1.0} and points[1]["iter"] == 4
    assert res.history("r", 1, 2000) == []


def test_past_the_cap_every_other_point_goes_and_the_interval_doubles(tmp_path: Path) -> None:
    res = Results(tmp_path / "r.sqlite3", cap=16, interval_s=1.0)
    for s in range(1000):
        res.observe(progress(float(s), s))
        if s % 10 == 9:
            res.flush()
    points = res.history("r", 0, 2000)
    assert len(points) <= 16 + 1  # the cap, and the newest event (not stored: between two kept points)
    assert points[0]["t"] == 0.0 and points[-1]["t"] == 999.0  # the start is kept; the newest event shown
    gaps = [b["t"] - a["t"] for a, b in zip(points, points[1:-1])]
    assert max(gaps) <= 2 * min(gaps)  # evenly spread over the whole life, not only recent points
    res.close()
    again = Results(tmp_path / "r.sqlite3", cap=16, interval_s=1.0)  # the doubled interval is remembered
    again.observe(progress(1000.0, 1000))
    again.observe(progress(1001.0, 1001))
    assert len(again.history("r", 0, 2000)) <= 17


def test_a_reply_is_down_sampled_evenly_keeping_the_first_and_the_newest(tmp_path: Path) -> None:
    res = Results(tmp_path / "r.sqlite3", cap=10_000, interval_s=0.0)
    for s in range(500):
        res.observe(progress(float(s), s))
    points = res.history("r", 0, 10)
    assert len(points) == 10 and points[0]["iter"] == 0 and points[-1]["iter"] == 499
    assert [p["iter"] for p in points] == sorted(p["iter"] for p in points)
