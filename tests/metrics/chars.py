"""A metric defined outside Familiar's code: the response's length in characters."""

from __future__ import annotations

from typing import Any

from workers.scoring.metrics import Example


def chars(ex: Example) -> dict[str, Any]:
    return {"question_key": ex.key, "value": float(len(ex.text)), "n_tokens": ex.length}
