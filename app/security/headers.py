"""Which Host names the server answers to, and the security headers on every response.

DNS rebinding: a page on another site whose name is made to resolve to 127.0.0.1 reaches
the local server with its own name in `Host` and `Origin`. Single mode trusts every local
request, so the server answers only to loopback names and PUBLIC_URL's host (ALLOWED_HOSTS
adds more). Accounts mode is not exposed the same way (a rebound page gets no session
cookie), so there the list applies once PUBLIC_URL or ALLOWED_HOSTS names the site.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings, get_settings
from app.security.modes import auth_mode

LOOPBACK_HOSTS = ("localhost", "*.localhost", "127.0.0.1", "[::1]")
# style-src keeps 'unsafe-inline': ECharts writes its tooltips as HTML with style
# attributes and the chart/swatch sizes are style attributes. Scripts stay strict: no
# inline script, no eval (htmx runs with allowEval off).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
HOST_RE = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.\-]+)(:\d{1,5})?$")


def allowed_hosts(settings: Settings | None = None) -> list[str] | None:
    """Host patterns the server answers to (`*.x` matches subdomains); None: any host."""
    settings = settings or get_settings()
    extra = [h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()]
    if "*" in extra:
        return None
    public = urlsplit(settings.public_url).netloc if settings.public_url else ""
    if public:
        extra.append(_host_of(public) or "")
    if auth_mode(settings) == "accounts" and not extra:
        return None
    return [*LOOPBACK_HOSTS, *(h for h in extra if h)]


def _host_of(value: str) -> str | None:
    match = HOST_RE.match(value.strip())
    return match.group(1).lower() if match else None


def host_allowed(host_header: str, patterns: list[str]) -> bool:
    host = _host_of(host_header)
    if host is None:
        return False
    return any(host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in patterns)


def inline_script_csp(html: str) -> str:
    """The CSP for a page with its own inline scripts (the API docs): each one by hash."""
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    )
    return CSP.replace("script-src 'self'", f"script-src 'self' {hashes}")


class HostAndHeadersMiddleware:
    """Refuse unknown Host names (400, plain text); add the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.patterns = allowed_hosts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if self.patterns is not None and not host_allowed(host, self.patterns):
            await _refuse(host, self.patterns)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _refuse(host: str, patterns: list[str]) -> PlainTextResponse:
    shown = host[:100].encode("ascii", "replace").decode() or "(none)"
    return PlainTextResponse(
        f"400 Bad Request: this server does not answer to the host name {shown!r}.\n"
        f"Allowed: {', '.join(patterns)}.\n"
        "Open it through one of those names, or add the name to PUBLIC_URL or "
        "ALLOWED_HOSTS.\n",
        status_code=400,
        headers=SECURITY_HEADERS,
    )
