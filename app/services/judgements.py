"""Judgements: stored by the jobs that judge answers, read by the judgements page.

Per strategy the page shows the share judged correct and, where a file carried its own
`correct` field, how often Familiar agrees with it; the list below shows each judgement
(answer -> extracted -> gold -> verdict -> rule) and can be narrowed to disagreements.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.models import Job, Judgement, Question, Response, Strategy
from app.schemas.judgements import (
    RULE_TEXTS,
    JudgementItem,
    JudgementsPage,
    LlmJudgeCreate,
    LlmJudgeStarted,
    StrategyJudged,
)
from app.services.errors import BadInput
from app.services.projects import get_project_row, project_read
from app.services.verdicts import settle_verdicts

PER_PAGE = 25
SHOWS = ("all", "disagree", "wrong", "right", "not_judged")
RULE_JUDGE = "auto"
ANSWER_CHARS = 2000


def store_judgements(
    session: Session,
    *,
    judge: str,
    rows: list[tuple[int, int, dict[str, Any]]],
    gold: dict[int, str | None],
    set_correct: bool = True,
) -> None:
    """Replace ``judge``'s judgements of the given responses.

    ``rows``: (response id, question id, Judgement.as_dict()). With ``set_correct`` the
    type becomes its question's type and the project's verdicts are settled again
    (``app.services.verdicts``: the judge's, the file's, or none where no judge fits; a
    human verdict stays).
    """
    if not rows:
        return
    ids = [rid for rid, _, _ in rows]
    session.execute(
        delete(Judgement).where(Judgement.response_id.in_(ids), Judgement.judge == judge)
    )
    session.execute(insert(Judgement), [_row(judge, rid, gold.get(qid), j) for rid, qid, j in rows])
    if set_correct:
        for qid, answer_type in {qid: j["answer_type"] for _, qid, j in rows}.items():
            session.execute(
                update(Question).where(Question.id == qid).values(answer_type=answer_type)
            )
        project_id = session.scalar(select(Question.project_id).where(Question.id == rows[0][1]))
        settle_verdicts(session, project_id=int(project_id or 0), response_ids=ids)


def start_llm_judge(session: Session, *, project_id: int, data: LlmJudgeCreate) -> LlmJudgeStarted:
    """Queue an llm_judge job (gpu queue) after the commit."""
    from app.jobs.lifecycle import create_job

    get_project_row(session, project_id=project_id)
    model = data.model.strip()
    if not model:
        raise BadInput(
            "model: the LLM judge needs a model (a Hugging Face id or a local path)", field="model"
        )
    spec = data.model_copy(update={"model": model})
    job = create_job(session, kind="llm_judge", project_id=project_id, spec=spec)
    session.flush()  # the job is sent when the caller commits
    return LlmJudgeStarted(job_id=job.id, judge=f"llm:{model}"[:200])


def question_texts(session: Session, *, project_id: int) -> dict[int, str]:
    rows = session.execute(
        select(Question.id, Question.text).where(Question.project_id == project_id)
    ).all()
    return {int(qid): text for qid, text in rows}


def _row(judge: str, rid: int, gold: str | None, j: dict[str, Any]) -> dict[str, Any]:
    return {
        "response_id": rid,
        "judge": judge,
        "answer_type": j["answer_type"],
        "extracted": j.get("extracted"),
        "gold": gold,
        "verdict": j.get("verdict"),
        "rule": j["rule"][:80],
        "reason": j.get("reason") or "",
        "details": j.get("details") or None,
    }


def get_judgements_page(
    session: Session,
    *,
    project_id: int,
    judge: str = RULE_JUDGE,
    show: str = "all",
    strategy_id: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> JudgementsPage:
    project = get_project_row(session, project_id=project_id)
    if show not in SHOWS:
        raise BadInput(f"show must be one of {', '.join(SHOWS)}, not {show!r}")
    query = _items_query(project_id, judge, show, strategy_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.execute(query.offset((page - 1) * per_page).limit(per_page)).all()
    return JudgementsPage(
        project=project_read(session, project),
        judge=judge,
        judges=_judges(session, project_id),
        strategies=strategy_judged(session, project_id=project_id, judge=judge),
        answer_types=_answer_types(session, project_id),
        rules=RULE_TEXTS,
        show=show,
        strategy_id=strategy_id,
        page=page,
        per_page=per_page,
        total=total,
        pages=pages,
        items=[_item(*r) for r in rows],
    )


def _items_query(project_id: int, judge: str, show: str, strategy_id: int | None) -> Select[Any]:
    where = [Strategy.project_id == project_id, Judgement.judge == judge]
    if strategy_id is not None:
        where.append(Strategy.id == strategy_id)
    if show == "disagree":
        where += [Response.file_correct.is_not(None), Response.file_correct != Judgement.verdict]
    elif show in ("wrong", "right") and judge == RULE_JUDGE:  # by the verdict that counts
        where.append(Response.correct.is_(show == "right"))
    elif show in ("wrong", "right"):
        where.append(Judgement.verdict.is_(show == "right"))
    elif show == "not_judged":
        where.append(Response.verdict_source == "not_judged")
    return (
        select(Judgement, Response, Question, Strategy.name)
        .join(Response, Response.id == Judgement.response_id)
        .join(Question, Question.id == Response.question_id)
        .join(Strategy, Strategy.id == Response.strategy_id)
        .where(*where)
        .order_by(Question.position, Strategy.id)
    )


def strategy_judged(session: Session, *, project_id: int, judge: str) -> list[StrategyJudged]:
    """Per strategy: share judged correct by ``judge``, agreement with the file's own
    verdicts, and the share correct that counts (whatever the verdict's source)."""
    verdict, mine, source = Judgement.verdict, Response.file_correct, Response.verdict_source
    both = and_(verdict.is_not(None), mine.is_not(None))
    rows = session.execute(
        select(
            Strategy.id,
            Strategy.name,
            func.count(Response.id),
            func.count(verdict),
            func.sum(case((verdict.is_(True), 1), else_=0)),
            func.sum(case((both, 1), else_=0)),
            func.sum(case((and_(both, verdict == mine), 1), else_=0)),
            func.count(Response.correct),
            func.sum(case((Response.correct.is_(True), 1), else_=0)),
            func.sum(case((source == "not_judged", 1), else_=0)),
            func.sum(case((source == "file", 1), else_=0)),
            func.sum(case((source == "human", 1), else_=0)),
        )
        .outerjoin(Response, Response.strategy_id == Strategy.id)
        .outerjoin(Judgement, and_(Judgement.response_id == Response.id, Judgement.judge == judge))
        .where(Strategy.project_id == project_id)
        .group_by(Strategy.id, Strategy.name)
        .order_by(Strategy.id)
    ).all()
    return [_strategy(*r) for r in rows]


def _strategy(sid: int, name: str, n: int, judged: int, *sums: Any) -> StrategyJudged:
    ok, files, agree, counted, counted_ok, unjudged, from_file, human = (int(x or 0) for x in sums)
    return StrategyJudged(
        strategy_id=sid,
        name=name,
        n_responses=n,
        n_judged=judged,
        n_correct=ok,
        share_correct=ok / judged if judged else None,
        n_file_verdicts=files,
        n_agree=agree,
        agreement=agree / files if files else None,
        n_disagree=files - agree,
        n_counted=counted,
        share_counted=counted_ok / counted if counted else None,
        n_not_judged=unjudged,
        n_from_file=from_file,
        n_human=human,
    )


def _answer_types(session: Session, project_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Question.answer_type, func.count())
        .where(Question.project_id == project_id, Question.answer_type.is_not(None))
        .group_by(Question.answer_type)
    ).all()
    return {str(t): int(n) for t, n in rows}


