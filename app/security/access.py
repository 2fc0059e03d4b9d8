"""The access rule applied to every route: who the request acts as.

Single mode: every request is the local user. Accounts mode: a signed-in user (session
cookie or `Authorization: Bearer`) or, for anybody else, the share links their session
holds. What the principal may do with a project, job or study is decided by the route's
guard (`app.security.guards`) on the id the route itself parsed; a route without such an
id is open to every signed-in user, and to nobody else unless it is an open path. Unsafe
methods also need a CSRF token.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from app.deps import SessionDep
from app.schemas.accounts import UserRead
from app.security import sessions
from app.security.accounts import get_active_user, user_for_api_token
from app.security.csrf import SAFE_METHODS, check_csrf, is_scripted
from app.security.errors import AuthRequired
from app.security.modes import Mode, auth_mode
from app.security.principal import Principal, current_principal
from app.security.roles import role_of
from app.security.user_sessions import session_is_live

__all__ = ["Principal", "access_guard", "current_principal", "is_open", "project_role"]

OPEN_PREFIXES = ("/static/", "/s/")
OPEN_PATHS = frozenset(
    {
        "/healthz",
        "/login",
        "/logout",
        "/setup",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        "/api/v1/me",
    }
)


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def _bearer(request: Request) -> str | None:
    """The token of `Authorization: Bearer <token>` (other schemes, e.g. a proxy's Basic, are
    not ours and are ignored)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def resolve_principal(request: Request, session: Session, mode: Mode) -> Principal:
    token = _bearer(request)
    if mode == "single":
        return Principal(mode, via_bearer=token is not None)
    if token is not None:
        user = user_for_api_token(session, token=token)
        if user is None:
            raise AuthRequired("The API token is not valid or was revoked.", api=True)
        return Principal(mode, user=user, via_bearer=True)
    uid, sid = sessions.session_user_id(request), sessions.session_token(request)
    live = uid is not None and sid is not None and session_is_live(session, token=sid, user_id=uid)
    user = get_active_user(session, user_id=uid) if live and uid is not None else None
    if uid is not None and user is None:
        sessions.forget_user(request)  # signed out elsewhere, revoked, expired or deactivated
    return Principal(mode, user=user, grants=sessions.share_grants(request))


def is_guarded(request: Request) -> bool:
    """Whether the matched route takes a project, job or study id through its guard
    (`app.security.guards`), which then decides what a share link may read."""
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and _depends_on_guard(route.dependant)


def _depends_on_guard(dependant: Dependant) -> bool:
    from app.security.guards import GUARDS

    return any(d.call in GUARDS or _depends_on_guard(d) for d in dependant.dependencies)


def authorize(request: Request, session: Session, mode: Mode) -> Principal:
    """Who the request acts as. Anonymous in accounts mode: open paths only, or a route
    whose guard checks the session's share links; project, job and study rules are the
    guards' (`app.security.guards`), on the ids the route itself parsed."""
    principal = resolve_principal(request, session, mode)
    request.state.principal = principal
    anonymous = mode == "accounts" and principal.user is None
    if not anonymous or is_open(request.url.path):
        return principal
    if request.method not in SAFE_METHODS:  # links only read
        if principal.grants:
            raise AuthRequired("Share links are read-only: sign in to change anything.")
        raise AuthRequired()
    if not is_guarded(request):
        raise AuthRequired()
    return principal


def member_filter(request: Request) -> UserRead | None:
    """Whose projects a listing shows: a non-admin account's own; None: every project."""
    principal = current_principal(request)
    user = principal.user
    return user if principal.mode == "accounts" and user and not user.is_admin else None


def project_role(request: Request, session: Session, project_id: int) -> str | None:
    """The request's role in a project (single mode and admins: owner)."""
    principal = current_principal(request)
    if principal.mode == "single":
        return "owner"
    if principal.user is None:
        return "viewer" if principal.shared_project_id == project_id else None
    return role_of(session, user=principal.user, project_id=project_id)


def acting_user_id(request: Request) -> int | None:
    user = current_principal(request).user
    return user.id if user else None


async def access_guard(request: Request, session: SessionDep) -> None:
    """The one dependency on every route (see the module docstring)."""
    mode = auth_mode()
    # Database look-ups in a worker thread, like the sync routes; the form read stays here.
    principal = await run_in_threadpool(authorize, request, session, mode)
    if request.method not in SAFE_METHODS:
        exempt = principal.via_bearer or (mode == "single" and is_scripted(request))
        await check_csrf(request, exempt=exempt)
