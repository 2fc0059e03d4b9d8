"""What each project's latest finished scan recommends, for listings and the project page.

Read from the columns the scan's save copies out of its report (migration 0017), so a
listing never parses reports (a 14 x 1000 scan's report is about a megabyte).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Scan
from app.schemas.projects import Outcome


def latest_outcomes(session: Session, project_ids: list[int] | None = None) -> dict[int, Outcome]:
    """Project id -> the recommendation of its newest scan that has a report."""
    latest = select(Scan.project_id, func.max(Scan.id).label("scan_id")).where(
        Scan.report.is_not(None), Scan.finished_at.is_not(None)
    )
    if project_ids is not None:
        latest = latest.where(Scan.project_id.in_(project_ids))
    newest = latest.group_by(Scan.project_id).subquery()
    rows = session.execute(
        select(Scan.project_id, Scan.id, Scan.primary_metric, Scan.recommended, Scan.evidence).join(
            newest, newest.c.scan_id == Scan.id
        )
    ).all()
    return {
        pid: Outcome(scan_id=sid, metric=metric, recommended=top, evidence=evidence)
        for pid, sid, metric, top, evidence in rows
    }
