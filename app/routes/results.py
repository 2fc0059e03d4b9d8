"""Scan results: the result page, paired view, drill-down, comparison of scans, downstream
accuracies and downloads. Each page sits next to its JSON twin; the URL holds the state."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from app.deps import PathId, SessionDep
from app.schemas.jobs import JobRead
from app.schemas.results import (
    AccuracyRow,
    AccuracyUploadResult,
    ComparePage,
    PairedPage,
    ReportMetric,
    ResultPage,
    Scale,
    ScanQuestionPage,
    SurpriseContext,
)
from app.services.results import accuracy as acc
from app.services.results import charts as charts
from app.services.results import exports as exports
from app.services.results import page as svc
from app.services.results.compare import get_compare_page, parse_scan_ids
from app.services.results.paired import get_paired_page
from app.services.results.question import get_scan_question_page
from app.services.token_surprise import start_token_surprise
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
FamiliarityQ = Annotated[Literal["sppl", "ppl", "ifd"], Query(description="Chosen by")]


def _json_url(request: Request, path: str) -> str:
    return f"{path}?{request.url.query}" if request.url.query else path


def _local(next_url: str, fallback: str) -> str:
    """A redirect target on this site only."""
    local = next_url.startswith("/") and not next_url.startswith(("//", "/\\"))
    return next_url if local else fallback


def _download(d: exports.Download) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{d.filename}"'}
    if isinstance(d.body, str):
        return Response(d.body, media_type=d.media_type, headers=headers)
    return StreamingResponse(d.body, media_type=d.media_type, headers=headers)


# --- the result page --------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id}/scans/{scan_id}", response_model=ResultPage, tags=["results"]
)
def api_result(
    project_id: PathId,
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
    "/projects/{project_id}/scans/{scan_id}", response_class=HTMLResponse, include_in_schema=False
)
def result_page(
    request: Request, project_id: PathId, scan_id: PathId, session: SessionDep,
    metric: MetricQ = None, scale: ScaleQ = None,
) -> HTMLResponse:  # fmt: skip
    data = svc.get_result_page(
        session, project_id=project_id, scan_id=scan_id, metric=metric, scale=scale
    )
    return render(
        request, "pages/scans/show.html", {"page": data, "charts": charts.result_chart(data)},
        partial="partials/scans/_body.html",
        json_url=_json_url(request, f"/api/v1/projects/{project_id}/scans/{scan_id}"),
    )  # fmt: skip


# --- paired view ------------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id}/scans/{scan_id}/paired", response_model=PairedPage,
    tags=["results"],
)  # fmt: skip
def api_paired(
    project_id: PathId, scan_id: PathId, session: SessionDep, metric: MetricQ = None,
    a: NameQ = None, b: NameQ = None, scale: ScaleQ = None,
) -> PairedPage:  # fmt: skip
    """Wilcoxon test, paired bootstrap of the mean difference and win rate of A over B."""
    return get_paired_page(session, project_id=project_id, scan_id=scan_id, metric=metric,
                           a=a, b=b, scale=scale)  # fmt: skip


@router.get(
    "/projects/{project_id}/scans/{scan_id}/paired", response_class=HTMLResponse,
    include_in_schema=False,
)  # fmt: skip
def paired_page(
    request: Request, project_id: PathId, scan_id: PathId, session: SessionDep,
    metric: MetricQ = None, a: NameQ = None, b: NameQ = None, scale: ScaleQ = None,
) -> HTMLResponse:  # fmt: skip
    data = get_paired_page(session, project_id=project_id, scan_id=scan_id, metric=metric,
                           a=a, b=b, scale=scale)  # fmt: skip
    return render(
        request, "pages/results/paired.html", {"page": data, "charts": charts.paired_chart(data)},
        json_url=_json_url(request, f"/api/v1/projects/{project_id}/scans/{scan_id}/paired"),
    )  # fmt: skip


# --- drill-down -------------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id}/scans/{scan_id}/questions/{question_id}",
    response_model=ScanQuestionPage, tags=["results"],
)  # fmt: skip
def api_scan_question(
    project_id: PathId, scan_id: PathId, question_id: PathId, session: SessionDep,
    surprise: SurpriseQ = None,
) -> ScanQuestionPage:  # fmt: skip
    """One question: every strategy's response and scores, own answer, SPPL examples and,
    once computed, the per-token surprise of each response."""
    return get_scan_question_page(
        session, project_id=project_id, scan_id=scan_id, question_id=question_id,
        surprise=surprise,
    )  # fmt: skip


@router.get(
    "/projects/{project_id}/scans/{scan_id}/questions/{question_id}",
    response_class=HTMLResponse, include_in_schema=False,
)  # fmt: skip
def scan_question_page(
    request: Request, project_id: PathId, scan_id: PathId, question_id: PathId, session: SessionDep,
    surprise: SurpriseQ = None,
) -> HTMLResponse:  # fmt: skip
    data = get_scan_question_page(
        session, project_id=project_id, scan_id=scan_id, question_id=question_id,
        surprise=surprise,
    )  # fmt: skip
    url = f"/api/v1/projects/{project_id}/scans/{scan_id}/questions/{question_id}"
    return render(
        request, "pages/results/question.html", {"page": data},
        partial="partials/results/_surprise.html", json_url=_json_url(request, url),
    )  # fmt: skip


@router.post(
    "/api/v1/projects/{project_id}/scans/{scan_id}/questions/{question_id}/token-surprise",
    response_model=JobRead, status_code=202, tags=["results"],
    responses={200: {"description": "The job already exists (queued, running or finished)"}},
)  # fmt: skip
def api_start_token_surprise(
    project_id: PathId,
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
    "/projects/{project_id}/scans/{scan_id}/questions/{question_id}/token-surprise",
    include_in_schema=False, response_model=None,
)  # fmt: skip
def start_token_surprise_form(
    request: Request, project_id: PathId, scan_id: PathId, question_id: PathId, session: SessionDep,
    surprise: Annotated[SurpriseContext | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:  # fmt: skip
    """htmx: the surprise section with the job's live status; a plain form: back to the page."""
    start_token_surprise(session, project_id=project_id, scan_id=scan_id, question_id=question_id)
    session.commit()
    if not is_htmx(request):
        query = f"?surprise={surprise}" if surprise else ""
        url = f"/projects/{project_id}/scans/{scan_id}/questions/{question_id}{query}#surprise"
        return RedirectResponse(url, status_code=303)
    data = get_scan_question_page(
        session, project_id=project_id, scan_id=scan_id, question_id=question_id,
        surprise=surprise,
    )  # fmt: skip
    return render(request, "partials/results/_surprise.html", {"page": data})


