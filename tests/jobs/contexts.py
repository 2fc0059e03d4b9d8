"""Run a handler in the test process as a worker would: claim the row, typed spec, lease."""

from __future__ import annotations

from app.db import session_scope
from app.jobs import lifecycle
from app.jobs.kinds import get_kind
from app.models import Job
from workers.jobs.context import JobContext


def claimed_context(job_id: int, owner: str = "test-worker") -> JobContext:
    with session_scope() as session:
        lease = lifecycle.claim(session, job_id=job_id, owner=owner)
        assert lease is not None, f"job {job_id} is not queued"
        job = session.get(Job, job_id)
        assert job is not None
        return JobContext(
            lease=lease, project_id=job.project_id, spec=get_kind(job.kind).parse(job.spec)
        )
