"""Drill-down: one question of a scan with every strategy's response and scores."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.models import OwnAnswer, Question, Response, ScanValue, Strategy
from app.schemas.browse import QuestionRead
from app.schemas.results import (
    ExemplarRead,
    MetricScore,
    OwnAnswerRead,
    ScanQuestionPage,
    StrategyAnswer,
)
from app.services.errors import NotFound
from app.services.projects import get_project_row, project_read
from app.services.scans import get_scan_row, scan_read
from app.services.token_surprise import surprise_section

ValueRow = tuple[float | None, bool]  # value, truncated


def get_scan_question_page(
    session: Session,
    *,
    project_id: int,
    scan_id: int,
    question_id: int,
    surprise: str | None = None,
) -> ScanQuestionPage:
    """The drill-down; ``surprise`` is the per-token surprise context shown (ppl or sppl)."""
    scan = get_scan_row(session, project_id=project_id, scan_id=scan_id)
    question = session.get(Question, question_id)
    if question is None or question.project_id != project_id:
        raise NotFound(f"question {question_id} not found in project {project_id}")
    summary = scan.summary or {}
    values = _values(session, scan_id=scan_id, question_id=question_id)
    names = registry.ordered(values)
    primary = registry.primary(values)
    answers = _answers(session, scan.spec.get("strategy_ids") or [], question_id, values)
    answers.sort(key=lambda a: _sort_key(a, primary))
    sample = [int(k) for k in summary.get("sample", [])]
    pos = sample.index(question_id) if question_id in sample else None
    view, job = surprise_section(
        session,
        project_id=project_id,
        scan_id=scan_id,
        question_id=question_id,
        answers=answers,
        context=surprise,
    )
    return ScanQuestionPage(
        project=project_read(session, get_project_row(session, project_id=project_id)),
        scan=scan_read(session, scan),
        question=QuestionRead(
            id=question.id,
            external_id=question.external_id,
            text=question.text,
            gold=question.gold,
            position=question.position,
        ),
        metrics=names,
        labels={m: registry.label_of(m) for m in names},
        primary=primary,
        in_sample=pos is not None,
        sample_position=pos,
        n_sample=len(sample),
        prev_id=sample[pos - 1] if pos else None,
        next_id=sample[pos + 1] if pos is not None and pos + 1 < len(sample) else None,
        answers=answers,
        own_answer=_own_answer(session, question_id, scan.model_key),
        exemplars=exemplars_of(session, summary, project_id=project_id, question_id=question_id),
        exemplars_filtered=(summary.get("settings") or {}).get("exemplars_filtered"),
        surprise=view,
        surprise_job=job,
    )


def exemplars_of(
    session: Session, summary: dict[str, Any], *, project_id: int, question_id: int
) -> list[ExemplarRead]:
    """The SPPL examples of one question, each with the pool question it answers (stored as
    ``exemplar_sources``, position by position; scans made before it was kept have none)."""
    texts = (summary.get("exemplars") or {}).get(str(question_id)) or []
    sources = (summary.get("exemplar_sources") or {}).get(str(question_id)) or []
    ids = [_int_or_none(s) for s in sources] + [None] * (len(texts) - len(sources))
    known = {i for i in ids if i is not None}
    questions = dict(
        session.execute(
            select(Question.id, Question.text).where(
                Question.id.in_(known), Question.project_id == project_id
            )
        ).all()
    )
    return [
        ExemplarRead(text=str(text), question_id=qid, question_text=questions.get(qid))
        for text, qid in zip(texts, ids, strict=False)
    ]


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _values(session: Session, *, scan_id: int, question_id: int) -> dict[str, dict[int, ValueRow]]:
    """metric -> strategy id -> (value, truncated) for this question."""
    out: dict[str, dict[int, ValueRow]] = defaultdict(dict)
    rows = session.execute(
        select(ScanValue.metric, ScanValue.strategy_id, ScanValue.value, ScanValue.truncated).where(
            ScanValue.scan_id == scan_id, ScanValue.question_id == question_id
        )
    )
    for metric, sid, value, truncated in rows:
        ok = value is not None and math.isfinite(value)
        out[metric][sid] = (value if ok else None, bool(truncated))
    return out


def question_ranks(by_strategy: dict[int, ValueRow], *, lower_is_better: bool) -> dict[int, int]:
    """Competition ranks (1 = best; equal values share a rank) among finite values."""
    scored = [(v, sid) for sid, (v, _) in by_strategy.items() if v is not None]
    sign = 1.0 if lower_is_better else -1.0
    values = sorted(sign * v for v, _ in scored)
    return {sid: 1 + bisect_left(values, sign * v) for v, sid in scored}


def _answers(
    session: Session, ids: list[int], question_id: int, values: dict[str, dict[int, ValueRow]]
) -> list[StrategyAnswer]:
    ids = sorted(set(ids) | {sid for per in values.values() for sid in per})
    strategies = session.scalars(select(Strategy).where(Strategy.id.in_(ids))).all()
    responses = {
        r.strategy_id: r
        for r in session.scalars(
            select(Response).where(
                Response.question_id == question_id, Response.strategy_id.in_(ids)
            )
        )
    }
    ranks = {
        m: question_ranks(v, lower_is_better=registry.lower_is_better(m)) for m, v in values.items()
    }
    return [_answer(s, responses.get(s.id), values, ranks) for s in strategies]


def _answer(
    s: Strategy,
    r: Response | None,
    values: dict[str, dict[int, ValueRow]],
    ranks: dict[str, dict[int, int]],
) -> StrategyAnswer:
    scores = {}
    for metric, per in values.items():
        value, truncated = per.get(s.id, (None, False))
        n_ranked = len(ranks[metric])
        scores[metric] = MetricScore(
            value=value, rank=ranks[metric].get(s.id), n_ranked=n_ranked, truncated=truncated
        )
    return StrategyAnswer(
        strategy=s.name,
        strategy_id=s.id,
        origin=s.origin,
        text=r.text if r else None,
        correct=r.correct if r else None,
        n_tokens=r.n_tokens if r else None,
        scores=scores,
    )


def _sort_key(answer: StrategyAnswer, primary: str | None) -> tuple[Any, ...]:
    rank = answer.scores[primary].rank if primary and primary in answer.scores else None
    return (rank is None, rank or 0, answer.strategy)


def _own_answer(session: Session, question_id: int, model_key: str) -> OwnAnswerRead | None:
    """The target model's newest own answer to the question (any generation settings)."""
    if not model_key:
        return None
    row = session.scalars(
        select(OwnAnswer)
        .where(OwnAnswer.question_id == question_id, OwnAnswer.model_key == model_key)
        .order_by(OwnAnswer.created_at.desc(), OwnAnswer.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return OwnAnswerRead(
        text=row.text, correct=row.correct, settings_key=row.settings_key, created_at=row.created_at
    )
