"""Deleting a project, a strategy or a scan: its rows, its scores and its jobs, nothing else.

- A project: everything that belongs to it (strategies, questions, responses, own answers,
  scans and their values, accuracies, share links, jobs), by the database's cascades.
- A strategy: its responses and accuracies, and every scan that scored it (their values and
  jobs), because those stored reports would no longer add up without it.
- A scan: its values, its share links, its scan job and its per-token surprise jobs.

The score and text caches are left alone: they are keyed by content, shared by every scan of
the same model, and hold nothing that names a project. A running scan (or a project or
strategy with one) is not deleted: a worker holds it. A queued one is: its worker finds no
row to claim and does nothing.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import Accuracy, Job, OwnAnswer, Question, Response, Scan, ScanValue, Strategy
from app.schemas.manage import DeletionPreview, Kind
from app.services.errors import Conflict, NotFound
from app.services.projects import get_project_row

ACTIVE = (
    "running",
    "cancelling",
)  # a queued job whose row is gone is skipped by the worker's claim
KEEPS = "The score and text caches stay: they are shared by content, not owned by any project."


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def scans_of_strategy(session: Session, project_id: int, strategy_id: int) -> list[Scan]:
    scans = session.scalars(select(Scan).where(Scan.project_id == project_id)).all()
    return [s for s in scans if strategy_id in (s.spec.get("strategy_ids") or [])]


def _scan_jobs(session: Session, scan: Scan) -> list[int]:
    """The scan's job and the jobs that worked for it (per-token surprise)."""
    jobs = session.execute(select(Job.id, Job.spec).where(Job.project_id == scan.project_id))
    ids = {jid for jid, spec in jobs if (spec or {}).get("scan_id") == scan.id}
    return sorted(ids | ({scan.job_id} if scan.job_id else set()))


def _blocked(session: Session, scans: list[Scan]) -> str | None:
    job_ids = [s.job_id for s in scans if s.job_id]
    running = set(
        session.scalars(select(Job.id).where(Job.id.in_(job_ids), Job.status.in_(ACTIVE)))
    )
    busy = [s.id for s in scans if s.job_id in running]
    if not busy:
        return None
    return f"scan {', '.join(map(str, busy))} is still running; wait for it to end"


def preview_deletion(
    session: Session, *, kind: Kind, project_id: int, item_id: int
) -> DeletionPreview:
    """What deleting the project, strategy or scan removes, and whether it may go now."""
    project = get_project_row(session, project_id=project_id)
    base = f"/projects/{project_id}"
    preview = {"project": _project_preview, "strategy": _strategy_preview}.get(kind, _scan_preview)
    name, removes, scans, blocked, url = preview(session, project_id, item_id)
    url = base + url
    return DeletionPreview(
        kind=kind,
        id=project_id if kind == "project" else item_id,
        project_id=project_id,
        project_name=project.name,
        name=project.name if kind == "project" else name,
        removes=removes,
        scans=scans,
        blocked=blocked,
        keeps=KEEPS,
        back_url=url,
        delete_url=f"{url}/delete",
    )


Preview = tuple[str, dict[str, int], list[int], str | None, str]  # name, removes, scans...


def _project_preview(session: Session, project_id: int, _item_id: int) -> Preview:
    scans = list(session.scalars(select(Scan).where(Scan.project_id == project_id)))
    strategy_ids = select(Strategy.id).where(Strategy.project_id == project_id)
    question_ids = select(Question.id).where(Question.project_id == project_id)
    removes = {
        "strategies": _count(session, Strategy, Strategy.project_id == project_id),
        "questions": _count(session, Question, Question.project_id == project_id),
        "responses": _count(session, Response, Response.strategy_id.in_(strategy_ids)),
        "own answers": _count(session, OwnAnswer, OwnAnswer.question_id.in_(question_ids)),
        "scans": len(scans),
        "jobs": _count(session, Job, Job.project_id == project_id),
    }
    busy = _count(session, Job, Job.project_id == project_id, Job.status.in_(ACTIVE))
    blocked = _blocked(session, scans) or (f"{busy} job(s) still running" if busy else None)
    return "", removes, [s.id for s in scans], blocked, ""


def _strategy_preview(session: Session, project_id: int, item_id: int) -> Preview:
    strategy = _strategy(session, project_id, item_id)
    scans = scans_of_strategy(session, project_id, item_id)
    removes = {
        "responses": _count(session, Response, Response.strategy_id == item_id),
        "accuracies": _count(session, Accuracy, Accuracy.strategy_id == item_id),
        "scans": len(scans),
        "jobs": sum(len(_scan_jobs(session, s)) for s in scans),
    }
    blocked = _blocked(session, scans)
    return strategy.name, removes, [s.id for s in scans], blocked, f"/strategies/{item_id}"


def _scan_preview(session: Session, project_id: int, item_id: int) -> Preview:
    scan = _scan(session, project_id, item_id)
    removes = {
        "values": _count(session, ScanValue, ScanValue.scan_id == item_id),
        "jobs": len(_scan_jobs(session, scan)),
    }
    blocked = _blocked(session, [scan])
    return f"scan {item_id}", removes, [item_id], blocked, f"/scans/{item_id}"


def delete_item(session: Session, *, kind: Kind, project_id: int, item_id: int) -> DeletionPreview:
    """Delete after the same checks the confirmation page shows; returns what was removed."""
    preview = preview_deletion(session, kind=kind, project_id=project_id, item_id=item_id)
    if preview.blocked:
        raise Conflict(f"{preview.name} cannot be deleted now: {preview.blocked}")
    for scan_id in preview.scans if kind != "project" else []:
        _delete_scan(session, _scan(session, project_id, scan_id))
    if kind == "strategy":
        session.execute(delete(Strategy).where(Strategy.id == item_id))
    elif kind == "project":
        session.delete(get_project_row(session, project_id=project_id))
    session.flush()
    return preview


def _delete_scan(session: Session, scan: Scan) -> None:
    jobs = _scan_jobs(session, scan)
    session.execute(delete(ScanValue).where(ScanValue.scan_id == scan.id))
    session.delete(scan)
    session.flush()
    if jobs:
        session.execute(delete(Job).where(Job.id.in_(jobs)))


def _strategy(session: Session, project_id: int, strategy_id: int) -> Strategy:
    strategy = session.get(Strategy, strategy_id)
    if strategy is None or strategy.project_id != project_id:
        raise NotFound(f"strategy {strategy_id} not found in project {project_id}")
    return strategy


def _scan(session: Session, project_id: int, scan_id: int) -> Scan:
    scan = session.get(Scan, scan_id)
    if scan is None or scan.project_id != project_id:
        raise NotFound(f"scan {scan_id} not found in project {project_id}")
    return scan
