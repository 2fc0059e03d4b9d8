"""What the workers write, each in the transaction that ends their job (``JobContext.save``)
or as live progress: curve points, a run's training result (with the successive-halving
decision), an evaluation's predictions, and the accuracies the accuracy sections read.

Every writer first locks the validation row (``SELECT ... FOR UPDATE`` on Postgres; on
SQLite the fenced job update before it already holds the database's write lock), so two
jobs ending at once cannot both miss that they were the last of a round. A validation that
is no longer running (cancelled, ``cancel``) keeps what a racing save brings but gets no
new job.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job, now
from app.models import Accuracy, Evaluation, Prediction, TrainingPoint, Validation, ValidationRun
from app.specs.validation import ValidationSpec, ValidationTrainSpec


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
    """Store a run's result; a finished run gets its evaluation job, a run that reached its
    halving budget waits for the round to end, and the last one of the round decides."""
    from app.services.validations.start import add_evaluation

    run = session.get(ValidationRun, run_id, populate_existing=True)
    if run is None:
        return
    validation = lock_validation(session, run.validation_id)
    run.steps = int(result.get("steps") or 0)
    run.best_step = result.get("best_step")
    run.best_val_accuracy = result.get("best_val_accuracy")
    run.best_val_loss = _none_if_nan(result.get("best_val_loss"))
    run.adapter_dir = result.get("adapter_dir")
    run.result = result
    if validation.status != "running":  # cancelled while this run's save was on its way
        run.status = "trained" if result.get("finished") else "cancelled"
    elif result.get("finished"):
        run.status = "trained"
        add_evaluation(session, validation, run_id=run.id)
    else:
        run.status = "waiting"
        session.flush()
        _maybe_end_round(session, validation, run.rung, int(result.get("total_steps") or 0))
    session.flush()


def _none_if_nan(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _maybe_end_round(session: Session, validation: Validation, rung: int, total: int) -> None:
    runs = session.scalars(
        select(ValidationRun).where(
            ValidationRun.validation_id == validation.id,
            ValidationRun.rung == rung,
            ValidationRun.status.in_(("training", "waiting")),
        )
    ).all()
    if any(r.status == "training" for r in runs):
        return
    keep, drop = halve(runs)
    spec = ValidationSpec.model_validate(validation.spec)
    until = spec.halving_first_steps * 2 ** (rung + 1)
    last = len({r.strategy_id for r in keep}) <= 1 or (total and until >= total)
    step = max((r.steps for r in runs), default=0)
    scores = _strategy_scores(runs)
    for r in drop:
        r.status = "stopped"
        r.stopped_reason = (
            f"stopped after step {r.steps} (round {rung + 1}): validation "
            f"accuracy {_pct(scores[r.strategy_id])}, in the worse half"
        )
    for r in keep:
        r.rung, r.status, r.until_step = rung + 1, "training", None if last else until
        r.job_id = create_job(
            session,
            kind="validation_train",
            project_id=validation.project_id,
            spec=ValidationTrainSpec(
                validation_id=validation.id, run_id=r.id, until_step=r.until_step
            ),
        ).id
    entry = {
        "round": rung + 1,
        "at_step": step,
        "at": now().isoformat(),
        "scores": {str(k): v for k, v in scores.items()},
        "kept": sorted({r.strategy_id for r in keep}),
        "stopped": sorted({r.strategy_id for r in drop}),
        "next_until_step": None if last else until,
    }
    validation.summary = {
        **validation.summary,
        "halving_log": [*validation.summary.get("halving_log", []), entry],
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _strategy_scores(runs: list[ValidationRun]) -> dict[int, float | None]:
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
    scores = _strategy_scores(runs)
    order = sorted(scores, key=lambda sid: (scores[sid] is None, -(scores[sid] or 0.0), sid))
    kept = set(order[: max(1, math.ceil(len(order) / 2))])
    return [r for r in runs if r.strategy_id in kept], [
        r for r in runs if r.strategy_id not in kept
    ]


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
    maybe_finish(session, validation)


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


def maybe_finish(session: Session, validation: Validation) -> None:
    """Done when no run trains any more and every evaluation it asked for has finished
    (a cancelled validation stays cancelled)."""
    if validation.status != "running":
        return
    runs = session.scalars(
        select(ValidationRun).where(ValidationRun.validation_id == validation.id)
    ).all()
    if any(r.status in ("training", "waiting") for r in runs):
        return
    evals = session.scalars(
        select(Evaluation).where(Evaluation.validation_id == validation.id)
    ).all()
    if all(e.finished_at is not None for e in evals):
        validation.status, validation.finished_at = "done", now()
