"""Managed vLLM servers (workers/inference_server/managed.py), with a real vLLM.

VLLM_PYTHON names the Python that has vLLM (default: the project's `.venv-vllm`); where it
does not exist the tests that need vLLM are skipped with that reason. One real start for the
happy path (start, serve, reuse, idle stop), one real start that fails; each real start costs
about 2 minutes on 2 CPU cores.
"""

from __future__ import annotations

import dataclasses
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from workers.inference_server.launch import ManagedServerError, group_alive, launch
from workers.inference_server.managed import (
    ServerKey,
    ServerPool,
    options_from_settings,
    server_key,
)

MODEL = "packaged:SmolLM2-135M-Instruct"


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", **overrides)  # type: ignore[arg-type]


def _need_vllm(settings: Settings) -> None:
    if not settings.vllm_python.exists():
        pytest.skip(f"no vLLM environment at VLLM_PYTHON={settings.vllm_python}")


def _fake_python(tmp_path: Path, body: str) -> Path:
    """A stand-in for VLLM_PYTHON: a shell script that ignores its arguments."""
    path = tmp_path / "fake-python"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_missing_python_is_named(tmp_path: Path) -> None:
    settings = _settings(tmp_path, vllm_python=tmp_path / "nowhere" / "python")
    key = server_key(str(tmp_path), served_name="m", settings=settings)
    with pytest.raises(ManagedServerError, match="VLLM_PYTHON .*nowhere.* does not exist"):
        launch(key, options_from_settings(settings))


def test_not_ready_in_time_stops_it_and_shows_the_log(tmp_path: Path) -> None:
    pid_file = tmp_path / "server.pid"
    body = f"echo $$ > {pid_file}\necho 'loading weights, slowly'\nexec sleep 120"
    python = _fake_python(tmp_path, body)
    settings = _settings(tmp_path, vllm_python=python, vllm_start_timeout_s=2)
    key = server_key(str(tmp_path), served_name="slow", settings=settings)
    t0 = time.monotonic()
    with pytest.raises(ManagedServerError) as caught:
        launch(key, options_from_settings(settings))
    assert time.monotonic() - t0 < 30
    message = str(caught.value)
    assert "was not ready within 2 s" in message
    assert "loading weights, slowly" in message  # the log's tail
    logs = list((tmp_path / "data" / "logs").glob("vllm-slow-*.log"))
    assert len(logs) == 1 and "-m vllm.entrypoints.openai.api_server" in logs[0].read_text()
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists(), "the stuck server was not killed"
    assert not group_alive(pid)


@pytest.mark.slow
def test_a_start_that_fails_raises_at_once_with_the_log_tail(tmp_path: Path) -> None:
    settings = _settings(tmp_path, vllm_start_timeout_s=600)
    _need_vllm(settings)
    bad = tmp_path / "not-a-model"
    bad.mkdir()
    (bad / "config.json").write_text('{"model_type": "no_such_architecture"}')
    key = server_key(str(bad), served_name="broken", settings=settings)
    t0 = time.monotonic()
    with pytest.raises(ManagedServerError) as caught:
        launch(key, options_from_settings(settings))
    elapsed = time.monotonic() - t0
    message = str(caught.value)
    assert "exited with code" in message, message
    assert "no_such_architecture" in message, message  # vLLM's own error, from the log
    assert elapsed < 300, f"took {elapsed:.0f} s: the exit was not noticed"


@pytest.fixture
def packaged_folder(model_cache: Path) -> Path:
    from workers.modeling.sources import resolve_source

    return resolve_source(MODEL, model_cache).folder


@pytest.mark.slow
def test_start_serve_reuse_and_idle_stop(tmp_path: Path, packaged_folder: Path) -> None:
    settings = _settings(tmp_path, vllm_idle_stop_s=3, vllm_max_model_len=2048)
    _need_vllm(settings)
    pool = ServerPool(options_from_settings(settings), idle_stop_s=settings.vllm_idle_stop_s)
    key = server_key(str(packaged_folder), served_name=MODEL, settings=settings)
    try:
        with pool.acquire(key) as server:
            print(f"managed vLLM start: {server.started_s:.1f} s")  # noqa: T201 - measured
            assert server.alive() and pool.starts == 1
            assert _complete(server.base_url, packaged_folder)
            first_pid = server.pid
            time.sleep(5)  # longer than the idle setting: held servers are never stopped
            assert server.alive()
        with pool.acquire(key) as again:
            assert again.pid == first_pid and pool.starts == 1  # reused, no second start
            assert _complete(again.base_url, packaged_folder)
        deadline = time.monotonic() + 60
        while pool.servers() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert pool.servers() == [], "the idle server was not stopped"
        assert again.process.poll() is not None
        assert not group_alive(first_pid), "vLLM's engine processes outlived the server"
        assert "vllm.entrypoints.openai.api_server" in again.log_path.read_text()
    finally:
        pool.close()


