"""Validation and run states, their transitions, and the fenced move between them.

Like ``app.jobs.states`` for jobs: a validation is ``running`` until every run has trained
(or was stopped by successive halving) and every evaluation it asked for has finished
(``done``); a job of it that fails or is cancelled on its own ends it ``failed`` (written,
with the reason); the user's cancel ends it ``cancelled``. A run trains (``training``),
waits for its halving round to end (``waiting``), and ends ``trained``, ``stopped``,
``failed`` or ``cancelled``. Every move is an ``UPDATE ... WHERE status IN (sources)``, so
two writers racing cannot both move the same row.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.jobs.lifecycle import now
from app.models import Validation, ValidationRun


class ValidationState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RunState(StrEnum):
    TRAINING = "training"
    WAITING = "waiting"
    STOPPED = "stopped"
    TRAINED = "trained"
    FAILED = "failed"
    CANCELLED = "cancelled"


VALIDATION_MOVES: dict[ValidationState, frozenset[ValidationState]] = {
    ValidationState.RUNNING: frozenset(
        {ValidationState.DONE, ValidationState.FAILED, ValidationState.CANCELLED}
    ),
    ValidationState.DONE: frozenset(),
    ValidationState.FAILED: frozenset(),
    ValidationState.CANCELLED: frozenset(),
}
RUN_MOVES: dict[RunState, frozenset[RunState]] = {
    RunState.TRAINING: frozenset(
        {RunState.WAITING, RunState.TRAINED, RunState.FAILED, RunState.CANCELLED}
    ),
    RunState.WAITING: frozenset({RunState.TRAINING, RunState.STOPPED, RunState.CANCELLED}),
    RunState.STOPPED: frozenset(),
    RunState.TRAINED: frozenset(),
    RunState.FAILED: frozenset({RunState.TRAINING}),  # retried
    RunState.CANCELLED: frozenset({RunState.TRAINED}),  # a save that raced the cancel
}
UNFINISHED_RUNS = frozenset({RunState.TRAINING, RunState.WAITING})


def _sources(moves: dict, target: StrEnum) -> list[str]:  # type: ignore[type-arg]
    return [s.value for s, targets in moves.items() if target in targets]


def move_validation(
    session: Session, validation: Validation, to: ValidationState, **values: object
) -> bool:
    """Fenced: True when this call moved it (False: another writer did, or it had ended)."""
    if to in (ValidationState.DONE, ValidationState.FAILED, ValidationState.CANCELLED):
        values.setdefault("finished_at", now())
    res = session.execute(
        update(Validation)
        .where(
            Validation.id == validation.id,
            Validation.status.in_(_sources(VALIDATION_MOVES, to)),
        )
        .values(status=to.value, **values)
        .execution_options(synchronize_session="fetch")
    )
    return res.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def move_run(session: Session, run: ValidationRun, to: RunState, **values: object) -> bool:
    """Fenced like ``move_validation``; a run already in ``to`` stays (True)."""
    if run.status == to.value and not values:
        return True
    allowed = _sources(RUN_MOVES, to) + ([to.value] if run.status == to.value else [])
    res = session.execute(
        update(ValidationRun)
        .where(ValidationRun.id == run.id, ValidationRun.status.in_(allowed))
        .values(status=to.value, **values)
        .execution_options(synchronize_session="fetch")
    )
    return res.rowcount == 1  # type: ignore[attr-defined,no-any-return]
