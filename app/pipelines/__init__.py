"""Pipelines as data: what follows what, in one place per pipeline.

Each pipeline lists its steps: after a job of a kind ends in a state, which step follows
(a dotted path, called with the session and the ended job, in the transaction that ends
the job). The job system calls ``follow`` at every job end (``workers.jobs.context`` on
success, ``workers.tasks`` on failure and cancel); no job handler starts another
pipeline's work itself. The Job rows stay the truth: a step only adds rows and jobs, and
every step is idempotent (it looks at what is stored, not at the event alone).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from app.jobs.states import JobState


@dataclass(frozen=True)
class Step:
    after: str  # the job kind that ended
    on: JobState  # how it ended
    then: str  # "module:function(session, job)"
    why: str  # shown in the docs and the closing of each pipeline's module


@dataclass(frozen=True)
class Pipeline:
    name: str
    description: str
    steps: tuple[Step, ...]


PIPELINES: tuple[Pipeline, ...] = (
    Pipeline(
        "own answers",
        "The target answers the project's questions; the answers become a strategy whose "
        "tokens are counted; in the demo project its first scan then starts by itself, and after "
        "it a strategy lab run with the target as its own teacher.",
        (
            Step(
                "generate_own_answers",
                JobState.SUCCEEDED,
                "app.pipelines.own_answers:analyze",
                "count the new strategy's tokens and check its answers (cpu queue)",
            ),
            Step(
                "generate_own_answers",
                JobState.SUCCEEDED,
                "app.pipelines.own_answers:first_scan",
                "the demo project's first scan (PPL, SPPL, IFD) starts once its answers are in",
            ),
            Step(
                "scan",
                JobState.SUCCEEDED,
                "app.pipelines.demo:lab_sample",
                "the demo project's strategy lab run (the target as its own teacher under "
                "four presets) starts after its first scan",
            ),
        ),
    ),
    Pipeline(
        "lab sample",
        "A strategy lab sample's answers become one strategy per recipe version (with its "
        "provenance: recipe, teacher, sampling, cost); one scan of them starts by itself.",
        (
            Step(
                "lab_sample",
                JobState.SUCCEEDED,
                "app.pipelines.lab:promote",
                "the recipes become strategies and their scan (PPL, SPPL, IFD) starts",
            ),
        ),
    ),
    Pipeline(
        "validation",
        "Train one LoRA run per (strategy, seed) -> evaluate each trained adapter and the "
        "untuned target -> with successive halving, rounds that stop the worse half -> "
        "done when every evaluation is in; a run whose job failed ends it failed.",
        tuple(
            Step(kind, state, "app.pipelines.validation:after_job", why)
            for kind, state, why in (
                ("validation_train", JobState.SUCCEEDED, "evaluate the run, or end its round"),
                ("validation_eval", JobState.SUCCEEDED, "done when the last evaluation is in"),
                ("validation_train", JobState.FAILED, "the validation cannot finish: failed"),
                ("validation_eval", JobState.FAILED, "the validation cannot finish: failed"),
                ("validation_train", JobState.CANCELLED, "a run cancelled alone: failed"),
                ("validation_eval", JobState.CANCELLED, "an evaluation cancelled alone: failed"),
            )
        ),
    ),
)


@cache
def _function(path: str) -> Callable[[Session, Any], None]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def steps_after(kind: str, state: JobState) -> list[Step]:
    return [s for p in PIPELINES for s in p.steps if s.after == kind and s.on == state]


def follow(session: Session, job: Any, state: JobState) -> None:
    """Run every step that follows ``job`` ending in ``state`` (in the caller's transaction)."""
    for step in steps_after(job.kind, state):
        _function(step.then)(session, job)


def follow_job(session: Session, job_id: int, state: JobState) -> None:
    """``follow`` for a job by id (the job system's call when a job ends)."""
    from app.models import Job

    session.flush()
    job = session.get(Job, job_id, populate_existing=True)
    if job is not None:
        follow(session, job, state)
