"""Run untrusted Python in a subprocess that cannot harm the host, and report what happened.

Walls, from the kernel up: a new network namespace (no network at all) where the kernel
allows one; another user id (``nobody``) when we run as root, so nothing of the host is
writable and ``RLIMIT_NPROC`` bounds forks; resource limits on CPU time, address space,
processes and file size (output goes to host files through inherited descriptors, so the
size limit also caps stdout/stderr); ``python -I`` with an empty environment in a fresh
temporary folder; a wall-clock timeout after which the whole process group is killed; and
inside the interpreter an audit hook (``guard.py``) that refuses sockets, new processes,
ctypes and writes outside the folder. ``isolation`` says which walls this machine allowed.
The kernel walls are raised by ``launcher.py`` in the new process before it becomes the
sandboxed interpreter, so no ``preexec_fn`` runs in a (possibly threaded) worker.

The sandbox protects the host, not the verdict: code under test could print fake results.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import BinaryIO

LAUNCHER = Path(__file__).with_name("launcher.py")
GUARD = Path(__file__).with_name("guard.py").read_text() + "\n"
SIGNAL_NAMES = {
    signal.SIGXCPU: "CPU limit",
    signal.SIGXFSZ: "output limit",
    signal.SIGKILL: "killed (CPU or memory limit)",
}


@dataclass(frozen=True)
class Limits:
    wall_s: float = 10.0
    cpu_s: int = 10
    memory_mb: int = 1024
    processes: int = 16
    file_mb: int = 4  # each file written, stdout and stderr included
    output_chars: int = 20_000  # kept of stdout/stderr each


@dataclass
class SandboxResult:
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    stopped_by: str = ""  # "", "wall-clock timeout", "CPU limit", "output limit", "signal N"
    truncated: bool = False
    isolation: list[str] = field(default_factory=list)


@cache
def sandbox_user() -> int | None:
    """The uid to run as: ``nobody`` when we are root (and it exists), else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return None


def _world_runnable(path: str) -> bool:
    p = Path(path).resolve()
    dirs_ok = all(os.stat(d).st_mode & stat.S_IXOTH for d in p.parents)
    return dirs_ok and bool(os.stat(p).st_mode & stat.S_IROTH and os.stat(p).st_mode & stat.S_IXOTH)


@cache
def interpreter() -> tuple[str, int | None]:
    """A Python the sandbox user can run, and that uid (None: run as ourselves)."""
    uid = sandbox_user()
    if uid is None or _world_runnable(sys.executable):
        return sys.executable, uid
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.exists(candidate) and _world_runnable(candidate):
            return candidate, uid
    return sys.executable, None


@cache
def network_namespace_works() -> bool:
    """Whether this machine lets us give the sandbox its own (empty) network namespace."""
    probe = subprocess.run([*_launcher(), "--probe"], capture_output=True, check=False)
    return probe.returncode == 0


def _launcher() -> list[str]:
    return [sys.executable, "-I", "-S", str(LAUNCHER)]


def _command(python: str, limits: Limits, uid: int | None, netns: bool) -> list[str]:
    cfg = {
        "netns": netns,
        "uid": uid,
        "cpu_s": limits.cpu_s,
        "memory_mb": limits.memory_mb,
        "file_mb": limits.file_mb,
        "processes": limits.processes,
    }
    return [*_launcher(), json.dumps(cfg), python, "-I", "main.py"]


def run_python(
    script: str, *, limits: Limits | None = None, files: dict[str, str] | None = None
) -> SandboxResult:
    """Run ``script`` (after the guard) in the sandbox; ``files`` are written into its folder."""
    limits = limits or Limits()
    python, uid = interpreter()
    netns = network_namespace_works()
    with tempfile.TemporaryDirectory(prefix="familiar-sandbox-") as host_dir:
        work = _scratch_folder(Path(host_dir), {**(files or {}), "main.py": GUARD + script}, uid)
        out_path, err_path = Path(host_dir) / "stdout", Path(host_dir) / "stderr"
        with _private(out_path) as out, _private(err_path) as err:
            proc = subprocess.Popen(
                _command(python, limits, uid, netns),
                cwd=work,
                env={"LANG": "C.UTF-8"},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                close_fds=True,
            )
            timed_out = _wait(proc, limits.wall_s)
        isolation = _isolation(uid, netns)
        return _result(proc, timed_out, out_path, err_path, limits, isolation)


def _scratch_folder(host_dir: Path, files: dict[str, str], uid: int | None) -> Path:
    os.chmod(host_dir, 0o711)  # the sandbox user may pass through, not list or write
    work = host_dir / "work"
    work.mkdir(mode=0o700)
    for name, text in files.items():
        (work / name).write_text(text)
    if uid is not None:
        for p in [work, *work.iterdir()]:
            os.chown(p, uid, uid)
    return work


def _private(path: Path) -> BinaryIO:
    return open(path, "wb", opener=lambda p, flags: os.open(p, flags, 0o600))  # noqa: SIM115


def _wait(proc: subprocess.Popen[bytes], wall_s: float) -> bool:
    try:
        proc.wait(timeout=wall_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group, leftovers included
    proc.wait()
    return timed_out


def _read(path: Path, limit: int) -> tuple[str, bool]:
    with path.open("rb") as f:
        data = f.read(limit * 4 + 4)
    text = data.decode("utf-8", errors="replace")
    return text[:limit], len(text) > limit or path.stat().st_size > len(data)


def _result(
    proc: subprocess.Popen[bytes],
    timed_out: bool,
    out_path: Path,
    err_path: Path,
    limits: Limits,
    isolation: list[str],
) -> SandboxResult:
    stdout, cut_out = _read(out_path, limits.output_chars)
    stderr, cut_err = _read(err_path, limits.output_chars)
    code = proc.returncode
    stopped = ""
    if timed_out:
        stopped = "wall-clock timeout"
    elif code is not None and code < 0:
        sig = -code
        stopped = SIGNAL_NAMES.get(sig, f"signal {sig}")
    cap = limits.file_mb * 1024 * 1024
    if not stopped and max(out_path.stat().st_size, err_path.stat().st_size) >= cap:
        stopped = "output limit"  # Python ignores SIGXFSZ: the write failed with EFBIG
    return SandboxResult(code, stdout, stderr, timed_out, stopped, cut_out or cut_err, isolation)


def _isolation(uid: int | None, netns: bool) -> list[str]:
    walls = ["rlimits", "audit hook", "empty env", "scratch folder", "process group"]
    walls += ["network namespace"] if netns else []
    return walls + ([f"uid {uid}"] if uid is not None else [])
