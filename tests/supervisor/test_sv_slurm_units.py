"""The executor interface without a cluster: what srun is asked for, how specs are validated and
recorded, and that the local executor still launches exactly the worker's own argv."""

from __future__ import annotations

import pytest

from supervisor.executors import ExecutorSpec, LocalExecutor, Task, make_executor
from supervisor.executors.slurm import SlurmExecutor


def test_an_instance_is_one_srun_task_with_its_cpus_name_and_the_given_options() -> None:
    spec = ExecutorSpec(
        "slurm", partition="cpu", account="poker", time_limit="2-00:00:00", options=("--mem=4G", "--exclusive")
    )
    ex = make_executor(spec)
    assert isinstance(ex, SlurmExecutor)
    argv = ex.command(Task("holdem-R-3", cpus=4), ["python", "-m", "holdem.cli", "train", "--seed", "5"])
    assert argv[0] == "srun" and argv[argv.index("--") + 1 :] == ["python", "-m", "holdem.cli", "train", "--seed", "5"]
    opts = argv[1 : argv.index("--")]
    assert {
        "--job-name=holdem-R-3",
        "--ntasks=1",
        "--nodes=1",
        "--cpus-per-task=4",
        "--kill-on-bad-exit=1",
        "--input=none",
        "--partition=cpu",
        "--account=poker",
        "--time=2-00:00:00",
        "--signal=TERM@120",
        "--mem=4G",
        "--exclusive",
    } == set(opts)
    assert opts[-2:] == ["--mem=4G", "--exclusive"]  # the user's options come last, so they win


def test_without_a_time_limit_srun_gets_no_time_or_signal_option() -> None:
    opts = SlurmExecutor(ExecutorSpec("slurm")).srun_options(Task("holdem-R-prepare"))
    assert not any(o.startswith(("--time", "--signal", "--partition", "--account")) for o in opts)
    assert "--cpus-per-task=1" in opts


def test_the_local_executor_runs_the_worker_itself() -> None:
    ex = make_executor(ExecutorSpec())
    assert isinstance(ex, LocalExecutor) and ex.preexec() is None
    assert ex.command(Task("holdem-R-0"), ["w", "train"]) == ["w", "train"]


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"name": "pbs"}, "executor must be one of local, slurm, not 'pbs'"),
        ({"name": "local", "partition": "cpu"}, "need executor 'slurm'"),
        ({"name": "slurm", "partition": "two words"}, "slurm partition must be a non-empty word"),
        ({"name": "slurm", "time_limit": ""}, "slurm time_limit must be a non-empty word"),
        ({"name": "slurm", "options": ("mem=4G",)}, "srun options must each start with '-'"),
    ],
)
def test_a_bad_executor_spec_names_the_key_and_what_is_allowed(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        ExecutorSpec(**kwargs)


def test_a_spec_survives_its_record_and_unknown_keys_are_refused() -> None:
    spec = ExecutorSpec("slurm", partition="cpu", options=("--mem=4G",))
    assert ExecutorSpec.from_dict(spec.to_dict()) == spec
    assert ExecutorSpec.from_dict({"name": "slurm", "options": "--mem=4G --exclusive"}).options == (
        "--mem=4G",
        "--exclusive",
    )
    with pytest.raises(ValueError, match=r"unknown executor key.*queue"):
        ExecutorSpec.from_dict({"name": "slurm", "queue": "x"})
