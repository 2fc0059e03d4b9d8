"""The playground: ask the untuned target or trained adapters a question (page, JSON twin,
start by form or JSON). The answers come from a ``playground`` job (app.services.playground)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.deps import SessionDep
from app.ids import MAX_ID
from app.schemas.jobs import JobRead
from app.schemas.playground import PlaygroundPage
from app.security.guards import ProjectId
from app.services import playground as svc
from app.services.errors import BadInput
from app.specs.errors import SpecInputError
from app.specs.forms import TRUE, FormState, spec_fields
from app.specs.playground import PlaygroundCreate
from app.web import is_htmx, render

router = APIRouter()
QuestionQ = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Ask this question of the project's")
]
RunQ = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Show this run (a playground job id)")
]


@router.get(
    "/api/v1/projects/{project_id:id}/playground",
    response_model=PlaygroundPage,
    tags=["playground"],
)
def api_playground(
    project_id: ProjectId, session: SessionDep, question: QuestionQ = None, run: RunQ = None
) -> PlaygroundPage:
    """What may answer (the untuned target, each finished validation run's adapter), the
    run shown with its answers side by side, and the earlier runs."""
    return svc.get_playground_page(session, project_id=project_id, question_id=question, run_id=run)


@router.get(
    "/projects/{project_id:id}/playground", response_class=HTMLResponse, include_in_schema=False
)
def playground_page(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    question: QuestionQ = None,
    run: RunQ = None,
) -> HTMLResponse:
    return _page(request, session, project_id, question, run, None)


def _page(
    request: Request,
    session: Session,
    project_id: int,
    question: int | None,
    run: int | None,
    form: FormState | None,
) -> HTMLResponse:
    data = svc.get_playground_page(session, project_id=project_id, question_id=question, run_id=run)
    query = f"?{request.url.query}" if request.url.query else ""
    return render(
        request,
        "pages/playground/index.html",
        {"page": data, "form": form or FormState()},
        partial="partials/playground/_run.html",
        status_code=422 if form else 200,
        json_url=f"/api/v1/projects/{project_id}/playground{query}",
    )


@router.post(
    "/api/v1/projects/{project_id:id}/playground",
    response_model=JobRead,
    status_code=201,
    tags=["playground"],
)
def api_start_playground(
    project_id: ProjectId, data: PlaygroundCreate, session: SessionDep
) -> JobRead:
    """Queue a playground job (gpu queue): each chosen model answers the question greedily
    in the chat template, as a validation evaluates; the answers are the job's result."""
    job = svc.start_playground(session, project_id=project_id, data=data)
    session.commit()
    return job


@router.post("/projects/{project_id:id}/playground", include_in_schema=False, response_model=None)
async def start_playground_form(
    request: Request, project_id: ProjectId, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    """The form; refused values come back in the page with 422, as typed."""
    form = await request.form()
    values = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    return await run_in_threadpool(_start_from_form, request, session, project_id, values)


def _start_from_form(
    request: Request, session: Session, project_id: int, values: dict[str, list[str]]
) -> HTMLResponse | RedirectResponse:
    question = values.get("question_id", [""])[-1].strip()
    try:
        fields = spec_fields(PlaygroundCreate, values, skip=("base",))
        fields["base"] = any(v.lower() in TRUE for v in values.get("base", []))
        try:
            data = PlaygroundCreate(**fields)
        except ValidationError as exc:
            raise SpecInputError.of(exc) from None
        job = svc.start_playground(session, project_id=project_id, data=data)
    except (SpecInputError, BadInput) as exc:
        session.rollback()
        state = FormState.refused(exc, values)
        ok = question.isdigit() and "question_id" not in state.errors and len(question) < 11
        return _page(request, session, project_id, int(question) if ok else None, None, state)
    session.commit()
    url = f"/projects/{project_id}/playground?run={job.id}"
    if is_htmx(request):
        return HTMLResponse("", headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
