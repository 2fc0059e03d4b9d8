"""Row ids as requests may give them: an integer column holds 1..2^31-1 on Postgres (SQLite
up to 2^63-1), so a larger id names nothing, and is refused before any query sees it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ID = 2**31 - 1

# In JSON bodies: a real integer in range (not true, not "5").
RowId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]


def bounded_id(raw: object) -> int | None:
    """An id from text (a path, a form field) when it can name a row; else None."""
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
