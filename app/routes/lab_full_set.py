"""The full set with the lab's pick: its estimate and its start, as JSON and as the lab
page's form (``app.lab.full_set``). Editors start it, as they start samples."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.deps import SessionDep
from app.lab import full_set as lab_full_set
from app.routes.lab_pages import estimate_error, lab_page_with_forms, render_estimate
from app.schemas.jobs import JobRead
from app.security.guards import ProjectId
from app.services.errors import BadInput
from app.services.projects import get_project_row
from app.specs.forms import FormState
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


def _ask(strategy_id: str, budget: str) -> LabFullSetCreate:
    """The form's request; a refused value raises naming its field."""
    if budget.strip():
        try:
            float(budget)
        except ValueError:
            raise BadInput(f"budget: '{budget[:40]}' is not a number", field="budget") from None
    if not strategy_id.strip().isdigit():
        raise BadInput("strategy_id: choose a strategy the lab made", field="strategy_id")
    return LabFullSetCreate(
        strategy_id=int(strategy_id),
        budget=budget.strip() or None,  # type: ignore[arg-type]  # pydantic reads "2" as 2.0
    )


Text = Annotated[str, Form(max_length=40)]
FORM = "full_set_form"


@router.post(PAGE + "/estimate", include_in_schema=False, response_model=None)
def estimate_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    strategy_id: Text,
    budget: Text = "",
) -> Response:
    try:
        data = _ask(strategy_id, budget)
        estimate = lab_full_set.estimate_full_set(session, project_id=project_id, data=data)
    except (BadInput, ValidationError) as exc:
        session.rollback()
        state = FormState.refused(exc, {"strategy_id": [strategy_id], "budget": [budget]})
        return estimate_error(request, session, project_id, FORM, state)
    return render_estimate(request, session, project_id, estimate)


@router.post(PAGE, include_in_schema=False, response_model=None)
def start_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    strategy_id: Text,
    budget: Text = "",
) -> Response:
    try:
        data = _ask(strategy_id, budget)
        lab_full_set.start_full_set(session, project_id=project_id, data=data)
    except (BadInput, ValidationError) as exc:
        session.rollback()
        state = FormState.refused(exc, {"strategy_id": [strategy_id], "budget": [budget]})
        return lab_page_with_forms(request, session, project_id, **{FORM: state})
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/lab", status_code=303)
