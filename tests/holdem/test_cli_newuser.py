"""What a newcomer meets at the `holdem` command line (issue 14): config checks, paths that do not
exist, what `eval` can do, versions, and a bucket build that counts real units. Real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from holdem_proc import REPO, write_config

from holdem.abstraction.buckets import STAGES
from holdem.progress_bar import ProgressBar


def holdem(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holdem", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_check_config_names_the_bad_key_and_exits_2(tmp_path: Path) -> None:
    bad = write_config(tmp_path / "bad.yaml", "game: leduc\nalgorithm: es-mccfr\ncheckpoint: {keep: -1}\n")
    out = holdem("check-config", bad, "--json")
    assert out.returncode == 2
    assert json.loads(out.stdout) == {
        "ok": False,
        "key": "checkpoint.keep",
        "message": "config key 'checkpoint.keep': expected an integer in [1, 1000], got -1",
    }
    hunl = write_config(tmp_path / "hunl.yaml", "game: hunl\nalgorithm: es-mccfr\nhunl: {max_raises: {flop: 99}}\n")
    out = holdem("check-config", hunl, "--json")
    assert out.returncode == 2 and json.loads(out.stdout)["key"] == "hunl.max_raises.flop"
    out = holdem("check-config", tmp_path / "missing.yaml")
    assert out.returncode == 2 and out.stderr == f"holdem: config file '{tmp_path / 'missing.yaml'}' does not exist\n"


def test_check_config_accepts_every_shipped_config() -> None:
    for cfg in sorted((REPO / "configs").glob("*.yaml")):
        out = holdem("check-config", cfg, "--json")
        assert out.returncode == 0, (cfg, out.stderr)
        assert json.loads(out.stdout)["ok"] is True


def test_a_path_that_does_not_exist_is_reported_as_such(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    for args in (
        ("eval", nowhere),
        ("export", nowhere, "--out", tmp_path / "p.json"),
        ("play", nowhere),
        ("match", nowhere, "call", "--hands", "2"),
        ("lbr", nowhere),
        ("strategy", nowhere, "--range"),
    ):
        out = holdem(*args)
        assert out.returncode == 2 and f"holdem: {nowhere} does not exist" in out.stderr, (args, out.stderr)


def test_eval_json_without_flags_says_what_it_can_evaluate(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "kuhn.yaml", "game: kuhn\nalgorithm: cfr+\nmetrics: {tensorboard: false}\n")
    assert holdem("train", "--config", cfg, "--instance-dir", tmp_path / "k", "--iters", 50).returncode == 0
    out = holdem("eval", tmp_path / "k", "--json")
    assert out.returncode == 0
    answer = json.loads(out.stdout)
    assert answer["game"] == "kuhn" and answer["iteration"] == 50 and "exploitability" not in answer
    assert answer["can_evaluate"] == {"exploitability": f"holdem eval {tmp_path / 'k'} --exploitability --json"}
    assert "nothing evaluated" in out.stderr


def test_holdem_has_a_version_and_help_for_every_option() -> None:
    out = holdem("--version")
    assert out.returncode == 0 and out.stdout.startswith("holdem 0.1.0")
    for command in (
        "train",
        "prepare",
        "check-config",
        "eval",
        "export",
        "tree",
        "merge",
        "match",
        "play",
        "lbr",
        "strategy",
    ):
        text = holdem(command, "--help", env={"COLUMNS": "400", "PATH": ""}).stdout
        options = [line.split()[0] for line in text.splitlines() if line.startswith("  -") and "--help" not in line]
        lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  -")}
        bare = [o for o in options if len(lines[o].split("  ")) < 2 or not lines[o].split("  ", 1)[1].strip()]
        assert not bare, (command, bare)


def test_the_bucket_build_reports_boards_done_per_second(hunl_build) -> None:
    _, seen = hunl_build
    by_stage = {name: [p for p in seen if p.name == name] for name in STAGES}
    for name, total in (("river strength", 134_459), ("turn features", 16_432), ("flop features", 1_755)):
        steps = by_stage[name]
        assert steps[0].done == 0 and steps[-1].done == total and {p.total for p in steps} == {total}
        assert all(p.unit == "boards" for p in steps) and len(steps) > 10
        assert [p.done for p in steps] == sorted(p.done for p in steps) and steps[-1].per_s > 0
    assert [p.stage for p in seen] == sorted(p.stage for p in seen)  # stages in order, each complete
    text = ProgressBar(width=10).count_text("river strength (2/7)", 53_784, 134_459, "boards", 8210.4)
    assert text == "[####------]  40.0%  river strength (2/7) 53,784/134,459 boards  8,210 boards/s"


def test_an_unwritable_bucket_store_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    cfg = write_config(tmp_path / "hunl.yaml", "game: hunl\nalgorithm: es-mccfr\n")
    out = holdem("prepare", "--config", cfg, "--buckets-root", tmp_path / "file" / "buckets", "--events", "jsonl")
    assert out.returncode == 2
    assert f"the bucket store {tmp_path / 'file' / 'buckets'} cannot be written" in out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert events[-1]["event"] == "error" and events[-1]["permanent"] is True
    assert not any(e["event"] == "progress" and "done" in e["metrics"] for e in events)  # no stage was begun


def test_the_readme_stays_inside_the_repository_and_makes_what_it_merges() -> None:
    import re

    text = (REPO / "README.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", text) + re.findall(r"`([^` ]*/[^` ]*\.(?:md|yaml|py|png))`", text)
    for link in links:
        if "://" in link or link.startswith(("/tmp", "runs/")) or "<" in link:
            continue
        assert not link.startswith(".."), link
        assert (REPO / link).exists(), f"README points at {link}, which is not in the repository"
    merge = re.search(r"holdem merge ((?:/tmp/\S+ )+)--out", text)
    assert merge is not None
    trained = set(re.findall(r"--instance-dir (\S+)", text))
    for source in merge.group(1).split():
        made = source in trained or any(
            "$" in t and re.fullmatch(re.escape(t).replace(r"\$seed", r"\d+"), source) for t in trained
        )
        assert made, f"the merge example's input {source} is never made"
