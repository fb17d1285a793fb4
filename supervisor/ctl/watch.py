"""holdemctl watch: live progress bars per instance on a terminal (rich), the events as JSON Lines
with --json, and plain progress lines once a second on a pipe."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from supervisor.ctl.format import FINAL_RUN_STATES, eta, progress_line
from supervisor.protocol import Client, ErrorCode, ProtocolError, RunInfo


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


async def watch(c: Client, args: argparse.Namespace) -> int:
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
            console.print(render_table(run.id, run.state, insts, console.width))
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

    with Live(render_table(run.id, state["run"], insts), refresh_per_second=4, transient=False) as live:
        width = live.console.width
        last = 0.0
        async for ev in c.subscribe({"run": run.id}):
            apply(ev)
            if ev.get("event") == "state":
                await resync()
            now = time.monotonic()
            if now - last > 0.2 or ev.get("event") == "state":
                live.update(render_table(run.id, state["run"], insts, width))
                last = now
            if state["run"] in FINAL_RUN_STATES:
                break
    return 0


def render_table(run_id: str, run_state: str, insts: dict[int, dict[str, Any]], width: int = 80) -> Any:
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
                eta(i["target"] - i["iter"], i["ips"]),
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
            eta(tot_target - tot_iter, tot_ips),
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
