"""The connection states a person must be able to tell apart, against a real holdemd:
refused by the daemon's peer check, and refused by the socket's file permissions. A TUI of
another user is simulated by a forked child that drops to uid/gid 65534 (so these need root)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from tui_harness import Holdemd

from tui.connection import Connection
from tui.messages import Link, LinkStatus
from tui.model import Model

NOBODY = 65534
pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")


def first_verdict_as_nobody(sock: Path) -> tuple[str, str]:
    """Run the TUI's Connection as uid 65534 in a forked child; return its first non-connecting state."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            seen: list[LinkStatus] = []

            async def attach() -> None:
                done = asyncio.Event()

                def on_link(status: LinkStatus) -> None:
                    if status.link is not Link.CONNECTING and not seen:
                        seen.append(status)
                        done.set()

                task = asyncio.create_task(Connection(sock, Model(), lambda: None, on_link).run())
                await asyncio.wait_for(done.wait(), 20)
                task.cancel()

            asyncio.run(attach())
            os.write(w, json.dumps([seen[0].link.value, seen[0].detail]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and data, "the probe child failed"
    link, detail = json.loads(data)
    return link, detail


def test_daemon_refuses_a_user_outside_the_socket_group(holdemd: Holdemd) -> None:
    holdemd.start()
    # let anyone reach the socket file, so it is the daemon's SO_PEERCRED check that says no
    holdemd.root.chmod(0o755)
    holdemd.sock.chmod(0o666)
    link, detail = first_verdict_as_nobody(holdemd.sock)
    assert link == Link.DENIED.value
    assert detail.startswith("permission denied") and "65534" in detail


def test_socket_file_permissions_are_reported_as_permission_denied(holdemd: Holdemd) -> None:
    holdemd.start()
    holdemd.root.chmod(0o755)  # the folder is open, the socket itself is 0660 root:root
    link, detail = first_verdict_as_nobody(holdemd.sock)
    assert link == Link.DENIED.value
    assert "permission denied" in detail and str(holdemd.sock) in detail
