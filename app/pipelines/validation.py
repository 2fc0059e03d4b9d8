"""The validation pipeline's decisions (``app.pipelines``): what follows a run's training, an
evaluation, or a job that failed.

``advance`` looks at what is stored and does what comes next, so calling it twice does
nothing more: a trained run without an evaluation gets its evaluation job; a halving round
whose runs all wait is decided (the better half trains on, the rest stop); the validation
is done when no run trains and every evaluation has finished; a job of it that failed or
was cancelled on its own ends it failed. A validation that is no longer running (cancelled)
gets no new job. Callers hold the validation's row lock (``lock_validation``).
"""

from __future__ import annotations

import math
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job, now
from app.jobs.states import JobState
from app.models import Evaluation, HalvingRound, Job, Validation, ValidationRun
from app.services.validations.states import (
    UNFINISHED_RUNS,
    RunState,
    ValidationState,
    move_run,
    move_validation,
)
from app.specs.validation import ValidationSpec, ValidationTrainSpec


def after_job(session: Session, job: Job) -> None:
    """Follows every end of a validation job (``app.pipelines.PIPELINES``)."""
    from app.services.validations.record import lock_validation

    validation_id = (job.spec or {}).get("validation_id")
    if validation_id is None or session.get(Validation, validation_id) is None:
        return
    validation = lock_validation(session, int(validation_id))
    if job.status in (JobState.FAILED.value, JobState.CANCELLED.value):
        _job_ended_badly(session, validation, job)
    advance(session, validation)


def _job_ended_badly(session: Session, validation: Validation, job: Job) -> None:
    run_id = (job.spec or {}).get("run_id")
    run = session.get(ValidationRun, run_id) if run_id is not None else None
    if run is not None and run.job_id == job.id:
        move_run(session, run, RunState.FAILED, stopped_reason=f"its job {job.status}")
    if validation.status == ValidationState.RUNNING:
        how = "failed" if job.status == JobState.FAILED.value else "was cancelled alone"
        what = "training" if job.kind == "validation_train" else "evaluation"
        move_validation(
            session, validation, ValidationState.FAILED, error=f"a {what} job ({job.id}) {how}"
        )


def advance(session: Session, validation: Validation) -> None:
    """Do what comes next for ``validation`` (see the module docstring)."""
    if validation.status != ValidationState.RUNNING:
        return
    runs = list(
        session.scalars(select(ValidationRun).where(ValidationRun.validation_id == validation.id))
    )
    evaluated = set(
        session.scalars(
            select(Evaluation.run_id).where(
                Evaluation.validation_id == validation.id, Evaluation.run_id.is_not(None)
            )
        )
    )
    for run in runs:
        if run.status == RunState.TRAINED and run.id not in evaluated:
            add_evaluation(session, validation, run_id=run.id)
    for rung in sorted({r.rung for r in runs if r.status == RunState.WAITING}):
        _maybe_end_round(session, validation, [r for r in runs if r.rung == rung], rung)
    _maybe_finish(session, validation)


def add_evaluation(session: Session, validation: Validation, *, run_id: int | None) -> Evaluation:
    evaluation = Evaluation(
        validation_id=validation.id, run_id=run_id, extractor=validation.extractor
    )
    session.add(evaluation)
    session.flush()
    evaluation.job_id = create_job(
        session,
        kind="validation_eval",
        project_id=validation.project_id,
        spec={"validation_id": validation.id, "evaluation_id": evaluation.id},
    ).id
    return evaluation


def _maybe_end_round(
    session: Session, validation: Validation, rung_runs: list[ValidationRun], rung: int
) -> None:
    runs = [r for r in rung_runs if r.status in UNFINISHED_RUNS]
    if not runs or any(r.status == RunState.TRAINING for r in runs):
        return
    keep, drop = halve(runs)
    spec = ValidationSpec.model_validate(validation.spec)
    total = max(int((r.result or {}).get("total_steps") or 0) for r in runs)
    until = spec.halving_first_steps * 2 ** (rung + 1)
    last = len({r.strategy_id for r in keep}) <= 1 or bool(total and until >= total)
    scores = strategy_scores(runs)
    for r in drop:
        move_run(session, r, RunState.STOPPED, stopped_reason=_stop_reason(r, rung, scores))
    for r in keep:
        _train_on(session, validation, r, rung + 1, None if last else until)
    session.add(
        HalvingRound(
            validation_id=validation.id,
            round=rung + 1,
            at_step=max((r.steps for r in runs), default=0),
            at=now(),
            scores={str(k): v for k, v in scores.items()},
            kept=sorted({r.strategy_id for r in keep}),
            stopped=sorted({r.strategy_id for r in drop}),
            next_until_step=None if last else until,
        )
    )
    session.flush()


def _train_on(
    session: Session, validation: Validation, run: ValidationRun, rung: int, until: int | None
) -> None:
    job = create_job(
        session,
        kind="validation_train",
        project_id=validation.project_id,
        spec=ValidationTrainSpec(validation_id=validation.id, run_id=run.id, until_step=until),
    )
    move_run(session, run, RunState.TRAINING, rung=rung, until_step=until, job_id=job.id)


def _stop_reason(run: ValidationRun, rung: int, scores: dict[int, float | None]) -> str:
    return (
        f"stopped after step {run.steps} (round {rung + 1}): validation "
        f"accuracy {_pct(scores[run.strategy_id])}, in the worse half"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def strategy_scores(runs: list[ValidationRun]) -> dict[int, float | None]:
    """Per strategy, the mean best validation accuracy over its seeds (None: no score)."""
    by: dict[int, list[float]] = defaultdict(list)
    for r in runs:
        by[r.strategy_id].extend([r.best_val_accuracy] if r.best_val_accuracy is not None else [])
    return {
        sid: (sum(v) / len(v) if v else None)
        for sid, v in ((r.strategy_id, by[r.strategy_id]) for r in runs)
    }


def halve(runs: list[ValidationRun]) -> tuple[list[ValidationRun], list[ValidationRun]]:
    """Keep the better half of the strategies (at least one) by mean validation accuracy
    over their seeds; a strategy without a score ranks last. Ties keep the lower id."""
    scores = strategy_scores(runs)
    order = sorted(scores, key=lambda sid: (scores[sid] is None, -(scores[sid] or 0.0), sid))
    kept = set(order[: max(1, math.ceil(len(order) / 2))])
    return [r for r in runs if r.strategy_id in kept], [
        r for r in runs if r.strategy_id not in kept
    ]


def _maybe_finish(session: Session, validation: Validation) -> None:
    """Done when no run trains any more and every evaluation it asked for has finished."""
    unfinished_runs = session.scalar(
        select(ValidationRun.id)
        .where(
            ValidationRun.validation_id == validation.id,
            ValidationRun.status.in_([s.value for s in UNFINISHED_RUNS]),
        )
        .limit(1)
    )
    open_evals = session.scalar(
        select(Evaluation.id)
        .where(Evaluation.validation_id == validation.id, Evaluation.finished_at.is_(None))
        .limit(1)
    )
    if unfinished_runs is None and open_evals is None:
        move_validation(session, validation, ValidationState.DONE)
