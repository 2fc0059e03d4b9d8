"""Per-token surprise of one scan question: start the model job, read its stored result.

One ``token_surprises`` row per (scan, question), unique in the database: it points at the
job that computes it (kind ``token_surprise`` on the gpu queue, workers/jobs/token_surprise.py)
and holds ``contexts = {context: {strategy id: {"tokens": [[text, logprob], ...],
"truncated": bool}}}`` once that job succeeded.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job
from app.jobs.states import UNFINISHED
from app.metrics import registry
from app.models import Job, Question, Scan, ScanValue, TokenSurprise
from app.scans.status import has_results
from app.schemas.jobs import JobRead
from app.schemas.results import (
    StrategyAnswer,
    SurpriseResponse,
    SurpriseToken,
    TokenSurpriseView,
)
from app.services.errors import BadInput, NotFound
from app.services.jobs import job_read
from app.services.scans import get_scan_row

KIND = "token_surprise"
CONTEXTS = (
    "ppl",
    "sppl",
)  # the prompts it scores (workers.scoring.token_surprise), as the toggle shows them
TOP_N = 5
# Relative gap above which a recomputed value is said to differ from the scan's: the stored
# log-probabilities are rounded to 4 decimals, which moves exp(-mean) by far less.
AGREE = 5e-4
MAX_LEVEL = 8  # shades: 0 (under 1 nat) to 8 (8 nats or more)


def start_token_surprise(
    session: Session, *, project_id: int, scan_id: int, question_id: int
) -> tuple[JobRead, bool]:
    """The job for this question: the one that computed it or is computing it, or a new one
    (then ``True``), sent after the commit. Two requests at once get one job."""
    scan = get_scan_row(session, project_id=project_id, scan_id=scan_id)
    _check_question(session, project_id=project_id, question_id=question_id)
    _check_scored(session, scan=scan, question_id=question_id)
    row = _row(session, scan_id=scan_id, question_id=question_id) or _insert_row(
        session, scan_id=scan_id, question_id=question_id
    )
    job = session.get(Job, row.job_id) if row.job_id else None
    if job is not None and (row.contexts is not None or job.status in UNFINISHED):
        return job_read(job), False
    if row.contexts is not None and job is None:
        raise BadInput("per-token surprise of this question is already computed")
    job = create_job(
        session,
        kind=KIND,
        project_id=project_id,
        spec={"scan_id": scan_id, "question_id": question_id},
    )
    row.job_id = job.id
    session.flush()
    return job_read(job), True


def _row(session: Session, *, scan_id: int, question_id: int) -> TokenSurprise | None:
    return session.scalar(
        select(TokenSurprise)
        .where(TokenSurprise.scan_id == scan_id, TokenSurprise.question_id == question_id)
        .execution_options(populate_existing=True)
    )


def _insert_row(session: Session, *, scan_id: int, question_id: int) -> TokenSurprise:
    """A new row, or the one a concurrent request inserted first (unique constraint)."""
    try:
        with session.begin_nested():
            row = TokenSurprise(scan_id=scan_id, question_id=question_id)
            session.add(row)
        return row
    except IntegrityError:
        found = _row(session, scan_id=scan_id, question_id=question_id)
        assert found is not None
        return found


def store_token_surprise(
    session: Session,
    *,
    scan_id: int,
    question_id: int,
    job_id: int,
    contexts: dict[str, Any],
    model: dict[str, Any],
) -> None:
    """The worker's save (in its fenced transaction); storing twice keeps one row."""
    row = _row(session, scan_id=scan_id, question_id=question_id)
    if row is None:
        row = TokenSurprise(scan_id=scan_id, question_id=question_id)
        session.add(row)
    row.job_id, row.contexts, row.model = job_id, contexts, model
    row.finished_at = datetime.now(UTC)
    session.flush()


