"""The fenced lifecycle of a Job row: create, claim, renew, report, end, cancel, requeue.

Every write of a worker is fenced on the row's status and attempt number
(``UPDATE jobs ... WHERE id = :id AND attempts = :n AND status IN (...)``), so a worker
that lost its lease (its job was requeued and claimed again) changes nothing, and a late
failure cannot overwrite a success. Functions here never commit except where a worker
needs its write visible at once (claim, heartbeat, progress, end); the caller's unit of
work commits everything else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.jobs.enqueue import enqueue_after_commit, send_now, send_unsent, session_engine
from app.jobs.kinds import get_kind
from app.jobs.lease import Lease, holder_is_gone
from app.jobs.states import ACTIVE, JobState
from app.models import Job

LOG_LIMIT = 20_000
_ACTIVE = [s.value for s in ACTIVE]


class LeaseLost(RuntimeError):
    """This worker no longer owns the job (it was requeued and claimed again, or ended)."""


def now() -> datetime:
    return datetime.now(UTC)


def create_job(
    session: Session,
    *,
    kind: str,
    project_id: int | None,
    spec: dict[str, Any] | BaseModel | None = None,
    queue: str | None = None,
) -> Job:
    """Add a queued job (spec checked against its kind); it is sent when the caller commits.
    ``queue`` picks another queue the kind allows (``JobKind.also_on``)."""
    job_kind = get_kind(kind)
    job = Job(
        kind=kind,
        queue=job_kind.queue_for(queue),
        project_id=project_id,
        spec=job_kind.validate(spec),
        status=JobState.QUEUED.value,
    )
    session.add(job)
    session.flush()
    enqueue_after_commit(session, job)
    return job


def claim(session: Session, *, job_id: int, owner: str) -> Lease | None:
    """Atomically move a queued job to running for ``owner``; None if it is not queued."""
    stamp = now()
    res = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobState.QUEUED.value)
        .values(
            status=JobState.RUNNING.value,
            started_at=stamp,
            heartbeat_at=stamp,
            attempts=Job.attempts + 1,
            owner=owner,
        )
    )
    session.commit()
    if res.rowcount != 1:
        return None
    attempt = session.scalar(select(Job.attempts).where(Job.id == job_id))
    return Lease(job_id=job_id, attempt=int(attempt or 0), owner=owner)


def _fenced(lease: Lease, states: list[str] = _ACTIVE):  # type: ignore[no-untyped-def]
    return update(Job).where(
        Job.id == lease.job_id, Job.attempts == lease.attempt, Job.status.in_(states)
    )


def renew(session: Session, lease: Lease, **values: Any) -> str:
    """Renew the lease (and write ``values``); the job's status, ``running`` or
    ``cancelling``. Raises LeaseLost when the row is no longer this attempt's."""
    res = session.execute(_fenced(lease).values(heartbeat_at=now(), **values))
    status = session.scalar(select(Job.status).where(Job.id == lease.job_id))
    session.commit()
    if res.rowcount != 1:
        raise LeaseLost(f"job {lease.job_id} attempt {lease.attempt} no longer holds its lease")
    return str(status)


def report_progress(
    session: Session,
    lease: Lease,
    *,
    phase: str,
    done: int,
    total: int,
    extra: dict[str, Any] | None = None,
) -> str:
    """Progress and a renewed lease in one write; returns the status (see ``renew``)."""
    return renew(
        session, lease, phase=phase[:80], done=done, total=total, progress_extra=extra or {}
    )


def end(
    session: Session,
    lease: Lease,
    state: JobState,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    commit: bool = True,
) -> bool:
    """Move this attempt's job to a terminal ``state``; False (nothing written) when the
    lease is gone. With ``commit=False`` the caller's transaction saves results beside it."""
    values: dict[str, Any] = {"status": state.value, "finished_at": now()}
    if result is not None:
        values["result"] = result
    if error is not None:
        values["error"] = error[:LOG_LIMIT]
    res = session.execute(_fenced(lease).values(**values))
    if commit:
        session.commit()
    return res.rowcount == 1


def append_log(session: Session, *, job_id: int, line: str) -> None:
    job = session.get(Job, job_id)
    if job is None:
        return
    stamp = now().strftime("%H:%M:%S")
    job.log = ((job.log or "") + f"[{stamp}] {line}\n")[-LOG_LIMIT:]


def request_cancel(session: Session, *, job_id: int) -> str:
    """Cancel a job: a queued one ends at once, a running one is asked to stop (it stops
    at its next progress report or heartbeat). Returns the new status; the caller commits."""
    res = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobState.QUEUED.value)
        .values(
            status=JobState.CANCELLED.value, finished_at=now(), error="cancelled before it started"
        )
    )
    if res.rowcount == 1:
        return JobState.CANCELLED.value
    res = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobState.RUNNING.value)
        .values(status=JobState.CANCELLING.value)
    )
    status = session.scalar(select(Job.status).where(Job.id == job_id))
    return str(status) if status is not None else ""


def requeue_expired(session: Session, *, stale_after_s: float) -> list[Job]:
    """Running jobs whose lease ended go back to queued (a cancelling one ends cancelled);
    returns the requeued ones. The attempt number stays, so the old holder is fenced out."""
    cutoff = now() - timedelta(seconds=stale_after_s)
    rows = session.scalars(select(Job).where(Job.status.in_(_ACTIVE))).all()
    requeued = []
    for job in rows:
        beat = _aware(job.heartbeat_at)
        if not (
            (beat is not None and beat < cutoff)
            or holder_is_gone(job.owner, _aware(job.started_at))
        ):
            continue
        cancel = job.status == JobState.CANCELLING.value
        target = JobState.CANCELLED if cancel else JobState.QUEUED
        res = session.execute(
            update(Job)
            .where(Job.id == job.id, Job.attempts == job.attempts, Job.status == job.status)
            .values(
                status=target.value, owner=None, sent_at=None, finished_at=now() if cancel else None
            )
        )
        if res.rowcount == 1:
            append_log(
                session,
                job_id=job.id,
                line="worker lost; " + ("cancelled" if cancel else "resuming"),
            )
            if cancel:
                from app.pipelines import follow_job  # it imports the job lifecycle

                follow_job(session, job.id, JobState.CANCELLED)
            else:
                requeued.append(job)
    session.commit()
    return requeued


def _aware(stamp: datetime | None) -> datetime | None:
    if stamp is not None and stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC)
    return stamp


def resend_waiting(session: Session, *, stale_after_s: float) -> int:
    """On worker start: requeue dead jobs, then send every queued one again (a worker claims
    the row before doing anything, so a duplicate message is a no-op)."""
    requeue_expired(session, stale_after_s=stale_after_s)
    waiting = session.execute(
        select(Job.id, Job.queue).where(Job.status == JobState.QUEUED.value)
    ).all()
    session.commit()  # nothing held while the broker is called
    bind = session_engine(session)
    return sum(send_now(job_id, queue, bind=bind) for job_id, queue in waiting)


def resend_dead(session: Session, *, stale_after_s: float) -> int:
    """From the watchdog: requeue and send the jobs whose worker died, then every queued
    job that never reached the broker (it was away when they were created)."""
    bind = session_engine(session)
    requeued = requeue_expired(session, stale_after_s=stale_after_s)
    return sum(send_now(j.id, j.queue, bind=bind) for j in requeued) + send_unsent(bind)