def _complete(base_url: str, folder: Path) -> str:
    """A greedy completion from token ids (as Familiar sends them), with prompt log-probs."""
    from transformers import AutoTokenizer

    ids = AutoTokenizer.from_pretrained(folder)("The capital of France is")["input_ids"]
    body = {
        "model": MODEL,
        "prompt": ids,
        "max_tokens": 8,
        "temperature": 0,
        "prompt_logprobs": 0,
    }
    response = httpx.post(f"{base_url}/completions", json=body, timeout=120)
    response.raise_for_status()
    choice = response.json()["choices"][0]
    assert len(choice["prompt_logprobs"]) == len(ids)
    assert choice["text"].strip(), choice
    return str(choice["text"])


def test_vllm_python_defaults_to_the_project_venv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLLM_PYTHON", raising=False)
    root = Path(__file__).resolve().parents[2]
    assert Settings().vllm_python == root / ".venv-vllm" / "bin" / "python"


# The pool's lifecycle (reuse, a different target, a dead server, shutdown, training) with a
# stand-in server: a small HTTP server that answers GET /v1/models as vLLM does, started by
# the same launcher through VLLM_PYTHON. The real vLLM start is covered above.
STAND_IN = """#!{python}
import http.server, json, sys
args = sys.argv[1:]
port, name = int(args[args.index("--port") + 1]), args[args.index("--served-model-name") + 1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"data": [{{"id": name}}]}}).encode()
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        print("request", *a, flush=True)
print("stand-in serving", name, flush=True)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


@pytest.fixture
def stand_in_pool(tmp_path: Path) -> Iterator[ServerPool]:
    python = tmp_path / "stand-in-python"
    python.write_text(STAND_IN.format(python=sys.executable))
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    settings = _settings(tmp_path, vllm_python=python, vllm_start_timeout_s=60)
    pool = ServerPool(options_from_settings(settings), idle_stop_s=3600)
    yield pool
    pool.close()


def test_reuse_switch_and_restart_with_a_stand_in(stand_in_pool: ServerPool) -> None:
    pool = stand_in_pool
    a, b = ServerKey("/models/a", "a"), ServerKey("/models/b", "b")
    with pool.acquire(a) as first:
        pass
    with pool.acquire(a) as again:
        assert again is first and pool.starts == 1
    with pool.acquire(b) as other:  # another target: the idle one stops first (one GPU)
        assert pool.starts == 2 and first.process.poll() is not None
        with pytest.raises(ManagedServerError, match="'b' is in use"):
            pool.acquire(a).__enter__()
    other.process.kill()  # a server that died between jobs is started again
    other.process.wait()
    with pool.acquire(b) as restarted:
        assert restarted.pid != other.pid and pool.starts == 3 and restarted.alive()
    assert "stand-in serving b" in restarted.log_path.read_text()


def test_release_gpu_stops_servers_unless_sharing(stand_in_pool: ServerPool) -> None:
    pool = stand_in_pool
    with pool.acquire(ServerKey("/m", "m")) as server:
        pass
    pool.opts = dataclasses.replace(pool.opts, gpu=False)  # CPU servers: no GPU to free
    assert pool.release_gpu() == [] and server.alive()
    pool.opts = dataclasses.replace(pool.opts, gpu=True)  # as on a GPU worker
    pool.keep_during_training = True
    assert pool.release_gpu() == [] and server.alive()
    pool.keep_during_training = False
    assert pool.release_gpu() == [ServerKey("/m", "m")]
    assert not server.alive() and pool.servers() == []


def test_worker_shutdown_stops_the_managed_servers(
    tmp_path: Path, stand_in_pool: ServerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Celery's worker_shutdown signal (sent by a stopping worker) stops every server."""
    from celery.signals import worker_shutdown

    from workers.inference_server import managed

    monkeypatch.setattr(managed, "_pool", None)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VLLM_PYTHON", str(stand_in_pool.opts.python))
    managed.get_settings.cache_clear()
    try:
        with managed.get_pool().acquire(ServerKey("/m", "m")) as server:
            pass
        assert server.alive()
        worker_shutdown.send(sender=None)
        assert not server.alive() and managed.get_pool().servers() == []
        with pytest.raises(ManagedServerError, match="shutting down"):
            managed.get_pool().acquire(ServerKey("/m", "m")).__enter__()
    finally:
        managed._shutdown()
        managed.get_settings.cache_clear()


