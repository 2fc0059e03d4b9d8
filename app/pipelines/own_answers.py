"""Steps after the target answered a project's questions (``app.pipelines``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job
from app.models import Job


def analyze(session: Session, job: Job) -> None:
    """Token counts and answer checks of the new own-answers strategy (sent after commit)."""
    create_job(session, kind="analyze", project_id=job.project_id)


def first_scan(session: Session, job: Job) -> None:
    """The demo project's first scan (nothing for another project, or one with a scan)."""
    from app.services.demo import start_demo_scan

    start_demo_scan(session, project_id=job.project_id or 0)
