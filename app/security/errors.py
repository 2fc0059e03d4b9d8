"""Access errors and how they answer: JSON for the API, a page or a redirect for browsers."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.web import is_htmx, templates


class AuthRequired(Exception):
    """Nobody is signed in (401; pages redirect to the sign-in page)."""

    def __init__(self, detail: str = "Sign in required.", *, api: bool = False) -> None:
        self.detail = detail
        self.api = api
        super().__init__(detail)


class AccessDenied(Exception):
    """Signed in or holding a link, but not allowed this (403), with the reason."""

    def __init__(self, detail: str, *, kind: str = "denied") -> None:
        self.detail = detail
        self.kind = kind  # denied | csrf | revoked | expired
        super().__init__(detail)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def safe_next(value: str | None) -> str:
    """A local path to go back to after signing in (never another site)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value


def _next_for(request: Request) -> str:
    if request.method in ("GET", "HEAD"):
        query = f"?{request.url.query}" if request.url.query else ""
        return request.url.path + query
    referer = urlsplit(request.headers.get("referer", ""))
    same = referer.netloc == request.headers.get("host")
    return safe_next(referer.path) if same and referer.path else "/"


async def handle_auth_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthRequired)
    if _is_api(request) or exc.api:
        headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse({"detail": exc.detail}, status_code=401, headers=headers)
    url = "/login?next=" + quote(_next_for(request), safe="/")
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def handle_access_denied(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccessDenied)
    if _is_api(request):
        return JSONResponse({"detail": exc.detail, "reason": exc.kind}, status_code=403)
    if is_htmx(request):
        ctx = {"status": 403, "error": {"detail": exc.detail}}
        return templates.TemplateResponse(request, "partials/_error.html", ctx, status_code=403)
    ctx = {"detail": exc.detail, "kind": exc.kind}
    return templates.TemplateResponse(request, "pages/auth/denied.html", ctx, status_code=403)


async def handle_hashing_busy(request: Request, exc: Exception) -> Response:
    """Every password-hashing slot is taken (app.security.throttle): 503, try again soon."""
    headers = {"Retry-After": "1"}
    if _is_api(request):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers=headers)
    ctx = {"status": 503, "error": {"detail": str(exc)}, "project": None}
    name = "partials/_error.html" if is_htmx(request) else "pages/error.html"
    return templates.TemplateResponse(request, name, ctx, status_code=503, headers=headers)
