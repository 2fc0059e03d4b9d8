"""The request size limit, answered like every other error before the body is read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.ingest.read import human_size
from app.services.errors import TooLarge


class RequestSizeLimit:
    """A request whose Content-Length is over the limit gets the usual 413 error (JSON on the
    API, the error page or fragment elsewhere) without a byte of its body being read. A body
    without a length is counted as it streams (Starlette's RequestBodyLimitMiddleware, which
    FastAPI turns into a 413 once the count passes the limit)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        respond: Callable[[Request, Exception], Awaitable[Response]],
    ) -> None:
        self.app = RequestBodyLimitMiddleware(app, max_body_size=max_bytes)
        self.max_bytes, self.respond = max_bytes, respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = Headers(scope=scope).get("content-length", "")
            if length.isdigit() and int(length) > self.max_bytes:
                error = TooLarge(
                    f"the request is {human_size(int(length))}, over the limit of "
                    f"{human_size(self.max_bytes)} (MAX_REQUEST_MB); upload fewer or smaller files"
                )
                response = await self.respond(Request(scope), error)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
