"""Enqueueing tied to the commit: a job id reaches its queue only once its row is committed.

``enqueue_after_commit(session, job)`` remembers the job on the session; the
``after_commit`` hook sends it, ``after_rollback`` forgets it. A send that fails (broker
away) leaves the row queued: workers send queued jobs again when they start and from their
watchdog.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models import Job

log = logging.getLogger(__name__)
PENDING = "familiar.enqueue"


def enqueue_after_commit(session: Session, job: Job) -> None:
    session.info.setdefault(PENDING, []).append((job.id, job.queue))


def send_now(job_id: int, queue: str) -> bool:
    """Put a committed job's id on its queue; False (logged) when the broker refused."""
    from app.queue import send_job

    try:
        send_job(job_id, queue)
    except Exception:  # noqa: BLE001 - the row stays queued and is sent again later
        log.exception("could not send job %s to queue %s; it stays queued", job_id, queue)
        return False
    return True


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for job_id, queue in session.info.pop(PENDING, []):
        send_now(job_id, queue)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)
