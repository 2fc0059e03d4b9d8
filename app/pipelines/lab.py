"""Steps after a lab sample (``app.pipelines``): its recipes become strategies of the
project (with their provenance) and one scan of them starts; the job's result says which
strategies and which scan, or why no scan started. A full set's answers join the pick's
strategy; no scan follows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.lab.promote import promote_and_scan
from app.models import Job


def promote(session: Session, job: Job) -> None:
    if job.project_id is None or "promoted" in (job.result or {}):
        return  # promoted once: a second call would start a second scan
    spec = job.spec or {}
    versions = list(spec.get("recipe_version_ids") or [])
    scan = spec.get("purpose", "sample") == "sample"  # a full set joins its strategy only
    promoted = promote_and_scan(session, project_id=job.project_id, version_ids=versions, scan=scan)
    job.result = {**(job.result or {}), "promoted": promoted}
