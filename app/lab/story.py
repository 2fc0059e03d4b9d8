"""The project page's view of the strategy lab: its newest sample told as one story,
sample -> scan -> pick -> full set, with what each step cost and where it stands."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lab.budget import job_spent
from app.models import Job, Scan, Strategy
from app.schemas.lab import LabStep, LabStory

JOBS_READ = 50  # the project page reads the newest lab jobs only (it is read on every view)


def _jobs(session: Session, project_id: int) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(Job.project_id == project_id, Job.kind == "lab_sample")
            .order_by(Job.id.desc())
            .limit(JOBS_READ)
        )
    )


def _sample_step(session: Session, pid: int, job: Job) -> LabStep:
    spec: dict[str, Any] = job.spec or {}
    n_r, n_q = len(spec.get("recipe_version_ids") or []), len(spec.get("question_ids") or [])
    return LabStep(
        name="sample",
        status=job.status,
        text=f"{n_r} recipe(s) x {n_q} question(s) (job {job.id})",
        url=f"/projects/{pid}/lab",
        cost=job_spent(session, job_id=job.id),
    )


def _scan_steps(session: Session, pid: int, job: Job) -> tuple[list[LabStep], Strategy | None]:
    promoted = (job.result or {}).get("promoted") or {}
    scan = session.get(Scan, promoted["scan_id"]) if promoted.get("scan_id") else None
    if scan is None:
        note = promoted.get("scan_note") or "starts when the sample is done"
        return [LabStep(name="scan", status="waiting", text=note)], None
    scan_job = session.get(Job, scan.job_id) if scan.job_id else None
    steps = [
        LabStep(
            name="scan",
            status=scan_job.status if scan_job else "succeeded",
            text=f"scan {scan.id} of {len((scan.spec or {}).get('strategy_ids') or [])} "
            f"strategies ({len(promoted.get('strategies') or [])} from the lab)",
            url=f"/projects/{pid}/scans/{scan.id}",
        )
    ]
    pick = None
    if scan.recommended:
        pick = session.scalars(
            select(Strategy).where(
                Strategy.project_id == pid,
                Strategy.origin == "lab",
                Strategy.name == scan.recommended,
            )
        ).first()
    if pick is None:
        text = (
            f"{scan.recommended}, not made by the lab: nothing to generate"
            if scan.recommended
            else "not yet"
        )
        steps.append(
            LabStep(name="pick", status="chosen" if scan.recommended else "waiting", text=text)
        )
    else:
        steps.append(
            LabStep(
                name="pick",
                status="chosen",
                text=pick.name,
                url=f"/projects/{pid}/strategies/{pick.id}",
            )
        )
    return steps, pick


def _full_set_step(session: Session, pid: int, jobs: list[Job], pick: Strategy | None) -> LabStep:
    version = (pick.lab or {}).get("recipe_version_id") if pick is not None else None
    for job in jobs:
        spec = job.spec or {}
        if spec.get("purpose") == "full_set" and spec.get("recipe_version_ids") == [version]:
            return LabStep(
                name="full set",
                status=job.status,
                text=f"{len(spec.get('question_ids') or [])} more question(s) (job {job.id})",
                url=f"/api/v1/projects/{pid}/strategies/{pick.id}/training.jsonl"  # type: ignore[union-attr]
                if job.status == "succeeded"
                else f"/projects/{pid}/lab",
                cost=job_spent(session, job_id=job.id),
            )
    text = "generate it on the lab page" if pick is not None else "after the pick"
    return LabStep(name="full set", status="waiting", text=text, url=f"/projects/{pid}/lab")


def lab_story(session: Session, *, project_id: int) -> LabStory | None:
    """The newest sample's story, or None when the project never ran the lab."""
    jobs = _jobs(session, project_id)
    sample = next((j for j in jobs if (j.spec or {}).get("purpose", "sample") == "sample"), None)
    if sample is None:
        return None
    steps = [_sample_step(session, project_id, sample)]
    scan_steps, pick = _scan_steps(session, project_id, sample)
    steps += scan_steps
    picked = scan_steps[-1].name == "pick" and scan_steps[-1].status == "chosen"
    if picked and pick is None:  # the scan picked a strategy the project already has
        steps.append(LabStep(name="full set", status="none", text="not needed"))
    else:
        steps.append(_full_set_step(session, project_id, jobs, pick))
    return LabStory(steps=steps, spent=sum(s.cost or 0.0 for s in steps))
