"""Familiarity scans: start one (form and API) and list them. The scan's own page lives in
``app.routes.results``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.deps import SessionDep
from app.schemas.scans import ScanCreate, ScanList, ScanRead
from app.services import scans as svc
from app.services.errors import BadInput
from app.web import is_htmx

router = APIRouter()


@router.post(
    "/api/v1/projects/{project_id}/scans", response_model=ScanRead, status_code=201,
    tags=["scans"],
)  # fmt: skip
def api_start_scan(project_id: int, data: ScanCreate, session: SessionDep) -> ScanRead:
    """Validate and queue a scan on the gpu queue; errors come before any model work."""
    scan = svc.start_scan(session, project_id=project_id, data=data)
    return svc.scan_read(session, scan)


@router.get("/api/v1/projects/{project_id}/scans", response_model=ScanList, tags=["scans"])
def api_list_scans(project_id: int, session: SessionDep) -> ScanList:
    return svc.list_scans(session, project_id=project_id)


@router.post("/projects/{project_id}/scans", include_in_schema=False, response_model=None)
def start_scan_form(
    request: Request,
    project_id: int,
    session: SessionDep,
    metrics: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form default
    sample: Annotated[int, Form()] = 50,
    examples: Annotated[int, Form()] = 3,
    pool: Annotated[int, Form()] = 500,
    template: Annotated[str, Form()] = "chat",
    dtype: Annotated[str, Form()] = "auto",
    seed: Annotated[int, Form()] = 0,
    max_new_tokens: Annotated[int, Form()] = 320,
    filter_correct: Annotated[bool, Form()] = False,
    allow_unfiltered_fallback: Annotated[bool, Form()] = False,
    model: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    try:
        data = ScanCreate(
            metrics=metrics, sample=sample, examples=examples, pool=pool, template=template,
            dtype=dtype, seed=seed, max_new_tokens=max_new_tokens, filter_correct=filter_correct,
            allow_unfiltered_fallback=allow_unfiltered_fallback, model=model.strip() or None,
        )  # type: ignore[arg-type]  # fmt: skip
    except ValidationError as exc:
        raise BadInput(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from exc
    scan = svc.start_scan(session, project_id=project_id, data=data)
    url = f"/projects/{project_id}/scans/{scan.id}"
    if is_htmx(request):
        return HTMLResponse("", headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
