"""Server-side sessions: every sign-in is a row, so logout, a password change or an
admin's "sign out everywhere" ends it at once, whatever the signed cookie still says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.models import User, UserSession
from app.schemas.accounts import SessionList, SessionRead
from app.security.tokens import hash_token, new_token
from app.services.errors import NotFound

TOUCH_EVERY = timedelta(minutes=5)  # last seen, to the 5 minutes: few writes on reads


def start_session(session: Session, *, user_id: int, user_agent: str = "", ip: str = "") -> str:
    """A new session row; the returned random id goes into the cookie (only its hash here)."""
    token = new_token()
    session.add(
        UserSession(
            user_id=user_id, token_hash=hash_token(token), user_agent=user_agent[:300], ip=ip[:64]
        )
    )
    session.flush()
    return token


def _row(session: Session, token: str) -> UserSession | None:
    return session.scalars(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    ).first()


def session_is_live(session: Session, *, token: str, user_id: int) -> bool:
    """Whether the cookie's session still stands (not revoked, not too old); touches it."""
    row = _row(session, token)
    now = datetime.now(UTC)
    max_age = timedelta(days=get_settings().session_max_age_days)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        return False
    if now - row.created_at > max_age:
        return False
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return True


def end_session(session: Session, *, token: str) -> None:
    row = _row(session, token)
    if row is not None and row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)


def revoke_all_sessions(session: Session, *, user_id: int, keep_token: str | None = None) -> int:
    """Sign `user_id` out everywhere (but the session `keep_token`); how many were ended."""
    if session.get(User, user_id) is None:
        raise NotFound(f"no user {user_id}")
    query = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if keep_token is not None:
        query = query.where(UserSession.token_hash != hash_token(keep_token))
    result = session.execute(query.values(revoked_at=datetime.now(UTC)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_session(session: Session, *, user_id: int, session_id: int) -> SessionRead:
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"session {session_id} not found")
    row.revoked_at = row.revoked_at or datetime.now(UTC)
    session.flush()
    return _read(row, None)


def _read(row: UserSession, current: str | None) -> SessionRead:
    return SessionRead(
        id=row.id,
        user_agent=row.user_agent,
        ip=row.ip,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
        current=current is not None and row.token_hash == hash_token(current),
    )


def list_sessions(session: Session, *, user_id: int, current: str | None) -> SessionList:
    """The user's sessions still standing, newest first; `current` marks this browser's."""
    since = datetime.now(UTC) - timedelta(days=get_settings().session_max_age_days)
    rows = session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.created_at > since,
        )
        .order_by(UserSession.id.desc())
    )
    return SessionList(sessions=[_read(r, current) for r in rows])
