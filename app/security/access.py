"""The access rule applied to every route: who the request acts as, and what it may do.

Single mode: every request is the local user. Accounts mode: a signed-in user (session
cookie or `Authorization: Bearer`) may do everything; anybody else may only read a project
that a still-valid share link in their session opens (or a study: /studies/{id}, its twin
and exports, never the study's projects). Unsafe methods also need a CSRF token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from app.deps import SessionDep
from app.ids import bounded_id
from app.models import Job
from app.schemas.accounts import Me, UserRead
from app.security import sessions
from app.security.accounts import get_active_user, user_for_api_token
from app.security.csrf import SAFE_METHODS, check_csrf, is_scripted
from app.security.errors import AccessDenied, AuthRequired
from app.security.modes import Mode, auth_mode
from app.security.roles import check_project_access, role_of
from app.security.share_links import LinkUnusable, grant_status
from app.security.study_access import check_study_access
from app.security.user_sessions import session_is_live

OPEN_PREFIXES = ("/static/", "/s/")
OPEN_PATHS = frozenset(
    {"/healthz", "/login", "/logout", "/setup", "/docs", "/docs/oauth2-redirect", "/redoc",
     "/openapi.json", "/api/v1/me"}
)  # fmt: skip
# Share management needs a signed-in user even to read.
MANAGE = re.compile(r"^(/api/v1)?/(projects|studies)/\d+/share(-links)?(/|$)")
PROJECT_PATH = re.compile(r"^(?:/api/v1)?/projects/(\d+)(?:[/.]|$)")
STUDY_PATH = re.compile(r"^(?:/api/v1)?/studies/(\d+)(?:[/.]|$)")
JOB_PATH = re.compile(r"^(?:/api/v1)?/jobs/(\d+)(?:[/.]|$)")


@dataclass
class Principal:
    mode: Mode
    user: UserRead | None = None
    via_bearer: bool = False
    grants: list[int] = field(default_factory=list)
    shared_project_id: int | None = None
    shared_study_id: int | None = None

    def me(self) -> Me:
        via = "local" if self.mode == "single" else "anonymous"
        if self.user:
            via = "api_token" if self.via_bearer else "session"
        elif self.shared_project_id is not None or self.shared_study_id is not None:
            via = "share_link"
        can_write = self.mode == "single" or self.user is not None
        return Me(
            mode=self.mode, user=self.user, via=via, can_write=can_write,  # type: ignore[arg-type]
            shared_project_id=self.shared_project_id, shared_study_id=self.shared_study_id,
        )  # fmt: skip


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


def project_of(request: Request, session: Session) -> int | None:
    """The project a path belongs to: /projects/{id}/..., /api/v1/projects/{id}/..., jobs."""
    path = request.url.path
    if m := PROJECT_PATH.match(path):
        return bounded_id(m.group(1))  # out of range: no project (the route answers 404)
    if (m := JOB_PATH.match(path)) and (job_id := bounded_id(m.group(1))) is not None:
        job = session.get(Job, job_id)
        return job.project_id if job is not None else None
    return None


def authorize_reader(request: Request, session: Session, principal: Principal) -> None:
    """Anonymous in accounts mode: reading a project or study that a valid share link opened,
    or nothing."""
    path = request.url.path
    safe = request.method in SAFE_METHODS
    study = STUDY_PATH.match(path) if safe and not MANAGE.match(path) else None
    study_id = bounded_id(study.group(1)) if study is not None else None
    if study_id is not None:
        status = grant_status(session, link_ids=principal.grants, study_id=study_id)
        if status == "active":
            principal.shared_study_id = study_id
            return
        if status is not None:
            raise AccessDenied(str(LinkUnusable(status)), kind=status)
    pid = project_of(request, session) if safe else None
    if pid is not None and not MANAGE.match(path):
        status = grant_status(session, link_ids=principal.grants, project_id=pid, path=path)
        if status == "active":
            principal.shared_project_id = pid
            return
        if status == "elsewhere":
            raise AccessDenied(
                "Your share link opens one scan's result only; the rest of this project is "
                "not shared with you. Sign in, or ask for a link to the project."
            )
        if status is not None:
            raise AccessDenied(str(LinkUnusable(status)), kind=status)
    if principal.grants and request.method not in SAFE_METHODS:
        raise AuthRequired("Share links are read-only: sign in to change anything.")
    raise AuthRequired()


def authorize(request: Request, session: Session, mode: Mode) -> Principal:
    principal = resolve_principal(request, session, mode)
    request.state.principal = principal
    if mode == "accounts" and principal.user is None and not is_open(request.url.path):
        authorize_reader(request, session, principal)
    if mode == "accounts" and principal.user is not None:
        pid = project_of(request, session)
        if pid is not None:
            check_project_access(session, user=principal.user, project_id=pid,
                                 method=request.method, path=request.url.path)  # fmt: skip
        study = STUDY_PATH.match(request.url.path)
        if study is not None and (study_id := bounded_id(study.group(1))) is not None:
            check_study_access(session, user=principal.user, study_id=study_id,
                               method=request.method)  # fmt: skip
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


def current_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    return principal if principal is not None else Principal(auth_mode())
