"""Atomic, checksummed checkpoints: one folder of `.npy` arrays plus a JSON manifest, never pickle.

Invariants: a folder named `checkpoints/<iteration, 12 digits>/` is complete and fsynced before it
gets that name (it is built in a temporary folder whose name starts with "." and renamed into place);
its `manifest.json` records the sha256 and size of every array file and the sha256 of its own
content (`manifest_sha256`, over the canonical JSON of the other keys), and nothing is trusted until
those verify. Arrays are saved and loaded with `allow_pickle=False`, so loading never runs code.
One process writes an instance's checkpoints (each write clears temporaries a crashed writer left);
any number may read them.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import operator
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from holdem.storage.atomic import fsync_dir, write_synced

FORMAT_VERSION = 2  # 2: the manifest carries its own checksum
READABLE_FORMATS = frozenset({1, 2})  # 1: written before that; still read, so old runs and bucket sets resume
MANIFEST = "manifest.json"
SELF_CHECKSUM = "manifest_sha256"
RESERVED_KEYS = frozenset({"format", "iteration", "files", SELF_CHECKSUM})

_DIGITS = 12
_CHECKPOINT_NAME = re.compile(r"\d" * _DIGITS)
_ARRAY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_CHUNK = 1 << 20


class CorruptCheckpoint(Exception):
    """A checkpoint folder that does not verify; `reason` says what is wrong, `path` where."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"corrupt checkpoint {self.path}: {reason}")


@dataclass(frozen=True, slots=True)
class WrittenCheckpoint:
    path: Path
    iteration: int
    bytes: int  # total size of the folder's files
    sha256: str  # of manifest.json's bytes, which in turn pin every array file


