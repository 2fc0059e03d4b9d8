"""What a job belongs to and what it works on, for its page: links to the scan, validation
or question it serves and one line such as "trains terse, seed 2".

Read from the job's typed spec (``app.jobs.kinds``); a job whose scan or validation was
deleted since simply has no link.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.models import Evaluation, Job, Strategy, ValidationRun
from app.schemas.jobs import JobLink


def job_context(session: Session, job: Job) -> tuple[str | None, list[JobLink]]:
    """(what the job works on, links to what it belongs to)."""
    spec: dict[str, Any] = job.spec or {}
    pid = job.project_id
    links: list[JobLink] = []
    about: str | None = None
    if pid is not None and "scan_id" in spec:
        links.append(JobLink(label=f"scan {spec['scan_id']}", url=_scan_url(pid, spec)))
    if pid is not None and "question_id" in spec and "scan_id" in spec:
        url = f"{_scan_url(pid, spec)}/questions/{spec['question_id']}"
        links.append(JobLink(label="the question", url=url))
    if pid is not None and "validation_id" in spec:
        vid = spec["validation_id"]
        links.append(JobLink(label=f"validation {vid}", url=f"/projects/{pid}/validations/{vid}"))
        about = _validation_about(session, spec)
    if pid is not None and job.kind in ("analyze", "llm_judge"):
        links.append(JobLink(label="judgements", url=f"/projects/{pid}/judgements"))
    if pid is not None and job.kind == "playground":
        links.append(JobLink(label="the answers", url=f"/projects/{pid}/playground?run={job.id}"))
        about = _playground_about(spec)
    if pid is not None and job.kind == "lab_sample":  # issue 21
        links.append(JobLink(label="the strategy lab", url=f"/projects/{pid}/lab"))
        n_r, n_q = len(spec.get("recipe_version_ids") or []), len(spec.get("question_ids") or [])
        about = f"generates a lab sample: {n_r} recipe(s) x {n_q} question(s)"
        if spec.get("purpose") == "full_set":
            about = f"generates the full set with the lab's pick: {n_q} question(s)"
    if job.kind == "generate_own_answers":
        about = f"generates the target's own answers as strategy {spec.get('strategy', '')!r}"
    return about, links


def _scan_url(pid: int, spec: dict[str, Any]) -> str:
    return f"/projects/{pid}/scans/{spec['scan_id']}"


def _validation_about(session: Session, spec: dict[str, Any]) -> str | None:
    run_id = spec.get("run_id")
    if "evaluation_id" in spec:
        evaluation = session.get(Evaluation, spec["evaluation_id"])
        if evaluation is None:
            return None
        if evaluation.run_id is None:
            return "evaluates the untuned target on the test set"
        run_id = evaluation.run_id
        verb = "evaluates the adapter trained on"
    else:
        verb = "trains on"
    run = session.get(ValidationRun, run_id) if run_id is not None else None
    if run is None:
        return None
    strategy = session.get(Strategy, run.strategy_id)
    name = strategy.name if strategy else f"strategy {run.strategy_id}"
    return f"{verb} {name}, seed {run.seed}"


def _playground_about(spec: dict[str, Any]) -> str:
    """ "asks the untuned target and 2 adapters a question" (the question itself is shown on
    the playground page, escaped there)."""
    n = len(spec.get("run_ids") or [])
    who = ["the untuned target"] if spec.get("base", True) else []
    if n:
        who.append(f"{n} trained adapter{'s' if n != 1 else ''}")
    return f"asks {' and '.join(who) or 'nobody'} a question"
