"""The training config: validated on load, frozen, every error names its dotted key."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from holdem.config import (
    ConfigError,
    TrainConfig,
    config_from_mapping,
    config_hash,
    config_to_mapping,
    load_config,
    solver_config_hash,
)

MINIMAL = {"game": "leduc", "algorithm": "es-mccfr"}


HUNL = {"game": "hunl", "algorithm": "es-mccfr"}


def with_value(dotted: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """MINIMAL (or `base`) with one dotted key set."""
    data = json.loads(json.dumps(base or MINIMAL))
    *sections, last = dotted.split(".")
    node = data
    for section in sections:
        node = node.setdefault(section, {})
    node[last] = value
    return data


def error_for(data: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config_from_mapping(data)
    return info.value


def test_defaults_fill_every_missing_key() -> None:
    cfg = config_from_mapping(MINIMAL)
    assert config_to_mapping(cfg) == {
        "game": "leduc",
        "algorithm": "es-mccfr",
        "seed": 0,
        "iterations": 10000,
        "cfr": {
            "averaging": "linear",
            "linear_regrets": True,
            "dcfr_alpha": 1.5,
            "dcfr_beta": 0.0,
            "dcfr_gamma": 2.0,
        },
        "pruning": {"enabled": False, "threshold": -300000000.0, "probability": 0.95, "start_iteration": 0},
        "checkpoint": {"every_iterations": 0, "every_seconds": 60.0, "keep": 3, "first_after_seconds": 5.0},
        "metrics": {"progress_interval_s": 0.5, "exploitability_every_s": 5.0, "tensorboard": True},
        "hunl": None,
        "workers": 1,
        "search": None,
    }


def test_config_is_frozen_dataclasses() -> None:
    cfg = config_from_mapping(MINIMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.checkpoint.keep = 9  # type: ignore[misc]
    assert isinstance(cfg.metrics.progress_interval_s, float)


def test_yaml_file_loads_with_ints_for_floats_and_exponent_floats(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "game: kuhn\nalgorithm: dcfr\nseed: 7\n"
        "cfr:\n  averaging: uniform\n  dcfr_alpha: 2\n  dcfr_beta: -1e-1\n"
        "checkpoint:\n  every_seconds: 1.5e2\n"
        "metrics:\n"  # an empty section means its defaults
    )
    cfg = load_config(path)
    assert (cfg.game, cfg.algorithm, cfg.seed) == ("kuhn", "dcfr", 7)
    assert cfg.cfr.averaging == "uniform"
    assert cfg.cfr.dcfr_alpha == 2.0 and isinstance(cfg.cfr.dcfr_alpha, float)
    assert cfg.cfr.dcfr_beta == -0.1
    assert cfg.checkpoint.every_seconds == 150.0
    assert cfg.metrics == config_from_mapping(MINIMAL).metrics


def test_round_trip_through_mapping_and_yaml(tmp_path: Path) -> None:
    data = with_value("pruning.enabled", True, with_value("hunl", {"stacks": 200, "sizes": [[0.5, 1], {"x": None}]}))
    data["game"] = "hunl"
    cfg = config_from_mapping(data)
    resolved = config_to_mapping(cfg)
    assert config_from_mapping(resolved) == cfg
    path = tmp_path / "resolved.yaml"
    path.write_text(json.dumps(resolved))  # JSON is YAML
    assert load_config(path) == cfg
    assert config_to_mapping(load_config(path)) == resolved


def test_hunl_section_is_read_only_and_plain() -> None:
    cfg = config_from_mapping(with_value("hunl", {"bets": [1, 2]}))
    assert cfg.hunl is not None and cfg.hunl["bets"] == (1, 2)
    with pytest.raises(TypeError):
        cfg.hunl["bets"] = (3,)  # type: ignore[index]
    assert error_for(with_value("hunl", [1])).key == "hunl"
    assert error_for(with_value("hunl", {"a": {"b": {1, 2}}})).key == "hunl.a.b"


def test_hash_is_stable_across_key_order_and_changes_with_values() -> None:
    a = config_from_mapping(
        {"game": "leduc", "algorithm": "cfr+", "metrics": {"tensorboard": False, "progress_interval_s": 1}}
    )
    b = config_from_mapping(
        {"metrics": {"progress_interval_s": 1.0, "tensorboard": False}, "algorithm": "cfr+", "game": "leduc"}
    )
    assert config_hash(a) == config_hash(b)
    assert re.fullmatch("[0-9a-f]{64}", config_hash(a)), config_hash(a)  # a sha256, in hex
    # Spelling out a default changes nothing: the hash is of the resolved config.
    assert config_hash(config_from_mapping(MINIMAL)) == config_hash(config_from_mapping(with_value("seed", 0)))
    assert config_hash(config_from_mapping(MINIMAL)) != config_hash(config_from_mapping(with_value("seed", 1)))


def test_solver_hash_ignores_target_checkpoint_and_metrics_settings() -> None:
    base = config_from_mapping(MINIMAL)
    for key, value in [("iterations", 5), ("checkpoint.keep", 9), ("metrics.tensorboard", False)]:
        other = config_from_mapping(with_value(key, value))
        assert solver_config_hash(other) == solver_config_hash(base), key
        assert config_hash(other) != config_hash(base), key
    for key, value in [("seed", 5), ("cfr.linear_regrets", False), ("pruning.enabled", True)]:
        assert solver_config_hash(config_from_mapping(with_value(key, value))) != solver_config_hash(base), key


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("game", "chess", "config key 'game': expected one of kuhn, leduc, hunl, got 'chess'"),
        ("algorithm", "mccfr", "config key 'algorithm': expected one of cfr, cfr+, dcfr, es-mccfr, got 'mccfr'"),
        ("seed", -1, "config key 'seed': expected an integer in [0, 9223372036854775807], got -1"),
        ("seed", 1.0, "config key 'seed': expected an integer in [0, 9223372036854775807], got 1.0"),
        ("iterations", 0, "config key 'iterations': expected an integer >= 1, got 0"),
        ("iterations", -5, "config key 'iterations': expected an integer >= 1, got -5"),
        ("iterations", True, "config key 'iterations': expected an integer >= 1, got true"),
        ("iterations", "100", "config key 'iterations': expected an integer >= 1, got '100'"),
        ("cfr.averaging", "quadratic", "config key 'cfr.averaging': expected one of uniform, linear, got 'quadratic'"),
        ("cfr.linear_regrets", 1, "config key 'cfr.linear_regrets': expected true or false, got 1"),
        ("cfr.dcfr_alpha", -0.5, "config key 'cfr.dcfr_alpha': expected a number >= 0, got -0.5"),
        ("cfr.dcfr_beta", float("nan"), "config key 'cfr.dcfr_beta': expected a number, got nan"),
        ("cfr.dcfr_gamma", False, "config key 'cfr.dcfr_gamma': expected a number >= 0, got false"),
        ("pruning.enabled", "yes", "config key 'pruning.enabled': expected true or false, got 'yes'"),
        ("pruning.threshold", 0, "config key 'pruning.threshold': expected a number < 0, got 0"),
        ("pruning.probability", 1.5, "config key 'pruning.probability': expected a number in [0, 1], got 1.5"),
        ("pruning.start_iteration", -1, "config key 'pruning.start_iteration': expected an integer >= 0, got -1"),
        (
            "checkpoint.every_iterations",
            2.5,
            "config key 'checkpoint.every_iterations': expected an integer >= 0, got 2.5",
        ),
        (
            "checkpoint.every_seconds",
            float("inf"),
            "config key 'checkpoint.every_seconds': expected a number >= 0, got inf",
        ),
        ("checkpoint.keep", 0, "config key 'checkpoint.keep': expected an integer in [1, 1000], got 0"),
        ("checkpoint.keep", 1001, "config key 'checkpoint.keep': expected an integer in [1, 1000], got 1001"),
        (
            "checkpoint.first_after_seconds",
            -1,
            "config key 'checkpoint.first_after_seconds': expected a number in [0, 86400], got -1",
        ),
        (
            "checkpoint.first_after_seconds",
            86401,
            "config key 'checkpoint.first_after_seconds': expected a number in [0, 86400], got 86401",
        ),
        (
            "metrics.progress_interval_s",
            0.01,
            "config key 'metrics.progress_interval_s': expected a number in [0.05, 1], got 0.01",
        ),
        (
            "metrics.progress_interval_s",
            2,
            "config key 'metrics.progress_interval_s': expected a number in [0.05, 1], got 2",
        ),
        (
            "metrics.exploitability_every_s",
            -1,
            "config key 'metrics.exploitability_every_s': expected a number >= 0, got -1",
        ),
        ("metrics.tensorboard", None, "config key 'metrics.tensorboard': expected true or false, got null (empty)"),
    ],
)
def test_bad_values_name_the_key_and_the_allowed_values(key: str, value: Any, message: str) -> None:
    error = error_for(with_value(key, value))
    assert error.key == key
    assert str(error) == message


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        (
            with_value("checkpoint.kep", 3),
            "checkpoint.kep",
            "config key 'checkpoint.kep' is unknown "
            "(allowed: every_iterations, every_seconds, keep, first_after_seconds)",
        ),
        (with_value("itertions", 3), "itertions", "is unknown (allowed: game, algorithm, seed, iterations, cfr,"),
        (with_value("pruning", [1]), "pruning", "config key 'pruning': expected a mapping, got a list"),
        ({"algorithm": "cfr"}, "game", "config key 'game' is required (one of kuhn, leduc, hunl)"),
        ({"game": "kuhn"}, "algorithm", "config key 'algorithm' is required (one of cfr, cfr+, dcfr, es-mccfr)"),
        (
            with_value("search.bet_sizes.turn", [0.5, -2], HUNL),
            "search.bet_sizes.turn",
            "config key 'search.bet_sizes.turn': expected a list of pot fractions in (0, 100], got (0.5, -2)",
        ),
        (
            with_value("search.bet_sizes.preflop", [1], HUNL),
            "search.bet_sizes",
            "expected a mapping with keys among flop, turn, river, got keys preflop",
        ),
        (with_value("search.ms", 100, HUNL), "search.ms", "config key 'search.ms' is unknown (allowed: bet_sizes)"),
        (with_value("search.bet_sizes.flop", [1]), "search", "search settings apply to hunl blueprints"),
    ],
)
def test_unknown_missing_and_misshapen_keys(data: dict[str, Any], key: str, message: str) -> None:
    error = error_for(data)
    assert error.key == key
    assert message in str(error)


def test_boundary_values_are_accepted() -> None:
    for key, value in [
        ("pruning.probability", 0),
        ("pruning.probability", 1),
        ("checkpoint.keep", 1),
        ("checkpoint.keep", 1000),
        ("metrics.progress_interval_s", 0.05),
        ("metrics.progress_interval_s", 1),
        ("checkpoint.every_seconds", 0),
        ("checkpoint.first_after_seconds", 0),
        ("checkpoint.first_after_seconds", 86400),
        ("iterations", 1),
        ("cfr.dcfr_beta", -3),
        ("pruning.threshold", -1e-9),
    ]:
        read: Any = config_to_mapping(config_from_mapping(with_value(key, value)))
        for part in key.split("."):
            read = read[part]
        assert read == value, key


def test_pruning_needs_external_sampling() -> None:
    for algorithm in ("cfr", "cfr+", "dcfr"):
        error = error_for(with_value("pruning.enabled", True, with_value("algorithm", algorithm)))
        assert error.key == "pruning.enabled"
        assert "es-mccfr" in str(error) and algorithm in str(error)
    assert config_from_mapping(with_value("pruning.enabled", True)).pruning.enabled
    # Pruning settings without pruning enabled are harmless under any algorithm.
    config_from_mapping(with_value("pruning.probability", 0.5, with_value("algorithm", "cfr")))


def test_hunl_refuses_full_traversal() -> None:
    for algorithm in ("cfr", "cfr+", "dcfr"):
        error = error_for({"game": "hunl", "algorithm": algorithm})
        assert error.key == "algorithm"
        assert str(error).startswith("config key 'algorithm': ") and "es-mccfr" in str(error)
    assert config_from_mapping({"game": "hunl", "algorithm": "es-mccfr"}).game == "hunl"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("- game\n- kuhn\n", "must be a mapping at the top level"),
        ("game: kuhn\ngame: leduc\nalgorithm: cfr\n", "duplicate key 'game'"),
        ("game: [kuhn\n", "not valid YAML"),
        ("game: !!python/object/apply:os.system ['true']\nalgorithm: cfr\n", "not valid YAML"),
    ],
    ids=["list", "duplicate", "syntax", "python-tag"],
)
def test_bad_files_raise_config_error(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_config(path)


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read") as info:
        load_config(tmp_path / "nope.yaml")
    assert info.value.key is None
    (tmp_path / "empty.yaml").write_text("")
    assert error_for({}).key == "game"
    with pytest.raises(ConfigError, match="'game' is required"):
        load_config(tmp_path / "empty.yaml")


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)
    assert isinstance(config_from_mapping(MINIMAL), TrainConfig)
