"""Steps of the demo project (``app.pipelines``): after its first scan, its lab run."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.models import Job

log = logging.getLogger(__name__)


def lab_sample(session: Session, job: Job) -> None:
    """The demo's strategy lab sample (the target as teacher), once, after a scan. It runs
    in the transaction that ends the scan's job: a lab run that cannot start is logged and
    its rows rolled back to a savepoint, and the scan still ends as it did."""
    from app.lab.demo import start_demo_lab

    try:
        with session.begin_nested():
            start_demo_lab(session, project_id=job.project_id or 0)
    except Exception:  # noqa: BLE001 - the demo's extra must never fail the scan's end
        log.exception("the demo's lab run did not start (project %s)", job.project_id)
