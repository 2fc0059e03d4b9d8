"""Job handlers. The registry of kinds (queue, spec, handler path) is app.jobs.kinds; a
handler is imported when first used, so a light job never pays for a heavy import."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from app.jobs.kinds import get_kind
from workers.jobs.context import JobCancelled, JobContext, JobFailure

Handler = Callable[[JobContext], dict[str, Any]]


def get_handler(kind: str) -> Handler:
    module, func = get_kind(kind).handler.split(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


__all__ = ["JobCancelled", "JobContext", "JobFailure", "get_handler"]
