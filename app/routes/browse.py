"""Browsing: a strategy's responses, the question list, one question side by side."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.deps import PathId, SessionDep
from app.schemas.browse import QuestionList, QuestionPage, ResponsesPage
from app.security.guards import ProjectId
from app.services import browse as svc
from app.web import render

router = APIRouter()
QueryText = Annotated[str, Query(max_length=500, description="Text to search for")]
PageNo = Annotated[int, Query(ge=1, le=100_000, description="Page number")]


@router.get(
    "/api/v1/projects/{project_id:id}/strategies/{strategy_id:id}/responses",
    response_model=ResponsesPage,
    tags=["browse"],
)
def api_responses(
    project_id: ProjectId,
    strategy_id: PathId,
    session: SessionDep,
    q: QueryText = "",
    page: PageNo = 1,
) -> ResponsesPage:
    return svc.list_responses(
        session, project_id=project_id, strategy_id=strategy_id, q=q, page=page
    )


@router.get(
    "/projects/{project_id:id}/strategies/{strategy_id:id}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def responses_page(
    request: Request,
    project_id: ProjectId,
    strategy_id: PathId,
    session: SessionDep,
    q: QueryText = "",
    page: PageNo = 1,
) -> HTMLResponse:
    data = svc.list_responses(
        session, project_id=project_id, strategy_id=strategy_id, q=q, page=page
    )
    url = f"/api/v1/projects/{project_id}/strategies/{strategy_id}/responses"
    return render(
        request,
        "pages/strategies/show.html",
        {"page": data},
        partial="partials/strategies/_responses.html",
        json_url=url,
    )


@router.get(
    "/api/v1/projects/{project_id:id}/questions", response_model=QuestionList, tags=["browse"]
)
def api_questions(
    project_id: ProjectId, session: SessionDep, q: QueryText = "", page: PageNo = 1
) -> QuestionList:
    return svc.list_questions(session, project_id=project_id, q=q, page=page)


@router.get(
    "/projects/{project_id:id}/questions", response_class=HTMLResponse, include_in_schema=False
)
def questions_page(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    q: QueryText = "",
    page: PageNo = 1,
) -> HTMLResponse:
    data = svc.list_questions(session, project_id=project_id, q=q, page=page)
    return render(
        request,
        "pages/questions/index.html",
        {"page": data},
        partial="partials/questions/_list.html",
        json_url=f"/api/v1/projects/{project_id}/questions",
    )


@router.get(
    "/api/v1/projects/{project_id:id}/questions/{question_id:id}",
    response_model=QuestionPage,
    tags=["browse"],
)
def api_question(project_id: ProjectId, question_id: PathId, session: SessionDep) -> QuestionPage:
    return svc.get_question_page(session, project_id=project_id, question_id=question_id)


@router.get(
    "/projects/{project_id:id}/questions/{question_id:id}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def question_page(
    request: Request, project_id: ProjectId, question_id: PathId, session: SessionDep
) -> HTMLResponse:
    data = svc.get_question_page(session, project_id=project_id, question_id=question_id)
    return render(
        request,
        "pages/questions/show.html",
        {"page": data},
        json_url=f"/api/v1/projects/{project_id}/questions/{question_id}",
    )
