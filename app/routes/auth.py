"""Signing in and out, the one-time first-account setup, and who the request acts as."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from app.deps import PathId, SessionDep
from app.schemas.accounts import ApiTokenList, ApiTokenRead, Me, UserRead
from app.security import accounts as svc
from app.security import sessions, user_sessions
from app.security.access import current_principal
from app.security.errors import AuthRequired, safe_next
from app.security.modes import auth_mode
from app.security.throttle import HashingBusy, TooManyAttempts
from app.services.errors import BadInput, Conflict
from app.web import render

router = APIRouter()
Next = Annotated[str, Query(alias="next", max_length=2000)]
Text = Annotated[str, Form(max_length=2000)]


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _login_form(
    request: Request,
    *,
    next_: str,
    error: str | None = None,
    username: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    ctx = {"next": safe_next(next_), "error": error, "username": username}
    return render(request, "pages/auth/login.html", ctx, status_code=status_code)


@router.get("/login", include_in_schema=False, response_model=None)
def login_page(
    request: Request, session: SessionDep, next_: Next = "/"
) -> HTMLResponse | RedirectResponse:
    if auth_mode() == "single" or current_principal(request).user is not None:
        return _redirect(safe_next(next_))
    if svc.count_users(session) == 0:
        return _redirect("/setup")
    return _login_form(request, next_=next_)


@router.post("/login", include_in_schema=False, response_model=None)
def login(
    request: Request,
    session: SessionDep,
    username: Text = "",
    password: Text = "",
    next_: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> HTMLResponse | RedirectResponse:
    if auth_mode() == "single":
        return _redirect(safe_next(next_))
    try:
        user = svc.sign_in_attempt(
            session, username=username, password=password, ip=_client_ip(request)
        )
    except (TooManyAttempts, HashingBusy) as exc:
        wait = exc.retry_after if isinstance(exc, TooManyAttempts) else 1
        code = 429 if isinstance(exc, TooManyAttempts) else 503
        page = _login_form(
            request, next_=next_, error=str(exc), username=username, status_code=code
        )
        page.headers["Retry-After"] = str(wait)
        return page
    if user is None:
        session.commit()  # the failure counts, also in the other web processes
        error = "Unknown username or wrong password."
        return _login_form(request, next_=next_, error=error, username=username, status_code=401)
    _start(request, session, user)
    return _redirect(safe_next(next_))


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _start(request: Request, session: Session, user: UserRead) -> None:
    """A server-side session row and the cookie that names it."""
    token = user_sessions.start_session(
        session,
        user_id=user.id,
        user_agent=request.headers.get("user-agent", ""),
        ip=_client_ip(request),
    )
    session.commit()
    sessions.sign_in(request, user, token)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep) -> RedirectResponse:
    """Ends the session on the server too: the old cookie no longer signs anybody in."""
    if token := sessions.session_token(request):
        user_sessions.end_session(session, token=token)
        session.commit()
    sessions.sign_out(request)
    return _redirect("/login" if auth_mode() == "accounts" else "/")


def _setup_closed(session: Session) -> str | None:
    """Where to go instead of /setup: single mode needs no account; it runs only once."""
    if auth_mode() == "single":
        return "/"
    return "/login" if svc.count_users(session) else None


@router.get("/setup", include_in_schema=False, response_model=None)
def setup_page(request: Request, session: SessionDep) -> HTMLResponse | RedirectResponse:
    if url := _setup_closed(session):
        return _redirect(url)
    return render(request, "pages/auth/setup.html", {"error": None, "username": ""})


@router.post("/setup", include_in_schema=False, response_model=None)
def setup(
    request: Request,
    session: SessionDep,
    username: Text = "",
    password: Text = "",
    confirm: Text = "",
) -> HTMLResponse | RedirectResponse:
    if url := _setup_closed(session):
        return _redirect(url)
    try:
        if password != confirm:
            raise BadInput("the two passwords differ")
        user = svc.create_user(session, username=username, password=password, is_admin=True)
    except (BadInput, Conflict, HashingBusy) as exc:
        ctx = {"error": str(exc), "username": username}
        code = 503 if isinstance(exc, HashingBusy) else 422
        return render(request, "pages/auth/setup.html", ctx, status_code=code)
    _start(request, session, user)
    return _redirect("/")


@router.get("/api/v1/me", response_model=Me, tags=["accounts"])
def api_me(request: Request) -> Me:
    """Who this request acts as: the local user, a signed-in user, or a share-link reader."""
    return current_principal(request).me()


def _user(request: Request) -> UserRead:
    user = current_principal(request).user
    if user is None:
        raise AuthRequired("Personal API tokens belong to accounts: sign in first.", api=True)
    return user


@router.get("/api/v1/me/tokens", response_model=ApiTokenList, tags=["accounts"])
def api_list_tokens(request: Request, session: SessionDep) -> ApiTokenList:
    """Your personal API tokens (without the secrets; `familiar create-token` makes one)."""
    return svc.list_api_tokens(session, user_id=_user(request).id)


@router.delete("/api/v1/me/tokens/{token_id:id}", response_model=ApiTokenRead, tags=["accounts"])
def api_revoke_token(request: Request, token_id: PathId, session: SessionDep) -> ApiTokenRead:
    """Revoke one of your API tokens; it stops working at once."""
    revoked = svc.revoke_api_token(session, user_id=_user(request).id, token_id=token_id)
    session.commit()
    return revoked
