"""holdemctl's blueprint commands: `strategy` (what a run's blueprint plays at a spot) and `eval` (the
evaluation ladder), over the socket API like every other command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from typing import Any

from supervisor.protocol import Client, ErrorCode, ProtocolError
from supervisor.protocol.describe import summary_line


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser("strategy", parents=[common], help="what a run's blueprint plays at a spot (holdem strategy)")
    s.add_argument("run", nargs="?", help="a run id or unique prefix (default: the newest active run)")
    what = s.add_mutually_exclusive_group(required=True)
    what.add_argument("--hand", help="two hole cards, e.g. AsKd")
    what.add_argument("--range", action="store_true", help="every hand class on the 13x13 grid")
    s.add_argument("--board", default="", help='the board the history has dealt, e.g. "Qh Jh 2c"')
    s.add_argument("--history", default="", help="betting so far in the tree's letters, e.g. r300c/")
    s.add_argument(
        "--latest", action="store_true", help="the newest checkpoint, even if the run has a merged blueprint"
    )
    s = sub.add_parser("eval", parents=[_without_wait(common)], help="run the evaluation ladder on a run's blueprint")
    s.add_argument("run", nargs="?", help="a run id or unique prefix (default: the newest active run)")
    s.add_argument(
        "--latest", action="store_true", help="the newest checkpoint, even if the run has a merged blueprint"
    )
    s.add_argument("--wait", dest="wait_done", action="store_true", help="wait until it is done and print the ladder")


def _without_wait(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The common options but --wait: `holdemctl eval RUN --wait` waits for the ladder (a daemon that is
    still starting is waited for with `holdemctl --wait S eval ...`)."""
    parent = argparse.ArgumentParser(add_help=False)
    for action in common._actions:
        if "--wait" not in action.option_strings:
            parent._add_action(action)
    return parent


async def command(c: Client, args: argparse.Namespace) -> int:
    if args.command == "strategy":
        params: dict[str, Any] = {"board": args.board, "history": args.history}
        params.update({"range": True} if args.range else {"hand": args.hand})
        if args.run:
            params["run"] = args.run
        if args.latest:
            params["source"] = "latest"
        doc = await c.call("strategy", params)
        print(json.dumps(doc, indent=2) if args.json else format_strategy(doc))
        return 0
    params = {"run": args.run} if args.run else {}
    if args.latest:
        params["source"] = "latest"
    res = await c.call("run.eval", params)
    if not args.wait_done:
        print(json.dumps(res, indent=2) if args.json else f"evaluation started on {res['source']['path']}")
        return 0
    run_id = (await c.call("status", {"run": args.run} if args.run else {}))["runs"][0]["id"]
    ev = await wait_eval(c, run_id)
    print(json.dumps(ev, indent=2) if args.json else summary_line(ev))
    if ev.get("state") == "done" and not args.json:
        print(format_ladder(ev["ladder"]))
    return 0 if ev.get("state") == "done" else 1


async def wait_eval(c: Client, run_id: str, recheck_s: float = 5.0) -> dict[str, Any]:
    """The run's newest evaluation once it is no longer running: re-read on each of the run's `eval`
    events (and every recheck_s, so an event missed before the stream began cannot hang us)."""
    woken = asyncio.Event()

    async def pump() -> None:
        async for ev in c.subscribe({"run": run_id}):
            if ev.get("event") == "eval":
                woken.set()

    task = asyncio.create_task(pump())
    try:
        while True:
            runs = (await c.call("status", {"run": run_id}))["runs"]
            ev = runs[0].get("eval") if runs else None
            if not ev:
                raise ProtocolError(ErrorCode.INTERNAL, f"run {run_id} shows no evaluation")
            if ev.get("state") != "running":
                return ev
            if task.done() and (failure := task.exception()) is not None:
                raise failure
            woken.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(woken.wait(), recheck_s)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _spot_header(doc: dict[str, Any]) -> str:
    where = f" on {doc['board']}" if doc.get("board") else ""
    src = doc.get("source") or {}
    return (
        f"{doc.get('policy')} ({src.get('kind')}, iteration {doc.get('iteration', 0):,}): {doc.get('street')}, "
        f"{doc.get('position')} to act after {doc.get('history') or '(first action)'}{where}; pot "
        f"{doc.get('pot')}, to call {doc.get('to_call')}"
    )


def format_strategy(doc: dict[str, Any]) -> str:
    """A hand's action probabilities, or the 13x13 grid with each class's most played action."""
    lines = [_spot_header(doc)]
    actions = doc.get("actions") or []
    if doc.get("kind") == "hand":
        lines.append(f"{doc.get('hand')} is in bucket {doc.get('bucket')} of {doc.get('buckets')}")
        lines += [f"  {a['probability']:7.1%}  {a['label']}" for a in actions]
        return "\n".join(lines)
    lines.append("actions (overall frequency): " + ", ".join(f"{a['label']} {a['frequency']:.1%}" for a in actions))
    lines.append("each class: f fold, c check/call or r raise (every size), whichever it plays most, and how often")
    for row in doc.get("grid") or []:
        cells = []
        for cell in row:
            if not cell.get("combos"):
                cells.append(f"{cell['hand']:<3}   -  ")
                continue
            letter, share = most_played(actions, cell.get("probabilities") or [])
            cells.append(f"{cell['hand']:<3} {letter}{share:4.0%}")
        lines.append(" ".join(cells))
    return "\n".join(lines)


def most_played(actions: list[dict[str, Any]], probs: list[float]) -> tuple[str, float]:
    """(f, c or r, its probability): raises of every size count together, as `holdem strategy --range`
    shows a cell."""
    groups = {"f": 0.0, "c": 0.0, "r": 0.0}
    for a, p in zip(actions, probs):
        letter = str(a.get("action", ""))[:1]
        if letter in groups:
            groups[letter] += float(p)
    letter = max(groups, key=groups.__getitem__)
    return letter, groups[letter]


def format_ladder(ladder: dict[str, Any]) -> str:
    lines = []
    for m in ladder.get("matches") or []:
        lo, hi = m["ci95"]
        lines.append(
            f"  vs {m['opponent']:<10} {m['mbb_per_hand']:+9.1f} mbb/hand  95% [{lo:+.1f}, {hi:+.1f}]  "
            f"{m['hands']:,} hands"
        )
    lbr = ladder.get("lbr") or {}
    if "value" in lbr:
        lo, hi = lbr["ci95"]
        lines.append(
            f"  LBR-fc        {lbr['value']:+9.1f} mbb/hand  95% [{lo:+.1f}, {hi:+.1f}]  {lbr['hands']:,} hands"
        )
    for p in ladder.get("probes") or []:
        lines.append(
            f"  {'PASS' if p['passed'] else 'FAIL'} {p['name']}: {p['failing']:,} of {p['spots']:,} spots fail"
        )
    return "\n".join(lines)
