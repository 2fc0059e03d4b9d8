"""Job rows as pages read them, and the cancel action. The lifecycle is app.jobs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs.lease import lost_reason
from app.jobs.lifecycle import create_job, request_cancel
from app.jobs.states import ACTIVE, TERMINAL, JobState
from app.models import Job
from app.schemas.jobs import JobRead
from app.services.errors import BadInput, NotFound

__all__ = ["cancel_job", "create_job", "get_job", "job_read", "list_jobs"]


def get_job(session: Session, *, job_id: int) -> JobRead:
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job_read(job)


def list_jobs(session: Session, *, project_id: int, limit: int = 10) -> list[JobRead]:
    rows = session.scalars(
        select(Job).where(Job.project_id == project_id).order_by(Job.id.desc()).limit(limit)
    )
    return [job_read(j) for j in rows]


def cancel_job(session: Session, *, job_id: int) -> JobRead:
    """Cancel a queued or running job; BadInput when it has already ended."""
    job = get_job(session, job_id=job_id)
    if job.status in TERMINAL:
        raise BadInput(f"job {job_id} has already ended ({job.status})")
    request_cancel(session, job_id=job_id)
    session.flush()
    return get_job(session, job_id=job_id)


def _utc(stamp: datetime | None) -> datetime | None:
    return stamp.replace(tzinfo=UTC) if stamp is not None and stamp.tzinfo is None else stamp


def job_read(job: Job) -> JobRead:
    now = datetime.now(UTC)
    started, finished, beat = _utc(job.started_at), _utc(job.finished_at), _utc(job.heartbeat_at)
    elapsed = ((finished or now) - started).total_seconds() if started else None
    percent = 100.0 * job.done / job.total if job.total else None
    active = job.status in ACTIVE
    eta = None
    if percent and elapsed and active and job.done:
        eta = elapsed * (job.total - job.done) / job.done
    extra = dict(job.progress_extra or {})
    if "eta_s" in extra and active:
        eta = extra["eta_s"]
    age = (now - beat).total_seconds() if beat and active else None
    lost = lost_reason(job.owner, started, age) if active else None
    return JobRead(
        id=job.id, kind=job.kind, queue=job.queue, project_id=job.project_id,
        status=job.status, phase=job.phase, done=job.done, total=job.total,
        percent=percent, progress_extra=extra, error=job.error, log=job.log,
        attempts=job.attempts, created_at=job.created_at, started_at=job.started_at,
        finished_at=job.finished_at, elapsed_s=elapsed, eta_s=eta, result=job.result,
        spec=job.spec or {}, owner=job.owner, heartbeat_age_s=age,
        worker_lost=lost is not None, worker_lost_reason=lost,
        cancellable=job.status in (JobState.QUEUED, JobState.RUNNING),
    )  # fmt: skip
