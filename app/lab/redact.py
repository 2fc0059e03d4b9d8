"""Secrets out of error messages: a refused request never echoes an API key back.

FastAPI's 422 answer names each refused value (``input``); for a field such as ``api_key``
(too long, wrong type) that value is the key itself, and a refusal of the whole body (an
unknown field) echoes every field. ``scrub_secret_inputs`` masks both.
"""

from __future__ import annotations

from typing import Any

SECRET_FIELDS = frozenset({"api_key"})
MASK = "***"


def _is_secret(name: object) -> bool:
    return isinstance(name, str) and name in SECRET_FIELDS


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if _is_secret(k) else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def scrub_secret_inputs(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The errors with every secret field's value masked (``input`` and nested dicts)."""
    out = []
    for error in errors:
        error = dict(error)
        if any(_is_secret(part) for part in error.get("loc", ())):
            error["input"] = MASK
        elif "input" in error:
            error["input"] = _mask(error["input"])
        out.append(error)
    return out
