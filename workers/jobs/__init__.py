"""Job handlers by kind. Each takes a JobContext and returns a JSON-able result.

Handlers are imported when first used, so a light job never pays for a heavy import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from workers.jobs.context import JobContext, JobFailure

Handler = Callable[[JobContext], dict[str, Any]]

HANDLER_PATHS = {
    "analyze": "workers.jobs.analyze:analyze_responses",
    "generate_own_answers": "workers.jobs.own_answers:generate_own_answers",
    "llm_judge": "workers.jobs.llm_judge:llm_judge",
    "scan": "workers.jobs.scan:run_scan_job",
    "token_surprise": "workers.jobs.token_surprise:token_surprise",
}


def get_handler(kind: str) -> Handler:
    if kind not in HANDLER_PATHS:
        raise JobFailure(f"unknown job kind '{kind}'")
    module, func = HANDLER_PATHS[kind].split(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


__all__ = ["HANDLER_PATHS", "JobContext", "JobFailure", "get_handler"]
