"""holdemctl: the command-line client of holdemd. Speaks only the socket API (supervisor.protocol).

Every command has --json for machine-readable output: one JSON object on stdout, a failure too
(`{"error": {"code", "message"}, "exit_code"}`). Failures are also one line on stderr, with a non-zero
exit: 1 an error reply (unknown run, conflict, bad params), 2 a usage error, 3 no daemon, 4 permission
denied. A daemon that is still starting (no socket yet) is waited for, up to --wait seconds. Given no
socket, holdemctl uses `make run`'s daemon when none listens at the default socket (find_daemon).
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
from typing import Any, NoReturn

from supervisor import version
from supervisor.ctl import blueprint_commands as ctl_blueprint
from supervisor.ctl.format import ACTIVE_RUN_STATES, format_run, why_shown
from supervisor.ctl.watch import watch
from supervisor.protocol import (
    Client,
    DaemonUnavailable,
    ErrorCode,
    Found,
    ProtocolError,
    RunInfo,
    find_daemon,
    socket_path,
)

DEFAULT_WAIT_S = 5.0
RESUME_SETTLE_S = 10.0  # how long `resume` waits for the run to leave `stopped` before it prints
EXIT_USAGE = 2


class JsonErrorParser(argparse.ArgumentParser):
    """argparse, but under --json a usage error is also one JSON object on stdout."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            print_error("usage", message, EXIT_USAGE)
        super().error(message)


def print_error(code: str, message: str, exit_code: int) -> None:
    print(json.dumps({"error": {"code": code, "message": message}, "exit_code": exit_code}), flush=True)


def build_parser(json_errors: bool = False) -> argparse.ArgumentParser:
    parser_class = type("Parser", (JsonErrorParser,), {"json_errors": json_errors})
    common = parser_class(add_help=False)
    # SUPPRESS: an option given before the subcommand must not be reset by the subparser's default
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    common.add_argument(
        "--socket",
        default=argparse.SUPPRESS,
        help=f"daemon socket (default here: {socket_path()}; order: --socket, $HOLDEMD_SOCKET, "
        "$RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR, /tmp/holdemd-<uid>; with none named and no daemon there, "
        "make run's ./runs/quickstart/holdemd.sock)",
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
    p = parser_class(prog="holdemctl", description="Control holdemd.", parents=[common])
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


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False))


async def _run(args: argparse.Namespace, found: Found) -> int:
    client = Client(found.path, call_timeout=args.timeout or 600.0)
    try:
        try:
            await connect_waiting(client, args.wait)
        except DaemonUnavailable as exc:
            if not found.also_looked:
                raise
            looked = ", ".join(str(p) for p in found.also_looked)
            raise DaemonUnavailable(f"{exc.message}; nor at {looked} (make run's)") from None
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
                        *(format_run(r, why_shown(r, every or asked)) for r in runs),
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
    elif cmd == "stop" and (idle := await _nothing_to_stop(c, args.run)) is not None:
        run, message = idle
        print(json.dumps({"run": run, "stopped": False, "message": message}, indent=2) if args.json else message)
        return 0
    elif cmd in ("stop", "resume", "merge"):
        res = await c.call(f"run.{cmd}", {"run": args.run} if args.run else {})
        if cmd == "resume":
            res = {**res, "run": await _started_again(c, res["run"])}
    elif cmd == "restart-instance":
        res = await c.call("instance.restart", {"index": args.index, **({"run": args.run} if args.run else {})})
    elif cmd == "logs":
        return await _logs(c, args)
    elif cmd in ("strategy", "eval"):
        return await ctl_blueprint.command(c, args)
    else:
        return await watch(c, args)
    if args.json:
        _print_json(res)
    else:
        print(format_run(RunInfo.from_dict(res["run"])))
    return 0


async def _nothing_to_stop(c: Client, run_id: str | None) -> tuple[dict[str, Any], str] | None:
    """(the run, why) when the run `stop` would choose is not active; None when there is one to stop (or
    no run at all: run.stop says so, as an error)."""
    runs = (await c.call("status", {"run": run_id} if run_id else {}))["runs"]
    if not runs or runs[0]["state"] in ACTIVE_RUN_STATES:
        return None
    run = runs[0]
    return run, f"nothing to stop: run {run['id']} is {run['state']}"


async def _started_again(c: Client, run: dict[str, Any], settle_s: float = RESUME_SETTLE_S) -> dict[str, Any]:
    """run.resume answers before the run has started again: its status once it (and every instance) has
    left `stopped`, or after settle_s, whichever comes first."""
    deadline = time.monotonic() + settle_s
    while run["state"] == "stopped" or any(i["state"] == "stopped" for i in run["instances"]):
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.1)
        run = (await c.call("status", {"run": run["id"]}))["runs"][0]
    return run


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


def _stdout_gone() -> int:
    """The reader of our stdout left (`holdemctl status | head -2`): exit quietly, as Unix tools do.

    stdout is pointed at /dev/null so the interpreter's final flush cannot fail a second time.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(json_errors="--json" in argv).parse_args(argv)
    for name, default in (("json", False), ("socket", None), ("timeout", None), ("wait", DEFAULT_WAIT_S)):
        if not hasattr(args, name):
            setattr(args, name, default)
    try:
        code = asyncio.run(_run(args, find_daemon(args.socket)))
        sys.stdout.flush()  # here, not at interpreter exit, so a closed pipe is caught below
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _stdout_gone()
    except DaemonUnavailable as exc:
        return _failed(args, exc, 3)
    except ProtocolError as exc:
        return _failed(args, exc, 4 if exc.code == ErrorCode.PERMISSION_DENIED.value else 1)


def _failed(args: argparse.Namespace, exc: ProtocolError, exit_code: int) -> int:
    if args.json:
        print_error(exc.code, exc.message, exit_code)
    print(f"holdemctl: {exc.message}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
