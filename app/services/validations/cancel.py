"""Cancel a whole validation: every training and evaluation job it still waits for.

Queued jobs end at once; running ones stop at their next progress report, keeping every
complete checkpoint (``workers.training``). What already finished stays: trained adapters,
finished evaluations and the accuracies they wrote. The validation ends ``cancelled``, and
the writers in ``record`` start no further job for it (no next halving round, no
evaluation of a run whose save raced the cancel).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import request_cancel
from app.jobs.states import TERMINAL
from app.models import Evaluation, Job, Validation, ValidationRun
from app.services.errors import BadInput
from app.services.validations.page import get_validation_row
from app.services.validations.record import lock_validation
from app.services.validations.states import (
    UNFINISHED_RUNS,
    RunState,
    ValidationState,
    move_run,
    move_validation,
)


def cancel_validation(session: Session, *, project_id: int, validation_id: int) -> Validation:
    """Cancel every unfinished job of the validation; BadInput when it has already ended."""
    get_validation_row(session, project_id=project_id, validation_id=validation_id)
    validation = lock_validation(session, validation_id)
    if validation.status != ValidationState.RUNNING:
        raise BadInput(f"validation {validation_id} has already ended ({validation.status})")
    runs = session.scalars(
        select(ValidationRun).where(ValidationRun.validation_id == validation_id)
    ).all()
    evals = session.scalars(
        select(Evaluation).where(Evaluation.validation_id == validation_id)
    ).all()
    job_ids = [r.job_id for r in runs if r.job_id] + [e.job_id for e in evals if e.job_id]
    terminal = {state.value for state in TERMINAL}
    cancelled = 0
    for job in session.scalars(select(Job).where(Job.id.in_(job_ids))).all():
        if job.status not in terminal:
            request_cancel(session, job_id=job.id)
            cancelled += 1
    for run in runs:
        if run.status in UNFINISHED_RUNS:
            why = f"cancelled with the validation after step {run.steps}"
            move_run(session, run, RunState.CANCELLED, stopped_reason=why)
    move_validation(session, validation, ValidationState.CANCELLED, cancelled_jobs=cancelled)
    session.flush()
    session.refresh(validation)
    return validation
