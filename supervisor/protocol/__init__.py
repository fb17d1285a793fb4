"""The holdemd socket protocol: message shapes, framing, socket discovery and the one client.

Shared by holdemd (server side), holdemctl and holdem-tui. Standard library only, so a client
never pulls in the daemon, numba or textual. Everything here is stable: add fields, never rename.

Transport and trust
    A Unix stream socket (see `socket_path`), mode 0660. The daemon checks the peer with
    SO_PEERCRED: its own uid, root, or a member of the socket's group; anyone else gets one
    `permission_denied` error line and the connection is closed.

Framing
    JSON Lines, UTF-8, one object per line, at most `MAX_LINE_BYTES` (1 MiB) per line including
    the newline. A longer line is answered with `line_too_long` and the connection is dropped.

Requests and replies
    request  {"id": <int|str>, "method": <str>, "params": {...}}
    reply    {"id": ..., "result": {...}}   or   {"id": ..., "error": {"code": <str>, "message": <str>}}
    Errors are data: a bad request never closes the connection (except an oversized line).

Methods (params -> result)
    status          {all?}                               -> {"runs": [RunInfo...], "daemon": {...}}
                    (the active runs, else the newest; `all`: every run, newest first)
    runs.list       {}                                   -> {"runs": [RunInfo...]}   (all runs, newest first)
    run.start       {instances, config?, iters?, time_budget_s?, seed?}  -> {"run": RunInfo}
                    (the config is validated first by `holdem check-config`; a bad key is `invalid_params`)
    run.stop        {run?}                               -> {"run": RunInfo}  (after children have stopped)
    run.resume      {run?}                               -> {"run": RunInfo}
    instance.restart {run?, index}                       -> {"run": RunInfo}
    run.merge       {run?}                               -> {"run": RunInfo, "merged": <dir>} (after merge ends)
    logs.tail       {run?, index?, lines?=50}            -> {"lines": [str...], "path": <file>}
    subscribe       {run?}                               -> {"subscribed": true}, then events (below)
    ping            {}                                   -> {"pong": true, "pid": <daemon pid>}
    history         {run?, instance?, max_points?=2000}  -> {"run": <id>, "instances": {"<k>": [Point...]}}
                    Point {"t": <unix s>, "iter", "ips", "metrics": {...}}: the instance's progress over the
                    whole life of the run (across daemon and child restarts), oldest first, evenly
                    down-sampled to max_points (10..20000; the first and newest points always in it).
                    Without `instance`, every instance. Stored thinned: see docs/supervisor.md.
    strategy        {run?, source?, hand? | range?: true, board?="", history?=""}
                    -> the `holdem strategy --json` document (format "holdem-strategy": kind "hand" with
                    `actions[].probability` and `bucket`, or kind "range" with the 13x13 `grid`) plus
                    "source": {"kind": "merged"|"checkpoint", "path", "instance": <k>|null}.
                    `source` "merged" (the default when the run has one) or "latest" (the newest checkpoint
                    of instance 0, else of the first instance that has one). Answered by a `holdem
                    strategy` subprocess (at most 2 at once, --strategy-timeout); what holdem refuses (a bad
                    hand or history, a Kuhn/Leduc run) is `invalid_params` with holdem's message; no
                    blueprint yet is `conflict`.
    run.eval        {run?, source?}                      -> {"started": true, "source": {...}} at once; the
                    ladder (`holdem eval --ladder --json`) runs in the background; `conflict` while one runs
                    for the run, `invalid_params` for a Kuhn/Leduc run (exact exploitability there).
RunInfo.eval is null or the run's newest evaluation {"state": running|done|failed, "source", "started",
"finished", "error", "ladder": <holdem-ladder document>|null, "ladder_path", "automatic"}; RunInfo.estimate
is null or holdem tree's estimate from the prepare phase {"infosets", "memory_bytes_per_instance",
"memory_bytes_all_instances", "iterations_per_s", "estimated_seconds", "estimated_iterations", "sampled",
"error", "t", "report": <holdem tree --json>}. RunInfo.game is the config's game (kuhn, leduc, hunl; null
when run.yaml cannot be read): the strategy explorer and the ladder are for hunl runs.
    `run` defaults to the newest active run, else the newest. logs.tail reads instance `index`'s
    train.log; without `index` the run's run.log (states, phases); without both the daemon's log.

Instance states: pending (not launched yet: the run is in its prepare phase, RunInfo.phase and
phase_detail say what it does), starting, running, backoff, stopping, stopped, done, failed.
RunInfo.origin says why a run is active (started from holdemd's arguments, by run.start, resumed).

Subscribe events (lines without "id", after the subscribe reply)
    {"event": "progress", "run", "instance", "iter", "target_iters", "ips", "elapsed_s", "metrics", "t", "t_recv"}
        `metrics` is the worker's own (e.g. exploitability, avg_regret; a value may be null).
        `t` is the child's own timestamp (when it wrote the line), `t_recv` when the daemon read it.
    {"event": "state", "run", "instance" (null for the run itself), "state", "reason", "t"}
    {"event": "checkpoint", "run", "instance", "iter", "path", "t"}
    {"event": "log", "run", "instance" (null: daemon), "line", "t"}
    {"event": "eval", "run", "state", "t"}   an evaluation started or ended (status has the rest)
    A subscriber that does not keep up is dropped (the daemon never buffers without bound).

Socket discovery (`socket_path`): --socket, else $HOLDEMD_SOCKET, else $RUNTIME_DIRECTORY/holdemd.sock
(systemd), else $XDG_RUNTIME_DIR/holdemd.sock, else /run/holdemd/holdemd.sock for root and
/tmp/holdemd-<uid>/holdemd.sock for anyone else. Clients (holdemctl, holdem-tui) given no socket
(no --socket, no $HOLDEMD_SOCKET) use `find_daemon`: when no daemon listens at that default but the
daemon of `make run` does (./runs/quickstart/holdemd.sock, else the checkout's), they use that one.
"""

# The protocol in two modules: messages (shapes, framing, discovery) and the client.
from .client import Client
from .messages import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    SOCKET_NAME,
    DaemonUnavailable,
    ErrorCode,
    ErrorInfo,
    EventKind,
    Found,
    InstanceInfo,
    InstanceState,
    LineReader,
    LineTooLong,
    Method,
    ProtocolError,
    Reply,
    Request,
    RunInfo,
    RunState,
    decode,
    encode,
    find_daemon,
    parse_reply,
    parse_request,
    socket_path,
)

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "MAX_LINE_BYTES",
    "PROTOCOL_VERSION",
    "SOCKET_NAME",
    "Client",
    "DaemonUnavailable",
    "ErrorCode",
    "ErrorInfo",
    "EventKind",
    "Found",
    "InstanceInfo",
    "InstanceState",
    "LineReader",
    "LineTooLong",
    "Method",
    "ProtocolError",
    "Reply",
    "Request",
    "RunInfo",
    "RunState",
    "decode",
    "encode",
    "find_daemon",
    "parse_reply",
    "parse_request",
    "socket_path",
]
