"""Thin tasks: claim the Job row, call the handler for its kind, end the job (fenced)."""

from __future__ import annotations

import logging
import traceback

from app.db import session_scope
from app.jobs import lifecycle
from app.jobs.kinds import UnknownJobKindError, get_kind
from app.jobs.lease import Lease, this_worker
from app.jobs.lifecycle import LeaseLost
from app.jobs.states import JobState
from app.models import Job
from app.pipelines import follow_job
from app.queue import RUN_JOB_TASK
from workers.backends import backends_closed_after
from workers.celery_app import celery
from workers.jobs import JobCancelled, JobContext, JobFailure, get_handler
from workers.modeling.memory import reusing_freed_memory
from workers.modeling.threads import configure_torch_threads

log = logging.getLogger(__name__)


@celery.task(name=RUN_JOB_TASK)
def run_job(job_id: int) -> None:
    with session_scope() as session:
        lease = lifecycle.claim(session, job_id=job_id, owner=this_worker())
        if lease is None:
            log.info("job %s already claimed or ended; skipping", job_id)
            return
        job = session.get(Job, job_id)
        assert job is not None
        kind, spec, project_id = job.kind, dict(job.spec or {}), job.project_id
    execute(lease, kind, spec, project_id)


def execute(lease: Lease, kind: str, spec: dict, project_id: int | None) -> None:
    """Run a claimed job to its end; every outcome is recorded on the row, fenced."""
    try:
        typed = get_kind(kind).parse(spec)
    except (UnknownJobKindError, ValueError) as exc:
        _end(lease, JobState.FAILED, error=str(exc))
        return
    ctx = JobContext(lease=lease, project_id=project_id, spec=typed)
    try:
        configure_torch_threads()
        handler = get_handler(kind)
        with ctx.heartbeat(), reusing_freed_memory(), backends_closed_after():
            result = handler(ctx)
    except LeaseLost as exc:
        log.warning("job %s: %s; stopping without writing", lease.job_id, exc)
        return
    except JobCancelled as exc:
        _end(lease, JobState.CANCELLED, error=_cancel_note(ctx, exc))
        return
    except JobFailure as exc:
        _end(lease, JobState.FAILED, error=str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - every failure must reach the job row
        _end(
            lease,
            JobState.FAILED,
            error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=8)}",
        )
        return
    if not ctx.saved:
        _end(lease, JobState.SUCCEEDED, result=result)


def _cancel_note(ctx: JobContext, exc: JobCancelled) -> str:
    where = f" at {ctx.done}/{ctx.total}" if ctx.total else ""
    return (
        f"{exc}{where}. Work finished before the cancel is kept (scores and answers "
        "in the cache), so running it again continues from there."
    )


def _end(lease: Lease, state: JobState, **values: object) -> None:
    """End the job (fenced) and, in the same transaction, what its pipeline does next."""
    with session_scope() as session:
        if not lifecycle.end(session, lease, state, commit=False, **values):  # type: ignore[arg-type]
            log.warning("job %s: no longer this worker's; %s not recorded", lease.job_id, state)
            return
        follow_job(session, lease.job_id, state)
