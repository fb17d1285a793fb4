"""Local best response speed: hold'em hands per second on one worker thread and on two, as one JSON object.

    flock -x -w 900 /tmp/holdem-cpu.lock .venv/bin/python benchmarks/lbr_speed.py BLUEPRINT [--hands N]

BLUEPRINT is a hold'em instance, checkpoint or merged folder. Each measurement plays the same seeded
deals (compilation is done before the clock starts), so the two runs do the same work.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from holdem.evaluation.lbr import LbrSettings, local_best_response, target_from_path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("policy", type=Path)
    p.add_argument("--hands", type=int, default=2000)
    p.add_argument("--variant", default="fc", choices=["fc", "fcpa"])
    p.add_argument(
        "--buckets-root",
        type=Path,
        default=Path(os.environ.get("HOLDEM_BUCKETS", Path.home() / ".cache/holdem/buckets")),
    )
    args = p.parse_args()
    target = target_from_path(args.policy, args.buckets_root)
    load_before = os.getloadavg()
    speed = {}
    for workers in (1, 2):
        r = local_best_response(target, LbrSettings(args.variant, args.hands, seed=0, workers=workers))
        speed[str(workers)] = round(r.hands / r.seconds, 2)
        value = r.to_json()
    print(
        json.dumps(
            {
                "benchmark": "lbr_speed",
                "policy": str(args.policy),
                "variant": args.variant,
                "hands": args.hands,
                "hands_per_s": speed,
                "scaling_2_over_1": round(speed["2"] / speed["1"], 3),
                "value": value["value"],
                "ci95": value["ci95"],
                "unit": value["unit"],
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