# --- comparison of scans ----------------------------------------------------------------


@router.get("/api/v1/projects/{project_id}/compare", response_model=ComparePage, tags=["results"])
def api_compare(project_id: PathId, session: SessionDep, scans: ScansQ = []) -> ComparePage:  # noqa: B006
    """Two or more finished scans side by side; without `scans`, the scans to choose from."""
    return get_compare_page(session, project_id=project_id, scan_ids=parse_scan_ids(scans))


@router.get("/projects/{project_id}/compare", response_class=HTMLResponse, include_in_schema=False)
def compare_page(
    request: Request,
    project_id: PathId,
    session: SessionDep,
    scans: ScansQ = [],  # noqa: B006
) -> HTMLResponse:
    data = get_compare_page(session, project_id=project_id, scan_ids=parse_scan_ids(scans))
    return render(
        request, "pages/results/compare.html", {"page": data},
        json_url=_json_url(request, f"/api/v1/projects/{project_id}/compare"),
    )  # fmt: skip


# --- downstream accuracies --------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id}/accuracies", response_model=list[AccuracyRow],
    tags=["results"],
)  # fmt: skip
def api_accuracies(project_id: PathId, session: SessionDep) -> list[AccuracyRow]:
    return acc.list_accuracies(session, project_id=project_id)


