"""What the workers write, each in the transaction that ends their job (``JobContext.save``)
or as live progress: curve points, a run's training result, an evaluation's predictions,
and the accuracies the accuracy sections read. What follows each (an evaluation, a halving
decision, the end) is the validation pipeline's (``app.pipelines.validation.advance``).

Every writer first locks the validation row (``SELECT ... FOR UPDATE`` on Postgres; on
SQLite the fenced job update before it already holds the database's write lock), so two
jobs ending at once cannot both miss that they were the last of a round. A validation that
is no longer running (cancelled, ``cancel``) keeps what a racing save brings but gets no
new job.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import now
from app.models import Accuracy, Evaluation, Prediction, TrainingPoint, Validation, ValidationRun
from app.pipelines.validation import advance
from app.services.validations.states import RunState, ValidationState, move_run


def lock_validation(session: Session, validation_id: int) -> Validation:
    validation = session.scalar(
        select(Validation)
        .where(Validation.id == validation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if validation is None:
        raise LookupError(f"validation {validation_id} no longer exists")
    return validation


def write_points(
    session: Session,
    *,
    run_id: int,
    steps: list[dict[str, Any]],
    checkpoints: list[dict[str, Any]],
) -> None:
    """Add curve points; a step already stored (a resumed run replays it) is kept as it was."""
    for kind, points in (("step", steps), ("checkpoint", checkpoints)):
        if not points:
            continue
        have = set(
            session.scalars(
                select(TrainingPoint.step).where(
                    TrainingPoint.run_id == run_id,
                    TrainingPoint.kind == kind,
                    TrainingPoint.step.in_([p["step"] for p in points]),
                )
            )
        )
        session.add_all(
            TrainingPoint(run_id=run_id, kind=kind, **_finite(p))
            for p in points
            if p["step"] not in have
        )
    session.flush()


def _finite(point: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in point.items()
    }


def record_train_result(session: Session, *, run_id: int, result: dict[str, Any]) -> None:
    """Store a run's result, then the validation pipeline decides what follows (its
    evaluation, or the end of its halving round: ``app.pipelines.validation``)."""
    run = session.get(ValidationRun, run_id, populate_existing=True)
    if run is None:
        return
    validation = lock_validation(session, run.validation_id)
    run.steps = int(result.get("steps") or 0)
    run.best_step = result.get("best_step")
    run.best_val_accuracy = result.get("best_val_accuracy")
    run.best_val_loss = _none_if_nan(result.get("best_val_loss"))
    run.adapter_dir = result.get("adapter_key", result.get("adapter_dir"))  # a store key
    run.result = result
    finished = bool(result.get("finished"))
    if validation.status != ValidationState.RUNNING:  # cancelled while this save was on its way
        move_run(session, run, RunState.TRAINED if finished else RunState.CANCELLED)
    else:
        move_run(session, run, RunState.TRAINED if finished else RunState.WAITING)
    session.flush()
    advance(session, validation)


def _none_if_nan(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def record_evaluation(
    session: Session,
    *,
    evaluation_id: int,
    predictions: list[dict[str, Any]],
    accuracy: float | None,
    seconds: float | None,
    tokens_per_s: float | None,
    extractor: str,
) -> None:
    """All predictions of one evaluation, its accuracy, and (for an adapter) the accuracy row
    the project's accuracy and agreement sections read; then close the validation when this
    was the last evaluation it waits for."""
    evaluation = session.get(Evaluation, evaluation_id, populate_existing=True)
    if evaluation is None:
        return
    validation = lock_validation(session, evaluation.validation_id)
    session.execute(delete(Prediction).where(Prediction.evaluation_id == evaluation_id))
    session.add_all(
        Prediction(evaluation_id=evaluation_id, extractor=extractor, **p) for p in predictions
    )
    evaluation.n, evaluation.accuracy, evaluation.extractor = len(predictions), accuracy, extractor
    evaluation.seconds, evaluation.tokens_per_s, evaluation.finished_at = (
        seconds,
        tokens_per_s,
        now(),
    )
    if evaluation.run_id is not None and accuracy is not None:
        _write_accuracy(session, validation, evaluation.run_id, accuracy)
    session.flush()
    advance(session, validation)


def _write_accuracy(session: Session, validation: Validation, run_id: int, value: float) -> None:
    run = session.get(ValidationRun, run_id)
    assert run is not None
    session.execute(
        delete(Accuracy).where(Accuracy.strategy_id == run.strategy_id, Accuracy.seed == run.seed)
    )
    session.add(
        Accuracy(
            project_id=validation.project_id,
            strategy_id=run.strategy_id,
            seed=run.seed,
            accuracy=value,
            validation_id=validation.id,
        )
    )