def test_the_server_env_keeps_vllm_variables_but_not_familiar_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.inference_server.launch import build_env

    monkeypatch.setenv("VLLM_IDLE_STOP_S", "5")  # Familiar's setting: vLLM would warn
    monkeypatch.setenv("VLLM_LOGGING_LEVEL", "DEBUG")  # vLLM's own: passed on
    monkeypatch.setenv("SECRET_KEY", "cookie-signing-secret")  # Familiar's secrets: withheld
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@db/familiar")
    cpu = options_from_settings(_settings(tmp_path))
    env = build_env(ServerKey("/m", "m", enable_lora=True), cpu)
    assert "VLLM_IDLE_STOP_S" not in env and env["VLLM_LOGGING_LEVEL"] == "DEBUG"
    assert "SECRET_KEY" not in env and "DATABASE_URL" not in env
    assert env["VLLM_NO_USAGE_STATS"] == "1" and env["DO_NOT_TRACK"] == "1"
    assert env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "true"
    if not cpu.gpu:
        assert env["VLLM_CPU_KVCACHE_SPACE"] == "1"


def test_training_stops_the_managed_server_first(
    tmp_path: Path, stand_in_pool: ServerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transformers backend's train_adapter frees the GPU: this worker's managed
    servers stop before the first training step (VLLM_KEEP_DURING_TRAINING off)."""
    from tests.scoring.test_scan import tiny_target
    from tests.training.conftest import contains, examples, settings
    from workers.backends.transformers import TransformersBackend
    from workers.inference_server import managed

    monkeypatch.setattr(managed, "_pool", stand_in_pool)
    stand_in_pool.opts = dataclasses.replace(stand_in_pool.opts, gpu=True)  # a GPU worker's
    with stand_in_pool.acquire(ServerKey("/m", "m")) as server:
        pass
    alive_at_first_step: list[bool] = []
    TransformersBackend(tiny_target()).train_adapter(
        examples(2),
        [],
        settings(epochs=1, eval_every=0),
        tmp_path / "adapter",
        score=contains,
        on_step=lambda _log: alive_at_first_step.append(server.alive()),
    )
    assert alive_at_first_step and alive_at_first_step[0] is False
    assert stand_in_pool.servers() == []


def test_a_start_in_flight_holds_up_neither_the_pool_nor_a_shutdown(tmp_path: Path) -> None:
    """A server's start (minutes on a CPU) runs outside the pool's lock: the idle reaper, a
    listing and a shutdown answer at once; a second job for the same target waits for that
    start and shares it; a server whose start ends after the shutdown is stopped at once."""
    import subprocess
    import threading

    from workers.inference_server.launch import RunningServer

    release = threading.Event()
    launched: list[RunningServer] = []

    def slow_launch(key: ServerKey, _opts: object) -> RunningServer:
        release.wait(30)
        proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
        launched.append(RunningServer(key, proc, 1, tmp_path / "log", started_s=0.1))
        return launched[-1]

    settings = _settings(tmp_path)
    pool = ServerPool(options_from_settings(settings), idle_stop_s=3600, launcher=slow_launch)
    key = ServerKey("/m", "m")
    got: list[object] = []

    def job() -> None:
        try:
            with pool.acquire(key) as server:
                got.append(server)
        except ManagedServerError as exc:
            got.append(exc)

    first, second = threading.Thread(target=job), threading.Thread(target=job)
    first.start()
    time.sleep(0.2)
    second.start()
    t0 = time.monotonic()
    assert pool.servers() == [] and pool.stop_idle() == []
    with pytest.raises(ManagedServerError, match="'m' is starting"):
        pool.acquire(ServerKey("/n", "n")).__enter__()
    assert time.monotonic() - t0 < 2, "the pool waited for the start"
    release.set()
    first.join(10)
    second.join(10)
    assert len(launched) == 1 and got == [launched[0], launched[0]] and pool.starts == 1
    # a shutdown while a start is in flight: it returns at once, the late server is stopped
    release.clear()
    pool.stop_all()
    late = threading.Thread(target=job)
    late.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    pool.close()
    assert time.monotonic() - t0 < 2, "the shutdown waited for the start"
    release.set()
    late.join(10)
    assert isinstance(got[-1], ManagedServerError) and "shutting down" in str(got[-1])
    assert len(launched) == 2 and not launched[-1].alive()
