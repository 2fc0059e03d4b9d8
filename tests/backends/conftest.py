"""One real vLLM server (float32, the packaged model) for the server backend's tests,
started at the first test that asks for it and stopped at the end of the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vllm_server import PACKAGED, VllmServer, running_vllm, start_vllm
from workers.modeling.sources import resolve_source


@pytest.fixture(scope="session")
def vllm_server(
    model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VllmServer]:
    folder = resolve_source(PACKAGED, model_cache).folder
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    running = running_vllm()
    if running is not None:  # a developer's own float32 server: neither started nor stopped
        yield running
        return
    server = start_vllm(folder, "float32", log)
    print(f"\nvLLM float32 served {PACKAGED} after {server.start_s:.0f} s ({server.url})")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_env(vllm_server: VllmServer, monkeypatch: pytest.MonkeyPatch) -> VllmServer:
    """Settings pointing the vllm backend at the test server."""
    from app.config import get_settings

    monkeypatch.setenv("INFERENCE_URL", vllm_server.url)
    monkeypatch.setenv("INFERENCE_DTYPE", vllm_server.dtype)
    monkeypatch.delenv("INFERENCE_MODEL", raising=False)
    get_settings.cache_clear()
    yield vllm_server
    monkeypatch.undo()
    get_settings.cache_clear()
