"""The training config: YAML validated on load into frozen dataclasses, so nothing downstream re-checks it.

Invariants: every value in a `TrainConfig` has its declared type and lies in its declared range (the
schema is the `check` metadata on each field below); unknown keys, wrong types (a bool is never a
number) and cross-field conflicts raise `ConfigError` naming the dotted key. `config_to_mapping`
gives the resolved config, which loads back to an equal one, and `config_hash` is stable across key order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import types
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from holdem.cards import STREETS

GAMES = ("kuhn", "leduc", "hunl")
ALGORITHMS = ("cfr", "cfr+", "dcfr", "es-mccfr")
FULL_TRAVERSAL = frozenset({"cfr", "cfr+", "dcfr"})


class ConfigError(ValueError):
    """A bad config value; `key` is its dotted path (None for the file as a whole)."""

    def __init__(self, key: str | None, message: str) -> None:
        self.key = key
        self.message = message
        if key is None:
            text = f"config {message}"
        else:
            text = f"config key '{key}'{' ' if message.startswith('is ') else ': '}{message}"
        super().__init__(text)


# ---------------------------------------------------------------- value checks


class AbstractionError(ConfigError):
    """A bad `hunl` (or `search`) config value: ``key`` names it, the message gives the allowed range."""


def pot_fractions(key: str, value: Any) -> tuple[float, ...]:
    """A config list of bet sizes as pot fractions in (0, 100]; the error names the key."""
    if not isinstance(value, (list, tuple)) or any(
        isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 100 for f in value
    ):
        raise AbstractionError(key, f"expected a list of pot fractions in (0, 100], got {value!r}")
    return tuple(float(f) for f in value)


def search_sizes_from_config(
    section: Mapping[str, Any] | None, blueprint_sizes: tuple[tuple[float, ...], ...]
) -> tuple[tuple[float, ...], ...]:
    """The pot fractions real-time search bets and raises per street: the config's `search.bet_sizes`
    where it names a street, the blueprint's elsewhere (search plays the blueprint before the flop)."""
    data = dict(section or {})
    for key in data:
        if key != "bet_sizes":
            raise AbstractionError(f"search.{key}", "is unknown (allowed: bet_sizes)")
    sizes = data.get("bet_sizes", {})
    if not isinstance(sizes, Mapping) or set(sizes) - set(STREETS[1:]):
        got = f"keys {', '.join(sorted(map(str, sizes)))}" if isinstance(sizes, Mapping) else repr(sizes)
        raise AbstractionError(
            "search.bet_sizes", f"expected a mapping with keys among {', '.join(STREETS[1:])}, got {got}"
        )
    return tuple(
        pot_fractions(f"search.bet_sizes.{street}", sizes[street]) if street in sizes else base
        for street, base in zip(STREETS, blueprint_sizes)
    )


@dataclass(frozen=True, slots=True)
class Choice:
    values: tuple[str, ...]

    def __call__(self, key: str, value: Any) -> str:
        if isinstance(value, str) and value in self.values:
            return value
        raise ConfigError(key, f"expected one of {', '.join(self.values)}, got {_show(value)}")


