"""Your account: sessions (sign out one or everywhere), password; admins sign others out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from app.deps import PathId, SessionDep
from app.schemas.accounts import (
    AccountPage,
    PasswordChange,
    SessionList,
    SessionRead,
    SessionsRevoked,
    UserRead,
)
from app.security import accounts as svc
from app.security import sessions, user_sessions
from app.security.access import current_principal
from app.security.errors import AccessDenied, AuthRequired
from app.security.modes import auth_mode
from app.services.errors import BadInput, NotFound
from app.web import render

router = APIRouter()
Text = Annotated[str, Form(max_length=2000)]


def _user(request: Request) -> UserRead:
    if auth_mode() == "single":
        raise NotFound("single-user mode has no accounts or sessions (AUTH=accounts has)")
    user = current_principal(request).user
    if user is None:
        raise AuthRequired("Sessions and passwords belong to accounts: sign in first.")
    return user


def _admin(request: Request) -> UserRead:
    user = _user(request)
    if not user.is_admin:
        raise AccessDenied("Only an administrator can sign other users out.")
    return user


def _page(request: Request, session: Session) -> AccountPage:
    token = sessions.session_token(request)
    return svc.account_page(session, user=_user(request), current=token)


def _back(note: str) -> RedirectResponse:
    return RedirectResponse(f"/account?done={note}", status_code=303)


# --- JSON API -------------------------------------------------------------------------------


@router.get("/api/v1/account", response_model=AccountPage, tags=["accounts"])
def api_account(request: Request, session: SessionDep) -> AccountPage:
    """The account page's data: your sessions and API tokens (every user for an admin)."""
    return _page(request, session)


@router.get("/api/v1/me/sessions", response_model=SessionList, tags=["accounts"])
def api_list_sessions(request: Request, session: SessionDep) -> SessionList:
    current = sessions.session_token(request)
    return user_sessions.list_sessions(session, user_id=_user(request).id, current=current)


@router.delete("/api/v1/me/sessions/{session_id:id}", response_model=SessionRead, tags=["accounts"])
def api_revoke_session(request: Request, session_id: PathId, session: SessionDep) -> SessionRead:
    """End one of your sessions (a browser you signed in on); it is signed out at once."""
    ended = user_sessions.revoke_session(session, user_id=_user(request).id, session_id=session_id)
    session.commit()
    return ended


@router.post("/api/v1/me/sessions/revoke-all", response_model=SessionsRevoked, tags=["accounts"])
def api_sign_out_everywhere(request: Request, session: SessionDep) -> SessionsRevoked:
    """Sign out everywhere, this browser included (API tokens stay valid)."""
    n = user_sessions.revoke_all_sessions(session, user_id=_user(request).id)
    session.commit()
    return SessionsRevoked(revoked=n)


@router.post("/api/v1/me/password", response_model=SessionsRevoked, tags=["accounts"])
def api_change_password(
    request: Request, data: PasswordChange, session: SessionDep
) -> SessionsRevoked:
    """Change your password; every other session is signed out (`revoked` counts them)."""
    n = svc.change_password(
        session,
        user_id=_user(request).id,
        current=data.current_password,
        new=data.new_password,
        keep_session=sessions.session_token(request),
    )
    session.commit()
    return SessionsRevoked(revoked=n)


@router.post(
    "/api/v1/users/{user_id:id}/sessions/revoke-all",
    response_model=SessionsRevoked,
    tags=["accounts"],
)
def api_sign_user_out(request: Request, user_id: PathId, session: SessionDep) -> SessionsRevoked:
    """Admins: sign a user out everywhere (their API tokens stay valid)."""
    _admin(request)
    n = user_sessions.revoke_all_sessions(session, user_id=user_id)
    session.commit()
    return SessionsRevoked(revoked=n)


# --- page and forms -------------------------------------------------------------------------


@router.get("/account", response_class=HTMLResponse, include_in_schema=False)
def account(request: Request, session: SessionDep, done: str = "") -> HTMLResponse:
    ctx = {"page": _page(request, session), "done": done[:40], "error": None}
    return render(request, "pages/auth/account.html", ctx, json_url="/api/v1/account")


@router.post("/account/sessions/{session_id:id}/revoke", include_in_schema=False)
def revoke_session_form(
    request: Request, session_id: PathId, session: SessionDep
) -> RedirectResponse:
    user_sessions.revoke_session(session, user_id=_user(request).id, session_id=session_id)
    session.commit()
    return _back("session")


@router.post("/account/sign-out-everywhere", include_in_schema=False)
def sign_out_everywhere_form(request: Request, session: SessionDep) -> RedirectResponse:
    user_sessions.revoke_all_sessions(session, user_id=_user(request).id)
    session.commit()
    sessions.sign_out(request)
    return RedirectResponse("/login", status_code=303)


@router.post("/account/password", include_in_schema=False, response_model=None)
def change_password_form(
    request: Request,
    session: SessionDep,
    current_password: Text = "",
    new_password: Text = "",
    confirm: Text = "",
) -> HTMLResponse | RedirectResponse:
    try:
        if new_password != confirm:
            raise BadInput("the two new passwords differ")
        svc.change_password(
            session,
            user_id=_user(request).id,
            current=current_password,
            new=new_password,
            keep_session=sessions.session_token(request),
        )
    except BadInput as exc:
        session.rollback()
        ctx = {"page": _page(request, session), "done": "", "error": str(exc)}
        return render(request, "pages/auth/account.html", ctx, status_code=422)
    session.commit()
    return _back("password")


@router.post("/account/users/{user_id:id}/sign-out", include_in_schema=False)
def sign_user_out_form(request: Request, user_id: PathId, session: SessionDep) -> RedirectResponse:
    _admin(request)
    user_sessions.revoke_all_sessions(session, user_id=user_id)
    session.commit()
    return _back("user")
