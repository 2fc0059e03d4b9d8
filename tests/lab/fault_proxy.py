"""A fault-injecting HTTP proxy in front of a real OpenAI-compatible server.

Each chat-completion request takes the next fault of a script (then passes through once
the script is empty): ``429`` (with Retry-After), ``500``, ``stall`` (no answer for longer
than the client waits), ``malformed`` (a 200 whose body is not JSON), ``refusal`` (a valid
completion that refuses). Faults are served without calling the server, so the server's
completed requests are exactly the answers that were paid for; the proxy counts them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter, deque
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.vllm_server import free_port

REFUSAL = "I'm sorry, but I can't help with that."
STALL_S = 90.0  # longer than any client timeout of the tests; cut short when the proxy stops


class FaultProxy:
    def __init__(self, upstream: str, retry_after_s: float = 1.0) -> None:
        self.upstream = upstream.rstrip("/")  # .../v1
        self.retry_after_s = retry_after_s
        self.script: deque[str] = deque()
        self.served: Counter[str] = Counter()  # fault kind (or "upstream_ok") -> count
        # seconds between a 429 and the same request's next try (requests run concurrently:
        # the next request to arrive is often another one)
        self.retry_after_waits: list[float] = []
        self._last_429: dict[bytes, float] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def load(self, *faults: str) -> None:
        with self._lock:
            self.script.extend(faults)

    def _next(self, body: bytes) -> str:
        with self._lock:
            now = time.monotonic()
            if (refused_at := self._last_429.pop(body, None)) is not None:
                self.retry_after_waits.append(now - refused_at)
            fault = self.script.popleft() if self.script else "pass"
            if fault == "429":
                self._last_429[body] = now
            return fault

    async def _chat(self, request: Request) -> Response:
        body = await request.body()
        fault = self._next(body)
        if fault == "pass":
            return await self._forward(request, body)
        self.served[fault] += 1
        if fault == "429":
            headers = {"Retry-After": str(self.retry_after_s)}
            return JSONResponse({"error": {"message": "slow down"}}, 429, headers=headers)
        if fault == "500":
            return JSONResponse({"error": {"message": "upstream broke"}}, 500)
        if fault == "stall":
            for _ in range(int(STALL_S * 10)):  # silent, until STALL_S or the proxy stops
                if self._closing.is_set():
                    break
                await asyncio.sleep(0.1)
            return JSONResponse({"error": {"message": "too late"}}, 504)
        if fault == "malformed":
            return Response(b'{"id": "x", "choices": [', 200, media_type="application/json")
        if fault == "refusal":
            return JSONResponse(_refusal(await request.json()))
        raise AssertionError(f"unknown fault {fault!r}")

    async def _forward(self, request: Request, body: bytes) -> Response:
        headers = {"content-type": "application/json"}
        if auth := request.headers.get("authorization"):
            headers["authorization"] = auth
        async with httpx.AsyncClient(timeout=300) as client:
            r = await client.post(
                self.upstream + "/chat/completions", content=body, headers=headers
            )
        if r.status_code == 200:
            self.served["upstream_ok"] += 1
        return Response(r.content, r.status_code, media_type="application/json")


def _refusal(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-refusal",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REFUSAL},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22},
    }
