"""FastAPI dependencies and their Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.orm import Session

from app.db import session_scope


def get_session() -> Iterator[Session]:
    """One session per request, committed on success (``app.db.session_scope``)."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


# Ids in paths: an integer column holds 1..2^31-1 on Postgres (SQLite up to 2^63-1), so a
# larger id names nothing. Out of range answers 404, like an id that does not exist
# (``app.main.handle_request_validation``), instead of a database error.
MAX_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="An id (1 to 2^31-1)")]


def bounded_id(raw: object) -> int | None:
    """An id from text (a path, a form field) when it can name a row; else None."""
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
