"""vLLM servers a GPU worker manages itself: started for a job's target, reused, stopped.

A worker that has no external server (no ``INFERENCE_URL``) asks the pool for a server for
its target::

    from workers.inference_server.managed import get_pool, server_key

    key = server_key(model_dir, served_name="packaged:SmolLM2-135M-Instruct", dtype="bfloat16")
    with get_pool().acquire(key) as server:
        ...  # OpenAI-compatible API at server.base_url, model name key.served_name

or, from a Familiar model name, ``with serve_model(name, cache_dir=...) as server``.

- Reuse: jobs whose key is the same (weights folder, served name, dtype, tensor-parallel
  size, LoRA on or off) share one running server; a key that differs stops the idle server
  first (one GPU worker holds one server: vLLM reserves most of the GPU's memory).
- Idle stop: a server that served nobody for ``VLLM_IDLE_STOP_S`` is stopped by a
  background thread; the next job starts it again.
- Shutdown: every server stops when the worker shuts down (Celery's ``worker_shutdown``
  signal, and ``atexit``), and dies with the worker when it is killed (``launch``).
- Training: ``release_gpu()`` before a training job on the same GPU stops the managed
  servers, unless ``VLLM_KEEP_DURING_TRAINING`` is on; then the two share the GPU, the
  server holding ``VLLM_GPU_MEMORY_UTILIZATION`` of its memory (at most 0.45 for sharing)
  and training the rest.
- Logs: each server writes ``DATA_DIR/logs/vllm-<name>-<port>.log``; the worker's own log
  says where, with the start time; a start that fails raises ``ManagedServerError`` with the
  log's last lines (at once when the process exits, else after ``VLLM_START_TIMEOUT_S``).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import Settings, get_settings
from workers.inference_server.launch import (
    LaunchOptions,
    ManagedServerError,
    RunningServer,
    ServerKey,
    launch,
    split_args,
)

log = logging.getLogger(__name__)

__all__ = [
    "ManagedServerError",
    "RunningServer",
    "ServerKey",
    "ServerPool",
    "get_pool",
    "release_gpu",
    "serve_model",
    "server_key",
    "stop_all",
]


class ServerPool:
    """The managed servers of one worker process, by ``ServerKey``."""

    def __init__(
        self,
        opts: LaunchOptions,
        *,
        idle_stop_s: float,
        keep_during_training: bool = False,
        launcher: Callable[[ServerKey, LaunchOptions], RunningServer] = launch,
    ) -> None:
        self.opts = opts
        self.idle_stop_s = idle_stop_s
        self.keep_during_training = keep_during_training
        self.starts = 0  # servers launched by this pool (reuse does not count)
        self._launch = launcher
        self._lock = threading.RLock()
        self._servers: dict[ServerKey, RunningServer] = {}
        self._starting: dict[ServerKey, threading.Event] = {}  # starts in flight
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()

    @contextmanager
    def acquire(self, key: ServerKey) -> Iterator[RunningServer]:
        """A ready server for ``key`` for the length of the block (never stopped as idle
        while a block holds it)."""
        server = self._check_out(key)
        try:
            yield server
        finally:
            with self._lock:
                server.users -= 1
                server.last_used = time.monotonic()

    def servers(self) -> list[RunningServer]:
        with self._lock:
            return list(self._servers.values())

    def _check_out(self, key: ServerKey) -> RunningServer:
        """The running server for ``key``, started if needed. A start (minutes on a CPU)
        runs outside the pool's lock: the idle reaper, other keys' releases and a shutdown
        never wait for it; a second caller for the same key waits for that start."""
        while True:
            with self._lock:
                server = self._ready(key)
                if server is not None:
                    server.users += 1
                    server.last_used = time.monotonic()
                    return server
                pending = self._starting.get(key)
                mine = pending is None
                if mine:
                    self._make_room(key)
                    pending = self._starting[key] = threading.Event()
            if not mine:
                pending.wait()  # then look again: it runs, or its start failed (try it)
                continue
            return self._start(key, pending)

    def _ready(self, key: ServerKey) -> RunningServer | None:
        """(Under the lock.) The live server for ``key``; a dead one is dropped."""
        if self._closed.is_set():
            raise ManagedServerError("the worker is shutting down: no new vLLM server")
        server = self._servers.get(key)
        if server is not None and not server.alive():
            log.warning(
                "managed vLLM server for %s (pid %d) died with code %s; starting it again",
                key.served_name,
                server.pid,
                server.process.returncode,
            )
            self._drop(key)
            server = None
        return server

    def _make_room(self, key: ServerKey) -> None:
        """(Under the lock.) One GPU, one server: stop the idle others, refuse when another
        is in use or starting."""
        if busy := [k for k in self._starting if k != key]:
            raise ManagedServerError(
                f"a managed vLLM server for {busy[0].served_name!r} is starting; "
                f"cannot start one for {key.served_name!r} on the same GPU"
            )
        for other in [k for k in self._servers if k != key]:
            if self._servers[other].users:
                raise ManagedServerError(
                    f"a managed vLLM server for {other.served_name!r} is in use; "
                    f"cannot start one for {key.served_name!r} on the same GPU"
                )
            log.info("stopping the vLLM server for %s to start %s", other, key)
            self._drop(other)

    def _start(self, key: ServerKey, pending: threading.Event) -> RunningServer:
        log.info("starting a vLLM server for %s (log in %s)", key, self.opts.log_dir)
        try:
            server = self._launch(key, self.opts)  # outside the lock
        except BaseException:
            with self._lock:
                self._starting.pop(key, None)
                pending.set()
            raise
        with self._lock:
            self._starting.pop(key, None)
            pending.set()
            if self._closed.is_set():  # shut down while it started: it never serves
                server.stop()
                raise ManagedServerError("the worker is shutting down: no new vLLM server")
            self.starts += 1
            self._servers[key] = server
            server.users += 1
            server.last_used = time.monotonic()
        log.info(
            "vLLM server for %s ready in %.1f s at %s (pid %d, log %s)",
            key.served_name,
            server.started_s,
            server.base_url,
            server.pid,
            server.log_path,
        )
        self._ensure_reaper()
        return server

    def _drop(self, key: ServerKey) -> None:
        server = self._servers.pop(key)
        server.stop()

    def stop_idle(self) -> list[ServerKey]:
        """Stop the servers nobody used for ``idle_stop_s``; the keys stopped."""
        now = time.monotonic()
        with self._lock:
            idle = [
                k
                for k, s in self._servers.items()
                if s.users == 0 and now - s.last_used >= self.idle_stop_s
            ]
            for key in idle:
                log.info("stopping the idle vLLM server for %s", key.served_name)
                self._drop(key)
        return idle

    def stop_all(self) -> list[ServerKey]:
        """Stop every server, in use or not (worker shutdown; training needs the GPU)."""
        with self._lock:
            keys = list(self._servers)
            for key in keys:
                log.info("stopping the vLLM server for %s", key.served_name)
                self._drop(key)
        return keys

    def release_gpu(self) -> list[ServerKey]:
        """Before training on this worker's GPU: stop the servers (what was stopped), or
        nothing when ``keep_during_training`` shares the GPU between the two, or when the
        servers run on CPUs (no GPU memory to free: a CPU server keeps serving)."""
        if self.keep_during_training or not self.opts.gpu:
            return []
        return self.stop_all()

    def close(self) -> None:
        """Stop everything and refuse new servers (shutdown)."""
        self._closed.set()
        self.stop_all()

    def _ensure_reaper(self) -> None:
        if self._reaper is not None and self._reaper.is_alive():
            return
        self._reaper = threading.Thread(target=self._reap, name="vllm-idle-stop", daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        interval = min(max(self.idle_stop_s / 4, 0.5), 30.0)
        while not self._closed.wait(interval):
            try:
                self.stop_idle()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("could not stop an idle vLLM server")


def options_from_settings(settings: Settings) -> LaunchOptions:
    return LaunchOptions(
        python=settings.vllm_python,
        log_dir=settings.data_dir / "logs",
        gpu=has_gpu(),
        max_model_len=settings.vllm_max_model_len,
        gpu_memory_utilization=settings.vllm_gpu_memory_utilization,
        cpu_kvcache_gb=settings.vllm_cpu_kvcache_gb,
        start_timeout_s=settings.vllm_start_timeout_s,
        extra_args=split_args(settings.vllm_extra_args),
    )


def has_gpu() -> bool:
    """Whether this worker has a CUDA GPU (vLLM then gets the GPU arguments)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def server_key(
    model_dir: str,
    *,
    served_name: str,
    dtype: str = "bfloat16",
    enable_lora: bool = False,
    settings: Settings | None = None,
) -> ServerKey:
    """The key for a target: tensor-parallel size from settings (1 on a CPU)."""
    settings = settings or get_settings()
    tp = settings.vllm_tensor_parallel_size if has_gpu() else 1
    return ServerKey(str(model_dir), served_name, dtype, tp, enable_lora)


