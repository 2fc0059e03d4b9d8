"""Users and personal API tokens: create, authenticate, look up, revoke."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import ApiToken, User
from app.schemas.accounts import AccountPage, ApiTokenList, ApiTokenRead, UserRead
from app.security.passwords import hash_password, needs_rehash, password_problem, verify_password
from app.security.throttle import (
    HashingBusy,
    attempt_failed,
    attempt_succeeded,
    release_attempt,
    reserve_attempt,
)
from app.security.tokens import hash_token, new_token
from app.security.user_sessions import list_sessions, revoke_all_sessions
from app.services.errors import BadInput, Conflict, NotFound

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")
TOKEN_PREFIX = "fam_"
TOUCH_EVERY = timedelta(minutes=10)


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def create_user(
    session: Session, *, username: str, password: str, is_admin: bool = False
) -> UserRead:
    username = username.strip()
    if not USERNAME.match(username):
        raise BadInput(
            "the username needs 1 to 80 letters, digits or . _ @ - (starting with a letter "
            "or digit)"
        )
    if problem := password_problem(password):
        raise BadInput(problem)
    if _find(session, username) is not None:
        raise Conflict(f"user '{username}' already exists")
    user = User(username=username, password_hash=hash_password(password), is_admin=is_admin)
    session.add(user)
    session.flush()
    return UserRead.model_validate(user)


def _find(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username.strip())).first()


def authenticate(session: Session, *, username: str, password: str) -> UserRead | None:
    """The active user with this name and password, or None (same time either way)."""
    user = _find(session, username)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(UTC)
    return UserRead.model_validate(user)


def sign_in_attempt(session: Session, *, username: str, password: str, ip: str) -> UserRead | None:
    """authenticate() under the sign-in limits. The attempt is counted (and committed) before
    its password is checked, so parallel attempts over any number of web processes check at
    most LOGIN_MAX_FAILURES passwords per window; past that TooManyAttempts, before any
    hashing. A right password takes its count back."""
    attempt = reserve_attempt(session, username=username, ip=ip)
    try:
        user = authenticate(session, username=username, password=password)
    except HashingBusy:
        release_attempt(session, attempt)
        raise
    if user is None:
        attempt_failed(session)
    else:
        attempt_succeeded(session, attempt)
    return user


def change_password(
    session: Session, *, user_id: int, current: str, new: str, keep_session: str | None
) -> int:
    """Set a new password (the current one must match); every other session is signed out.
    Returns how many sessions were ended."""
    user = session.get(User, user_id)
    if user is None or not verify_password(user.password_hash, current):
        raise BadInput("the current password is wrong")
    if problem := password_problem(new):
        raise BadInput(problem)
    user.password_hash = hash_password(new)
    return revoke_all_sessions(session, user_id=user_id, keep_token=keep_session)


def list_users(session: Session) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in session.scalars(select(User).order_by(User.id))]


def get_active_user(session: Session, *, user_id: int) -> UserRead | None:
    user = session.get(User, user_id)
    return UserRead.model_validate(user) if user is not None and user.is_active else None


def create_api_token(session: Session, *, username: str, label: str = "") -> str:
    """A new personal token for `username`; the plain token is returned once, never stored."""
    user = _find(session, username)
    if user is None:
        raise NotFound(f"no user '{username}'")
    token = new_token(TOKEN_PREFIX)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), label=label[:200]))
    session.flush()
    return token


def user_for_api_token(session: Session, *, token: str) -> UserRead | None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
    return get_active_user(session, user_id=row.user_id)


def list_api_tokens(session: Session, *, user_id: int) -> ApiTokenList:
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
    )
    return ApiTokenList(tokens=[ApiTokenRead.model_validate(r) for r in rows])


def revoke_api_token(session: Session, *, user_id: int, token_id: int) -> ApiTokenRead:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"API token {token_id} not found")
    row.revoked_at = row.revoked_at or datetime.now(UTC)
    return ApiTokenRead.model_validate(row)


def account_page(session: Session, *, user: UserRead, current: str | None) -> AccountPage:
    """The account page and its JSON twin: sessions, tokens; every user for an admin."""
    return AccountPage(
        user=user,
        sessions=list_sessions(session, user_id=user.id, current=current).sessions,
        tokens=list_api_tokens(session, user_id=user.id).tokens,
        users=list_users(session) if user.is_admin else None,
    )
