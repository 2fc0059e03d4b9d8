"""The full set with the lab's pick: its estimate and its start, as JSON and as the lab
page's form (``app.lab.full_set``). Editors start it, as they start samples."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.deps import SessionDep
from app.lab import full_set as lab_full_set
from app.routes.lab_pages import render_estimate
from app.schemas.jobs import JobRead
from app.security.guards import ProjectId
from app.services.errors import BadInput
from app.services.projects import get_project_row
from app.specs.lab import LabFullSetCreate

router = APIRouter()
API = "/api/v1/projects/{project_id:id}/lab/full-set"
PAGE = "/projects/{project_id:id}/lab/full-set"


@router.post(API + "/estimate", tags=["lab"])
def api_estimate_full_set(
    project_id: ProjectId, data: LabFullSetCreate, session: SessionDep
) -> dict[str, Any]:
    """Tokens and worst-case cost of answering the rest of the questions with the lab
    strategy's recipe version; nothing is sent."""
    get_project_row(session, project_id=project_id)
    return lab_full_set.estimate_full_set(session, project_id=project_id, data=data)


@router.post(API, response_model=JobRead, status_code=202, tags=["lab"])
def api_start_full_set(
    project_id: ProjectId, data: LabFullSetCreate, session: SessionDep
) -> JobRead:
    """Queue the full set: the strategy's recipe version x the questions it lacks."""
    get_project_row(session, project_id=project_id)
    job = lab_full_set.start_full_set(session, project_id=project_id, data=data)
    session.commit()
    return job


def _ask(strategy_id: int, budget: str) -> LabFullSetCreate:
    try:
        cap = float(budget) if budget.strip() else None
        return LabFullSetCreate(strategy_id=strategy_id, budget=cap)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else "not a number"
        raise BadInput(f"budget: {msg}", field="budget") from None


StrategyId = Annotated[int, Form(ge=1)]
Budget = Annotated[str, Form(max_length=40)]


@router.post(PAGE + "/estimate", include_in_schema=False, response_model=None)
def estimate_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    strategy_id: StrategyId,
    budget: Budget = "",
) -> Response:
    data = _ask(strategy_id, budget)
    estimate = lab_full_set.estimate_full_set(session, project_id=project_id, data=data)
    return render_estimate(request, session, project_id, estimate)


@router.post(PAGE, include_in_schema=False, response_model=None)
def start_form(
    project_id: ProjectId, session: SessionDep, strategy_id: StrategyId, budget: Budget = ""
) -> Response:
    lab_full_set.start_full_set(session, project_id=project_id, data=_ask(strategy_id, budget))
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/lab", status_code=303)
