"""Job rows as pages read them, and the cancel action. The lifecycle is app.jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, extract, func, select
from sqlalchemy.orm import Session

from app.jobs.eta import phase_progress, time_left
from app.jobs.eta_window import TimeLeft, marks_of, steadied
from app.jobs.lease import lost_reason
from app.jobs.lifecycle import create_job, request_cancel
from app.jobs.states import ACTIVE, TERMINAL, JobState
from app.models import Job, Project
from app.pipelines import follow_job
from app.schemas.jobs import JobRead, JobSort, JobsPage, SortOrder
from app.services.errors import BadInput, NotFound
from app.services.job_context import job_context

__all__ = ["cancel_job", "create_job", "get_job", "job_read", "list_jobs"]


def get_job(session: Session, *, job_id: int) -> JobRead:
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return with_context(session, job)


def with_context(session: Session, job: Job) -> JobRead:
    """The job as read, with what it belongs to and works on (``job_context``)."""
    read = job_read(job)
    read.about, read.links = job_context(session, job)
    return read


def list_jobs(session: Session, *, project_id: int, limit: int = 10) -> list[JobRead]:
    rows = session.scalars(
        select(Job).where(Job.project_id == project_id).order_by(Job.id.desc()).limit(limit)
    )
    return [with_context(session, j) for j in rows]


JOBS_PER_PAGE = 50


def list_all_jobs(
    session: Session,
    *,
    visible: list[int] | None,
    status: str | None = None,
    kind: str | None = None,
    project_id: int | None = None,
    page: int = 1,
    sort: JobSort = "created",
    order: SortOrder = "desc",
) -> JobsPage:
    """Jobs of the projects in ``visible`` (None: every job), sorted by ``sort`` (newest
    first by default; ties newest first), 50 a page."""
    where = []
    if visible is not None:
        where.append(Job.project_id.in_(visible))
    if kind:
        where.append(Job.kind == kind)
    if project_id is not None:
        where.append(Job.project_id == project_id)
    counts = dict(
        session.execute(
            select(Job.status, func.count(Job.id)).where(*where).group_by(Job.status)
        ).all()
    )
    if status:
        where.append(Job.status == status)
    total = int(session.scalar(select(func.count(Job.id)).where(*where)) or 0)
    pages = max(1, -(-total // JOBS_PER_PAGE))
    page = min(max(page, 1), pages)
    query = select(Job).where(*where)
    if sort == "project":
        query = query.outerjoin(Project, Project.id == Job.project_id)
    key = _sort_key(sort, session.get_bind().dialect.name)
    rows = session.scalars(
        query.order_by((key.asc() if order == "asc" else key.desc()).nulls_last(), Job.id.desc())
        .offset((page - 1) * JOBS_PER_PAGE)
        .limit(JOBS_PER_PAGE)
    ).all()
    ids = {j.project_id for j in rows if j.project_id is not None}
    names = dict(session.execute(select(Project.id, Project.name).where(Project.id.in_(ids))).all())
    return JobsPage(
        items=[with_context(session, j) for j in rows],
        total=total,
        page=page,
        pages=pages,
        per_page=JOBS_PER_PAGE,
        status=status,
        kind=kind,
        project_id=project_id,
        project_names=names,
        counts=counts,
        sort=sort,
        order=order,
    )


def _sort_key(sort: JobSort, dialect: str) -> ColumnElement[Any]:
    """The column a jobs table sorts by; duration is start to end (to now while running)."""
    if sort == "kind":
        return Job.kind
    if sort == "status":
        return Job.status
    if sort == "project":
        return func.lower(Project.name)
    if sort == "duration":
        if dialect == "sqlite":
            end = func.coalesce(func.julianday(Job.finished_at), func.julianday("now"))
            return end - func.julianday(Job.started_at)
        ended = func.coalesce(Job.finished_at, func.now())
        return extract("epoch", ended - Job.started_at)
    return Job.id  # created: ids grow with creation time


def cancel_job(session: Session, *, job_id: int) -> JobRead:
    """Cancel a queued or running job; BadInput when it has already ended."""
    job = get_job(session, job_id=job_id)
    if job.status in TERMINAL:
        raise BadInput(f"job {job_id} has already ended ({job.status})")
    if request_cancel(session, job_id=job_id) == JobState.CANCELLED:  # it had not started
        follow_job(session, job_id, JobState.CANCELLED)  # app.pipelines: what follows
    session.flush()
    return get_job(session, job_id=job_id)


def _utc(stamp: datetime | None) -> datetime | None:
    return stamp.replace(tzinfo=UTC) if stamp is not None and stamp.tzinfo is None else stamp


def _time_left(job: Job, extra: dict, now: datetime, elapsed: float | None) -> TimeLeft | None:
    """From the job's own rate in its current phase once it has one (app.jobs.eta), steadied
    over the recent reports' estimates, with their range (app.jobs.eta_window)."""
    started = extra.get("phase_started")
    phase_elapsed = now.timestamp() - float(started) if started else elapsed
    left = time_left(phase_progress(job.done, job.total, extra, phase_elapsed))
    return steadied(marks_of(extra), now.timestamp(), left)


def job_read(job: Job) -> JobRead:
    now = datetime.now(UTC)
    started, finished, beat = _utc(job.started_at), _utc(job.finished_at), _utc(job.heartbeat_at)
    elapsed = ((finished or now) - started).total_seconds() if started else None
    percent = 100.0 * job.done / job.total if job.total else None
    active = job.status in ACTIVE
    extra = dict(job.progress_extra or {})
    eta = _time_left(job, extra, now, elapsed) if active and job.status == "running" else None
    age = (now - beat).total_seconds() if beat and active else None
    lost = lost_reason(job.owner, started, age) if active else None
    return JobRead(
        id=job.id,
        kind=job.kind,
        queue=job.queue,
        project_id=job.project_id,
        status=job.status,
        phase=job.phase,
        done=job.done,
        total=job.total,
        percent=percent,
        progress_extra=extra,
        error=job.error,
        log=job.log,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        elapsed_s=elapsed,
        eta_s=eta.seconds if eta else None,
        eta_low_s=eta.low if eta else None,
        eta_high_s=eta.high if eta else None,
        result=job.result,
        sent_at=job.sent_at,
        waiting_for_queue=job.status == JobState.QUEUED and job.sent_at is None,
        spec=job.spec or {},
        owner=job.owner,
        heartbeat_age_s=age,
        worker_lost=lost is not None,
        worker_lost_reason=lost,
        cancellable=job.status in (JobState.QUEUED, JobState.RUNNING),
    )