def _judges(session: Session, project_id: int) -> list[str]:
    rows = session.scalars(
        select(Judgement.judge)
        .join(Response, Response.id == Judgement.response_id)
        .join(Strategy, Strategy.id == Response.strategy_id)
        .where(Strategy.project_id == project_id)
        .distinct()
    ).all()
    return sorted(set(rows) | {RULE_JUDGE})


def _item(j: Judgement, r: Response, q: Question, strategy_name: str) -> JudgementItem:
    return JudgementItem(
        response_id=r.id,
        question_id=q.id,
        question_text=q.text,
        strategy_name=strategy_name,
        judge=j.judge,
        answer=r.text[:ANSWER_CHARS],
        answer_type=j.answer_type,
        extracted=j.extracted,
        gold=j.gold,
        verdict=j.verdict,
        rule=j.rule,
        reason=j.reason,
        file_correct=r.file_correct,
        details=j.details,
        correct=r.correct,
        verdict_source=r.verdict_source,
        verdict_by=r.verdict_by,
        verdict_at=r.verdict_at,
        tests_from=(j.details or {}).get("tests_from"),
    )


def unanalyzed():  # type: ignore[no-untyped-def]
    """Responses the analyze job has still to do: no token count, or no rule verdict (a
    project imported before per-question judging), or no verdict source (judged before
    "not judged" and the file's verdicts existed)."""
    judged = select(Judgement.id).where(
        Judgement.response_id == Response.id, Judgement.judge == "auto"
    )
    return or_(Response.n_tokens.is_(None), Response.verdict_source.is_(None), ~judged.exists())


def queue_rejudging(session: Session) -> list[int]:
    """An analyze job for every project with unanalyzed responses and none queued (on start,
    after an upgrade); returns the project ids. Sent when the caller commits."""
    from app.jobs.lifecycle import create_job

    pending = set(
        session.scalars(
            select(Strategy.project_id)
            .join(Response, Response.strategy_id == Strategy.id)
            .where(unanalyzed())
            .distinct()
        )
    )
    waiting = set(
        session.scalars(
            select(Job.project_id).where(
                Job.kind == "analyze", Job.status.in_(("queued", "running"))
            )
        )
    )
    todo = sorted(p for p in pending - waiting if p is not None)
    for project_id in todo:
        create_job(session, kind="analyze", project_id=project_id)
    return todo
