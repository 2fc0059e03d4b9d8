"""Enqueueing tied to the commit: a job id reaches its queue only once its row is committed.

``enqueue_after_commit(session, job)`` remembers the job on the session; the
``after_commit`` hook sends it, ``after_rollback`` forgets it.

A job records when its id reached the broker (``jobs.sent_at``); null means not yet. A send
that fails (the broker is away) leaves the row queued with ``sent_at`` null, and its page
says "waiting for the queue". ``send_unsent`` sends such jobs once the broker answers again:
every worker at its start and from its watchdog (a sweep every 30 s at most), and a web
process at its next successful send and at each ``/healthz``. Sending twice is harmless: a
worker claims the row before doing anything (``lifecycle.claim``), so a second message
finds it claimed or ended and is skipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from app.dbhealth import DATABASE_DOWN
from app.jobs.states import JobState
from app.models import Job

log = logging.getLogger(__name__)
PENDING = "familiar.enqueue"
SEND_GRACE_S = 2.0  # a sweep leaves younger jobs to the send after their own commit
SWEEP_LIMIT = 500


def enqueue_after_commit(session: Session, job: Job) -> None:
    session.info.setdefault(PENDING, []).append((job.id, job.queue))


def send_now(job_id: int, queue: str, *, bind: Engine) -> bool:
    """Put a committed job's id on its queue and record that it was sent; False (logged)
    when the broker refused, and the row stays queued and unsent."""
    from app.queue import send_job

    try:
        send_job(job_id, queue)
    except Exception:  # noqa: BLE001 - the row stays queued; a sweep sends it later
        log.warning(
            "could not send job %s to queue %s; it waits for the queue",
            job_id,
            queue,
            exc_info=True,
        )
        return False
    _mark_sent(bind, job_id)
    return True


def _mark_sent(bind: Engine, job_id: int) -> None:
    """In a transaction of its own (the hook runs after the caller's commit). When the
    database refuses, the job is sent again by a sweep: harmless."""
    try:
        with bind.begin() as conn:
            conn.execute(
                update(Job)
                .where(Job.id == job_id, Job.sent_at.is_(None))
                .values(sent_at=datetime.now(UTC))
            )
    except DATABASE_DOWN:
        log.warning("job %s was sent but could not be marked sent; it may be sent again", job_id)


def send_unsent(bind: Engine) -> int:
    """Send the queued jobs that never reached the broker (older than SEND_GRACE_S, oldest
    first); stops at the first refusal. Returns how many were sent."""
    cutoff = datetime.now(UTC) - timedelta(seconds=SEND_GRACE_S)
    with bind.connect() as conn:
        rows = conn.execute(
            select(Job.id, Job.queue)
            .where(
                Job.status == JobState.QUEUED.value, Job.sent_at.is_(None), Job.created_at <= cutoff
            )
            .order_by(Job.id)
            .limit(SWEEP_LIMIT)
        ).all()
    sent = 0
    for job_id, queue in rows:
        if not send_now(job_id, queue, bind=bind):
            break
        sent += 1
    if sent:
        log.info("sent %d job(s) that had waited for the queue", sent)
    return sent


def session_engine(session: Session) -> Engine:
    """The engine a session works on (its own transactions go through it)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(PENDING, [])
    if not pending:
        return
    bind = session_engine(session)
    if all([send_now(job_id, queue, bind=bind) for job_id, queue in pending]):
        _send_waiting(bind)  # the broker answers: jobs it missed earlier go now


def _send_waiting(bind: Engine) -> None:
    try:
        send_unsent(bind)
    except DATABASE_DOWN:
        log.warning("could not look for jobs that wait for the queue", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)
