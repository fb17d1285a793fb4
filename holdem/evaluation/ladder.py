"""The evaluation ladder of a hold'em blueprint (`holdem eval --ladder`): duplicate matches against every
built-in bot, local best response (fold/call), and the sanity probes, as one JSON report.

The bots climb from card-blind (``random``, ``call``, ``raise-pot``, and whatever else
``agents.BOTS`` holds) to LBR, which adapts to the blueprint itself: a blueprint should beat every
bot by a wide margin, and its LBR-fc figure is a lower bound on its exploitability (``lbr``). The
probes (``probes``) check spots with one right answer. ``to_json`` is the stable shape the daemon
will store and show (docs/formats.md).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdem.blueprint.hunl import Blueprint
from holdem.blueprint.policy import PolicyError, load_policy
from holdem.evaluation.lbr import LbrSettings, hunl_target, local_best_response
from holdem.evaluation.probes import run_probes
from holdem.games import is_hunl
from holdem.play import agents
from holdem.play.agents import BlueprintAgent
from holdem.play.match import make_agent, run_match

LADDER_FORMAT = "holdem-ladder"
LADDER_VERSION = 1
log = logging.getLogger("holdem.ladder")


@dataclass(frozen=True, slots=True)
class LadderSettings:
    hands: int = 4_000  # per bot match (two per duplicate deal)
    lbr_hands: int = 4_000
    seed: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        if self.hands < 2:
            raise PolicyError(f"--hands must be at least 2, got {self.hands}")
        LbrSettings("fc", self.lbr_hands, self.seed, self.workers)  # the same checks, the same messages


def run_ladder(path: Path, buckets_root: Path, settings: LadderSettings) -> dict[str, Any]:
    """Every rung on the blueprint at `path`; raises PolicyError for a source that is not hold'em."""
    started = time.perf_counter()
    loaded = load_policy(path, buckets_root)
    if not is_hunl(loaded.game):
        raise PolicyError(
            f"the ladder evaluates hold'em blueprints; {path} is {loaded.game.name!r} (use "
            "--exploitability: it is exact there)"
        )
    bp = Blueprint(loaded.game, loaded.policy, loaded.iteration, loaded.source)
    rules = bp.game.abstraction.rules
    matches = []
    for bot in agents.BOTS:
        log.info("ladder: %s hands against %s", f"{settings.hands:,}", bot)
        result = run_match(
            BlueprintAgent(bp, name=str(path)),
            make_agent(bot, buckets_root, rules),
            rules,
            settings.hands,
            settings.seed,
            names=(str(path), bot),
        )
        out = result.to_json()
        matches.append(
            {
                "opponent": bot,
                "hands": out["hands"],
                "mbb_per_hand": out["mbb_per_hand"],
                "ci95": out["ci95"],
                "seconds": out["seconds"],
            }
        )
    log.info("ladder: LBR-fc, %s hands on %d workers", f"{settings.lbr_hands:,}", settings.workers)
    lbr = local_best_response(
        hunl_target(bp.game, bp.policy, str(path), bp.iteration),
        LbrSettings("fc", settings.lbr_hands, settings.seed, settings.workers),
    )
    log.info("ladder: sanity probes")
    probes = [p.to_json() for p in run_probes(bp, loaded.strategy_sum)]
    return {
        "format": LADDER_FORMAT,
        "version": LADDER_VERSION,
        "policy": str(path),
        "game": "hunl",
        "iteration": bp.iteration,
        "seed": settings.seed,
        "matches": matches,
        "lbr": lbr.to_json(),
        "probes": probes,
        "probes_passed": sum(p["passed"] for p in probes),
        "probes_total": len(probes),
        "seconds": round(time.perf_counter() - started, 3),
    }


def describe(report: dict[str, Any]) -> str:
    """The ladder as text, one rung a line."""
    lines = [f"ladder of {report['policy']} (iteration {report['iteration']:,})"]
    for m in report["matches"]:
        lo, hi = m["ci95"]
        lines.append(
            f"  vs {m['opponent']:<10} {m['mbb_per_hand']:+9.1f} mbb/hand  95% [{lo:+.1f}, {hi:+.1f}]  "
            f"{m['hands']:,} hands"
        )
    lbr = report["lbr"]
    lines.append(
        f"  LBR-fc        {lbr['value']:+9.1f} mbb/hand  95% [{lbr['ci95'][0]:+.1f}, {lbr['ci95'][1]:+.1f}]  "
        f"{lbr['hands']:,} hands (a lower bound on the exploitability)"
    )
    for p in report["probes"]:
        share = (
            ""
            if not p["failing"] or p["failing_weight"] is None
            else f" ({p['failing_weight']:.2%} of the training weight of its spots)"
        )
        lines.append(
            f"  {'PASS' if p['passed'] else 'FAIL'} {p['name']}: {p['failing']:,} of {p['spots']:,} "
            f"spots fold more than {p['threshold']:.0%}{share}"
        )
        if p["failing"]:
            lines.append(f"       worst: {_spot(p['worst'])}")
            if p["heaviest_failing"] is not None and p["heaviest_failing"] != p["worst"]:
                lines.append(f"       most trained: {_spot(p['heaviest_failing'])}")
    lines.append(f"  probes passed: {report['probes_passed']} of {report['probes_total']}; {report['seconds']:.1f} s")
    return "\n".join(lines)


def _spot(w: dict[str, Any]) -> str:
    return (
        f"{w['hand']} at {w['history'] or '(first action)'}"
        + (f" on {w['board']}" if w["board"] else "")
        + f" folds {w['fold_probability']:.1%}"
        + ("" if w["training_weight"] is None else f" (training weight {w['training_weight']:.1e})")
    )
