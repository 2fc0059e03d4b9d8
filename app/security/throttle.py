"""Sign-in limits: failed attempts per account and per client address, counted in the
database (so every web process sees them) before the password is checked, and a bound on
concurrent password hashing."""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.models import LoginFailure

HASH_WAIT_S = 1.0


class TooManyAttempts(Exception):
    """Too many failed sign-ins (429); `retry_after` seconds until the next try counts."""

    def __init__(self, retry_after: int, *, per: str) -> None:
        self.retry_after = max(1, retry_after)
        minutes = math.ceil(self.retry_after / 60)
        super().__init__(
            f"Too many failed sign-ins {per}. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}, or ask an administrator to check the account."
        )


class HashingBusy(Exception):
    """Every password-hashing slot is taken (503): try again in a moment."""

    def __init__(self) -> None:
        super().__init__("The server is busy checking other sign-ins. Try again in a moment.")


def _keys(username: str, ip: str) -> tuple[str, str]:
    return "user:" + username.strip()[:180], "ip:" + ip[:180]


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt counted as a failure until its password proves right."""

    user_key: str
    row_ids: tuple[int, ...]  # its LoginFailure rows: the account's, then the address's


def reserve_attempt(session: Session, *, username: str, ip: str) -> Attempt:
    """Count this attempt (as a failure) before its password is checked, and commit at once:
    every web process sees it before any password is hashed. Raises TooManyAttempts, and
    counts nothing, when the account or the address has used up its failures.

    Check and count are one step under a lock per key: Postgres advisory locks (account,
    then address: one order, no deadlock); on SQLite the INSERT takes the database's write
    lock, which the transaction holds until it commits. Like ``lifecycle.claim``, this
    commits the caller's session: the count must be visible before the slow check.
    """
    settings = get_settings()
    now = datetime.now(UTC)
    since = now - timedelta(seconds=settings.login_window_s)
    keys = _keys(username, ip)
    if session.get_bind().dialect.name == "postgresql":
        for key in keys:
            session.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
    rows = [LoginFailure(key=key, at=now) for key in keys]
    session.add_all(rows)
    session.flush()
    limits = (
        (settings.login_max_failures, "for this account"),
        (settings.login_max_failures_per_ip, "from your address"),
    )
    for key, (limit, per) in zip(keys, limits, strict=True):
        n, oldest = session.execute(
            select(func.count(LoginFailure.id), func.min(LoginFailure.at)).where(
                LoginFailure.key == key, LoginFailure.at > since
            )
        ).one()
        if n > limit:  # this attempt included
            session.rollback()
            raise TooManyAttempts(math.ceil((oldest - since).total_seconds()), per=per)
    session.commit()
    return Attempt(user_key=keys[0], row_ids=tuple(r.id for r in rows))


def _lock_id(key: str) -> int:
    """A stable signed 64-bit advisory lock id for a throttle key."""
    digest = hashlib.sha256(b"familiar-login:" + key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def attempt_failed(session: Session) -> None:
    """A wrong password: its reservation stays as the failure; old failures go (the table
    stays small)."""
    old = datetime.now(UTC) - timedelta(seconds=get_settings().login_window_s)
    session.execute(delete(LoginFailure).where(LoginFailure.at <= old))


def attempt_succeeded(session: Session, attempt: Attempt) -> None:
    """A successful sign-in forgets the account's failures and its own reservation (not the
    address's other failures)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == attempt.user_key))
    release_attempt(session, attempt)


def release_attempt(session: Session, attempt: Attempt) -> None:
    """No password was checked (every hashing slot busy): the attempt does not count."""
    session.execute(delete(LoginFailure).where(LoginFailure.id.in_(attempt.row_ids)))


_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _semaphore() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(get_settings().password_hash_slots)
        return _slots


@contextmanager
def hashing_slot() -> Iterator[None]:
    """One of PASSWORD_HASH_SLOTS; waits up to HASH_WAIT_S, then raises HashingBusy.

    Each Argon2id check holds 64 MiB: without a bound, 40 concurrent sign-ins held 1 GB."""
    slots = _semaphore()
    if not slots.acquire(timeout=HASH_WAIT_S):
        raise HashingBusy()
    try:
        yield
    finally:
        slots.release()
