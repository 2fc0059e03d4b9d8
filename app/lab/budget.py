"""What the lab costs a project: its price table (per model, per million tokens), its
budget (the most all its lab runs may spend together), what it spent, and the limit a run
works within (its own budget and what is left of the project's, counting what the same job
spent before a retry or a resume)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.lab.types import Price
from app.models import LabAnswer, LabBudget, LabPrice, LabTeacher
from app.schemas.lab import BudgetRead, BudgetSet, PriceRead, PriceSet
from app.services.errors import NotFound


def price_of(session: Session, *, project_id: int, model: str) -> Price:
    """The project's price for ``model``; nothing (0) when the table has no row for it."""
    row = session.scalars(
        select(LabPrice).where(LabPrice.project_id == project_id, LabPrice.model == model)
    ).first()
    return Price(row.prompt_per_mtok, row.completion_per_mtok) if row else Price()


def list_prices(session: Session, *, project_id: int) -> list[PriceRead]:
    """The price table, and the teachers' models that have no row yet (they cost 0)."""
    users: dict[str, list[str]] = {}
    for name, model in session.execute(
        select(LabTeacher.name, LabTeacher.model)
        .where(LabTeacher.project_id == project_id, LabTeacher.kind != "target")
        .order_by(LabTeacher.name)
    ):
        users.setdefault(model, []).append(name)
    rows = session.scalars(
        select(LabPrice).where(LabPrice.project_id == project_id).order_by(LabPrice.model)
    ).all()
    out = [
        PriceRead(
            model=r.model,
            prompt_per_mtok=r.prompt_per_mtok,
            completion_per_mtok=r.completion_per_mtok,
            used_by=users.get(r.model, []),
        )
        for r in rows
    ]
    priced = {r.model for r in rows}
    out += [
        PriceRead(model=m, prompt_per_mtok=0.0, completion_per_mtok=0.0, used_by=names)
        for m, names in sorted(users.items())
        if m not in priced
    ]
    return out


def set_price(session: Session, *, project_id: int, data: PriceSet) -> PriceRead:
    row = session.scalars(
        select(LabPrice).where(LabPrice.project_id == project_id, LabPrice.model == data.model)
    ).first()
    if row is None:
        row = LabPrice(project_id=project_id, model=data.model)
        session.add(row)
    row.prompt_per_mtok = data.prompt_per_mtok
    row.completion_per_mtok = data.completion_per_mtok
    session.flush()
    return next(p for p in list_prices(session, project_id=project_id) if p.model == data.model)


def delete_price(session: Session, *, project_id: int, model: str) -> None:
    row = session.scalars(
        select(LabPrice).where(LabPrice.project_id == project_id, LabPrice.model == model)
    ).first()
    if row is None:
        raise NotFound(f"no price for model '{model}' in project {project_id}")
    session.delete(row)
    session.flush()


def project_spent(session: Session, *, project_id: int) -> float:
    total = session.scalar(
        select(func.sum(LabAnswer.cost)).where(LabAnswer.project_id == project_id)
    )
    return float(total or 0.0)


def job_spent(session: Session, *, job_id: int) -> float:
    total = session.scalar(select(func.sum(LabAnswer.cost)).where(LabAnswer.job_id == job_id))
    return float(total or 0.0)


def get_budget(session: Session, *, project_id: int) -> BudgetRead:
    row = session.get(LabBudget, project_id)
    spent = project_spent(session, project_id=project_id)
    limit = row.limit if row is not None else None
    return BudgetRead(
        limit=limit,
        currency=row.currency if row is not None else "USD",
        spent=spent,
        left=None if limit is None else max(0.0, limit - spent),
    )


def set_budget(session: Session, *, project_id: int, data: BudgetSet) -> BudgetRead:
    row = session.get(LabBudget, project_id)
    if row is None:
        row = LabBudget(project_id=project_id)
        session.add(row)
    row.limit, row.currency = data.limit, data.currency
    session.flush()
    return get_budget(session, project_id=project_id)


@dataclass(frozen=True)
class RunLimit:
    """What one run may still spend: ``cap`` for the job's whole spend (None: no limit), of
    which ``spent_before`` went on earlier tries of the same job; ``named`` says which
    budget binds, for the message that stops the run."""

    cap: float | None
    spent_before: float
    named: str


def run_limit(
    session: Session, *, project_id: int, job_id: int | None, run_budget: float | None
) -> RunLimit:
    """The tighter of the run's own budget and what the project's budget leaves it (what
    other runs spent is taken off; what this job spent on an earlier try counts against
    both)."""
    before = job_spent(session, job_id=job_id) if job_id is not None else 0.0
    project = get_budget(session, project_id=project_id)
    limits: list[tuple[float, str]] = []
    if run_budget is not None:
        limits.append((run_budget, f"the run's budget {run_budget:.6g}"))
    if project.limit is not None:
        others = project.spent - before
        limits.append(
            (
                max(0.0, project.limit - others),
                f"the project's budget {project.limit:.6g} ({others:.6g} spent by other runs)",
            )
        )
    if not limits:
        return RunLimit(None, before, "no budget")
    cap, named = min(limits)
    return RunLimit(cap, before, named)
