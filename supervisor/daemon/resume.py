"""Which runs `holdemd start` resumes and which it starts: START_BEHAVIOUR says how (it is also the
description `holdemd start --help` prints)."""

from __future__ import annotations

import logging

from supervisor.config import DaemonConfig
from supervisor.daemon.service import Daemon
from supervisor.jobs.submit import describe_spec, resolve_config, same_run

log = logging.getLogger("holdemd")

START_BEHAVIOUR = """\
What `holdemd start` does with runs (each decision is logged, and `holdemctl status` shows it as the
run's origin): every run whose desired state is "running" is resumed (it was running when the
last daemon stopped), unless `--no-resume`. With run arguments (`--instances N` ...) the config is
checked first (`holdem check-config`; a bad one exits 2 before anything starts); if an unfinished
run has exactly these arguments it is the one resumed (so a restart by systemd is idempotent),
otherwise a new run is started from them, beside the resumed ones; `--new` starts a new one even
then.
"""


def start_runs(cfg: DaemonConfig, daemon: Daemon) -> None:
    """Resume and start runs as START_BEHAVIOUR says, logging every decision and its reason."""
    resumable = daemon.load()
    config = resolve_config(cfg.start, cfg.default_config) if cfg.start is not None else None
    same = None
    if cfg.start is not None and config is not None and not cfg.start_new:
        same = next((sup for sup in resumable if same_run(sup.dir, cfg.start, config)), None)
    if cfg.start is not None and same is None:
        assert config is not None  # started first: a spec that cannot make a run exits before anything resumes
        sup = daemon.start_run(cfg.start, f"started from holdemd start arguments: {describe_spec(cfg.start, config)}")
        log.info("started run %s from the arguments (%s) in %s", sup.id, describe_spec(cfg.start, config), sup.dir)
    for sup in resumable:
        where = f"{sup.state.value} at {sup.progress_text()}"
        if sup is same:
            why = "resumed at start-up: holdemd start was given the same arguments as this run"
        elif cfg.no_resume:
            sup.park(f"left stopped at start-up (holdemd start --no-resume); `holdemctl resume {sup.id}` continues it")
            log.info("not resuming run %s (%s): --no-resume; `holdemctl resume %s` continues it", sup.id, where, sup.id)
            continue
        else:
            why = "resumed at start-up: it was running when holdemd last stopped"
        log.info(
            "resuming run %s (%s): %s%s",
            sup.id,
            where,
            why.split(": ", 1)[1],
            ""
            if cfg.start is None or sup is same
            else f"; beside the new run (`holdemctl stop {sup.id}` stops it, --no-resume leaves it stopped)",
        )
        sup.set_origin(why)
        sup.start()
    daemon.evals.rerun_interrupted({run_id: sup.dir for run_id, sup in daemon.runs.items()})
    if not daemon.newest_active():
        log.info("no run to resume; waiting for `holdemctl start` (%d finished run(s) known)", len(daemon.runs))
