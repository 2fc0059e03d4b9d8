"""Job rows: create, read, claim, report progress, finish. The row is the truth."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Job
from app.queue import send_job
from app.schemas.jobs import JobRead
from app.services.errors import NotFound

GPU_KINDS = {"scan", "generate_own_answers", "token_surprise", "llm_judge"}
LOG_LIMIT = 20000


def create_job(
    session: Session, *, kind: str, project_id: int | None, spec: dict[str, Any] | None = None
) -> Job:
    """Add a queued job row (the caller commits, then calls `enqueue`)."""
    job = Job(
        kind=kind,
        queue="gpu" if kind in GPU_KINDS else "cpu",
        project_id=project_id,
        spec=spec or {},
        status="queued",
    )
    session.add(job)
    session.flush()
    return job


def enqueue(job: Job) -> None:
    """Send the job id to its queue; only after the row is committed."""
    send_job(job.id, job.queue)


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


def job_read(job: Job) -> JobRead:
    now = datetime.now(UTC)
    elapsed = None
    if job.started_at:
        elapsed = ((job.finished_at or now) - job.started_at).total_seconds()
    percent = 100.0 * job.done / job.total if job.total else None
    eta = None
    if percent and elapsed and job.status == "running" and job.done:
        eta = elapsed * (job.total - job.done) / job.done
    extra = dict(job.progress_extra or {})
    if "eta_s" in extra and job.status == "running":
        eta = extra["eta_s"]
    return JobRead(
        id=job.id, kind=job.kind, queue=job.queue, project_id=job.project_id,
        status=job.status, phase=job.phase, done=job.done, total=job.total,
        percent=percent, progress_extra=extra, error=job.error, log=job.log,
        attempts=job.attempts, created_at=job.created_at, started_at=job.started_at,
        finished_at=job.finished_at, elapsed_s=elapsed, eta_s=eta, result=job.result,
        spec=job.spec or {},
    )  # fmt: skip


def claim_job(session: Session, *, job_id: int) -> bool:
    """Atomically move a queued job to running; False if another worker has it or it ended."""
    now = datetime.now(UTC)
    res = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", started_at=now, heartbeat_at=now, attempts=Job.attempts + 1)
    )
    session.commit()
    return res.rowcount == 1


def report_progress(
    session: Session, *, job_id: int, phase: str, done: int, total: int,
    extra: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            phase=phase[:80], done=done, total=total, progress_extra=extra or {},
            heartbeat_at=datetime.now(UTC),
        )
    )  # fmt: skip
    session.commit()


def touch_job(session: Session, *, job_id: int) -> None:
    """The worker is alive: only the heartbeat moves."""
    session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=datetime.now(UTC)))
    session.commit()


def append_log(session: Session, *, job_id: int, line: str) -> None:
    job = session.get(Job, job_id)
    if job is None:
        return
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    job.log = ((job.log or "") + f"[{stamp}] {line}\n")[-LOG_LIMIT:]
    session.commit()


def finish_job(session: Session, *, job_id: int, result: dict[str, Any] | None = None) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status="succeeded", result=result, finished_at=datetime.now(UTC))
    )
    session.commit()


def fail_job(session: Session, *, job_id: int, error: str) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status="failed", error=error[:LOG_LIMIT], finished_at=datetime.now(UTC))
    )
    session.commit()


def requeue_stale(session: Session, *, stale_after_s: float = 120.0) -> list[Job]:
    """Jobs whose worker died mid-way (no heartbeat) go back to queued, to resume.

    Also returns long-queued jobs, whose message may have been lost with the broker; sending
    them again is safe because a worker claims the row before doing anything.
    """
    requeue_dead(session, stale_after_s=stale_after_s)
    waiting = session.scalars(select(Job).where(Job.status == "queued")).all()
    session.commit()
    return list(waiting)


def requeue_dead(session: Session, *, stale_after_s: float = 120.0) -> list[Job]:
    """Running jobs with no heartbeat for ``stale_after_s`` go back to queued; returns them.

    ``stale_after_s=0`` treats every running job as dead: right for the embedded default on
    start, where the only workers that could be running them were just stopped.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=stale_after_s)
    query = select(Job).where(Job.status == "running")
    if stale_after_s > 0:
        query = query.where(Job.heartbeat_at < cutoff)
    dead = list(session.scalars(query).all())
    for job in dead:
        job.status = "queued"
        job.log = (job.log or "") + "worker lost; resuming\n"
    session.commit()
    return dead


def resend_dead(session: Session, *, stale_after_s: float = 120.0) -> int:
    """Requeue and send again the jobs whose worker died while the others kept running."""
    return _send(requeue_dead(session, stale_after_s=stale_after_s))


def resend_waiting(session: Session, *, stale_after_s: float = 120.0) -> int:
    """On worker start: requeue dead jobs and send every queued one again."""
    return _send(requeue_stale(session, stale_after_s=stale_after_s))


def _send(jobs: list[Job]) -> int:
    for job in jobs:
        with contextlib.suppress(Exception):  # still queued: resent when a worker starts
            enqueue(job)
    return len(jobs)
