"""Whose verdict counts for each response, and the one rule that turns them into `correct`.

A response's ``correct`` (read by every share correct, the correctness rule of the
recommendation and the exports) comes from one source, kept in ``verdict_source``:

- ``judge``: Familiar's rule judge (``workers.judging``);
- ``not_judged``: no rule judge fits the question (a plan, long free text): no verdict, so
  the response is left out of every share correct, never counted wrong;
- ``file``: the upload's own ``correct`` field, where the project chose the file's verdicts;
- ``human``: set by hand by an editor or owner (``verdict_by``, ``verdict_at``); no later
  judging or change of choice replaces it.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session

from app.models import Judgement, Project, Response, Strategy
from app.models._types import utcnow
from app.services.errors import BadInput, NotFound

VERDICTS_FROM = ("judge", "file")
NOT_JUDGED_RULE = "not judged"  # workers.judging.fit.NOT_JUDGED (the web never imports workers)
RULE_JUDGE = "auto"


def settled_verdict(
    judge_verdict: bool | None, judge_rule: str | None, file_correct: bool | None, use_file: bool
) -> tuple[bool | None, str]:
    """(correct, source) of one response that nobody set by hand."""
    if use_file and file_correct is not None:
        return file_correct, "file"
    if judge_rule == NOT_JUDGED_RULE:
        return None, "not_judged"
    return judge_verdict, "judge"


def settle_verdicts(
    session: Session, *, project_id: int, response_ids: list[int] | None = None
) -> int:
    """Set ``correct`` and ``verdict_source`` of every judged response of the project (or
    of ``response_ids``) that no person set by hand, by the project's choice; returns how
    many were set."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    use_file = project.verdicts_from == "file"
    rows = session.execute(
        select(Response.id, Response.file_correct, Judgement.verdict, Judgement.rule)
        .join(Strategy, Strategy.id == Response.strategy_id)
        .join(Judgement, and_(Judgement.response_id == Response.id, Judgement.judge == RULE_JUDGE))
        .where(
            Strategy.project_id == project_id,
            func.coalesce(Response.verdict_source, "") != "human",
            *([Response.id.in_(response_ids)] if response_ids is not None else []),
        )
    ).all()
    updates = []
    for rid, file_correct, verdict, rule in rows:
        ok, source = settled_verdict(verdict, rule, file_correct, use_file)
        updates.append({"rid": rid, "ok": ok, "src": source})
    if updates:
        table = Response.__table__
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("rid"))
            .values(correct=bindparam("ok"), verdict_source=bindparam("src")),
            updates,
        )
    return len(updates)


def set_verdicts_from(session: Session, *, project_id: int, verdicts_from: str) -> int:
    """The project's choice of whose verdicts count (``judge`` or ``file``), applied now."""
    if verdicts_from not in VERDICTS_FROM:
        raise BadInput(f"verdicts_from must be judge or file, not {verdicts_from!r}")
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    project.verdicts_from = verdicts_from
    session.flush()
    return settle_verdicts(session, project_id=project_id)


HUMAN_VERDICTS = {"right": True, "wrong": False}


def set_human_verdict(
    session: Session, *, project_id: int, response_id: int, verdict: str, by: str
) -> Response:
    """Set one response's verdict by hand (``right`` or ``wrong``), recorded as a human
    verdict with who and when; ``clear`` gives the response back to the project's source."""
    response = session.get(Response, response_id)
    strategy = session.get(Strategy, response.strategy_id) if response is not None else None
    if response is None or strategy is None or strategy.project_id != project_id:
        raise NotFound(f"response {response_id} not found in project {project_id}")
    if verdict == "clear":
        response.verdict_source, response.verdict_by, response.verdict_at = "judge", None, None
        session.flush()
        settle_verdicts(session, project_id=project_id, response_ids=[response_id])
        session.refresh(response)
        return response
    if verdict not in HUMAN_VERDICTS:
        raise BadInput(f"verdict must be right, wrong or clear, not {verdict!r}")
    response.correct = HUMAN_VERDICTS[verdict]
    response.verdict_source, response.verdict_by = "human", (by or "someone")[:200]
    response.verdict_at = utcnow()
    session.flush()
    return response
