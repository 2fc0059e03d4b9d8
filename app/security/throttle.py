"""Sign-in limits: failed attempts per account and per client address, counted in the
database (so every web process sees them), and a bound on concurrent password hashing."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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


def check_login_allowed(session: Session, *, username: str, ip: str) -> None:
    """Raise TooManyAttempts when the account or the address used up its failures."""
    settings = get_settings()
    since = datetime.now(UTC) - timedelta(seconds=settings.login_window_s)
    user_key, ip_key = _keys(username, ip)
    limits = ((user_key, settings.login_max_failures, "for this account"),
              (ip_key, settings.login_max_failures_per_ip, "from your address"))  # fmt: skip
    for key, limit, per in limits:
        n, oldest = session.execute(
            select(func.count(LoginFailure.id), func.min(LoginFailure.at))
            .where(LoginFailure.key == key, LoginFailure.at > since)
        ).one()  # fmt: skip
        if n >= limit:
            wait = (oldest - since).total_seconds() if oldest is not None else 1
            raise TooManyAttempts(math.ceil(wait), per=per)


def record_failure(session: Session, *, username: str, ip: str) -> None:
    settings = get_settings()
    old = datetime.now(UTC) - timedelta(seconds=settings.login_window_s)
    keys = _keys(username, ip)
    session.execute(delete(LoginFailure).where(LoginFailure.at <= old))  # the table stays small
    session.add_all([LoginFailure(key=k) for k in keys])
    session.flush()


def clear_failures(session: Session, *, username: str) -> None:
    """A successful sign-in forgets the account's failures (not the address's)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == _keys(username, "")[0]))


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