@router.post(
    "/api/v1/projects/{project_id}/accuracies", response_model=AccuracyUploadResult,
    status_code=201, tags=["results"],
)  # fmt: skip
def api_upload_accuracies(
    project_id: PathId, session: SessionDep,
    file: Annotated[UploadFile, File(description="CSV, JSON or JSONL: strategy, accuracy, seed")],
) -> AccuracyUploadResult:  # fmt: skip
    """All or nothing; replaces the named strategies' accuracies; 0-100 is normalised."""
    data = file.file.read()  # a plain def: runs in the thread pool, off the event loop
    return acc.store_accuracies(
        session, project_id=project_id, filename=file.filename or "upload", data=data
    )


@router.delete("/api/v1/projects/{project_id}/accuracies", tags=["results"])
def api_clear_accuracies(project_id: PathId, session: SessionDep) -> dict[str, int]:
    return {"deleted": acc.clear_accuracies(session, project_id=project_id)}


@router.post("/projects/{project_id}/accuracies", include_in_schema=False)
def upload_accuracies_form(
    project_id: PathId, session: SessionDep, file: Annotated[UploadFile, File()],
    next: Annotated[str, Form()] = "",
) -> RedirectResponse:  # fmt: skip
    data = file.file.read()  # a plain def: runs in the thread pool, off the event loop
    acc.store_accuracies(
        session, project_id=project_id, filename=file.filename or "upload", data=data
    )
    return RedirectResponse(_local(next, f"/projects/{project_id}"), status_code=303)


@router.post("/projects/{project_id}/accuracies/clear", include_in_schema=False)
def clear_accuracies_form(
    project_id: PathId, session: SessionDep, next: Annotated[str, Form()] = ""
) -> RedirectResponse:
    acc.clear_accuracies(session, project_id=project_id)
    return RedirectResponse(_local(next, f"/projects/{project_id}"), status_code=303)


# --- downloads --------------------------------------------------------------------------


def file_response(media_type: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: the 200 answer is a file of this type (as an attachment)."""
    content = {media_type: {"schema": {"type": "string"}}}
    return {200: {"description": "The file", "content": content}}


@router.get("/api/v1/projects/{project_id}/scans/{scan_id}/report.json", tags=["exports"],
            responses=file_response("application/json"))  # fmt: skip
def export_report_json(project_id: PathId, scan_id: PathId, session: SessionDep) -> Response:
    """The full result page JSON, as a file."""
    return _download(exports.report_json(session, project_id=project_id, scan_id=scan_id))


@router.get("/api/v1/projects/{project_id}/scans/{scan_id}/report.csv", tags=["exports"],
            responses=file_response("text/csv"))  # fmt: skip
def export_rankings_csv(project_id: PathId, scan_id: PathId, session: SessionDep) -> Response:
    """Per metric and strategy: rank, mean, median, std, interval, n, tie with the top."""
    return _download(exports.rankings_csv(session, project_id=project_id, scan_id=scan_id))


@router.get("/api/v1/projects/{project_id}/scans/{scan_id}/values.csv", tags=["exports"],
            responses=file_response("text/csv"))  # fmt: skip
def export_values_csv(project_id: PathId, scan_id: PathId, session: SessionDep) -> Response:
    """Every per-question value of the scan (streamed)."""
    return _download(exports.values_csv(session, project_id=project_id, scan_id=scan_id))


@router.get("/api/v1/projects/{project_id}/scans/{scan_id}/mix.jsonl", tags=["exports"],
            responses=file_response("application/x-ndjson"))  # fmt: skip
def export_mix(
    project_id: PathId, scan_id: PathId, session: SessionDep,
    metric: FamiliarityQ = "sppl", form: FormQ = "messages",
) -> Response:  # fmt: skip
    """Training file: per scanned question the most familiar response not known to be wrong."""
    return _download(exports.mix_jsonl(session, project_id=project_id, scan_id=scan_id,
                                       metric=metric, form=form))  # fmt: skip


@router.get(
    "/api/v1/projects/{project_id}/strategies/{strategy_id}/training.jsonl",
    tags=["exports"],
    responses=file_response("application/x-ndjson"),
)
def export_strategy(
    project_id: PathId, strategy_id: PathId, session: SessionDep, form: FormQ = "messages"
) -> Response:
    """Training file: every response of one strategy (chat `messages` or Alpaca)."""
    return _download(exports.strategy_jsonl(session, project_id=project_id,
                                            strategy_id=strategy_id, form=form))  # fmt: skip
