"""holdemctl: the command-line client of holdemd. Speaks only the socket API (supervisor.protocol).

Every command has --json for machine-readable output. Failures are one line on stderr and a
non-zero exit: 1 an error reply (unknown run, conflict, bad params), 3 no daemon, 4 permission
denied. A daemon that is still starting (no socket yet) is waited for, up to --wait seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from supervisor import version
from supervisor.ctl import blueprint_commands as ctl_blueprint
from supervisor.protocol import Client, DaemonUnavailable, ErrorCode, ProtocolError, RunInfo, socket_path
from supervisor.protocol.describe import describe_estimate, summary_line

FINAL_RUN_STATES = frozenset({"done", "failed", "stopped"})
DEFAULT_WAIT_S = 5.0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an option given before the subcommand must not be reset by the subparser's default
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    common.add_argument(
        "--socket",
        default=argparse.SUPPRESS,
        help=f"daemon socket (default here: {socket_path()}; order: --socket, $HOLDEMD_SOCKET, "
        "$RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR, /tmp/holdemd-<uid>)",
    )
    common.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS,
        metavar="S",
        help="seconds to wait for an answer (default: 600)",
    )
    common.add_argument(
        "--wait",
        type=float,
        default=argparse.SUPPRESS,
        metavar="S",
        help=f"seconds to wait for a daemon that is still starting (default: {DEFAULT_WAIT_S:g})",
    )
    p = argparse.ArgumentParser(prog="holdemctl", description="Control holdemd.", parents=[common])
    p.add_argument("--version", action="version", version=f"holdemctl {version()}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser(
        "status", parents=[common], help="the active runs (else the newest run, marked not active) and their instances"
    )
    s.add_argument("run", nargs="?", help="a run id or unique prefix (default: the active runs)")
    s.add_argument("--all", action="store_true", help="every run the daemon knows, active or not")
    sub.add_parser("runs", parents=[common], help="every run the daemon knows")
    s = sub.add_parser("start", parents=[common], help="start another run (its config is checked first)")
    s.add_argument("--instances", type=int, required=True, metavar="N", help="instances of the run")
    s.add_argument("--config", help="run config (default: the daemon's, configs/quickstart.yaml)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--iters", type=int, help="total iterations, split over the instances (default: the config's)")
    g.add_argument("--time-budget", type=float, metavar="SECONDS", help="each instance trains this long")
    s.add_argument("--seed", type=int, help="run seed (default: random, recorded in run.yaml)")
    s.add_argument("--workers", type=int, help="worker threads per instance")
    s.add_argument("--executor", choices=("local", "slurm"), help="default: the daemon's --executor")
    s.add_argument("--slurm-partition")
    s.add_argument("--slurm-account")
    s.add_argument("--slurm-time")
    s.add_argument("--srun-option", action="append", default=[], metavar="OPT")
    for name, text in (
        ("stop", "stop a run (children checkpoint and exit)"),
        ("resume", "continue a stopped run"),
        ("merge", "merge the instances' strategies now"),
    ):
        sub.add_parser(name, parents=[common], help=text).add_argument("run", nargs="?")
    s = sub.add_parser("restart-instance", parents=[common], help="restart one instance from its checkpoint")
    s.add_argument("index", type=int)
    s.add_argument("--run")
    s = sub.add_parser("logs", parents=[common], help="an instance's log (or the daemon's)")
    s.add_argument("run", nargs="?")
    s.add_argument(
        "--instance",
        "-i",
        type=int,
        help="an instance's train.log (default: the run's run.log, or the daemon's log without RUN)",
    )
    s.add_argument("-n", "--lines", type=int, default=50, help="lines from the end (default: %(default)s)")
    s.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    s = sub.add_parser(
        "watch",
        parents=[common],
        help="live progress bars per instance (plain lines once a second when not a terminal)",
    )
    s.add_argument("run", nargs="?")
    ctl_blueprint.add_parsers(sub, common)
    return p


def _why_shown(run: RunInfo, asked: bool) -> str | None:
    """A listed run that is not active says so, and why it is listed."""
    if run.state in ACTIVE_RUN_STATES:
        return None
    if asked:
        return "not active"
    return "not active: the newest run, shown because no run is active (--all lists every run)"


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False))


ACTIVE_RUN_STATES = frozenset({"running", "stopping", "merging"})


def format_run(run: RunInfo, why_shown: str | None = None) -> str:
    """A run and its instances in lines under 80 columns (widths follow the numbers shown)."""
    lines = [f"run {run.id}  {run.state}" + (f" ({run.reason})" if run.reason else "") + f"  {run.dir}"]
    lines.append(
        f"  {len(run.instances)} instances x {run.workers} workers; cores in use {run.cores_in_use}"
        + (f" of {run.cores}" if run.cores else "")
    )
    if why_shown:
        lines.append(f"  {why_shown}")
    elif run.origin and run.state in ACTIVE_RUN_STATES:
        lines.append(f"  active: {run.origin}")
    if run.phase == "prepare" and run.state not in ("done",):
        lines.append(
            "  phase prepare: instances start when it is over" + (f"; {run.phase_detail}" if run.phase_detail else "")
        )
    counts = [f"{i.iter:,}/{i.target_iters or 0:,}" for i in run.instances]
    cw = max(map(len, counts), default=0)
    rates = [f"{i.ips:,.0f}" for i in run.instances]
    rw = max(map(len, rates), default=0)
    pw = max((len(str(i.pid or "-")) for i in run.instances), default=1)
    for i, count, rate in zip(run.instances, counts, rates):
        target = i.target_iters or 0
        pct = f"{100 * i.iter / target:5.1f}%" if target else "    - "
        extra = f"  {i.reason}" if i.reason else ""
        where = f"  {i.executor}" + (f" job {i.job_id}" if i.job_id else "") + (f" on {i.node}" if i.node else "")
        rss = f"  {i.rss_bytes / 2**20:,.0f} MiB" if i.rss_bytes else ""  # workers: on the run's line
        lines.append(
            f"  [{i.index}] {i.state:<8} pid {i.pid or '-'!s:<{pw}}  {count:>{cw}} {pct}  {rate:>{rw}} it/s"
            f"{rss}  restarts {i.restarts}{where}{extra}"
        )
    if run.merged:
        lines.append(f"  merged: {run.merged}")
    lines += [f"  {line}" for line in (describe_estimate(run.estimate), summary_line(run.eval)) if line]
    return "\n".join(lines)


def progress_line(run: RunInfo) -> str:
    """One plain line for a run: time, state (and phase), progress, rate, every instance's state."""
    done = sum(i.iter for i in run.instances)
    target = sum(i.target_iters or 0 for i in run.instances)
    ips = sum(i.ips for i in run.instances if i.state == "running")
    pct = f"{100 * done / target:5.1f}%" if target else "  ?  "
    states = " ".join(f"[{i.index}]{i.state}" for i in run.instances)
    state = f"{run.state}/prepare" if run.phase == "prepare" and run.state == "running" else run.state
    detail = f"  ({run.phase_detail})" if run.phase == "prepare" and run.phase_detail else ""
    return f"{time.strftime('%H:%M:%S')} run {run.id} {state:<9} {pct} {done:,}/{target:,} {ips:,.0f} it/s  {states}{detail}"