@dataclass(frozen=True, slots=True)
class Flag:
    def __call__(self, key: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(key, f"expected true or false, got {_show(value)}")


@dataclass(frozen=True, slots=True)
class Number:
    """An int (integer=True) or a float in a range; `open_hi` makes the upper bound strict."""

    integer: bool = False
    lo: float | None = None
    hi: float | None = None
    open_hi: bool = False

    def __call__(self, key: str, value: Any) -> int | float:
        kinds = (int,) if self.integer else (int, float)
        # bool is an int subclass in Python, but `true` for a count is a mistake, not a 1.
        ok = isinstance(value, kinds) and not isinstance(value, bool)
        number = value if self.integer or not ok else float(value)
        if ok and not self.integer:
            ok = math.isfinite(number)
        if ok and self.lo is not None:
            ok = number >= self.lo
        if ok and self.hi is not None:
            ok = number < self.hi if self.open_hi else number <= self.hi
        if not ok:
            raise ConfigError(key, f"expected {self.describe()}, got {_show(value)}")
        return number

    def describe(self) -> str:
        noun = "an integer" if self.integer else "a number"
        lo, hi = _fmt(self.lo), _fmt(self.hi)
        if self.lo is not None and self.hi is not None and not self.open_hi:
            return f"{noun} in [{lo}, {hi}]"
        if self.lo is not None and self.hi is not None:
            return f"{noun} in [{lo}, {hi})"
        if self.lo is not None:
            return f"{noun} >= {lo}"
        if self.hi is not None:
            return f"{noun} {'<' if self.open_hi else '<='} {hi}"
        return noun


def _fmt(x: float | None) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null (empty)"
    if isinstance(value, (dict, list)):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    return repr(value)


@dataclass(frozen=True, slots=True)
class PlainMapping:
    """Free-form section (null or a mapping of plain JSON values), deep-frozen into read-only views."""

    def __call__(self, key: str, value: Any) -> Mapping[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ConfigError(key, f"expected a mapping, got {_show(value)}")
        return _frozen_json(key, value)


def _opt(default: Any, check: Any) -> Any:
    return field(default=default, metadata={"check": check})


def _required(check: Any) -> Any:
    return field(metadata={"check": check})


# ---------------------------------------------------------------- the schema


@dataclass(frozen=True, slots=True)
class CfrConfig:
    averaging: str = _opt("linear", Choice(("uniform", "linear")))  # weights of the average strategy
    linear_regrets: bool = _opt(True, Flag())  # es-mccfr: Linear CFR weighting of regrets
    dcfr_alpha: float = _opt(1.5, Number(lo=0))
    dcfr_beta: float = _opt(0.0, Number())
    dcfr_gamma: float = _opt(2.0, Number(lo=0))


@dataclass(frozen=True, slots=True)
class PruningConfig:
    enabled: bool = _opt(False, Flag())
    threshold: float = _opt(-300_000_000.0, Number(hi=0, open_hi=True))
    probability: float = _opt(0.95, Number(lo=0, hi=1))
    start_iteration: int = _opt(0, Number(integer=True, lo=0))


@dataclass(frozen=True, slots=True)
class CheckpointConfig:
    every_iterations: int = _opt(0, Number(integer=True, lo=0))  # 0 = off
    every_seconds: float = _opt(60.0, Number(lo=0))  # 0 = off
    keep: int = _opt(3, Number(integer=True, lo=1, hi=1000))
    # Seconds into every launch for a first checkpoint (0 = none): an instance killed again and again
    # before its regular checkpoint would otherwise restart from the same one for ever.
    first_after_seconds: float = _opt(5.0, Number(lo=0, hi=86400))


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    progress_interval_s: float = _opt(0.5, Number(lo=0.05, hi=1.0))
    exploitability_every_s: float = _opt(5.0, Number(lo=0))  # 0 = off
    tensorboard: bool = _opt(True, Flag())


@dataclass(frozen=True, slots=True)
class TrainConfig:
    game: str = _required(Choice(GAMES))
    algorithm: str = _required(Choice(ALGORITHMS))
    seed: int = _opt(0, Number(integer=True, lo=0, hi=2**63 - 1))  # fits an int64 RNG state
    iterations: int = _opt(10_000, Number(integer=True, lo=1))  # target when the CLI gives none
    cfr: CfrConfig = field(default_factory=CfrConfig)
    pruning: PruningConfig = field(default_factory=PruningConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    # Defined by the hold'em issue; until then a read-only view of plain JSON values.
    hunl: Mapping[str, Any] | None = _opt(None, PlainMapping())
    # Worker threads of one instance on shared tables (es-mccfr); not in solver_config_hash: a resume
    # may change it.
    workers: int = _opt(1, Number(integer=True, lo=1, hi=1024))
    # Real-time search over a hold'em blueprint (`search.bet_sizes` per postflop street); read by
    # `holdem play/match --search`, not by training, so not in solver_config_hash.
    search: Mapping[str, Any] | None = _opt(None, PlainMapping())


# ---------------------------------------------------------------- building


def load_config(path: Path | str) -> TrainConfig:
    """Read a YAML file and validate it; every problem is a ConfigError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(None, f"file {str(path)!r} cannot be read: {exc}") from None
    try:
        loader = _Loader(text)  # a SafeLoader: builds plain data only
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ConfigError(None, f"file {str(path)!r} is not valid YAML: {exc}") from None
    if data is None:
        data = {}
    return config_from_mapping(data)


def config_from_mapping(data: Any) -> TrainConfig:
    """Validate plain data (as YAML or JSON would give) into a TrainConfig."""
    if not isinstance(data, Mapping):
        raise ConfigError(None, f"must be a mapping at the top level, got {_show(data)}")
    cfg = _build(TrainConfig, data, "")
    _check_cross_fields(cfg)
    return cfg


def config_to_mapping(cfg: TrainConfig) -> dict[str, Any]:
    """The resolved config (every default filled in) as plain JSON-able data."""
    out = _plain(cfg)
    assert isinstance(out, dict)
    return out


def config_hash(cfg: TrainConfig) -> str:
    """sha256 of the canonical JSON of the resolved config: equal configs hash equal, whatever the key order."""
    return _hash(config_to_mapping(cfg))


def solver_config_hash(cfg: TrainConfig) -> str:
    """Hash of only what shapes the solver's trajectory (not the target, checkpoint or metrics settings).

    A checkpoint can record this to refuse a resume under another game, algorithm, seed or schedule
    while still allowing a longer target or other checkpoint and metrics intervals.
    """
    full = config_to_mapping(cfg)
    return _hash({k: full[k] for k in ("game", "algorithm", "seed", "cfr", "pruning", "hunl")})


def _hash(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _build(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise ConfigError(f"{prefix}{key}", f"is unknown (allowed: {', '.join(fields)})")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        key = f"{prefix}{name}"
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(key, f"is required (one of {', '.join(f.metadata['check'].values)})")
            continue  # the dataclass default
        value = data[name]
        if dataclasses.is_dataclass(f.default_factory):  # a nested section
            if value is None:
                value = {}  # `cfr:` with every line below commented out means the defaults
            if not isinstance(value, Mapping):
                raise ConfigError(key, f"expected a mapping, got {_show(value)}")
            values[name] = _build(f.default_factory, value, f"{key}.")
        else:
            values[name] = f.metadata["check"](key, value)
    return cls(**values)


def _frozen_json(key: str, value: Any) -> Any:
    """Deep-freeze plain JSON data (mappings → read-only views, lists → tuples); refuse anything else."""
    if isinstance(value, Mapping):
        for k in value:
            if not isinstance(k, str):
                raise ConfigError(key, f"keys must be strings, got {_show(k)}")
        return types.MappingProxyType({k: _frozen_json(f"{key}.{k}", v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_frozen_json(f"{key}[{i}]", v) for i, v in enumerate(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, f"expected a finite number, got {value!r}")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ConfigError(key, f"expected plain data (string, number, bool, list, mapping), got {_show(value)}")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _check_cross_fields(cfg: TrainConfig) -> None:
    # Pluribus-style pruning skips actions while sampling; full traversal has nothing to skip.
    if cfg.pruning.enabled and cfg.algorithm != "es-mccfr":
        raise ConfigError("pruning.enabled", f"pruning needs algorithm es-mccfr, but algorithm is {cfg.algorithm!r}")
    if cfg.search is not None:
        if cfg.game != "hunl":
            raise ConfigError("search", f"search settings apply to hunl blueprints, but game is {cfg.game!r}")
        search_sizes_from_config(cfg.search, ((),) * 4)  # an AbstractionError is a ConfigError naming its key
    if cfg.game == "hunl" and cfg.algorithm in FULL_TRAVERSAL:
        raise ConfigError(
            "algorithm",
            f"{cfg.algorithm!r} traverses the whole tree, too big for hunl (use es-mccfr)",
        )


# ---------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and reads YAML 1.2 floats such as `1e-6`.

    PyYAML follows YAML 1.1, where `1e-6` (no dot) is a string and a repeated key silently wins;
    both would surprise someone editing a config.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base class reports unhashable keys
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
