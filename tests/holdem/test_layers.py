"""holdem knows nothing of the daemon, the TUI or asyncio (docs/architecture.md, "Contracts between the parts")."""

import json
import subprocess
import sys

from holdem_proc import REPO

FORBIDDEN = ("supervisor", "tui", "textual", "uvloop", "asyncio")


def test_the_poker_ai_imports_no_daemon_tui_or_asyncio():
    code = (
        "import sys, json\n"
        "import holdem.cli.commands, holdem.instance.loop, holdem.blueprint.policy, holdem.evaluation.exploitability\n"
        "import holdem.instance.tensorboard, holdem.solver.solver, holdem.solver.reference\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert not loaded & set(FORBIDDEN)


def test_policy_and_blueprint_import_without_a_circle():
    """Each imports cleanly first in a fresh interpreter, and the blueprint loader never loads policy.py."""
    for first in ("holdem.blueprint.hunl", "holdem.blueprint.policy"):
        code = f"import sys, json\nimport {first}\nprint(json.dumps(sorted(sys.modules)))\n"
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
        if first == "holdem.blueprint.hunl":
            assert "holdem.blueprint.policy" not in json.loads(out.stdout)


def test_modules_stay_small():
    """A module does one job, and one job fits in 400 lines: a longer module wants splitting."""
    lines = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in (REPO / "holdem").rglob("*.py")}
    assert {path: n for path, n in lines.items() if n > 400} == {}, "these want splitting"
