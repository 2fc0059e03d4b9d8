"""How answers were judged: the per-strategy table and each judgement, page and JSON twin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.deps import SessionDep
from app.ids import MAX_ID
from app.schemas.judgements import JudgementsPage, LlmJudgeCreate, LlmJudgeStarted
from app.security.guards import ProjectId
from app.services import judgements as svc
from app.services.errors import BadInput
from app.specs.forms import FormState, spec_fields
from app.web import is_htmx, render

router = APIRouter()
Show = Annotated[str, Query(description="all | disagree (with the file) | wrong | right")]
Judge = Annotated[str, Query(max_length=200, description="auto (the rule judge) or llm:<model>")]
StrategyId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this strategy")]
PageNo = Annotated[int, Query(ge=1, le=100_000, description="Page number")]


@router.get(
    "/api/v1/projects/{project_id:id}/judgements",
    response_model=JudgementsPage,
    tags=["judgements"],
)
def api_judgements(
    project_id: ProjectId,
    session: SessionDep,
    judge: Judge = "auto",
    show: Show = "all",
    strategy: StrategyId = None,
    page: PageNo = 1,
) -> JudgementsPage:
    return svc.get_judgements_page(
        session, project_id=project_id, judge=judge, show=show, strategy_id=strategy, page=page
    )


@router.get(
    "/projects/{project_id:id}/judgements", response_class=HTMLResponse, include_in_schema=False
)
def judgements_page(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    judge: Judge = "auto",
    show: Show = "all",
    strategy: StrategyId = None,
    page: PageNo = 1,
) -> HTMLResponse:
    data = svc.get_judgements_page(
        session, project_id=project_id, judge=judge, show=show, strategy_id=strategy, page=page
    )
    return render(
        request,
        "pages/judgements/index.html",
        {"page": data},
        partial="partials/judgements/_list.html",
        json_url=f"/api/v1/projects/{project_id}/judgements",
    )


@router.post(
    "/api/v1/projects/{project_id:id}/judgements/llm",
    response_model=LlmJudgeStarted,
    status_code=201,
    tags=["judgements"],
)
def api_start_llm_judge(
    project_id: ProjectId, data: LlmJudgeCreate, session: SessionDep
) -> LlmJudgeStarted:
    """Queue the LLM judge (gpu queue); its verdicts appear under judge ``llm:<model>``."""
    started = svc.start_llm_judge(session, project_id=project_id, data=data)
    session.commit()
    return started


@router.post(
    "/projects/{project_id:id}/judgements/llm", include_in_schema=False, response_model=None
)
def start_llm_judge_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    model: Annotated[str, Form(max_length=1000)] = "",
    limit: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse | RedirectResponse:
    """Refused values come back in the page (422): what was typed, the reason at its field."""
    values = {"model": [model], "limit": [limit]}
    try:
        fields = spec_fields(LlmJudgeCreate, values)
        data = LlmJudgeCreate(**{"model": "", **fields})
        started = svc.start_llm_judge(session, project_id=project_id, data=data)
    except (ValidationError, BadInput) as exc:
        session.rollback()
        page = svc.get_judgements_page(session, project_id=project_id)
        state = FormState.refused(exc, values)
        return render(
            request,
            "pages/judgements/index.html",
            {"page": page, "llm_form": state},
            status_code=422,
        )
    session.commit()
    url = f"/jobs/{started.job_id}"
    if is_htmx(request):
        return HTMLResponse("", headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
