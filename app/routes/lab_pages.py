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
from app.specs.forms import FormState
from app.specs.lab import LabSampleCreate
from app.web import is_htmx, render

router = APIRouter()
PAGE = "/projects/{project_id:id}/lab"


@router.get("/api/v1/projects/{project_id:id}/lab", response_model=LabPage, tags=["lab"])
def api_lab_page(project_id: ProjectId, session: SessionDep) -> LabPage:
    """The lab page's data: teachers (keys as "set" at most), recipes, presets, samples."""
    get_project_row(session, project_id=project_id)
    return lab_page(session, project_id=project_id)


@router.get(PAGE, response_class=HTMLResponse, include_in_schema=False)
def lab_page_html(request: Request, project_id: ProjectId, session: SessionDep) -> HTMLResponse:
    return lab_page_with_forms(request, session, project_id)


def lab_page_with_forms(
    request: Request, session: SessionDep, project_id: int, **forms: FormState
) -> HTMLResponse:
    """The lab page; with a refused form (``sample_form``, ``full_set_form``: 422), that
    form as it was sent, each reason next to its field."""
    project = project_read(session, get_project_row(session, project_id=project_id))
    page = lab_page(session, project_id=project_id)
    session.commit()  # a project made without the target teacher (not through the app) gets it
    return render(
        request,
        "pages/lab/index.html",
        {"project": project, "page": page, **forms},
        partial=None if forms else "partials/lab/_runs.html",
        status_code=422 if forms else 200,
        json_url=f"/api/v1/projects/{project_id}/lab",
    )


class FormRefused(BadInput):
    """Every refused field of a form at once (``FormState.refused`` reads ``fields``)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _number(value: str, name: str, errors: dict[str, str]) -> str | None:
    """``value`` when it is empty or a number, else None with the reason in ``errors``."""
    try:
        float(value or 0)
    except ValueError:
        errors[name] = f"'{value[:40]}' is not a number"
        return None
    return value.strip() or None


def _sample(recipes: list[str] | None, n: str, seed: str, budget: str) -> LabSampleCreate:
    """The form's sample; every refused value named by its field at once."""
    errors: dict[str, str] = {}
    values = {
        "recipes": recipes or [],
        "n_questions": _number(n, "n_questions", errors) or 0,
        "seed": _number(seed, "seed", errors) or 0,
        "budget": _number(budget, "budget", errors),
    }
    try:
        data = LabSampleCreate(**values)  # type: ignore[arg-type]  # pydantic reads "50" as 50
    except ValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else "recipes"
            errors.setdefault(name, e["msg"])
    if errors:
        raise FormRefused(errors)
    return data


def _values(recipes: list[str] | None, n: str, seed: str, budget: str) -> dict[str, list[str]]:
    return {"recipes": recipes or [], "n_questions": [n], "seed": [seed], "budget": [budget]}


Recipes = Annotated[list[str] | None, Form(max_length=20)]  # none ticked: refused, named
Text = Annotated[str, Form(max_length=40)]


def estimate_error(
    request: Request, session: SessionDep, project_id: int, form: str, state: FormState
) -> Response:
    """A refused estimate: for htmx, the reasons where the estimate goes (htmx swaps 2xx
    only); without script, the lab page with the form as sent (422)."""
    if is_htmx(request):
        return render(request, "partials/lab/_estimate_refused.html", {"form": state})
    return lab_page_with_forms(request, session, project_id, **{form: state})


@router.post(PAGE + "/estimate", include_in_schema=False, response_model=None)
def estimate_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    recipes: Recipes = None,
    n_questions: Text = "50",
    seed: Text = "0",
    budget: Text = "",
) -> Response:
    values = _values(recipes, n_questions, seed, budget)
    try:
        data = _sample(recipes, n_questions, seed, budget)
        estimate = lab_samples.estimate_sample(session, project_id=project_id, data=data)
    except (BadInput, ValidationError) as exc:
        session.rollback()
        state = FormState.refused(exc, values)
        return estimate_error(request, session, project_id, "sample_form", state)
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
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    recipes: Recipes = None,
    n_questions: Text = "50",
    seed: Text = "0",
    budget: Text = "",
) -> Response:
    values = _values(recipes, n_questions, seed, budget)
    try:
        data = _sample(recipes, n_questions, seed, budget)
        lab_samples.start_sample(session, project_id=project_id, data=data)
    except (BadInput, ValidationError) as exc:
        session.rollback()
        state = FormState.refused(exc, values)
        return lab_page_with_forms(request, session, project_id, sample_form=state)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/lab", status_code=303)


@router.post(PAGE + "/presets", include_in_schema=False, response_model=None)
def presets_form(
    project_id: ProjectId, session: SessionDep, teacher: Annotated[str, Form(max_length=100)]
) -> Response:
    lab_recipes.install_presets(session, project_id=project_id, teacher=teacher)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/lab", status_code=303)
