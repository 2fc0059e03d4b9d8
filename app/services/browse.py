"""Reading responses: one strategy's list, one question side by side."""

from __future__ import annotations

import math

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models import Question, Response, Strategy
from app.schemas.browse import (
    QuestionList,
    QuestionPage,
    QuestionRead,
    ResponseItem,
    ResponsesPage,
    StrategyResponse,
)
from app.services.errors import NotFound
from app.services.projects import get_project_page, get_project_row, project_read

PER_PAGE = 25


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_responses(
    session: Session,
    *,
    project_id: int,
    strategy_id: int,
    q: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> ResponsesPage:
    """A strategy's responses in question order, filtered by text in question or response."""
    project_page = get_project_page(session, project_id=project_id)
    strategy = next((s for s in project_page.strategies if s.id == strategy_id), None)
    if strategy is None:
        raise NotFound(f"strategy {strategy_id} not found in project {project_id}")
    where = [Response.strategy_id == strategy_id]
    if q.strip():
        pattern = _like(q.strip())
        where.append(
            or_(
                Response.text.ilike(pattern, escape="\\"), Question.text.ilike(pattern, escape="\\")
            )
        )
    base = select(Response, Question).join(Question, Question.id == Response.question_id)
    total = (
        session.scalar(select(func.count()).select_from(Response).join(Question).where(*where)) or 0
    )
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        base.where(*where).order_by(Question.position).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return ResponsesPage(
        project=project_page.project,
        strategy=strategy,
        q=q,
        page=page,
        per_page=per_page,
        total=total,
        pages=pages,
        items=[_item(r, qq) for r, qq in rows],
    )


def _item(r: Response, q: Question) -> ResponseItem:
    return ResponseItem(
        question_id=q.id,
        question_text=q.text,
        external_id=q.external_id,
        gold=q.gold,
        text=r.text,
        line=r.line,
        n_tokens=r.n_tokens,
        correct=r.correct,
        verdict_source=r.verdict_source,
    )


def _question_read(q: Question) -> QuestionRead:
    return QuestionRead(
        id=q.id,
        external_id=q.external_id,
        text=q.text,
        gold=q.gold,
        position=q.position,
        answer_type=q.answer_type,
        tests=q.tests,
        tests_field=q.tests_field,
        tests_setup=q.tests_setup,
    )


def get_question_page(session: Session, *, project_id: int, question_id: int) -> QuestionPage:
    """One question with every strategy's response side by side, and its neighbours."""
    project = get_project_row(session, project_id=project_id)
    question = session.get(Question, question_id)
    if question is None or question.project_id != project_id:
        raise NotFound(f"question {question_id} not found in project {project_id}")
    strategies = session.scalars(
        select(Strategy).where(Strategy.project_id == project_id).order_by(Strategy.id)
    ).all()
    responses = {
        r.strategy_id: r
        for r in session.scalars(select(Response).where(Response.question_id == question_id))
    }
    return QuestionPage(
        project=project_read(session, project),
        question=_question_read(question),
        responses=[_side(s, responses.get(s.id)) for s in strategies],
        prev_id=_neighbour(session, project_id, question.position, before=True),
        next_id=_neighbour(session, project_id, question.position, before=False),
        n_questions=session.scalar(
            select(func.count(Question.id)).where(Question.project_id == project_id)
        )
        or 0,
    )


def _side(s: Strategy, r: Response | None) -> StrategyResponse:
    return StrategyResponse(
        strategy_id=s.id,
        strategy_name=s.name,
        origin=s.origin,
        text=r.text if r else None,
        n_tokens=r.n_tokens if r else None,
        correct=r.correct if r else None,
        response_id=r.id if r else None,
        verdict_source=r.verdict_source if r else None,
        verdict_by=r.verdict_by if r else None,
        verdict_at=r.verdict_at if r else None,
    )


def _neighbour(session: Session, project_id: int, position: int, *, before: bool) -> int | None:
    cond = Question.position < position if before else Question.position > position
    order = Question.position.desc() if before else Question.position
    return session.scalar(
        select(Question.id).where(Question.project_id == project_id, cond).order_by(order).limit(1)
    )


def list_questions(
    session: Session, *, project_id: int, q: str = "", page: int = 1, per_page: int = PER_PAGE
) -> QuestionList:
    project = get_project_row(session, project_id=project_id)
    where = [Question.project_id == project_id]
    if q.strip():
        where.append(Question.text.ilike(_like(q.strip()), escape="\\"))
    total = session.scalar(select(func.count(Question.id)).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(
        select(Question)
        .where(*where)
        .order_by(Question.position)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return QuestionList(
        project=project_read(session, project),
        q=q,
        page=page,
        per_page=per_page,
        total=total,
        pages=pages,
        items=[_question_read(x) for x in rows],
    )
