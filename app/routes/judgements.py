"""How answers were judged: the per-strategy table and each judgement, page and JSON twin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep
from app.schemas.judgements import JudgementsPage
from app.services import judgements as svc
from app.web import render

router = APIRouter()
Show = Annotated[str, Query(description="all | disagree (with the file) | wrong | right")]
Judge = Annotated[str, Query(max_length=200, description="auto (the rule judge) or llm:<model>")]
StrategyId = Annotated[int | None, Query(description="Only this strategy")]
PageNo = Annotated[int, Query(ge=1, description="Page number")]


@router.get(
    "/api/v1/projects/{project_id}/judgements", response_model=JudgementsPage, tags=["judgements"]
)
def api_judgements(
    project_id: int, session: SessionDep, judge: Judge = "auto", show: Show = "all",
    strategy: StrategyId = None, page: PageNo = 1,
) -> JudgementsPage:  # fmt: skip
    return svc.get_judgements_page(
        session, project_id=project_id, judge=judge, show=show, strategy_id=strategy, page=page
    )


@router.get(
    "/projects/{project_id}/judgements", response_class=HTMLResponse, include_in_schema=False
)
def judgements_page(
    request: Request, project_id: int, session: SessionDep, judge: Judge = "auto",
    show: Show = "all", strategy: StrategyId = None, page: PageNo = 1,
) -> HTMLResponse:  # fmt: skip
    data = svc.get_judgements_page(
        session, project_id=project_id, judge=judge, show=show, strategy_id=strategy, page=page
    )
    return render(
        request, "pages/judgements/index.html", {"page": data},
        partial="partials/judgements/_list.html",
        json_url=f"/api/v1/projects/{project_id}/judgements",
    )  # fmt: skip
