"""Steps of the demo project (``app.pipelines``): after its first scan, its lab run."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Job


def lab_sample(session: Session, job: Job) -> None:
    """The demo's strategy lab sample (the target as teacher), once, after a scan."""
    from app.lab.demo import start_demo_lab

    start_demo_lab(session, project_id=job.project_id or 0)
