"""FastAPI dependencies and their Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from app.db import request_scope
from app.ids import MAX_ID


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed on success (``app.db.request_scope``); kept on
    ``request.state`` so the templates' role checks read through it, not a second
    connection from the pool."""
    with request_scope() as session:
        request.state.session = session
        try:
            yield session
        finally:
            request.state.session = None


SessionDep = Annotated[Session, Depends(get_session)]


# Ids in paths (``app.ids``): an id out of range answers 404, like an id that does not exist
# (``app.main.handle_request_validation``), instead of a database error.
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="An id (1 to 2^31-1)")]
