"""Managed vLLM servers (workers/inference_server/managed.py), with a real vLLM.

VLLM_PYTHON names the Python that has vLLM (default: the project's `.venv-vllm`); where it
does not exist the tests that need vLLM are skipped with that reason. One real start for the
happy path (start, serve, reuse, idle stop), one real start that fails; each real start costs
about 2 minutes on 2 CPU cores.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from workers.inference_server.launch import ManagedServerError, group_alive, launch
from workers.inference_server.managed import ServerPool, options_from_settings, server_key

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
