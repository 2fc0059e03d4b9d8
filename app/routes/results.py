"""Scan results: the result page, paired view, drill-down, comparison of scans and
downloads (downstream accuracies: ``app.routes.accuracies``). Each page sits next to its
JSON twin; the URL holds the state."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.deps import PathId, SessionDep
from app.schemas.jobs import JobRead
from app.schemas.results import (
    ComparePage,
    PairedPage,
    ReportMetric,
    ResultPage,
    Scale,
    ScanQuestionPage,
    SurpriseContext,
)
from app.security.guards import ProjectId
from app.services.errors import NotFound
from app.services.results import charts as charts
from app.services.results import exports as exports
from app.services.results import page as svc
from app.services.results.compare import get_compare_page, parse_scan_ids
from app.services.results.paired import get_paired_page
from app.services.results.question import get_scan_question_page
from app.services.token_surprise import start_token_surprise
from app.specs.forms import FormState
from app.web import is_htmx, render

router = APIRouter()
MetricQ = Annotated[ReportMetric | None, Query(description="Metric shown in detail")]
ScaleQ = Annotated[Scale | None, Query(description="Chart axis scale (perplexities: log)")]
NameQ = Annotated[str | None, Query(max_length=200, description="Strategy name")]
ScansQ = Annotated[list[str], Query(description="Scan ids: `3,5` or repeated")]
FormQ = Annotated[Literal["messages", "alpaca"], Query(description="Training record form")]
SurpriseQ = Annotated[
    SurpriseContext | None, Query(description="Per-token surprise shown: in the PPL or SPPL prompt")
]
FamiliarityQ = Annotated[
    ReportMetric, Query(description="Chosen by: a familiarity metric of the scan (sppl, ppl...)")
]


def _json_url(request: Request, path: str) -> str:
    return f"{path}?{request.url.query}" if request.url.query else path


def _local(next_url: str, fallback: str) -> str:
    """A redirect target on this site only."""
    local = next_url.startswith("/") and not next_url.startswith(("//", "/\\"))
    return next_url if local else fallback


# --- the result page --------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}",
    response_model=ResultPage,
    tags=["results"],
)
def api_result(
    project_id: ProjectId,
    scan_id: PathId,
    session: SessionDep,
    metric: MetricQ = None,
    scale: ScaleQ = None,
) -> ResultPage:
    """A scan with its stored report, the URL's metric and scale, and measured accuracies."""
    return svc.get_result_page(
        session, project_id=project_id, scan_id=scan_id, metric=metric, scale=scale
    )


@router.get(
    "/projects/{project_id:id}/scans/{scan_id:id}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def result_page(
    request: Request,
    project_id: ProjectId,
    scan_id: PathId,
    session: SessionDep,
    metric: MetricQ = None,
    scale: ScaleQ = None,
) -> HTMLResponse:
    return render_result_page(
        request, session, project_id=project_id, scan_id=scan_id, metric=metric, scale=scale
    )


def render_result_page(
    request: Request,
    session: Session,
    *,
    project_id: int,
    scan_id: int,
    metric: str | None = None,
    scale: Scale | None = None,
    forms: dict[str, FormState] | None = None,
) -> HTMLResponse:
    """The scan page; with a refused form (422: ``forms`` names it, accuracy_form or
    mix_form), that form as it was sent, each reason at its field."""
    data = svc.get_result_page(
        session, project_id=project_id, scan_id=scan_id, metric=metric, scale=scale
    )
    return render(
        request,
        "pages/scans/show.html",
        {"page": data, "charts": charts.result_chart(data), **(forms or {})},
        partial="partials/scans/_body.html",
        json_url=_json_url(request, f"/api/v1/projects/{project_id}/scans/{scan_id}"),
        status_code=422 if forms else 200,
    )


def refused_on_scan_page(
    request: Request,
    session: Session,
    *,
    project_id: int,
    scan_id: str,
    metric: str,
    forms: dict[str, FormState],
) -> HTMLResponse | None:
    """The scan page a form was sent from, with the refused form; None when the form named
    no scan of the project (then the caller's error page answers)."""
    sid = int(scan_id) if scan_id.isdigit() and len(scan_id) < 12 else None
    shown = metric if re.fullmatch(r"[a-z][a-z0-9_\-]{0,39}", metric) else None
    if sid is None:
        return None
    try:
        return render_result_page(
            request, session, project_id=project_id, scan_id=sid, metric=shown, forms=forms
        )
    except NotFound:
        return None


# --- paired view ------------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/paired",
    response_model=PairedPage,
    tags=["results"],
)
def api_paired(
    project_id: ProjectId,
    scan_id: PathId,
    session: SessionDep,
    metric: MetricQ = None,
    a: NameQ = None,
    b: NameQ = None,
    scale: ScaleQ = None,
) -> PairedPage:
    """Wilcoxon test, paired bootstrap of the mean difference and win rate of A over B."""
    return get_paired_page(
        session, project_id=project_id, scan_id=scan_id, metric=metric, a=a, b=b, scale=scale
    )


