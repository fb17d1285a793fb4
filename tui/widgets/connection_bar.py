"""One line at the top of every screen: is holdemd there, and if not, why and when we retry."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..messages import Link, LinkStatus
from .css import css_beside


def describe(status: LinkStatus) -> Text:
    if status.link is Link.CONNECTED:
        pid = f" (pid {status.pid})" if status.pid else ""
        if status.warnings:  # the daemon's warnings come first: a disk filling up matters more than the path
            return Text.assemble(
                ("● connected", "bold green"),
                f" (pid {status.pid})  " if status.pid else "  ",
                ("⚠ " + "; ".join(status.warnings), "bold yellow"),
            )
        return Text.assemble(("● connected", "bold green"), f" to holdemd{pid} at {status.path}")
    if status.link is Link.CONNECTING:
        return Text.assemble(
            ("◌ connecting", "bold yellow"),
            f" to holdemd at {status.path}…",
            (f"  {status.detail}" if status.detail else "", "dim"),
        )
    retry = f" in {status.retry_in:.1f}s" if status.retry_in is not None else ""
    head = "✖ permission denied — retrying" if status.link is Link.DENIED else "✖ disconnected — retrying"
    return Text.assemble((head + retry, "bold red"), f"  {status.detail}")


class ConnectionBar(Static):
    DEFAULT_CSS = css_beside(__file__)

    def on_mount(self) -> None:
        self.watch(self.app, "link", self._show, init=True)

    def _show(self, status: LinkStatus) -> None:
        down = status.link is not Link.CONNECTED
        self.set_class(down, "-down")
        self.screen.set_class(down, "-stale")  # the screen's data is the last known, not live
        self.update(describe(status))
