"""Where a policy is read from, shared by ``policy.py`` and ``evaluation/blueprint.py`` so that neither
imports the other: the error every source problem raises, and the checkpoint a folder names.
"""

from __future__ import annotations

from pathlib import Path

from holdem.storage import checkpoint as ckpt


class PolicyError(ValueError):
    """A source that cannot be read as a policy of a known game."""


def find_checkpoint(path: Path) -> ckpt.Checkpoint:
    """The checkpoint a hold'em source names: the folder itself, or an instance's newest verified one."""
    path = Path(path)
    if not path.exists():
        raise PolicyError(f"{path} does not exist (expected an instance, checkpoint or merged folder)")
    try:
        if (path / ckpt.MANIFEST).is_file():
            return ckpt.load_checkpoint(path)
    except ckpt.CorruptCheckpoint as exc:
        raise PolicyError(str(exc)) from None
    if (path / "checkpoints").is_dir():
        found = ckpt.latest_valid_checkpoint(path)
        if found is None:
            raise PolicyError(f"{path} has no checkpoint that verifies")
        return found
    if path.is_file():
        raise PolicyError(f"{path}: hold'em blueprints are read from an instance, checkpoint or merged folder")
    raise PolicyError(f"{path} is neither an instance folder nor a checkpoint or merged folder")