@router.get(
    "/projects/{project_id:id}/scans/{scan_id:id}/paired",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def paired_page(
    request: Request,
    project_id: ProjectId,
    scan_id: PathId,
    session: SessionDep,
    metric: MetricQ = None,
    a: NameQ = None,
    b: NameQ = None,
    scale: ScaleQ = None,
) -> HTMLResponse:
    data = get_paired_page(
        session, project_id=project_id, scan_id=scan_id, metric=metric, a=a, b=b, scale=scale
    )
    return render(
        request,
        "pages/results/paired.html",
        {"page": data, "charts": charts.paired_chart(data)},
        json_url=_json_url(request, f"/api/v1/projects/{project_id}/scans/{scan_id}/paired"),
    )


# --- drill-down -------------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/questions/{question_id:id}",
    response_model=ScanQuestionPage,
    tags=["results"],
)
def api_scan_question(
    project_id: ProjectId,
    scan_id: PathId,
    question_id: PathId,
    session: SessionDep,
    surprise: SurpriseQ = None,
) -> ScanQuestionPage:
    """One question: every strategy's response and scores, own answer, SPPL examples and,
    once computed, the per-token surprise of each response."""
    return get_scan_question_page(
        session,
        project_id=project_id,
        scan_id=scan_id,
        question_id=question_id,
        surprise=surprise,
    )


@router.get(
    "/projects/{project_id:id}/scans/{scan_id:id}/questions/{question_id:id}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def scan_question_page(
    request: Request,
    project_id: ProjectId,
    scan_id: PathId,
    question_id: PathId,
    session: SessionDep,
    surprise: SurpriseQ = None,
) -> HTMLResponse:
    data = get_scan_question_page(
        session,
        project_id=project_id,
        scan_id=scan_id,
        question_id=question_id,
        surprise=surprise,
    )
    url = f"/api/v1/projects/{project_id}/scans/{scan_id}/questions/{question_id}"
    return render(
        request,
        "pages/results/question.html",
        {"page": data},
        partial="partials/results/_surprise.html",
        json_url=_json_url(request, url),
    )


@router.post(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/questions/{question_id:id}/token-surprise",
    response_model=JobRead,
    status_code=202,
    tags=["results"],
    responses={200: {"description": "The job already exists (queued, running or finished)"}},
)
def api_start_token_surprise(
    project_id: ProjectId,
    scan_id: PathId,
    question_id: PathId,
    session: SessionDep,
    response: Response,
) -> JobRead:
    """Compute the per-token surprise of every strategy's response to this question (a gpu
    job); an existing queued, running or finished job for it is returned instead (200)."""
    job, created = start_token_surprise(
        session, project_id=project_id, scan_id=scan_id, question_id=question_id
    )
    session.commit()
    if not created:
        response.status_code = 200
    return job


@router.post(
    "/projects/{project_id:id}/scans/{scan_id:id}/questions/{question_id:id}/token-surprise",
    include_in_schema=False,
    response_model=None,
)
def start_token_surprise_form(
    request: Request,
    project_id: ProjectId,
    scan_id: PathId,
    question_id: PathId,
    session: SessionDep,
    surprise: Annotated[SurpriseContext | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    """htmx: the surprise section with the job's live status; a plain form: back to the page."""
    start_token_surprise(session, project_id=project_id, scan_id=scan_id, question_id=question_id)
    session.commit()
    if not is_htmx(request):
        query = f"?surprise={surprise}" if surprise else ""
        url = f"/projects/{project_id}/scans/{scan_id}/questions/{question_id}{query}#surprise"
        return RedirectResponse(url, status_code=303)
    data = get_scan_question_page(
        session,
        project_id=project_id,
        scan_id=scan_id,
        question_id=question_id,
        surprise=surprise,
    )
    return render(request, "partials/results/_surprise.html", {"page": data})


# --- comparison of scans ----------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/compare", response_model=ComparePage, tags=["results"]
)
def api_compare(project_id: ProjectId, session: SessionDep, scans: ScansQ = []) -> ComparePage:  # noqa: B006
    """Two or more finished scans side by side; without `scans`, the scans to choose from."""
    return get_compare_page(session, project_id=project_id, scan_ids=parse_scan_ids(scans))


@router.get(
    "/projects/{project_id:id}/compare", response_class=HTMLResponse, include_in_schema=False
)
def compare_page(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    scans: ScansQ = [],  # noqa: B006
) -> HTMLResponse:
    data = get_compare_page(session, project_id=project_id, scan_ids=parse_scan_ids(scans))
    return render(
        request,
        "pages/results/compare.html",
        {"page": data},
        json_url=_json_url(request, f"/api/v1/projects/{project_id}/compare"),
    )
