"""The signed session cookie: who is signed in, the CSRF token, and share-link grants."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from app.config import Settings, get_settings
from app.schemas.accounts import UserRead

COOKIE = "familiar_session"
MAX_GRANTS = 20


def secret_key(settings: Settings | None = None) -> str:
    """SECRET_KEY, or a random key created once in DATA_DIR/secret_key (mode 0600)."""
    settings = settings or get_settings()
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.data_dir / "secret_key"
    if not path.exists():
        _write_new_key(path)
    return path.read_text().strip()


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        return
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(48))


def add_session_middleware(app: FastAPI) -> None:
    settings = get_settings()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=COOKIE,
        max_age=int(settings.session_max_age_days * 86400),
        same_site="lax",
        https_only=settings.cookie_secure,
    )


def _session(request: Request) -> dict:  # type: ignore[type-arg]
    return request.session if "session" in request.scope else {}


def sign_in(request: Request, user: UserRead, token: str) -> None:
    """A fresh session for `user` (no fixation: everything from before is dropped); `token`
    names its server-side row (app.security.user_sessions), checked on every request."""
    session = _session(request)
    session.clear()
    session.update(uid=user.id, sid=token, csrf=secrets.token_urlsafe(32))


def sign_out(request: Request) -> None:
    _session(request).clear()


def session_user_id(request: Request) -> int | None:
    uid = _session(request).get("uid")
    return uid if isinstance(uid, int) else None


def session_token(request: Request) -> str | None:
    sid = _session(request).get("sid")
    return sid if isinstance(sid, str) else None


def forget_user(request: Request) -> None:
    _session(request).pop("uid", None)
    _session(request).pop("sid", None)


def add_grant(request: Request, link_id: int) -> None:
    """Remember that this browser opened share link `link_id` (checked again on each request)."""
    grants = [g for g in share_grants(request) if g != link_id] + [link_id]
    _session(request)["grants"] = grants[-MAX_GRANTS:]


def share_grants(request: Request) -> list[int]:
    grants = _session(request).get("grants", [])
    return [g for g in grants if isinstance(g, int)] if isinstance(grants, list) else []
