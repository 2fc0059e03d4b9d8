"""The lab's costs: the project's price table (per model, per million tokens) and its
budget, as JSON and as the lab page's forms. Owners and admins change them
(``app.security.roles``): a price set to 0 would let a run spend past the budget."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, Query, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from app.deps import SessionDep
from app.lab import budget as lab_budget
from app.schemas.lab import BudgetRead, BudgetSet, PriceRead, PriceSet
from app.security.guards import ProjectId
from app.services.errors import BadInput
from app.services.projects import get_project_row

router = APIRouter()
API = "/api/v1/projects/{project_id:id}/lab"
PAGE = "/projects/{project_id:id}/lab"
Model = Annotated[str, Query(min_length=1, max_length=500, description="The model's name")]
Text = Annotated[str, Form(max_length=500)]
M = TypeVar("M", bound=BaseModel)


@router.get(API + "/prices", response_model=list[PriceRead], tags=["lab"])
def api_list_prices(project_id: ProjectId, session: SessionDep) -> list[PriceRead]:
    """The price table, with every teacher's model (a model with no price costs 0)."""
    get_project_row(session, project_id=project_id)
    return lab_budget.list_prices(session, project_id=project_id)


@router.post(API + "/prices", response_model=PriceRead, tags=["lab"])
def api_set_price(project_id: ProjectId, data: PriceSet, session: SessionDep) -> PriceRead:
    """Owners: set what a model costs the project (a new row or a changed one)."""
    get_project_row(session, project_id=project_id)
    saved = lab_budget.set_price(session, project_id=project_id, data=data)
    session.commit()
    return saved


@router.delete(API + "/prices", status_code=204, tags=["lab"])
def api_delete_price(project_id: ProjectId, model: Model, session: SessionDep) -> Response:
    """Owners: remove a model's price (``?model=``: model names hold slashes)."""
    lab_budget.delete_price(session, project_id=project_id, model=model)
    session.commit()
    return Response(status_code=204)


@router.get(API + "/budget", response_model=BudgetRead, tags=["lab"])
def api_budget(project_id: ProjectId, session: SessionDep) -> BudgetRead:
    """The project's budget, what its lab runs spent and what is left."""
    get_project_row(session, project_id=project_id)
    return lab_budget.get_budget(session, project_id=project_id)


@router.put(API + "/budget", response_model=BudgetRead, tags=["lab"])
def api_set_budget(project_id: ProjectId, data: BudgetSet, session: SessionDep) -> BudgetRead:
    """Owners: the most all the project's lab runs may spend together (null: no limit)."""
    get_project_row(session, project_id=project_id)
    saved = lab_budget.set_budget(session, project_id=project_id, data=data)
    session.commit()
    return saved


def _number(value: str, field: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise BadInput(f"{field}: '{value[:40]}' is not a number", field=field) from None


def _valid(build: type[M], **values: object) -> M:
    try:
        return build(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else None
        raise BadInput(f"{field}: {first['msg']}", field=field) from None


@router.post(PAGE + "/prices", include_in_schema=False, response_model=None)
def price_form(
    project_id: ProjectId,
    session: SessionDep,
    model: Text,
    prompt_per_mtok: Annotated[str, Form(max_length=40)],
    completion_per_mtok: Annotated[str, Form(max_length=40)],
) -> Response:
    get_project_row(session, project_id=project_id)
    data = _valid(
        PriceSet,
        model=model.strip(),
        prompt_per_mtok=_number(prompt_per_mtok, "prompt_per_mtok"),
        completion_per_mtok=_number(completion_per_mtok, "completion_per_mtok"),
    )
    lab_budget.set_price(session, project_id=project_id, data=data)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/lab#lab-costs", status_code=303)


@router.post(PAGE + "/budget", include_in_schema=False, response_model=None)
def budget_form(
    project_id: ProjectId,
    session: SessionDep,
    limit: Annotated[str, Form(max_length=40)] = "",
    currency: Annotated[str, Form(max_length=10)] = "USD",
) -> Response:
    get_project_row(session, project_id=project_id)
    data = _valid(BudgetSet, limit=_number(limit, "limit"), currency=currency.strip())
    lab_budget.set_budget(session, project_id=project_id, data=data)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/lab#lab-costs", status_code=303)
