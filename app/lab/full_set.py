"""The full set: once a sample's scan picked a strategy, the rest of the project's questions
are answered with that strategy's exact recipe version, within a budget, estimate first.
It is a ``lab_sample`` job with ``purpose="full_set"``: the same engine, cache and budget;
when it ends the answers join the same strategy (``app.lab.promote``) and no scan starts;
the strategy's training file is the export (``.../strategies/{id}/training.jsonl``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.lab.samples import estimate_spec, start_spec
from app.models import LabRecipeVersion, Question, Response, Scan, Strategy
from app.schemas.jobs import JobRead
from app.schemas.lab import LabStrategyRead
from app.services.errors import BadInput, NotFound
from app.specs.lab import LabFullSetCreate, LabSampleSpec


def lab_strategy(session: Session, *, project_id: int, strategy_id: int) -> Strategy:
    row = session.get(Strategy, strategy_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"strategy {strategy_id} not found in project {project_id}")
    if row.origin != "lab" or not row.lab:
        raise BadInput(
            f"strategy '{row.name}' was not made by the strategy lab: it has no recipe to "
            "generate the rest with",
            field="strategy_id",
        )
    if session.get(LabRecipeVersion, row.lab["recipe_version_id"]) is None:
        raise BadInput(f"the recipe version that made '{row.name}' was deleted")
    return row


def remaining_questions(session: Session, *, strategy: Strategy) -> list[int]:
    """The project's questions the strategy has no answer to, in upload order."""
    answered = select(Response.question_id).where(Response.strategy_id == strategy.id)
    return list(
        session.scalars(
            select(Question.id)
            .where(Question.project_id == strategy.project_id, Question.id.not_in(answered))
            .order_by(Question.position, Question.id)
        )
    )


def full_set_spec(session: Session, *, project_id: int, data: LabFullSetCreate) -> LabSampleSpec:
    strategy = lab_strategy(session, project_id=project_id, strategy_id=data.strategy_id)
    questions = remaining_questions(session, strategy=strategy)
    if not questions:
        raise BadInput(f"'{strategy.name}' already answers every question of the project")
    return LabSampleSpec(
        recipe_version_ids=[strategy.lab["recipe_version_id"]],  # type: ignore[index]
        question_ids=questions,
        budget=data.budget,
        concurrency=data.concurrency,
        purpose="full_set",
    )


def estimate_full_set(
    session: Session, *, project_id: int, data: LabFullSetCreate
) -> dict[str, Any]:
    """Tokens and worst-case cost of the rest, and the budget that would bind."""
    spec = full_set_spec(session, project_id=project_id, data=data)
    return estimate_spec(session, project_id=project_id, spec=spec)


def start_full_set(session: Session, *, project_id: int, data: LabFullSetCreate) -> JobRead:
    spec = full_set_spec(session, project_id=project_id, data=data)
    return start_spec(session, project_id=project_id, spec=spec)


def current_pick(session: Session, *, project_id: int) -> Strategy | None:
    """The lab strategy the newest finished scan of lab strategies recommends, if any."""
    names = {
        s.name: s
        for s in session.scalars(
            select(Strategy).where(Strategy.project_id == project_id, Strategy.origin == "lab")
        )
    }
    for recommended in session.scalars(
        select(Scan.recommended)
        .where(Scan.project_id == project_id, Scan.recommended.is_not(None))
        .order_by(Scan.id.desc())
    ):
        if recommended in names:
            return names[recommended]
    return None


def lab_strategies(session: Session, *, project_id: int) -> list[LabStrategyRead]:
    """The lab's strategies, the pick first, with what the full set would still ask."""
    pick = current_pick(session, project_id=project_id)
    out = []
    for row in session.scalars(
        select(Strategy)
        .where(Strategy.project_id == project_id, Strategy.origin == "lab")
        .order_by(Strategy.id)
    ):
        lab = row.lab or {}
        answered = session.scalar(
            select(func.count(Response.id)).where(Response.strategy_id == row.id)
        )
        out.append(
            LabStrategyRead(
                id=row.id,
                name=row.name,
                recipe=f"{lab.get('recipe', '?')} v{lab.get('version', '?')}",
                answers=int(answered or 0),
                remaining=len(remaining_questions(session, strategy=row)),
                cost=float(lab.get("cost") or 0.0),
                pick=pick is not None and pick.id == row.id,
                export_url=f"/api/v1/projects/{project_id}/strategies/{row.id}/training.jsonl",
            )
        )
    return sorted(out, key=lambda s: not s.pick)
