"""The TUI's model, formatting and form validation: pure functions, specified by example."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervisor.protocol import InstanceInfo, RunInfo
from tui import format as fmt
from tui.model import Model
from tui.screens.new_run import StartForm, parse_duration, validate
from tui.series import History
from tui.views import checkpoint_iter, pick_metric


def info(state: str = "running", iters=(100, 200), targets=(1000, 1000), **kw) -> RunInfo:
    insts = tuple(
        InstanceInfo(index=k, state="running", iter=it, target_iters=tg, ips=10.0)
        for k, (it, tg) in enumerate(zip(iters, targets))
    )
    return RunInfo(id=kw.pop("id", "r1"), state=state, dir="/x", instances=insts, iters=sum(targets), **kw)


def progress(run="r1", instance=0, it=0, t=100.0, **kw):
    return {
        "event": "progress",
        "run": run,
        "instance": instance,
        "iter": it,
        "target_iters": 1000,
        "ips": 50.0,
        "elapsed_s": 2.0,
        "t": t,
        "t_recv": t,
        **kw,
    }


def test_snapshot_then_events_update_progress_rate_and_eta() -> None:
    m = Model()
    m.apply_snapshot([info()], requested_t=10.0)
    run = m.runs["r1"]
    assert run.total_iter == 300 and run.total_target == 2000
    assert run.fraction == pytest.approx(0.15)
    assert m.apply_event(progress(it=500, t=11.0)) == "r1"
    assert run.instances[0].iter == 500 and run.total_ips == 60.0
    # the slowest instance decides: (1000-200)/10 s for instance 1
    assert run.eta_s == pytest.approx(80.0)


def test_events_older_than_the_snapshot_are_ignored() -> None:
    m = Model()
    m.apply_snapshot([info()], requested_t=10.0)
    assert m.apply_event(progress(it=5, t=9.0)) is None
    assert m.runs["r1"].instances[0].iter == 100


def test_state_checkpoint_and_log_events() -> None:
    m = Model()
    m.apply_snapshot([info()], requested_t=0.0)
    m.apply_event({"event": "state", "run": "r1", "instance": 1, "state": "backoff", "reason": "exit code 3", "t": 1.0})
    inst = m.runs["r1"].instances[1]
    assert inst.state == "backoff" and inst.restarts == 1 and inst.error_line == "exit code 3" and inst.ips == 0
    m.apply_event(
        {
            "event": "checkpoint",
            "run": "r1",
            "instance": 0,
            "iter": 1500,
            "path": "/x/checkpoints/000000001500",
            "t": 2.0,
        }
    )
    assert m.runs["r1"].instances[0].checkpoint_iter == 1500 and m.runs["r1"].instances[0].checkpoint_t == 2.0
    m.apply_event({"event": "log", "run": "r1", "instance": 0, "line": "ValueError: boom", "t": 3.0})
    m.apply_event({"event": "log", "run": "r1", "instance": 0, "line": "all fine", "t": 3.0})
    assert list(m.runs["r1"].instances[0].log) == ["ValueError: boom", "all fine"]
    assert m.runs["r1"].instances[0].error_line == "ValueError: boom"
    m.apply_event({"event": "state", "run": "r1", "instance": None, "state": "stopping", "reason": None, "t": 4.0})
    assert m.runs["r1"].state == "stopping"
    m.apply_event({"event": "log", "run": None, "instance": None, "line": "daemon says hi", "t": 5.0})
    assert list(m.daemon_log) == ["daemon says hi"]


def test_a_complete_snapshot_forgets_runs_the_daemon_no_longer_lists() -> None:
    m = Model()
    m.apply_snapshot([info(id="a"), info(id="b")], 0.0)
    m.apply_snapshot([info(id="b")], 1.0, complete=False)
    assert set(m.runs) == {"a", "b"}
    m.apply_snapshot([info(id="b")], 2.0)
    assert set(m.runs) == {"b"}


def test_metric_prefers_exploitability_and_survives_its_absence() -> None:
    assert pick_metric({"avg_regret": 0.5, "exploitability": 0.01}) == ("exploitability", 0.01)
    assert pick_metric({"avg_regret": 0.5}) == ("avg_regret", 0.5)
    assert pick_metric({}) is None and pick_metric(None) is None and pick_metric({"exploitability": "x"}) is None
    m = Model()
    m.apply_snapshot([info()], 0.0)
    m.apply_event(progress(it=1, t=1.0))
    assert m.runs["r1"].metric is None
    m.apply_event(progress(it=2, t=2.0, metrics={"exploitability": 0.2}))
    m.apply_event(progress(instance=1, it=2, t=2.0, metrics={"exploitability": 0.4}))
    assert m.runs["r1"].metric == ("exploitability", pytest.approx(0.3))
    m.sample(10.0)
    assert m.runs["r1"].metric_history.values() == [pytest.approx(0.3)]
    assert m.runs["r1"].ips_history.values() == [100.0]


def test_history_keeps_whole_run_coverage_in_bounded_points() -> None:
    h = History(capacity=8, interval=1.0)
    for t in range(100):
        h.add(float(t), float(t))
    assert len(h) < 8
    assert h.times()[0] < 40 and h.times()[-1] >= 90  # old and new both represented
    assert h.interval > 1.0
    assert not h.add(h.times()[-1] + 0.5, 1.0)  # faster than the interval: dropped


def test_time_budget_runs_progress_by_elapsed_time() -> None:
    m = Model()
    run = RunInfo(
        id="t",
        state="running",
        dir="/x",
        time_budget_s=100.0,
        instances=(InstanceInfo(index=0, state="running", elapsed_s=25.0, ips=5.0),),
    )
    m.apply_snapshot([run], 0.0)
    assert m.runs["t"].fraction == pytest.approx(0.25) and m.runs["t"].eta_s == pytest.approx(75.0)


def test_formatting() -> None:
    assert fmt.duration(None) == "—" and fmt.duration(5) == "5s" and fmt.duration(725) == "12m05s"
    assert fmt.duration(3 * 3600 + 7 * 60) == "3h07m" and fmt.duration(2 * 86400 + 4 * 3600) == "2d04h"
    assert fmt.count(999) == "999" and fmt.count(12_345) == "12.3k" and fmt.count(4_560_000) == "4.56M"
    assert fmt.rate(0) == "—" and fmt.rate(2.5) == "2.5/s" and fmt.rate(125_000) == "125k/s"
    assert str(fmt.bar(0.5, 10)) == "█████░░░░░  50%" and str(fmt.bar(1.0, 4)) == "████ 100%"
    assert str(fmt.state_text("failed")) == "✖ failed"
    assert fmt.clip("a" * 10, 5) == "aaaa…" and checkpoint_iter("/r/checkpoints/000000001500") == 1500


def test_new_run_form_validation(tmp_path: Path) -> None:
    cfg = tmp_path / "kuhn.yaml"
    cfg.write_text("game: kuhn\n")
    params, errors = validate(StartForm("kuhn.yaml", "4", "iters", "100_000", "7"), tmp_path)
    assert errors == {} and params == {"config": str(cfg), "instances": 4, "iters": 100000, "seed": 7}
    params, errors = validate(StartForm(str(cfg), "2", "budget", "15m"), tmp_path)
    assert params == {"config": str(cfg), "instances": 2, "time_budget_s": 900.0}
    params, errors = validate(StartForm("nope.yaml", "0", "iters", "3", "x"), tmp_path)
    assert params is None and set(errors) == {"config", "instances", "seed"}
    _, errors = validate(StartForm("", "8", "iters", "3"), tmp_path)
    assert "at least one iteration per instance" in errors["amount"]
    _, errors = validate(StartForm("", "1", "budget", "soon"), tmp_path)
    assert "time budget" in errors["amount"]
    assert parse_duration("2h") == 7200 and parse_duration("0") is None and parse_duration("1.5d") == 129600


def test_the_where_column_shows_a_slurm_instances_job_and_node() -> None:
    from tui.views import InstanceView
    from tui.widgets.instance_table import where_cell

    assert where_cell(InstanceView(0)).plain == "local"
    assert where_cell(InstanceView(0, executor="slurm")).plain == "slurm"
    assert where_cell(InstanceView(0, executor="slurm", job_id="41")).plain == "41 pending"
    assert where_cell(InstanceView(0, executor="slurm", job_id="41", node="node07")).plain == "41@node07"