async def follow_plain(
    c: Client, run_id: str | None, interval: float = 1.0, final: frozenset[str] = FINAL_RUN_STATES
) -> RunInfo | None:
    """Print progress_line once per interval until the run (default: the newest) reaches a final state."""
    while True:
        runs = (await c.call("status", {"run": run_id} if run_id else {}))["runs"]
        if runs:
            run = RunInfo.from_dict(runs[0])
            run_id = run_id or run.id
            print(progress_line(run), flush=True)
            if run.state in final:
                return run
        await asyncio.sleep(interval)


async def _run(args: argparse.Namespace) -> int:
    client = Client(args.socket, call_timeout=args.timeout or 600.0)
    try:
        await connect_waiting(client, args.wait)
        return await _command(client, args)
    finally:
        await client.close()


async def connect_waiting(client: Client, wait_s: float) -> None:
    """Connect, retrying for up to wait_s while nobody listens yet (a daemon that is starting)."""
    deadline = time.monotonic() + max(0.0, wait_s)
    while True:
        try:
            await client.connect()
            return
        except DaemonUnavailable as exc:
            if time.monotonic() >= deadline:
                raise DaemonUnavailable(exc.message + (f"; waited {wait_s:g}s" if wait_s > 0 else "")) from None
            await asyncio.sleep(0.1)


