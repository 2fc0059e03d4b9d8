"""The vllm backend with no INFERENCE_URL: a managed server of this worker's pool
(workers/inference_server/managed.py) serves the target. The session's vLLM server is that
pool's server for the packaged model in float32 (tests/conftest.py), so loading the backend
so finds and reuses it: no second start, the same numbers as through the server's URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import get_settings
from tests.vllm_server import PACKAGED, VllmServer, vllm_python
from workers.backends import load_backend
from workers.inference_server.managed import get_pool
from workers.scoring.items import ScoreItem

pytestmark = pytest.mark.slow


def test_no_url_uses_the_workers_managed_server(
    vllm_server: VllmServer, model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if vllm_server.process is not None or not get_pool().servers():
        pytest.skip("the session's server is not a managed one (VLLM_TEST_URL)")
    starts = get_pool().starts
    monkeypatch.delenv("INFERENCE_URL", raising=False)
    monkeypatch.setenv("VLLM_PYTHON", str(vllm_python()))
    get_settings.cache_clear()
    managed = load_backend("vllm", PACKAGED, cache_dir=model_cache, dtype="float32")
    assert managed.managed is not None and get_pool().starts == starts  # reused, not started
    assert managed.client.base_url == vllm_server.url
    assert managed.model_key.endswith("|vllm:float32") and managed.tag == "vllm@1"
    ids = managed.tokenizer("Two plus two is four.")["input_ids"]
    items = [ScoreItem(tuple(ids[:3]), tuple(ids[3:]))]
    monkeypatch.setenv("INFERENCE_URL", vllm_server.url)
    monkeypatch.setenv("INFERENCE_DTYPE", "float32")
    get_settings.cache_clear()
    external = load_backend("vllm", PACKAGED, cache_dir=model_cache)
    assert external.managed is None
    assert managed.score(items)[0].sum_nll == external.score(items)[0].sum_nll
    assert managed.generate([ids[:4]], max_new_tokens=4) == external.generate(
        [ids[:4]], max_new_tokens=4
    )
    get_settings.cache_clear()


def test_a_managed_load_is_refused_for_a_dtype_vllm_cannot_run(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.modeling.errors import ModelLoadError

    monkeypatch.delenv("INFERENCE_URL", raising=False)
    get_settings.cache_clear()
    with pytest.raises(ModelLoadError, match="runs bfloat16 or float32, not float16"):
        load_backend("vllm", PACKAGED, cache_dir=model_cache, dtype="float16")
    get_settings.cache_clear()