@contextmanager
def serve_model(
    model: str, *, cache_dir: Path, dtype: str = "bfloat16", enable_lora: bool = False
) -> Iterator[RunningServer]:
    """A managed server for a Familiar model name (packaged, folder or hub id, resolved as
    the transformers backend resolves it), served under that same name, for one block."""
    from workers.modeling.sources import resolve_source

    folder = resolve_source(model, cache_dir).folder
    key = server_key(str(folder), served_name=model, dtype=dtype, enable_lora=enable_lora)
    with get_pool().acquire(key) as server:
        yield server


_pool: ServerPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> ServerPool:
    """This process's pool (made from Settings on first use, stopped at shutdown)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            settings = get_settings()
            _pool = ServerPool(
                options_from_settings(settings),
                idle_stop_s=settings.vllm_idle_stop_s,
                keep_during_training=settings.vllm_keep_during_training,
            )
            _install_shutdown_hooks()
        return _pool


def stop_all() -> list[ServerKey]:
    """Stop this process's managed servers (none started: nothing to do)."""
    return _pool.stop_all() if _pool is not None else []


def release_gpu() -> list[ServerKey]:
    """Call before training on this worker's GPU (``ServerPool.release_gpu``)."""
    return _pool.release_gpu() if _pool is not None else []


def _shutdown(**_: object) -> None:
    if _pool is not None:
        _pool.close()


_hooks_installed = False


def _install_shutdown_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_shutdown)
    try:
        from celery.signals import worker_shutdown
    except ImportError:  # a script without Celery: atexit is enough
        return
    worker_shutdown.connect(_shutdown, weak=False)
