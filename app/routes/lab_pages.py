"""The strategy lab's page (``/projects/{id}/lab``) and its JSON twin, with the forms that
install presets, estimate a sample (an htmx fragment) and start it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.deps import SessionDep
from app.lab import recipes as lab_recipes
from app.lab import samples as lab_samples
from app.lab.page import lab_page
from app.schemas.lab import LabPage
from app.security.guards import ProjectId
from app.services.errors import BadInput
from app.services.projects import get_project_row, project_read
from app.specs.lab import LabSampleCreate
from app.web import render

router = APIRouter()
PAGE = "/projects/{project_id:id}/lab"


@router.get("/api/v1/projects/{project_id:id}/lab", response_model=LabPage, tags=["lab"])
def api_lab_page(project_id: ProjectId, session: SessionDep) -> LabPage:
    """The lab page's data: teachers (keys as "set" at most), recipes, presets, samples."""
    get_project_row(session, project_id=project_id)
    return lab_page(session, project_id=project_id)


@router.get(PAGE, response_class=HTMLResponse, include_in_schema=False)
def lab_page_html(request: Request, project_id: ProjectId, session: SessionDep) -> HTMLResponse:
    project = project_read(session, get_project_row(session, project_id=project_id))
    page = lab_page(session, project_id=project_id)
    session.commit()  # a project made without the target teacher (not through the app) gets it
    return render(
        request,
        "pages/lab/index.html",
        {"project": project, "page": page},
        partial="partials/lab/_runs.html",
        json_url=f"/api/v1/projects/{project_id}/lab",
    )


def _sample(recipes: list[str], n: int, seed: int, budget: str) -> LabSampleCreate:
    try:
        cap = float(budget) if budget.strip() else None
        return LabSampleCreate(recipes=recipes, n_questions=n, seed=seed, budget=cap)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else "not a number"
        raise BadInput(f"sample: {msg}", field="recipes") from None


Recipes = Annotated[list[str], Form(max_length=20)]
Int = Annotated[int, Form(ge=0, le=5000)]
Text = Annotated[str, Form(max_length=40)]


@router.post(PAGE + "/estimate", include_in_schema=False, response_model=None)
def estimate_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    recipes: Recipes,
    n_questions: Int = 50,
    seed: Int = 0,
    budget: Text = "",
) -> Response:
    data = _sample(recipes, n_questions, seed, budget)
    estimate = lab_samples.estimate_sample(session, project_id=project_id, data=data)
    return render_estimate(request, session, project_id, estimate)


def render_estimate(
    request: Request, session: SessionDep, project_id: int, estimate: dict[str, Any]
) -> Response:
    """The estimate: a fragment for htmx, a page of its own without script."""
    return render(
        request,
        "pages/lab/estimate.html",
        {
            "project": project_read(session, get_project_row(session, project_id=project_id)),
            "estimate": estimate,
        },
        partial="partials/lab/_estimate.html",
    )


@router.post(PAGE + "/samples", include_in_schema=False, response_model=None)
def start_form(
    project_id: ProjectId,
    session: SessionDep,
    recipes: Recipes,
    n_questions: Int = 50,
    seed: Int = 0,
    budget: Text = "",
) -> Response:
    data = _sample(recipes, n_questions, seed, budget)
    lab_samples.start_sample(session, project_id=project_id, data=data)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/lab", status_code=303)


@router.post(PAGE + "/presets", include_in_schema=False, response_model=None)
def presets_form(
    project_id: ProjectId, session: SessionDep, teacher: Annotated[str, Form(max_length=100)]
) -> Response:
    lab_recipes.install_presets(session, project_id=project_id, teacher=teacher)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/lab", status_code=303)
