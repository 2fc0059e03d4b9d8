"""Per-token surprise of one scan question: start the model job, read its newest result.

The job (kind ``token_surprise``, spec ``{"scan_id", "question_id"}``) runs on the gpu queue
(workers/jobs/token_surprise.py) and stores ``{"contexts": {context: {strategy id:
{"tokens": [[text, logprob], ...], "truncated": bool}}}}`` as its result.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job, Question, Scan, ScanValue
from app.schemas.jobs import JobRead
from app.schemas.results import (
    StrategyAnswer,
    SurpriseResponse,
    SurpriseToken,
    TokenSurpriseView,
)
from app.services.errors import BadInput, NotFound
from app.services.jobs import create_job, enqueue, get_job, job_read
from app.services.scans import get_scan_row

KIND = "token_surprise"
REUSED = ("queued", "running", "succeeded")  # a failed job is not reused: start again
CONTEXTS = ("ppl", "sppl")  # as the toggle shows them
DEFAULT_FIRST = ("sppl", "ppl")  # SPPL by default, as the primary metric
TOP_N = 5
MAX_LEVEL = 8  # shades: 0 (under 1 nat) to 8 (8 nats or more)


def start_token_surprise(
    session: Session, *, project_id: int, scan_id: int, question_id: int
) -> tuple[JobRead, bool]:
    """The job for this question: an existing queued, running or finished one, or a new one
    (then ``True``), queued after the commit."""
    scan = get_scan_row(session, project_id=project_id, scan_id=scan_id)
    _check_question(session, project_id=project_id, question_id=question_id)
    _check_scored(session, scan=scan, question_id=question_id)
    for job_id, status in _jobs(session, project_id=project_id, scan_id=scan_id,
                                question_id=question_id):  # fmt: skip
        if status in REUSED:
            return get_job(session, job_id=job_id), False
    spec = {"scan_id": scan_id, "question_id": question_id}
    job = create_job(session, kind=KIND, project_id=project_id, spec=spec)
    session.commit()
    enqueue(job)
    return job_read(job), True


def surprise_section(
    session: Session, *, project_id: int, scan_id: int, question_id: int,
    answers: list[StrategyAnswer], context: str | None,
) -> tuple[TokenSurpriseView | None, JobRead | None]:  # fmt: skip
    """The newest computed surprise (in ``context``, else the default), and the newest job
    when it has not succeeded (queued, running or failed)."""
    jobs = _jobs(session, project_id=project_id, scan_id=scan_id, question_id=question_id)
    pending = get_job(session, job_id=jobs[0][0]) if jobs and jobs[0][1] != "succeeded" else None
    done = next((job_id for job_id, status in jobs if status == "succeeded"), None)
    job = session.get(Job, done) if done is not None else None
    return (_view(job, answers, context) if job is not None else None), pending


def _check_question(session: Session, *, project_id: int, question_id: int) -> None:
    question = session.get(Question, question_id)
    if question is None or question.project_id != project_id:
        raise NotFound(f"question {question_id} not found in project {project_id}")


def _check_scored(session: Session, *, scan: Scan, question_id: int) -> None:
    if scan.status != "succeeded":
        raise BadInput(
            f"scan {scan.id} has not finished: per-token surprise explains its stored values"
        )
    scored = session.scalar(
        select(ScanValue.id)
        .where(ScanValue.scan_id == scan.id, ScanValue.question_id == question_id)
        .limit(1)
    )
    if scored is None:
        raise BadInput(f"scan {scan.id} did not score question {question_id} (not in its sample)")


def _jobs(
    session: Session, *, project_id: int, scan_id: int, question_id: int
) -> list[tuple[int, str]]:
    """(id, status) of this question's jobs, newest first. Kind and project are filtered in
    SQL; the spec in Python (JSON comparison differs between SQLite and Postgres)."""
    rows = session.execute(
        select(Job.id, Job.status, Job.spec)
        .where(Job.kind == KIND, Job.project_id == project_id)
        .order_by(Job.id.desc())
    )
    return [
        (job_id, status)
        for job_id, status, spec in rows
        if (spec or {}).get("scan_id") == scan_id and (spec or {}).get("question_id") == question_id
    ]


def _view(job: Job, answers: list[StrategyAnswer], context: str | None) -> TokenSurpriseView | None:
    stored: dict[str, Any] = (job.result or {}).get("contexts") or {}
    available = [c for c in CONTEXTS if c in stored]
    if not available:
        return None
    chosen = context if context in available else next(c for c in DEFAULT_FIRST if c in stored)
    per = stored[chosen]
    responses = [_response(a, per[str(a.strategy_id)]) for a in answers
                 if str(a.strategy_id) in per]  # fmt: skip
    return TokenSurpriseView(
        job_id=job.id, finished_at=job.finished_at, contexts=available,
        context=chosen, responses=responses,  # type: ignore[arg-type]
    )  # fmt: skip


def level(logprob: float) -> int:
    """The shade of a token: its surprise (-logprob) in whole nats, 0 to ``MAX_LEVEL``."""
    return min(MAX_LEVEL, max(0, int(-logprob)))


def _response(answer: StrategyAnswer, data: dict[str, Any]) -> SurpriseResponse:
    tokens = [
        SurpriseToken(index=i, text=str(text), logprob=float(lp), level=level(float(lp)))
        for i, (text, lp) in enumerate(data.get("tokens") or [])
    ]
    ppl = math.exp(-sum(t.logprob for t in tokens) / len(tokens)) if tokens else None
    return SurpriseResponse(
        strategy_id=answer.strategy_id, strategy=answer.strategy,
        truncated=bool(data.get("truncated")), n_tokens=len(tokens),
        ppl=ppl, tokens=tokens,
        top=sorted(tokens, key=lambda t: (t.logprob, t.index))[:TOP_N],
    )  # fmt: skip