async def _command(c: Client, args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd in ("status", "runs"):
        every = cmd == "runs" or args.all
        asked = cmd == "status" and bool(args.run)
        res = await (
            c.call("runs.list")
            if cmd == "runs"
            else c.call("status", {"run": args.run} if args.run else {"all": True} if every else {})
        )
        warnings = res.get("daemon", {}).get("warnings", [])
        if args.json:
            _print_json({"runs": res["runs"], **({"warnings": warnings} if warnings else {})})
        else:
            runs = [RunInfo.from_dict(r) for r in res["runs"]]
            print(
                "\n".join(
                    [
                        *(f"warning: {w}" for w in warnings),
                        *(format_run(r, _why_shown(r, every or asked)) for r in runs),
                    ]
                )
                if runs or warnings
                else "no runs"
            )
        return 0
    if cmd == "start":
        params = {
            k: v
            for k, v in {
                "instances": args.instances,
                "config": str(Path(args.config).resolve()) if args.config else None,
                "iters": args.iters,
                "time_budget_s": args.time_budget,
                "seed": args.seed,
                "workers": args.workers,
            }.items()
            if v is not None
        }
        if args.executor or args.slurm_partition or args.slurm_account or args.slurm_time or args.srun_option:
            params["executor"] = {
                "name": args.executor or "slurm",
                "partition": args.slurm_partition,
                "account": args.slurm_account,
                "time_limit": args.slurm_time,
                "options": args.srun_option,
            }
        res = await c.call("run.start", params)
    elif cmd in ("stop", "resume", "merge"):
        res = await c.call(f"run.{cmd}", {"run": args.run} if args.run else {})
    elif cmd == "restart-instance":
        res = await c.call("instance.restart", {"index": args.index, **({"run": args.run} if args.run else {})})
    elif cmd == "logs":
        return await _logs(c, args)
    elif cmd in ("strategy", "eval"):
        return await ctl_blueprint.command(c, args)
    else:
        return await _watch(c, args)
    if args.json:
        _print_json(res)
    else:
        print(format_run(RunInfo.from_dict(res["run"])))
    return 0


async def _logs(c: Client, args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"lines": args.lines}
    if args.run:
        params["run"] = args.run
    if args.instance is not None:
        params["index"] = args.instance
    res = await c.call("logs.tail", params)
    for line in res["lines"]:
        print(json.dumps({"line": line}) if args.json else line, flush=True)
    if not args.follow:
        return 0
    run_id = None
    if args.run or args.instance is not None:
        run_id = (await c.call("status", {"run": args.run} if args.run else {}))["runs"][0]["id"]
    async for ev in c.subscribe({"run": run_id} if run_id else {}):
        if ev.get("event") != "log" or ev.get("instance") != args.instance:
            continue
        if run_id is None and ev.get("run") is not None:
            continue
        print(json.dumps(ev) if args.json else ev.get("line", ""), flush=True)
    return 0


async def _watch(c: Client, args: argparse.Namespace) -> int:
    res = await c.call("status", {"run": args.run} if args.run else {})
    if not res["runs"]:
        raise ProtocolError(ErrorCode.UNKNOWN_RUN, "no active run to watch")
    run = RunInfo.from_dict(res["runs"][0])
    if not args.json and not sys.stdout.isatty():  # a pipe or a log file: plain lines, as `make run` prints
        await follow_plain(c, run.id)
        return 0
    insts = {
        i.index: dict(state=i.state, iter=i.iter, target=i.target_iters or 0, ips=i.ips, restarts=i.restarts)
        for i in run.instances
    }
    state = {"run": run.state}
    if run.state in FINAL_RUN_STATES:  # nothing more will happen: show it once
        if args.json:
            print(
                json.dumps(
                    {
                        "event": "state",
                        "run": run.id,
                        "instance": None,
                        "state": run.state,
                        "reason": run.reason,
                        "t": time.time(),
                    }
                )
            )
        else:
            from rich.console import Console

            console = Console()
            console.print(_render(run.id, run.state, insts, console.width))
        return 0
    if args.json:
        async for ev in c.subscribe({"run": run.id}):
            print(json.dumps(ev), flush=True)
            if ev.get("event") == "state" and ev.get("instance") is None and ev.get("state") in FINAL_RUN_STATES:
                return 0
        return 0
    from rich.live import Live  # only watch needs rich

    def apply(ev: dict[str, Any]) -> None:
        k = ev.get("instance")
        if ev.get("event") == "progress" and k in insts:
            insts[k].update(
                iter=ev["iter"], ips=ev.get("ips") or 0.0, target=ev.get("target_iters") or insts[k]["target"]
            )
        elif ev.get("event") == "state":
            if k is None:
                state["run"] = ev["state"]
            elif k in insts:
                insts[k]["state"] = ev["state"]

    async def resync() -> None:
        """State changes carry no counters: take iterations and restarts from the daemon."""
        fresh = RunInfo.from_dict((await c.call("status", {"run": run.id}))["runs"][0])
        state["run"] = fresh.state
        for i in fresh.instances:
            insts[i.index].update(
                state=i.state, iter=i.iter, target=i.target_iters or 0, restarts=i.restarts, ips=i.ips
            )

    with Live(_render(run.id, state["run"], insts), refresh_per_second=4, transient=False) as live:
        width = live.console.width
        last = 0.0
        async for ev in c.subscribe({"run": run.id}):
            apply(ev)
            if ev.get("event") == "state":
                await resync()
            now = time.monotonic()
            if now - last > 0.2 or ev.get("event") == "state":
                live.update(_render(run.id, state["run"], insts, width))
                last = now
            if state["run"] in FINAL_RUN_STATES:
                break
    return 0


def _render(run_id: str, run_state: str, insts: dict[int, dict[str, Any]], width: int = 80) -> Any:
    """The watch table; the bar takes what the numbers leave of `width`, so no number is ever cut."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    rows = []
    tot_iter = tot_target = 0
    tot_ips = 0.0
    for k in sorted(insts):
        i = insts[k]
        tot_iter += i["iter"]
        tot_target += i["target"]
        tot_ips += i["ips"] if i["state"] == "running" else 0.0
        rows.append(
            (
                str(k),
                i["state"],
                i["iter"],
                i["target"],
                f"{i['iter']:,}/{i['target']:,}",
                f"{i['ips']:,.0f}",
                _eta(i["target"] - i["iter"], i["ips"]),
                str(i["restarts"]),
            )
        )
    rows.append(
        (
            "all",
            "",
            tot_iter,
            tot_target,
            f"{tot_iter:,}/{tot_target:,}",
            f"{tot_ips:,.0f}",
            _eta(tot_target - tot_iter, tot_ips),
            "",
        )
    )
    heads = ("#", "state", "progress", "iterations", "it/s", "ETA", "restarts")
    text_cols = [0, 1, 4, 5, 6, 7]
    widths = [max([len(r[c]) for r in rows] + [len(h)]) for c, h in zip(text_cols, (heads[0], heads[1], *heads[3:]))]
    # no box and no edge padding: two cells per column gap; the bar gets what the numbers leave
    bar_width = max(8, min(30, width - sum(widths) - 2 * (len(heads) - 1) - 1))
    table = Table(
        title=f"run {run_id} — {run_state}", expand=False, box=None, pad_edge=False, header_style="bold underline"
    )
    for col in heads:
        table.add_column(col, justify="right" if col not in ("state", "progress") else "left", no_wrap=True)
    for r in rows:
        table.add_row(r[0], r[1], ProgressBar(total=max(r[3], 1), completed=r[2], width=bar_width), *r[4:])
    return table


def _eta(remaining: int, ips: float) -> str:
    if remaining <= 0:
        return "0s"
    if ips <= 0:
        return "-"
    s = int(remaining / ips)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _stdout_gone() -> int:
    """The reader of our stdout left (`holdemctl status | head -2`): exit quietly, as Unix tools do.

    stdout is pointed at /dev/null so the interpreter's final flush cannot fail a second time.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name, default in (("json", False), ("socket", None), ("timeout", None), ("wait", DEFAULT_WAIT_S)):
        if not hasattr(args, name):
            setattr(args, name, default)
    try:
        code = asyncio.run(_run(args))
        sys.stdout.flush()  # here, not at interpreter exit, so a closed pipe is caught below
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _stdout_gone()
    except DaemonUnavailable as exc:
        print(f"holdemctl: {exc.message}", file=sys.stderr)
        return 3
    except ProtocolError as exc:
        print(f"holdemctl: {exc.message}", file=sys.stderr)
        return 4 if exc.code == ErrorCode.PERMISSION_DENIED.value else 1


if __name__ == "__main__":
    sys.exit(main())
