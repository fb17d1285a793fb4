"""holdem knows nothing of the daemon, the TUI or asyncio (ARCHITECTURE.md: dependencies point one way)."""

import json
import subprocess
import sys

from holdem_proc import REPO

FORBIDDEN = ("supervisor", "tui", "textual", "uvloop", "asyncio")


def test_the_poker_ai_imports_no_daemon_tui_or_asyncio():
    code = (
        "import sys, json\n"
        "import holdem.cli, holdem.train, holdem.policy, holdem.evaluation.exploitability\n"
        "import holdem.tensorboard_log, holdem.solver.solver, holdem.solver.reference\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert not loaded & set(FORBIDDEN)

