"""A scan's status is its job's: one truth. A scan whose job row is gone reads
``succeeded`` when its results are stored, else ``failed``."""

from __future__ import annotations

from app.models import Job, Scan


def scan_status(scan: Scan, job: Job | None) -> str:
    if job is not None:
        return job.status
    return "succeeded" if scan.finished_at is not None else "failed"


def has_results(scan: Scan) -> bool:
    return scan.finished_at is not None
