"""Time estimates: the scan form's "how long will this take" and the project's work queue,
each an htmx fragment with its JSON twin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep
from app.schemas.estimates import QueueEntry, ScanEstimate
from app.security.guards import ProjectId
from app.services import estimates as svc
from app.services.errors import BadInput
from app.services.projects import get_project_row
from app.specs.scan import ScanInputError, ScanSpec
from app.web import render

router = APIRouter()
D = ScanSpec.default


def _spec(
    metrics: list[str], sample: int, pool: int, filter_correct: bool, model: str, samples: int = 1
) -> ScanSpec:
    try:
        return ScanSpec(
            metrics=metrics or list(D("metrics")),
            sample=sample,
            pool=pool,
            filter_correct=filter_correct,
            model=model.strip() or None,
            samples=samples,
        )
    except ScanInputError as exc:
        raise BadInput(str(exc)) from exc


def _estimate(
    session: SessionDep,
    project_id: int,
    metrics: list[str],
    sample: int,
    pool: int,
    filter_correct: bool,
    model: str,
    samples: int = 1,
) -> ScanEstimate:
    get_project_row(session, project_id=project_id)
    spec = _spec(metrics, sample, pool, filter_correct, model, samples)
    return svc.estimate_scan(session, project_id=project_id, spec=spec)


Metrics = Annotated[list[str], Query()]


@router.get(
    "/api/v1/projects/{project_id:id}/scans/estimate", response_model=ScanEstimate, tags=["scans"]
)
def api_scan_estimate(
    project_id: ProjectId,
    session: SessionDep,
    metrics: Metrics = [],  # noqa: B006
    sample: int = D("sample"),
    pool: int = D("pool"),
    filter_correct: bool = True,
    model: str = "",
    samples: int = D("samples"),
) -> ScanEstimate:
    """How long a scan with these settings would take here, from measured rates."""
    return _estimate(session, project_id, metrics, sample, pool, filter_correct, model, samples)


@router.get(
    "/projects/{project_id:id}/scans/estimate", response_class=HTMLResponse, include_in_schema=False
)
def scan_estimate(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    metrics: Metrics = [],  # noqa: B006
    sample: int = D("sample"),
    pool: int = D("pool"),
    filter_correct: bool = False,
    model: str = "",
    samples: int = D("samples"),
) -> HTMLResponse:
    """The form's estimate (an unchecked filter box sends nothing, hence the default)."""
    data = _estimate(session, project_id, metrics, sample, pool, filter_correct, model, samples)
    return render(request, "partials/scans/_estimate.html", {"estimate": data})


@router.get(
    "/api/v1/projects/{project_id:id}/queue", response_model=list[QueueEntry], tags=["jobs"]
)
def api_project_queue(project_id: ProjectId, session: SessionDep) -> list[QueueEntry]:
    """The project's unfinished jobs: what runs, what waits behind what, time left."""
    get_project_row(session, project_id=project_id)
    return svc.project_queue(session, project_id=project_id)


@router.get("/projects/{project_id:id}/queue", response_class=HTMLResponse, include_in_schema=False)
def project_queue(request: Request, project_id: ProjectId, session: SessionDep) -> HTMLResponse:
    project = get_project_row(session, project_id=project_id)
    queue = svc.project_queue(session, project_id=project_id)
    context = {"queue": queue, "project_id": project_id, "project_name": project.name}
    return render(
        request, "pages/projects/queue.html", context, partial="partials/projects/_queue.html"
    )
