"""A job handler for the lifecycle tests: counts to ``steps``, keeping each finished step."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.jobs.kinds import JobKind

FINISHED: dict[int, list[int]] = {}  # job id -> the steps it finished (what it "keeps")


class CountSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    steps: int = 5
    step_s: float = 0.05


def count(ctx: Any) -> dict[str, Any]:
    spec: CountSpec = ctx.spec
    kept = FINISHED.setdefault(ctx.job_id, [])
    for step in range(spec.steps):
        time.sleep(spec.step_s)
        kept.append(step)
        ctx.progress("counting", step + 1, spec.steps, force=True)
    return {"summary": f"counted to {spec.steps}"}


KIND = JobKind("test_count", "cpu", CountSpec, "tests.jobs.handlers:count")
