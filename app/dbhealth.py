"""Whether the database answers: one-line reasons, the start-up gate, the health check.

A web process whose database is away keeps running: it answers 503 with a readable reason
(the error handler in app.main) and recovers by itself when the database is back (the pool
pings a connection before using it). ``familiar serve`` started while the database was away
holds every route at 503 (``require_database``) until its start-up steps (migrations
first) have run. A database that goes away later is said once on stderr (``note_down``, from
the 503 handler and the health check), and its return once (``note_answered``, from the
engine's first statement that succeeds after that), never once per request.
"""

from __future__ import annotations

import sys
import threading

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.config import get_settings

# Errors that say "the database cannot be used right now", not "this request is wrong".
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


class DatabaseUnavailable(RuntimeError):
    """The database does not answer (or the start-up steps have not run yet)."""


_ready = threading.Event()
_ready.set()  # a process that did not start through `familiar serve` is ready
_waiting_for = ""
_state_lock = threading.Lock()
_down = False  # the database went away after start, and has not answered since


def where() -> str:
    """The database as a user may see it: no password."""
    url = make_url(get_settings().sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def reason(exc: BaseException) -> str:
    """One line: what the driver said, without SQLAlchemy's background link."""
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    first = lines[0] if lines else type(orig).__name__
    return first.removeprefix("connection failed: ")


def describe(exc: BaseException) -> str:
    return f"the database at {where()} is unavailable: {reason(exc)}"


def hold(message: str) -> None:
    """Answer 503 with ``message`` until ``release`` (start-up steps still to run)."""
    global _waiting_for
    _waiting_for = message
    _ready.clear()


def release() -> None:
    _ready.set()


def require_database() -> None:
    """App-level dependency: 503 while the start-up steps wait for the database."""
    if not _ready.is_set():
        raise DatabaseUnavailable(_waiting_for)


def check_database() -> str | None:
    """None when the database answers and start-up is done, else the one-line reason."""
    if not _ready.is_set():
        return _waiting_for
    from app.db import get_engine

    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except DATABASE_DOWN as exc:
        note_down(exc)
        return describe(exc)
    return None


def note_down(exc: BaseException) -> None:
    """The database stopped answering after start: say so in one line, once."""
    global _down
    if not _ready.is_set():  # start-up is still waiting: `familiar serve` said it already
        return
    with _state_lock:
        if _down:
            return
        _down = True
    _say(f"error: {describe(exc)}; answering 503 until it does")


def note_answered(*_: object) -> None:
    """A statement succeeded (an engine event): after a ``note_down``, say it is back."""
    global _down
    if not _down:  # the common case: no lock
        return
    with _state_lock:
        if not _down:
            return
        _down = False
    _say(f"database at {where()} answers again; serving")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
