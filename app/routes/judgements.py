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
    model: Annotated[str, Form()] = "",
    limit: Annotated[int | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    try:
        data = LlmJudgeCreate(model=model.strip(), limit=limit)
    except ValidationError as exc:
        raise BadInput("; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors())) from exc
    started = svc.start_llm_judge(session, project_id=project_id, data=data)
    session.commit()
    url = f"/jobs/{started.job_id}"
    if is_htmx(request):
        return HTMLResponse("", headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