def surprise_section(
    session: Session,
    *,
    project_id: int,
    scan_id: int,
    question_id: int,
    answers: list[StrategyAnswer],
    context: str | None,
) -> tuple[TokenSurpriseView | None, JobRead | None]:
    """The computed surprise (in ``context``, else the default), and the job while it has
    not succeeded (queued, running, failed or cancelled)."""
    row = _row(session, scan_id=scan_id, question_id=question_id)
    if row is None:
        return None, None
    job = session.get(Job, row.job_id, populate_existing=True) if row.job_id else None
    pending = job_read(job) if job is not None and job.status != "succeeded" else None
    scan = session.get(Scan, scan_id)
    return _view(row, answers, context, differ_reason(row.model or {}, scan)), pending


def _check_question(session: Session, *, project_id: int, question_id: int) -> None:
    question = session.get(Question, question_id)
    if question is None or question.project_id != project_id:
        raise NotFound(f"question {question_id} not found in project {project_id}")


def _check_scored(session: Session, *, scan: Scan, question_id: int) -> None:
    if not has_results(scan):
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


def differ_reason(model: dict[str, Any], scan: Scan | None) -> str:
    """Why a recomputed response value can differ from the scan's stored one."""
    job_key, scan_key = model.get("model_key"), scan.model_key if scan else None
    if job_key and scan_key and job_key != scan_key:
        return "the model's weights changed since the scan, so these tokens were scored by others"
    dtype = str(model.get("dtype") or "")
    precision = f" in {dtype}" if dtype else ""
    lossy = dtype in ("bfloat16", "float16")
    return (
        f"these tokens were scored again one response at a time{precision}, while the scan "
        "scored the responses in padded batches"
        + (", and at this precision the batch shifts the last digits" if lossy else "")
        + "; the score table keeps the scan's value"
    )


def _view(
    row: TokenSurprise, answers: list[StrategyAnswer], context: str | None, reason: str
) -> TokenSurpriseView | None:
    stored: dict[str, Any] = row.contexts or {}
    available = [c for c in CONTEXTS if c in stored]
    if not available:
        return None
    chosen = context if context in available else _by_display_order(available)[0]
    per = stored[chosen]
    responses = [
        _response(a, per[str(a.strategy_id)], chosen, reason)
        for a in answers
        if str(a.strategy_id) in per
    ]
    return TokenSurpriseView(
        job_id=row.job_id,
        finished_at=row.finished_at,
        contexts=available,
        context=chosen,
        responses=responses,  # type: ignore[arg-type]
    )


def level(logprob: float) -> int:
    """The shade of a token: its surprise (-logprob) in whole nats, 0 to ``MAX_LEVEL``."""
    return min(MAX_LEVEL, max(0, int(-logprob)))


def _response(
    answer: StrategyAnswer, data: dict[str, Any], context: str, reason: str
) -> SurpriseResponse:
    tokens = [
        SurpriseToken(index=i, text=str(text), logprob=float(lp), level=level(float(lp)))
        for i, (text, lp) in enumerate(data.get("tokens") or [])
    ]
    ppl = math.exp(-sum(t.logprob for t in tokens) / len(tokens)) if tokens else None
    score = answer.scores.get(context)
    stored = score.value if score else None
    differs = ppl is not None and stored is not None and abs(ppl - stored) > AGREE * abs(stored)
    return SurpriseResponse(
        strategy_id=answer.strategy_id,
        strategy=answer.strategy,
        truncated=bool(data.get("truncated")),
        n_tokens=len(tokens),
        ppl=ppl,
        scan_value=stored,
        note=reason if differs else None,
        tokens=tokens,
        top=sorted(tokens, key=lambda t: (t.logprob, t.index))[:TOP_N],
    )


def _by_display_order(contexts: object) -> list[str]:
    """Prompt contexts in the order of the metrics scored in them (SPPL's first)."""
    found = list(contexts)  # type: ignore[call-overload]
    by_metric = [m.context for m in registry.all_metrics() if m.context in found]
    return [c for c in by_metric if c is not None] + [c for c in found if c not in by_metric]
