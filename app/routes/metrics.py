"""Imported metrics and headless runs: the project's metrics page (upload, list, delete),
the import of a ``familiar scan`` results.json, and the per-category view of a scan with
its training-file export. Each page sits next to its JSON twin."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from app.db import session_scope
from app.deps import PathId, SessionDep
from app.schemas.categories import CategoryPage
from app.schemas.metrics import MetricsPage, MetricUploadResult
from app.schemas.results import ReportMetric
from app.schemas.scans import ScanRead
from app.security.guards import ProjectId
from app.services.headless import import_results
from app.services.metrics import store as metrics
from app.services.results import categories as cat
from app.services.results.exports import slug
from app.web import render

router = APIRouter()
NameF = Annotated[str, Form(max_length=40, description="Metric name for rows without one")]
DirectionF = Annotated[
    str, Form(description="lower or higher (is better), for rows without a direction")
]
FileF = Annotated[UploadFile, File(description="CSV, JSON or JSONL")]
MetricQ = Annotated[
    ReportMetric | None,
    Query(description="Familiarity metric broken down by category (sppl, ppl, ifd...)"),
]
FormQ = Annotated[Literal["messages", "alpaca"], Query(description="Training record form")]


def _read(file: UploadFile) -> tuple[str, bytes]:
    return file.filename or "upload", file.file.read()  # plain def: off the event loop


# --- imported metrics -------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/metrics", response_model=MetricsPage, tags=["metrics"]
)
def api_metrics(project_id: ProjectId, session: SessionDep) -> MetricsPage:
    """The project's imported metrics: direction, source file and time, strategy means."""
    return metrics.get_metrics_page(session, project_id=project_id)


@router.get(
    "/projects/{project_id:id}/metrics", response_class=HTMLResponse, include_in_schema=False
)
def metrics_page(request: Request, project_id: ProjectId, session: SessionDep) -> HTMLResponse:
    data = metrics.get_metrics_page(session, project_id=project_id)
    return render(
        request,
        "pages/metrics/index.html",
        {"page": data},
        json_url=f"/api/v1/projects/{project_id}/metrics",
    )


@router.post(
    "/api/v1/projects/{project_id:id}/metrics",
    response_model=MetricUploadResult,
    status_code=201,
    tags=["metrics"],
)
def api_upload_metrics(
    project_id: ProjectId,
    session: SessionDep,
    file: FileF,
    name: NameF = "",
    direction: DirectionF = "",
) -> MetricUploadResult:
    """All or nothing: `strategy`, `value`, optional `metric`, `question_id` (or `question`),
    `direction`, `sample`; replaces imported metrics of the same name."""
    filename, data = _read(file)
    result = metrics.store_metrics(
        session,
        project_id=project_id,
        filename=filename,
        data=data,
        name=name or None,
        direction=direction or None,
    )
    session.commit()
    return result


@router.post("/projects/{project_id:id}/metrics", include_in_schema=False)
def upload_metrics_form(
    project_id: ProjectId,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    name: Annotated[str, Form()] = "",
    direction: Annotated[str, Form()] = "",
) -> RedirectResponse:
    filename, data = _read(file)
    metrics.store_metrics(
        session,
        project_id=project_id,
        filename=filename,
        data=data,
        name=name or None,
        direction=direction or None,
    )
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/metrics", status_code=303)


@router.delete("/api/v1/projects/{project_id:id}/metrics/{name}", tags=["metrics"])
def api_delete_metric(project_id: ProjectId, name: str, session: SessionDep) -> dict[str, int]:
    deleted = metrics.delete_metric(session, project_id=project_id, name=name)
    session.commit()
    return {"deleted_values": deleted}


@router.post("/projects/{project_id:id}/metrics/{name}/delete", include_in_schema=False)
def delete_metric_form(project_id: ProjectId, name: str, session: SessionDep) -> RedirectResponse:
    metrics.delete_metric(session, project_id=project_id, name=name)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/metrics", status_code=303)


# --- headless runs ----------------------------------------------------------------------


@router.post(
    "/api/v1/projects/{project_id:id}/scans/import",
    response_model=ScanRead,
    status_code=201,
    tags=["scans"],
)
def api_import_scan(
    project_id: ProjectId,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="results.json of `familiar scan`")],
) -> ScanRead:
    """A headless run's results.json as a finished scan; refused (nothing stored) when its
    strategies or questions are not the project's."""
    filename, data = _read(file)
    scan = import_results(session, project_id=project_id, filename=filename, data=data)
    session.commit()
    return scan


@router.post("/projects/{project_id:id}/scans/import", include_in_schema=False)
def import_scan_form(
    project_id: ProjectId, session: SessionDep, file: Annotated[UploadFile, File()]
) -> RedirectResponse:
    filename, data = _read(file)
    scan = import_results(session, project_id=project_id, filename=filename, data=data)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/scans/{scan.id}", status_code=303)


# --- per category -----------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/categories",
    response_model=CategoryPage,
    tags=["results"],
)
def api_categories(
    project_id: ProjectId, scan_id: PathId, session: SessionDep, metric: MetricQ = None
) -> CategoryPage:
    """Category x strategy heatmaps (metric, accuracy), the pick per category, the losses."""
    return cat.get_category_page(session, project_id=project_id, scan_id=scan_id, metric=metric)


@router.get(
    "/projects/{project_id:id}/scans/{scan_id:id}/categories",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def categories_page(
    request: Request,
    project_id: ProjectId,
    scan_id: PathId,
    session: SessionDep,
    metric: MetricQ = None,
) -> HTMLResponse:
    data = cat.get_category_page(session, project_id=project_id, scan_id=scan_id, metric=metric)
    json_url = f"/api/v1/projects/{project_id}/scans/{scan_id}/categories?metric={data.metric}"
    return render(request, "pages/results/categories.html", {"page": data}, json_url=json_url)


@router.get(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/category-mix.jsonl", tags=["exports"]
)
def export_category_mix(
    project_id: ProjectId,
    scan_id: PathId,
    session: SessionDep,
    metric: MetricQ = None,
    form: FormQ = "messages",
) -> Response:
    """Training file: every question answered by its category's pick (else the overall pick)."""
    page = cat.get_category_page(session, project_id=project_id, scan_id=scan_id, metric=metric)
    if page.breakdown is None:
        from app.services.errors import BadInput

        raise BadInput("the scanned questions carry fewer than two categories")
    mix, fallback = page.breakdown["mix"], page.breakdown["overall_pick"]

    def body():  # type: ignore[no-untyped-def]
        with session_scope() as s:
            yield from cat.mix_records(
                s, project_id=project_id, mix=mix, fallback=fallback, form=form
            )

    name = f"scan-{scan_id}-category-mix-{slug(page.metric)}-{form}.jsonl"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(body(), media_type="application/x-ndjson", headers=headers)
