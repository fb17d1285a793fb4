"""Checkpoints: atomic folders of .npy arrays with a checksummed JSON manifest, never pickle."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from holdem.storage import checkpoint as ckpt
from holdem.storage.checkpoint import (
    FORMAT_VERSION,
    CorruptCheckpoint,
    latest_valid_checkpoint,
    list_checkpoints,
    load_checkpoint,
    write_checkpoint,
)


def arrays_for(iteration: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(iteration)
    return {
        "regrets": rng.standard_normal((7, 3)),
        "strategy_sum": rng.random(11, dtype=np.float32),
        "rng_state": np.array([iteration, 2**63 - 1], dtype=np.uint64),
        "fortran": np.asfortranarray(rng.integers(-5, 5, size=(4, 5), dtype=np.int16)),
        "empty": np.zeros((0, 3), dtype=np.int32),
        "scalar": np.array(iteration + 0.25),
    }


def write(instance: Path, iteration: int, keep: int = 10, **meta: object) -> ckpt.WrittenCheckpoint:
    return write_checkpoint(instance, iteration, arrays_for(iteration), {"elapsed": 1.5, **meta}, keep)


def skips_of(instance: Path) -> tuple[ckpt.Checkpoint | None, list[tuple[str, str]]]:
    skipped: list[tuple[str, str]] = []
    found = latest_valid_checkpoint(instance, on_skip=lambda p, reason: skipped.append((p.name, reason)))
    return found, skipped


def test_round_trip_is_bit_exact_and_manifest_describes_every_file(tmp_path: Path) -> None:
    written = write(tmp_path, 42, game_hash="abc", rng={"state": [1, 2]})

    assert written.path == tmp_path / "checkpoints" / "000000000042"
    assert written.iteration == 42
    manifest_bytes = (written.path / "manifest.json").read_bytes()
    assert written.sha256 == hashlib.sha256(manifest_bytes).hexdigest()
    assert written.bytes == sum(f.stat().st_size for f in written.path.iterdir())

    loaded = load_checkpoint(written.path)
    assert loaded.iteration == 42
    assert loaded.manifest["format"] == FORMAT_VERSION
    assert loaded.meta == {"elapsed": 1.5, "game_hash": "abc", "rng": {"state": [1, 2]}}
    expected = arrays_for(42)
    got = loaded.load_arrays()
    assert got.keys() == expected.keys()
    for name, arr in expected.items():
        assert got[name].dtype == arr.dtype and got[name].shape == arr.shape
        assert got[name].tobytes() == arr.tobytes(), name
        entry = loaded.manifest["files"][f"{name}.npy"]
        assert entry["dtype"] == arr.dtype.str and entry["shape"] == list(arr.shape)
        data = (written.path / f"{name}.npy").read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_load_arrays_can_pick_some_arrays(tmp_path: Path) -> None:
    loaded = load_checkpoint(write(tmp_path, 1).path)
    assert list(loaded.load_arrays(["regrets"])) == ["regrets"]
    with pytest.raises(KeyError, match="nope"):
        loaded.load_arrays(["nope"])


def test_list_is_newest_first_and_ignores_other_entries(tmp_path: Path) -> None:
    for it in (5, 100, 20):
        write(tmp_path, it)
    root = tmp_path / "checkpoints"
    (root / ".tmp-000000000999-deadbeef").mkdir()
    (root / "notes").mkdir()
    (root / "000000000007.txt").write_text("x")
    assert [p.name for p in list_checkpoints(tmp_path)] == ["000000000100", "000000000020", "000000000005"]
    assert list_checkpoints(tmp_path / "elsewhere") == []


def test_truncated_newest_array_falls_back_to_previous(tmp_path: Path) -> None:
    write(tmp_path, 10)
    newest = write(tmp_path, 20).path / "regrets.npy"
    newest.write_bytes(newest.read_bytes()[:-9])

    found, skipped = skips_of(tmp_path)

    assert found is not None and found.iteration == 10
    assert len(skipped) == 1 and skipped[0][0] == "000000000020"
    assert "regrets.npy" in skipped[0][1] and "bytes" in skipped[0][1]


def test_bit_flipped_newest_file_falls_back_to_previous(tmp_path: Path) -> None:
    write(tmp_path, 10)
    newest = write(tmp_path, 20).path / "strategy_sum.npy"
    data = bytearray(newest.read_bytes())
    data[-3] ^= 0x10
    newest.write_bytes(bytes(data))

    found, skipped = skips_of(tmp_path)

    assert found is not None and found.iteration == 10
    assert [name for name, _ in skipped] == ["000000000020"]
    assert "strategy_sum.npy" in skipped[0][1] and "sha256" in skipped[0][1]
    with pytest.raises(CorruptCheckpoint, match=r"000000000020.*sha256"):
        load_checkpoint(tmp_path / "checkpoints" / "000000000020")


def test_checkpoint_verified_then_changed_is_caught_by_load_arrays(tmp_path: Path) -> None:
    loaded = load_checkpoint(write(tmp_path, 3).path)
    target = loaded.path / "regrets.npy"
    data = bytearray(target.read_bytes())
    data[200] ^= 1
    target.write_bytes(bytes(data))
    with pytest.raises(CorruptCheckpoint, match=r"regrets\.npy"):
        loaded.load_arrays()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: (d / "manifest.json").unlink(), "manifest.json is missing"),
        (lambda d: (d / "manifest.json").write_text('{"format": 1, "iter'), "not valid JSON"),
        (lambda d: (d / "manifest.json").write_text("[1, 2]"), "not a JSON object"),
        (lambda d: _edit_manifest(d, format=99), "format version 99"),
        (lambda d: _edit_manifest(d, iteration=21), "does not match the folder"),
        (lambda d: _edit_manifest(d, files=None), "no 'files' table"),
        (lambda d: (d / "regrets.npy").unlink(), "regrets.npy is missing"),
        (lambda d: _edit_manifest(d, files={"../../etc.npy": {}}), "bad file name"),
    ],
    ids=["no-manifest", "bad-json", "not-object", "format", "iteration", "no-files", "missing-file", "path"],
)
def test_each_kind_of_damage_is_skipped_with_its_reason(tmp_path: Path, damage, reason: str) -> None:
    write(tmp_path, 10)
    damage(write(tmp_path, 20).path)

    found, skipped = skips_of(tmp_path)

    assert found is not None and found.iteration == 10
    assert len(skipped) == 1 and reason in skipped[0][1]


def _edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def test_no_valid_checkpoint_gives_none(tmp_path: Path) -> None:
    assert latest_valid_checkpoint(tmp_path) is None
    (write(tmp_path, 1).path / "manifest.json").unlink()
    found, skipped = skips_of(tmp_path)
    assert found is None and len(skipped) == 1


def test_keep_prunes_to_the_newest(tmp_path: Path) -> None:
    for it in range(1, 7):
        write(tmp_path, it * 10, keep=3)
    assert [int(p.name) for p in list_checkpoints(tmp_path)] == [60, 50, 40]
    write(tmp_path, 70, keep=1)
    assert [int(p.name) for p in list_checkpoints(tmp_path)] == [70]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["000000000070"]


def test_keep_never_removes_the_new_checkpoint_nor_newer_ones_left_by_a_resume(tmp_path: Path) -> None:
    for it in (10, 20, 30):
        write(tmp_path, it)
    write(tmp_path, 15, keep=2)  # as after resuming from 10 because 20 and 30 were corrupt
    # 20 and 30 stay (the run replaces them when it gets there); below 15 only 10 fits in keep=2.
    assert [int(p.name) for p in list_checkpoints(tmp_path)] == [30, 20, 15, 10]
    write(tmp_path, 16, keep=1)
    assert [int(p.name) for p in list_checkpoints(tmp_path)] == [30, 20, 16]


def test_stale_temporaries_are_ignored_then_cleaned_by_the_next_write(tmp_path: Path) -> None:
    write(tmp_path, 10)
    root = tmp_path / "checkpoints"
    stale = root / ".tmp-000000000020-0badf00d"
    stale.mkdir()
    (stale / "regrets.npy").write_bytes(b"half written")

    found, skipped = skips_of(tmp_path)
    assert found is not None and found.iteration == 10 and skipped == []

    write(tmp_path, 20)
    assert sorted(p.name for p in root.iterdir()) == ["000000000010", "000000000020"]


def test_interrupted_replacement_is_restored_by_the_next_write(tmp_path: Path) -> None:
    # Without renameat2 the old folder is moved aside before the new one moves in; a crash
    # between the two leaves only the aside copy, which must come back rather than vanish.
    write(tmp_path, 10)
    root = tmp_path / "checkpoints"
    (root / "000000000010").rename(root / ".old-000000000010-12345678")
    write(tmp_path, 20)
    assert [int(p.name) for p in list_checkpoints(tmp_path)] == [20, 10]
    assert load_checkpoint(root / "000000000010").iteration == 10


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_rewriting_the_same_iteration_replaces_it(tmp_path: Path, monkeypatch, exchange: bool) -> None:
    if not exchange:
        monkeypatch.setattr(ckpt, "_exchange", lambda a, b: False)
    write(tmp_path, 10)
    first = write(tmp_path, 20, run="first")
    (first.path / "regrets.npy").write_bytes(b"corrupted")

    second = write_checkpoint(tmp_path, 20, {"x": np.arange(3)}, {"run": "second"}, keep=5)

    assert [int(p.name) for p in list_checkpoints(tmp_path)] == [20, 10]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["000000000010", "000000000020"]
    loaded = load_checkpoint(second.path)
    assert loaded.meta == {"run": "second"}
    assert list(loaded.load_arrays()) == ["x"]


def test_object_arrays_are_refused_on_write(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="object"):
        write_checkpoint(tmp_path, 1, {"bad": np.array([{"a": 1}], dtype=object)}, {}, keep=1)
    assert not (tmp_path / "checkpoints").exists()


@pytest.mark.parametrize(
    ("iteration", "arrays", "meta", "keep", "match"),
    [
        (1, {}, {"format": 2}, 1, "reserved"),
        (1, {}, {"files": {}}, 1, "reserved"),
        (-1, {}, {}, 1, "iteration"),
        (1, {}, {}, 0, "keep"),
        (True, {}, {}, 1, "iteration"),
        (1.0, {}, {}, 1, "iteration"),
        (1, {"../x": np.zeros(1)}, {}, 1, "file name"),
        (1, {".hidden": np.zeros(1)}, {}, 1, "file name"),
        (1, {"x": [1, 2]}, {}, 1, "numpy array"),
    ],
)
def test_bad_arguments_raise_value_error(tmp_path: Path, iteration, arrays, meta, keep, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        write_checkpoint(tmp_path, iteration, arrays, meta, keep)


def test_numpy_integers_are_accepted_for_iteration_and_keep(tmp_path: Path) -> None:
    seven, one = np.int64(7), np.int32(1)  # numpy integers, as the training loop may pass them
    written = write_checkpoint(tmp_path, seven, {"x": np.zeros(1)}, {}, keep=one)  # type: ignore[arg-type]
    assert written.iteration == 7 and type(written.iteration) is int
    assert load_checkpoint(written.path).iteration == 7


def test_meta_that_is_not_json_leaves_no_debris(tmp_path: Path) -> None:
    with pytest.raises((TypeError, ValueError)):
        write_checkpoint(tmp_path, 1, {"x": np.zeros(2)}, {"elapsed": float("nan")}, keep=1)
    assert list((tmp_path / "checkpoints").iterdir()) == []


def test_loading_never_unpickles(tmp_path: Path) -> None:
    write(tmp_path, 5)
    folder = write(tmp_path, 6).path
    marker = tmp_path / "pwned"
    # An object-dtype .npy whose body is a protocol-0 pickle calling os.mkdir(marker) when unpickled,
    # written byte by byte so that the test itself never pickles anything.
    payload = b"cos\nmkdir\n(V" + str(marker).encode() + b"\ntR."
    with open(folder / "regrets.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": (1,)})
        f.write(payload)
    data = (folder / "regrets.npy").read_bytes()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["regrets.npy"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "dtype": "|O",
        "shape": [1],
    }
    manifest["manifest_sha256"] = ckpt.manifest_checksum(manifest)  # a forger who knows the format
    (folder / "manifest.json").write_text(json.dumps(manifest))

    # The checksums verify, so the checkpoint is found; loading its arrays must refuse, not execute.
    found = latest_valid_checkpoint(tmp_path)
    assert found is not None and found.iteration == 6
    with pytest.raises(CorruptCheckpoint, match="pickle"):
        found.load_arrays()
    assert not marker.exists()


def test_an_edited_manifest_fails_its_own_checksum_and_the_previous_checkpoint_is_used(tmp_path: Path) -> None:
    write(tmp_path, 10, rng_state={"pos": 1})
    newest = write(tmp_path, 20, rng_state={"pos": 2}).path
    _edit_manifest(newest, rng_state={"pos": 3})  # still valid JSON, every array still verifies

    found, skipped = skips_of(tmp_path)

    assert found is not None and found.iteration == 10
    assert skipped == [("000000000020", skipped[0][1])] and "manifest checksum" in skipped[0][1]


def test_a_manifest_without_its_checksum_is_corrupt_unless_it_is_format_1(tmp_path: Path) -> None:
    path = write(tmp_path, 5).path
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["manifest_sha256"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptCheckpoint, match="no manifest checksum"):
        load_checkpoint(path)
    # Format 1 (written before manifests carried a checksum) still loads: old runs and bucket sets resume.
    manifest["format"] = 1
    (path / "manifest.json").write_text(json.dumps(manifest))
    assert load_checkpoint(path).iteration == 5
