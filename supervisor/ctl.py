"""holdemctl: the command-line client of holdemd. Speaks only the socket API (supervisor.protocol).

Every command has --json for machine-readable output. Failures are one line on stderr and a
non-zero exit: 1 an error reply (unknown run, conflict, bad params), 3 no daemon, 4 permission
denied.
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

from .protocol import Client, DaemonUnavailable, ErrorCode, ProtocolError, RunInfo

FINAL_RUN_STATES = frozenset({"done", "failed", "stopped"})


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an option given before the subcommand must not be reset by the subparser's default
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    common.add_argument("--socket", default=argparse.SUPPRESS,
                        help="daemon socket (default: $HOLDEMD_SOCKET, $RUNTIME_DIRECTORY, ...)")
    common.add_argument("--timeout", type=float, default=argparse.SUPPRESS, help="seconds to wait for an answer")
    p = argparse.ArgumentParser(prog="holdemctl", description="Control holdemd.", parents=[common])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("status", parents=[common], help="active runs and their instances")
    s.add_argument("run", nargs="?")
    sub.add_parser("runs", parents=[common], help="every run the daemon knows")
    s = sub.add_parser("start", parents=[common], help="start another run")
    s.add_argument("--instances", type=int, required=True)
    s.add_argument("--config")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--iters", type=int)
    g.add_argument("--time-budget", type=float)
    s.add_argument("--seed", type=int)
    s.add_argument("--executor", choices=("local", "slurm"), help="default: the daemon's --executor")
    s.add_argument("--slurm-partition")
    s.add_argument("--slurm-account")
    s.add_argument("--slurm-time")
    s.add_argument("--srun-option", action="append", default=[], metavar="OPT")
    for name, text in (("stop", "stop a run (children checkpoint and exit)"), ("resume", "continue a stopped run"),
                       ("merge", "merge the instances' strategies now")):
        sub.add_parser(name, parents=[common], help=text).add_argument("run", nargs="?")
    s = sub.add_parser("restart-instance", parents=[common], help="restart one instance from its checkpoint")
    s.add_argument("index", type=int)
    s.add_argument("--run")
    s = sub.add_parser("logs", parents=[common], help="an instance's log (or the daemon's)")
    s.add_argument("run", nargs="?")
    s.add_argument("--instance", "-i", type=int)
    s.add_argument("-n", "--lines", type=int, default=50)
    s.add_argument("-f", "--follow", action="store_true")
    s = sub.add_parser("watch", parents=[common], help="live progress bars per instance")
    s.add_argument("run", nargs="?")
    return p


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False))


def format_run(run: RunInfo) -> str:
    lines = [f"run {run.id}  {run.state}" + (f" ({run.reason})" if run.reason else "") + f"  {run.dir}"]
    for i in run.instances:
        target = i.target_iters or 0
        pct = f"{100 * i.iter / target:5.1f}%" if target else "   -  "
        extra = f"  {i.reason}" if i.reason else ""
        where = f"  {i.executor}" + (f" job {i.job_id}" if i.job_id else "") + (f" on {i.node}" if i.node else "")
        lines.append(f"  [{i.index}] {i.state:<9} pid {i.pid or '-':<7} {i.iter:>12,}/{target:<12,} {pct} "
                     f"{i.ips:>10,.0f} it/s  restarts {i.restarts}{where}{extra}")
    if run.merged:
        lines.append(f"  merged: {run.merged}")
    return "\n".join(lines)


async def _run(args: argparse.Namespace) -> int:
    client = Client(args.socket, call_timeout=args.timeout or 600.0)
    try:
        return await _command(client, args)
    finally:
        await client.close()


async def _command(c: Client, args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd in ("status", "runs"):
        res = await (c.call("status", {"run": args.run} if args.run else {}) if cmd == "status"
                     else c.call("runs.list"))
        warnings = res.get("daemon", {}).get("warnings", [])
        if args.json:
            _print_json({"runs": res["runs"], **({"warnings": warnings} if warnings else {})})
        else:
            runs = [RunInfo.from_dict(r) for r in res["runs"]]
            print("\n".join([*(f"warning: {w}" for w in warnings),
                             *(format_run(r) for r in runs)]) if runs or warnings else "no runs")
        return 0
    if cmd == "start":
        params = {k: v for k, v in {"instances": args.instances, "config": str(Path(args.config).resolve()) if args.config else None, "iters": args.iters,
                                    "time_budget_s": args.time_budget, "seed": args.seed}.items() if v is not None}
        if args.executor or args.slurm_partition or args.slurm_account or args.slurm_time or args.srun_option:
            params["executor"] = {"name": args.executor or "slurm", "partition": args.slurm_partition,
                                  "account": args.slurm_account, "time_limit": args.slurm_time,
                                  "options": args.srun_option}
        res = await c.call("run.start", params)
    elif cmd in ("stop", "resume", "merge"):
        res = await c.call(f"run.{cmd}", {"run": args.run} if args.run else {})
    elif cmd == "restart-instance":
        res = await c.call("instance.restart", {"index": args.index, **({"run": args.run} if args.run else {})})
    elif cmd == "logs":
        return await _logs(c, args)
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
    insts = {i.index: dict(state=i.state, iter=i.iter, target=i.target_iters or 0, ips=i.ips, restarts=i.restarts)
             for i in run.instances}
    state = {"run": run.state}
    if run.state in FINAL_RUN_STATES:  # nothing more will happen: show it once
        if args.json:
            print(json.dumps({"event": "state", "run": run.id, "instance": None, "state": run.state,
                              "reason": run.reason, "t": time.time()}))
        else:
            from rich.console import Console
            Console().print(_render(run.id, run.state, insts))
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
            insts[k].update(iter=ev["iter"], ips=ev.get("ips") or 0.0, target=ev.get("target_iters") or insts[k]["target"])
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
            insts[i.index].update(state=i.state, iter=i.iter, target=i.target_iters or 0, restarts=i.restarts,
                                  ips=i.ips)

    with Live(_render(run.id, state["run"], insts), refresh_per_second=4, transient=False) as live:
        last = 0.0
        async for ev in c.subscribe({"run": run.id}):
            apply(ev)
            if ev.get("event") == "state":
                await resync()
            now = time.monotonic()
            if now - last > 0.2 or ev.get("event") == "state":
                live.update(_render(run.id, state["run"], insts))
                last = now
            if state["run"] in FINAL_RUN_STATES:
                break
    return 0


def _render(run_id: str, run_state: str, insts: dict[int, dict[str, Any]]) -> Any:
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    table = Table(title=f"run {run_id} — {run_state}", expand=False)
    for col in ("#", "state", "progress", "iterations", "it/s", "ETA", "restarts"):
        table.add_column(col, justify="right" if col not in ("state", "progress") else "left")
    tot_iter = tot_target = 0
    tot_ips = 0.0
    for k in sorted(insts):
        i = insts[k]
        tot_iter += i["iter"]
        tot_target += i["target"]
        tot_ips += i["ips"] if i["state"] == "running" else 0.0
        table.add_row(str(k), i["state"], ProgressBar(total=max(i["target"], 1), completed=i["iter"], width=30),
                      f"{i['iter']:,}/{i['target']:,}", f"{i['ips']:,.0f}", _eta(i["target"] - i["iter"], i["ips"]),
                      str(i["restarts"]))
    table.add_row("all", "", ProgressBar(total=max(tot_target, 1), completed=tot_iter, width=30),
                  f"{tot_iter:,}/{tot_target:,}", f"{tot_ips:,.0f}", _eta(tot_target - tot_iter, tot_ips), "")
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
    for name, default in (("json", False), ("socket", None), ("timeout", None)):
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
