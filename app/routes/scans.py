"""Familiarity scans: start one (form and API) and list them. The scan's own page lives in
``app.routes.results``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import PathId, SessionDep
from app.schemas.scans import ScanList, ScanRead
from app.services import scans as svc
from app.services.errors import BadInput
from app.specs.scan import ScanInputError, ScanSpec
from app.web import is_htmx

router = APIRouter()


D = ScanSpec.default


@router.post(
    "/api/v1/projects/{project_id}/scans", response_model=ScanRead, status_code=201,
    tags=["scans"],
)  # fmt: skip
def api_start_scan(project_id: PathId, data: ScanSpec, session: SessionDep) -> ScanRead:
    """Validate and queue a scan on the gpu queue; errors come before any model work."""
    scan = svc.start_scan(session, project_id=project_id, data=data)
    session.commit()
    return svc.scan_read(session, scan)


@router.get("/api/v1/projects/{project_id}/scans", response_model=ScanList, tags=["scans"])
def api_list_scans(project_id: PathId, session: SessionDep) -> ScanList:
    return svc.list_scans(session, project_id=project_id)


@router.post("/projects/{project_id}/scans", include_in_schema=False, response_model=None)
def start_scan_form(
    request: Request,
    project_id: PathId,
    session: SessionDep,
    metrics: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form default
    sample: Annotated[int, Form()] = D("sample"),
    samples: Annotated[int, Form()] = D("samples"),
    examples: Annotated[int, Form()] = D("examples"),
    pool: Annotated[int, Form()] = D("pool"),
    template: Annotated[str, Form()] = D("template"),
    dtype: Annotated[str, Form()] = D("dtype"),
    seed: Annotated[int, Form()] = D("seed"),
    max_new_tokens: Annotated[int, Form()] = D("max_new_tokens"),
    filter_correct: Annotated[bool, Form()] = False,  # an unchecked box sends nothing
    allow_unfiltered_fallback: Annotated[bool, Form()] = False,
    model: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    try:
        data = ScanSpec(
            metrics=metrics, sample=sample, samples=samples, examples=examples, pool=pool,
            template=template,
            dtype=dtype, seed=seed, max_new_tokens=max_new_tokens, filter_correct=filter_correct,
            allow_unfiltered_fallback=allow_unfiltered_fallback, model=model.strip() or None,
        )  # fmt: skip
    except ScanInputError as exc:
        raise BadInput(str(exc)) from exc
    scan = svc.start_scan(session, project_id=project_id, data=data)
    session.commit()  # the page we redirect to reads it
    url = f"/projects/{project_id}/scans/{scan.id}"
    if is_htmx(request):
        return HTMLResponse("", headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
