"""The server backend's settings, pointed at the session's real vLLM server
(``vllm_server`` in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.vllm_server import VllmServer


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