@dataclass(frozen=True, slots=True)
class Checkpoint:
    path: Path
    iteration: int
    manifest: dict[str, Any]

    @property
    def meta(self) -> dict[str, Any]:
        """The caller's metadata: the manifest without its reserved keys."""
        return {k: v for k, v in self.manifest.items() if k not in RESERVED_KEYS}

    def load_arrays(self, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Load the arrays (all, or those named), re-verifying each file's sha256 as it is read."""
        files: dict[str, Any] = self.manifest["files"]
        wanted = [f"{n}.npy" for n in names] if names is not None else list(files)
        arrays: dict[str, np.ndarray] = {}
        for file_name in wanted:
            if file_name not in files:
                raise KeyError(f"checkpoint {self.path} has no array {file_name[:-4]!r}")
            arrays[file_name[:-4]] = _load_verified(self.path, file_name, files[file_name])
        return arrays


# ---------------------------------------------------------------- writing


def write_checkpoint(
    instance_dir: Path,
    iteration: int,
    arrays: Mapping[str, np.ndarray],
    meta: Mapping[str, Any],
    keep: int,
) -> WrittenCheckpoint:
    """Write `arrays` and `meta` as checkpoint `iteration` atomically, then prune to the newest `keep`."""
    iteration, keep = _plain_int("iteration", iteration), _plain_int("keep", keep)
    _check_arguments(iteration, arrays, meta, keep)
    root = Path(instance_dir) / "checkpoints"
    if not root.is_dir():
        root.mkdir(parents=True)
        fsync_dir(root.parent)  # so the new folder's own entry survives a power cut
    _remove_stale_temporaries(root)

    name = f"{iteration:0{_DIGITS}d}"
    tmp = root / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files = {f"{key}.npy": _save_array(tmp / f"{key}.npy", arr) for key, arr in arrays.items()}
        manifest = {"format": FORMAT_VERSION, "iteration": iteration, "files": files, **meta}
        manifest[SELF_CHECKSUM] = manifest_checksum(manifest)
        # Strict JSON (no NaN) so that any reader, not only Python's, can parse the manifest.
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False).encode()
        write_synced(tmp / MANIFEST, manifest_bytes)
        fsync_dir(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # e.g. disk full or meta not JSON: leave no debris
        raise

    final = root / name
    _move_into_place(tmp, final)
    _prune(root, keep, iteration)
    total = sum(entry["bytes"] for entry in files.values()) + len(manifest_bytes)
    return WrittenCheckpoint(final, iteration, total, hashlib.sha256(manifest_bytes).hexdigest())


def manifest_checksum(manifest: Mapping[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON without its own checksum key.

    Canonical (sorted keys, no spaces, strict) so a reader recomputes it from the parsed object:
    an edit anywhere in the manifest, even one that leaves valid JSON, changes it.
    """
    body = {k: v for k, v in manifest.items() if k != SELF_CHECKSUM}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()).hexdigest()


def _plain_int(name: str, value: Any) -> int:
    """A Python int from any integer (numpy's included, as training loops hold them); bool refused."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def _check_arguments(iteration: int, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any], keep: int) -> None:
    if not 0 <= iteration < 10**_DIGITS:
        raise ValueError(f"iteration must be in [0, {10**_DIGITS}), got {iteration}")
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    reserved = RESERVED_KEYS.intersection(meta)
    if reserved:
        raise ValueError(f"meta keys {sorted(reserved)} are reserved for the manifest")
    for key, arr in arrays.items():
        if not _ARRAY_NAME.fullmatch(key):
            raise ValueError(f"array name {key!r} is not a plain file name ([A-Za-z0-9_.-], no leading '.')")
        if not isinstance(arr, np.ndarray):
            raise ValueError(f"array {key!r} is a {type(arr).__name__}, not a numpy array")
        if arr.dtype.hasobject:
            raise ValueError(f"array {key!r} has dtype {arr.dtype}; object arrays would need pickle")


class _HashingWriter:
    """File wrapper that hashes and counts what np.save writes, so files are hashed in one pass."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        self.sha.update(view)
        self.size += view.nbytes
        return self._f.write(view)


def _save_array(path: Path, arr: np.ndarray) -> dict[str, Any]:
    with open(path, "wb") as f:
        writer = _HashingWriter(f)
        np.save(writer, arr, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    return {
        "sha256": writer.sha.hexdigest(),
        "bytes": writer.size,
        "dtype": arr.dtype.str,
        "shape": list(arr.shape),
    }


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename the finished folder into place; an existing folder of that name is swapped out atomically.

    A folder of the same iteration exists after a resume from an older checkpoint. Linux's
    renameat2(RENAME_EXCHANGE) swaps the two in one step, so some complete folder always has the
    name. Where the file system lacks it, the old one is first renamed aside to a ".old-" folder,
    which `_remove_stale_temporaries` renames back if a crash falls between the two renames.
    """
    if final.exists():
        if not _exchange(tmp, final):
            aside = final.parent / f".old-{final.name}-{uuid.uuid4().hex[:8]}"
            os.rename(final, aside)
            os.rename(tmp, final)
            tmp = aside
        fsync_dir(final.parent)
        shutil.rmtree(tmp)  # now holds the replaced checkpoint
    else:
        os.rename(tmp, final)
    fsync_dir(final.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False where that is unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove_stale_temporaries(root: Path) -> None:
    """Clear what a crashed write left: restore an interrupted replacement, delete the rest."""
    for entry in sorted(root.iterdir()):
        if not entry.name.startswith(".") or not entry.is_dir():
            continue
        if entry.name.startswith(".old-"):
            original = root / entry.name.split("-")[1]
            if _CHECKPOINT_NAME.fullmatch(original.name) and not original.exists():
                os.rename(entry, original)
                continue
        shutil.rmtree(entry, ignore_errors=True)
    fsync_dir(root)


def _prune(root: Path, keep: int, written: int) -> None:
    """Keep the newest `keep` checkpoints at or below the one just written (which is never removed).

    Checkpoints above it were left by a resume from an older one; they are left alone, and the
    run replaces them as it reaches their iterations.
    """
    older = [p for p in list_checkpoints(root.parent) if int(p.name) < written]
    for path in older[keep - 1 :]:
        # Rename first so that a crash mid-delete leaves a temporary folder, not a half checkpoint.
        doomed = root / f".del-{path.name}-{uuid.uuid4().hex[:8]}"
        os.rename(path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
    fsync_dir(root)


# ---------------------------------------------------------------- reading


def list_checkpoints(instance_dir: Path) -> list[Path]:
    """Checkpoint folders of an instance, newest (highest iteration) first; temporaries are ignored."""
    root = Path(instance_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _CHECKPOINT_NAME.fullmatch(p.name) and p.is_dir()]
    return sorted(found, key=lambda p: int(p.name), reverse=True)


def load_checkpoint(path: Path) -> Checkpoint:
    """Read and fully verify a checkpoint folder (manifest, then every file's size and sha256)."""
    path = Path(path)
    manifest = _read_manifest(path)
    for file_name, entry in manifest["files"].items():
        file_path = path / file_name
        if not file_path.is_file():
            raise CorruptCheckpoint(path, f"{file_name} is missing")
        with open(file_path, "rb") as f:
            _verify_stream(path, file_name, entry, f)
    return Checkpoint(path, manifest["iteration"], manifest)


def latest_valid_checkpoint(
    instance_dir: Path, on_skip: Callable[[Path, str], None] | None = None
) -> Checkpoint | None:
    """The newest checkpoint that verifies fully; each corrupt newer one is reported to `on_skip`."""
    for path in list_checkpoints(instance_dir):
        try:
            return load_checkpoint(path)
        except CorruptCheckpoint as exc:
            if on_skip is not None:
                on_skip(path, exc.reason)
    return None


def newest_manifest(instance_dir: Path) -> dict[str, Any] | None:
    """The manifest of the newest checkpoint whose manifest reads and checks, its arrays unread: cheap,
    for a choice (which config a resume trains with), never for loading."""
    for path in list_checkpoints(instance_dir):
        try:
            return _read_manifest(path)
        except CorruptCheckpoint:
            continue
    return None


def _read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path / MANIFEST
    try:
        raw = manifest_path.read_bytes()
    except FileNotFoundError:
        raise CorruptCheckpoint(path, f"{MANIFEST} is missing (write interrupted?)") from None
    except OSError as exc:
        raise CorruptCheckpoint(path, f"{MANIFEST} cannot be read: {exc.strerror}") from None
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptCheckpoint(path, f"{MANIFEST} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise CorruptCheckpoint(path, f"{MANIFEST} is not a JSON object")
    fmt = manifest.get("format")
    if type(fmt) is not int or fmt not in READABLE_FORMATS:
        raise CorruptCheckpoint(path, f"format version {fmt!r}, this program reads {sorted(READABLE_FORMATS)}")
    iteration = manifest.get("iteration")
    if type(iteration) is not int or not _CHECKPOINT_NAME.fullmatch(path.name) or int(path.name) != iteration:
        raise CorruptCheckpoint(path, f"manifest iteration {iteration!r} does not match the folder name")
    _check_files_table(path, manifest.get("files"))
    if fmt >= 2:
        _check_self_checksum(path, manifest)
    return manifest


def _check_self_checksum(path: Path, manifest: dict[str, Any]) -> None:
    recorded = manifest.get(SELF_CHECKSUM)
    if not isinstance(recorded, str):
        raise CorruptCheckpoint(path, f"{MANIFEST} has no manifest checksum ({SELF_CHECKSUM})")
    try:
        actual = manifest_checksum(manifest)
    except ValueError as exc:  # NaN or infinity: not canonical JSON, so not what we wrote
        raise CorruptCheckpoint(path, f"{MANIFEST} is not strict JSON: {exc}") from None
    if actual != recorded:
        raise CorruptCheckpoint(
            path, f"manifest checksum {actual[:16]}… does not match the recorded {recorded[:16]}… (edited?)"
        )


def _check_files_table(path: Path, files: Any) -> None:
    if not isinstance(files, dict):
        raise CorruptCheckpoint(path, f"{MANIFEST} has no 'files' table")
    for file_name, entry in files.items():
        # Names come from disk, so refuse anything that could point outside the folder.
        if not file_name.endswith(".npy") or not _ARRAY_NAME.fullmatch(file_name):
            raise CorruptCheckpoint(path, f"{MANIFEST} lists a bad file name {file_name!r}")
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and type(entry.get("bytes")) is int
            and isinstance(entry.get("dtype"), str)
            and isinstance(entry.get("shape"), list)
            and all(type(n) is int for n in entry["shape"])
        ):
            raise CorruptCheckpoint(path, f"{MANIFEST} entry for {file_name} is malformed")


def _verify_stream(path: Path, file_name: str, entry: Mapping[str, Any], f: BinaryIO) -> None:
    """Check size and sha256 of an open file, reading it in chunks; leaves it at its end."""
    size = os.fstat(f.fileno()).st_size
    if size != entry["bytes"]:
        raise CorruptCheckpoint(path, f"{file_name} has {size} bytes, manifest says {entry['bytes']}")
    sha = hashlib.sha256()
    while chunk := f.read(_CHUNK):
        sha.update(chunk)
    if sha.hexdigest() != entry["sha256"]:
        raise CorruptCheckpoint(
            path, f"{file_name} sha256 {sha.hexdigest()[:16]}… does not match manifest {entry['sha256'][:16]}…"
        )


def _load_verified(path: Path, file_name: str, entry: Mapping[str, Any]) -> np.ndarray:
    try:
        f = open(path / file_name, "rb")  # noqa: SIM115 (opened apart, so only its FileNotFoundError is caught)
    except FileNotFoundError:
        raise CorruptCheckpoint(path, f"{file_name} is missing") from None
    with f:
        # Hash and load through one open file, so what is loaded is what was verified.
        _verify_stream(path, file_name, entry, f)
        f.seek(0)
        try:
            arr = np.load(f, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:  # object arrays land here: they need pickle
            raise CorruptCheckpoint(path, f"{file_name} cannot be loaded without pickle: {exc}") from None
    if arr.dtype.str != entry["dtype"] or list(arr.shape) != entry["shape"]:
        raise CorruptCheckpoint(
            path,
            f"{file_name} holds {arr.dtype.str}{list(arr.shape)}, manifest says {entry['dtype']}{entry['shape']}",
        )
    return arr
