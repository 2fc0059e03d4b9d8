"""Thin tasks: claim the Job row, call the handler for its kind, save, finish."""

from __future__ import annotations

import logging
import traceback

from app.db import session_scope
from app.queue import RUN_JOB_TASK
from app.services import jobs as job_svc
from workers.celery_app import celery
from workers.jobs import JobContext, JobFailure, get_handler
from workers.modeling.threads import configure_torch_threads

log = logging.getLogger(__name__)


@celery.task(name=RUN_JOB_TASK)
def run_job(job_id: int) -> None:
    with session_scope() as session:
        if not job_svc.claim_job(session, job_id=job_id):
            log.info("job %s already claimed or finished; skipping", job_id)
            return
        job = job_svc.get_job(session, job_id=job_id)
    execute(job_id, job.kind, job.spec, job.project_id)


def execute(job_id: int, kind: str, spec: dict, project_id: int | None) -> None:
    """Run a claimed job to its end; every failure is recorded on the row."""
    ctx = JobContext(job_id=job_id, project_id=project_id, spec=spec)
    try:
        configure_torch_threads()
        handler = get_handler(kind)
        with ctx.heartbeat():
            result = handler(ctx)
    except JobFailure as exc:
        _fail(job_id, str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - every failure must reach the job row
        _fail(job_id, f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=8)}")
        return
    with session_scope() as session:
        job_svc.finish_job(session, job_id=job_id, result=result)


def _fail(job_id: int, message: str) -> None:
    with session_scope() as session:
        job_svc.fail_job(session, job_id=job_id, error=message)
