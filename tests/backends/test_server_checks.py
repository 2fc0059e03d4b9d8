"""The server backend's refusals that need no vLLM, and its request runner.

A server speaking the OpenAI completions API without vLLM's ``prompt_logprobs`` (OpenAI's
own API answers that way: the field is ignored) is refused before model work; so are a
missing INFERENCE_URL and a job dtype other than the server's. ``in_flight`` keeps at most
``concurrency`` calls running and stops starting new ones when its consumer stops.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.config import get_settings
from tests.vllm_server import PACKAGED
from workers.backends import load_backend
from workers.inference_server.client import InferenceServerError
from workers.inference_server.requests import in_flight
from workers.modeling.errors import ModelLoadError
from workers.modeling.sources import resolve_source


def _tokenizer(model_cache: Path):  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_source(PACKAGED, model_cache).folder)


@pytest.fixture
def plain_openai(model_cache: Path) -> Iterator[str]:
    """An OpenAI-style completions server for the packaged model without prompt log-probs."""
    tok = _tokenizer(model_cache)

    class Handler(BaseHTTPRequestHandler):
        def _send(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._send({"data": [{"id": PACKAGED, "max_model_len": 2048}]})

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == "/tokenize":
                self._send({"tokens": tok.encode(body["prompt"], add_special_tokens=False)})
            else:
                self._send({"choices": [{"text": "x", "index": 0}]})

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_server_without_prompt_logprobs_is_refused(plain_openai, env, model_cache) -> None:  # type: ignore[no-untyped-def]
    env.setenv("INFERENCE_URL", plain_openai)
    with pytest.raises(InferenceServerError, match=f"{plain_openai} returns no prompt log-probs"):
        load_backend("vllm", PACKAGED, cache_dir=model_cache)


def test_no_url_and_another_dtype_are_refused(env, model_cache, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env.delenv("INFERENCE_URL", raising=False)
    env.setenv("VLLM_PYTHON", str(tmp_path / "no-vllm" / "python"))
    get_settings.cache_clear()
    with pytest.raises(ModelLoadError, match="needs INFERENCE_URL .* or vLLM at VLLM_PYTHON="):
        load_backend("vllm", PACKAGED, cache_dir=model_cache)
    env.setenv("INFERENCE_URL", "http://127.0.0.1:9")
    env.setenv("INFERENCE_DTYPE", "bfloat16")
    get_settings.cache_clear()
    with pytest.raises(ModelLoadError, match="asks for float32.*runs the target in bfloat16"):
        load_backend("vllm", PACKAGED, cache_dir=model_cache, dtype="float32")


def test_in_flight_bounds_the_calls_and_stops_when_the_consumer_stops() -> None:
    running, peak, started = [0], [0], []
    lock = threading.Lock()

    def call(i: int) -> int:
        with lock:
            started.append(i)
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return i * i

    calls = [lambda i=i: call(i) for i in range(40)]
    assert sorted(r for _, r in in_flight(calls, 4)) == [i * i for i in range(40)]
    assert peak[0] <= 4
    started.clear()
    for n, _ in enumerate(in_flight(calls, 4), start=1):
        if n == 3:
            break
    time.sleep(0.1)
    assert len(started) < 10  # the rest were never started
