"""Row ids as requests may give them: an integer column holds 1..2^31-1 on Postgres (SQLite
up to 2^63-1), so a larger id names nothing, and is refused before any query sees it.

A path id has one spelling only: ASCII digits, no sign, space, underscore or leading zero,
1 to 2^31-1. Routes declare their ids as `{name:id}`, so a path that spells an id any other
way (`+2`, ` 2`, `2 `, `0_2`, `02`, a non-ASCII digit) matches no route and answers 404
before any dependency or access rule runs (issue 18: the access rule and the route once
parsed the same segment differently).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field
from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**31 - 1

# In JSON bodies: a real integer in range (not true, not "5").
RowId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]


def canonical_range_regex(high: int) -> str:
    """A regex matching exactly the canonical decimal spellings of 1..high."""
    top = str(high)
    shorter = [f"[1-9][0-9]{{0,{len(top) - 2}}}"] if len(top) > 1 else []
    same_length = []
    for i, digit in enumerate(top):
        low = "1" if i == 0 else "0"
        if int(digit) > int(low):
            rest = len(top) - i - 1
            same_length.append(f"{top[:i]}[{low}-{int(digit) - 1}][0-9]{{{rest}}}")
    return "(?:" + "|".join([*shorter, *same_length, top]) + ")"


class IdConvertor(Convertor[int]):
    """`{name:id}` in a route path: a canonical id, converted to int."""

    regex = canonical_range_regex(MAX_ID)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 1 <= value <= MAX_ID:
            raise ValueError(f"an id is 1 to {MAX_ID}, not {value}")
        return str(value)


register_url_convertor("id", IdConvertor())


_CANONICAL = re.compile(IdConvertor.regex)


def canonical_id(raw: object) -> int | None:
    """The id a text spells in the one form a path accepts; else None."""
    text = str(raw)
    return int(text) if _CANONICAL.fullmatch(text) else None


def bounded_id(raw: object) -> int | None:
    """An id from text (a form field, a query value) when it can name a row; else None.
    Surrounding spaces are forgiven here (a typed form value), never in a path."""
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
