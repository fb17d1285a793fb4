"""A private single-node Slurm cluster (munged + slurmctld + slurmd) in a temp folder, for tests and
benchmarks: `SlurmCluster(root).start()` ... `.stop()`, or the `slurm` pytest fixture.

Everything (munge key and socket, slurm.conf, state, spool, pid and log files) lives under `root`,
on private ports, so it never touches a system Slurm. Starting needs root (slurmd runs tasks as
the submitting user) and Debian's `slurmctld slurmd slurm-client munge`; `unavailable()` says in
one line why a cluster cannot be started here, so tests can skip with that reason. The facts this
relies on are in /work/shared/notes/slurm-single-node.md (measured on these machines).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BINARIES = ("munged", "slurmctld", "slurmd", "srun", "squeue", "scancel", "sinfo")
SBIN = ("/usr/sbin", "/sbin")


def _which(name: str) -> str | None:
    return shutil.which(name) or next((f"{d}/{name}" for d in SBIN if os.access(f"{d}/{name}", os.X_OK)), None)


def _tool(name: str) -> str:
    """The path of a program ``unavailable()`` found."""
    path = _which(name)
    if path is None:
        raise FileNotFoundError(name)
    return path


def unavailable() -> str | None:
    """Why no cluster can be started on this machine, or None."""
    if os.geteuid() != 0:
        return "a private Slurm cluster needs root (slurmd and munged run as root here)"
    missing = [b for b in BINARIES if _which(b) is None]
    if missing:
        return (
            f"Slurm is not installed (missing {', '.join(missing)}); `make test` installs "
            "slurmctld slurmd slurm-client munge with apt-get when run as root"
        )
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    """One controller and one node with `cpus` CPUs on this host."""

    def __init__(self, root: Path, cpus: int = 2, inactive_limit_s: int = 0, kill_wait_s: int = 30) -> None:
        self.root = root
        self.cpus = cpus
        self.host = socket.gethostname().split(".")[0]
        self.conf = root / "slurm.conf"
        self.munge_socket = root / "munge" / "munge.socket"
        self.inactive_limit_s = inactive_limit_s
        self.kill_wait_s = kill_wait_s
        self._pids: list[Path] = []

    @property
    def env(self) -> dict[str, str]:
        """What srun, squeue and scancel need to find this cluster."""
        return {"SLURM_CONF": str(self.conf)}

    def _write_conf(self) -> None:
        r = self.root
        for d in ("state", "spool", "log", "munge"):
            (r / d).mkdir(parents=True, exist_ok=True)
        (r / "munge").chmod(0o700)
        self.conf.write_text(f"""\
ClusterName=holdemtest
SlurmctldHost={self.host}
SlurmUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
InactiveLimit={self.inactive_limit_s}
KillWait={self.kill_wait_s}
MinJobAge=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName={self.host} CPUs={self.cpus} State=UNKNOWN
PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
""")

    def _start_munge(self) -> None:
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        pid = self.root / "munge" / "munged.pid"
        subprocess.run(
            [
                _tool("munged"),
                "--key-file",
                str(key),
                "--socket",
                str(self.munge_socket),
                "--pid-file",
                str(pid),
                "--log-file",
                str(self.root / "log" / "munged.log"),
                "--seed-file",
                str(self.root / "munge" / "munged.seed"),
                "--force",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        self._pids.append(pid)

    def start(self, timeout: float = 60.0) -> SlurmCluster:
        """Start munged, slurmctld and slurmd; return once the node accepts a job."""
        self._write_conf()
        self._start_munge()
        env = {**os.environ, **self.env}
        subprocess.run(
            [_tool("slurmctld"), "-c", "-f", str(self.conf)], check=True, env=env, capture_output=True, timeout=30
        )
        self._pids.append(self.root / "slurmctld.pid")
        subprocess.run([_tool("slurmd"), "-f", str(self.conf)], check=True, env=env, capture_output=True, timeout=30)
        self._pids.append(self.root / "slurmd.pid")
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True, timeout=30)
            if out.returncode == 0 and out.stdout.strip().rstrip("*") in ("idle", "mixed", "allocated"):
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"slurm node not idle after {timeout:g}s: {out.stdout}{out.stderr}\n" + self.logs())
            time.sleep(0.2)

    def squeue(self) -> list[str]:
        """One line `jobid name state node` per job in the queue."""
        out = subprocess.run(
            ["squeue", "-h", "-o", "%i %j %T %N"],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return [line for line in out.stdout.splitlines() if line.strip()]

    def wait_queue_empty(self, timeout: float = 60.0) -> list[str]:
        """Wait until no job is in the queue; returns what is still there at the timeout."""
        deadline = time.monotonic() + timeout
        while (left := self.squeue()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left

    def logs(self) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log"):
            try:
                parts.append(f"--- {name}\n" + (self.root / "log" / name).read_text()[-3000:])
            except OSError:
                pass
        return "\n".join(parts)

    def stop(self) -> None:
        """Cancel every job, then stop slurmd, slurmctld and munged by the pids in their pid files."""
        env = {**os.environ, **self.env}
        if self.conf.exists():
            subprocess.run(["scancel", "--full", "--user", "root"], env=env, capture_output=True, timeout=30)
        for pid_file in reversed(self._pids):
            try:
                pid = int(pid_file.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            _terminate(pid)
        self._pids.clear()


def _running(pid: int) -> bool:
    """Alive and not a zombie (the daemons fork away from us, so nobody may reap them soon)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _terminate(pid: int, grace_s: float = 10.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not _running(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
