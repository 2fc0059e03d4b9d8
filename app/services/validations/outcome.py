"""What a finished validation found, for listings: the best-trained strategy with its
accuracy, and whether the compared scan's recommendation was (one of) the best.

Read from the evaluations' stored accuracies (mean over seeds, as the validation page's
table), never from the per-question predictions, so a listing stays cheap."""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Evaluation, Scan, Strategy, Validation, ValidationRun
from app.schemas.projects import ValidationOutcome
from app.services.validations.states import ValidationState


def validation_outcomes(
    session: Session, validations: list[Validation]
) -> dict[int, ValidationOutcome]:
    """Validation id -> its outcome, for the finished ones with evaluated adapters."""
    done = [v for v in validations if v.status == ValidationState.DONE]
    if not done:
        return {}
    means = _mean_accuracies(session, [v.id for v in done])
    recommended = _recommended(session, [v.scan_id for v in done if v.scan_id is not None])
    out = {}
    for v in done:
        if means.get(v.id):
            out[v.id] = outcome_of(means[v.id], recommended.get(v.scan_id or -1))
    return out


def outcome_of(accuracy: dict[str, float], recommended: str | None) -> ValidationOutcome:
    """The outcome from strategy -> mean accuracy and the scan's recommendation."""
    top = max(accuracy.values())
    best = sorted(s for s, a in accuracy.items() if a == top)
    trained = recommended is not None and recommended in accuracy
    return ValidationOutcome(
        best=best,
        best_accuracy=top,
        recommended=recommended,
        recommended_accuracy=accuracy.get(recommended) if trained else None,
        agreed=(recommended in best) if trained else None,
    )


def _mean_accuracies(session: Session, ids: list[int]) -> dict[int, dict[str, float]]:
    """validation id -> strategy -> mean over seeds of its adapters' test accuracy."""
    per: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rows = session.execute(
        select(Evaluation.validation_id, Strategy.name, Evaluation.accuracy)
        .join(ValidationRun, ValidationRun.id == Evaluation.run_id)
        .join(Strategy, Strategy.id == ValidationRun.strategy_id)
        .where(
            Evaluation.validation_id.in_(ids),
            Evaluation.finished_at.is_not(None),
            Evaluation.accuracy.is_not(None),
        )
    )
    for vid, name, accuracy in rows:
        per[vid][name].append(float(accuracy))
    return {vid: {s: fmean(a) for s, a in by.items()} for vid, by in per.items()}


def _recommended(session: Session, scan_ids: list[int]) -> dict[int, str | None]:
    if not scan_ids:
        return {}
    return dict(
        session.execute(select(Scan.id, Scan.recommended).where(Scan.id.in_(scan_ids))).all()
    )
