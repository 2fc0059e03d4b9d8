"""Engine, sessions and the declarative Base."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, inspect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.config import get_settings
from app.dbhealth import DATABASE_DOWN, note_answered, note_down
from app.services.errors import BadInput

CONNECT_TIMEOUT_S = 10

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, foreign keys and a busy timeout (web and worker share it)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # pre-ping: a connection the database dropped (a restart) is replaced, not used;
        # connect_timeout: a database that does not answer is reported, not waited for.
        args = {"connect_timeout": CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {}
        engine = create_engine(url, pool_pre_ping=True, connect_args=args)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# The same answer on SQLite and Postgres (issue 11). Postgres cannot store or even compare
# a NUL character and enforces String(n) lengths; SQLite does neither. So every statement
# refuses a NUL in its parameters (searches and sign-in names too), and every ORM write
# refuses a NUL or an over-long value, naming the field, before it reaches either database.
# Uploads check the same earlier, naming file, line and field (app.ingest.records).
NUL_TEXT = "text cannot contain a NUL character (U+0000)"


def _refuse_nul(_conn, _cursor, _statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
    if any("\x00" in v for v in _strings(parameters)):
        raise BadInput(NUL_TEXT)


def _strings(params: Any) -> Iterator[str]:
    """The text values among a statement's parameters (one row or many, dicts or tuples)."""
    if isinstance(params, str):
        yield params
    elif isinstance(params, dict):
        for v in params.values():
            yield from _strings(v)
    elif isinstance(params, list | tuple):
        for v in params:
            yield from _strings(v)


@event.listens_for(Session, "before_flush")
def _check_column_values(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            value = state.dict.get(attr.key)  # loaded values only: no query here
            if not isinstance(value, str):
                continue
            if "\x00" in value:
                raise BadInput(f"{attr.key}: {NUL_TEXT}")
            length = getattr(attr.columns[0].type, "length", None)
            if length is not None and len(value) > length:
                raise BadInput(f"{attr.key}: at most {length} characters (got {len(value)})")


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    if settings.sqlalchemy_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    # The database's return after an outage is said once (app.dbhealth).
    event.listen(engine, "after_cursor_execute", note_answered)
    return engine


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error (workers, CLI)."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def request_scope() -> Iterator[Session]:
    """``session_scope`` for one web request. FastAPI exits it after the response was sent,
    so routes that write commit before they answer; this closing commit only ends what was
    read. A database that went away just then is said in app.dbhealth's one line, not in a
    traceback that no client would see."""
    session = get_sessionmaker()()
    try:
        yield session
        try:
            session.commit()
        except DATABASE_DOWN as exc:
            note_down(exc)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
