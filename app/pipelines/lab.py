"""Steps after a lab sample (``app.pipelines``): its recipes become strategies of the
project (with their provenance) and one scan of them starts; the job's result says which
strategies and which scan, or why no scan started."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.lab.promote import promote_and_scan
from app.models import Job


def promote(session: Session, job: Job) -> None:
    if job.project_id is None or "promoted" in (job.result or {}):
        return  # promoted once: a second call would start a second scan
    versions = list((job.spec or {}).get("recipe_version_ids") or [])
    promoted = promote_and_scan(session, project_id=job.project_id, version_ids=versions)
    job.result = {**(job.result or {}), "promoted": promoted}
